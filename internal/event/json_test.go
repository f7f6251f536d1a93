package event

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func TestBodyParts(t *testing.T) {
	tests := []struct {
		name, body         string
		traits, properties string
	}{
		{"track", `{"type":"track","properties":{"plan":"team","n":2},"context":{"traits":{"x":1}}}`, "", `{"plan":"team","n":2}`},
		{"identify", `{"type":"identify","traits":{"email":"a@b.c"}}`, `{"email":"a@b.c"}`, ""},
		{"names match whatever their case, as Segment's API", `{"Traits":{"a":1},"PROPERTIES":{"b":2}}`, `{"a":1}`, `{"b":2}`},
		{"a repeated name: the last wins", `{"properties":{"a":1},"properties":{"a":2}}`, "", `{"a":2}`},
		{"not an object", `[1,2]`, "", ""},
		{"not JSON", `{"properties":`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			traits, props := BodyParts(body)
			clear(body) // the parts are copies: a driver reuses its buffer
			if string(traits) != tc.traits || string(props) != tc.properties {
				t.Fatalf("BodyParts(%s) = %s, %s; want %q, %q", tc.body, traits, props, tc.traits, tc.properties)
			}
		})
	}
}

// refBodyParts is BodyParts as unmarshaling by reflection read it.
func refBodyParts(body []byte) (traits, properties json.RawMessage) {
	var parts struct {
		Traits     jsontext.Value `json:"traits"`
		Properties jsontext.Value `json:"properties"`
	}
	if unmarshal(body, &parts) != nil {
		return nil, nil
	}
	return json.RawMessage(parts.Traits), json.RawMessage(parts.Properties)
}

// FuzzBodyParts: no stored body crashes it, what it returns is JSON, and
// it is what unmarshaling by reflection returned.
func FuzzBodyParts(f *testing.F) {
	for _, seed := range []string{`{"properties":{"a":[1,{"b":null}]},"traits":{}}`, `{"traits":"x"}`, `null`, `{"properties":{}`,
		`{"Properties":{"a":1},"pro_perties":null,"TRAITS":[1]} `, `{"traits":{}}{}`, `{"context":{"traits":{"a":1}}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		traits, props := BodyParts(body)
		for _, part := range []json.RawMessage{traits, props} {
			if part != nil && !json.Valid(part) {
				t.Fatalf("BodyParts(%q) gave %q, not JSON", body, part)
			}
		}
		if wt, wp := refBodyParts(body); !bytes.Equal(traits, wt) || !bytes.Equal(props, wp) {
			t.Fatalf("BodyParts(%q) = %q, %q; want %q, %q", body, traits, props, wt, wp)
		}
	})
}
