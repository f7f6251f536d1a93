package identity

import "github.com/beaconplg/beacon/internal/store"

// Match reports how well product users are joined to companies, against seed
// 004's benchmark: a match rate over 85 % is good, 70–85 % a warning, under
// 70 % a red flag (gaps in the data model).
type Match struct {
	ByMethod map[string]int64 `json:"by_method"`
	// Unresolved users have not been projected to an account yet.
	Unresolved int64 `json:"unresolved"`
	// Rate is the share of users joined to a company account (by group,
	// domain or name), in percent.
	Rate float64 `json:"match_rate"`
	Band string  `json:"match_band"`
	// CRMRate is the share of users whose account is, or is linked to, a CRM
	// account, in percent.
	CRMRate float64 `json:"crm_match_rate"`
	CRMBand string  `json:"crm_match_band"`
}

// MatchOf computes the match report from store counts.
func MatchOf(s store.Stats) Match {
	m := Match{ByMethod: map[string]int64{}, Unresolved: s.Unresolved}
	for _, method := range store.Methods {
		m.ByMethod[method] = s.UsersByMethod[method]
	}
	company := s.UsersByMethod[store.MethodGroup] + s.UsersByMethod[store.MethodDomain] + s.UsersByMethod[store.MethodName]
	m.Rate, m.CRMRate = percent(company, s.Users), percent(s.CRMMatched, s.Users)
	m.Band, m.CRMBand = Band(m.Rate), Band(m.CRMRate)
	return m
}

// Band names a match rate's benchmark band.
func Band(rate float64) string {
	switch {
	case rate > 85:
		return "good"
	case rate >= 70:
		return "warning"
	default:
		return "red flag"
	}
}

func percent(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(int64(float64(n)*1000/float64(of)+0.5)) / 10
}
