package main

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/demo"
)

// DefaultDemoOrdersFile is where the demo mode's sample users' orders go:
// orders.csv beside the DuckDB warehouse file, which is where assignd runs
// with the embedded defaults, so the demo metrics file's read_csv finds it
// (examples/shipping-address/metrics-demo.yaml).
const DefaultDemoOrdersFile = "orders.csv"

// sampleUsers plays the demo's sample users through experiment id in
// process, as `assignctl demo-enroll --orders-out orders.csv` does through
// the API: for the console's "send the sample users" button of the embedded
// demo mode (POST /api/experiments/{id}/sample-users). The orders the users
// place are written to orders.csv beside the DuckDB warehouse.
func (m *Main) sampleUsers(enrollments assign.EnrollmentService) func(ctx context.Context, id string) (any, error) {
	return func(ctx context.Context, id string) (any, error) {
		if _, err := m.Store.FindExperimentByID(ctx, id); err != nil {
			return nil, err
		}
		users, err := demo.ReadUsers(m.Config.DemoUsers)
		if err != nil {
			return nil, assign.Errorf(assign.EUNAVAILABLE, "the sample users cannot be read (%v): run assignd from the repository's root, or set -demo-users", err)
		}
		enroll := func(ctx context.Context, u demo.User) (*assign.Enrollment, error) {
			// Each call its own deadline, retried as a client would: the
			// embedded Redis runs scripts on the server's own cores.
			for attempt := 1; ; attempt++ {
				c, cancel := context.WithTimeout(ctx, time.Second)
				e, err := enrollments.Enroll(c, assign.EnrollRequest{ExperimentID: id, UserID: u.ID, Claims: u.Claims()})
				cancel()
				if assign.ErrorCode(err) != assign.EUNAVAILABLE || attempt == 5 || ctx.Err() != nil {
					return e, err
				}
			}
		}
		sum, orders, err := demo.Play(ctx, id, users, enroll, 8, nil)
		if err != nil {
			return nil, err
		}
		path := DefaultDemoOrdersFile
		if wh := m.Config.WarehouseURL; !strings.Contains(wh, "://") && !strings.HasPrefix(wh, "duckdb:") {
			path = filepath.Join(filepath.Dir(wh), DefaultDemoOrdersFile)
		}
		// The last play's orders only: what the users order depends on
		// the journey this experiment gave them, so playing another
		// experiment changes the orders the first one's results read.
		if err := demo.WriteOrders(path, orders); err != nil {
			return nil, assign.Errorf(assign.EUNAVAILABLE, "write the demo's orders to %s: %v", path, err)
		}
		return sum, nil
	}
}
