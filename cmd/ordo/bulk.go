package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ordo-fsm/ordo/bulk"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// entityFlags name the tenant and entity of export and import.
type entityFlags struct {
	dbFlags
	domain, entity, format string
}

func (f *entityFlags) resolve(ctx context.Context, db *sqlstore.DB) (int64, *schema.Entity, error) {
	if f.domain == "" || f.entity == "" {
		return 0, nil, errors.New("--domain and --entity are required")
	}
	t, err := db.TenantByDomain(ctx, f.domain)
	if err != nil {
		return 0, nil, fmt.Errorf("tenant %s: %w", f.domain, err)
	}
	e, ok := db.Registry().ByController(f.entity)
	if !ok {
		if e, ok = db.Registry().Entity(f.entity); !ok {
			return 0, nil, fmt.Errorf("no entity %q (use the API's names, e.g. Jobs, Project)", f.entity)
		}
	}
	return t.ID, e, nil
}

func parseEntityFlags(name string, args []string, extra func(*entityFlags, *flag.FlagSet)) (*entityFlags, error) {
	var f entityFlags
	fs := newFlags(name, "--domain D --entity E [flags]", "See ordo --help.", &f.dbFlags, os.Stdout)
	fs.StringVar(&f.domain, "domain", "", "tenant domain (required)")
	fs.StringVar(&f.entity, "entity", "", "entity, as named in the API: Jobs, Project, ... (required)")
	fs.StringVar(&f.format, "format", "", "jsonl or csv (default: from the file name, else jsonl)")
	if extra != nil {
		extra(&f, fs.FlagSet)
	}
	return &f, fs.parse(args)
}

func formatOf(flag, file string) string {
	switch {
	case flag != "":
		return flag
	case strings.HasSuffix(strings.ToLower(file), ".csv"):
		return bulk.CSV
	}
	return bulk.JSONLines
}

func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	f, err := parseEntityFlags("export", args, func(_ *entityFlags, fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write (default: standard output)")
	})
	if err != nil {
		return err
	}
	return f.run(ctx, func(db *sqlstore.DB) error {
		tenant, e, err := f.resolve(ctx, db)
		if err != nil {
			return err
		}
		w := stdout
		if out != "" {
			file, err := os.Create(out)
			if err != nil {
				return err
			}
			defer file.Close()
			w = file
		}
		prog := bulk.Discard
		if out != "" {
			prog = bulk.NewProgress(stderr, "export "+e.Controller, -1)
		}
		n, err := bulk.Export(ctx, service.New(db, db.Registry()), tenant, e, formatOf(f.format, out), w, prog)
		if err != nil {
			return err
		}
		if out != "" {
			fmt.Fprintf(stdout, "exported %d %s rows to %s\n", n, e.Controller, out)
		}
		return nil
	})
}

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file, rejects string
	var batch int
	f, err := parseEntityFlags("import", args, func(_ *entityFlags, fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "file to import (required)")
		fs.IntVar(&batch, "batch", 500, "rows per transaction")
		fs.StringVar(&rejects, "rejects", "", "file for the rejected rows (default: FILE.rejects.jsonl)")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return errors.New("--file is required")
	}
	if rejects == "" {
		rejects = file + ".rejects.jsonl"
	}
	in, err := os.Open(file)
	if err != nil {
		return err
	}
	defer in.Close()
	total := int64(-1)
	if lines, err := countLines(file); err == nil {
		total = lines
		if formatOf(f.format, file) == bulk.CSV {
			total-- // the header
		}
	}
	return f.run(ctx, func(db *sqlstore.DB) error {
		tenant, e, err := f.resolve(ctx, db)
		if err != nil {
			return err
		}
		rj := &lazyFile{path: rejects}
		defer rj.Close()
		res, err := bulk.Import(ctx, service.New(db, db.Registry()), tenant, e, in, bulk.ImportOptions{
			Format: formatOf(f.format, file), Batch: batch, Rejects: rj,
			Progress: bulk.NewProgress(stderr, "import "+e.Controller, total),
		})
		fmt.Fprintf(stdout, "%s: %d rows read, %d applied, %d rejected\n", file, res.Rows, res.Applied, res.Rejected)
		if res.Rejected > 0 {
			fmt.Fprintf(stdout, "rejected rows, with line numbers and errors: %s\n", rejects)
		}
		return err
	})
}

// lazyFile is created on its first write: no reject file when nothing is rejected.
type lazyFile struct {
	path string
	f    *os.File
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil {
		f, err := os.Create(l.path)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	buf := make([]byte, 1<<16)
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				n++
			}
		}
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}
