package client

import (
	"context"
	"net/http"

	"github.com/assign-dev/assign/assign"
)

// Enroll asks for the decision of the user whose signed token userToken is
// (its sub claim) in experiment id. The answer is sticky: the same user gets
// the same group, or the same reason, on every call.
func (c *Client) Enroll(ctx context.Context, userToken, id string) (*assign.Enrollment, error) {
	in := struct {
		ID string `json:"experiment_id"`
	}{id}
	var e assign.Enrollment
	if err := c.do(ctx, http.MethodPost, "/api/experiment-enrollments", userToken, in, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
