package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"

	emailverifier "github.com/AfterShip/email-verifier"
)

// mailProviders knows the free-mail (~6,500) and disposable (~120,000) domains
// that AfterShip's email-verifier maintains.
var mailProviders = emailverifier.NewVerifier()

// IsPersonalDomain reports whether addresses at domain belong to people, not
// companies: free mail providers and disposable inboxes.
func IsPersonalDomain(domain string) bool {
	return mailProviders.IsFreeDomain(domain) || mailProviders.IsDisposable(domain)
}

// EmailDomain returns the normalised domain of an address, or "" if the
// address has none.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 || at == len(email)-1 {
		return ""
	}
	return NormalizeDomain(email[at+1:])
}

// NormalizeDomain lowercases a domain and strips what people paste around it
// (scheme, www., path).
func NormalizeDomain(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	for _, p := range []string{"https://", "http://"} {
		d = strings.TrimPrefix(d, p)
	}
	d = strings.TrimPrefix(d, "www.")
	if i := strings.IndexAny(d, "/?#:"); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSuffix(d, ".")
	if !strings.Contains(d, ".") || strings.ContainsAny(d, " @") || strings.ContainsFunc(d, notInDomain) {
		return ""
	}
	return d
}

// notInDomain reports a character no domain holds: controls (NUL among
// them) and the replacement character invalid UTF-8 decodes to.
func notInDomain(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }
