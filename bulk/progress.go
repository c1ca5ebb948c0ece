// Package bulk moves many rows at once: export of an entity in the API's
// JSON shape (JSON lines) or as CSV, import through the same service rules
// as the API, and copy of a whole database to another (SQLite to
// PostgreSQL). The ordo command's export, import and copy run on it.
package bulk

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress reports rows as they are done.
type Progress interface {
	Add(n int)
	Finish()
}

// NewProgress returns a progress bar (rows, rate, ETA) when out is a
// terminal, and otherwise a reporter writing a plain line every interval.
// total < 0 means unknown.
func NewProgress(out io.Writer, label string, total int64) Progress {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &bar{progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
		)}
	}
	return &lines{out: out, label: label, total: total, start: time.Now(), last: time.Now(), every: 2 * time.Second}
}

// Discard is a Progress that reports nothing.
var Discard Progress = discard{}

type discard struct{}

func (discard) Add(int) {}
func (discard) Finish() {}

type bar struct{ b *progressbar.ProgressBar }

func (p *bar) Add(n int) { p.b.Add(n) }
func (p *bar) Finish()   { p.b.Finish() }

// lines writes "label: done/total rows (rate rows/s)" now and then: logs
// and CI output get progress without terminal control characters.
type lines struct {
	mu                   sync.Mutex
	out                  io.Writer
	label                string
	total, done, printed int64
	start, last          time.Time
	every                time.Duration
}

func (p *lines) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if time.Since(p.last) >= p.every {
		p.last = time.Now()
		p.print()
	}
}

func (p *lines) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.printed != p.done || p.done == 0 {
		p.print()
	}
}

func (p *lines) print() {
	p.printed = p.done
	rate := float64(p.done) / max(time.Since(p.start).Seconds(), 1e-9)
	if p.total >= 0 {
		fmt.Fprintf(p.out, "%s: %d/%d rows (%.0f rows/s)\n", p.label, p.done, p.total, rate)
		return
	}
	fmt.Fprintf(p.out, "%s: %d rows (%.0f rows/s)\n", p.label, p.done, rate)
}
