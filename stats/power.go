package stats

import (
	"math"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Power and sample size of the tests `assignctl results` runs, as R's
// power.prop.test and power.t.test compute them (strict = FALSE: the power
// counts rejections in the direction of the true effect only; the other
// tail adds at most α/2 and nothing at any useful power), generalised to
// unequal group sizes n1 (control) and n2:
//
//   - Proportions (the pooled two-proportion z-test), Fleiss' formula:
//     power = Φ((|p2-p1| - z(1-α/2)·√(p̄q̄(1/n1+1/n2))) / √(p1q1/n1 + p2q2/n2)),
//     p̄ = (n1p1 + n2p2)/(n1+n2). With n1 = n2 = n it is power.prop.test's.
//   - Means (the two-sample t-test with a common sd σ): the noncentral t,
//     df = n1+n2-2, ncp = δ/(σ√(1/n1+1/n2)), power = P(T'(df, ncp) > t(1-α/2, df)),
//     as power.t.test with n1 = n2 = n and statsmodels' TTestIndPower with
//     ratio = n2/n1 (which adds the other tail). Results analyses means with
//     Welch's test, whose power with equal variances is the same to within a
//     fraction of a user at these sizes.

// PowerProportions is the power of the two-sided two-proportion z-test at
// level alpha with n1 users at rate p1 and n2 at p2 (sizes may be fractional).
func PowerProportions(n1, n2, p1, p2, alpha float64) float64 {
	pb := (n1*p1 + n2*p2) / (n1 + n2)
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	num := math.Abs(p2-p1) - z*math.Sqrt(pb*(1-pb)*(1/n1+1/n2))
	return distuv.UnitNormal.CDF(num / math.Sqrt(p1*(1-p1)/n1+p2*(1-p2)/n2))
}

// SampleSizeProportions returns the control group's size n1 (fractional)
// at which the z-test of p1 against p2 reaches power at level alpha when the
// treatment group has ratio·n1 users. Closed form: √n1 = (z(1-α/2)·√(p̄q̄(1+1/r))
// + z(power)·√(p1q1 + p2q2/r)) / |p2-p1|, p̄ = (p1 + r·p2)/(1+r).
func SampleSizeProportions(p1, p2, alpha, power, ratio float64) float64 {
	pb := (p1 + ratio*p2) / (1 + ratio)
	za := distuv.UnitNormal.Quantile(1 - alpha/2)
	zb := distuv.UnitNormal.Quantile(power)
	s := (za*math.Sqrt(pb*(1-pb)*(1+1/ratio)) + zb*math.Sqrt(p1*(1-p1)+p2*(1-p2)/ratio)) / math.Abs(p2-p1)
	return s * s
}

// DetectableProportion returns the treatment rate p2 > p1 that the z-test
// detects with the given power at level alpha with n1 and n2 users, NaN when
// no rate below 1 is detectable.
func DetectableProportion(n1, n2, p1, alpha, power float64) float64 {
	f := func(p2 float64) float64 { return PowerProportions(n1, n2, p1, p2, alpha) - power }
	hi := 1 - 1e-12
	if f(hi) < 0 {
		return math.NaN()
	}
	return bisect(f, p1, hi)
}

// PowerMeans is the power of the two-sided two-sample t-test at level alpha
// of a difference delta between means, with a common sd, n1 and n2 users.
func PowerMeans(n1, n2, delta, sd, alpha float64) float64 {
	df := n1 + n2 - 2
	ncp := math.Abs(delta) / (sd * math.Sqrt(1/n1+1/n2))
	c := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(1 - alpha/2)
	return noncentralTUpper(c, df, ncp)
}

// SampleSizeMeans returns the control group's size n1 (fractional, at least
// 2) at which the t-test detects delta with power at level alpha when the
// treatment group has ratio·n1 users.
func SampleSizeMeans(delta, sd, alpha, power, ratio float64) float64 {
	f := func(n float64) float64 { return PowerMeans(n, ratio*n, delta, sd, alpha) - power }
	lo := math.Max(2, 2/ratio)
	if f(lo) >= 0 {
		return lo
	}
	hi := 2 * lo
	for f(hi) < 0 {
		if hi *= 2; hi > 1e15 {
			return math.Inf(1)
		}
	}
	return bisect(f, lo, hi)
}

// DetectableMean returns the difference of means delta > 0 that the t-test
// detects with the given power at level alpha with n1 and n2 users.
func DetectableMean(n1, n2, sd, alpha, power float64) float64 {
	f := func(d float64) float64 { return PowerMeans(n1, n2, d, sd, alpha) - power }
	hi := sd
	for f(hi) < 0 {
		if hi *= 2; hi > 1e12*sd {
			return math.NaN()
		}
	}
	return bisect(f, 0, hi)
}

// bisect finds the root of an increasing f in [lo, hi] to the last bits.
func bisect(f func(float64) float64, lo, hi float64) float64 {
	for range 200 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// noncentralTUpper returns P(T' > c) for the noncentral t with df degrees of
// freedom and noncentrality ncp: T' = (Z + ncp)/√(V/df), V ~ χ²(df), so
// P(T' > c) = E[Φ(ncp - c·W/√df)] with W = √V, whose density
// 2w·f_χ²(w²) ∝ w^(df-1)·exp(-w²/2) has no singularity. The expectation is
// integrated with Gauss–Legendre panels over W's effective range (beyond
// 40 sd of V the mass is below 1e-300).
func noncentralTUpper(c, df, ncp float64) float64 {
	lg, _ := math.Lgamma(df / 2)
	logNorm := math.Ln2 - (df/2)*math.Ln2 - lg // log of 2/(2^(df/2)Γ(df/2))
	sdev := math.Sqrt(2 * df)
	lo := math.Sqrt(math.Max(0, df-40*sdev))
	hi := math.Sqrt(df + 40*sdev + 40)
	rdf := math.Sqrt(df)
	f := func(w float64) float64 {
		if w <= 0 {
			return 0
		}
		dens := math.Exp(logNorm + (df-1)*math.Log(w) - w*w/2)
		return distuv.UnitNormal.CDF(ncp-c*w/rdf) * dens
	}
	const panels = 200
	width := (hi - lo) / panels
	var sum float64
	for i := range panels {
		a := lo + float64(i)*width
		sum += quad.Fixed(f, a, a+width, 20, quad.Legendre{}, 0)
	}
	return math.Min(1, math.Max(0, sum))
}
