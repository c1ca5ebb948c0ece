package bulk_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/bulk"
	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/service"
)

// BenchmarkImportFlatJobs imports b.N flat jobs (references by id, no
// embedded objects) spread over the demo's installations, in batches of 500,
// and reports rows/s and the process's CPU time per row (user + system).
// Figures in docs/performance.md.
func BenchmarkImportFlatJobs(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchImport(b, testenv.SQLite(b)) })
	if os.Getenv(testenv.PostgresEnv) != "" {
		b.Run("postgres", func(b *testing.B) { benchImport(b, testenv.Postgres(b)) })
	}
}

func benchImport(b *testing.B, dsn string) {
	ctx := context.Background()
	db := testenv.OpenDB(b, dsn)
	svc := service.New(db, db.Registry())
	tn, err := admin.CreateTenant(ctx, db, svc, "BENCH", "", "api", "secret")
	if err != nil {
		b.Fatal(err)
	}
	if err := demo.Generate(ctx, svc, tn.ID, demo.Options{Jobs: 10, Now: time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	projects, err := svc.List(ctx, tn.ID, db.Registry().MustEntity("project"), ordo.Query{Conds: []ordo.Cond{{Field: "is_mobile_installation", Value: false}}}, false)
	if err != nil {
		b.Fatal(err)
	}
	types, err := svc.List(ctx, tn.ID, db.Registry().MustEntity("job_type"), ordo.Query{}, false)
	if err != nil {
		b.Fatal(err)
	}
	var file strings.Builder
	for i := 0; i < b.N; i++ {
		fmt.Fprintf(&file, `{"reference_back_office":"IMP-%07d","name":"Imported job %d","project_id":%q,"job_type_id":%q,"job_status_code":"Open"}`+"\n",
			i, i, projects.Rows[i%len(projects.Rows)].ID(), types.Rows[0].ID())
	}
	cpu0 := processCPU()
	b.ResetTimer()
	res, err := bulk.Import(ctx, svc, tn.ID, db.Registry().MustEntity("jobs"), strings.NewReader(file.String()), bulk.ImportOptions{Batch: 500})
	if err != nil || res.Applied != int64(b.N) {
		b.Fatalf("%+v %v", res, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/row")
}

// processCPU is the user + system CPU time the process has used: on a
// shared machine, the steadier measure of what a row costs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
