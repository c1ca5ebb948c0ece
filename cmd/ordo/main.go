// Command ordo runs and administers the Ordo work-order API.
//
//	ordo serve   [--db PATH|URL] [--addr HOST:PORT] [--demo]
//	ordo migrate [--db PATH|URL]
//	ordo tenant add --domain D --user U --password P [--name N]
//	ordo tenant list
//	ordo user add --domain D --user U --password P
//	ordo export --domain D --entity E [--format jsonl|csv] [--out FILE]
//	ordo import --domain D --entity E --file FILE [--format jsonl|csv] [--batch N]
//	ordo copy --from DB --to DB [--force]
//	ordo backup --to FILE
//	ordo --version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/httpapi"
	"github.com/ordo-fsm/ordo/metrics"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
	"github.com/ordo-fsm/ordo/webhook"
)

const usage = `ordo: the Ordo work-order API

Usage:
  ordo serve   [--db PATH|URL] [--addr HOST:PORT] [--demo] [--max-conns N] [--idempotency-ttl 24h] [--metrics-addr HOST:PORT] [limits]
  ordo migrate [--db PATH|URL]
  ordo tenant add  --domain D --user U --password P [--name N] [--db ...]
  ordo tenant list [--db ...]
  ordo user add    --domain D --user U --password P [--db ...]
  ordo export --domain D --entity Jobs [--format jsonl|csv] [--out FILE] [--db ...]
  ordo import --domain D --entity Jobs --file FILE [--format jsonl|csv] [--batch 500] [--rejects FILE] [--db ...]
  ordo copy   --from ./ordo.db --to postgres://... [--force]
  ordo backup --to FILE [--db ...]
  ordo --version

--db is a SQLite file (default ./ordo.db, env ORDO_DB) or a postgres:// URL.
Limits of ordo serve (docs/operations.md): --tenant-max-inflight,
--tenant-max-inflight-alone, --tenant-queue,
--tenant-queue-wait, --tenant-rate, --tenant-burst, --max-http-conns,
--write-timeout, --login-window, --login-max-failures-user,
--login-max-failures-addr, --login-max-verifications; ordo serve -h lists them.
Every command takes --help.
`

const tenantUsage = `Usage:
  ordo tenant add  --domain D --user U --password P [--name N] [--db ...]
  ordo tenant list [--db ...]
`

const userUsage = `Usage:
  ordo user add --domain D --user U --password P [--db ...]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	var ue *usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "ordo:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "ordo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	cmd, args := args[0], args[1:]
	if group := map[string]string{"tenant": tenantUsage, "user": userUsage}[cmd]; group != "" {
		switch {
		case len(args) == 0:
			fmt.Fprint(stderr, group)
			return usagef("%s: which %s command?", cmd, cmd)
		case isHelp(args[0]):
			fmt.Fprint(stdout, group)
			return nil
		}
		cmd, args = cmd+" "+args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, stdout)
	case "tenant add":
		return tenantAdd(ctx, args, stdout)
	case "tenant list":
		return tenantList(ctx, args, stdout)
	case "user add":
		return userAdd(ctx, args, stdout)
	case "export":
		return export(ctx, args, stdout, stderr)
	case "import":
		return importCmd(ctx, args, stdout, stderr)
	case "copy":
		return copyCmd(ctx, args, stdout, stderr)
	case "backup":
		return backup(ctx, args, stdout)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", cmd)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dbFlags are shared by every subcommand.
type dbFlags struct {
	dsn      string
	maxConns int
	existing bool // the command reads: a missing SQLite file is an error, not a new database
}

func newFlags(name, synopsis, about string, f *dbFlags, stdout io.Writer) *command {
	c := newCommand(name, synopsis, about, stdout)
	c.StringVar(&f.dsn, "db", envOr("ORDO_DB", "./ordo.db"), "SQLite file or postgres:// URL (env ORDO_DB)")
	c.IntVar(&f.maxConns, "max-conns", 16, "database connection pool size")
	return c
}

// quiet is the logger of the administrative commands: their output is the answer.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open opens and migrates the database.
func (f *dbFlags) open(ctx context.Context, log *slog.Logger) (*sqlstore.DB, error) {
	if f.existing {
		if err := mustExist(f.dsn); err != nil {
			return nil, err
		}
	}
	db, err := sqlstore.Open(ctx, f.dsn, sqlstore.Options{MaxConns: f.maxConns, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", describe(f.dsn), err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: migrate: %w", describe(f.dsn), err)
	}
	return db, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f dbFlags
	fs := newFlags("serve", "[flags]", "Runs the API (help pages at /help), creating and migrating the database if needed.", &f, stdout)
	addr := fs.String("addr", envOr("ORDO_ADDR", "127.0.0.1:8080"), "listen address (env ORDO_ADDR)")
	withDemo := fs.Bool("demo", false, "on an empty database, create tenant DEMO with demo data")
	retention := fs.Duration("change-retention", 30*24*time.Hour, "how long the change log keeps entries (delta links and webhooks reach back that far)")
	allowPrivate := fs.Bool("webhook-allow-private", false, "let webhook subscriptions reach loopback, private and link-local addresses (tests, closed networks)")
	idemTTL := fs.Duration("idempotency-ttl", httpapi.DefaultIdempotencyTTL, "how long a response to an Idempotency-Key is kept for replay")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at /metrics on this separate address (off when empty)")
	resendMemory := fs.Int("resend-memory", service.DefaultResendMemory,
		"how many PUTs that only touched their row this process remembers, to answer the same bytes again without the full path (0: off)")
	lim := limitFlags(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := f.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := service.New(db, db.Registry())
	svc.SetResendMemory(*resendMemory)
	if *withDemo {
		created, err := demo.Ensure(ctx, db, svc)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if created {
			log.Info("demo tenant created", "domain", demo.Domain)
		}
	}
	go db.OptimizeEvery(ctx, time.Hour) // SQLite's planner statistics (OData joins)
	go db.PruneChangesEvery(ctx, *retention, time.Hour)
	hooks := &webhook.Manager{DB: db, Registry: db.Registry(), AllowPrivate: *allowPrivate}
	worker := &webhook.Worker{DB: db, Service: svc, Client: webhook.NewClient(*allowPrivate), Log: log}
	go worker.Run(ctx)
	go db.PruneIdempotencyKeysEvery(ctx, *idemTTL, 10*time.Minute)
	var observer httpapi.RequestObserver
	if *metricsAddr != "" {
		m := metrics.New(db.Pools())
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		msrv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go msrv.Serve(mln)
		defer msrv.Close()
		fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", mln.Addr())
		observer = m
	}
	ln, err := httpapi.Listen(*addr, lim.net)
	if err != nil {
		return err
	}
	authn := auth.New(db)
	lim.login.Logger = log
	authn.SetLimits(lim.login)
	handler := httpapi.New(httpapi.Config{Service: svc, Auth: authn, DB: db, Logger: log, Webhooks: hooks, IdempotencyTTL: *idemTTL,
		Version: version(), Observer: observer, Admission: lim.admission(f.maxConns)})
	srv := httpapi.HTTPServer(handler, lim.net, log)
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Ordo is serving %s on %s\n", describe(f.dsn), url)
	if *withDemo {
		fmt.Fprintf(stdout, "Demo tenant: user %q, password %q, domain %q (Basic auth user:password@domain)\n",
			demo.User, demo.Password, demo.Domain)
		fmt.Fprintf(stdout, "Try: curl -u '%s:%s@%s' '%s/api/Jobs?$top=2'\n", demo.User, demo.Password, demo.Domain, url)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// withDB parses the shared flags of a command without flags of its own and
// runs fn on the database.
func withDB(ctx context.Context, name, about string, existing bool, args []string, stdout io.Writer, fn func(db *sqlstore.DB) error) error {
	f := dbFlags{existing: existing}
	if err := newFlags(name, "[--db PATH|URL]", about, &f, stdout).parse(args); err != nil {
		return err
	}
	return f.run(ctx, fn)
}

// run opens and migrates the database, runs fn on it and closes it.
func (f *dbFlags) run(ctx context.Context, fn func(db *sqlstore.DB) error) error {
	db, err := f.open(ctx, quiet)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	return withDB(ctx, "migrate", "Creates the database if needed and brings its schema to this version.", false, args, stdout, func(db *sqlstore.DB) error {
		return printVersion(ctx, db, stdout)
	})
}

func printVersion(ctx context.Context, db *sqlstore.DB, stdout io.Writer) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema is at version %d\n", v)
	return nil
}

type userFlags struct {
	dbFlags
	domain, user, password, name string
}

func parseUserFlags(name, about string, args []string, withName bool, stdout io.Writer) (*userFlags, error) {
	var f userFlags
	f.existing = !withName // tenant add may start a new database; user add needs one with the tenant
	fs := newFlags(name, "--domain D --user U --password P", about, &f.dbFlags, stdout)
	fs.StringVar(&f.domain, "domain", "", "tenant domain (required)")
	fs.StringVar(&f.user, "user", "", "API user name (required)")
	fs.StringVar(&f.password, "password", "", "API user password (required)")
	if withName {
		fs.StringVar(&f.name, "name", "", "tenant display name")
	}
	if err := fs.parse(args); err != nil {
		return nil, err
	}
	if f.domain == "" || f.user == "" || f.password == "" {
		return nil, usagef("%s: --domain, --user and --password are required", name)
	}
	return &f, nil
}

func tenantAdd(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseUserFlags("tenant add", "Creates a tenant with its system rows and its first API user.", args, true, stdout)
	if err != nil {
		return err
	}
	return f.run(ctx, func(db *sqlstore.DB) error {
		t, err := admin.CreateTenant(ctx, db, service.New(db, db.Registry()), f.domain, f.name, f.user, f.password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %s created (id %d) with API user %s\n", t.Domain, t.ID, f.user)
		return nil
	})
}

func tenantList(ctx context.Context, args []string, stdout io.Writer) error {
	return withDB(ctx, "tenant list", "Lists the tenants: id, domain, name.", true, args, stdout, func(db *sqlstore.DB) error {
		ts, err := db.Tenants(ctx)
		if err != nil {
			return err
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%d\t%s\t%s\n", t.ID, t.Domain, t.Name)
		}
		return nil
	})
}

func userAdd(ctx context.Context, args []string, stdout io.Writer) error {
	f, err := parseUserFlags("user add", "Adds an API user to a tenant, or replaces the password of an existing one.", args, false, stdout)
	if err != nil {
		return err
	}
	return f.run(ctx, func(db *sqlstore.DB) error {
		t, err := admin.SetPassword(ctx, db, f.domain, f.user, f.password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API user %s set in tenant %s (an existing user's password is replaced)\n", f.user, t.Domain)
		return nil
	})
}
