package event

import (
	"reflect"
	"testing"
)

var objects = []string{
	`{}`, `null`, ` {"feature":"reports"} `, `{"calls":51,"month_to_date":1751}`, `{"a":true,"b":false,"c":null}`,
	`{"a":1,"a":2}`, `{"":true,"":""}`, `{"plan":1,"plan":"pro"}`, `{"a":{"x":1},"a":{"y":2}}`, `{"a":"s","a":null}`, `{"n":-0.5e-3,"s":"\u00e9\n"}`, `{"big":1e400}`, `{"list":[1,2]}`, `{"o":{"x":1}}`,
	`[1]`, `"s"`, `3`, `{"a":1}{}`, `{"a":1} x`, `{"a":}`, `{"a" 1}`, `{"a":1,}`, "{\"\xff\":1}", `{"a":"\xff"}`, ``, `{`,
}

// The decoder gives what Unmarshal gives, errors included.
func TestObjectDecoder(t *testing.T) {
	var o ObjectDecoder
	for _, in := range objects {
		checkObject(t, &o, []byte(in))
	}
}

func checkObject(t *testing.T, o *ObjectDecoder, data []byte) {
	t.Helper()
	var want map[string]any
	wantErr := Unmarshal(data, &want)
	got, err := o.Decode(data)
	if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v (%v), want %#v (%v)", data, got, err, want, wantErr)
	}
}

func FuzzObjectDecoder(f *testing.F) {
	for _, in := range objects {
		f.Add([]byte(in))
	}
	var o ObjectDecoder
	f.Fuzz(func(t *testing.T, data []byte) { checkObject(t, &o, data) })
}

func BenchmarkObjectDecoder(b *testing.B) {
	data := []byte(`{"calls":51,"month_to_date":1751}`)
	b.Run("flat", func(b *testing.B) {
		var o ObjectDecoder
		for b.Loop() {
			if _, err := o.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		for b.Loop() {
			var m map[string]any
			if err := Unmarshal(data, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
