package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// malformed is one request of the catalogue: what is sent, the status it
// must get, and how many events it must store (a batch keeps its valid
// messages beside the refused ones).
type malformed struct {
	name         string
	method, path string
	body         []byte
	header       map[string]string // set after the write key; "Authorization": "" removes it
	status       int
	stored       int
}

func track(props string) string {
	return `{"userId":"u","event":"e","properties":` + props + `}`
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.Bytes()
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

func batchOf(n int, msg string) string {
	return `{"batch":[` + strings.TrimSuffix(strings.Repeat(msg+",", n), ",") + `]}`
}

// catalogue is what was probed by hand, kept: bad JSON, bad gzip, wrong
// encodings, oversize messages and batches, deep nesting, invalid UTF-8,
// NUL in every class of field, type confusion, timestamps at the
// extremes, missing ids, wrong methods, unknown paths, header floods.
func catalogue() []malformed {
	post := func(name, path, body string, status, stored int) malformed {
		return malformed{name: name, method: http.MethodPost, path: path, body: []byte(body), status: status, stored: stored}
	}
	with := func(m malformed, header map[string]string) malformed { m.header = header; return m }
	gzipped := map[string]string{"Content-Encoding": "gzip"}
	big := strings.Repeat("x", event.MaxMessageBytes)
	cs := []malformed{
		// JSON that is not JSON.
		post("empty body", "/v1/track", ``, 400, 0),
		post("open brace", "/v1/track", `{`, 400, 0),
		post("close brace", "/v1/track", `}`, 400, 0),
		post("truncated", "/v1/track", `{"userId":"u","event":"e"`, 400, 0),
		post("trailing garbage", "/v1/track", `{"userId":"u","event":"e"}x`, 400, 0),
		post("two values", "/v1/track", `{"userId":"u","event":"e"}{"userId":"u","event":"e"}`, 400, 0),
		post("an array", "/v1/track", `[{"userId":"u","event":"e"}]`, 400, 0),
		post("a string", "/v1/track", `"track"`, 400, 0),
		post("null", "/v1/track", `null`, 400, 0),
		post("bad escape", "/v1/track", `{"userId":"\x","event":"e"}`, 400, 0),
		post("raw control character", "/v1/track", "{\"userId\":\"a\x01b\",\"event\":\"e\"}", 400, 0),
		post("single quotes", "/v1/track", `{'userId':'u','event':'e'}`, 400, 0),
		post("unquoted name", "/v1/track", `{userId:"u","event":"e"}`, 400, 0),
		post("trailing comma", "/v1/track", `{"userId":"u","event":"e",}`, 400, 0),
		post("NaN", "/v1/track", track(`{"n":NaN}`), 400, 0),
		post("Infinity", "/v1/track", track(`{"n":Infinity}`), 400, 0),
		post("a batch cut short", "/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"e"}`, 400, 0),
		post("batch not an array", "/v1/batch", `{"batch":{"type":"track"}}`, 400, 0),
		post("batch of strings", "/v1/batch", `{"batch":["a","b"]}`, 400, 0),
		post("empty batch", "/v1/batch", `{"batch":[]}`, 200, 0),
		post("no batch", "/v1/batch", `{}`, 400, 0),
		// gzip.
		with(post("truncated gzip", "/v1/track", string(gz(`{"userId":"u","event":"e"}`)[:12]), 400, 0), gzipped),
		with(post("plain body said to be gzip", "/v1/track", `{"userId":"u","event":"e"}`, 400, 0), gzipped),
		with(post("gzip of bad JSON", "/v1/track", string(gz(`{"userId":`)), 400, 0), gzipped),
		with(post("gzip of a good message", "/v1/track", string(gz(`{"userId":"u","event":"gz"}`)), 200, 1), gzipped),
		with(post("gzip bomb", "/v1/track", string(gz(track(`{"p":"`+strings.Repeat("x", 4<<20)+`"}`))), 413, 0), gzipped),
		with(post("deflate", "/v1/track", `{"userId":"u","event":"e"}`, 415, 0), map[string]string{"Content-Encoding": "deflate"}),
		with(post("brotli", "/v1/track", `{"userId":"u","event":"e"}`, 415, 0), map[string]string{"Content-Encoding": "br"}),
		// Sizes.
		post("a message over 32 KB", "/v1/track", track(`{"p":"`+big+`"}`), 400, 0),
		post("a message just under 32 KB", "/v1/track", track(`{"p":"`+big[:event.MaxMessageBytes-100]+`"}`), 200, 1),
		post("a request over 500 KB", "/v1/batch", batchOf(20, track(`{"p":"`+big[:30000]+`"}`)), 413, 0),
		post("one message over 32 KB in a batch", "/v1/batch",
			`{"batch":[{"type":"track","userId":"u","event":"ok1"},{"type":"track","userId":"u","event":"e","properties":{"p":"`+big+`"}}]}`, 400, 1),
		post("a batch over the message cap", "/v1/batch", batchOf(event.MaxBatchMessages+1, `{}`), 413, 0),
		post("deep nesting, 5,000", "/v1/track", track(nested(5000)), 200, 1),
		post("deep nesting, 100,000 (over the request's size)", "/v1/track", track(nested(100000)), 413, 0),
		post("deep nesting in a batch, 5,000", "/v1/batch", `{"batch":[`+strings.TrimSuffix(track(nested(5000)), "}")+`,"type":"track"}]}`, 200, 1),
		// Text.
		post("invalid UTF-8 in a property", "/v1/track", track("{\"p\":\"\xff\xfe\"}"), 400, 0),
		post("invalid UTF-8 in an id", "/v1/track", "{\"userId\":\"\xc3\x28\",\"event\":\"e\"}", 400, 0),
		post("latin-1 body", "/v1/track", "{\"userId\":\"Jos\xe9\",\"event\":\"e\"}", 400, 0),
		post("UTF-16 body", "/v1/track", "\xff\xfe{\x00}\x00", 400, 0),
		post("a BOM", "/v1/track", "\xef\xbb\xbf{\"userId\":\"u\",\"event\":\"e\"}", 400, 0),
		post("NUL in userId", "/v1/track", `{"userId":"a\u0000","event":"e"}`, 400, 0),
		post("NUL in anonymousId", "/v1/page", `{"anonymousId":"a\u0000"}`, 400, 0),
		post("NUL in messageId", "/v1/track", `{"userId":"u","event":"e","messageId":"m\u0000"}`, 400, 0),
		post("NUL in groupId", "/v1/group", `{"userId":"u","groupId":"g\u0000"}`, 400, 0),
		post("NUL in previousId", "/v1/alias", `{"userId":"u","previousId":"p\u0000"}`, 400, 0),
		post("NUL in an event name", "/v1/track", `{"userId":"u","event":"e\u0000"}`, 400, 0),
		post("NUL in a page name", "/v1/page", `{"userId":"u","name":"p\u0000"}`, 400, 0),
		post("NUL in context.groupId", "/v1/track", `{"userId":"u","event":"e","context":{"groupId":"g\u0000"}}`, 400, 0),
		post("NUL in a trait is taken (made storable)", "/v1/identify", `{"userId":"nul-trait","traits":{"email":"a\u0000@x.example","name":"N\u0000"}}`, 200, 1),
		post("NUL in a group trait is taken", "/v1/group", `{"userId":"u","groupId":"g-nul","traits":{"name":"G\u0000","domain":"d\u0000.example"}}`, 200, 1),
		post("NUL in a property is taken", "/v1/track", track(`{"p":"a\u0000b"}`), 200, 1),
		post("NUL in a property name is taken", "/v1/track", track(`{"a\u0000b":1}`), 200, 1),
		// Types.
		post("userId an object", "/v1/track", `{"userId":{"a":1},"event":"e"}`, 400, 0),
		post("userId an array", "/v1/track", `{"userId":["u"],"event":"e"}`, 400, 0),
		post("userId true", "/v1/track", `{"userId":true,"event":"e"}`, 400, 0),
		post("userId a number is taken", "/v1/track", `{"userId":42,"event":"e"}`, 200, 1),
		post("userId beyond a float64", "/v1/track", `{"userId":1e999,"event":"e"}`, 400, 0),
		post("event a number", "/v1/track", `{"userId":"u","event":7}`, 400, 0),
		post("type a number", "/v1/batch", `{"batch":[{"type":1,"userId":"u"}]}`, 400, 0),
		post("traits an array", "/v1/identify", `{"userId":"u","traits":[1,2]}`, 400, 0),
		post("traits a string", "/v1/identify", `{"userId":"u","traits":"x"}`, 400, 0),
		post("properties a number", "/v1/track", track(`5`), 400, 0),
		post("context an array", "/v1/track", `{"userId":"u","event":"e","context":[]}`, 400, 0),
		post("timestamp a number", "/v1/track", `{"userId":"u","event":"e","timestamp":1700000000}`, 400, 0),
		post("a property beyond a float64", "/v1/track", track(`{"n":1e999999}`), 400, 0),
		post("a trait beyond a float64", "/v1/identify", `{"userId":"u","traits":{"n":-1e400}}`, 400, 0),
		post("context beyond a float64", "/v1/track", `{"userId":"u","event":"e","context":{"screen":{"width":1e500}}}`, 400, 0),
		post("a tiny number is taken", "/v1/track", track(`{"n":1e-999999}`), 200, 1),
		post("unknown type in a batch", "/v1/batch", `{"batch":[{"type":"purchase","userId":"u"}]}`, 400, 0),
		// Timestamps.
		post("year 9999", "/v1/track", `{"userId":"u","event":"e","timestamp":"9999-12-31T23:59:59Z"}`, 200, 1),
		post("year 1", "/v1/track", `{"userId":"u","event":"e","timestamp":"0001-01-01T00:00:00Z"}`, 200, 1),
		post("skew that would overflow", "/v1/track", `{"userId":"u","event":"e","timestamp":"9999-12-31T00:00:00Z","sentAt":"0002-01-01T00:00:00Z"}`, 200, 1),
		post("not a date", "/v1/track", `{"userId":"u","event":"e","timestamp":"yesterday"}`, 400, 0),
		post("month 13", "/v1/track", `{"userId":"u","event":"e","timestamp":"2026-13-01T00:00:00Z"}`, 400, 0),
		post("bad sentAt", "/v1/track", `{"userId":"u","event":"e","sentAt":"soon"}`, 400, 0),
		post("bad sentAt in a batch envelope", "/v1/batch", `{"sentAt":"soon","batch":[{"type":"track","userId":"u","event":"e"}]}`, 400, 0),
		// Missing ids and fields.
		post("no ids", "/v1/track", `{"event":"e"}`, 400, 0),
		post("empty ids", "/v1/track", `{"userId":"","anonymousId":"","event":"e"}`, 400, 0),
		post("null ids", "/v1/track", `{"userId":null,"event":"e"}`, 400, 0),
		post("no event name", "/v1/track", `{"userId":"u"}`, 400, 0),
		post("no groupId", "/v1/group", `{"userId":"u"}`, 400, 0),
		post("no previousId", "/v1/alias", `{"userId":"u"}`, 400, 0),
		post("no type in a batch", "/v1/batch", `{"batch":[{"userId":"u"}]}`, 400, 0),
		post("an id over 256 bytes", "/v1/track", `{"userId":"`+strings.Repeat("u", 257)+`","event":"e"}`, 400, 0),
		post("half a batch good", "/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"ok2"},{"type":"track","event":"e"},{"type":"page","anonymousId":"a"}]}`, 400, 2),
		post("a duplicate messageId", "/v1/batch", `{"batch":[{"type":"track","userId":"u","event":"e","messageId":"dup"},{"type":"track","userId":"u","event":"e","messageId":"dup"}]}`, 200, 1),
		post("the duplicate again", "/v1/track", `{"userId":"u","event":"e","messageId":"dup"}`, 200, 0),
		// Keys.
		with(post("no key", "/v1/track", `{"userId":"u","event":"e"}`, 401, 0), map[string]string{"Authorization": ""}),
		with(post("a wrong key", "/v1/track", `{"userId":"u","event":"e"}`, 401, 0), map[string]string{"Authorization": "Basic Ymtfd19ub3BlOg=="}),
		with(post("a bearer token", "/v1/track", `{"userId":"u","event":"e"}`, 401, 0), map[string]string{"Authorization": "Bearer x"}),
		with(post("a batch of empty messages without a key", "/v1/batch", batchOf(100000, `{}`), 401, 0), map[string]string{"Authorization": ""}),
		with(post("a key in the body that is wrong", "/v1/track", `{"userId":"u","event":"e","writeKey":"bk_w_nope"}`, 401, 0), map[string]string{"Authorization": ""}),
		// Methods and paths.
		{name: "GET a collector path", method: http.MethodGet, path: "/v1/track", status: 405},
		{name: "PUT a collector path", method: http.MethodPut, path: "/v1/track", body: []byte(`{}`), status: 405},
		{name: "DELETE a collector path", method: http.MethodDelete, path: "/v1/batch", status: 405},
		post("an unknown collector path", "/v1/purchase", `{"userId":"u"}`, 404, 0),
		post("an unknown path", "/v2/track", `{"userId":"u","event":"e"}`, 404, 0),
		post("a path with a dot-dot", "/v1/../v1/track", `{"userId":"u","event":"e"}`, 200, 1),
		post("a trailing slash", "/v1/track/", `{"userId":"u","event":"e"}`, 404, 0),
		// Headers.
		with(post("a header flood", "/v1/track", `{"userId":"u","event":"e"}`, 431, 0), map[string]string{"X-Flood": strings.Repeat("f", 80<<10)}),
		with(post("a form content type is read as JSON", "/v1/track", `{"userId":"u","event":"form"}`, 200, 1), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}),
	}
	return cs
}

// Every request of the catalogue gets its status and stores exactly what it
// should, on both engines, and the projection takes an event sent after
// them all.
func TestMalformedCatalogue(t *testing.T) {
	cs := catalogue()
	if len(cs) < 80 {
		t.Fatalf("the catalogue holds %d requests; it should hold at least 80", len(cs))
	}
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			db := eng.Open(t)
			srv := startServer(t, db)
			ctx := context.Background()
			total := int64(0)
			for _, c := range cs {
				status := sendRaw(t, srv, c)
				total += int64(c.stored)
				st, err := db.Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if status != c.status || st.Events != total {
					t.Errorf("%s: %d and %d events stored in all, want %d and %d", c.name, status, st.Events, c.status, total)
					total = st.Events
				}
			}
			canary := malformed{name: "canary", method: http.MethodPost, path: "/v1/identify",
				body: []byte(`{"userId":"canary","traits":{"email":"c@canary.example"}}`), status: 200}
			if status := sendRaw(t, srv, canary); status != 200 {
				t.Fatalf("canary: %d", status)
			}
			projected(t, srv.syncIdentity, db, "canary")
		})
	}
}

// sendRaw sends c as written, path and all (a client does not clean it).
func sendRaw(t *testing.T, srv *running, c malformed) int {
	t.Helper()
	req, err := http.NewRequest(c.method, srv.url+"/", bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque = c.path
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(srv.writeKey, "")
	for k, v := range c.header {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
