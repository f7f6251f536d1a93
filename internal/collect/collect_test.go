package collect_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/beaconplg/beacon/internal/api"
	"github.com/beaconplg/beacon/internal/collect"
	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/httpjson"
	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/metrics"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

var now = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	t   *testing.T
	db  *store.DB
	m   *metrics.Metrics
	srv *httptest.Server
	key string
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	key, err := keys.Create(context.Background(), db, store.WriteKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	mux := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(quietLog, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db), Metrics: m,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{t: t, db: db, m: m, srv: srv, key: key}
}

type reply struct {
	status int
	body   map[string]any
	header http.Header
}

func (f *fixture) post(path, body string, opts ...func(*http.Request)) reply {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(f.key, "")
	for _, o := range opts {
		o(req)
	}
	return f.do(req)
}

func (f *fixture) do(req *http.Request) reply {
	f.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode, header: resp.Header}
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			f.t.Fatalf("response is not JSON: %s", raw)
		}
	}
	return r
}

func (f *fixture) stored() map[string]event.Event {
	f.t.Helper()
	out := map[string]event.Event{}
	c := store.Cursor{}
	deadline := time.Now().Add(storetest.HangGuard)
	for {
		evs, next, err := f.db.EventsAfter(context.Background(), c, 1000)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, e := range evs {
			if _, dup := out[e.MessageID]; dup {
				f.t.Fatalf("%s stored twice", e.MessageID)
			}
			out[e.MessageID] = e
		}
		c = next
		if len(evs) == 0 {
			// PostgreSQL may hold back rows while other tests' transactions run.
			if s, _ := f.db.Stats(context.Background()); int(s.Events) == len(out) || time.Now().After(deadline) {
				return out
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func noAuth(r *http.Request)    { r.Header.Del("Authorization") }
func gzipped(r *http.Request)   { r.Header.Set("Content-Encoding", "gzip") }
func textPlain(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }

func errorOf(r reply) map[string]any {
	e, _ := r.body["error"].(map[string]any)
	return e
}

func TestCollector(t *testing.T) {
	for _, e := range storetest.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Run("every endpoint stores its message type", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				calls := []struct{ path, body, typ string }{
					{"/v1/track", `{"messageId":"t","userId":"u","event":"Signed Up"}`, event.Track},
					{"/v1/identify", `{"messageId":"i","userId":"u","traits":{"email":"a@acme.com"}}`, event.Identify},
					{"/v1/group", `{"messageId":"g","userId":"u","groupId":"ws"}`, event.Group},
					{"/v1/page", `{"messageId":"p","anonymousId":"a","name":"Pricing"}`, event.Page},
					{"/v1/screen", `{"messageId":"s","userId":"u","name":"Home"}`, event.Screen},
					{"/v1/alias", `{"messageId":"a","userId":"u","previousId":"a"}`, event.Alias},
					{"/v1/batch", `{"batch":[{"messageId":"b1","type":"track","userId":"u","event":"x"}]}`, event.Track},
					{"/v1/import", `{"batch":[{"messageId":"im","type":"identify","userId":"u"}]}`, event.Identify},
				}
				for _, c := range calls {
					if r := f.post(c.path, c.body); r.status != 200 || r.body["success"] != true {
						t.Fatalf("%s: %d %v", c.path, r.status, r.body)
					}
				}
				got := f.stored()
				for _, c := range calls {
					var id struct {
						MessageID string `json:"messageId"`
						Batch     []struct {
							MessageID string `json:"messageId"`
						} `json:"batch"`
					}
					_ = json.Unmarshal([]byte(c.body), &id)
					if id.MessageID == "" {
						id.MessageID = id.Batch[0].MessageID
					}
					if got[id.MessageID].Type != c.typ {
						t.Errorf("%s stored %+v, want type %s", c.path, got[id.MessageID], c.typ)
					}
				}
			})

			t.Run("auth", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				body := `{"userId":"u","event":"e"}`
				if r := f.post("/v1/track", body, noAuth); r.status != 401 || errorOf(r)["code"] != "unauthorized" {
					t.Fatalf("no key: %d %v", r.status, r.body)
				}
				bad := func(r *http.Request) { r.SetBasicAuth("bk_w_nope", "") }
				if r := f.post("/v1/track", body, bad); r.status != 401 {
					t.Fatalf("unknown key: %d", r.status)
				}
				withKey := fmt.Sprintf(`{"userId":"u","event":"e","writeKey":%q}`, f.key)
				if r := f.post("/v1/track", withKey, noAuth); r.status != 200 {
					t.Fatalf("writeKey in body: %d %v", r.status, r.body)
				}
				if n := len(f.stored()); n != 1 {
					t.Fatalf("stored %d events, want 1", n)
				}
			})

			t.Run("analytics.js short paths, text/plain, CORS", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				body := fmt.Sprintf(`{"userId":"u","event":"Clicked","writeKey":%q,"messageId":"js-1"}`, f.key)
				r := f.post("/v1/t", body, noAuth, textPlain)
				if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
					t.Fatalf("/v1/t: %d %v %v", r.status, r.body, r.header)
				}
				batch := fmt.Sprintf(`{"writeKey":%q,"batch":[{"type":"page","anonymousId":"a","messageId":"js-2"}]}`, f.key)
				if r := f.post("/v1/b", batch, noAuth, textPlain); r.status != 200 {
					t.Fatalf("/v1/b: %d %v", r.status, r.body)
				}
				req, _ := http.NewRequest(http.MethodOptions, f.srv.URL+"/v1/t", nil)
				req.Header.Set("Origin", "https://app.example.com")
				req.Header.Set("Access-Control-Request-Method", "POST")
				pre := f.do(req)
				if pre.status != 204 || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Content-Type") {
					t.Fatalf("preflight: %d %v", pre.status, pre.header)
				}
				if got := f.stored(); got["js-1"].Name != "Clicked" || got["js-2"].Type != "page" {
					t.Fatalf("stored %v", got)
				}
			})

			t.Run("a retried messageId is stored once", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				body := `{"batch":[{"type":"track","messageId":"dup-1","userId":"u","event":"e"},{"type":"track","messageId":"dup-2","userId":"u","event":"e"}]}`
				for range 3 {
					if r := f.post("/v1/batch", body); r.status != 200 {
						t.Fatalf("%d %v", r.status, r.body)
					}
				}
				if n := len(f.stored()); n != 2 {
					t.Fatalf("stored %d, want 2", n)
				}
				if acc, dup := testutil.ToFloat64(f.m.EventsAccepted), testutil.ToFloat64(f.m.EventsDuplicate); acc != 2 || dup != 4 {
					t.Fatalf("metrics accepted %v duplicate %v, want 2 and 4", acc, dup)
				}
			})

			t.Run("gzip bodies", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				var buf bytes.Buffer
				zw := gzip.NewWriter(&buf)
				_, _ = zw.Write([]byte(`{"batch":[{"type":"track","messageId":"gz","userId":"u","event":"Zipped"}]}`))
				_ = zw.Close()
				if r := f.post("/v1/batch", buf.String(), gzipped); r.status != 200 {
					t.Fatalf("gzip: %d %v", r.status, r.body)
				}
				if r := f.post("/v1/batch", "not gzip", gzipped); r.status != 400 || errorOf(r)["code"] != "bad_encoding" {
					t.Fatalf("bad gzip: %d %v", r.status, r.body)
				}
				if f.stored()["gz"].Name != "Zipped" {
					t.Fatal("gzip event not stored")
				}
			})

			t.Run("limits", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				big := `{"userId":"u","event":"e","properties":{"p":"` + strings.Repeat("x", 33<<10) + `"}}`
				r := f.post("/v1/track", big)
				if r.status != 400 || errorOf(r)["code"] != "message_too_large" || errorOf(r)["limit"] != float64(32768) {
					t.Fatalf("32 KB message limit: %d %v", r.status, errorOf(r))
				}
				msgs := make([]string, 20)
				for i := range msgs {
					msgs[i] = `{"type":"track","userId":"u","event":"e","properties":{"p":"` + strings.Repeat("y", 30<<10) + `"}}`
				}
				r = f.post("/v1/batch", `{"batch":[`+strings.Join(msgs, ",")+`]}`)
				if r.status != 413 || errorOf(r)["limit"] != float64(512000) {
					t.Fatalf("500 KB request limit: %d %v", r.status, errorOf(r))
				}
				var buf bytes.Buffer // a gzip bomb: tiny compressed, huge inflated
				zw := gzip.NewWriter(&buf)
				_, _ = zw.Write(bytes.Repeat([]byte(" "), 5<<20))
				_ = zw.Close()
				if r := f.post("/v1/batch", buf.String(), gzipped); r.status != 413 {
					t.Fatalf("inflated size must count: %d", r.status)
				}
				if n := len(f.stored()); n != 0 {
					t.Fatalf("stored %d", n)
				}
			})

			t.Run("bad messages are named; good ones in the batch are kept", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				cases := []struct{ path, body, code, field string }{
					{"/v1/track", `{"userId":`, "malformed_json", ""},
					{"/v1/track", `{"event":"e"}`, "missing_field", "userId"},
					{"/v1/track", `{"userId":"u"}`, "missing_field", "event"},
					{"/v1/group", `{"userId":"u"}`, "missing_field", "groupId"},
				}
				for _, c := range cases {
					r := f.post(c.path, c.body)
					if r.status != 400 || errorOf(r)["code"] != c.code || (c.field != "" && errorOf(r)["field"] != c.field) {
						t.Fatalf("%s %s: %d %v", c.path, c.body, r.status, r.body)
					}
				}
				r := f.post("/v1/batch", `{"batch":[
					{"type":"track","messageId":"ok-0","userId":"u","event":"e"},
					{"type":"track","messageId":"bad-1","userId":"u"},
					{"type":"identify","messageId":"ok-2","anonymousId":"a"},
					{"type":"group","messageId":"bad-3","userId":"u"}]}`)
				errs, _ := errorOf(r)["errors"].([]any)
				if r.status != 400 || errorOf(r)["accepted"] != float64(2) || len(errs) != 2 {
					t.Fatalf("partial batch: %d %v", r.status, r.body)
				}
				first := errs[0].(map[string]any)
				if first["index"] != float64(1) || first["field"] != "event" {
					t.Fatalf("first refused message: %v", first)
				}
				got := f.stored()
				if _, ok := got["ok-0"]; !ok || len(got) != 2 {
					t.Fatalf("valid messages of the batch must be stored: %v", got)
				}
				if n := testutil.ToFloat64(f.m.EventsRejected.WithLabelValues("missing_field")); n != 5 {
					t.Fatalf("rejected{missing_field} = %v, want 5", n)
				}
			})

			t.Run("clock skew is corrected against the server's clock", func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, e.Open(t))
				// The device clock is 3 hours behind; it sent the event 4 s after it happened.
				r := f.post("/v1/track", `{"messageId":"skew","userId":"u","event":"e",
					"timestamp":"2026-07-01T09:00:00Z","sentAt":"2026-07-01T09:00:04Z"}`)
				if r.status != 200 {
					t.Fatal(r.body)
				}
				got := f.stored()["skew"]
				if want := now.Add(-4 * time.Second); !got.Timestamp.Equal(want) || !got.ReceivedAt.Equal(now) ||
					!got.OriginalTimestamp.Equal(time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)) {
					t.Fatalf("stored %+v, want timestamp %v", got, want)
				}
			})
		})
	}
}

// A store that cannot commit answers 503 so SDKs retry; nothing is claimed.
func TestStoreDownIs503(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	if r := f.post("/v1/track", `{"userId":"u","event":"warm"}`); r.status != 200 {
		t.Fatal(r.body) // the key is now cached: what fails next is the commit
	}
	db.Close()
	r := f.post("/v1/track", `{"userId":"u","event":"e"}`)
	if r.status != 503 || errorOf(r)["code"] != "unavailable" {
		t.Fatalf("%d %v", r.status, r.body)
	}
}

// A request is authenticated before its messages are decoded: 100,000
// empty messages without a key cost a read of the body, not a decode of
// each (which had taken 90 MB for one request). With a key, a batch of more
// than MaxBatchMessages is refused whole, naming the limit, and the answer
// to many refused messages lists the first hundred.
func TestAuthenticateBeforeDecoding(t *testing.T) {
	db := storetest.SQLite(t)
	f := newFixture(t, db)
	flood := `{"batch":[` + strings.TrimSuffix(strings.Repeat("{},", 100_000), ",") + `]}`
	handler := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(quietLog, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db), Metrics: metrics.New(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }}).Register(handler)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/batch", strings.NewReader(flood)))
	runtime.ReadMemStats(&after)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("a flood without a key: %d", rec.Code)
	}
	// The body (300 KB) is read into a buffer; nothing of its 100,000
	// messages is decoded.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Fatalf("a request without a key allocated %d KB", grew>>10)
	}
	// In the body, the request's key and the first message's are taken.
	for _, body := range []string{
		`{"writeKey":%q,"batch":[{"type":"track","userId":"u","event":"e"}]}`,
		`{"batch":[{"type":"track","userId":"u","event":"e","writeKey":%q}]}`,
	} {
		r := f.post("/v1/batch", fmt.Sprintf(body, f.key), func(r *http.Request) { r.Header.Del("Authorization") })
		if r.status != http.StatusOK {
			t.Fatalf("key in the body %s: %d %v", body, r.status, r.body)
		}
	}
	r := f.post("/v1/batch", flood)
	if e, _ := r.body["error"].(map[string]any); r.status != http.StatusRequestEntityTooLarge || e["field"] != "batch" ||
		e["limit"] != float64(event.MaxBatchMessages) {
		t.Fatalf("a batch of 100,000: %d %v", r.status, r.body)
	}
	bad := `{"batch":[` + strings.TrimSuffix(strings.Repeat(`{"type":"track","userId":"u"},`, 5_000), ",") + `]}`
	r = f.post("/v1/batch", bad)
	e, _ := r.body["error"].(map[string]any)
	listed, _ := e["errors"].([]any)
	if r.status != http.StatusBadRequest || len(listed) != 100 || !strings.Contains(fmt.Sprint(e["message"]), "5000 of 5000 messages were refused") {
		t.Fatalf("5,000 refused messages: %d, %d listed, %v", r.status, len(listed), e["message"])
	}
}

// A body that trickles in is cut at its deadline (a grace, then its size
// at the slowest rate taken) with a 408, and nothing of it is stored; one
// that arrives in time is taken.
func TestSlowBody(t *testing.T) {
	db := storetest.SQLite(t)
	key, err := keys.Create(context.Background(), db, store.WriteKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	collect.New(collect.Deps{Errors: httpjson.NewErrors(quietLog, api.Statuses()...), Ingester: db, Keys: keys.NewChecker(db), Metrics: metrics.New(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), BodyGrace: 200 * time.Millisecond, MinBodyRate: 1 << 20}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	body := `{"type":"track","userId":"u","event":"Slow"}`
	send := func(stall <-chan struct{}) int {
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, body[:10])
			<-stall // the rest comes when the test says, if ever
			_, _ = io.WriteString(pw, body[10:])
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/track", pr)
		req.ContentLength = int64(len(body))
		req.SetBasicAuth(key, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	never := make(chan struct{})
	defer close(never)
	if code := send(never); code != http.StatusRequestTimeout {
		t.Fatalf("a stalled body: %d, want 408", code)
	}
	now := make(chan struct{})
	close(now)
	if code := send(now); code != http.StatusOK {
		t.Fatalf("a body in time: %d", code)
	}
	evs, _, err := db.EventsAfter(context.Background(), store.Cursor{}, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("stored %d events (%v), want the one in time", len(evs), err)
	}
}

// failingStore refuses every write while full is set, as a full disk does.
type failingStore struct {
	*store.DB
	full atomic.Bool
}

func (f *failingStore) AppendEvents(ctx context.Context, evs []event.Event) (int, error) {
	if f.full.Load() {
		return 0, errors.New("database or disk is full (13)")
	}
	return f.DB.AppendEvents(ctx, evs)
}

// While the store refuses writes the collector answers 503, never 200, and
// reports itself not storing; the first write that works again ends that.
func TestHealthWhileTheStoreRefusesWrites(t *testing.T) {
	db := storetest.SQLite(t)
	key, err := keys.Create(context.Background(), db, store.WriteKey, "test")
	if err != nil {
		t.Fatal(err)
	}
	fs := &failingStore{DB: db}
	c := collect.New(collect.Deps{Errors: httpjson.NewErrors(quietLog, api.Statuses()...), Ingester: fs, Keys: keys.NewChecker(db), Metrics: metrics.New(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	c.Register(mux)
	send := func(id string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/track", strings.NewReader(`{"userId":"u","event":"e","messageId":"`+id+`"}`))
		req.SetBasicAuth(key, "")
		mux.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := send("m1"); code != http.StatusOK || c.Health() != nil {
		t.Fatalf("a store that takes writes: %d, %v", code, c.Health())
	}
	fs.full.Store(true)
	if code := send("m2"); code != http.StatusServiceUnavailable || !errors.Is(c.Health(), collect.ErrNotStoring) {
		t.Fatalf("a full store: %d, %v", code, c.Health())
	}
	fs.full.Store(false)
	if code := send("m2"); code != http.StatusOK || c.Health() != nil {
		t.Fatalf("the store back: %d, %v", code, c.Health())
	}
}
