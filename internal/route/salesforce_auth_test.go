package route_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/beaconplg/beacon/internal/alert"
	"github.com/beaconplg/beacon/internal/route"
	"github.com/beaconplg/beacon/internal/store"
)

// sfLogin is a Salesforce org's login server: POST /services/oauth2/token
// as Salesforce documents the OAuth 2.0 JWT bearer flow (an RS256
// assertion from the connected app's consumer key for a user, to the login
// URL, expiring within three minutes) and the refresh token flow (consumer
// key, secret, refresh token, in the form). Success answers access_token,
// instance_url, id, token_type, issued_at and signature, and no expiry;
// failure a 400 with error and error_description ("OAuth 2.0 JWT Bearer
// Flow for Server-to-Server Integration"; "OAuth 2.0 Refresh Token Flow").
type sfLogin struct {
	mu       sync.Mutex
	url      string // where it listens: the assertion's audience
	instance string // the org's instance, where records are written
	key      *rsa.PublicKey
	org      *fakeSalesforce
	grants   int
}

const (
	sfConsumerKey    = "3MVG9test.consumer.key"
	sfConsumerSecret = "consumer-secret-0123"
	sfRefreshToken   = "5Aep861refresh"
	sfUser           = "integration@acme.example"
)

func (l *sfLogin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	refuse := func(code, desc string) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/services/oauth2/token" || r.ParseForm() != nil {
		refuse("invalid_request", "bad request")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if err := l.checkAssertion(r.PostForm.Get("assertion")); err != nil {
			refuse("invalid_grant", err.Error())
			return
		}
	case "refresh_token":
		if r.PostForm.Get("client_id") != sfConsumerKey || r.PostForm.Get("client_secret") != sfConsumerSecret {
			refuse("invalid_client", "invalid client credentials")
			return
		}
		if r.PostForm.Get("refresh_token") != sfRefreshToken {
			refuse("invalid_grant", "expired access/refresh token")
			return
		}
	default:
		refuse("unsupported_grant_type", "grant type not supported")
		return
	}
	l.mu.Lock()
	l.grants++
	token := fmt.Sprintf("00Dxx0000001gPL!session-%d", l.grants)
	l.mu.Unlock()
	l.org.mu.Lock()
	l.org.sessions[token] = true
	l.org.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]string{"access_token": token, "instance_url": l.instance,
		"id": l.url + "/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS", "token_type": "Bearer",
		"issued_at": fmt.Sprint(time.Now().UnixMilli()), "signature": "c2lnbmF0dXJl", "scope": "api"})
}

// checkAssertion verifies a JWT bearer assertion as Salesforce does.
func (l *sfLogin) checkAssertion(a string) error {
	jws, err := jose.ParseSigned(a, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fmt.Errorf("invalid assertion: %v", err)
	}
	payload, err := jws.Verify(l.key)
	if err != nil {
		return fmt.Errorf("invalid assertion signature")
	}
	var c struct {
		Iss, Sub, Aud string
		Exp           int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	left := time.Until(time.Unix(c.Exp, 0))
	switch {
	case c.Iss != sfConsumerKey:
		return fmt.Errorf("invalid client identifier %q", c.Iss)
	case c.Sub != sfUser:
		return fmt.Errorf("user hasn't approved this consumer")
	case c.Aud != l.url:
		return fmt.Errorf("audience %q is not the login URL", c.Aud)
	case left <= 0 || left > 3*time.Minute+5*time.Second:
		return fmt.Errorf("expiration time must be within 3 minutes (%v)", left)
	}
	return nil
}

// endSessions ends every session the login server issued, as a session
// timeout or a revocation in the org does.
func (l *sfLogin) endSessions() {
	l.org.mu.Lock()
	defer l.org.mu.Unlock()
	clear(l.org.sessions)
}

// alertMore writes an alert about each of n more accounts to dests.
func alertMore(t *testing.T, db *store.DB, from, n int, dests ...string) {
	t.Helper()
	var as []store.Alert
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("acct-%d", i)
		payload, _ := json.Marshal(alert.Payload{Account: alert.AccountRef{ID: id, Name: "Account " + id},
			Scorecard: "pql", Score: 80, Tier: "hot", TierLabel: "Hot PQL", At: t0})
		as = append(as, store.Alert{Scorecard: "pql", Subject: "account:" + id, Tier: "hot", Score: 80, Payload: payload,
			CreatedAt: t0, Destinations: dests})
	}
	if err := db.SaveScores(context.Background(), store.ScoreBatch{Alerts: as}); err != nil {
		t.Fatal(err)
	}
}

// A Salesforce destination signed in through a connected app, by either
// flow: records are written at the instance the token names; when the org
// ends the session mid-run, the next request is answered 401
// INVALID_SESSION_ID, Beacon signs in again and sends it again, and every
// delivery arrives, none dead; after session_ttl it signs in again before
// Salesforce has to refuse.
func testSalesforceOAuth(t *testing.T, open func(testing.TB) *store.DB) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "sf.key")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SF_SECRET", sfConsumerSecret)
	t.Setenv("SF_REFRESH", sfRefreshToken)
	flows := map[string]*route.SalesforceOAuth{
		route.FlowJWT: {Flow: route.FlowJWT, ClientID: sfConsumerKey, Username: sfUser, PrivateKeyFile: keyFile},
		route.FlowRefreshToken: {Flow: route.FlowRefreshToken, ClientID: sfConsumerKey, ClientSecretEnv: "SF_SECRET",
			RefreshTokenEnv: "SF_REFRESH"},
	}
	for flow, oauth := range flows {
		t.Run(flow, func(t *testing.T) {
			org := &fakeSalesforce{object: "Account", fields: accountFields(num("Beacon_Score__c")), records: map[string]map[string]any{},
				sessions: map[string]bool{}}
			instance := httptest.NewServer(org)
			defer instance.Close()
			login := &sfLogin{org: org, instance: instance.URL, key: &key.PublicKey}
			loginSrv := httptest.NewServer(login)
			defer loginSrv.Close()
			login.url = loginSrv.URL
			spec := route.Spec{Name: "sf-" + strings.ReplaceAll(flow, "_", "-"), Type: route.Salesforce, URL: loginSrv.URL,
				OAuth: oauth, Object: "Account", IDProperty: "Beacon_Account_Id__c", Properties: map[string]string{"Beacon_Score__c": "score",
					"Name": "account_name"}, Create: true}
			f := newFixture(t, open(t), []route.Spec{spec})
			alertMore(t, f.db, 0, 3, spec.Name)
			f.drain(t)
			if login.grants != 1 || len(org.records) != 4 {
				t.Fatalf("first run: %d sign-ins, %d records", login.grants, len(org.records))
			}
			login.endSessions()
			alertMore(t, f.db, 3, 3, spec.Name)
			f.drain(t)
			if login.grants != 2 || org.unauth != 1 || len(org.records) != 7 {
				t.Fatalf("after the session ended: %d sign-ins, %d refused, %d records", login.grants, org.unauth, len(org.records))
			}
			f.clock = f.clock.Add(2 * time.Hour) // past session_ttl
			alertMore(t, f.db, 6, 1, spec.Name)
			f.drain(t)
			if login.grants != 3 || org.unauth != 1 {
				t.Fatalf("after session_ttl: %d sign-ins, %d refused", login.grants, org.unauth)
			}
			ds, err := f.db.ListDeliveries(context.Background(), store.DeliveryQuery{Destination: spec.Name, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if d.State != store.Delivered {
					t.Fatalf("delivery %d: %s (%s)", d.ID, d.State, d.LastError)
				}
			}
			if len(ds) != 8 {
				t.Fatalf("%d deliveries, want 8", len(ds))
			}
		})
	}
}
