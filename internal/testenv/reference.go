package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ReferenceFile returns the path of a file of the project's reference
// (shared/reference/), found by walking up from the test's directory: CI lays
// shared/ beside the clone, developers beside their work trees. A missing
// reference fails the test: a comparison that silently skips compares nothing.
func ReferenceFile(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "reference", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("reference file %s not found in shared/reference/ of any directory above the test's", name)
		}
		dir = parent
	}
}
