package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/webhook"
)

const secret = "a-long-enough-test-secret"

// clock is a test clock that only moves when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// event is one event of a received batch.
type event struct {
	Position int64           `json:"position"`
	Entity   string          `json:"entity"`
	ID       string          `json:"id"`
	Op       string          `json:"op"`
	Modified string          `json:"modified_dateutc"`
	Data     json.RawMessage `json:"data"`
}

// receiver is a webhook endpoint that verifies every signature and
// records the batches it accepted; refuse decides which it refuses.
type receiver struct {
	t       *testing.T
	mu      sync.Mutex
	batches [][]event
	ids     []string
	refused int
	bad     int
	refuse  func(n int) bool // n: the number of requests so far
	calls   int
	srv     *httptest.Server
}

func newReceiver(t *testing.T, refuse func(int) bool) *receiver {
	r := &receiver{t: t, refuse: refuse}
	r.srv = httptest.NewServer(r)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := webhook.Verify(req.Header.Get("Ordo-Signature"), secret, body, time.Now(), 24*365*time.Hour); err != nil {
		r.bad++
		http.Error(w, err.Error(), 401)
		return
	}
	if r.refuse != nil && r.refuse(r.calls) {
		r.refused++
		http.Error(w, "not now", 503)
		return
	}
	var b struct {
		Subscription string  `json:"subscription_id"`
		Events       []event `json:"events"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Subscription == "" || len(b.Events) == 0 {
		r.bad++
		http.Error(w, "bad body", 400)
		return
	}
	r.batches = append(r.batches, b.Events)
	r.ids = append(r.ids, req.Header.Get("Ordo-Webhook-Id"))
	w.WriteHeader(204)
}

// received is every accepted event, in arrival order.
func (r *receiver) received() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

type world struct {
	srv *testenv.Server
	c   *testenv.Client
	job func(name string) string
}

func newWorld(t *testing.T, dsn string) *world {
	srv := testenv.NewServer(t, dsn)
	c := srv.Tenant(t, "HOOKS")
	c.Must(201, "POST", "/api/ProjectStatus", map[string]any{"code": "ACTIVE", "name": "Active", "is_default": true})
	company := c.Must(201, "POST", "/api/Company", map[string]any{"code": "C1", "name": "One"})["id"].(string)
	project := c.Must(201, "POST", "/api/Project", map[string]any{"reference_back_office": "P1", "name": "P", "company_id": company})["id"].(string)
	jt := c.Must(201, "POST", "/api/JobType", map[string]any{"code": "JT", "name": "Repair"})["id"].(string)
	return &world{srv: srv, c: c, job: func(name string) string {
		return c.Must(201, "POST", "/api/Jobs", map[string]any{"name": name, "project_id": project, "job_type_id": jt,
			"job_status_code": "Open"})["id"].(string)
	}}
}

func (w *world) subscribe(t *testing.T, url string, entities ...string) string {
	if entities == nil {
		entities = []string{}
	}
	return w.c.Must(201, "POST", "/api/WebhookSubscriptions", map[string]any{
		"url": url, "secret": secret, "entities": entities, "active": true})["id"].(string)
}

func (w *world) worker(clk *clock) *webhook.Worker {
	return &webhook.Worker{DB: w.srv.DB, Service: w.srv.Service, Client: webhook.NewClient(true), Log: testenv.Quiet,
		Now: clk.Now, Jitter: func() float64 { return 0 }, Lease: time.Minute}
}

func TestWebhookSubscriptionsAPI(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		created := w.c.Do("POST", "/api/WebhookSubscriptions", map[string]any{
			"url": "http://127.0.0.1:9/hook", "secret": secret, "entities": []string{"Jobs", "JobPlanning"}, "active": true})
		id, _ := created.Body["id"].(string)
		if created.Status != 201 || created.Header.Get("Location") == "" {
			t.Fatalf("POST: %d %s", created.Status, created.Raw)
		}
		for _, r := range []*testenv.Response{
			created,
			w.c.Do("GET", "/api/WebhookSubscriptions", nil),
			w.c.Do("GET", "/api/WebhookSubscriptions("+id+")", nil),
			w.c.Do("PATCH", "/api/WebhookSubscriptions("+id+")", map[string]any{"active": false, "secret": secret + "2"}),
		} {
			if r.Status >= 300 || strings.Contains(string(r.Raw), "secret") {
				t.Errorf("status %d, or the secret is in the answer: %s", r.Status, r.Raw)
			}
		}
		got := w.c.Must(200, "GET", "/api/WebhookSubscriptions("+id+")", nil)
		if got["active"] != false || len(got["entities"].([]any)) != 2 {
			t.Errorf("after PATCH: %v", got)
		}
		other := w.srv.Tenant(t, "OTHER")
		if r := other.Do("GET", "/api/WebhookSubscriptions("+id+")", nil); r.Status != 404 {
			t.Errorf("another tenant reads the subscription: %d", r.Status)
		}
		for _, c := range []struct {
			name string
			body map[string]any
			want string
		}{
			{"short secret", map[string]any{"url": "http://127.0.0.1/", "secret": "x"}, "secret"},
			{"no secret", map[string]any{"url": "http://127.0.0.1/"}, "secret"},
			{"unknown entity", map[string]any{"url": "http://127.0.0.1/", "secret": secret, "entities": []string{"Nope"}}, "Nope"},
			{"not http", map[string]any{"url": "ftp://example.com/", "secret": secret}, "http"},
			{"unknown field", map[string]any{"url": "http://127.0.0.1/", "secret": secret, "colour": 1}, "colour"},
		} {
			r := w.c.Do("POST", "/api/WebhookSubscriptions", c.body)
			if r.Status != 400 || !strings.Contains(r.ErrorMessage(), c.want) {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		w.srv.Webhooks.AllowPrivate = false
		for _, u := range []string{"http://127.0.0.1:8080/", "http://localhost/x", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
			"http://[::1]/", "http://192.168.0.10/", "http://[fd00:ec2::254]/"} {
			r := w.c.Do("POST", "/api/WebhookSubscriptions", map[string]any{"url": u, "secret": secret})
			if r.Status != 400 || !strings.Contains(r.ErrorMessage(), "address") {
				t.Errorf("%s accepted without --webhook-allow-private: %d %s", u, r.Status, r.Raw)
			}
		}
		w.srv.Webhooks.AllowPrivate = true
		w.c.Must(204, "DELETE", "/api/WebhookSubscriptions("+id+")", nil)
		if r := w.c.Do("GET", "/api/WebhookSubscriptions("+id+")", nil); r.Status != 404 {
			t.Errorf("deleted subscription: %d", r.Status)
		}
	})
}

func TestWebhookConnectGuard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = webhook.NewClient(false).Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader("{}"))
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("guarded client reached loopback: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		attempts int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, 500 * time.Millisecond}, {1, 0.999999, time.Second}, {2, 0, time.Second}, {5, 0, 8 * time.Second},
		{13, 0, 30 * time.Minute}, {13, 0.999999, time.Hour}, {40, 0.5, 45 * time.Minute},
	} {
		got := webhook.Backoff(c.attempts, c.jitter)
		if d := got - c.want; d > 10*time.Millisecond || d < -10*time.Millisecond {
			t.Errorf("Backoff(%d, %v) = %s, want %s", c.attempts, c.jitter, got, c.want)
		}
	}
}

// TestWebhookDelivery: every change arrives, signed, in order, although
// the receiver refuses some batches and is down for a while; a worker that
// crashes between sending and recording is replaced by another that sends
// the batch again.
func TestWebhookDelivery(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		recv := newReceiver(t, func(n int) bool { return n%3 == 2 })
		sub := w.subscribe(t, recv.srv.URL, "Jobs")
		clk := &clock{now: time.Now()}
		wk := w.worker(clk)
		ctx := context.Background()
		var jobs []string
		pass := func() {
			t.Helper()
			if err := wk.Pass(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)
		}
		for i := 0; i < 250; i++ {
			jobs = append(jobs, w.job("job"))
		}
		w.c.Must(204, "DELETE", "/api/Jobs("+jobs[0]+")", nil)
		for i := 0; i < 12; i++ {
			pass()
		}
		// The receiver goes down: deliveries fail and are retried later.
		recv.srv.Listener.Close()
		recv.srv.CloseClientConnections()
		jobs = append(jobs, w.job("while down"))
		pass()
		pass()
		ds := w.c.Must(200, "GET", "/api/WebhookDeliveries?subscription_id="+sub, nil)["value"].([]any)
		if first := ds[0].(map[string]any); first["status_code"].(json.Number).String() != "0" || first["error"] == "" {
			t.Errorf("latest delivery while down: %v", first)
		}
		recv.mu.Lock()
		recv.refuse = nil // the crash below must come after an accepted batch
		recv.mu.Unlock()
		recv.srv = httptest.NewUnstartedServer(recv)
		l, err := net.Listen("tcp", strings.TrimPrefix(w.c.Must(200, "GET", "/api/WebhookSubscriptions("+sub+")", nil)["url"].(string), "http://"))
		if err != nil {
			t.Fatalf("restart receiver: %v", err)
		}
		recv.srv.Listener = l
		recv.srv.Start()
		// A crash after the receiver answered and before the answer is
		// recorded: the batch is sent again by the next worker.
		jobs = append(jobs, w.job("crash"))
		crashCtx, crash := context.WithCancel(ctx)
		wk.AfterSend = func(string, int) { crash() }
		wk.Pass(crashCtx)
		clk.Add(2 * time.Minute) // the crashed worker's lease expires
		wk = w.worker(clk)
		for i := 0; i < 10; i++ {
			pass()
		}
		got := recv.received()
		seen := map[string]int{}
		for _, e := range got {
			seen[e.ID]++
			if e.Entity != "Jobs" {
				t.Errorf("event of %s: not subscribed", e.Entity)
			}
		}
		for _, id := range jobs {
			if seen[id] == 0 {
				t.Errorf("job %s never delivered", id)
			}
		}
		var deleted bool
		for _, e := range got {
			if e.ID == jobs[0] && e.Op == "delete" {
				deleted = e.Data == nil
			}
		}
		if !deleted {
			t.Error("no delete event without data for the deleted job")
		}
		for i := 1; i < len(got); i++ {
			if got[i].Position < got[i-1].Position && !repeat(recv, got[i].Position) {
				t.Errorf("positions out of order: %d after %d", got[i].Position, got[i-1].Position)
			}
		}
		dupIDs := map[string]int{}
		for _, id := range recv.ids {
			dupIDs[id]++
		}
		var resent int
		for _, n := range dupIDs {
			if n > 1 {
				resent++
			}
		}
		if resent == 0 {
			t.Error("the batch of the crashed worker was not sent again (at-least-once)")
		}
		if recv.bad > 0 || recv.refused == 0 {
			t.Errorf("%d bad signatures or bodies, %d refusals", recv.bad, recv.refused)
		}
		t.Logf("%d events in %d batches (%d refused, %d batches resent)", len(got), len(recv.batches), recv.refused, resent)
	})
}

// repeat reports whether position p arrived in more than one batch.
func repeat(r *receiver, p int64) bool {
	n := 0
	for _, b := range r.batches {
		for _, e := range b {
			if e.Position == p {
				n++
			}
		}
	}
	return n > 1
}

// TestWebhookDisabledAfterRetryWindow: a receiver that never accepts is
// retried with growing pauses for 24 hours, then the subscription is set
// inactive with the reason.
func TestWebhookDisabledAfterRetryWindow(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		recv := newReceiver(t, func(int) bool { return true })
		sub := w.subscribe(t, recv.srv.URL)
		w.job("x")
		clk := &clock{now: time.Now()}
		wk := w.worker(clk)
		ctx := context.Background()
		wk.Pass(ctx)
		wk.Pass(ctx) // not due yet: no second call
		if recv.calls != 1 {
			t.Fatalf("calls before the backoff elapsed: %d", recv.calls)
		}
		s := w.c.Must(200, "GET", "/api/WebhookSubscriptions("+sub+")", nil)
		if s["failed_attempts"].(json.Number).String() != "1" || s["next_attempt_dateutc"] == nil {
			t.Errorf("after one failure: %v", s)
		}
		for i := 0; i < 40 && recv.calls < 100; i++ {
			clk.Add(time.Hour)
			wk.Pass(ctx)
		}
		s = w.c.Must(200, "GET", "/api/WebhookSubscriptions("+sub+")", nil)
		if s["active"] != false || !strings.Contains(s["disabled_reason"].(string), "24h") {
			t.Errorf("after 40 h of failures: %v", s)
		}
		calls := recv.calls
		if calls < 20 || calls > 40 {
			t.Errorf("%d tries in 40 h, want about one an hour after the first", calls)
		}
		clk.Add(time.Hour)
		wk.Pass(ctx)
		if recv.calls != calls {
			t.Error("a disabled subscription was tried again")
		}
		ds := w.c.Must(200, "GET", "/api/WebhookDeliveries", nil)["value"].([]any)
		if len(ds) != calls || ds[0].(map[string]any)["status_code"].(json.Number).String() != "503" {
			t.Errorf("%d deliveries listed for %d calls: %v", len(ds), calls, ds[0])
		}
		// Re-activation resumes from where delivery stopped.
		recv.mu.Lock()
		recv.refuse = nil
		recv.mu.Unlock()
		w.c.Must(200, "PATCH", "/api/WebhookSubscriptions("+sub+")", map[string]any{"active": true})
		wk.Pass(ctx)
		if got := recv.received(); len(got) == 0 || got[0].Entity != "Jobs" || got[0].Op != "insert" {
			t.Errorf("after re-activation: %v", got)
		}
	})
}
