package assign

import "context"

// MaxBatchExperiments bounds the experiments of one multi-experiment
// enrollment call: a screen shows a handful of tests, and each costs a
// script call.
const MaxBatchExperiments = 50

// EnrollResult is one experiment's answer in a batch: the Enrollment, or
// Err (with the codes of EnrollmentService.Enroll).
type EnrollResult struct {
	Enrollment *Enrollment
	Err        error
}

// BatchEnrollmentService decides several experiments for one user at once,
// as a screen under several tests needs: the answers, in the order of reqs,
// are those Enroll would give one by one, in one round trip per Redis
// shard instead of one per experiment. An experiment's error does not fail
// the others.
type BatchEnrollmentService interface {
	EnrollMany(ctx context.Context, reqs []EnrollRequest) []EnrollResult
}
