package score

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
)

// encoded is a result's reasons and signals in the JSON the store keeps,
// and their digest.
type encoded struct {
	reasons, signals []byte
	digest           int64
	// An account's activity (see scored.withActivity); its bytes are its
	// own, never the encoder's room.
	activity    []byte
	momentum    float64
	activeUsers int
	lastActive  time.Time
}

// encoder marshals what the store keeps of results into room it reuses: a
// pass encodes every result only to compare digests with what is stored,
// and keeps the bytes of the few that changed (see encoded.own).
type encoder struct {
	room []byte
	keys []string // room for sorting a map's keys
}

// encode marshals results; what it returns is good until its next call,
// and the workers that score call it, so that comparing with what is
// stored is all a pass does alone. activity, if any (an account's: its
// activity and the hour it was last active), is counted in every result's
// digest.
func (e *encoder) encode(results []Result, activity ...[]byte) []encoded {
	out := make([]encoded, len(results))
	e.room = e.room[:0]
	for i := range results {
		res := &results[i]
		start := len(e.room)
		var ok bool
		if e.room, e.keys, ok = appendReasons(e.room, res, e.keys); !ok {
			res.fill()
			r, _ := json.Marshal(nonNil(res.Reasons)) // plain values: it cannot fail
			e.room = append(e.room[:start], r...)
		}
		mid := len(e.room)
		if res.short() {
			// A card whose when does not hold read nothing: {}.
			e.room, ok = appendObject(e.room, res.card.reads[:len(res.read)], func(j int) any { return res.read[j] })
		} else {
			e.room, e.keys, ok = appendValues(e.room, res.Signals, e.keys)
		}
		if !ok {
			res.fill()
			v, _ := json.Marshal(res.Signals)
			e.room = append(e.room[:mid], v...)
		}
		// Taken once both are written: a room grown meanwhile is a new
		// array, and the old one keeps what was written before.
		out[i].reasons, out[i].signals = e.room[start:mid:mid], e.room[mid:len(e.room):len(e.room)]
		out[i].digest = digest(out[i].reasons, out[i].signals, activity...)
	}
	return out
}

// own copies what an encoded result refers to out of the encoder's room.
func (enc encoded) own() encoded {
	enc.reasons, enc.signals = bytes.Clone(enc.reasons), bytes.Clone(enc.signals)
	return enc
}

// appendReasons and appendValues write what encoding/json would, byte for
// byte, for the values results hold: numbers, strings, booleans. Marshaling
// maps by reflection was half the time of scoring a subject. Anything else
// (a number JSON cannot hold, a trait's nested object) reports false, for
// encoding/json to do. keys is room for sorting a map's keys.
func appendReasons(b []byte, res *Result, keys []string) ([]byte, []string, bool) {
	b = append(b, '[')
	for i, r := range res.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		b = append(b, `{"rule":`...)
		b = appendString(b, r.Rule)
		b = append(b, `,"label":`...)
		b = appendString(b, r.Label)
		b = append(b, `,"points":`...)
		if b, ok = appendFloat(b, r.Points); !ok {
			return b, keys, false
		}
		switch rule := res.ruleOf(i); {
		case rule != nil && len(rule.Signals) > 0:
			b = append(b, `,"signals":`...)
			b, ok = appendObject(b, rule.Signals, func(j int) any { return res.read[rule.at[j]] })
		case rule == nil && len(r.Signals) > 0:
			b = append(b, `,"signals":`...)
			b, keys, ok = appendValues(b, r.Signals, keys)
		}
		if !ok {
			return b, keys, false
		}
		b = append(b, '}')
	}
	return append(b, ']'), keys, true
}

func appendValues(b []byte, m map[string]any, keys []string) ([]byte, []string, bool) {
	if m == nil {
		return append(b, "null"...), keys, true
	}
	keys = keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b, ok := appendObject(b, keys, func(i int) any { return m[keys[i]] })
	return b, keys, ok
}

// appendObject writes names, sorted, with their values as encoding/json
// writes a map.
func appendObject(b []byte, names []string, value func(i int) any) ([]byte, bool) {
	b = append(b, '{')
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = appendValue(b, value(i)); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case float64:
		return appendFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		return appendString(b, x), true
	}
	return b, false
}

// appendFloat formats as encoding/json does: the shortest form that reads
// back the same, in exponent form only for very small or large numbers.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendString quotes s as is when nothing in it needs escaping, which is
// the rule for signal names and labels; otherwise encoding/json escapes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
