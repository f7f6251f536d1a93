package sim

import (
	"strconv"
	"time"
)

// kv is one property or trait. Properties are an ordered list rather than a
// map so that the same seed encodes to the same bytes.
type kv struct {
	k    string
	s    string
	n    int
	kind byte // 's', 'n' or 'b' (n is 0 or 1)
}

func str(k, v string) kv     { return kv{k: k, s: v, kind: 's'} }
func num(k string, v int) kv { return kv{k: k, n: v, kind: 'n'} }
func flag(k string, v bool) kv {
	if v {
		return kv{k: k, n: 1, kind: 'b'}
	}
	return kv{k: k, kind: 'b'}
}

// Messages are written by hand into the day's arena rather than through
// encoding/json: the simulator must write a million events a second.
func (g *dayGen) begin(typ string, u User, at time.Time) {
	g.n++
	g.start = len(g.buf)
	b := append(g.buf, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","messageId":"sim-`...)
	b = strconv.AppendUint(b, g.p.Seed, 10)
	b = append(b, '-')
	if g.a.GroupID == "" {
		b = append(b, 'v') // anonymous visitors, who belong to no account
	} else {
		b = strconv.AppendInt(b, int64(g.a.Index), 10)
	}
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(g.d), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(g.n), 10)
	b = append(b, '"')
	if u.ID != "" {
		b = append(b, `,"userId":`...)
		b = quote(b, u.ID)
	}
	if u.AnonymousID != "" {
		b = append(b, `,"anonymousId":`...)
		b = quote(b, u.AnonymousID)
	}
	b = append(b, `,"timestamp":"`...)
	b = at.AppendFormat(b, "2006-01-02T15:04:05Z")
	g.buf = append(b, '"')
	g.at0 = at.Unix()
}

func (g *dayGen) end() {
	g.buf = append(g.buf, '}')
	g.lines = append(g.lines, line{at: g.at0, from: g.start, to: len(g.buf)})
}

func (g *dayGen) track(u User, event string, at time.Time, p ...kv) {
	g.begin("track", u, at)
	g.buf = append(g.buf, `,"event":`...)
	g.buf = quote(g.buf, event)
	g.buf = appendObject(g.buf, "properties", p)
	if g.a.GroupID != "" && u.ID != "" {
		g.buf = append(g.buf, `,"context":{"groupId":`...)
		g.buf = quote(g.buf, g.a.GroupID)
		g.buf = append(g.buf, '}')
	}
	g.end()
}

func (g *dayGen) page(u User, name string, at time.Time) {
	g.begin("page", u, at)
	g.buf = append(g.buf, `,"name":`...)
	g.buf = quote(g.buf, name)
	g.buf = append(g.buf, `,"properties":{"path":"/`...)
	g.buf = append(g.buf, name...)
	g.buf = append(g.buf, `"}`...)
	g.end()
}

func (g *dayGen) identify(u User, at time.Time, traits ...kv) {
	g.begin("identify", u, at)
	g.buf = appendObject(g.buf, "traits", traits)
	g.end()
}

func (g *dayGen) group(u User, at time.Time, traits ...kv) {
	g.begin("group", u, at)
	g.buf = append(g.buf, `,"groupId":`...)
	g.buf = quote(g.buf, g.a.GroupID)
	g.buf = appendObject(g.buf, "traits", traits)
	g.end()
}

// quote appends s as a JSON string. The simulator's strings are plain
// ASCII; anything else goes through strconv.
func quote(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendObject(b []byte, key string, p []kv) []byte {
	if len(p) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":{`...)
	for i, f := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = quote(b, f.k)
		b = append(b, ':')
		switch f.kind {
		case 's':
			b = quote(b, f.s)
		case 'n':
			b = strconv.AppendInt(b, int64(f.n), 10)
		default:
			b = strconv.AppendBool(b, f.n == 1)
		}
	}
	return append(b, '}')
}
