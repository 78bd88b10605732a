package redisstore

import (
	"github.com/assign-dev/assign/assign"
)

// Reply codes of the enrollment script (scripts/enroll.lua). This is the only
// Go code that reads them.
const (
	codeNew       = 0   // 0..99: a new member of group code
	codeExisting  = 100 // 100..199: an existing member of group code-100
	codeRolledOut = 200 // 200..299: the rolled-out winner, group code-200
	codeEnd       = 300

	codeNotFound    = -1
	codeNotRunning  = -2
	codeNotSampled  = -3
	codeSampleFull  = -4
	codeNotEligible = -5
	codeStaleLayout = -6 // the caller's member bucket layout is out of date
)

// decode turns an enrollment script reply into a decision.
func (d *definition) decode(code int64) (*assign.Enrollment, error) {
	e := &assign.Enrollment{ExperimentID: d.ID}
	switch {
	case code >= codeNew && code < codeEnd:
		e.Group = d.group(int(code % 100))
		if e.Group == "" {
			return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: enrollment script chose unknown group %d", d.ID, code)
		}
		e.Enrolled = true
		e.New = code < codeExisting
		e.RolledOut = code >= codeRolledOut
	case code == codeNotRunning:
		e.Reason = assign.ReasonNotRunning
	case code == codeNotSampled:
		e.Reason = assign.ReasonNotSampled
	case code == codeSampleFull:
		e.Reason = assign.ReasonSampleFull
	case code == codeNotEligible:
		e.Reason = assign.ReasonNotEligible
	case code == codeNotFound:
		return nil, notFound(d.ID)
	default:
		return nil, assign.Errorf(assign.EINTERNAL, "experiment %q: unknown enrollment script reply %d", d.ID, code)
	}
	return e, nil
}
