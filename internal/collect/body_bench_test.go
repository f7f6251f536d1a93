package collect

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkReadBody reads a batch of 100 events of 600 bytes, as the
// ingest benchmark sends them.
func BenchmarkReadBody(b *testing.B) {
	body := []byte(`{"batch":[` + strings.Repeat(`{"type":"track","event":"`+strings.Repeat("x", 570)+`"},`, 99) +
		`{"type":"track"}]}`)
	c := New(Deps{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/batch", bytes.NewReader(body))
		got, p := c.readBody(httptest.NewRecorder(), r)
		if p != nil || len(got) != len(body) {
			b.Fatalf("read %d bytes, %v", len(got), p)
		}
	}
}
