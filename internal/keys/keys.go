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
	"strconv"
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
	TouchKey(ctx context.Context, id int64, at time.Time) error
}

// Keeper is what managing keys needs besides.
type Keeper interface {
	Store
	Keys(ctx context.Context) ([]store.Key, error)
	RevokeKey(ctx context.Context, id int64, at time.Time) (store.Key, error)
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
	secret, _, err := Issue(ctx, db, kind, name)
	return secret, err
}

// Issue is Create that also returns the key as stored.
func Issue(ctx context.Context, db Store, kind, name string) (string, store.Key, error) {
	prefix, ok := prefixes[kind]
	if !ok {
		return "", store.Key{}, fmt.Errorf("key kind %q: want write or admin", kind)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", store.Key{}, err
	}
	secret := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	k, err := db.CreateKey(ctx, store.Key{Kind: kind, Name: name, Hash: Hash(secret), Prefix: PrefixOf(secret)})
	return secret, k, err
}

// PrefixOf is the part of a secret that names its key in lists and logs
// (bk_w_Ab3x), as stored with the key: never enough to use it.
func PrefixOf(secret string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(secret, p) && len(secret) >= len(p)+4 {
			return secret[:len(p)+4]
		}
	}
	return ""
}

// Subject names a key in the audit log, never by its secret.
func Subject(k store.Key) string {
	return fmt.Sprintf("key %d (%s %s %q)", k.ID, k.Kind, k.Prefix, k.Name)
}

// ErrNoKey: no key has the id or prefix given, or more than one has it.
// It is a store.ErrNotFound.
var ErrNoKey = fmt.Errorf("no such key: %w", store.ErrNotFound)

// Find returns the key whose id (a number) or prefix (bk_w_Ab3x) is ref.
func Find(ctx context.Context, db Keeper, ref string) (store.Key, error) {
	ks, err := db.Keys(ctx)
	if err != nil {
		return store.Key{}, err
	}
	var found []store.Key
	for _, k := range ks {
		if strconv.FormatInt(k.ID, 10) == ref || k.Prefix == ref {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return store.Key{}, fmt.Errorf("key %q: %w", ref, ErrNoKey)
	}
	return store.Key{}, fmt.Errorf("key %q: %d keys have that prefix, give the id: %w", ref, len(found), ErrNoKey)
}

// Rotate makes a new key of the same kind and name as old and revokes old
// after grace (at once if grace is zero), so that what uses it can move to
// the new secret, which it returns, meanwhile.
func Rotate(ctx context.Context, db Keeper, old store.Key, grace time.Duration, now time.Time) (string, store.Key, error) {
	if !old.Usable(now) {
		return "", store.Key{}, fmt.Errorf("key %d is revoked: create a new one instead", old.ID)
	}
	secret, k, err := Issue(ctx, db, old.Kind, old.Name)
	if err != nil {
		return "", store.Key{}, err
	}
	_, err = db.RevokeKey(ctx, old.ID, now.Add(grace))
	return secret, k, err
}

// Checker verifies presented secrets, remembering good ones briefly so the hot
// ingest path does not query the store per request.
type Checker struct {
	db  Store
	ttl time.Duration

	mu      sync.Mutex
	known   map[string]cached
	touches sync.WaitGroup
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
	now := time.Now()
	if subtle.ConstantTimeCompare(k.Hash, h) != 1 || !k.Usable(now) {
		return ErrUnauthorized
	}
	// Remembered until the next look-up is due, or the key's revocation,
	// whichever comes first: a revoked key stops within the ttl on every
	// node, and a rotated one at the end of its grace.
	until := now.Add(c.ttl)
	if !k.RevokedAt.IsZero() && k.RevokedAt.Before(until) {
		until = k.RevokedAt
	}
	c.mu.Lock()
	if len(c.known) > 10000 {
		clear(c.known)
	}
	c.known[string(h)] = cached{kind: k.Kind, expires: until}
	c.mu.Unlock()
	if k.Kind == kind {
		c.touch(k.ID, now)
	}
	return kindMatches(k.Kind, kind)
}

// touch records that a key let a request in, beside the request: the
// request does not wait for a write, and a failed one only leaves "last
// used" older than it is.
func (c *Checker) touch(id int64, at time.Time) {
	c.touches.Add(1)
	go func() {
		defer c.touches.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.db.TouchKey(ctx, id, at)
	}()
}

// Forget drops what c remembers of the key whose hash this is, so that
// this process takes a revocation at once; other processes take it within
// the time a good key is remembered.
func (c *Checker) Forget(hash []byte) {
	c.mu.Lock()
	delete(c.known, string(hash))
	c.mu.Unlock()
}

// Wait waits for the uses being recorded.
func (c *Checker) Wait() { c.touches.Wait() }

func kindMatches(have, want string) error {
	if have != want {
		return ErrUnauthorized
	}
	return nil
}
