package growth

// Tables group the metrics as seed 002's dashboard does, with Beacon's
// revenue, virality and infrastructure tables after them.
var Tables = []struct{ Name, Label string }{
	{"acquisition", "Acquisition metrics"},
	{"activation", "Activation metrics"},
	{"engagement", "Engagement metrics"},
	{"monetization", "Monetization metrics"},
	{"revenue", "Revenue"},
	{"virality", "Virality"},
	{"infrastructure", "Infrastructure"},
}

// Units of metric values.
const (
	Count   = "count"    // a number of things
	Percent = "percent"  // 0–100
	Seconds = "seconds"  // a duration
	Cents   = "cents"    // money
	PerWeek = "per_week" // days a week
	Ratio   = "ratio"    // a plain number
	Breadth = "breadth"  // core features used, out of those configured
	Split   = "split"    // organic share of organic + paid, percent
)

// Def is one metric: its name (for the API, targets and CSV), its label
// (seed 002's name where the seed names it), its table and unit, its
// formula in words, the bands that judge it, and how it is computed.
type Def struct {
	Name, Label, Table, Unit, Formula string
	// Bands are keys of the funnel bands and of the quick and
	// infrastructure bands (see bands.go); free_to_paid takes the
	// model's.
	Bands []string
	fn    func(s *scope) (float64, bool)
}

// Defs are every metric, in the dashboard's order.
var Defs = []Def{
	{"monthly_signups", "Monthly Signups", "acquisition", Count, "accounts whose first user signed up in the period, per 30 days", nil, (*scope).monthlySignups},
	{"organic_paid_split", "Organic vs Paid Split", "acquisition", Split, "organic sign-ups / (organic + paid sign-ups) × 100, by the sign-up's channel", nil, (*scope).organicSplit},
	{"signup_conversion", "Signup Conversion Rate", "acquisition", Percent, "people first seen in the period who signed up / people first seen (visitors included) × 100", []string{"visitor_to_signup"}, (*scope).signupConversion},
	{"time_to_signup", "Time to First Signup", "acquisition", Seconds, "median time from a person's first visit to their sign-up, for those first seen in the period", nil, (*scope).timeToSignup},
	{"day1_activation", "Day 1 Activation Rate", "activation", Percent, "sign-ups of the period activated within 24 hours / sign-ups × 100", nil, (*scope).day1Activation},
	{"activation_rate", "Activation Rate", "activation", Percent, "sign-ups of the period activated by its end / sign-ups × 100 (seed 004)", []string{"signup_to_activation", "activation_rate"}, (*scope).activationRate},
	{"time_to_aha", "Time to Aha Moment", "activation", Seconds, "median time from sign-up to the activation milestone, for the period's activated sign-ups", []string{"time_to_activation"}, (*scope).timeToAha},
	{"core_adoption", "Feature Adoption (Core)", "activation", Percent, "users active in the period who used a core feature in it / users active × 100", nil, (*scope).coreAdoption},
	{"onboarding_completion", "Onboarding Completion", "activation", Percent, "sign-ups of the period that completed onboarding by its end / sign-ups × 100", nil, (*scope).onboarding},
	{"wau", "Weekly Active Users (WAU)", "engagement", Count, "users active in the period's last 7 days", nil, (*scope).wau},
	{"dau_mau", "DAU/MAU Ratio (Stickiness)", "engagement", Percent, "mean over the period's days of users active that day / users active in the 30 days to it × 100", nil, (*scope).dauMAU},
	{"session_frequency", "Session Frequency", "engagement", PerWeek, "days of use per week of the users active in the period (a day of use is a session)", nil, (*scope).sessionFrequency},
	{"feature_breadth", "Feature Breadth Score", "engagement", Breadth, "mean number of core features used in the period's last 28 days, by the users active then", nil, (*scope).featureBreadth},
	{"free_to_paid", "Free-to-Paid Conversion", "monetization", Percent, "sign-ups of the period paying by its end / sign-ups × 100 (seed 004: paid customers / total free sign-ups)", []string{"free_to_paid"}, (*scope).freeToPaid},
	{"time_to_conversion", "Time to Conversion", "monetization", Seconds, "median time from sign-up to first payment, for accounts first paying in the period", nil, (*scope).timeToConversion},
	{"acv", "Average Contract Value", "monetization", Cents, "mean first-year value (MRR at first payment × 12) of accounts first paying in the period", nil, (*scope).acv},
	{"self_serve_share", "Self-serve Conversions", "monetization", Percent, "accounts first paying in the period with no sales touch before (no acknowledged alert or CRM outreach, no opportunity) / accounts first paying × 100", nil, (*scope).selfServeShare},
	{"pql_to_customer", "PQL to Customer Rate", "monetization", Percent, "accounts becoming PQLs in the period that paid after it by its end / those PQLs × 100", []string{"pql_to_paid", "pql_to_customer"}, (*scope).pqlToCustomer},
	{"mrr", "MRR", "revenue", Cents, "monthly recurring revenue at the period's end", nil, (*scope).mrr},
	{"arr", "ARR", "revenue", Cents, "MRR × 12 at the period's end", nil, (*scope).arr},
	{"new_mrr", "New MRR", "revenue", Cents, "MRR of first payments in the period", nil, moved("new")},
	{"expansion_mrr", "Expansion MRR", "revenue", Cents, "MRR added by paying customers in the period", nil, moved("expansion")},
	{"contraction_mrr", "Contraction MRR", "revenue", Cents, "MRR lost by customers still paying, in the period", nil, moved("contraction")},
	{"churned_mrr", "Churned MRR", "revenue", Cents, "MRR of customers who stopped paying in the period", nil, moved("churn")},
	{"reactivation_mrr", "Reactivation MRR", "revenue", Cents, "MRR of customers paying again in the period", nil, moved("reactivation")},
	{"nrr", "Net Revenue Retention", "revenue", Percent, "(starting MRR + expansion − contraction − churn) / starting MRR × 100, of customers paying at the period's start (seed 004)", []string{"nrr"}, (*scope).nrr},
	{"grr", "Gross Revenue Retention", "revenue", Percent, "(starting MRR − contraction − churn) / starting MRR × 100", nil, (*scope).grr},
	{"logo_churn", "Logo Churn", "revenue", Percent, "customers paying at the period's start who stopped by its end / those customers × 100", nil, (*scope).logoChurn},
	{"invites_sent", "Invites Sent", "virality", Count, "invitations sent in the period", nil, (*scope).invitesSent},
	{"invitee_signups", "Invitees Signed Up", "virality", Count, "users who signed up by invitation in the period", nil, (*scope).inviteeSignups},
	{"invitees_activated", "Invitees Activated", "virality", Count, "of those, the ones activated by the period's end", nil, (*scope).inviteesActivated},
	{"viral_coefficient", "Viral Coefficient (K)", "virality", Ratio, "users signed up by invitation / users signed up otherwise, in the period", nil, (*scope).viralK},
	{"referral_signups", "Referral Sign-ups", "virality", Count, "sign-ups of the period whose channel is referral", nil, (*scope).referralSignups},
	{"checkout_completion", "Self-serve Checkout Completion", "infrastructure", Percent, "Checkout sessions created in the period and completed / sessions created × 100 (Stripe)", []string{"checkout_completion"}, (*scope).checkout},
	{"identity_match_rate", "Identity Match Rate", "infrastructure", Percent, "users active in the period whose account is linked to a CRM record / users active × 100", []string{"identity_match_rate"}, (*scope).identityMatch},
	{"crm_latency", "Product Event to CRM", "infrastructure", Seconds, "median time from a score's move (raised by an event) to its write into the CRM, for the moves of the period (Beacon's deliveries to HubSpot and Salesforce)", []string{"crm_latency"}, (*scope).crmLatency},
	{"alert_to_outreach", "PQL Alert to Outreach", "infrastructure", Seconds, "median time from a PQL alert raised in the period to the first outreach the CRM records (calls, emails, meetings, tasks)", []string{"alert_to_outreach"}, (*scope).alertToOutreach},
	{"pql_precision", "PQL Precision", "infrastructure", Percent, "accounts becoming PQLs in the period that paid or have an open opportunity by its end / those PQLs × 100", []string{"pql_precision"}, (*scope).pqlPrecision},
}

// defs finds a definition by name.
var defs = func() map[string]*Def {
	m := map[string]*Def{}
	for i := range Defs {
		m[Defs[i].Name] = &Defs[i]
	}
	return m
}()
