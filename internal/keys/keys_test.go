package keys_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/keys"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

func TestCreateAndCheck(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	write, err := keys.Create(ctx, db, store.WriteKey, "web")
	if err != nil || !strings.HasPrefix(write, "bk_w_") {
		t.Fatalf("write key %q, %v", write, err)
	}
	admin, err := keys.Create(ctx, db, store.AdminKey, "")
	if err != nil || !strings.HasPrefix(admin, "bk_a_") {
		t.Fatalf("admin token %q, %v", admin, err)
	}
	if k, err := db.KeyByHash(ctx, keys.Hash(write)); err != nil || strings.Contains(string(k.Hash), write) {
		t.Fatalf("stored key must be the hash only: %+v %v", k, err)
	}
	c := keys.NewChecker(db)
	tests := []struct {
		secret, kind string
		ok           bool
	}{
		{write, store.WriteKey, true},
		{write, store.WriteKey, true}, // cached
		{admin, store.AdminKey, true},
		{write, store.AdminKey, false},
		{admin, store.WriteKey, false},
		{write + "x", store.WriteKey, false},
		{"", store.WriteKey, false},
		{"bk_w_unknown", store.WriteKey, false},
	}
	for _, tc := range tests {
		err := c.Check(ctx, tc.secret, tc.kind)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, keys.ErrUnauthorized)) {
			t.Errorf("Check(%.12s…, %s) = %v, want ok=%v", tc.secret, tc.kind, err, tc.ok)
		}
	}
}
