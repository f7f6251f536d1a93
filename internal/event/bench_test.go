package event

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

func benchBody() []byte {
	var msgs []string
	for i := 0; i < 100; i++ {
		msgs = append(msgs, fmt.Sprintf(`{"type":"track","messageId":"8c1f6a2e-1b1d-4c59-9a57-%012d","userId":"user-%d","anonymousId":"anon-%d","event":"Report Viewed","timestamp":"2026-11-23T08:00:00.123Z","properties":{"plan":"team","feature":"reports","project_id":"prj-3","duration_ms":1234,"items":7},"context":{"groupId":"ws-12","library":{"name":"analytics.js","version":"2.11.1"},"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36","page":{"path":"/app/projects","url":"https://app.example.com/app/projects"}}}`, i, i, i))
	}
	return []byte(`{"sentAt":"2026-11-23T08:00:01Z","batch":[` + strings.Join(msgs, ",") + `]}`)
}

// DecodeBatch as it is and as it was, unmarshaling by reflection
// (refDecodeBatch), in one run.
func BenchmarkDecodeBatch(b *testing.B) {
	body := benchBody()
	for _, c := range []struct {
		name   string
		decode func([]byte, time.Time) (Batch, *Error)
	}{{"reader", DecodeBatch}, {"reflection", refDecodeBatch}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				bt, err := c.decode(body, time.Now())
				if err != nil || len(bt.Events) != 100 {
					b.Fatal(err, bt.Errors)
				}
			}
		})
	}
}

// Finding a batch's write key ahead of decoding it, with the key after the
// batch (the whole body read): what authenticating first adds for a key in
// the body, against BenchmarkDecodeBatch.
func BenchmarkWriteKey(b *testing.B) {
	body := append(bytes.TrimSuffix(benchBody(), []byte("}")), `,"writeKey":"bk_w_key"}`...)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if WriteKey(body) != "bk_w_key" {
			b.Fatal("no key")
		}
	}
}
