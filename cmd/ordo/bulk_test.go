package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// TestExportImportCommands: export to a file, import it into another
// tenant (plain progress lines when not on a terminal), a reject file with
// line numbers, and an idempotent second run.
func TestExportImportCommands(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		db := "--db=" + dsn
		dir := t.TempDir()
		runCmd(t, "tenant", "add", db, "--domain", "A", "--user", "u", "--password", "p")
		runCmd(t, "tenant", "add", db, "--domain", "B", "--user", "u", "--password", "p")
		src := filepath.Join(dir, "skills.csv")
		os.WriteFile(src, []byte("code,name\nS1,One\nS2,\nS3,Three\n"), 0o644)
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"import", db, "--domain", "A", "--entity", "Skill", "--file", src}, &out, &errOut)
		if err != nil {
			t.Fatalf("import: %v %s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "3 rows read, 2 applied, 1 rejected") || !strings.Contains(errOut.String(), "import Skill: 3/3 rows") {
			t.Errorf("import output: %q %q", out.String(), errOut.String())
		}
		rejects, _ := os.ReadFile(src + ".rejects.jsonl")
		if !strings.Contains(string(rejects), `"line":3`) || !strings.Contains(string(rejects), "name") {
			t.Errorf("rejects: %s", rejects)
		}
		file := filepath.Join(dir, "a.jsonl")
		if out := runCmd(t, "export", db, "--domain", "A", "--entity", "skill", "--out", file); !strings.Contains(out, "exported 2 Skill rows") {
			t.Errorf("export: %s", out)
		}
		for i := 0; i < 2; i++ {
			if out := runCmd(t, "import", db, "--domain", "B", "--entity", "Skill", "--file", file, "--batch", "1"); !strings.Contains(out, "2 applied, 0 rejected") {
				t.Errorf("import run %d: %s", i, out)
			}
		}
		a := runCmd(t, "export", db, "--domain", "A", "--entity", "Skill", "--format", "csv")
		b := runCmd(t, "export", db, "--domain", "B", "--entity", "Skill", "--format", "csv")
		// modified_dateutc is when the row was written in this database.
		stamp := regexp.MustCompile(`,[0-9T:.Z-]+\n`)
		a, b = stamp.ReplaceAllString(a, "\n"), stamp.ReplaceAllString(b, "\n")
		if a != b || !strings.HasPrefix(a, "id,") {
			t.Errorf("exports differ:\n%s\n%s", a, b)
		}
		var sink bytes.Buffer
		if err := run(context.Background(), []string{"export", db, "--domain", "A", "--entity", "Nope"}, &sink, &sink); err == nil {
			t.Error("unknown entity accepted")
		}
	})
}
