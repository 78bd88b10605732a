package stats

import (
	"math"
	"sort"
)

// Holm returns the Holm–Bonferroni adjusted p-values of a family of tests, in
// the order given: with the m defined p-values sorted ascending,
// adj(i) = min(1, max over j <= i of (m-j+1)·p(j)), as R's
// p.adjust(p, method = "holm"). Rejecting every hypothesis whose adjusted
// p-value is below α controls the family-wise error rate at α (Holm, 1979).
// NaN p-values are left out of the family and stay NaN.
func Holm(p []float64) []float64 {
	adj, idx := family(p)
	m := len(idx)
	running := 0.0
	for j, i := range idx {
		running = math.Max(running, float64(m-j)*p[i])
		adj[i] = math.Min(1, running)
	}
	return adj
}

// BenjaminiHochberg returns the Benjamini–Hochberg adjusted p-values (the
// "q-values" of the step-up procedure) of a family of tests, in the order
// given: with the m defined p-values sorted ascending,
// adj(i) = min(1, min over j >= i of m·p(j)/j), as R's
// p.adjust(p, method = "BH"). Rejecting every hypothesis whose adjusted
// p-value is below α controls the false discovery rate at α for independent
// (or positively dependent) tests (Benjamini and Hochberg, 1995): weaker than
// Holm's family-wise guarantee, so it rejects more. NaN p-values are left out
// of the family and stay NaN, as in Holm.
func BenjaminiHochberg(p []float64) []float64 {
	adj, idx := family(p)
	m := len(idx)
	// Step-up: the running minimum from the largest p-value down, so that
	// the adjusted values keep the order of the raw ones.
	running := 1.0
	for j := m - 1; j >= 0; j-- {
		i := idx[j]
		running = math.Min(running, float64(m)/float64(j+1)*p[i])
		adj[i] = running
	}
	return adj
}

// family returns the adjusted p-values to fill, all NaN, and the indices of
// the defined p-values sorted ascending: the family both adjustments walk.
// Stable, so that ties keep their order; their adjusted values are equal
// anyway, by the running maximum or minimum.
func family(p []float64) ([]float64, []int) {
	adj := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		adj[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	return adj, idx
}
