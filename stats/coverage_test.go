package stats_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/assign-dev/assign/stats"
)

// The coverage of every interval a numeric comparison prints, measured on
// simulated experiments: revenue-like outcomes (most users spend nothing,
// the others a lognormal amount) where normal approximations are at their
// worst. Each scenario runs coverageRuns experiments (SE of a 95% coverage
// about 0.34%) from a fixed seed; an interval must cover the true value in
// at least 93% of the runs where it is defined (for a numeric outcome: and
// the skewness warning is not raised, see TestCoverage_Numeric). A coverage
// measured on fewer than minCalmRuns runs is logged, not asserted (its SE
// would exceed 1.5%).
const (
	coverageRuns = 4000
	minCoverage  = 0.93
	minCalmRuns  = 200
)

// revenueScenario is one simulated population.
type revenueScenario struct {
	name     string
	n        int     // users per group
	pZero    float64 // share of users with no revenue
	sigma    float64 // lognormal sigma of the others (mu = 0)
	ratio    float64 // treatment values are control's times ratio
	winsor   bool    // cap both groups at the pooled 99th percentile
	seed     uint64
	horizons []int64 // sequential horizons to check (the tool's default and the current sample)
	// diffShortfall marks the one interval that does not hold its coverage
	// here even among the runs without the skewness warning: DifferenceCI
	// on raw heavy-tailed revenue with a true effect; see
	// TestCoverage_Numeric.
	diffShortfall bool
}

// truth returns the population difference of the means and relative lift.
// Treatment is control scaled by ratio: without a cap the difference is
// (ratio - 1)·(1 - pZero)·exp(sigma²/2), the lognormal mean, and the lift
// ratio - 1. Winsorized, the estimand is the same for the capped outcome,
// min(Y, c) with c the population's pooled 99th percentile (what the
// sample's percentile estimates), and
//
//	E min(X, c) = m·exp(sigma²/2)·Phi((log(c/m) - sigma²)/sigma) + c·(1 - Phi(log(c/m)/sigma))
//
// for X = m·exp(sigma·Z) (the partial expectation of the lognormal): in A/A
// 0 and 0 whatever the cap.
func (s revenueScenario) truth() (diff, lift float64) {
	phi := func(z float64) float64 { return math.Erfc(-z/math.Sqrt2) / 2 }
	if !s.winsor {
		return (s.ratio - 1) * (1 - s.pZero) * math.Exp(s.sigma*s.sigma/2), s.ratio - 1
	}
	sg := s.sigma
	// The pooled 99th percentile by bisection on the mixture's CDF.
	cdf := func(c float64) float64 {
		return s.pZero + (1-s.pZero)*(phi(math.Log(c)/sg)+phi(math.Log(c/s.ratio)/sg))/2
	}
	lo, hi := 1e-12, 1e12
	for range 200 {
		mid := math.Sqrt(lo * hi)
		if cdf(mid) < 0.99 {
			lo = mid
		} else {
			hi = mid
		}
	}
	c := math.Sqrt(lo * hi)
	capped := func(m float64) float64 {
		l := math.Log(c / m)
		return (1 - s.pZero) * (m*math.Exp(sg*sg/2)*phi((l-sg*sg)/sg) + c*(1-phi(l/sg)))
	}
	m1, m2 := capped(1), capped(s.ratio)
	return m2 - m1, m2/m1 - 1
}

func (s revenueScenario) draw(rng *rand.Rand, xs []float64, scale float64) {
	for i := range xs {
		xs[i] = 0
		if rng.Float64() >= s.pZero {
			xs[i] = scale * math.Exp(s.sigma*rng.NormFloat64())
		}
	}
}

// percentileCont is SQL's percentile_cont(p) (PostgreSQL, DuckDB): linear
// interpolation between the order statistics at p·(n-1).
func percentileCont(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// coverageCounter counts, for one interval, the runs where it is defined and
// those where it covers the truth.
type coverageCounter struct{ defined, covered int }

func (c *coverageCounter) add(iv stats.Interval, truth float64) {
	if !iv.Lower.Valid() || !iv.Upper.Valid() {
		return
	}
	c.defined++
	if iv.Contains(truth) {
		c.covered++
	}
}

func (c coverageCounter) rate() float64 { return float64(c.covered) / float64(c.defined) }

// TestCoverage_Numeric checks DifferenceCI (Welch), RelativeLiftCI
// (Fieller) and the sequential confidence sequence at the default horizon and
// at the current sample, in A/A and with a true ratio of 1.2, raw and
// winsorized at the pooled 99th percentile as package results does, and
// states the guarantee the tool gives with its skewness warning
// (|DifferenceSkewness| > SkewnessLimit, each group's third central moment
// avg((y - mean)³) computed from the simulated values as package results
// computes it in SQL; an undefined skewness raises none):
//
//   - in every scenario, every interval covers the truth in at least 93% of
//     the runs where it is defined and the warning is not raised (asserted
//     where that is at least minCalmRuns runs);
//   - in A/A, every interval covers in at least 93% of all the runs where it
//     is defined, warned or not (the two groups' skewness cancels);
//
// and logs, per scenario, the share of runs warned and each interval's
// coverage among them.
//
// One interval does not hold that guarantee, and the test pins it (80% to
// 93%) instead of hiding it: DifferenceCI on raw heavy-tailed revenue (95%
// zeros, lognormal sigma 2.5, 200 users per group) with a true effect. It
// covers the population difference in 87.9% of all runs, nearly every miss
// below it, and in only 84.6% of the 8% of runs without the warning. The
// per-user CV is about 100 (sd 116, mean 1.14) and 79% of the mean comes from
// payers above 70, which a group of about 10 payers contains in only a third
// of the runs: the others estimate a population without that tail, with a
// variance to match. A run that samples one of those payers has a skewed
// difference and is warned (92% of runs); those that pass the rule are
// mostly runs that sampled neither group's tail, which is what makes the
// interval miss. No limit on DifferenceSkewness mends this (0.05: 89.0% of
// 73 runs; 0.1: 87.0% of 146; 0.3: 85.2% of 508), the sample's moments
// cannot show a tail the sample lacks. The same population with 1,000 or
// 5,000 users per group holds it (96.8% of 625 and 98.4% of 928 runs
// without the warning, seeds as here): the shortfall is that of a group
// with about 10 payers. The sequential sequence there covers
// 94.0% (horizon 400) of the same runs, Fieller's interval is defined in too
// few of them to say. Winsorizing changes the estimand to the capped mean,
// which these sample sizes do estimate, and the warning then marks the
// runs that miss (69% to 76% coverage among the warned ones).
func TestCoverage_Numeric(t *testing.T) {
	heavy := revenueScenario{n: 200, pZero: 0.95, sigma: 2.5, ratio: 1}
	light := revenueScenario{n: 100, pZero: 0.80, sigma: 1, ratio: 1}
	var scenarios []revenueScenario
	for i, base := range []revenueScenario{heavy, light} {
		kind := []string{"heavy (95% zeros, sigma 2.5, 200/group)", "light (80% zeros, sigma 1, 100/group)"}[i]
		aa, lift, wins, winsLift := base, base, base, base
		aa.name, aa.seed = kind+" A/A", uint64(10*i+1)
		lift.name, lift.ratio, lift.seed = kind+" x1.2", 1.2, uint64(10*i+2)
		lift.diffShortfall = i == 0
		wins.name, wins.winsor, wins.seed = kind+" A/A winsorized p99", true, uint64(10*i+3)
		winsLift.name, winsLift.ratio, winsLift.winsor, winsLift.seed = kind+" x1.2 winsorized p99", 1.2, true, uint64(10*i+4)
		scenarios = append(scenarios, aa, lift, wins, winsLift)
	}
	for _, s := range scenarios {
		s.horizons = []int64{stats.DefaultSequentialHorizon, int64(2 * s.n)}
		t.Run(s.name, func(t *testing.T) { checkRevenueCoverage(t, s) })
	}
}

// intervalCoverage counts one interval's coverage over all runs, over the
// runs without the skewness warning and over those with it.
type intervalCoverage struct {
	name              string
	all, calm, warned coverageCounter
}

func (c *intervalCoverage) add(iv stats.Interval, truth float64, warned bool) {
	c.all.add(iv, truth)
	if warned {
		c.warned.add(iv, truth)
	} else {
		c.calm.add(iv, truth)
	}
}

// thirdMoment is avg((y - mean)³), the population third central moment.
func thirdMoment(ys []float64, mean float64) float64 {
	var s float64
	for _, y := range ys {
		d := y - mean
		s += d * d * d
	}
	return s / float64(len(ys))
}

func checkRevenueCoverage(t *testing.T, s revenueScenario) {
	rng := rand.New(rand.NewPCG(s.seed, 2026))
	diff, lift := s.truth()
	welch := &intervalCoverage{name: "DifferenceCI"}
	fieller := &intervalCoverage{name: "RelativeLiftCI"}
	intervals := []*intervalCoverage{welch, fieller}
	seq := make([]*intervalCoverage, len(s.horizons))
	for i, h := range s.horizons {
		seq[i] = &intervalCoverage{name: "Sequential.CI(horizon " + itoa(h) + ")"}
		intervals = append(intervals, seq[i])
	}
	var deltaLog coverageCounter
	var welchBelow int // runs where DifferenceCI lies entirely below the truth
	var unbounded, welchReject, warned, undefinedSkew int
	y1, y2 := make([]float64, s.n), make([]float64, s.n)
	pooled := make([]float64, 0, 2*s.n)
	for range coverageRuns {
		s.draw(rng, y1, 1)
		s.draw(rng, y2, s.ratio)
		if s.winsor {
			pooled = append(append(pooled[:0], y1...), y2...)
			slices.Sort(pooled)
			cap := percentileCont(pooled, 0.99)
			for i := range y1 {
				y1[i], y2[i] = math.Min(y1[i], cap), math.Min(y2[i], cap)
			}
		}
		s1, s2 := stats.Summarize(y1), stats.Summarize(y2)
		// The warning the tool prints: NaN (no variance) raises none.
		skew := stats.DifferenceSkewness(s1, s2, thirdMoment(y1, s1.Mean), thirdMoment(y2, s2.Mean))
		warn := math.Abs(skew) > stats.SkewnessLimit
		if warn {
			warned++
		} else if math.IsNaN(skew) {
			undefinedSkew++
		}
		c := stats.CompareNumeric(s1, s2, 0.95)
		welch.add(c.DifferenceCI, diff, warn)
		if c.DifferenceCI.Upper < stats.Float(diff) {
			welchBelow++
		}
		fieller.add(c.RelativeLiftCI, lift, warn)
		if c.Note == stats.NoteRatioUnbounded {
			unbounded++
		}
		if c.PValue.Valid() && c.PValue < 0.05 {
			welchReject++
		}
		for i, h := range s.horizons {
			sq := stats.SequentialNumeric(s1, s2, h, 0.95)
			seq[i].add(sq.CI, diff, warn)
		}
		deltaLog.add(deltaLogInterval(s1, s2), lift)
	}
	t.Logf("skewness warning (|skewness| > %v) in %.1f%% of runs (%d), undefined in %d", stats.SkewnessLimit,
		100*float64(warned)/coverageRuns, warned, undefinedSkew)
	t.Logf("Welch p < 0.05 in %.1f%% of runs; DifferenceCI entirely below the truth in %.1f%%; ratio not estimable in %.1f%%",
		100*float64(welchReject)/coverageRuns, 100*float64(welchBelow)/coverageRuns, 100*float64(unbounded)/coverageRuns)
	for _, iv := range intervals {
		t.Logf("%-28s coverage: without the warning %s, with it %s, all runs %s", iv.name, iv.calm, iv.warned, iv.all)
	}
	t.Logf("for comparison, the former delta-method log interval: coverage %s", deltaLog)

	check := func(name string, c coverageCounter, minDefined int) {
		t.Helper()
		switch {
		case c.defined < minDefined:
			t.Logf("%s: defined in only %d runs, too few to assert its coverage", name, c.defined)
		case c.rate() < minCoverage:
			t.Errorf("%s covers the truth in %.1f%% of %d runs, want >= %.0f%%", name, 100*c.rate(), c.defined, 100*minCoverage)
		}
	}
	for _, iv := range intervals {
		if iv == welch && s.diffShortfall {
			if r := welch.calm.rate(); welch.calm.defined < minCalmRuns || r < 0.80 || r >= minCoverage {
				t.Errorf("DifferenceCI covers the truth in %s of the runs without the skewness warning: the known shortfall is 84.6%% of 319, pinned to [80%%, 93%%); update TestCoverage_Numeric",
					welch.calm)
			}
			continue
		}
		check(iv.name+" without the skewness warning", iv.calm, minCalmRuns)
		if s.ratio == 1 {
			// Some runs must print the interval, or its coverage says nothing.
			if iv.all.defined < coverageRuns/10 {
				t.Errorf("%s defined in only %d of %d runs", iv.name, iv.all.defined, coverageRuns)
			}
			check(iv.name+" (A/A, all runs)", iv.all, 0)
		}
	}
	if c := unbounded + fieller.all.defined; c != coverageRuns {
		t.Errorf("%d runs with a lift interval or the unbounded note, want all %d", c, coverageRuns)
	}
}

func (c coverageCounter) String() string {
	if c.defined == 0 {
		return "- (never defined)"
	}
	return strconv.FormatFloat(100*c.rate(), 'f', 1, 64) + "% of " + strconv.Itoa(c.defined)
}

// deltaLogInterval is the interval CompareNumeric printed before Fieller's:
// exp(log(m2/m1) ± z·sqrt(v1/m1² + v2/m2²)) - 1, kept here only to show
// what it did on these data.
func deltaLogInterval(s1, s2 stats.Summary) stats.Interval {
	m1, m2 := s1.Mean, s2.Mean
	if !(m1 > 0 && m2 > 0) {
		return stats.Interval{Lower: stats.NaN(), Upper: stats.NaN()}
	}
	se := math.Sqrt(s1.Variance()/float64(s1.N)/(m1*m1) + s2.Variance()/float64(s2.N)/(m2*m2))
	l := math.Log(m2 / m1)
	const z = 1.959963984540054
	return stats.Interval{Lower: stats.Float(math.Expm1(l - z*se)), Upper: stats.Float(math.Expm1(l + z*se))}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestCoverage_BinaryLift checks the relative lift interval of a binary
// outcome (Katz's log risk ratio) at small samples and rates, where the
// numeric delta-method interval failed: it holds 93% wherever it is defined
// (both groups converted), mostly by over-covering when conversions are
// few, so it is kept. The Wald difference interval is logged alongside.
func TestCoverage_BinaryLift(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 2026))
	const runs = 2000
	binom := func(n int, p float64) int64 {
		var k int64
		for range n {
			if rng.Float64() < p {
				k++
			}
		}
		return k
	}
	for _, cell := range []struct {
		n     int
		p, rr float64
	}{{30, 0.3, 1}, {30, 0.3, 1.5}, {100, 0.05, 1}, {100, 0.05, 1.5}, {200, 0.02, 1}, {200, 0.02, 1.5}, {1000, 0.01, 1}, {1000, 0.01, 1.5}} {
		var lift, wald coverageCounter
		for range runs {
			a := stats.Binary{N: int64(cell.n), Conversions: binom(cell.n, cell.p)}
			b := stats.Binary{N: int64(cell.n), Conversions: binom(cell.n, cell.p*cell.rr)}
			c := stats.CompareBinary(a, b, 0.95)
			lift.add(c.RelativeLiftCI, cell.rr-1)
			wald.add(c.DifferenceCI, cell.p*(cell.rr-1))
		}
		t.Logf("n=%d/group p=%.2f rr=%.1f: RelativeLiftCI (Katz) coverage %.1f%% of %d defined; DifferenceCI (Wald) %.1f%%",
			cell.n, cell.p, cell.rr, 100*lift.rate(), lift.defined, 100*wald.rate())
		if lift.defined < runs/2 || lift.rate() < minCoverage {
			t.Errorf("n=%d p=%v rr=%v: Katz interval covers %.1f%% of %d", cell.n, cell.p, cell.rr, 100*lift.rate(), lift.defined)
		}
	}
}
