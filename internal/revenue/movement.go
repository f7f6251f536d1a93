package revenue

// Kind is the kind of an MRR movement.
type Kind string

// The movements of MRR, as revenue reports name them.
const (
	None         Kind = ""
	New          Kind = "new"          // a first paying month
	Expansion    Kind = "expansion"    // more than before
	Contraction  Kind = "contraction"  // less, still paying
	Churn        Kind = "churn"        // nothing, after paying
	Reactivation Kind = "reactivation" // paying again after churning
)

// Classify names the movement from before to after (MRR in cents);
// paidBefore says whether the account ever paid before this change.
func Classify(before, after int64, paidBefore bool) Kind {
	switch {
	case before == after:
		return None
	case before == 0 && paidBefore:
		return Reactivation
	case before == 0:
		return New
	case after == 0:
		return Churn
	case after > before:
		return Expansion
	}
	return Contraction
}
