package route

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// webhook posts each alert as JSON signed per the Standard Webhooks spec, so
// receivers verify it with any of that spec's libraries.
type webhook struct {
	url    string
	key    []byte
	client *http.Client
	ua     string
	pace   *pacer
	now    func() time.Time
}

const secretPrefix = "whsec_"

// decodeSecret reads a whsec_ secret: base64 of at least 24 bytes.
func decodeSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, secretPrefix))
	if err != nil || !strings.HasPrefix(s, secretPrefix) {
		return nil, errors.New("want whsec_ followed by base64 (beacon keys webhook-secret makes one)")
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("%d bytes of key: want at least 24", len(b))
	}
	return b, nil
}

// sign is the webhook-signature header of a message: HMAC-SHA256 over
// "id.timestamp.body", base64, versioned v1.
func sign(key []byte, id string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (w *webhook) Send(ctx context.Context, ds []store.Delivery) []error {
	return each(ctx, w.pace, ds, func(ctx context.Context, d store.Delivery) error {
		data, err := alertData(d)
		if err != nil {
			return &SendError{Permanent: true, Err: err}
		}
		// The body's timestamp is when the event happened (Standard
		// Webhooks); the header's, when this attempt was signed.
		now := w.now()
		body, err := json.Marshal(Message{Type: EventType, Timestamp: d.Alert.CreatedAt.UTC(), Data: data})
		if err != nil {
			return &SendError{Permanent: true, Err: err}
		}
		id := IdempotencyKey(d)
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", w.ua)
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		h.Set("webhook-signature", sign(w.key, id, now, body))
		h.Set("Idempotency-Key", id)
		return post(ctx, w.client, http.MethodPost, w.url, h, body, nil)
	})
}

// NewSecret returns a new random signing secret: whsec_ and 32 bytes in
// base64.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}
