package metrics

import (
	"context"
	"time"

	"github.com/assign-dev/assign/assign"
)

// InstrumentEnrollments wraps an enrollment service so that the latency of
// each store call (one script round trip, plus microseconds of hashing) and
// its Redis failures are recorded. Client errors (unknown experiment, bad
// user id) are not Redis errors and are not counted as such.
func (m *Metrics) InstrumentEnrollments(next assign.EnrollmentService) assign.EnrollmentService {
	return &instrumentedEnrollments{next: next, m: m}
}

type instrumentedEnrollments struct {
	next assign.EnrollmentService
	m    *Metrics
}

// Enroll implements assign.EnrollmentService, timing the wrapped call.
func (s *instrumentedEnrollments) Enroll(ctx context.Context, req assign.EnrollRequest) (*assign.Enrollment, error) {
	start := time.Now()
	e, err := s.next.Enroll(ctx, req)
	var redisErr error
	switch assign.ErrorCode(err) {
	case assign.EUNAVAILABLE, assign.EINTERNAL:
		redisErr = err
	}
	s.m.ObserveScript(time.Since(start), redisErr)
	return e, err
}

// EnrollMany implements assign.BatchEnrollmentService when the wrapped
// service does (the batch keeps its one round trip per shard), else runs
// Enroll per request. A batch is one observation of the script latency,
// failed with the first Redis error among its entries.
func (s *instrumentedEnrollments) EnrollMany(ctx context.Context, reqs []assign.EnrollRequest) []assign.EnrollResult {
	b, ok := s.next.(assign.BatchEnrollmentService)
	if !ok {
		out := make([]assign.EnrollResult, len(reqs))
		for i, r := range reqs {
			out[i].Enrollment, out[i].Err = s.Enroll(ctx, r)
		}
		return out
	}
	start := time.Now()
	out := b.EnrollMany(ctx, reqs)
	var redisErr error
	for _, r := range out {
		switch assign.ErrorCode(r.Err) {
		case assign.EUNAVAILABLE, assign.EINTERNAL:
			if redisErr == nil {
				redisErr = r.Err
			}
		}
	}
	s.m.ObserveScript(time.Since(start), redisErr)
	return out
}

var _ assign.BatchEnrollmentService = (*instrumentedEnrollments)(nil)
