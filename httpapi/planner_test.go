package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// The planner board in real headless Chromium: sign in, see the seeded
// technicians and plannings, drag a job onto a technician, move and resize a
// block, see a refused drop explained, book the best slot from the
// keyboard, remove a block. Every change is checked through the API.
// Screenshots go to $ORDO_SCREENSHOTS (default: a directory under the
// system's temporary directory); the test log names it.

// chromium finds a Chromium binary. Outside CI the test is skipped when none
// exists; in CI (CI set) a missing browser fails it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium binary on PATH: CI must run the browser tests (.ci/run installs chromium)")
	}
	t.Skip("no chromium binary on PATH (apt-get install chromium); skipping the browser tests")
	return ""
}

type boardFixture struct {
	w                       *rlWorld
	anna, bram, chloe       string
	repair, check, conflict string // jobs to plan
	plannedJob, planning    string // Anna's planning on Monday 09:00-10:00 (Brussels)
}

// The seeded tenant: three technicians in Brussels' time zone, a planned
// job, an absence and three jobs waiting; Monday 2030-07-01 (CEST, UTC+2).
func boardSeed(t *testing.T, srv *testenv.Server) *boardFixture {
	w := rlTenantWorld(t, srv, "BOARD")
	f := &boardFixture{w: w, anna: w.userID}
	w.put(t, "User", f.anna, rlObj{"firstname": "Anna", "lastname": "Peeters"})
	f.bram = w.create(t, "User", rlObj{"code": "U2", "username": "bram", "firstname": "Bram", "lastname": "Janssens"})
	f.chloe = w.create(t, "User", rlObj{"code": "U3", "username": "chloe", "firstname": "Chloé", "lastname": "Maes"})
	w.create(t, "PlanningSetting", rlObj{"time_zone": "Europe/Brussels"})
	w.create(t, "JobStatus", rlObj{"code": "READY", "name": "Ready to plan", "system_job_status_code": "ToBePlanned",
		"usable_on_api": true, "color_text": "#8e44ad"})
	f.repair = w.newJob(t, rlObj{"name": "Repair lift", "job_status_code": "ToBePlanned", "estimated_time": 60})
	f.check = w.newJob(t, rlObj{"name": "Yearly check", "job_status_code": "READY", "estimated_time": 90})
	f.conflict = w.newJob(t, rlObj{"name": "Door sensor", "job_status_code": "Pooling", "estimated_time": 60})
	f.plannedJob = w.newJob(t, rlObj{"name": "Escalator service", "job_status_code": "ToBePlanned"})
	f.planning = w.create(t, "JobPlanning", rlObj{"jobs_id": f.plannedJob, "user_id": f.anna,
		"date_from": "2030-07-01T07:00:00Z", "date_to": "2030-07-01T08:00:00Z"})
	ut := w.create(t, "UserUnavailabilityType", rlObj{"code": "TRAINING", "name": "Training"})
	w.create(t, "UserUnavailability", rlObj{"user_id": f.chloe, "user_unavailability_type_id": ut,
		"date_start": "2030-07-01T06:00:00Z", "date_end": "2030-07-01T10:00:00Z", "is_approved": true})
	return f
}

type board struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	shot int
}

// boardBrowser is one headless Chromium for the whole test binary: each board
// opens a tab in it, which is much cheaper than starting a browser. The
// process dies with the test binary (chromedp sets Pdeathsig on Linux).
var boardBrowser struct {
	once   sync.Once
	ctx    context.Context
	cancel [2]context.CancelFunc
	err    error
}

func sharedBrowser(t *testing.T) context.Context {
	path := chromium(t)
	boardBrowser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
			chromedp.DisableGPU, chromedp.Flag("lang", "en-GB"))
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		boardBrowser.ctx, boardBrowser.cancel = ctx, [2]context.CancelFunc{cancel, cancelA}
		// The first run starts the browser, which lives as long as ctx: it
		// must not run under a timeout.
		boardBrowser.err = chromedp.Do(ctx)
	})
	if boardBrowser.err != nil {
		t.Fatalf("starting %s: %v", path, boardBrowser.err)
	}
	return boardBrowser.ctx
}

// newBoard opens a tab of the given size.
func newBoard(t *testing.T, width, height int) *board {
	ctx, cancel := chromedp.NewContext(sharedBrowser(t))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("ORDO_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ordo-planner-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &board{t: t, ctx: ctx, dir: dir}
}

func (b *board) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failure")
		b.t.Fatal(err)
	}
}

func boardEval[T any](b *board, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition.
func (b *board) waitFor(what, js string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.screenshot("failure")
		msg, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("message").textContent`))
		b.t.Fatalf("waiting for %s: %v (message: %q)", what, err, msg)
	}
}

func (b *board) screenshot(name string) string {
	b.shot++
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, b.t.Name())
	path := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", safe, b.shot, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// point is the viewport position of a wall-clock time (minutes after
// midnight in the tenant's zone) on a technician's lane of the day shown.
func (b *board) point(user string, minutes int) (float64, float64) {
	b.t.Helper()
	xy := boardEval[[]float64](b, fmt.Sprintf(`(() => {
		const lane = document.querySelector('.lane[data-user="%s"]');
		lane.scrollIntoView({block: "nearest", inline: "nearest"});
		const r = lane.getBoundingClientRect();
		return [r.left + xOf(zoned(days()[0], %d)) + 2, r.top + r.height / 2];
	})()`, user, minutes))
	return xy[0], xy[1]
}

func (b *board) center(css string, dx float64) (float64, float64) {
	b.t.Helper()
	xy := boardEval[[]float64](b, fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		e.scrollIntoView({block: "nearest", inline: "nearest"});
		const r = e.getBoundingClientRect();
		return [%v >= 0 ? r.left + %v : r.right + %v, r.top + r.height / 2];
	})()`, css, dx, dx, dx))
	return xy[0], xy[1]
}

func (b *board) drag(fx, fy, tx, ty float64) {
	b.t.Helper()
	b.do(chromedp.DragAndDropXY(fx, fy, tx, ty, 12))
}

func TestPlannerBoard(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		f := boardSeed(t, srv)
		w := f.w
		b := newBoard(t, 1280, 800)
		const monday = 0 // minutes are counted from Monday's midnight in Brussels

		b.do(chromedp.Navigate(srv.URL+"/planner/?date=2030-07-01"),
			chromedp.WaitVisible(chromedp.ID("signin")),
			chromedp.SendKeys(chromedp.ID("domain"), "BOARD"),
			chromedp.SendKeys(chromedp.ID("user"), "api"),
			chromedp.SendKeys(chromedp.ID("password"), "wrong"),
			chromedp.Click(chromedp.CSS(`#signin button`)))
		b.waitFor("the sign-in error", `document.getElementById("signin-error").textContent.includes("Wrong")`)
		b.do(chromedp.SetValue(chromedp.ID("password"), "secret"), chromedp.Click(chromedp.CSS(`#signin button`)))
		b.waitFor("the board", `document.querySelectorAll(".lane[data-user]").length === 3 && document.querySelectorAll(".block").length === 1`)
		names := boardEval[string](b, `[...document.querySelectorAll(".row .who")].map(e => e.firstChild.textContent).join("|")`)
		rlEq(t, "technician rows", names, "Europe/Brussels|Bram Janssens|Chloé Maes|Anna Peeters")
		rlEq(t, "jobs to plan", boardEval[int](b, `document.querySelectorAll("#jobs li").length`), 3)
		rlEq(t, "absence shown on Chloé's lane", boardEval[int](b, fmt.Sprintf(`document.querySelectorAll('.lane[data-user="%s"] .absence').length`, f.chloe)), 1)
		rlEq(t, "status colour of a tenant status", boardEval[string](b, fmt.Sprintf(`document.querySelector('#jobs li[data-job="%s"]').style.getPropertyValue("--c")`, f.check)), "#8e44ad")
		b.screenshot("signed-in")

		parent := b.t
		run := func(name string, fn func(t *testing.T)) {
			t.Run(name, func(t *testing.T) { b.t = t; defer func() { b.t = parent }(); fn(t) })
		}
		run("drag a job onto a technician", func(t *testing.T) {
			fx, fy := b.center(fmt.Sprintf(`#jobs li[data-job="%s"]`, f.repair), 20)
			tx, ty := b.point(f.bram, monday+11*60)
			b.drag(fx, fy, tx, ty)
			b.waitFor("the new block", `document.getElementById("message").textContent.startsWith("Planned") && document.querySelectorAll(".block").length === 2`)
			ps := w.where(t, "JobPlanning", "jobs_id", f.repair)
			rlEq(t, "plannings of the dragged job", len(ps), 1)
			rlEq(t, "planned technician", rlStr(ps[0], "user_id"), f.bram)
			rlEq(t, "planned start (11:00 in Brussels)", rlStr(ps[0], "date_from"), "2030-07-01T09:00:00Z")
			rlEq(t, "planned end (estimated_time)", rlStr(ps[0], "date_to"), "2030-07-01T10:00:00Z")
			rlEq(t, "job status", w.jobStatus(t, f.repair), "Planned")
			rlEq(t, "jobs to plan", boardEval[int](b, `document.querySelectorAll("#jobs li").length`), 2)
		})

		run("move and resize a block", func(t *testing.T) {
			sel := fmt.Sprintf(`.block[data-planning="%s"]`, f.planning)
			fx, fy := b.center(sel, 6)
			tx, ty := b.point(f.anna, monday+14*60)
			b.drag(fx, fy, tx+4, ty)
			b.waitFor("the move", `document.getElementById("message").textContent.startsWith("Moved")`)
			p := w.get(t, "JobPlanning", f.planning)
			rlEq(t, "moved start (14:00)", rlStr(p, "date_from"), "2030-07-01T12:00:00Z")
			rlEq(t, "moved end keeps the length", rlStr(p, "date_to"), "2030-07-01T13:00:00Z")
			gx, gy := b.center(sel, -3)
			ex, _ := b.point(f.anna, monday+15*60+30)
			b.drag(gx, gy, ex, gy)
			b.waitFor("the resize", `document.getElementById("message").textContent.startsWith("Now ends")`)
			rlEq(t, "resized end (15:30)", rlStr(w.get(t, "JobPlanning", f.planning), "date_to"), "2030-07-01T13:30:00Z")
			b.screenshot("moved-resized")
		})

		run("a conflicting drop is explained and changes nothing", func(t *testing.T) {
			fx, fy := b.center(fmt.Sprintf(`#jobs li[data-job="%s"]`, f.conflict), 20)
			tx, ty := b.point(f.bram, monday+11*60+30)
			b.drag(fx, fy, tx, ty)
			b.waitFor("the refusal", `document.getElementById("message").textContent.includes("not free")`)
			rlEq(t, "plannings of the refused job", len(w.where(t, "JobPlanning", "jobs_id", f.conflict)), 0)
			rlEq(t, "status of the refused job", w.jobStatus(t, f.conflict), "Pooling")
			rlEq(t, "blocks after the refusal", boardEval[int](b, `document.querySelectorAll(".block").length`), 2)
			// Into Chloé's absence: refused too.
			tx, ty = b.point(f.chloe, monday+9*60)
			b.drag(fx, fy, tx, ty)
			b.waitFor("the absence refusal", `document.getElementById("message").textContent.includes("absence")`)
			b.screenshot("conflict")
		})

		run("keyboard: select a job, see its best slots, book the best", func(t *testing.T) {
			b.do(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`#jobs li[data-job="%s"]`, f.check))), chromedp.KeyEvent(kb.Enter))
			b.waitFor("the slots", `document.querySelectorAll(".slot").length > 0 && document.getElementById("book-best")`)
			best := boardEval[[]string](b, `[S.slots[0].user_id, S.slots[0].date_from]`)
			b.screenshot("slots")
			b.do(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`#jobs li[data-job="%s"]`, f.check))), chromedp.KeyEvent("b"))
			b.waitFor("the booking", `document.getElementById("message").textContent.startsWith("Booked")`)
			ps := w.where(t, "JobPlanning", "jobs_id", f.check)
			rlEq(t, "plannings of the booked job", len(ps), 1)
			rlEq(t, "booked technician", rlStr(ps[0], "user_id"), best[0])
			rlEq(t, "booked start", rlStr(ps[0], "date_from"), best[1])
			rlEq(t, "booked job status", w.jobStatus(t, f.check), "Planned")
		})

		run("remove a block with the keyboard", func(t *testing.T) {
			b.do(chromedp.Focus(chromedp.CSS(fmt.Sprintf(`.block[data-planning="%s"]`, f.planning))), chromedp.KeyEvent(kb.Delete))
			b.waitFor("the removal", `document.getElementById("message").textContent.startsWith("Planning removed")`)
			rlEq(t, "plannings of the job", len(w.where(t, "JobPlanning", "jobs_id", f.plannedJob)), 0)
		})

		run("the board follows changes made elsewhere", func(t *testing.T) {
			w.create(t, "JobPlanning", rlObj{"jobs_id": f.conflict, "user_id": f.chloe, "force": true,
				"date_from": "2030-07-01T11:00:00Z", "date_to": "2030-07-01T12:00:00Z"})
			b.do(chromedp.Evaluate[chromedp.Void](`load()`))
			b.waitFor("the outside planning", fmt.Sprintf(`document.querySelectorAll('.lane[data-user="%s"] .block').length === 1`, f.chloe))
			b.do(chromedp.SetValue(chromedp.ID("view"), "week"), chromedp.Evaluate[chromedp.Void](`document.getElementById("view").dispatchEvent(new Event("change"))`))
			b.waitFor("the week view", `document.getElementById("range").textContent.includes("2030-07-07")`)
			b.screenshot("week")
		})
	})
}

// TestPlannerBoardTablet: the board on a tablet-sized screen keeps the job
// list and the lanes usable.
func TestPlannerBoardTablet(t *testing.T) {
	srv := testenv.NewServer(t, testenv.SQLite(t))
	f := boardSeed(t, srv)
	b := newBoard(t, 820, 1180)
	b.do(chromedp.Navigate(srv.URL+"/planner/?date=2030-07-01"),
		chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.SendKeys(chromedp.ID("domain"), "BOARD"),
		chromedp.SendKeys(chromedp.ID("user"), "api"),
		chromedp.SendKeys(chromedp.ID("password"), "secret"),
		chromedp.Click(chromedp.CSS(`#signin button`)))
	b.waitFor("the board", `document.querySelectorAll(".block").length === 1`)
	fx, fy := b.center(fmt.Sprintf(`#jobs li[data-job="%s"]`, f.repair), 20)
	tx, ty := b.point(f.chloe, 13*60)
	b.drag(fx, fy, tx, ty)
	b.waitFor("the new block", `document.getElementById("message").textContent.startsWith("Planned")`)
	rlEq(t, "planned start (13:00 in Brussels)", rlStr(f.w.where(t, "JobPlanning", "jobs_id", f.repair)[0], "date_from"), "2030-07-01T11:00:00Z")
	b.screenshot("tablet")
}
