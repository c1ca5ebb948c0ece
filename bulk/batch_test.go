package bulk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/bulk"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
)

// TestImportBatchesMatchRows: an import shares one row cache, one id2
// reservation and one aggregate update per batch, and writes a batch
// without a savepoint per row unless a row fails after writing. Whatever
// the batch size, the result must be what rows written one by one give:
// the same tenant (every entity exported), the same rejects, the same next
// id2, and project figures equal to their recomputation. The files mix new
// jobs, a row updating a job inserted earlier in its batch, status moves,
// completed jobs, an explicit id2 inside the range the batch reserves, a
// row refused before writing, one refused after writing an embedded job
// type, one refused by the database (a taken id2), and plannings whose
// earliest date moves within a batch.
func TestImportBatchesMatchRows(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := testenv.OpenDB(t, dsn)
		svc := service.New(db, db.Registry())
		now := time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)
		svc.Now = func() time.Time { return now }
		src := demoTenant(t, db, svc, "SRC", 30)
		files := exportAll(t, svc, src.ID, bulk.JSONLines)
		reg := svc.Registry()
		list := func(tenant int64, entity string, conds ...ordo.Cond) []ordo.Record {
			page, err := svc.List(ctx, tenant, reg.MustEntity(entity), ordo.Query{Conds: conds, OrderBy: []ordo.Order{{Field: "id"}}}, false)
			if err != nil {
				t.Fatal(err)
			}
			return page.Rows
		}
		var fixed, mobile ordo.Record // an installation without jobs, a mobile one
		for _, p := range list(src.ID, "project") {
			if p.Bool("is_mobile_installation") && mobile == nil {
				mobile = p
			} else if !p.Bool("is_mobile_installation") && fixed == nil && p.Int("nb_open_jobs") == 0 && p.Time("date_next_job").Year() <= 1980 {
				fixed = p
			}
		}
		if fixed == nil || mobile == nil {
			t.Fatal("the demo has no mobile installation or no fixed one without jobs")
		}
		jobType := list(src.ID, "job_type")[0].ID()
		var maxID2 int64
		var openJob ordo.Record
		for _, j := range list(src.ID, "jobs") {
			maxID2 = max(maxID2, j.Int("id2"))
			if j.String("job_status_code") == "Open" && openJob == nil {
				openJob = j
			}
		}
		users := list(src.ID, "user")
		id := func(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }
		var jobs strings.Builder
		row := func(format string, args ...any) { fmt.Fprintf(&jobs, format+"\n", args...) }
		base := fmt.Sprintf(`"project_id":%q,"job_type_id":%q`, fixed.ID(), jobType)
		row(`{"id":%q,"reference_back_office":"B-1","name":"one",%s,"job_status_code":"Open"}`, id(1), base)
		row(`{"id":%q,"reference_back_office":"B-2","name":"two",%s,"job_status_code":"Completed","date_closed":"2031-05-01T10:00:00Z"}`, id(2), base)
		row(`{"id":%q,"reference_back_office":"B-3","name":"bad status",%s,"job_status_code":"Nope"}`, id(3), base)
		row(`{"id":%q,"reference_back_office":"B-4","name":"own id2",%s,"job_status_code":"Open","id2":%d}`, id(4), base, maxID2+3)
		row(`{"reference_back_office":"B-1","name":"one again",%s,"job_status_code":"Canceled"}`, base)
		row(`{"id":%q,"reference_back_office":"B-5","name":"after writing","project_id":%q,"job_type":{"code":"NEWT","name":"New type"},"job_status_code":"Open"}`, id(5), mobile.ID())
		row(`{"id":%q,"reference_back_office":"B-6","name":"taken id2",%s,"job_status_code":"Open","id2":%d}`, id(6), base, maxID2)
		for n := 7; n < 14; n++ {
			row(`{"id":%q,"reference_back_office":"B-%d","name":"filler",%s,"job_status_code":"Open"}`, id(n), n, base)
		}
		row(`{"id":%q,"name":"existing, cancelled","job_status_code":"Canceled"}`, openJob.ID())
		row(`{"id":%q,"reference_back_office":"B-2","name":"two, reopened?",%s,"job_status_code":"Open"}`, id(2), base)
		var plannings strings.Builder
		plan := func(n int, job, user, from string) {
			f, _ := time.Parse(time.RFC3339, from)
			fmt.Fprintf(&plannings, `{"id":%q,"jobs_id":%q,"user_id":%q,"date_from":%q,"date_to":%q}`+"\n",
				id(100+n), job, user, from, f.Add(time.Hour).Format(time.RFC3339))
		}
		plan(1, id(7), users[0].ID(), "2030-03-02T08:00:00Z")
		plan(1, id(7), users[0].ID(), "2030-03-09T08:00:00Z") // the same planning, later: the earliest date goes
		plan(2, id(8), users[1%len(users)].ID(), "2030-04-02T08:00:00Z")
		plan(3, id(9), users[0].ID(), "2030-03-09T08:30:00Z") // overlaps planning 1: refused
		plan(4, id(2), users[0].ID(), "2030-05-02T08:00:00Z")

		type outcome struct {
			export  map[string]string
			rejects string
			next    int64
		}
		run := func(domain string, batch int) outcome {
			tn := demoTenant(t, db, svc, domain, 0)
			for _, e := range bulk.DependencyOrder(reg) {
				if _, err := bulk.Import(ctx, svc, tn.ID, e, strings.NewReader(files[e.Controller]), bulk.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			var rejects bytes.Buffer
			for _, f := range []struct{ entity, file string }{{"jobs", jobs.String()}, {"job_planning", plannings.String()}} {
				if _, err := bulk.Import(ctx, svc, tn.ID, reg.MustEntity(f.entity), strings.NewReader(f.file), bulk.ImportOptions{Batch: batch, Rejects: &rejects}); err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
			}
			var ids []string
			for _, p := range list(tn.ID, "project") {
				ids = append(ids, p.ID())
			}
			out := outcome{export: exportAll(t, svc, tn.ID, bulk.JSONLines), rejects: rejects.String()}
			if err := svc.RecomputeProjectAggregates(ctx, tn.ID, ids); err != nil {
				t.Fatal(err)
			}
			if again := exportAll(t, svc, tn.ID, bulk.JSONLines)["Projects"]; again != out.export["Projects"] {
				t.Errorf("batch %d: the project figures differ from their recomputation:\n%s", batch, firstDiff(out.export["Projects"], again))
			}
			if _, err := bulk.Import(ctx, svc, tn.ID, reg.MustEntity("jobs"), strings.NewReader(
				`{"reference_back_office":"LAST","name":"last",`+base+`,"job_status_code":"Open"}`+"\n"), bulk.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			out.next = list(tn.ID, "jobs", ordo.Cond{Field: "reference_back_office", Value: "LAST"})[0].Int("id2")
			return out
		}
		want := run("ROWS", 1)
		var codes []string
		for _, l := range strings.Split(strings.TrimSpace(want.rejects), "\n") {
			var r bulk.Reject
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			codes = append(codes, fmt.Sprintf("%d:%s", r.Line, r.Code))
		}
		if got := strings.Join(codes, ","); got != "6:"+string(ordo.EInvalid)+",7:"+string(ordo.EConflict)+",16:"+string(ordo.EConflict)+",3:"+string(ordo.EUnresolved)+",4:"+string(ordo.EConflict) {
			t.Errorf("rows one by one: rejects %s\n%s", got, want.rejects)
		}
		// B-1, B-2, then B-4's own maxID2+3 is skipped by B-7 to B-13 and LAST.
		if want.next != maxID2+11 {
			t.Errorf("rows one by one: the next id2 is %d, want %d", want.next, maxID2+11)
		}
		for _, batch := range []int{3, 500} {
			got := run(fmt.Sprintf("B%d", batch), batch)
			for _, e := range reg.Entities {
				if got.export[e.Controller] != want.export[e.Controller] {
					t.Errorf("batch %d: %s differ from rows one by one:\n%s", batch, e.Controller, firstDiff(want.export[e.Controller], got.export[e.Controller]))
				}
			}
			if got.rejects != want.rejects {
				t.Errorf("batch %d: rejects differ:\n%s\nwant\n%s", batch, got.rejects, want.rejects)
			}
			if got.next != want.next {
				t.Errorf("batch %d: next id2 %d, want %d", batch, got.next, want.next)
			}
		}
	})
}
