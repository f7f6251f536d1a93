package event

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// finite refuses a message holding a number no float64 holds (1e999999):
// JSON allows it, but it would be stored as written and served to readers
// whose parsers make it infinite or fail on it. The field is named as a
// path from the message's root (properties.amount, context.screen.width).
func finite(raw []byte) *Error {
	if !mayOverflow(raw) {
		return nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	for {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil // read whole before: only the end is left
		}
		if tok.Kind() != '0' {
			continue
		}
		f, err := strconv.ParseFloat(tok.String(), 64)
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			field := strings.ReplaceAll(strings.TrimPrefix(string(dec.StackPointer()), "/"), "/", ".")
			return invalid(field, field+" is "+tok.String()+": a number beyond what a 64-bit float holds")
		}
	}
}

// mayOverflow is a quick look for what could be a number too large for a
// float64, in a message or its text alike: an exponent of three digits or
// more, or a run of over 308 digits. Almost no message has one, and only
// those that do are read again by finite. It costs about 0.6 ns a byte
// (docs/benchmarks.md).
func mayOverflow(raw []byte) bool {
	run := 0
	for i, c := range raw {
		switch {
		case c >= '0' && c <= '9':
			if run++; run > 308 {
				return true
			}
			continue
		case c == 'e' || c == 'E':
			j := i + 1
			if j < len(raw) && (raw[j] == '+' || raw[j] == '-') {
				j++
			}
			k := j
			for k < len(raw) && k-j < 3 && raw[k] >= '0' && raw[k] <= '9' {
				k++
			}
			if k-j >= 3 {
				return true
			}
		}
		run = 0
	}
	return false
}
