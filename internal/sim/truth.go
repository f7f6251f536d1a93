package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Truth is what the simulator knows of a world it wrote: every account in
// order (its index is its place), and every user.
type Truth struct {
	Accounts []TruthAccount
	Users    []TruthUser
	Plan     *Plan // a world with drivers' plan; nil for a classic world
}

// ReadTruth reads the truth file of the world in dir.
func ReadTruth(dir string) (Truth, error) {
	f, err := os.Open(filepath.Join(dir, TruthFile))
	if err != nil {
		return Truth{}, err
	}
	defer f.Close()
	var t Truth
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var kind struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(sc.Bytes(), &kind); err != nil {
			return t, fmt.Errorf("%s line %d: %w", TruthFile, n, err)
		}
		switch kind.Kind {
		case "account":
			var a TruthAccount
			err = json.Unmarshal(sc.Bytes(), &a)
			t.Accounts = append(t.Accounts, a)
		case "plan":
			t.Plan = &Plan{}
			err = json.Unmarshal(sc.Bytes(), t.Plan)
		case "user":
			var u TruthUser
			err = json.Unmarshal(sc.Bytes(), &u)
			t.Users = append(t.Users, u)
		}
		if err != nil {
			return t, fmt.Errorf("%s line %d: %w", TruthFile, n, err)
		}
	}
	return t, sc.Err()
}

// Retention is what the account's MRR did over days [from, to): what it
// paid the day before from, and the expansion, contraction and churn of
// each day after, a change being billed on its day. An account not paying
// before from has nothing to retain: all zero.
func (l Lifecycle) Retention(from, to int) (start, expansion, contraction, churn int) {
	start = l.MRROn(from - 1)
	if start == 0 {
		return 0, 0, 0, 0
	}
	for d := from; d < to; d++ {
		before, after := l.MRROn(d-1), l.MRROn(d)
		switch {
		case after == before:
		case after == 0:
			churn += before
		case after > before:
			expansion += after - before
		default:
			contraction += before - after
		}
	}
	return start, expansion, contraction, churn
}
