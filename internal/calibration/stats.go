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
		return 0, [2]float64{}, false
	}
	or = sr / ss
	v := spr/(2*sr*sr) + sps/(2*sr*ss) + sqs/(2*ss*ss)
	se := math.Sqrt(v)
	return or, [2]float64{or * math.Exp(-z95*se), or * math.Exp(z95*se)}, true
}
