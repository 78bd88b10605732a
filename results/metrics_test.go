package results_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
)

const twoMetrics = `
correction: holm
metrics:
  - name: ordered
    description: placed an order
    type: binary
    time_column: ordered_at
    sql: SELECT user_id, ordered_at, converted FROM orders
  - name: revenue
    type: numeric
    time_column: ordered_at
    sql: |
      SELECT user_id, ordered_at, amount AS value
      FROM orders
  - name: cancellations
    type: binary
    role: guardrail
    direction: lower
    time_column: ordered_at
    sql: SELECT user_id, ordered_at, 1 - converted AS converted FROM orders
`

func TestParseMetrics(t *testing.T) {
	f, err := results.ParseMetrics([]byte(twoMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Metrics) != 3 || f.Correction != stats.CorrectionHolm {
		t.Fatalf("%d metrics, correction %q", len(f.Metrics), f.Correction)
	}
	if m := f.Metrics[1]; m.Role != results.RoleGoal || m.Direction != results.DirectionHigher || !strings.Contains(m.SQL, "FROM orders") {
		t.Errorf("defaults not filled: %+v", m)
	}
	if m := f.Metrics[2]; m.Role != results.RoleGuardrail || m.Direction != results.DirectionLower {
		t.Errorf("guardrail: %+v", m)
	}
	if f, err := results.ParseMetrics([]byte(`{"metrics": [{"name": "a", "type": "binary", "sql": "SELECT 1"}]}`)); err != nil || f.Metrics[0].Name != "a" {
		t.Errorf("JSON: %v, %v", f, err)
	}

	for name, tc := range map[string]struct{ body, field, text string }{
		"Empty":        {"", "metrics", "empty"},
		"NoMetrics":    {"correction: holm\n", "metrics", "no metrics"},
		"NotYAML":      {"metrics: [", "metrics", "not valid YAML"},
		"UnknownKey":   {"metrics:\n  - name: a\n    type: binary\n    sql: x\n    windw: 7d\n", "metrics", "windw"},
		"Correction":   {"correction: bonferroni\nmetrics:\n  - {name: a, type: binary, sql: x}\n", "correction", "bonferroni"},
		"Name":         {"metrics:\n  - {name: 'a b', type: binary, sql: x}\n", "metrics[0].name", "a b"},
		"Duplicate":    {"metrics:\n  - {name: a, type: binary, sql: x}\n  - {name: a, type: numeric, sql: y}\n", "metrics[1].name", "twice"},
		"Type":         {"metrics:\n  - {name: a, type: count, sql: x}\n", "metrics[0].type", "count"},
		"Role":         {"metrics:\n  - {name: a, type: binary, role: kpi, sql: x}\n", "metrics[0].role", "kpi"},
		"Direction":    {"metrics:\n  - {name: a, type: binary, direction: up, sql: x}\n", "metrics[0].direction", "up"},
		"SQL":          {"metrics:\n  - {name: a, type: binary}\n", "metrics[0].sql", "required"},
		"Window":       {"metrics:\n  - {name: a, type: binary, sql: x, time_column: t, window: 7 days}\n", "metrics[0].window", "7 days"},
		"WindowNoTime": {"metrics:\n  - {name: a, type: binary, sql: x, window: 7d}\n", "metrics[0].window", "time column"},
		"CapBinary":    {"metrics:\n  - {name: a, type: binary, sql: x, cap_percentile: 99}\n", "metrics[0].cap_percentile", "numeric"},
		"CapRange":     {"metrics:\n  - {name: a, type: numeric, sql: x, cap_percentile: 100}\n", "metrics[0].cap_percentile", "(0, 100)"},
		"CUPEDNoTime":  {"metrics:\n  - {name: a, type: numeric, sql: x, cuped: true}\n", "metrics[0].cuped", "time column"},
		"TimeColumn":   {"metrics:\n  - {name: a, type: numeric, sql: x, time_column: 'a;b'}\n", "metrics[0].time_column", "plain column"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := results.ParseMetrics([]byte(tc.body))
			var e *assign.Error
			if !asError(err, &e) || e.Code != assign.EINVALID || e.Field != tc.field || !strings.Contains(e.Message, tc.text) {
				t.Fatalf("err=%#v, want EINVALID on %s mentioning %q", err, tc.field, tc.text)
			}
		})
	}
}

// Every metric of the file is analysed as Analyze alone would, except that
// the goal metrics' p-values are adjusted together (Holm over both goals),
// the guardrail keeps its own, and a broken metric fails alone.
func TestWarehouse_AnalyzeMetrics(t *testing.T) {
	ref := resultstest.PropTest()
	f, err := results.ParseMetrics([]byte(twoMetrics + `
  - name: broken
    type: numeric
    sql: SELECT user_id, nothing FROM orders
  - name: mistyped
    type: numeric
    sql: SELECT user_id, converted FROM orders
`))
	if err != nil {
		t.Fatal(err)
	}
	forEachWarehouse(t, ref.Fixture, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		base := results.Query{ExperimentID: "prop-test", Method: stats.MethodFixed}
		res, err := w.AnalyzeMetrics(ctx, base, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Metrics) != 5 || res.Correction != stats.CorrectionHolm || !res.Failed() {
			t.Fatalf("%d metrics, correction %q, failed %v", len(res.Metrics), res.Correction, res.Failed())
		}
		var raw []float64
		for i, m := range res.Metrics[:3] {
			if m.Error != "" || m.Result == nil {
				t.Fatalf("metric %s: %s", m.Metric.Name, m.Error)
			}
			q, err := f.Metrics[i].Query(base)
			if err != nil {
				t.Fatal(err)
			}
			alone, err := w.Analyze(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			// DuckDB's parallel sums are not bit-stable from run to run.
			approx(t, m.Metric.Name+".PValue", m.Comparisons[0].PValue, float64(alone.Comparisons[0].PValue), 1e-12)
			approx(t, m.Metric.Name+".Difference", m.Comparisons[0].Difference, float64(alone.Comparisons[0].Difference), 1e-12)
			if i < 2 {
				raw = append(raw, float64(alone.Comparisons[0].PValue))
			} else {
				approx(t, "guardrail adjusted", m.Comparisons[0].AdjustedPValue, float64(alone.Comparisons[0].AdjustedPValue), 1e-12)
				if m.Harmed != (m.Comparisons[0].Significant && m.Comparisons[0].Difference > 0) || m.Harmed != (len(m.HarmedGroups) == 1) {
					t.Errorf("guardrail Harmed=%v %v with difference %v significant %v", m.Harmed, m.HarmedGroups, m.Comparisons[0].Difference, m.Comparisons[0].Significant)
				}
			}
		}
		if res.Metrics[0].Outcome != stats.OutcomeBinary || res.Metrics[1].Outcome != stats.OutcomeNumeric {
			t.Errorf("outcomes %q, %q", res.Metrics[0].Outcome, res.Metrics[1].Outcome)
		}
		// The two goals that ran and the two that failed (each one
		// comparison, counted as p = 1) make the family of four.
		if res.GoalComparisons != 4 || len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "goal metric broken could not be analysed") {
			t.Errorf("GoalComparisons=%d Warnings=%q, want 4 and the two failed goals named", res.GoalComparisons, res.Warnings)
		}
		for i, want := range stats.Holm(append(raw, 1, 1))[:2] {
			approx(t, res.Metrics[i].Metric.Name+".AdjustedPValue", res.Metrics[i].Comparisons[0].AdjustedPValue, want, 1e-12)
		}
		if m := res.Metrics[3]; m.Result != nil || !strings.Contains(m.Error, "fails") {
			t.Errorf("broken metric: error %q", m.Error)
		}
		if m := res.Metrics[4]; m.Result != nil || !strings.Contains(m.Error, "a numeric metric's query must return value") {
			t.Errorf("mistyped metric: error %q", m.Error)
		}

		// An experiment the warehouse does not hold fails the whole.
		nobody := base
		nobody.ExperimentID = "nobody"
		if _, err := w.AnalyzeMetrics(ctx, nobody, f); assign.ErrorCode(err) != assign.ENOTFOUND {
			t.Errorf("unknown experiment: err=%v, want ENOTFOUND", err)
		}
		// So does a warehouse that stops answering: no metric's fault.
		w.Close()
		if _, err := w.AnalyzeMetrics(ctx, base, f); assign.ErrorCode(err) != assign.EUNAVAILABLE {
			t.Errorf("closed warehouse: err=%v, want EUNAVAILABLE", err)
		}
	})
}

func asError(err error, target **assign.Error) bool { return errors.As(err, target) }

// A metric's SQL cannot write the warehouse: PostgreSQL sessions of the
// analysis are read-only whatever the role may do.
func TestWarehouse_ReadOnlyPostgres(t *testing.T) {
	ref := resultstest.PropTest()
	w := mustOpen(t, resultstest.LoadPostgres(t, ref.Fixture))
	q := results.Query{ExperimentID: "prop-test", Method: stats.MethodFixed,
		OutcomeSQL: "SELECT user_id, 1 AS converted FROM orders), x AS (DELETE FROM orders RETURNING user_id), o2 AS (SELECT 1"}
	_, err := w.Analyze(context.Background(), q)
	if err == nil {
		t.Fatal("a data-modifying CTE in the outcome SQL ran")
	}
	var n int
	if err := w.DB().QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil || n == 0 {
		t.Fatalf("orders: %d rows, %v: the analysis wrote the warehouse", n, err)
	}
	if _, err := w.DB().Exec("CREATE TABLE written (x int)"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("CREATE TABLE through the analysis connection: %v, want a read-only refusal", err)
	}
}
