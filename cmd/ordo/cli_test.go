package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets a test run the real main (exit codes) by re-executing the
// test binary with ORDO_TEST_MAIN set.
func TestMain(m *testing.M) {
	if os.Getenv("ORDO_TEST_MAIN") != "" {
		os.Args = append([]string{"ordo"}, strings.Fields(os.Getenv("ORDO_TEST_MAIN"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestCommandLine: --help on every command and subcommand answers the usage
// on stdout and exits 0; --version tells the build; unknown flags, extra
// arguments and unknown commands exit 2; commands that read refuse a
// database file that does not exist, naming it, and do not create it.
func TestCommandLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere", "ordo.db")
	cases := []struct {
		args     string
		exit     int
		stdout   string // a substring of stdout
		stderr   string // a substring of stderr
		noCreate bool
	}{
		{args: "--help", stdout: "ordo serve"},
		{args: "help", stdout: "ordo backup"},
		{args: "serve --help", stdout: "Usage: ordo serve"},
		{args: "serve -h", stdout: "-metrics-addr"},
		{args: "migrate --help", stdout: "Usage: ordo migrate"},
		{args: "tenant --help", stdout: "ordo tenant list"},
		{args: "tenant add --help", stdout: "Usage: ordo tenant add"},
		{args: "tenant list --help", stdout: "Usage: ordo tenant list"},
		{args: "user --help", stdout: "ordo user add"},
		{args: "user add --help", stdout: "Usage: ordo user add"},
		{args: "backup --help", stdout: "VACUUM INTO"},
		{args: "--version", stdout: "ordo "},
		{args: "", exit: 2, stderr: "no command given"},
		{args: "frobnicate", exit: 2, stderr: `unknown command "frobnicate"`},
		{args: "tenant", exit: 2, stderr: "which tenant command"},
		{args: "tenant remove", exit: 2, stderr: `unknown command "tenant remove"`},
		{args: "serve --bogus", exit: 2, stderr: "flag provided but not defined: -bogus"},
		{args: "tenant list extra --db " + missing, exit: 2, stderr: `unexpected argument "extra"`},
		{args: "tenant add --domain X", exit: 2, stderr: "--domain, --user and --password are required"},
		{args: "backup", exit: 2, stderr: "--to FILE is required"},
		{args: "tenant list --db " + missing, exit: 1, stderr: "database file " + missing + " does not exist", noCreate: true},
		{args: "user add --domain X --user u --password p --db " + missing, exit: 1, stderr: missing, noCreate: true},
		{args: "backup --to /tmp/x.db --db " + missing, exit: 1, stderr: missing, noCreate: true},
		{args: "backup --to /tmp/x.dump --db postgres://u:secret@127.0.0.1:1/db", exit: 1, stderr: "pg_dump"},
	}
	for _, tc := range cases {
		t.Run(tc.args, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "ORDO_TEST_MAIN="+tc.args, "ORDO_DB="+missing)
			if tc.args == "" {
				cmd.Env = append(cmd.Env, "ORDO_TEST_MAIN= ")
			}
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			exit := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tc.exit {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", exit, tc.exit, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout lacks %q: %s", tc.stdout, out.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, errOut.String())
			}
			if strings.Contains(errOut.String(), "secret") {
				t.Errorf("stderr shows the password: %s", errOut.String())
			}
			if tc.noCreate {
				if _, err := os.Stat(missing); err == nil {
					t.Errorf("%s was created", missing)
				}
			}
		})
	}
}

// TestVersionFromBuildInfo: the version line names the Go toolchain.
func TestVersionFromBuildInfo(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "ordo ") || !strings.Contains(out.String(), "go1.") {
		t.Errorf("--version: %q", out.String())
	}
}
