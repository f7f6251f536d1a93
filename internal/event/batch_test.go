package event

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeBatchCopying is DecodeBatch as it was before messages were sliced
// from the body: each read into a value of its own, then decoded alike.
func decodeBatchCopying(body []byte, receivedAt time.Time) (Batch, *Error) {
	var w struct {
		Batch    []jsontext.Value `json:"batch"`
		SentAt   string           `json:"sentAt"`
		WriteKey string           `json:"writeKey"`
	}
	if err := unmarshal(body, &w); err != nil {
		return Batch{}, malformed(err)
	}
	if w.Batch == nil {
		return Batch{}, missing("batch", "a batch request needs a batch array")
	}
	raws := make([][]byte, len(w.Batch))
	for i, v := range w.Batch {
		raws[i] = v
	}
	return decodeMessages(raws, w.SentAt, w.WriteKey, receivedAt)
}

// sameBatch reports how got differs from want, "" if in nothing but the
// messageIds made up for messages without one.
func sameBatch(got, want Batch, gotErr, wantErr *Error) string {
	switch {
	case (gotErr == nil) != (wantErr == nil):
		return "one refused the request, the other did not"
	case gotErr != nil:
		if gotErr.Kind != wantErr.Kind || gotErr.Field != wantErr.Field {
			return "refused for another reason: " + gotErr.Message + " / " + wantErr.Message
		}
		return ""
	case got.WriteKey != want.WriteKey || len(got.Events) != len(want.Events) || len(got.Errors) != len(want.Errors):
		return "another write key, or other counts of events and errors"
	}
	for i, e := range got.Events {
		w := want.Events[i]
		if !bytes.Equal(e.Body, w.Body) || e.Type != w.Type || e.UserID != w.UserID || e.AnonymousID != w.AnonymousID ||
			e.GroupID != w.GroupID || !e.Timestamp.Equal(w.Timestamp) || e.Name != w.Name {
			return "another event"
		}
	}
	for i, e := range got.Errors {
		w := want.Errors[i]
		if *e.Index != *w.Index || e.Kind != w.Kind || e.Field != w.Field {
			return "another error for a message"
		}
	}
	return ""
}

var batchSeeds = []string{
	`{"batch":[{"type":"track","userId":"u","event":"e"}]}`,
	`{"batch":[{"type":"identify","userId":1,"traits":{"email":"a@b.c"}}],"sentAt":"2026-01-01T00:00:00Z"}`,
	`{"batch":[{"type":"group","anonymousId":"a","groupId":7,"timestamp":"2026-01-01"}]}`,
	`{"batch":[{"type":"alias","userId":"u","previousId":"a"},{}]}`,
	`{"writeKey":"k","batch":[null,1,"x",[]]}`,
	`{"batch":[{"type":"track","userId":"u","event":"e","timestamp":"2026-13-45T99:00:00Z"}]}`,
	`{"batch":[{"type":"page","userId":"\u0000","properties":null,"context":{"groupId":null}}]}`,
	`{"Batch":[{"type":"track","userId":"u","event":"a"}],"BATCH" : [ {"type":"track","userId":"u","event":"b"} , {"type":"track"} ] }`,
	`{"batch":null}`, `{"batch":{}}`, `{"batch":"x"}`, `{"batch":[1,]}`, `{"batch":[]}trailing`, `[]`, `{}`,
	`{"sent_at":"2026-01-01T00:00:00Z","write-key":"k","batch":[{"type":"track","userId":"u","event":"e"}]}`,
}

// Slicing messages from the body decodes every request as reading each into
// a value of its own did, malformed ones included, and each event's body is
// its message as sent.
func TestDecodeBatchSlicesAsCopying(t *testing.T) {
	for _, body := range append(batchSeeds, string(benchBody())) {
		got, gotErr := DecodeBatch([]byte(body), received)
		want, wantErr := decodeBatchCopying([]byte(body), received)
		if d := sameBatch(got, want, gotErr, wantErr); d != "" {
			t.Errorf("%s: %s", body, d)
		}
	}
	body := benchBody()
	b, err := DecodeBatch(body, received)
	if err != nil || len(b.Events) != 100 {
		t.Fatalf("%v %v", err, b.Errors)
	}
	for i, e := range b.Events {
		if !bytes.Contains(body, e.Body) || e.Body[0] != '{' || e.Body[len(e.Body)-1] != '}' || cap(e.Body) != len(e.Body) {
			t.Fatalf("event %d's body is not its message, or runs past it: %q", i, e.Body)
		}
	}
}

func FuzzDecodeBatchSlicesAsCopying(f *testing.F) {
	for _, s := range batchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := DecodeBatch(body, received)
		want, wantErr := decodeBatchCopying(body, received)
		if d := sameBatch(got, want, gotErr, wantErr); d != "" {
			t.Fatalf("%q: %s", body, d)
		}
	})
}
