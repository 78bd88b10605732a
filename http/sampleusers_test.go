package http_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/assign-dev/assign/assign"
	assignhttp "github.com/assign-dev/assign/http"
)

// walkSampleUsers sends the demo route's answers through the contract: the
// summary the function returns, its errors, the admin check; a server
// without the function answers 404 no_route.
func walkSampleUsers(t *testing.T, c *contract) {
	var got []string
	var fail error
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Logger = slog.New(slog.DiscardHandler)
		s.SampleUsers = func(ctx context.Context, id string) (any, error) {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("no deadline on the sample users' play")
			}
			got = append(got, id)
			if fail != nil {
				return nil, fail
			}
			return map[string]any{"experiment_id": id, "users": 2, "enrolled": map[string]int{"a": 1}, "not_enrolled": map[string]int{"not_eligible": 1}, "orders": 1}, nil
		}
	})
	const path = "/api/experiments/demo-exp/sample-users"
	r := c.Do(t, ts, "POST", path, adminToken, "")
	MustStatus(t, r, http.StatusOK)
	if len(got) != 1 || got[0] != "demo-exp" || r.JSON(t)["users"] != 2.0 {
		t.Fatalf("calls %q, answer %s", got, r.Body)
	}
	MustStatus(t, c.Do(t, ts, "POST", path, "", ""), http.StatusUnauthorized)
	MustStatus(t, c.Do(t, ts, "POST", "/api/experiments/not%20an%20id/sample-users", adminToken, ""), http.StatusNotFound)
	MustStatus(t, c.Do(t, ts, "GET", path, adminToken, ""), http.StatusMethodNotAllowed)
	fail = assign.Errorf(assign.ENOTFOUND, "Experiment %q not found.", "demo-exp")
	MustStatus(t, c.Do(t, ts, "POST", path, adminToken, ""), http.StatusNotFound)
	fail = assign.Errorf(assign.EUNAVAILABLE, "the sample users cannot be read")
	MustStatus(t, c.Do(t, ts, "POST", path, adminToken, ""), http.StatusServiceUnavailable)
	if len(got) != 3 {
		t.Fatalf("%d calls, want 3 (the refused ones never reach it)", len(got))
	}

	// Outside the demo mode the path is not served.
	plain := MustOpenServer(t, nil)
	r = c.Do(t, plain, "POST", path, adminToken, "")
	MustStatus(t, r, http.StatusNotFound)
	if r.ErrorCode(t) != "no_route" {
		t.Fatalf("without SampleUsers: %s", r.Body)
	}
}

func TestSampleUsers(t *testing.T) { walkSampleUsers(t, newContract(t)) }
