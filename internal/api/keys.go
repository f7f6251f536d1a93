package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/store"
)

// KeyStore is what the keys endpoints need from storage.
type KeyStore interface {
	keys.Keeper
}

// KeyView is a key as the API shows it: never its secret, which only its
// creation answers, once.
type KeyView struct {
	ID        int64      `json:"id"`
	Kind      string     `json:"kind"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at"`
	// RevokedAt is when it stops working: past, revoked; ahead, a
	// rotation's grace.
	RevokedAt *time.Time `json:"revoked_at"`
	Active    bool       `json:"active"`
	Secret    string     `json:"secret,omitempty"`
}

func keyView(k store.Key, now time.Time) KeyView {
	return KeyView{ID: k.ID, Kind: k.Kind, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt,
		LastUsed: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt), Active: k.Usable(now)}
}

func (a *API) listKeys(r *http.Request) (any, error) {
	ks, err := a.db.Keys(r.Context())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := struct {
		Keys []KeyView `json:"keys"`
	}{Keys: []KeyView{}}
	for _, k := range ks {
		out.Keys = append(out.Keys, keyView(k, now))
	}
	return out, nil
}

// KeyRequest is the body of POST /api/v1/keys and of a rotation.
type KeyRequest struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Grace string `json:"grace"` // a rotation's, as Go writes durations: "24h"
}

func (a *API) createKey(r *http.Request) (any, error) {
	var req KeyRequest
	if err := readBody(r, &req, writeBodyLimit); err != nil {
		return nil, err
	}
	if req.Kind != store.WriteKey && req.Kind != store.AdminKey {
		return nil, badParam("kind", "kind %q: want write or admin", req.Kind)
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > 200 || !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return nil, badParam("name", "name must be text of at most 200 bytes")
	}
	secret, k, err := keys.Issue(r.Context(), a.db, req.Kind, name)
	if err != nil {
		return nil, err
	}
	a.audit(r, store.AuditKeyCreated, keys.Subject(k), "")
	v := keyView(k, time.Now())
	v.Secret = secret
	return v, nil
}

func (a *API) keyOf(r *http.Request) (store.Key, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.Key{}, badParam("id", "key id %q: want a positive number", r.PathValue("id"))
	}
	return keys.Find(r.Context(), a.db, strconv.FormatInt(id, 10))
}

func (a *API) revokeKey(r *http.Request) (any, error) {
	k, err := a.keyOf(r)
	if err != nil {
		return nil, err
	}
	if k, err = a.db.RevokeKey(r.Context(), k.ID, time.Now()); err != nil {
		return nil, err
	}
	a.keys.Forget(k.Hash)
	a.audit(r, store.AuditKeyRevoked, keys.Subject(k), "")
	return keyView(k, time.Now()), nil
}

func (a *API) rotateKey(r *http.Request) (any, error) {
	var req KeyRequest
	if err := readBody(r, &req, writeBodyLimit); err != nil {
		return nil, err
	}
	grace := 24 * time.Hour
	if req.Grace != "" {
		d, err := time.ParseDuration(req.Grace)
		if err != nil || d < 0 || d > 30*24*time.Hour {
			return nil, badParam("grace", "grace %q: want a duration from 0s to 720h", req.Grace)
		}
		grace = d
	}
	old, err := a.keyOf(r)
	if err != nil {
		return nil, err
	}
	secret, k, err := keys.Rotate(r.Context(), a.db, old, grace, time.Now())
	if err != nil {
		return nil, badParam("id", "%v", err)
	}
	a.audit(r, store.AuditKeyRotated, keys.Subject(old), "new key "+keys.Subject(k)+", grace "+grace.String())
	v := keyView(k, time.Now())
	v.Secret = secret
	return v, nil
}
