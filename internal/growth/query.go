package growth

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// QueryError is a metrics query parameter that cannot be read; it is an
// ErrQuery.
type QueryError struct{ Field, Message string }

func (e *QueryError) Error() string { return e.Field + ": " + e.Message }
func (e *QueryError) Unwrap() error { return ErrQuery }

// DefaultDays is the period a query without from covers.
const DefaultDays = 30

// ParseQuery reads a query from URL parameters: from and to as dates
// (2006-01-02, to excluded; to defaults to tomorrow, so that today is in,
// and from to DefaultDays before to), names as a comma-separated list, by
// as segment, cohort or channel.
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	q := Query{By: v.Get("by")}
	to, err := date(v, "to", now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1))
	if err != nil {
		return q, err
	}
	from, err := date(v, "from", to.AddDate(0, 0, -DefaultDays))
	if err != nil {
		return q, err
	}
	q.From, q.To = from, to
	for _, n := range strings.Split(v.Get("names"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			q.Names = append(q.Names, n)
		}
	}
	if err := q.Check(); err != nil {
		return q, &QueryError{Field: field(q, err), Message: strings.TrimPrefix(err.Error(), ErrQuery.Error()+": ")}
	}
	return q, nil
}

// field names the parameter a Check error is about.
func field(q Query, err error) string {
	msg := err.Error()
	for _, f := range []string{"names", "by"} {
		if strings.Contains(msg, ": "+f+" ") || strings.Contains(msg, ": "+f+":") {
			return f
		}
	}
	return "to"
}

func date(v url.Values, key string, def time.Time) (time.Time, error) {
	s := v.Get(key)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, &QueryError{Field: key, Message: fmt.Sprintf("%q: want a date, 2006-01-02", s)}
	}
	return t, nil
}

// ParsePeriod reads a query as people give a period, in the web app and
// the terminal: to is the last day shown, included (today by default),
// and from defaults to days before the day after it.
func ParsePeriod(v url.Values, now time.Time, days int) (Query, error) {
	w := url.Values{}
	for k, vs := range v {
		w[k] = vs
	}
	end, err := date(v, "to", now.UTC().Truncate(24*time.Hour))
	if err != nil {
		return Query{}, err
	}
	end = end.AddDate(0, 0, 1)
	w.Set("to", end.Format(time.DateOnly))
	if w.Get("from") == "" {
		w.Set("from", end.AddDate(0, 0, -days).Format(time.DateOnly))
	}
	return ParseQuery(w, now)
}
