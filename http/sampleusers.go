package http

import (
	"context"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// RouteSampleUsers is POST /api/experiments/{id}/sample-users, served only
// in assignd's embedded demo mode (Server.SampleUsers).
const RouteSampleUsers = "experiment_sample_users"

// sampleUsersTimeout bounds one play of the sample users: a few thousand
// enrollments in process.
const sampleUsersTimeout = 2 * time.Minute

// handleSampleUsers serves POST /api/experiments/{id}/sample-users: the
// demo's sample users reach the experiment's screen and place their orders
// (what `assignctl demo-enroll` does from a terminal), so that a first run
// walks from creation to rollout in the console alone.
func (s *Server) handleSampleUsers(ctx *fasthttp.RequestCtx, id string) {
	if _, ok := s.admin(ctx, RouteSampleUsers); !ok {
		return
	}
	if err := assign.ValidateID(id); err != nil {
		s.writeError(ctx, RouteSampleUsers, assign.ENOTFOUND, "Experiment not found.", "", "", err)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), sampleUsersTimeout)
	defer cancel()
	v, err := s.SampleUsers(c, id)
	if err != nil {
		s.writeErr(ctx, RouteSampleUsers, err)
		return
	}
	s.writeJSON(ctx, RouteSampleUsers, fasthttp.StatusOK, v)
}
