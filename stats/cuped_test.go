package stats_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// moments computes a group's CovariateMoments from raw values in two
// passes, as var_samp and covar_samp define them.
func moments(y, x []float64) stats.CovariateMoments {
	n := float64(len(y))
	var my, mx float64
	for i := range y {
		my += y[i]
		mx += x[i]
	}
	my, mx = my/n, mx/n
	var syy, sxx, sxy float64
	for i := range y {
		syy += (y[i] - my) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	return stats.CovariateMoments{N: int64(len(y)), MeanY: my, MeanX: mx,
		VarY: syy / (n - 1), VarX: sxx / (n - 1), CovXY: sxy / (n - 1)}
}

// ols fits y on the columns of X by least squares (gonum's QR) and returns
// the coefficients and the residual sum of squares.
func ols(tb testing.TB, X *mat.Dense, y []float64) ([]float64, float64) {
	tb.Helper()
	var beta mat.VecDense
	if err := beta.SolveVec(X, mat.NewVecDense(len(y), y)); err != nil {
		tb.Fatal(err)
	}
	var fit mat.VecDense
	fit.MulVec(X, &beta)
	rss := 0.0
	for i, v := range y {
		rss += (v - fit.AtVec(i)) * (v - fit.AtVec(i))
	}
	return beta.RawVector().Data, rss
}

// TestCUPED_OLS checks CUPED against an independent regression on the raw
// data: y ~ group dummies + x by least squares with gonum/mat. Theta must be
// the coefficient of x, each adjusted difference of means the group's
// coefficient, the adjusted summaries those of the per-user values
// y - theta·(x - mean x) (Summarize), and the variance reduction
// 1 - RSS(y ~ group + x)/RSS(y ~ group), all to 1e-9.
func TestCUPED_OLS(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 7))
	sizes := []int{57, 83, 64}
	effect := []float64{0, 1.5, -0.7}
	shift := []float64{0, 0.3, -0.2} // chance imbalance of the covariate
	var ys, xs [][]float64
	var all int
	for g, n := range sizes {
		y, x := make([]float64, n), make([]float64, n)
		for i := range n {
			// A revenue-like covariate: skewed, correlated with the outcome.
			x[i] = 2*math.Exp(0.8*rng.NormFloat64()) + shift[g]
			y[i] = 2 + 0.8*x[i] + effect[g] + rng.NormFloat64()
		}
		ys, xs = append(ys, y), append(xs, x)
		all += n
	}

	groups := make([]stats.CovariateMoments, len(sizes))
	for g := range sizes {
		groups[g] = moments(ys[g], xs[g])
	}
	r, err := stats.CUPED(groups)
	if err != nil {
		t.Fatal(err)
	}

	// Design: intercept, dummies of groups 1 and 2, x.
	full := mat.NewDense(all, 4, nil)
	byGroup := mat.NewDense(all, 3, nil)
	var yall []float64
	row := 0
	for g := range sizes {
		for i := range ys[g] {
			full.Set(row, 0, 1)
			byGroup.Set(row, 0, 1)
			if g > 0 {
				full.Set(row, g, 1)
				byGroup.Set(row, g, 1)
			}
			full.Set(row, 3, xs[g][i])
			yall = append(yall, ys[g][i])
			row++
		}
	}
	beta, rssFull := ols(t, full, yall)
	_, rssGroups := ols(t, byGroup, yall)
	t.Logf("theta %.6f (true 0.8), variance reduction %.3f", r.Theta, r.VarianceReduction)

	approx(t, "Theta", r.Theta, beta[3], 1e-9)
	for g := 1; g < len(sizes); g++ {
		approx(t, "adjusted difference", r.Adjusted[g].Mean-r.Adjusted[0].Mean, beta[g], 1e-9)
	}
	approx(t, "VarianceReduction", r.VarianceReduction, 1-rssFull/rssGroups, 1e-9)

	var sumX float64
	for g := range sizes {
		for _, x := range xs[g] {
			sumX += x
		}
	}
	meanX := sumX / float64(all)
	for g := range sizes {
		adj := make([]float64, len(ys[g]))
		for i := range adj {
			adj[i] = ys[g][i] - beta[3]*(xs[g][i]-meanX)
		}
		want := stats.Summarize(adj)
		if r.Adjusted[g].N != want.N {
			t.Errorf("group %d: N=%d, want %d", g, r.Adjusted[g].N, want.N)
		}
		approx(t, "adjusted mean", r.Adjusted[g].Mean, want.Mean, 1e-9)
		approx(t, "adjusted variance", r.Adjusted[g].Variance(), want.Variance(), 1e-9)
		// The covariate removes most of the variance of y here.
		if !(r.Adjusted[g].Variance() < groups[g].VarY/2) {
			t.Errorf("group %d: adjusted variance %v, var y %v", g, r.Adjusted[g].Variance(), groups[g].VarY)
		}
	}
	if r.Note != "" {
		t.Errorf("Note=%q, want none", r.Note)
	}

	// The adjusted summaries feed the comparison: the difference is the
	// regression's coefficient.
	c := stats.CompareNumeric(r.Adjusted[0], r.Adjusted[1], 0.95)
	approx(t, "CompareNumeric.Difference", c.Difference, beta[1], 1e-9)
}

func TestCUPED_Edges(t *testing.T) {
	// A covariate constant within each group (it may differ between them):
	// theta = 0 and Y comes back as it was.
	t.Run("NoCovariateVariance", func(t *testing.T) {
		r, err := stats.CUPED([]stats.CovariateMoments{
			{N: 10, MeanY: 5, VarY: 4, MeanX: 1},
			{N: 20, MeanY: 6, VarY: 9, MeanX: 2},
		})
		if err != nil {
			t.Fatal(err)
		}
		approx(t, "Theta", r.Theta, 0, 0)
		approx(t, "Adjusted[1].Mean", r.Adjusted[1].Mean, 6, 0)
		approx(t, "Adjusted[1].Variance", r.Adjusted[1].Variance(), 9, 1e-15)
		approx(t, "VarianceReduction", r.VarianceReduction, 0, 0)
		if r.Note == "" {
			t.Error("Note is empty, want theta = 0 explained")
		}
	})

	// Groups with 0 or 1 user weigh nothing in theta; an empty one keeps a
	// zero summary, a single user is shifted like the others. By hand:
	// theta = (4·2 + 9·1)/(4·4 + 9·1) = 17/25; mean x over 5+10+1 users =
	// (5·1 + 10·2 + 1·4)/16 = 29/16.
	t.Run("SmallGroups", func(t *testing.T) {
		r, err := stats.CUPED([]stats.CovariateMoments{
			{N: 5, MeanY: 3, VarY: 2, MeanX: 1, VarX: 4, CovXY: 2},
			{N: 10, MeanY: 4, VarY: 3, MeanX: 2, VarX: 1, CovXY: 1},
			{N: 1, MeanY: 7, MeanX: 4},
			{N: 0},
		})
		if err != nil {
			t.Fatal(err)
		}
		theta, mx := 17.0/25, 29.0/16
		approx(t, "Theta", r.Theta, theta, 1e-15)
		approx(t, "Adjusted[0].Mean", r.Adjusted[0].Mean, 3-theta*(1-mx), 1e-15)
		approx(t, "Adjusted[0].Variance", r.Adjusted[0].Variance(), 2-2*theta*2+theta*theta*4, 1e-15)
		approx(t, "Adjusted[2].Mean", r.Adjusted[2].Mean, 7-theta*(4-mx), 1e-15)
		if r.Adjusted[3] != (stats.Summary{}) || r.Adjusted[2].N != 1 || r.Adjusted[2].M2 != 0 {
			t.Errorf("small groups: %+v", r.Adjusted)
		}
		// 1 - (4·adjvar0 + 9·adjvar1)/(4·2 + 9·3).
		a0 := 2 - 2*theta*2 + theta*theta*4
		a1 := 3 - 2*theta*1 + theta*theta*1
		approx(t, "VarianceReduction", r.VarianceReduction, 1-(4*a0+9*a1)/35, 1e-15)
	})

	t.Run("Invalid", func(t *testing.T) {
		ok := stats.CovariateMoments{N: 10, MeanY: 1, VarY: 1, MeanX: 1, VarX: 1, CovXY: 0.5}
		for _, tc := range []struct {
			name  string
			edit  func(*stats.CovariateMoments)
			field string
		}{
			{"negative n", func(g *stats.CovariateMoments) { g.N = -1 }, "groups[1].n"},
			{"NaN mean", func(g *stats.CovariateMoments) { g.MeanY = math.NaN() }, "groups[1].mean_y"},
			{"infinite var", func(g *stats.CovariateMoments) { g.VarX = math.Inf(1) }, "groups[1].var_x"},
			{"negative var", func(g *stats.CovariateMoments) { g.VarY = -1 }, "groups[1].var_y"},
			{"covariance beyond the bound", func(g *stats.CovariateMoments) { g.CovXY = 1.01 }, "groups[1].cov_xy"},
		} {
			g := ok
			tc.edit(&g)
			_, err := stats.CUPED([]stats.CovariateMoments{ok, g})
			if assign.ErrorCode(err) != assign.EINVALID || assign.ErrorField(err) != tc.field {
				t.Errorf("%s: err=%v, want EINVALID on %s", tc.name, err, tc.field)
			}
		}
		if _, err := stats.CUPED(nil); assign.ErrorCode(err) != assign.EINVALID {
			t.Errorf("no groups: err=%v, want EINVALID", err)
		}
		// A covariance at the bound (X and Y collinear) is valid.
		g := ok
		g.CovXY = 1
		if _, err := stats.CUPED([]stats.CovariateMoments{ok, g}); err != nil {
			t.Errorf("collinear: %v", err)
		}
	})
}
