package httpapi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

// browser starts headless Chromium for one test. Without Chromium the test
// is skipped on a developer's machine and fails in CI, which installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: .ci/run installs it")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first action starts the browser, and lives as long as its context:
	// only what follows gets a deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// screenshot writes a PNG to ORDO_TEST_SCREENSHOTS (default: the test's
// temporary directory) and logs where, so a person can look at it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("ORDO_TEST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// TestHelpInBrowser renders the help pages in headless Chromium: the index on
// a desktop screen, PUT api/Jobs(id) on a phone, where the page itself must
// not scroll sideways (wide tables scroll inside their box), and in print
// media, where the navigation is hidden.
func TestHelpInBrowser(t *testing.T) {
	ctx := browser(t)
	srv := testenv.NewServer(t, testenv.SQLite(t))

	// Navigate returns once the page has loaded.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/help")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "help-index.png")
	if title := eval[string](t, ctx, `document.title`); title != "APIs – Ordo API help" {
		t.Errorf("index title %q", title)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('table.apis a').length`); n < 100 {
		t.Errorf("index: %d API links", n)
	}

	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/help/api/PUT-api-Jobs(id)"),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "help-put-jobs-phone.png")
	if h1 := eval[string](t, ctx, `document.querySelector('h1').textContent`); h1 != "PUT api/Jobs(id)" {
		t.Errorf("h1 %q", h1)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('table.params tbody tr').length`); n < 150 {
		t.Errorf("%d body parameter rows", n)
	}
	page, view := eval[int](t, ctx, `document.documentElement.scrollWidth`), eval[int](t, ctx, `window.innerWidth`)
	if page > view {
		t.Errorf("on a phone the page is %dpx wide for a %dpx screen: it scrolls sideways", page, view)
	}
	if fs := eval[float64](t, ctx, `parseFloat(getComputedStyle(document.querySelector('td.desc')).fontSize)`); fs < 12 {
		t.Errorf("descriptions are %.0fpx on a phone: too small to read", fs)
	}

	err = chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := eval[string](t, ctx, `getComputedStyle(document.querySelector('header nav')).display`); d != "none" {
		t.Errorf("printed, the navigation shows (display %q)", d)
	}
	if mh := eval[string](t, ctx, `getComputedStyle(document.querySelector('pre.sample')).maxHeight`); mh != "none" {
		t.Errorf("printed, the sample is cut at %s", mh)
	}
}
