package identity

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// mergeTraits folds newer traits into current ones. The latest timestamp wins:
// traits from an older message only fill keys that are still missing, so a
// late-arriving old identify never overwrites a newer value.
func mergeTraits(cur map[string]any, curAt time.Time, raw json.RawMessage, at time.Time) (map[string]any, time.Time) {
	if len(raw) == 0 {
		return cur, curAt
	}
	var in map[string]any
	if json.Unmarshal(raw, &in) != nil || len(in) == 0 {
		return cur, curAt
	}
	if cur == nil {
		cur = map[string]any{}
	}
	newer := !at.Before(curAt)
	for k, v := range in {
		if _, has := cur[k]; newer || !has {
			cur[k] = v
		}
	}
	if newer {
		curAt = at
	}
	return cur, curAt
}

// str reads the first of keys that holds text or a number, as storable
// text (see Storable).
func str(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return Storable(s)
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
	}
	return ""
}

func number(m map[string]any, keys ...string) int {
	for _, k := range keys {
		switch v := m[k].(type) {
		case float64:
			return int(v)
		case string:
			if n, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(v), ",", "")); err == nil {
				return n
			}
		}
	}
	return 0
}

// companyName reads the company from user traits: Segment's spec has
// company as an object with a name, but many products send a plain string.
func companyName(traits map[string]any) string {
	if c, ok := traits["company"].(map[string]any); ok {
		return str(c, "name")
	}
	return str(traits, "company", "company_name", "companyName")
}

// accountDomains reads the domains a group call declares.
func accountDomains(traits map[string]any) []string {
	var out []string
	add := func(s string) {
		if d := NormalizeDomain(s); d != "" && !IsPersonalDomain(d) && !contains(out, d) {
			out = append(out, d)
		}
	}
	add(str(traits, "domain"))
	add(str(traits, "website"))
	if list, ok := traits["domains"].([]any); ok {
		for _, d := range list {
			add(fmt.Sprint(d))
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// PersonName reads a user's name from their traits as Segment's spec
// names it (name, else firstName and lastName), or the snake_case spelling
// some products send; "" if none.
func PersonName(traits map[string]any) string {
	if n := str(traits, "name", "full_name", "fullName"); n != "" {
		return n
	}
	first, last := str(traits, "firstName", "first_name"), str(traits, "lastName", "last_name")
	return strings.TrimSpace(first + " " + last)
}

// PersonTitle reads a user's job title from their traits; "" if none.
func PersonTitle(traits map[string]any) string {
	return str(traits, "title", "job_title", "jobTitle", "role")
}

// Storable makes text from events or imports storable in a column of its
// own on both engines: NUL (which PostgreSQL refuses in text, and which
// stopped the projection for good when one event carried it) and invalid
// UTF-8 become U+FFFD. The event as sent is kept whole in the log; only
// what identity derives from it is cleaned, the same way on SQLite, so that
// the two engines hold the same values.
func Storable(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
