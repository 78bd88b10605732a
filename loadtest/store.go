package loadtest

import (
	"context"
	"time"

	"github.com/assign-dev/assign/assign"
)

// StoreTarget returns a Target that calls an enrollment service in process,
// without HTTP: to measure a store alone, and to test the verifiers against
// the real implementation.
func StoreTarget(svc assign.EnrollmentService, pop *Population, timeout time.Duration) Target {
	return &storeTarget{svc: svc, pop: pop, timeout: timeout}
}

type storeTarget struct {
	svc     assign.EnrollmentService
	pop     *Population
	timeout time.Duration
}

// Enroll implements Target: the store called in process.
func (t *storeTarget) Enroll(ctx context.Context, u int) (Outcome, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	res, err := t.svc.Enroll(ctx, assign.EnrollRequest{
		ExperimentID: t.pop.Experiments[t.pop.ExperimentOf(u)],
		UserID:       t.pop.UserID(u),
	})
	switch {
	case err != nil && assign.ErrorCode(err) == assign.EUNAVAILABLE:
		return OutcomeNone, &RequestError{Kind: "unavailable", Err: err}
	case err != nil:
		return OutcomeNone, &RequestError{Kind: assign.ErrorCode(err), Err: err}
	case res.Enrolled:
		return t.pop.Groups.Outcome([]byte(res.Group)), nil
	}
	return ReasonOutcome(res.Reason), nil
}
