package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/ordo-fsm/ordo/sqlstore"
)

// backup copies a SQLite database consistently, also while a server writes
// to it; for PostgreSQL it says how to use pg_dump.
func backup(ctx context.Context, args []string, stdout io.Writer) error {
	f := dbFlags{existing: true}
	c := newFlags("backup", "--to FILE [--db PATH]",
		"Writes a consistent copy of a SQLite database to FILE, also while the server runs (VACUUM INTO).\n"+
			"For PostgreSQL use pg_dump; see docs/operations.md.", &f, stdout)
	to := c.String("to", "", "the file to write (must not exist)")
	if err := c.parse(args); err != nil {
		return err
	}
	if *to == "" {
		return usagef("backup: --to FILE is required")
	}
	if sqlstore.IsPostgres(f.dsn) {
		target := "$ORDO_DB"
		if u, err := url.Parse(f.dsn); err == nil {
			target = "'" + u.Redacted() + "'"
		}
		return fmt.Errorf("backup copies SQLite databases; for PostgreSQL run: pg_dump --format=custom --file=%s %s", *to, target)
	}
	if _, err := os.Stat(*to); err == nil {
		return fmt.Errorf("%s already exists; backup does not overwrite", *to)
	}
	return f.run(ctx, func(db *sqlstore.DB) error {
		if err := db.BackupTo(ctx, *to); err != nil {
			return err
		}
		st, err := os.Stat(*to)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", describe(f.dsn), *to, st.Size())
		return nil
	})
}
