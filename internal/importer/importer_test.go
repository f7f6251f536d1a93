package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/importer"
	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/store/storetest"
)

const jsonl = `{"type":"identify","messageId":"m1","userId":"u1","traits":{"email":"a@acme.com"},"timestamp":"2026-05-01T10:00:00Z"}
{"type":"track","messageId":"m2","userId":"u1","event":"Project Created","timestamp":"2026-05-01T10:05:00Z"}

{"type":"track","messageId":"m3","userId":"u1"}
not json
{"type":"page","messageId":"m5","anonymousId":"a1","name":"Pricing","timestamp":"2026-04-30T09:00:00Z"}
`

func TestJSONLinesIdempotentWithReasons(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	sum, err := importer.JSONLines(ctx, strings.NewReader(jsonl), db)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 5 || sum.Accepted != 3 || sum.Rejected != 2 || sum.Reasons["missing_field"] != 1 || sum.Reasons["malformed_json"] != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Examples[0].Line != 4 || !strings.Contains(sum.Examples[0].Detail, "event") || sum.Examples[1].Line != 5 {
		t.Fatalf("rejections must name their line and field: %+v", sum.Examples)
	}
	var buf bytes.Buffer // the same file again, gzipped: nothing new
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(jsonl))
	_ = zw.Close()
	r, err := importer.MaybeGunzip(&buf)
	if err != nil {
		t.Fatal(err)
	}
	again, err := importer.JSONLines(ctx, r, db)
	if err != nil || again.Accepted != 0 || again.Duplicates != 3 {
		t.Fatalf("second run: %+v %v", again, err)
	}
	s, _ := db.Stats(ctx)
	if s.Events != 3 {
		t.Fatalf("store holds %d events", s.Events)
	}
	var report bytes.Buffer
	sum.Report(&report)
	if !strings.Contains(report.String(), "5 rows: 3 accepted, 0 already stored, 2 rejected") || !strings.Contains(report.String(), "line 4:") {
		t.Fatalf("report:\n%s", report.String())
	}
}

func TestJSONLinesLongLinesAreRefusedAlone(t *testing.T) {
	db := storetest.SQLite(t)
	body := `{"type":"track","messageId":"ok","userId":"u","event":"e"}` + "\n" +
		`{"type":"track","userId":"u","event":"e","properties":{"p":"` + strings.Repeat("x", event.MaxMessageBytes) + `"}}` + "\n"
	body += strings.Repeat("y", 200<<10) + "\n" + `{"type":"track","messageId":"after","userId":"u","event":"e"}`
	sum, err := importer.JSONLines(context.Background(), strings.NewReader(body), db)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 4 || sum.Accepted != 2 || sum.Reasons["message_too_large"] != 2 || sum.Examples[0].Line != 2 || sum.Examples[1].Line != 3 {
		t.Fatalf("long lines are refused alone, by line: %+v", sum)
	}
}

func TestCSVWithMapping(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	csv := "id,user_id,action,when,properties.seats,traits.plan\n" +
		"r1,u1,Seat Added,2026-05-01T10:00:00Z,5,team\n" +
		"r2,,Seat Added,2026-05-01T10:00:00Z,6,team\n" +
		"r3,u2,Invite Sent,2026-05-02T10:00:00Z,,\n"
	m, err := importer.ParseMapping([]string{"messageId=id", "userId=user_id", "event=action", "timestamp=when"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.CSV(ctx, strings.NewReader(csv), m, event.Track, db)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 2 || sum.Rejected != 1 || sum.Examples[0].Line != 3 {
		t.Fatalf("summary %+v", sum)
	}
	all, _, _ := db.EventsAfter(ctx, store.Cursor{}, 10)
	var evs []event.Event
	for _, e := range all {
		if e.UserID == "u1" {
			evs = append(evs, e)
		}
	}
	if len(evs) != 1 || evs[0].Name != "Seat Added" || string(evs[0].Properties) != `{"seats":5}` || evs[0].MessageID != "r1" {
		t.Fatalf("u1 events %+v", evs)
	}
	if _, err := importer.ParseMapping([]string{"userId"}); err == nil {
		t.Fatal("a mapping without = must fail")
	}
	if _, err := importer.CSV(ctx, strings.NewReader(csv), importer.Mapping{"userId": "nope"}, event.Track, db); err == nil ||
		!strings.Contains(err.Error(), `no column "nope"`) {
		t.Fatalf("unknown column: %v", err)
	}
}

func TestAccounts(t *testing.T) {
	csv := "Account ID,Account Name,Website,Account Owner,Employees,Industry,Open Opportunity,Named Account\n" +
		"001,Acme Inc.,acme.com; acme.io,dana@s.example,1200,Manufacturing,$40000,yes\n" +
		"002,,globex.example,eli@s.example,50,Energy,no,no\n" +
		"003,Initech,initech.example,fay@s.example,lots,Software,,\n" +
		"004,Umbrella,umbrella.example,,\"1,500\",Pharma,closed,\n" +
		"00\x005,Poison,poison.example,,,,,\n"
	rows, sum, err := importer.Accounts(strings.NewReader(strings.ReplaceAll(csv, "Account ID", "account_id")))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || sum.Rejected != 3 || sum.Examples[0].Line != 3 || sum.Examples[1].Line != 4 ||
		sum.Examples[2].Line != 6 || !strings.Contains(sum.Examples[2].Detail, "without NUL") {
		t.Fatalf("rows %+v summary %+v", rows, sum)
	}
	a := rows[0]
	if a.ID != "001" || a.Name != "Acme Inc." || len(a.Domains) != 2 || a.Employees != 1200 || !a.OpenOpportunity || !a.Named {
		t.Fatalf("acme = %+v", a)
	}
	if u := rows[1]; u.Employees != 1500 || u.OpenOpportunity {
		t.Fatalf("umbrella = %+v", u)
	}
	if _, _, err := importer.Accounts(strings.NewReader("name,owner\nA,B\n")); err == nil || !strings.Contains(err.Error(), `"id"`) {
		t.Fatalf("missing id column: %v", err)
	}
}

func FuzzAccounts(f *testing.F) {
	f.Add("id,name,domains,employees,open_opportunity\n1,Acme,acme.com,10,yes\n")
	f.Add("id,name\n\"unterminated,x\n")
	f.Add("\ufeffid,name,employees\n1,A,-5\n2,B,1e9\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, sum, err := importer.Accounts(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(rows)+sum.Rejected != sum.Rows {
			t.Fatalf("rows %d + rejected %d != %d", len(rows), sum.Rejected, sum.Rows)
		}
		for _, r := range rows {
			if r.ID == "" || r.Name == "" || r.Employees < 0 {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

type discard struct{}

func (discard) AppendEvents(_ context.Context, evs []event.Event) (int, error) { return len(evs), nil }

func FuzzCSVEvents(f *testing.F) {
	f.Add("userId,event,timestamp\nu,e,2026-01-01T00:00:00Z\n")
	f.Add("type,userId,groupId,traits.name\ngroup,u,g,Acme\n")
	f.Add("userId,event\n\"u\n")
	f.Fuzz(func(t *testing.T, s string) {
		sum, err := importer.CSV(context.Background(), strings.NewReader(s), nil, event.Track, discard{})
		if err == nil && sum.Accepted+sum.Rejected != sum.Rows {
			t.Fatalf("accepted %d + rejected %d != rows %d", sum.Accepted, sum.Rejected, sum.Rows)
		}
	})
}
