package event

import (
	"encoding/json"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// unmarshal decodes JSON in one pass (the standard library validates a body
// in a separate pass before decoding it, and again for every nested message),
// with the leniency of Segment's API: names match case-insensitively and a
// repeated name is allowed, the last one winning. Invalid UTF-8 is refused:
// it could not be stored as text.
func unmarshal(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v, jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowDuplicateNames(true))
}

// Unmarshal decodes JSON Beacon took in (a stored body or part of one) as
// the collector read it: in one pass, names matched case-insensitively,
// the last of repeated names winning. Into a map (traits, properties), a
// repeated name's value replaces the first whatever its kind: v2 would
// merge into it, and fail on {"plan":1,"plan":"pro"}, which the collector
// took.
func Unmarshal(data []byte, v any) error {
	if _, isMap := v.(*map[string]any); isMap {
		return jsonv2.Unmarshal(data, v, jsonv2.MatchCaseInsensitiveNames(true), jsontext.AllowDuplicateNames(true),
			jsonv1.MergeWithLegacySemantics(true))
	}
	return unmarshal(data, v)
}

// BodyParts returns copies of the traits and properties of a stored message
// body, or nothing if it is not a JSON object. The last of repeated names
// wins, as unmarshal's.
func BodyParts(body []byte) (traits, properties json.RawMessage) {
	var r reader
	r.reset(body)
	ok, err := r.open("the message")
	if ok {
		err = r.members(func(m member) error {
			var into *json.RawMessage
			switch m {
			case mTraits:
				into = &traits
			case mProperties:
				into = &properties
			default:
				return r.dec.SkipValue()
			}
			v, err := r.dec.ReadValue()
			*into = json.RawMessage(v.Clone())
			return err
		})
	}
	if err == nil {
		err = r.end()
	}
	if err != nil || r.fault != nil {
		return nil, nil
	}
	return traits, properties
}
