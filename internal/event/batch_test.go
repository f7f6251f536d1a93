package event

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// sameBatch reports how got differs from want, "" if in nothing but the
// messageIds made up for messages without one.
func sameBatch(got, want Batch, gotErr, wantErr *Error) string {
	switch {
	case (gotErr == nil) != (wantErr == nil):
		return "one refused the request, the other did not"
	case gotErr != nil:
		if !sameError(gotErr, wantErr) {
			return "refused for another reason: " + gotErr.Message + " / " + wantErr.Message
		}
		return ""
	case got.WriteKey != want.WriteKey || len(got.Events) != len(want.Events) || len(got.Errors) != len(want.Errors):
		return "another write key, or other counts of events and errors"
	}
	for i, e := range got.Events {
		if d := sameEvent(e, want.Events[i]); d != "" {
			return fmt.Sprintf("event %d: %s", i, d)
		}
	}
	for i, e := range got.Errors {
		w := want.Errors[i]
		if *e.Index != *w.Index || !sameError(e, w) {
			return "another error for a message: " + e.Message + " / " + w.Message
		}
	}
	return ""
}

// sameError: of one kind and field, but for the field the reader names
// where unmarshal named none.
func sameError(got, want *Error) bool {
	return got.Kind == want.Kind && (got.Field == want.Field || (want.Kind == KindMalformed && want.Field == ""))
}

// sameEvent reports how got differs from want, "" if in nothing but a
// messageId made up for a message without one.
func sameEvent(got, want Event) string {
	made := strings.HasPrefix(got.MessageID, "beacon-") && strings.HasPrefix(want.MessageID, "beacon-")
	switch {
	case !bytes.Equal(got.Body, want.Body):
		return fmt.Sprintf("body %q, want %q", got.Body, want.Body)
	case got.MessageID != want.MessageID && !made:
		return fmt.Sprintf("messageId %q, want %q", got.MessageID, want.MessageID)
	case got.Type != want.Type || got.Name != want.Name || got.UserID != want.UserID || got.AnonymousID != want.AnonymousID ||
		got.GroupID != want.GroupID || got.PreviousID != want.PreviousID:
		return fmt.Sprintf("%+v, want %+v", got, want)
	case !got.Timestamp.Equal(want.Timestamp) || !got.OriginalTimestamp.Equal(want.OriginalTimestamp) ||
		!got.SentAt.Equal(want.SentAt) || !got.ReceivedAt.Equal(want.ReceivedAt):
		return "other times"
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
	`{"batch":[{"type":"track","user_id":"u","EVENT":"e","\u0074imestamp":"2026-01-01T00:00:00Z","conte\u0078t":{"GROUP-ID":9}}]}`,
	`{"batch":[{"type":"track","userId":"u","event":"e","context":{"groupId":"a"},"context":{"x":1}},{"type":"track","userId":"u","event":"e","context":{"groupId":"a"},"context":null}]}`,
	`{"batch":[{"type":"track","userId":"u","event":"e","properties":{},"properties":null},{"type":"track","userId":"u","event":"e","traits":5}]}`,
	`{"batch":[{"type":"track","userId":true,"event":"e"},{"type":7,"userId":"u"},{"type":"track","userId":1e999,"event":"e"},{"type":"track","userId":"u","event":"e","context":[]}]}`,
	`{"batch":[{"type":"track","userId":"u","event":"e","ſentAt":"2026-01-01T00:00:00Z","\u212Aey":1}],"sentAt":"2026-01-02T00:00:00Z"}`,
	`{"batch":[{"type":"track","userId":"u","event":"e"}],"sentAt":5}`, `{"batch":[],"writeKey":null}`, `null`, ` {"batch":[]} `,
	`{"batch":[{"type":"track","userId":"\ud800","event":"e"}]}`, `{"batch":[{"type":"track","userId":"\u00e9\n","event":"e"}]}{}`,
}

// The reader decodes every request as unmarshaling by reflection did,
// malformed ones included, and each event's body is its message as sent.
func TestDecodeBatchAsReference(t *testing.T) {
	for _, body := range append(batchSeeds, string(benchBody())) {
		got, gotErr := DecodeBatch([]byte(body), received)
		want, wantErr := refDecodeBatch([]byte(body), received)
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

func FuzzDecodeBatchAsReference(f *testing.F) {
	for _, s := range batchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := DecodeBatch(body, received)
		want, wantErr := refDecodeBatch(body, received)
		if wantErr == nil && len(want.Events)+len(want.Errors) > MaxBatchMessages {
			// The reference knows no bound on a batch's messages.
			if gotErr == nil || gotErr.Limit != MaxBatchMessages {
				t.Fatalf("a batch of %d messages: %v", len(want.Events)+len(want.Errors), gotErr)
			}
			return
		}
		if d := sameBatch(got, want, gotErr, wantErr); d != "" {
			t.Fatalf("%q: %s", body, d)
		}
	})
}

// A single call's message, and a line of an import, decode as the
// reference decodes them, whatever type the endpoint implies.
func FuzzDecodeAsReference(f *testing.F) {
	for _, s := range batchSeeds {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"userId":"u","event":"e","timestamp":"2026-01-01T00:00:00Z","sentAt":"2026-01-01T00:00:01Z"}`), Track)
	f.Add([]byte(`{"userId":"u","traits":{"email":"a@b.c"},"context":{"groupId":"g"}}`), Identify)
	f.Add([]byte(`{"anonymousId":"a","previousId":7} `), Alias)
	f.Fuzz(func(t *testing.T, raw []byte, typ string) {
		env := Envelope{ReceivedAt: received, SentAt: received.Add(-time.Second)}
		got, gotKey, gotErr := Decode(raw, typ, env)
		want, wantKey, wantErr := refDecode(raw, typ, env)
		if d := sameBatch(Batch{WriteKey: gotKey, Events: []Event{got}}, Batch{WriteKey: wantKey, Events: []Event{want}}, gotErr, wantErr); d != "" {
			t.Fatalf("%q as %q: %s", raw, typ, d)
		}
	})
}

// The write key read ahead of decoding is the one decoding finds, when
// both find one: the request's, or its first message's.
func FuzzWriteKey(f *testing.F) {
	for _, s := range batchSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"writeKey":"k1","batch":[{"type":"track","userId":"u","event":"e"}]}`))
	f.Add([]byte(`{"batch":[{"type":"track","userId":"u","event":"e","writeKey":"k2"}],"writeKey":"k3"}`))
	f.Add([]byte(`{"batch":[{"type":"track","writeKey":"k4","userId":"u","event":"e"},{"writeKey":"k5"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		key := WriteKey(body)
		b, err := DecodeBatch(body, received)
		if err == nil && key != "" && b.WriteKey != "" && key != b.WriteKey {
			t.Fatalf("%q: read ahead %q, decoded %q", body, key, b.WriteKey)
		}
	})
}

func TestWriteKey(t *testing.T) {
	for body, want := range map[string]string{
		`{"writeKey":"k1","batch":[{"writeKey":"k2"}]}`:  "k1",
		`{"batch":[{"type":"track","writeKey":"k2"}]}`:   "k2",
		`{"batch":[{"type":"track"},{"writeKey":"k3"}]}`: "",
		`{"batch":[],"writeKey":"k4"}`:                   "k4",
		`{"batch":[{"writeKey":"k2"}],"writeKey":"k3"}`:  "k3",
		`{"type":"track","write_key":"k5","userId":"u"}`: "k5",
		`{"context":{"writeKey":"no"},"writeKey":"k6"}`:  "k6",
		`not json`:       "",
		`{"writeKey":7}`: "",
	} {
		if got := WriteKey([]byte(body)); got != want {
			t.Errorf("WriteKey(%s) = %q, want %q", body, got, want)
		}
	}
}
