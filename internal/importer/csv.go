package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Mapping says which CSV column fills which message field: keys are message
// fields ("userId", "event", "properties.plan"), values column names.
type Mapping map[string]string

// ParseMapping reads FIELD=COLUMN pairs.
func ParseMapping(pairs []string) (Mapping, error) {
	m := Mapping{}
	for _, p := range pairs {
		field, col, ok := strings.Cut(p, "=")
		if !ok || field == "" || col == "" {
			return nil, fmt.Errorf("mapping %q: want FIELD=COLUMN, e.g. userId=user_id", p)
		}
		m[field] = col
	}
	return m, nil
}

var topFields = map[string]bool{
	"type": true, "messageId": true, "userId": true, "anonymousId": true, "groupId": true, "previousId": true,
	"event": true, "name": true, "timestamp": true, "sentAt": true, "originalTimestamp": true,
}

// CSV imports rows as messages. A column named like a message field fills it;
// a column named properties.X, traits.X or context.X fills that key; mapping
// overrides both. Rows without a type are of defaultType.
func CSV(ctx context.Context, r io.Reader, mapping Mapping, defaultType string, sink Sink) (Summary, error) {
	l := &loader{ctx: ctx, sink: sink, now: time.Now().UTC()}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return l.sum, fmt.Errorf("csv header: %w", err)
	}
	fields, err := fieldsOf(header, mapping)
	if err != nil {
		return l.sum, err
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			l.sum.Rows++
			l.sum.reject(perr.Line, "malformed_csv", perr.Err.Error())
			continue
		}
		if err != nil {
			return l.sum, err
		}
		line, _ := cr.FieldPos(0)
		if err := l.add(line, marshal(rowMessage(rec, fields, defaultType))); err != nil {
			return l.sum, err
		}
	}
	return l.sum, l.flush()
}

// fieldsOf gives, for each column, the message field path it fills ("" for none).
func fieldsOf(header []string, mapping Mapping) ([]string, error) {
	fields := make([]string, len(header))
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		index[h] = i
		if topFields[h] || strings.HasPrefix(h, "properties.") || strings.HasPrefix(h, "traits.") || strings.HasPrefix(h, "context.") {
			fields[i] = h
		}
	}
	for field, col := range mapping {
		i, ok := index[col]
		if !ok {
			return nil, fmt.Errorf("mapping %s=%s: the CSV has no column %q", field, col, col)
		}
		fields[i] = field
	}
	return fields, nil
}

func rowMessage(rec, fields []string, defaultType string) map[string]any {
	m := map[string]any{"type": defaultType}
	for i, f := range fields {
		if f == "" || i >= len(rec) || rec[i] == "" {
			continue
		}
		parent, key, nested := strings.Cut(f, ".")
		if !nested {
			m[f] = rec[i]
			continue
		}
		obj, _ := m[parent].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			m[parent] = obj
		}
		obj[key] = scalar(rec[i])
	}
	return m
}

// scalar keeps numbers and booleans typed, as an SDK would have sent them.
func scalar(s string) any {
	if n, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXeE") {
		return n
	}
	if b, err := strconv.ParseBool(s); err == nil && len(s) > 1 {
		return b
	}
	return s
}
