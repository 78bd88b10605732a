package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/stats"
)

// A guardrail's verdict lines say HARMED only for the arms that moved it
// the wrong way, not for every significant arm of the metric; a failed
// goal metric is named before the verdicts.
func TestWriteMetricsTable_Guardrail(t *testing.T) {
	rep, err := stats.Analyze(stats.Input{Method: stats.MethodFixed, Groups: []stats.GroupInput{
		{Name: "control", Probability: 1.0 / 3, Binary: &stats.Binary{N: 3000, Conversions: 300}},
		{Name: "worse", Probability: 1.0 / 3, Binary: &stats.Binary{N: 3000, Conversions: 200}},
		{Name: "better", Probability: 1.0 / 3, Binary: &stats.Binary{N: 3000, Conversions: 420}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	m := results.Metric{Name: "retention", Type: "binary", Role: results.RoleGuardrail, Direction: results.DirectionHigher}
	res := &results.MetricsResult{ExperimentID: "x", Correction: "holm", Warnings: []string{"goal metric revenue could not be analysed: ..."},
		Metrics: []results.MetricResult{{Metric: m, Harmed: true, HarmedGroups: []string{"worse"},
			Result: &results.Result{ExperimentID: "x", OutcomeColumn: "converted", Warnings: []string{}, Report: rep}}}}
	var b bytes.Buffer
	if err := writeMetricsTable(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	verdicts := out[strings.Index(out, "Verdicts:"):]
	for _, want := range []string{"retention (guardrail): HARMED: worse is worse than control", "retention (guardrail): no evidence of harm: better beats control"} {
		if !strings.Contains(verdicts, want) {
			t.Errorf("verdicts lack %q:\n%s", want, verdicts)
		}
	}
	if !strings.Contains(out, "WARNING: goal metric revenue could not be analysed") || !strings.Contains(out, "Correction: none (no goal metric)") {
		t.Errorf("output lacks the failed goal's warning or the correction line:\n%s", out)
	}
}
