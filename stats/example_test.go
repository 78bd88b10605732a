package stats_test

import (
	"fmt"

	"github.com/assign-dev/assign/stats"
)

// ExampleAnalyze shows what `assignctl results` is expected to do with the
// warehouse aggregates of a binary outcome: one GroupInput per group with its
// configured probability, then print the verdicts and the SRM check.
func ExampleAnalyze() {
	r, err := stats.Analyze(stats.Input{
		Control: "old_journey",
		Groups: []stats.GroupInput{
			{Name: "old_journey", Probability: 0.5, Binary: &stats.Binary{N: 2000, Conversions: 200}},
			{Name: "new_journey", Probability: 0.5, Binary: &stats.Binary{N: 2000, Conversions: 262}},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range r.Groups {
		fmt.Printf("%s: n=%d rate=%.3f\n", g.Name, g.N, float64(g.Rate))
	}
	for _, c := range r.Comparisons {
		fmt.Println(c.Verdict)
	}
	fmt.Printf("SRM: chi2=%.3f p=%.3f mismatch=%v\n", float64(r.SRM.ChiSquare), float64(r.SRM.PValue), r.SRM.Mismatch)
	// Output:
	// old_journey: n=2000 rate=0.100
	// new_journey: n=2000 rate=0.131
	// new_journey beats old_journey: +3.1 pp (+31.0%), 95% CI +1.1 to +5.1 pp, p=0.0022
	// SRM: chi2=0.000 p=1.000 mismatch=false
}

// ExampleSummaryFromSums builds a numeric group from SQL aggregates:
// SELECT count(*), sum(value), sum(value*value) ... GROUP BY group_name.
func ExampleSummaryFromSums() {
	s := stats.SummaryFromSums(10, 55, 385) // the values 1..10
	fmt.Printf("n=%d mean=%.1f sd=%.4f\n", s.N, s.Mean, s.SD())
	// Output: n=10 mean=5.5 sd=3.0277
}
