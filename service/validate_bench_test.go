package service

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/ordo-fsm/ordo/schema"
)

// BenchmarkValidateSeedBody: what checking the whole seed job body (four
// levels of embedded objects) against the registry costs before a write.
func BenchmarkValidateSeedBody(b *testing.B) {
	raw, err := os.ReadFile("../httpapi/testdata/seed-put-jobs.json")
	if err != nil {
		b.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		b.Fatal(err)
	}
	e := schema.Default.MustEntity("jobs")
	b.ReportAllocs()
	for b.Loop() {
		if err := validateTree(e, body, modeUpdate); err != nil {
			b.Fatal(err)
		}
	}
}
