package sim

import (
	"fmt"
	"strconv"
	"time"
)

// props is an ordered list of key, value pairs: a map would not encode in a
// stable order, and the same seed must give the same bytes.
type props []any

// Messages are written by hand rather than through encoding/json: the
// simulator must write a million events a second.
func (g *dayGen) message(typ string, u User, at time.Time, build func(b []byte) []byte) {
	g.n++
	b := make([]byte, 0, 384)
	b = append(b, `{"type":"`...)
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
		b = strconv.AppendQuote(b, u.ID)
	}
	if u.AnonymousID != "" {
		b = append(b, `,"anonymousId":`...)
		b = strconv.AppendQuote(b, u.AnonymousID)
	}
	b = append(b, `,"timestamp":"`...)
	b = at.AppendFormat(b, "2006-01-02T15:04:05Z")
	b = append(b, '"')
	b = build(b)
	b = append(b, '}')
	g.out = append(g.out, line{at: at, json: b})
}

func (g *dayGen) track(u User, event string, at time.Time, p props) {
	g.message("track", u, at, func(b []byte) []byte {
		b = append(b, `,"event":`...)
		b = strconv.AppendQuote(b, event)
		b = appendObject(b, "properties", p)
		if g.a.GroupID != "" && u.ID != "" {
			b = append(b, `,"context":{"groupId":`...)
			b = strconv.AppendQuote(b, g.a.GroupID)
			b = append(b, '}')
		}
		return b
	})
}

func (g *dayGen) page(u User, name string, at time.Time) {
	g.message("page", u, at, func(b []byte) []byte {
		b = append(b, `,"name":`...)
		b = strconv.AppendQuote(b, name)
		return appendObject(b, "properties", props{"path", "/" + name})
	})
}

func (g *dayGen) identify(u User, at time.Time, traits props) {
	g.message("identify", u, at, func(b []byte) []byte { return appendObject(b, "traits", traits) })
}

func (g *dayGen) group(u User, at time.Time, traits props) {
	g.message("group", u, at, func(b []byte) []byte {
		b = append(b, `,"groupId":`...)
		b = strconv.AppendQuote(b, g.a.GroupID)
		return appendObject(b, "traits", traits)
	})
}

func appendObject(b []byte, key string, p props) []byte {
	if len(p) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":{`...)
	for i := 0; i+1 < len(p); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, p[i].(string))
		b = append(b, ':')
		switch v := p[i+1].(type) {
		case string:
			b = strconv.AppendQuote(b, v)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case bool:
			b = strconv.AppendBool(b, v)
		default:
			panic(fmt.Sprintf("sim: property %v of type %T", v, v))
		}
	}
	return append(b, '}')
}
