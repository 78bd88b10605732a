package assign

import (
	"context"
	"time"
)

// Reason says why a user was not enrolled.
type Reason string

// Reasons a decision may give instead of a group. Each is sticky for as long
// as the configuration that caused it.
const (
	ReasonNotSampled  Reason = "not_sampled"  // outside the sampling probability
	ReasonSampleFull  Reason = "sample_full"  // the maximum sample size is reached
	ReasonNotEligible Reason = "not_eligible" // an eligibility rule fails, or the user's layer slot belongs to another experiment
	ReasonNotRunning  Reason = "not_running"  // paused or stopped
)

// Platforms an enrollment records: the client's platform, from the token's
// claim PlatformClaim or, without one, the enrollment body's field of that
// name. Anything else is refused (EINVALID, field "platform").
const (
	PlatformWeb     = "web"
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
	PlatformOther   = "other"

	// PlatformClaim is the token claim, and the enrollment body's field,
	// that name the platform. A claim wins over the body: the identity
	// provider signed it, the client did not. Eligibility rules on this
	// claim see the platform either way.
	PlatformClaim = "platform"
)

// ValidPlatform reports whether p is one of the platforms ("" is not).
func ValidPlatform(p string) bool {
	switch p {
	case PlatformWeb, PlatformIOS, PlatformAndroid, PlatformOther:
		return true
	}
	return false
}

// ValidatePlatform checks a platform given by a client; "" (none) is valid.
func ValidatePlatform(p string) error {
	if p != "" && !ValidPlatform(p) {
		return Invalidf(PlatformClaim, "platform must be web, ios, android or other")
	}
	return nil
}

// EnrollRequest asks for the decision of one user in one experiment.
type EnrollRequest struct {
	ExperimentID string
	UserID       string         // the token's subject
	Claims       map[string]any // the token's claims, for eligibility
	// Platform is the enrollment body's platform ("" for none); the
	// token's claim PlatformClaim wins over it (see EffectivePlatform).
	Platform string
}

// EffectivePlatform returns the platform recorded: the token's claim when
// it has one (a string: Experiment.ValidateClaims refuses any other), else
// the body's Platform, else "".
func (r *EnrollRequest) EffectivePlatform() string {
	if p, ok := r.Claims[PlatformClaim].(string); ok {
		return p
	}
	return r.Platform
}

// Enrollment is the decision for one user in one experiment.
type Enrollment struct {
	ExperimentID string `json:"experiment_id"`
	Enrolled     bool   `json:"enrolled"`
	Group        string `json:"group_name,omitempty"`
	Reason       Reason `json:"reason,omitempty"`
	// Override is true when Group is a QA override's (see
	// Experiment.Overrides): the user is not a member.
	Override bool `json:"override,omitempty"`

	// New is true when this call recorded the user (the first decision).
	New bool `json:"-"`
	// RolledOut is true when Group is the experiment's winner given to
	// everyone, rather than the user's own recorded group.
	RolledOut bool `json:"-"`
}

// Member is a recorded enrollment, as exported to the warehouse.
type Member struct {
	ExperimentID string
	UserID       string
	Group        string
	EnrolledAt   time.Time
}

// EnrollmentService decides enrollments.
type EnrollmentService interface {
	// Enroll returns the user's existing group, or decides and records a new
	// enrollment, atomically. The same user always gets the same answer while
	// the configuration is unchanged. Returns ENOTFOUND for an unknown
	// experiment, EINVALID for an empty user id, EUNAVAILABLE when the store
	// cannot answer in time.
	Enroll(ctx context.Context, req EnrollRequest) (*Enrollment, error)
}
