package calibration

import "math"

// z95 is the normal quantile of a two-sided 95 % interval.
const z95 = 1.959964

// wilson is the 95 % Wilson score interval of a share x/n: honest at the
// small counts and the shares near 0 or 1 discovery meets.
func wilson(x, n int) [2]float64 {
	if n == 0 {
		return [2]float64{0, 1}
	}
	p, nf := float64(x)/float64(n), float64(n)
	d := 1 + z95*z95/nf
	c := (p + z95*z95/(2*nf)) / d
	h := z95 * math.Sqrt(p*(1-p)/nf+z95*z95/(4*nf*nf)) / d
	return [2]float64{math.Max(0, c-h), math.Min(1, c+h)}
}

// ratio is the ratio of two shares x1/n1 over x0/n0 with its 95 %
// interval on the log scale (Katz); half an observation is added to each
// count when one is zero, so that the ratio stays finite.
func ratio(x1, n1, x0, n0 int) (float64, [2]float64) {
	a, b, c, d := float64(x1), float64(n1), float64(x0), float64(n0)
	if x1 == 0 || x0 == 0 || x1 == n1 || x0 == n0 {
		a, b, c, d = a+0.5, b+1, c+0.5, d+1
	}
	r := (a / b) / (c / d)
	se := math.Sqrt(1/a - 1/b + 1/c - 1/d)
	return r, [2]float64{r * math.Exp(-z95*se), r * math.Exp(z95*se)}
}

// stratum is one 2×2 table: converters with and without a candidate,
// non-converters with and without it.
type stratum struct{ a, b, c, d float64 } // a: converters with, b: non-converters with, c: converters without, d: non-converters without

// mantelHaenszel is the odds ratio pooled over strata, each a level of
// activity, with its 95 % interval (the Robins–Breslow–Greenland
// variance): how much more often converters show a candidate than
// non-converters who were as active. ok is false when no stratum holds
// both a discordant pair of each kind.
func mantelHaenszel(strata []stratum) (or float64, ci [2]float64, ok bool) {
	var sr, ss, spr, sps, sqs float64
	for _, s := range strata {
		n := s.a + s.b + s.c + s.d
		if n == 0 {
			continue
		}
		r, q := s.a*s.d/n, s.b*s.c/n
		p, qq := (s.a+s.d)/n, (s.b+s.c)/n
		sr, ss = sr+r, ss+q
		spr, sps, sqs = spr+p*r, sps+p*q+qq*r, sqs+qq*q
	}
	if sr == 0 || ss == 0 {
		// A zero in every stratum (every converter shows it, say): half an
		// observation more in each cell keeps the ratio finite and its
		// interval honest (Haldane-Anscombe), where it was once thrown away.
		return haldane(strata)
	}
	or = sr / ss
	v := spr/(2*sr*sr) + sps/(2*sr*ss) + sqs/(2*ss*ss)
	se := math.Sqrt(v)
	return or, [2]float64{or * math.Exp(-z95*se), or * math.Exp(z95*se)}, true
}

// haldane is mantelHaenszel with half an observation added to every cell
// of the strata that say anything: those with accounts both with and
// without the candidate. A stratum where nobody shows it (or everybody
// does) holds no evidence, yet corrected it would weigh in with the ratio
// of non-converters to converters sampled (ten to one), so that a
// candidate nobody showed came out ten times likelier among converters.
func haldane(strata []stratum) (float64, [2]float64, bool) {
	var fixed []stratum
	for _, s := range strata {
		if s.a+s.b > 0 && s.c+s.d > 0 {
			fixed = append(fixed, stratum{a: s.a + 0.5, b: s.b + 0.5, c: s.c + 0.5, d: s.d + 0.5})
		}
	}
	if len(fixed) == 0 {
		return 0, [2]float64{}, false
	}
	return mantelHaenszel(fixed)
}

// ridgeLambda is the L2 penalty on the joint model's coefficients: with
// fifty conversions and a handful of rules, it keeps a rule that every
// converter shows from an infinite weight, and shrinks what the data
// cannot tell apart toward no effect.
const ridgeLambda = 1.0

// jointOdds fits a logistic regression of y on the columns of x (each
// row one sample, each column whether a rule holds), penalised by
// ridgeLambda, and returns each column's odds ratio given the others.
// Rules that say the same thing share the weight a marginal odds ratio
// would give each of them whole.
func jointOdds(x [][]bool, y []bool) []float64 {
	xs := make([][]float64, len(x))
	for i, row := range x {
		xs[i] = make([]float64, len(row))
		for j, on := range row {
			if on {
				xs[i][j] = 1
			}
		}
	}
	beta := logistic(xs, y, ridgeLambda)
	out := make([]float64, len(beta)-1)
	for j := range out {
		out[j] = math.Exp(beta[j])
	}
	return out
}

// logistic fits a logistic regression of y on the columns of x by Newton's
// method, with an L2 penalty lambda on every coefficient but the
// intercept, which comes last in what it returns.
func logistic(x [][]float64, y []bool, lambda float64) []float64 {
	k := 0
	if len(x) > 0 {
		k = len(x[0])
	}
	beta := make([]float64, k+1)
	for iter := 0; iter < 50; iter++ {
		grad, hess := make([]float64, k+1), make([][]float64, k+1)
		for i := range hess {
			hess[i] = make([]float64, k+1)
		}
		row := make([]float64, k+1)
		for r := range x {
			copy(row, x[r])
			row[k] = 1
			z := 0.0
			for j, v := range row {
				z += beta[j] * v
			}
			p := 1 / (1 + math.Exp(-z))
			w, e := p*(1-p), p
			if y[r] {
				e = p - 1
			}
			for a, va := range row {
				if va == 0 {
					continue
				}
				grad[a] += e * va
				for b, vb := range row {
					hess[a][b] += w * va * vb
				}
			}
		}
		for j := 0; j < k; j++ {
			grad[j] += lambda * beta[j]
			hess[j][j] += lambda
		}
		step, ok := solve(hess, grad)
		if !ok {
			break
		}
		moved := 0.0
		for j := range beta {
			beta[j] -= step[j]
			moved = math.Max(moved, math.Abs(step[j]))
		}
		if moved < 1e-9 {
			break
		}
	}
	return beta
}

// solve solves a x = b by Gaussian elimination with partial pivoting; it
// reports false for a singular a. a and b are overwritten.
func solve(a [][]float64, b []float64) ([]float64, bool) {
	n := len(b)
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12 {
			return nil, false
		}
		a[c], a[p], b[c], b[p] = a[p], a[c], b[p], b[c]
		for r := c + 1; r < n; r++ {
			f := a[r][c] / a[c][c]
			for j := c; j < n; j++ {
				a[r][j] -= f * a[c][j]
			}
			b[r] -= f * b[c]
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < n; j++ {
			s -= a[r][j] * x[j]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}
