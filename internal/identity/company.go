package identity

import (
	"strings"
	"unicode"

	"github.com/hbollon/go-edlib"
)

// legalSuffixes are dropped from company names before comparing them, so that
// "Acme Inc." and "ACME, Inc" and "Acme Corporation" are one company.
var legalSuffixes = map[string]bool{
	"inc": true, "incorporated": true, "llc": true, "llp": true, "lp": true, "ltd": true, "limited": true,
	"corp": true, "corporation": true, "co": true, "company": true, "plc": true, "gmbh": true, "ag": true,
	"kg": true, "sa": true, "sas": true, "sarl": true, "srl": true, "spa": true, "bv": true, "nv": true,
	"oy": true, "ab": true, "as": true, "asa": true, "aps": true, "pty": true, "pte": true, "kk": true,
	"group": true, "holdings": true, "the": true,
}

// NormalizeCompany folds case, punctuation and legal suffixes out of a company
// name: "ACME, Inc." → "acme".
func NormalizeCompany(name string) string {
	name = strings.ReplaceAll(strings.ToLower(name), "&", " and ")
	words := strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' })
	out := words[:0]
	for _, w := range words {
		w = strings.ReplaceAll(w, ".", "")
		if w != "" && !legalSuffixes[w] {
			out = append(out, w)
		}
	}
	if len(out) == 0 && len(words) > 0 {
		return strings.Join(words, " ") // the name is only suffixes ("The Company"): keep it
	}
	return strings.Join(out, " ")
}

// minNameSimilarity is the Jaro-Winkler similarity of two normalised names
// from which they are taken for one company: it lets "Globex" meet "Globexx"
// and "Initech Systems" meet "Initech Sytems", but not "Acme" meet "Acne".
const minNameSimilarity = 0.94

// crmIndex finds a CRM account by company name.
type crmIndex struct {
	exact  map[string]string // normalised name → account id
	byRune map[rune][]crmName
}

type crmName struct{ norm, id string }

func newCRMIndex(accounts []crmEntry) *crmIndex {
	ix := &crmIndex{exact: map[string]string{}, byRune: map[rune][]crmName{}}
	for _, a := range accounts {
		n := NormalizeCompany(a.name)
		if n == "" {
			continue
		}
		if _, dup := ix.exact[n]; !dup {
			ix.exact[n] = a.id
		}
		r := []rune(n)[0]
		ix.byRune[r] = append(ix.byRune[r], crmName{norm: n, id: a.id})
	}
	return ix
}

type crmEntry struct{ id, name string }

// match returns the CRM account whose name is closest to name and the
// similarity (1 for the same normalised name). Fuzzy candidates share the first
// letter: typos at the very start are rare and it keeps lookups cheap.
func (ix *crmIndex) match(name string) (string, float64, bool) {
	n := NormalizeCompany(name)
	if n == "" {
		return "", 0, false
	}
	if id, ok := ix.exact[n]; ok {
		return id, 1, true
	}
	best, bestSim := "", float32(0)
	for _, c := range ix.byRune[[]rune(n)[0]] {
		if s := edlib.JaroWinklerSimilarity(n, c.norm); s > bestSim || (s == bestSim && c.id < best) {
			best, bestSim = c.id, s
		}
	}
	if bestSim < minNameSimilarity {
		return "", 0, false
	}
	return best, round2(float64(bestSim)), true
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
