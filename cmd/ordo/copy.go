package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ordo-fsm/ordo/bulk"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// copyCmd is `ordo copy --from DB --to DB [--force]`: every tenant, user and
// row moves to the target, then counts and checksums are compared per table.
func copyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	from := fs.String("from", "", "source database: SQLite file or postgres:// URL (required)")
	to := fs.String("to", "", "target database: SQLite file or postgres:// URL (required)")
	force := fs.Bool("force", false, "replace the content of a target that already holds tenants")
	maxConns := fs.Int("max-conns", 4, "database connection pool size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return errors.New("--from and --to are required")
	}
	if *from == *to {
		return errors.New("--from and --to name the same database")
	}
	src, err := (&dbFlags{dsn: *from, maxConns: *maxConns}).open(ctx, quiet)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := (&dbFlags{dsn: *to, maxConns: *maxConns}).open(ctx, quiet)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	var total int64
	for _, t := range src.Tables() {
		n, err := src.Count(ctx, t)
		if err != nil {
			return err
		}
		total += n
	}
	prog := bulk.NewProgress(stderr, "copy", total)
	reports, err := sqlstore.Copy(ctx, src, dst, *force, func(_ string, n int) { prog.Add(n) })
	if err != nil {
		return err
	}
	prog.Finish()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "table\trows\tsource checksum\tverified")
	bad := 0
	for _, r := range reports {
		status := "ok"
		if !r.OK() {
			status = fmt.Sprintf("MISMATCH: target has %d rows, checksum %s", r.TargetRows, r.TargetSum[:16])
			bad++
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", r.Table, r.SourceRows, r.SourceSum[:16], status)
	}
	tw.Flush()
	if bad > 0 {
		return fmt.Errorf("%d tables differ after the copy", bad)
	}
	fmt.Fprintf(stdout, "copied %d rows from %s to %s; counts and checksums match\n", total, describe(*from), describe(*to))
	return nil
}
