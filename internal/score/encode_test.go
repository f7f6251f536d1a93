package score

import (
	"bytes"
	"encoding/json"
	"hash/fnv"
	"math"
	"testing"
)

// encode must write what encoding/json writes: stored scores and their
// digests compare byte for byte.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		res  Result
	}{
		{"nothing", Result{}},
		{"empty signals", Result{Signals: map[string]any{}}},
		{"numbers", Result{Signals: map[string]any{"b": 0.1, "a": 1.0 / 3, "zero": 0.0, "neg": math.Copysign(0, -1), "big": 1e21,
			"under": 999999999999999999999.0, "tiny": 1e-7, "small": 0.000001, "negtiny": -2.5e-9, "int": 3, "huge": 1.7976931348623157e308}}},
		{"strings and booleans", Result{Signals: map[string]any{"plan": "free", "html": "<a & b>", "quote": `say "hi"\`,
			"ctl": "a\tb\n", "utf8": "Zürich ☃", "bad": "\xff", "yes": true, "no": false, "none": nil}}},
		{"reasons", Result{Score: 45, Reasons: []Reason{
			{Rule: "invites", Label: "Invited 4+ teammates", Points: 20, Signals: map[string]any{"teammates_invited": 5.0}},
			{Rule: "pricing", Label: "Viewed pricing <3 times>", Points: 12.5},
			{Rule: "empty", Label: "", Points: -3, Signals: map[string]any{}},
		}}},
		{"a key that needs escaping", Result{Signals: map[string]any{"a\"b": 1.0, "é": 2.0}}},
		// What the fast path leaves to encoding/json.
		{"a nested trait", Result{Signals: map[string]any{"traits": map[string]any{"plan": "pro", "seats": 3.0}}}},
		{"a list", Result{Reasons: []Reason{{Rule: "r", Signals: map[string]any{"x": []any{1.0, "a"}}}}}},
		{"not a number", Result{Signals: map[string]any{"ratio": math.NaN()}, Reasons: []Reason{{Rule: "r", Points: math.Inf(1)}}}},
		{"int64", Result{Signals: map[string]any{"n": int64(7)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkEncode(t, tc.res)
		})
	}
}

func checkEncode(t *testing.T, res Result) {
	t.Helper()
	var e encoder
	got := e.encode([]Result{res})[0]
	wantReasons, _ := json.Marshal(nonNil(res.Reasons))
	wantSignals, _ := json.Marshal(res.Signals)
	if !bytes.Equal(got.reasons, wantReasons) {
		t.Errorf("reasons = %s, want %s", got.reasons, wantReasons)
	}
	if !bytes.Equal(got.signals, wantSignals) {
		t.Errorf("signals = %s, want %s", got.signals, wantSignals)
	}
	if got.digest != digest(wantReasons, wantSignals) || got.digest == 0 {
		t.Errorf("digest = %d, want %d", got.digest, digest(wantReasons, wantSignals))
	}
}

// Stored digests outlive the code that wrote them: digest stays FNV-1a of
// reasons, a 0 byte and signals.
func TestDigestIsFNV1a(t *testing.T) {
	for _, tc := range []struct{ reasons, signals string }{
		{"", ""}, {"[]", "{}"}, {`[{"rule":"a"}]`, `{"x":1}`}, {"\x00\xff", "é"},
	} {
		h := fnv.New64a()
		h.Write([]byte(tc.reasons))
		h.Write([]byte{0})
		h.Write([]byte(tc.signals))
		if got, want := digest([]byte(tc.reasons), []byte(tc.signals)), int64(h.Sum64()|1); got != want {
			t.Errorf("digest(%q, %q) = %d, want %d", tc.reasons, tc.signals, got, want)
		}
	}
}

// Results encoded one after another by one encoder each keep their bytes
// once owned, though the encoder's room is written over.
func TestEncoderReuse(t *testing.T) {
	var e encoder
	a := Result{Score: 1, Signals: map[string]any{"a": 1.0}, Reasons: []Reason{{Rule: "r", Label: "first"}}}
	b := Result{Score: 2, Signals: map[string]any{"b": "a much longer value, to grow the room"}}
	first := e.encode([]Result{a, b})
	kept := []encoded{first[0].own(), first[1].own()}
	e.encode([]Result{b, a, b})
	for i, res := range []Result{a, b} {
		wantReasons, _ := json.Marshal(nonNil(res.Reasons))
		wantSignals, _ := json.Marshal(res.Signals)
		if !bytes.Equal(kept[i].reasons, wantReasons) || !bytes.Equal(kept[i].signals, wantSignals) {
			t.Errorf("result %d kept %s %s, want %s %s", i, kept[i].reasons, kept[i].signals, wantReasons, wantSignals)
		}
	}
}

func FuzzEncode(f *testing.F) {
	f.Add("teammates_invited", "Invited 4+ teammates", 4.0, int64(20), true)
	f.Add("a<b", "\xff\x00", 1e-9, int64(-1), false)
	f.Fuzz(func(t *testing.T, key, label string, x float64, n int64, yes bool) {
		checkEncode(t, Result{
			Signals: map[string]any{key: x, label: label, "n": int(n), "yes": yes},
			Reasons: []Reason{{Rule: key, Label: label, Points: x, Signals: map[string]any{key: label, "x": x}}},
		})
	})
}

// A pql result as the demo rules give one: nine signals, three reasons.
func BenchmarkEncode(b *testing.B) {
	res := []Result{{Score: 45, Signals: map[string]any{"active_days_first_14d": 3.0, "active_users_14d": 1.0,
		"api_quota": 0.0, "pricing_views": 1.0, "project_quota": 0.0, "projects_created": 0.0,
		"seat_quota": 1.0 / 3, "support_contacts": 0.0, "teammates_invited": 4.0},
		Reasons: []Reason{
			{Rule: "invites", Label: "Invited 4+ teammates", Points: 20, Signals: map[string]any{"teammates_invited": 4.0}},
			{Rule: "pricing", Label: "Viewed pricing", Points: 10, Signals: map[string]any{"pricing_views": 1.0}},
			{Rule: "business", Label: "Business email", Points: 15},
		}}}
	b.Run("appended", func(b *testing.B) {
		var e encoder
		for b.Loop() {
			e.encode(res)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			r, _ := json.Marshal(res[0].Reasons)
			s, _ := json.Marshal(res[0].Signals)
			digest(r, s)
		}
	})
}
