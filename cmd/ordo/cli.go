package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime/debug"
	"strings"

	"github.com/ordo-fsm/ordo/sqlstore"
)

// usageError is a mistake in the command line: main exits 2 on it, as
// command-line tools do, and 1 on every other failure.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errHelpShown ends a command whose --help was asked: exit 0, nothing else.
var errHelpShown = errors.New("help shown")

// command is one subcommand's flag set with its synopsis.
type command struct {
	*flag.FlagSet
	synopsis string // the arguments after "ordo <name>"
	about    string
	stdout   io.Writer
}

func newCommand(name, synopsis, about string, stdout io.Writer) *command {
	fs := flag.NewFlagSet("ordo "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors are returned; help is printed by parse
	return &command{FlagSet: fs, synopsis: synopsis, about: about, stdout: stdout}
}

func (c *command) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n\nFlags:\n", c.Name(), c.synopsis, c.about)
	c.SetOutput(w)
	c.PrintDefaults()
	c.SetOutput(io.Discard)
}

// parse parses args: --help prints the usage on stdout (errHelpShown); an
// unknown flag or an argument the command does not take is a usage error.
func (c *command) parse(args []string) error {
	if err := c.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(c.stdout)
			return errHelpShown
		}
		return usagef("%s: %v (see %s --help)", c.Name(), err, c.Name())
	}
	if c.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see %s --help)", c.Name(), c.Arg(0), c.Name())
	}
	return nil
}

// version describes the build, from the information the Go toolchain embeds.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "ordo (no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	out := "ordo " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " " + rev + dirty
	}
	if when != "" {
		out += " " + when
	}
	return out + " " + bi.GoVersion
}

// sqlitePath is the file of a SQLite DSN, "" for PostgreSQL.
func sqlitePath(dsn string) string {
	if sqlstore.IsPostgres(dsn) {
		return ""
	}
	return strings.TrimPrefix(dsn, "sqlite://")
}

// describe names a database for messages, without a password.
func describe(dsn string) string {
	if sqlstore.IsPostgres(dsn) {
		if u, err := url.Parse(dsn); err == nil {
			return "PostgreSQL " + u.Redacted()
		}
		return "PostgreSQL"
	}
	return "SQLite " + sqlitePath(dsn)
}

// mustExist refuses a SQLite file that is not there, for the commands that
// read: opening it would silently create an empty database.
func mustExist(dsn string) error {
	p := sqlitePath(dsn)
	if p == "" {
		return nil
	}
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("database file %s does not exist (give --db or ORDO_DB; `ordo migrate --db %s` creates one)", p, p)
		}
		return fmt.Errorf("database file %s: %w", p, err)
	}
	return nil
}
