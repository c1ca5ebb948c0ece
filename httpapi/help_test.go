package httpapi_test

import (
	"bufio"
	"html"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// helpRow is one row of a body parameter table.
type helpRow struct{ Name, Description, Type, Info string }

// referenceRows reads the body parameter table of the reference page: each
// row is "| name |", "description |", then "type | |" or "type |" followed
// by "additional information |" (the last row ends at "type |").
func referenceRows(t *testing.T, path string) []helpRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	var rows []helpRow
	in := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "Body Parameters"):
			in = true
			continue
		case strings.HasPrefix(l, "Request Formats"):
			return rows
		}
		if !in || !strings.HasPrefix(l, "| ") || strings.HasPrefix(l, "| Name ") || i+2 >= len(lines) {
			continue
		}
		r := helpRow{Name: strings.TrimSuffix(strings.TrimPrefix(l, "| "), " |"), Description: strings.TrimSuffix(lines[i+1], " |")}
		typ := lines[i+2]
		i += 2
		if strings.HasSuffix(typ, " | |") {
			r.Type = strings.TrimSuffix(typ, " | |")
		} else {
			r.Type = strings.TrimSuffix(typ, " |")
			if next := lines[i+1]; !strings.HasPrefix(next, "| ") && !strings.HasPrefix(next, "Request Formats") {
				i++
				r.Info = strings.TrimSuffix(next, " |")
			}
		}
		rows = append(rows, r)
	}
	t.Fatalf("%s: no Request Formats after the body parameters", path)
	return nil
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr><td class="name">(.*?)</td><td class="desc">(.*?)</td><td class="type">(.*?)</td><td class="info">(.*?)</td></tr>`)
	tagRE  = regexp.MustCompile(`<[^>]+>`)
	spanRE = regexp.MustCompile(`<span>(.*?)</span>`)
)

func cellText(s string) string {
	return strings.TrimSpace(html.UnescapeString(tagRE.ReplaceAllString(s, "")))
}

// pageRows reads the rows of the body parameter table of a served help page.
func pageRows(t *testing.T, page string) []helpRow {
	t.Helper()
	i := strings.Index(page, "<h3>Body Parameters</h3>")
	j := strings.Index(page, "<h3>Request Formats</h3>")
	if i < 0 || j < i {
		t.Fatalf("no body parameter section in the page")
	}
	var rows []helpRow
	for _, m := range rowRE.FindAllStringSubmatch(page[i:j], -1) {
		var info []string
		for _, s := range spanRE.FindAllStringSubmatch(m[4], -1) {
			info = append(info, cellText(s[1]))
		}
		rows = append(rows, helpRow{Name: cellText(m[1]), Description: cellText(m[2]), Type: cellText(m[3]), Info: strings.Join(info, " ")})
	}
	return rows
}

func getPage(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// TestHelpPutJobsMatchesReference compares, row by row, the body parameters of
// the served help page of PUT api/Jobs(id) with the reference page: names,
// descriptions, types, and the additional information (Required, max lengths,
// optionally-required groups).
func TestHelpPutJobsMatchesReference(t *testing.T) {
	want := referenceRows(t, testenv.ReferenceFile(t, "seed-put-api-jobs.txt"))
	if len(want) < 150 {
		t.Fatalf("read only %d rows from the reference; the parser is out of step with the file", len(want))
	}
	srv := testenv.NewServer(t, testenv.SQLite(t))
	status, page, h := getPage(t, srv.URL+"/help/api/PUT-api-Jobs(id)")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", status, h.Get("Content-Type"))
	}
	got := map[string]helpRow{}
	for _, r := range pageRows(t, page) {
		got[r.Name] = r
	}
	for _, w := range want {
		g, ok := got[w.Name]
		if !ok {
			t.Errorf("%s: in the reference, not on the page", w.Name)
			continue
		}
		if g != w {
			t.Errorf("%s:\n page      %+v\n reference %+v", w.Name, g, w)
		}
		delete(got, w.Name)
	}
	for name := range got {
		t.Errorf("%s: on the page, not in the reference", name)
	}
	for _, s := range []string{"Updates the work order with the specified key", "Request Information", "URI Parameters",
		"Request Formats", "application/json, text/json", `&#34;_parent_jobs_reference_back_office&#34;: &#34;sample string 3&#34;`,
		"Response Information", `href="/api/openapi.json"`, `href="/help/type/project"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

// TestHelpIndexListsEveryAPI: /help needs no credentials, lists every
// controller's APIs, and every link on it leads to a page that answers.
func TestHelpIndexListsEveryAPI(t *testing.T) {
	srv := testenv.NewServer(t, testenv.SQLite(t))
	status, page, _ := getPage(t, srv.URL+"/help")
	if status != 200 {
		t.Fatalf("/help: %d", status)
	}
	for _, s := range []string{`<h2 id="Jobs">Jobs</h2>`, "PUT</span> api/Jobs(id)", "GET</span> api/JobPlanning",
		"DELETE</span> api/Skill(id)", "PUT</span> api/Jobs/ChangeToVirtualStatus"} {
		if !strings.Contains(page, s) {
			t.Errorf("/help lacks %q", s)
		}
	}
	if strings.Contains(page, "DELETE</span> api/Company(id)") {
		t.Errorf("/help offers DELETE on Company, which is archive-only")
	}
	links := regexp.MustCompile(`href="(/help/[^"#]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 100 {
		t.Fatalf("only %d links on /help", len(links))
	}
	seen := map[string]bool{}
	for _, l := range links {
		if seen[l[1]] {
			continue
		}
		seen[l[1]] = true
		if status, _, _ := getPage(t, srv.URL+html.UnescapeString(l[1])); status != 200 {
			t.Errorf("%s: %d", l[1], status)
		}
	}
	if status, _, _ := getPage(t, srv.URL+"/help/api/GET-api-Nothing"); status != 404 {
		t.Errorf("unknown help page: %d, want 404", status)
	}
}
