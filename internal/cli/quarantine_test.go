package cli

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

// beacon quarantine list shows what identity set aside; retry fails while
// the cause stays and projects the event once it is fixed; bad ids and
// stages are refused.
func TestQuarantineCommands(t *testing.T) {
	for _, eng := range storetest.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			dsn := eng.DSN(t)
			db := storetest.OpenDSN(t, dsn)
			lift := storetest.Refuse(t, dsn, "users", "id", "poison")
			for i, m := range []string{`{"type":"identify","userId":"poison","messageId":"q-1","traits":{"email":"p@acme.example"}}`,
				`{"type":"identify","userId":"u1","messageId":"q-2","traits":{"email":"u1@acme.example"}}`} {
				b, err := event.DecodeOne([]byte(m), "", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.AppendEvents(ctx, b.Events); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
			}
			ids := identity.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			projected(t, func() error { _, err := ids.Sync(ctx); return err }, db, "u1")

			run := func(want string, args ...string) string {
				t.Helper()
				out, err := beacon(t, append(args, "--db", dsn)...)
				if err != nil || !strings.Contains(out, want) {
					t.Fatalf("beacon %v: %q (%v), want %q in it", args, out, err, want)
				}
				return out
			}
			out := run("refused by the test", "quarantine", "list")
			for _, want := range []string{"identity", "poison", "q-1", "open"} {
				if !strings.Contains(out, want) {
					t.Fatalf("list lacks %q:\n%s", want, out)
				}
			}
			run("identity: 0 events projected, 1 still failing", "quarantine", "retry")
			lift()
			run("identity: 1 events projected, 0 still failing", "quarantine", "retry")
			if _, err := db.User(ctx, "poison"); err != nil {
				t.Fatalf("the retried event's user: %v", err)
			}
			if out := run("ID", "quarantine", "list"); strings.Contains(out, "poison") {
				t.Fatalf("an open row after a retry that applied it:\n%s", out)
			}
			run("resolved", "quarantine", "list", "--all")
			for _, args := range [][]string{{"quarantine", "retry", "999"}, {"quarantine", "retry", "x"},
				{"quarantine", "list", "--stage", "nope"}} {
				if out, err := beacon(t, append(args, "--db", dsn)...); err == nil {
					t.Errorf("beacon %v succeeded: %s", args, out)
				}
			}
		})
	}
}
