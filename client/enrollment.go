package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/assign-dev/assign/assign"
)

// enrollPath is the route of both forms of an enrollment.
const enrollPath = "/api/experiment-enrollments"

// Enroll asks for the decision of the user whose signed token userToken is
// (its sub claim) in experiment id. The answer is sticky: the same user gets
// the same group, or the same reason, on every call. The call is bounded by
// EnrollTimeout and records the client's Platform; any failure is returned
// (see EnrollOr for a fallback).
func (c *Client) Enroll(ctx context.Context, userToken, id string) (*assign.Enrollment, error) {
	in := struct {
		ID       string `json:"experiment_id"`
		Platform string `json:"platform,omitempty"`
	}{id, c.Platform}
	ctx, cancel := c.enrollContext(ctx)
	defer cancel()
	var e assign.Enrollment
	if err := c.do(ctx, http.MethodPost, enrollPath, userToken, in, &e); err != nil {
		return nil, err
	}
	if e.ExperimentID == "" {
		return nil, &Error{StatusCode: http.StatusOK, Code: assign.EINTERNAL, Message: "the answer is not an enrollment"}
	}
	return &e, nil
}

// Decision is what to show a user: assignd's decision, or, when assignd gave
// none, the caller's fallback group.
type Decision struct {
	assign.Enrollment

	// Fallback is true when assignd gave no decision (no answer within the
	// timeout, a network error, a 5xx such as the 503 of an outage): Group
	// is the caller's fallback, Enrolled is false, and nothing was recorded
	// (the user is not a member and may get a decision on the next call).
	Fallback bool

	// Err is why there is no decision: with Fallback, what failed; without
	// it (EnrollManyOr only), the id's own error, such as ENOTFOUND.
	Err error
}

// EnrollOr is Enroll with a fallback: when assignd gives no decision
// (Unavailable: no answer within EnrollTimeout or the context's deadline, a
// network error, a 5xx, a 2xx that is not a decision) it answers a Decision
// of the fallback group, usually the control, marked Fallback, and no
// error. A 4xx (a bad or expired token, an unknown experiment, a malformed
// id) is returned as an error, and so is the caller's own cancellation of
// ctx. The TypeScript client's enroll(token, id, {fallback}) is the same.
func (c *Client) EnrollOr(ctx context.Context, userToken, id, fallback string) (*Decision, error) {
	e, err := c.Enroll(ctx, userToken, id)
	if err == nil {
		return &Decision{Enrollment: *e}, nil
	}
	if !Unavailable(err) || errors.Is(ctx.Err(), context.Canceled) {
		return nil, err
	}
	return &Decision{Enrollment: assign.Enrollment{ExperimentID: id, Group: fallback}, Fallback: true, Err: err}, nil
}

// BatchEntry is one experiment's entry in EnrollMany's answer: its decision
// (Err nil), or its error entry, an *Error with the status of its code.
type BatchEntry struct {
	assign.Enrollment
	Err error
}

// EnrollMany asks for the decisions of one user in several experiments (a
// screen under several tests) in one call: the multi-experiment form
// {"experiment_ids": [...]} (1 to assign.MaxBatchExperiments distinct ids).
// It answers one entry per id in the same order, each the decision Enroll
// would give or that id's error (unknown, malformed, or a 503-class error
// with its Fallback advice), and records the client's Platform; the call
// itself fails only as Enroll does (a bad token, a malformed list, no answer).
func (c *Client) EnrollMany(ctx context.Context, userToken string, ids []string) ([]BatchEntry, error) {
	in := struct {
		IDs      []string `json:"experiment_ids"`
		Platform string   `json:"platform,omitempty"`
	}{ids, c.Platform}
	var out struct {
		Enrollments []struct {
			assign.Enrollment
			Error *struct {
				Code     string `json:"code"`
				Message  string `json:"message"`
				Field    string `json:"field"`
				Fallback string `json:"fallback"`
			} `json:"error"`
		} `json:"enrollments"`
	}
	ctx, cancel := c.enrollContext(ctx)
	defer cancel()
	if err := c.do(ctx, http.MethodPost, enrollPath, userToken, in, &out); err != nil {
		return nil, err
	}
	if len(out.Enrollments) != len(ids) {
		return nil, &Error{StatusCode: http.StatusOK, Code: assign.EINTERNAL,
			Message: fmt.Sprintf("the answer has %d enrollments for %d experiment ids", len(out.Enrollments), len(ids))}
	}
	entries := make([]BatchEntry, len(ids))
	for i, e := range out.Enrollments {
		entries[i].Enrollment = e.Enrollment
		if e.Error != nil {
			entries[i].Err = &Error{StatusCode: codeStatus(e.Error.Code), Code: e.Error.Code, Message: e.Error.Message,
				Field: e.Error.Field, Fallback: e.Error.Fallback}
		}
		if entries[i].ExperimentID == "" {
			entries[i].ExperimentID = ids[i]
		}
	}
	return entries, nil
}

// EnrollManyOr is EnrollMany with a fallback group per experiment id
// (fallback[id]; an id without one keeps its error): a call that gets no
// decision (Unavailable) answers every id its fallback, and an entry whose
// error is a 5xx becomes that id's fallback. A decision is answered as it
// is, and a 4xx entry as a Decision with only ExperimentID and Err. The call
// itself fails on a 4xx (a bad token, a malformed list) and on the caller's
// cancellation. The TypeScript client's enrollMany(token, ids, {fallback})
// is the same.
func (c *Client) EnrollManyOr(ctx context.Context, userToken string, ids []string, fallback map[string]string) ([]Decision, error) {
	entries, err := c.EnrollMany(ctx, userToken, ids)
	if err != nil {
		if !Unavailable(err) || errors.Is(ctx.Err(), context.Canceled) {
			return nil, err
		}
		entries = make([]BatchEntry, len(ids))
		for i, id := range ids {
			entries[i] = BatchEntry{Enrollment: assign.Enrollment{ExperimentID: id}, Err: err}
		}
	}
	out := make([]Decision, len(entries))
	for i, e := range entries {
		out[i] = Decision{Enrollment: e.Enrollment, Err: e.Err}
		if g, ok := fallback[e.ExperimentID]; ok && e.Err != nil && Unavailable(e.Err) {
			out[i] = Decision{Enrollment: assign.Enrollment{ExperimentID: e.ExperimentID, Group: g}, Fallback: true, Err: e.Err}
		}
	}
	return out, nil
}

// enrollContext bounds an enrollment call by EnrollTimeout.
func (c *Client) enrollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.EnrollTimeout
	if d == 0 {
		d = DefaultEnrollTimeout
	}
	if d < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
