// Package keys owns write keys and admin tokens: making them, storing only
// their SHA-256 hash, and checking a presented secret in constant time.
package keys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/beaconplg/beacon/internal/store"
)

// ErrUnauthorized means the secret is missing, unknown, or of the wrong kind.
var ErrUnauthorized = errors.New("unauthorized")

// Store is what keys need from storage.
type Store interface {
	CreateKey(ctx context.Context, k store.Key) (store.Key, error)
	KeyByHash(ctx context.Context, hash []byte) (store.Key, error)
}

var prefixes = map[string]string{store.WriteKey: "bk_w_", store.AdminKey: "bk_a_"}

// Hash is how a secret is kept. Secrets carry 256 random bits, so a fast hash
// is enough: there is nothing to brute-force.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Create makes a new key of kind, stores its hash and returns the secret,
// which is never stored and cannot be shown again.
func Create(ctx context.Context, db Store, kind, name string) (string, error) {
	prefix, ok := prefixes[kind]
	if !ok {
		return "", fmt.Errorf("key kind %q: want write or admin", kind)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	_, err := db.CreateKey(ctx, store.Key{Kind: kind, Name: name, Hash: Hash(secret), Prefix: secret[:len(prefix)+4]})
	return secret, err
}

// Checker verifies presented secrets, remembering good ones briefly so the hot
// ingest path does not query the store per request.
type Checker struct {
	db  Store
	ttl time.Duration

	mu    sync.Mutex
	known map[string]cached
}

type cached struct {
	kind    string
	expires time.Time
}

// NewChecker returns a Checker over db.
func NewChecker(db Store) *Checker {
	return &Checker{db: db, ttl: 30 * time.Second, known: map[string]cached{}}
}

// Check returns nil if secret is a stored key of kind.
func (c *Checker) Check(ctx context.Context, secret, kind string) error {
	if secret == "" || !strings.HasPrefix(secret, prefixes[kind]) {
		return ErrUnauthorized
	}
	h := Hash(secret)
	c.mu.Lock()
	hit, ok := c.known[string(h)]
	c.mu.Unlock()
	if ok && time.Now().Before(hit.expires) {
		return kindMatches(hit.kind, kind)
	}
	k, err := c.db.KeyByHash(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthorized
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(k.Hash, h) != 1 {
		return ErrUnauthorized
	}
	c.mu.Lock()
	if len(c.known) > 10000 {
		clear(c.known)
	}
	c.known[string(h)] = cached{kind: k.Kind, expires: time.Now().Add(c.ttl)}
	c.mu.Unlock()
	return kindMatches(k.Kind, kind)
}

func kindMatches(have, want string) error {
	if have != want {
		return ErrUnauthorized
	}
	return nil
}
