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
