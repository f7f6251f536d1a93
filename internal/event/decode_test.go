package event

import (
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func TestDecodeValidation(t *testing.T) {
	tests := []struct {
		name, typ, body string
		kind, field     string
	}{
		{"track ok", "track", `{"userId":"u","event":"Signed Up"}`, "", ""},
		{"anonymous only", "page", `{"anonymousId":"a"}`, "", ""},
		{"numeric user id", "identify", `{"userId":42}`, "", ""},
		{"no ids", "track", `{"event":"x"}`, KindMissing, "userId"},
		{"track without event", "track", `{"userId":"u"}`, KindMissing, "event"},
		{"group without groupId", "group", `{"userId":"u"}`, KindMissing, "groupId"},
		{"alias without previousId", "alias", `{"userId":"u"}`, KindMissing, "previousId"},
		{"type from body", "", `{"type":"screen","userId":"u"}`, "", ""},
		{"no type", "", `{"userId":"u"}`, KindMissing, "type"},
		{"unknown type", "", `{"type":"purchase","userId":"u"}`, KindBadType, "type"},
		{"bad timestamp", "track", `{"userId":"u","event":"e","timestamp":"yesterday"}`, KindBadField, "timestamp"},
		{"bad sentAt", "track", `{"userId":"u","event":"e","sentAt":"soon"}`, KindBadField, "sentAt"},
		{"traits not an object", "identify", `{"userId":"u","traits":[1]}`, KindBadField, "traits"},
		{"properties not an object", "track", `{"userId":"u","event":"e","properties":"x"}`, KindBadField, "properties"},
		{"user id an object", "track", `{"userId":{"a":1},"event":"e"}`, KindMalformed, "userId"},
		{"type a number", "", `{"type":7,"userId":"u"}`, KindMalformed, "type"},
		{"context an array", "track", `{"userId":"u","event":"e","context":[]}`, KindMalformed, "context"},
		{"malformed", "track", `{"userId":`, KindMalformed, ""},
		{"NUL in an id", "track", `{"userId":"a\u0000b","event":"e"}`, KindBadField, "userId"},
		{"userId at the limit", "track", `{"userId":"` + strings.Repeat("u", MaxIDBytes) + `","event":"e"}`, "", ""},
		{"userId over the limit", "track", `{"userId":"` + strings.Repeat("u", MaxIDBytes+1) + `","event":"e"}`, KindBadField, "userId"},
		{"anonymousId over the limit", "page", `{"anonymousId":"` + strings.Repeat("a", 10000) + `"}`, KindBadField, "anonymousId"},
		{"groupId over the limit", "group", `{"userId":"u","groupId":"` + strings.Repeat("g", MaxIDBytes+1) + `"}`, KindBadField, "groupId"},
		{"previousId over the limit", "alias", `{"userId":"u","previousId":"` + strings.Repeat("p", MaxIDBytes+1) + `"}`, KindBadField, "previousId"},
		{"messageId over the limit", "track", `{"userId":"u","event":"e","messageId":"` + strings.Repeat("m", MaxIDBytes+1) + `"}`, KindBadField, "messageId"},
		{"event name over the limit", "track", `{"userId":"u","event":"` + strings.Repeat("e", 3900) + `"}`, KindBadField, "event"},
		{"page name over the limit", "page", `{"userId":"u","name":"` + strings.Repeat("n", MaxIDBytes+1) + `"}`, KindBadField, "name"},
		{"a property beyond a float64", "track", `{"userId":"u","event":"e","properties":{"a":{"amount":1e999999}}}`, KindBadField, "properties.a.amount"},
		{"a trait beyond a float64", "identify", `{"userId":"u","traits":{"n":-1E+400}}`, KindBadField, "traits.n"},
		{"context beyond a float64", "page", `{"userId":"u","context":{"screen":{"width":[1,2,` + strings.Repeat("9", 400) + `]}}}`, KindBadField, "context.screen.width.2"},
		{"a tiny number is zero, not refused", "track", `{"userId":"u","event":"e","properties":{"p":1e-999999,"q":1.5e300,"t":"e999 in text"}}`, "", ""},
		{"too large", "track", `{"userId":"u","event":"e","properties":{"p":"` + strings.Repeat("x", MaxMessageBytes) + `"}}`, KindTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, err := Decode([]byte(tc.body), tc.typ, Envelope{ReceivedAt: received})
			if tc.kind == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if e.MessageID == "" || e.Timestamp.IsZero() {
					t.Fatalf("decoded event lacks id or time: %+v", e)
				}
				return
			}
			if err == nil || err.Kind != tc.kind || err.Field != tc.field {
				t.Fatalf("error = %+v, want kind %s field %q", err, tc.kind, tc.field)
			}
			if tc.kind == KindTooLarge && err.Limit != MaxMessageBytes {
				t.Fatalf("too-large error does not name the limit: %+v", err)
			}
			if strings.Contains(tc.name, "over the limit") && (err.Limit != MaxIDBytes || !strings.Contains(err.Message, "256")) {
				t.Fatalf("an over-long id's error does not name the limit: %+v", err)
			}
		})
	}
}

// Segment: "timestamp = receivedAt − (sentAt − originalTimestamp)" corrects a
// device clock that is wrong; without sentAt the given timestamp stands.
func TestClockSkew(t *testing.T) {
	tests := []struct {
		name, body string
		want       time.Time
	}{
		{"device clock 1 h fast, sent 2 s after the event",
			`{"userId":"u","event":"e","timestamp":"2026-07-01T13:00:00Z","sentAt":"2026-07-01T13:00:02Z"}`,
			received.Add(-2 * time.Second)},
		{"originalTimestamp field", `{"userId":"u","event":"e","originalTimestamp":"2026-07-01T10:59:00Z","sentAt":"2026-07-01T11:00:00Z"}`,
			received.Add(-time.Minute)},
		{"no sentAt: timestamp kept", `{"userId":"u","event":"e","timestamp":"2026-06-30T08:00:00+02:00"}`,
			time.Date(2026, 6, 30, 6, 0, 0, 0, time.UTC)},
		{"no timestamp: receivedAt", `{"userId":"u","event":"e"}`, received},
		{"a clock reset to 1970, corrected", `{"userId":"u","event":"e","timestamp":"1970-01-01T00:00:05Z","sentAt":"1970-01-01T00:00:10Z"}`,
			received.Add(-5 * time.Second)},
		{"year 9999: receivedAt", `{"userId":"u","event":"e","timestamp":"9999-12-31T00:00:00Z"}`, received},
		{"year 0001: receivedAt", `{"userId":"u","event":"e","timestamp":"0001-01-01T00:00:00Z"}`, received},
		{"before 2000: receivedAt", `{"userId":"u","event":"e","timestamp":"1999-12-31T23:59:59Z"}`, received},
		{"a day ahead is taken", `{"userId":"u","event":"e","timestamp":"2026-07-02T11:59:59Z"}`, received.Add(24*time.Hour - time.Second)},
		{"more than a day ahead: receivedAt", `{"userId":"u","event":"e","timestamp":"2026-07-02T12:00:01Z"}`, received},
		{"a gap no duration holds: no correction, then receivedAt",
			`{"userId":"u","event":"e","timestamp":"9999-01-01T00:00:00Z","sentAt":"0002-01-01T00:00:00Z"}`, received},
		{"skew corrected past the future bound: receivedAt",
			`{"userId":"u","event":"e","timestamp":"2026-07-01T11:00:00Z","sentAt":"2020-07-01T11:00:00Z"}`, received},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, _, err := Decode([]byte(tc.body), Track, Envelope{ReceivedAt: received})
			if err != nil {
				t.Fatal(err)
			}
			if !e.Timestamp.Equal(tc.want) {
				t.Fatalf("timestamp = %v, want %v", e.Timestamp, tc.want)
			}
			if !e.ReceivedAt.Equal(received) {
				t.Fatalf("receivedAt = %v", e.ReceivedAt)
			}
		})
	}
	// A batch's sentAt applies to messages that carry none.
	b, err := DecodeBatch([]byte(`{"sentAt":"2026-07-01T13:00:05Z","batch":[
		{"type":"track","userId":"u","event":"e","timestamp":"2026-07-01T13:00:00Z"}]}`), received)
	if err != nil || len(b.Events) != 1 || !b.Events[0].Timestamp.Equal(received.Add(-5*time.Second)) {
		t.Fatalf("batch sentAt: %+v %v", b, err)
	}
}

func TestDecodeBatch(t *testing.T) {
	b, err := DecodeBatch([]byte(`{"writeKey":"k","batch":[
		{"type":"track","userId":"u","event":"ok","messageId":"1"},
		{"type":"track","userId":"u"},
		{"type":"identify","anonymousId":"a","messageId":"3","context":{"groupId":"ws"}},
		"not an object"]}`), received)
	if err != nil {
		t.Fatal(err)
	}
	if b.WriteKey != "k" || len(b.Events) != 2 || len(b.Errors) != 2 {
		t.Fatalf("batch = %+v", b)
	}
	if *b.Errors[0].Index != 1 || b.Errors[0].Field != "event" || *b.Errors[1].Index != 3 {
		t.Fatalf("errors must name their index: %+v %+v", b.Errors[0], b.Errors[1])
	}
	if b.Events[1].GroupID != "ws" {
		t.Fatalf("context.groupId not read: %+v", b.Events[1])
	}
	for _, body := range []string{`[]`, `{"batch":"x"}`, `{}`} {
		if _, err := DecodeBatch([]byte(body), received); err == nil {
			t.Errorf("DecodeBatch(%s) accepted a bad envelope", body)
		}
	}
}

// FuzzDecodeBatch: no input crashes the decoder, and whatever it accepts is a
// valid event.
func FuzzDecodeBatch(f *testing.F) {
	for _, seed := range batchSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := DecodeBatch(body, received)
		if err != nil {
			if err.Message == "" {
				t.Fatal("error without a message")
			}
			return
		}
		for _, e := range b.Events {
			if e.MessageID == "" || (e.UserID == "" && e.AnonymousID == "") || e.Timestamp.IsZero() {
				t.Fatalf("accepted an invalid event: %+v", e)
			}
			if e.Type == Track && e.Name == "" {
				t.Fatalf("accepted a track without event: %+v", e)
			}
		}
		for _, one := range []string{Track, Identify, Group} {
			_, _ = DecodeOne(body, one, received)
		}
	})
}
