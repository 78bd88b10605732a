package results_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/assign-dev/assign/results"
	"github.com/assign-dev/assign/results/resultstest"
	"github.com/assign-dev/assign/stats"
	"github.com/assign-dev/assign/warehouse"
)

// The rows of QA overrides (override = true) are not members: the analysis
// leaves them out, however many there are and whatever they ordered. Forty
// converting override users in one group would otherwise change every
// number of the reference.
func TestWarehouse_Analyze_LeavesOverridesOut(t *testing.T) {
	ref := resultstest.PropTest()
	f := *ref.Fixture
	f.Enrollments = append([]warehouse.EnrollmentRow(nil), f.Enrollments...)
	f.Orders = append([]resultstest.Order(nil), f.Orders...)
	group := f.Enrollments[len(f.Enrollments)-1].Group
	for i := range 40 {
		user := fmt.Sprintf("qa-%d", i)
		at := resultstest.T0.Add(time.Duration(i) * time.Minute)
		f.Enrollments = append(f.Enrollments, warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: user, Group: group, EnrolledAt: at, Override: true})
		f.Orders = append(f.Orders, resultstest.Order{UserID: user, OrderedAt: at.Add(time.Hour), Converted: 1, Amount: 10})
	}
	forEachWarehouse(t, &f, func(t *testing.T, w *results.Warehouse) {
		res, err := w.Analyze(context.Background(), results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test",
			OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, res.Report, ref)
	})
}

// Query.Platform analyses one platform's members; Platforms lists those
// present (none for rows without one; QA overrides never count).
func TestWarehouse_Platforms(t *testing.T) {
	ref := resultstest.PropTest()
	f := *ref.Fixture
	f.Enrollments = append([]warehouse.EnrollmentRow(nil), f.Enrollments...)
	for i := range f.Enrollments {
		f.Enrollments[i].Platform = "android"
	}
	f.Enrollments = append(f.Enrollments,
		warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: "w1", Group: ref.Groups[0].Name, EnrolledAt: resultstest.T0, Platform: "web"},
		warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: "w2", Group: ref.Groups[1].Name, EnrolledAt: resultstest.T0},
		warehouse.EnrollmentRow{ExperimentID: "prop-test", UserID: "qa", Group: ref.Groups[1].Name, EnrolledAt: resultstest.T0, Platform: "ios", Override: true})
	forEachWarehouse(t, &f, func(t *testing.T, w *results.Warehouse) {
		ctx := context.Background()
		ps, err := w.Platforms(ctx, "prop-test")
		if err != nil || fmt.Sprint(ps) != "[none android web]" {
			t.Fatalf("Platforms = %v, %v; want [none android web]", ps, err)
		}
		res, err := w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", Platform: "android",
			OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, res.Report, ref)
		res, err = w.Analyze(ctx, results.Query{Method: stats.MethodFixed, ExperimentID: "prop-test", Platform: results.NoPlatform,
			OutcomeSQL: resultstest.BinarySQL, TimeColumn: resultstest.TimeColumn})
		if err != nil {
			t.Fatal(err)
		}
		if n := res.Groups[0].N + res.Groups[1].N; n != 1 {
			t.Fatalf("platform none: %d users, want 1", n)
		}
	})
}
