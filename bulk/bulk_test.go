package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/bulk"
	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

func demoTenant(t *testing.T, db *sqlstore.DB, svc *service.Service, domain string, jobs int) ordo.Tenant {
	t.Helper()
	ctx := context.Background()
	tn, err := admin.CreateTenant(ctx, db, svc, domain, domain, "api", "secret")
	if err != nil {
		t.Fatal(err)
	}
	if jobs > 0 {
		if err := demo.Generate(ctx, svc, tn.ID, demo.Options{Jobs: jobs, Now: time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	return tn
}

func exportAll(t *testing.T, svc *service.Service, tenant int64, format string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range svc.Registry().Entities {
		var b bytes.Buffer
		if _, err := bulk.Export(context.Background(), svc, tenant, e, format, &b, bulk.Discard); err != nil {
			t.Fatalf("export %s: %v", e.Controller, err)
		}
		out[e.Controller] = b.String()
	}
	return out
}

// TestExportImportRoundTrip: every entity of the demo data exported, then
// imported into an empty tenant in registry order, exports the same (JSON
// lines and CSV); importing the files again changes nothing.
func TestExportImportRoundTrip(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		svc := service.New(db, db.Registry())
		fixed := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
		svc.Now = func() time.Time { return fixed }
		src := demoTenant(t, db, svc, "SRC", 40)
		for _, format := range []string{bulk.JSONLines, bulk.CSV} {
			files := exportAll(t, svc, src.ID, format)
			dst := demoTenant(t, db, svc, "DST-"+format, 0)
			for _, e := range bulk.DependencyOrder(svc.Registry()) {
				var rejects bytes.Buffer
				res, err := bulk.Import(ctx, svc, dst.ID, e, strings.NewReader(files[e.Controller]), bulk.ImportOptions{Format: format, Batch: 7, Rejects: &rejects})
				if err != nil || res.Rejected != 0 {
					t.Fatalf("%s import %s: %+v %v\n%s", format, e.Controller, res, err, rejects.String())
				}
			}
			again := exportAll(t, svc, dst.ID, format)
			for _, e := range svc.Registry().Entities {
				if again[e.Controller] != files[e.Controller] {
					t.Errorf("%s %s: the round trip differs:\n%s\n---\n%s", format, e.Controller, firstDiff(files[e.Controller], again[e.Controller]), "")
				}
			}
			before := testenv.Dump(t, dsn)
			for _, e := range bulk.DependencyOrder(svc.Registry()) {
				res, err := bulk.Import(ctx, svc, dst.ID, e, strings.NewReader(files[e.Controller]), bulk.ImportOptions{Format: format})
				if err != nil || res.Rejected != 0 {
					t.Fatalf("re-import %s: %+v %v", e.Controller, res, err)
				}

			}
			if after := testenv.Dump(t, dsn); after != before {
				t.Errorf("%s: importing the same files again changed the database:\n%s", format, dumpDiff(before, after))
			}
		}
	})
}

// dumpDiff lists the lines of one dump missing from the other.
func dumpDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ina, inb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !inb[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ina[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out[:min(len(out), 6)], "\n")
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range al {
		if i >= len(bl) || al[i] != bl[i] {
			other := ""
			if i < len(bl) {
				other = bl[i]
			}
			return "line " + string(rune('0'+i%10)) + ":\n" + al[i] + "\n" + other
		}
	}
	return "lengths differ"
}

// TestImportRejects: rows that fail are reported with their line number and
// error while the others are applied.
func TestImportRejects(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		svc := service.New(db, db.Registry())
		tn := demoTenant(t, db, svc, "ACME", 0)
		cases := []struct {
			entity, format, file string
			lines                []int64
		}{
			{"skill", bulk.JSONLines, `{"code": "A", "name": "Alpha"}
{"code": "B", "name": ` + "\n" + `
{"code": "C", "nope": 1}
{"name": "no code"}
{"code": "D", "name": "Delta"}
[1]
{"code": "E", "name": "` + strings.Repeat("x", 300) + `"}
`, []int64{2, 4, 5, 7, 8}},
			{"skill", bulk.CSV, "code,name\nF,Foxtrot\nG,bro\"ken\nH,Hotel\n", []int64{3}},
			{"job_type", bulk.CSV, "code,name,archived\nI,India,maybe\nJ,Juliet,true\n\"K\",\"multi\nline\",false\nL,,false,extra\nM,,false\n", []int64{2, 6, 7}},
		}
		for _, tc := range cases {
			var rejects bytes.Buffer
			res, err := bulk.Import(ctx, svc, tn.ID, db.Registry().MustEntity(tc.entity), strings.NewReader(tc.file), bulk.ImportOptions{Format: tc.format, Batch: 2, Rejects: &rejects})
			if err != nil {
				t.Fatalf("%s: %v", tc.format, err)
			}
			var got []int64
			dec := json.NewDecoder(bytes.NewReader(rejects.Bytes()))
			for dec.More() {
				var r bulk.Reject
				if err := dec.Decode(&r); err != nil {
					t.Fatal(err)
				}
				if r.Message == "" || r.Code == "" {
					t.Errorf("reject without message: %+v", r)
				}
				got = append(got, r.Line)
			}
			if testing.Verbose() {
				t.Logf("%s", rejects.String())
			}
			if len(got) != len(tc.lines) || res.Rejected != int64(len(tc.lines)) {
				t.Errorf("%s %q: rejected lines %v, want %v (%+v)", tc.format, tc.file, got, tc.lines, res)
				continue
			}
			for i := range got {
				if got[i] != tc.lines[i] {
					t.Errorf("%s: rejected lines %v, want %v", tc.format, got, tc.lines)
				}
			}
		}
		var codes []string
		for _, name := range []string{"skill", "job_type"} {
			page, err := svc.List(ctx, tn.ID, db.Registry().MustEntity(name), ordo.Query{OrderBy: []ordo.Order{{Field: "code"}}}, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				codes = append(codes, r.String("code"))
			}
		}
		if strings.Join(codes, ",") != "A,D,F,H,J,K" {
			t.Errorf("applied: %v", codes)
		}
	})
}
