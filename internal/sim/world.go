package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Segments of seed 004's segment-by-segment motion table.
const (
	SMB        = "smb"        // 1-50 employees: self-serve
	MidMarket  = "mid-market" // 51-500: self-serve + sales-assist
	Enterprise = "enterprise" // 500+: sales-led with PLG evaluation
)

// SegmentOf places an employee count in seed 004's segment table.
func SegmentOf(employees int) string {
	switch {
	case employees <= 50:
		return SMB
	case employees <= 500:
		return MidMarket
	default:
		return Enterprise
	}
}

var industries = []string{"Software", "Financial Services", "Healthcare", "Retail", "Manufacturing",
	"Education", "Media", "Logistics", "Real Estate", "Energy", "Marketing Services", "Telecommunications"}

// ICPIndustries are the industries the simulated company sells best into.
var ICPIndustries = []string{"Software", "Financial Services", "Marketing Services"}

// Account is one company in the world, with what Beacon can see of it and
// what it cannot (Fit, Intent).
type Account struct {
	Index     int
	GroupID   string // the product's workspace id
	Name      string // as the product knows it (group traits)
	Domains   []string
	Employees int
	Segment   string
	Industry  string
	// Fit and Intent are latent, in [0, 1]: how well the company matches the
	// ideal customer profile, and how much it wants to buy now.
	Fit, Intent float64
	SignupDay   int
	Channel     string
	Users       int

	InCRM           bool
	CRMID           string
	CRMName         string // spelled as sales typed it, now and then differently
	Owner           string
	OpenOpportunity bool
	Named           bool
}

var channels = []struct {
	name   string
	weight float64
}{{"organic", 0.45}, {"paid", 0.25}, {"referral", 0.15}, {"invited", 0.15}}

var owners = []string{"dana.ross", "eli.park", "fay.chen", "gus.moreau", "ines.okafor", "jon.silva"}

// Rep is the email of one of the sales reps who own the CRM's accounts: the
// person beacon demo signs in as, so that "My accounts" holds some.
func Rep() string { return owners[0] + "@seller.example" }

// NewAccount draws account i of the world.
func (p Params) NewAccount(i int) Account {
	r := p.rng(streamFirmographics, uint64(i))
	a := Account{Index: i, GroupID: fmt.Sprintf("ws-%05d", i+1)}
	a.Employees = employees(r)
	a.Segment = SegmentOf(a.Employees)
	a.Industry = industries[r.IntN(len(industries))]
	a.Name, a.Domains = companyName(r, i)
	a.SignupDay = r.IntN(p.Days)
	a.Channel = pick(r, channels)
	a.Fit = fit(r, a)
	a.Intent = beta(r, 2, 5)
	a.Users = users(r, a.Employees)
	a.InCRM = a.Segment == Enterprise || (a.Segment == MidMarket && r.Float64() < p.CRMShare)
	if a.InCRM {
		a.CRMID = fmt.Sprintf("001%07d", i+1)
		a.CRMName = crmSpelling(r, a.Name)
		a.Owner = owners[r.IntN(len(owners))] + "@seller.example"
		a.OpenOpportunity = r.Float64() < 0.2
		a.Named = a.Segment == Enterprise && r.Float64() < 0.5
	}
	return a
}

// employees draws a heavy-tailed company size: most companies are small, a
// few are very large (log-normal, median 25, capped at 100,000).
func employees(r *rand.Rand) int {
	n := int(math.Exp(math.Log(25) + 1.6*r.NormFloat64()))
	return min(max(n, 1), 100_000)
}

// users is how many people of the company end up in the product.
func users(r *rand.Rand, employees int) int {
	limit := max(1, int(math.Sqrt(float64(employees))))
	return 1 + r.IntN(min(limit, 40))
}

// fit rises with the ideal customer profile: a target industry and a
// mid-sized company.
func fit(r *rand.Rand, a Account) float64 {
	f := beta(r, 2, 3)
	for _, ind := range ICPIndustries {
		if a.Industry == ind {
			f = math.Min(1, f+0.2)
		}
	}
	if a.Segment == MidMarket {
		f = math.Min(1, f+0.1)
	}
	return f
}

// beta draws from Beta(a, b) through two gamma draws (integer shapes).
func beta(r *rand.Rand, a, b int) float64 {
	x, y := gamma(r, a), gamma(r, b)
	return x / (x + y)
}

func gamma(r *rand.Rand, k int) float64 {
	s := 0.0
	for range k {
		s += r.ExpFloat64()
	}
	return s
}

func pick(r *rand.Rand, options []struct {
	name   string
	weight float64
}) string {
	x := r.Float64()
	for _, o := range options {
		if x < o.weight {
			return o.name
		}
		x -= o.weight
	}
	return options[len(options)-1].name
}

var (
	syllables = []string{"ac", "me", "glo", "bex", "ini", "tech", "um", "brel", "la", "vand", "ely", "cor",
		"so", "ly", "ent", "ra", "no", "va", "zen", "ith", "kro", "pa", "quil", "tor", "ex", "ion", "mar", "lo"}
	nouns    = []string{"", "", "", " Labs", " Systems", " Analytics", " Health", " Logistics", " Media", " Works"}
	suffixes = []string{"Inc.", "LLC", "Ltd", "GmbH", "Corp.", "Co."}
	tlds     = []string{".com", ".com", ".com", ".io", ".co", ".example"}
)

// companyName makes a name and the company's domains; the account index in
// the domain keeps every company distinct.
func companyName(r *rand.Rand, i int) (string, []string) {
	var b strings.Builder
	for range 2 + r.IntN(2) {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	base := strings.ToUpper(b.String()[:1]) + b.String()[1:]
	name := base + nouns[r.IntN(len(nouns))]
	slug := strings.ToLower(strings.ReplaceAll(name, " ", "")) + fmt.Sprint(i+1)
	domains := []string{slug + tlds[r.IntN(len(tlds))]}
	if r.Float64() < 0.15 {
		domains = append(domains, slug+"-corp.com")
	}
	return name, domains
}

// crmSpelling is how sales typed the company into the CRM: usually with a
// legal suffix, now and then in capitals or with a comma.
func crmSpelling(r *rand.Rand, name string) string {
	s := suffixes[r.IntN(len(suffixes))]
	switch r.IntN(4) {
	case 0:
		return strings.ToUpper(name) + ", " + s
	case 1:
		return name + ", " + s
	default:
		return name + " " + s
	}
}
