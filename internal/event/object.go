package event

import (
	"bytes"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// ObjectDecoder decodes properties objects as Unmarshal into a
// map[string]any does, without reflection: replays decode millions, most of
// them a few numbers and strings, and setting map entries by reflection was
// most of the time. Objects with nested objects or arrays, or numbers a
// float64 cannot hold, are left to Unmarshal. The zero value is ready; it
// is not safe for concurrent use.
type ObjectDecoder struct {
	r bytes.Reader
	d jsontext.Decoder
}

// Decode decodes data, a JSON object or null.
func (o *ObjectDecoder) Decode(data []byte) (map[string]any, error) {
	if m, ok := o.flat(data); ok {
		return m, nil
	}
	var m map[string]any
	err := Unmarshal(data, &m)
	return m, err
}

// flat decodes an object of scalars, or reports false for Unmarshal to
// decode data, whatever it is.
func (o *ObjectDecoder) flat(data []byte) (map[string]any, bool) {
	o.r.Reset(data)
	o.d.Reset(&o.r, jsontext.AllowDuplicateNames(true))
	if tok, err := o.d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, false
	}
	m := map[string]any{}
	for o.d.PeekKind() != '}' {
		name, err := o.d.ReadToken()
		if err != nil {
			return nil, false
		}
		key := name.String() // the next read voids the token
		tok, err := o.d.ReadToken()
		if err != nil {
			return nil, false
		}
		var v any
		switch tok.Kind() {
		case 'n':
		case 'f', 't':
			v = tok.Bool()
		case '"':
			v = tok.String()
		case '0':
			f, err := tok.Float()
			if err != nil {
				return nil, false
			}
			v = f
		default: // an object or an array
			return nil, false
		}
		m[key] = v
	}
	if _, err := o.d.ReadToken(); err != nil {
		return nil, false
	}
	// Nothing but white space may follow.
	if _, err := o.d.ReadToken(); err != io.EOF {
		return nil, false
	}
	return m, true
}
