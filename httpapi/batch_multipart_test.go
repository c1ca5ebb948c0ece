package httpapi_test

import (
	"bufio"
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// multipartResponses reads a multipart/mixed batch answer into the status
// lines and bodies of its parts, change sets flattened.
func multipartResponses(t *testing.T, contentType string, body []byte) (statuses []int, bodies []string) {
	t.Helper()
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", contentType, err)
	}
	var walk func(r io.Reader, boundary string)
	walk = func(r io.Reader, boundary string) {
		mr := multipart.NewReader(r, boundary)
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			mt, ps, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if mt == "multipart/mixed" {
				walk(p, ps["boundary"])
				continue
			}
			resp, err := http.ReadResponse(bufio.NewReader(p), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			statuses = append(statuses, resp.StatusCode)
			bodies = append(bodies, string(b))
		}
	}
	walk(bytes.NewReader(body), params["boundary"])
	return statuses, bodies
}

// TestBatchMultipart: the OData 4.0 multipart/mixed format on the same
// engine: a change set is atomic, Content-ID names a request for $<id>,
// a failed change set answers one error and changes nothing.
func TestBatchMultipart(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		c := srv.Tenant(t, "ACME")
		f := newFixture(t, c)
		crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
		body := crlf(`--batch_1
Content-Type: multipart/mixed; boundary=changeset_a

--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST Jobs HTTP/1.1
Content-Type: application/json

{"name":"From a change set","project_id":"` + f.project + `","job_type_id":"` + f.jobType + `","job_status_code":"Open"}
--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH $1 HTTP/1.1
Content-Type: application/json

{"description":"patched through $1"}
--changeset_a--
--batch_1
Content-Type: application/http
Content-Transfer-Encoding: binary

GET Skill?$top=1 HTTP/1.1
Accept: application/json


--batch_1
Content-Type: multipart/mixed; boundary=changeset_b

--changeset_b
Content-Type: application/http
Content-ID: 3

POST Skill HTTP/1.1
Content-Type: application/json

{"code":"OK","name":"valid"}
--changeset_b
Content-Type: application/http
Content-ID: 4

POST Skill HTTP/1.1
Content-Type: application/json

{"code":"BAD","name":"` + strings.Repeat("x", 300) + `"}
--changeset_b--
--batch_1--
`)
		r := c.Do("POST", "/api/$batch", body, "Content-Type", "multipart/mixed; boundary=batch_1")
		if r.Status != 200 {
			t.Fatalf("multipart batch: %d %s", r.Status, r.Raw)
		}
		statuses, bodies := multipartResponses(t, r.Header.Get("Content-Type"), r.Raw)
		if len(statuses) != 4 || statuses[0] != 201 || statuses[1] != 200 || statuses[2] != 200 || statuses[3] != 400 {
			t.Fatalf("statuses %v\n%s", statuses, r.Raw)
		}
		if !strings.Contains(bodies[1], "patched through $1") || !strings.Contains(bodies[3], "MaxLength") {
			t.Errorf("bodies: %q", bodies)
		}
		if n := countRows(t, c, "/api/Skill"); n != 0 {
			t.Errorf("the failed change set left %d skills", n)
		}
		for _, bad := range []string{"not multipart", crlf("--batch_1\nContent-Type: text/plain\n\nx\n--batch_1--\n"),
			crlf("--batch_1\nContent-Type: application/http\n\n\n--batch_1--\n")} {
			if r := c.Do("POST", "/api/$batch", bad, "Content-Type", "multipart/mixed; boundary=batch_1"); r.Status != 400 {
				t.Errorf("%q: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := c.Do("POST", "/api/$batch", "x", "Content-Type", "multipart/mixed"); r.Status != 400 {
			t.Errorf("no boundary: %d", r.Status)
		}
	})
}
