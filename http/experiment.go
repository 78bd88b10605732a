package http

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/valyala/fasthttp"
)

// createExperimentRequest is the body of POST /api/experiment-create, the
// contract agreed with clients.
type createExperimentRequest struct {
	ExperimentID        string         `json:"experiment_id"`
	MaxSampleSize       int64          `json:"maximum_sample_size"`
	SamplingProbability *float64       `json:"sampling_probability"` // default 1
	Groups              []assign.Group `json:"groups"`
	Eligibility         []assign.Rule  `json:"eligibility"`
	Layer               string         `json:"layer"`
	StartAt             *string        `json:"start_at"` // RFC 3339; null or absent: no bound
	EndAt               *string        `json:"end_at"`
	// QA overrides: user id -> group name.
	Overrides map[string]string `json:"overrides"`
}

// handleCreateExperiment serves POST /api/experiment-create.
func (s *Server) handleCreateExperiment(ctx *fasthttp.RequestCtx) {
	const route = RouteExperimentCreate
	who, ok := s.admin(ctx, route)
	if !ok || !s.checkBody(ctx, route) {
		return
	}
	e, err := parseCreateBody(ctx.PostBody(), who)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}

	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	if err := s.Experiments.CreateExperiment(c, e); err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	ctx.Response.Header.Set(fasthttp.HeaderLocation, experimentsPrefix+e.ID)
	s.writeJSON(ctx, route, fasthttp.StatusCreated, struct {
		ID string `json:"experiment_id"`
	}{e.ID})
}

// parseCreateBody reads and validates the body of a creation by the admin
// who. Every error is EINVALID; an absent id is the store's to generate.
func parseCreateBody(body []byte, who string) (*assign.Experiment, error) {
	var req createExperimentRequest
	if err := decodeJSON(body, &req); err != nil {
		return nil, err
	}
	e := &assign.Experiment{
		ID:                  req.ExperimentID,
		MaxSampleSize:       req.MaxSampleSize,
		SamplingProbability: 1,
		Groups:              req.Groups,
		Eligibility:         req.Eligibility,
		Layer:               req.Layer,
		UpdatedBy:           who,
	}
	if len(req.Overrides) > 0 {
		e.Overrides = req.Overrides
	}
	if req.SamplingProbability != nil {
		e.SamplingProbability = *req.SamplingProbability
	}
	for _, b := range []struct {
		field string
		in    *string
		out   **time.Time
	}{{"start_at", req.StartAt, &e.StartAt}, {"end_at", req.EndAt, &e.EndAt}} {
		if b.in != nil {
			t, err := assign.ParseScheduleTime(b.field, *b.in)
			if err != nil {
				return nil, err
			}
			*b.out = &t
		}
	}
	// Validate here too, so clients get the same field-naming 400 whatever
	// the store.
	check := *e
	if check.ID == "" {
		check.ID = "generated"
	}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// handleGetExperiment serves GET /api/experiments/{id}.
func (s *Server) handleGetExperiment(ctx *fasthttp.RequestCtx, id string) {
	const route = RouteExperimentGet
	if _, ok := s.admin(ctx, route); !ok {
		return
	}
	if err := assign.ValidateID(id); err != nil {
		s.writeError(ctx, route, assign.ENOTFOUND, "Experiment not found.", "", "", err)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	e, err := s.Experiments.FindExperimentByID(c, id)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, public(e))
}

// listExperimentsResponse is the body of GET /api/experiments. Next is the
// cursor to pass as ?after= for the following page, "" on the last page.
type listExperimentsResponse struct {
	Experiments []*assign.Experiment `json:"experiments"`
	Next        string               `json:"next"`
}

// handleListExperiments serves GET /api/experiments?limit=&after=, or with
// sort, order, offset, status or q the sorted listing of list.go.
func (s *Server) handleListExperiments(ctx *fasthttp.RequestCtx) {
	const route = RouteExperimentList
	if _, ok := s.admin(ctx, route); !ok {
		return
	}
	args := ctx.QueryArgs()
	if sortedListing(args) { // sorted, filtered, by offset: list.go
		s.handleListSorted(ctx)
		return
	}
	filter := assign.ExperimentFilter{After: string(args.Peek("after"))}
	if v := args.Peek("limit"); len(v) > 0 {
		n, err := strconv.Atoi(string(v))
		if err != nil || n < 1 || n > assign.MaxPageSize {
			s.writeErr(ctx, route, assign.Invalidf("limit", "limit must be an integer from 1 to %d.", assign.MaxPageSize))
			return
		}
		filter.Limit = n
	}
	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	list, next, err := s.Experiments.FindExperiments(c, filter)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	resp := listExperimentsResponse{Experiments: make([]*assign.Experiment, 0, len(list)), Next: next}
	for _, e := range list {
		resp.Experiments = append(resp.Experiments, public(e))
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, resp)
}

// handleUpdateExperiment serves PATCH /api/experiments/{id}: the body holds
// the fields of assign.ExperimentUpdate to change; the admin's name is
// recorded as who changed it.
func (s *Server) handleUpdateExperiment(ctx *fasthttp.RequestCtx, id string) {
	const route = RouteExperimentUpdate
	who, ok := s.admin(ctx, route)
	if !ok || !s.checkBody(ctx, route) {
		return
	}
	if err := assign.ValidateID(id); err != nil {
		s.writeError(ctx, route, assign.ENOTFOUND, "Experiment not found.", "", "", err)
		return
	}
	upd, err := parseUpdateBody(ctx.PostBody())
	if err == nil {
		// The admin's name is recorded with the change and exported.
		err = assign.ValidateText("updated_by", who)
	}
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	e, err := s.Experiments.UpdateExperiment(c, id, upd, who)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, public(e))
}

// parseUpdateBody reads and validates the body of an update. Every error is
// EINVALID.
func parseUpdateBody(body []byte) (assign.ExperimentUpdate, error) {
	var upd assign.ExperimentUpdate
	if err := decodeJSON(body, &upd); err != nil {
		return upd, err
	}
	return upd, validateUpdate(&upd)
}

// validateUpdate checks what can be checked without the experiment; the store
// checks the rest (group names, winner) against it.
func validateUpdate(u *assign.ExperimentUpdate) error {
	if u.Status == nil && u.SamplingProbability == nil && u.MaxSampleSize == nil && u.Groups == nil && u.Winner == nil && !u.StartAt.Set && !u.EndAt.Set && len(u.Overrides) == 0 {
		return assign.Invalidf("", "The update changes nothing: set status, sampling_probability, maximum_sample_size, groups, winner, start_at, end_at or overrides.")
	}
	// The store checks the total and the group names against the experiment.
	if len(u.Overrides) > assign.MaxOverrides {
		return assign.Invalidf("overrides", "at most %d overrides, not %d", assign.MaxOverrides, len(u.Overrides))
	}
	for user, group := range u.Overrides {
		if err := assign.ValidateOverride(user, group); err != nil {
			return err
		}
	}
	if err := u.StartAt.Parse("start_at"); err != nil {
		return err
	}
	if err := u.EndAt.Parse("end_at"); err != nil {
		return err
	}
	if u.StartAt.Set && u.EndAt.Set {
		// Both given: their order is known without the experiment.
		if err := assign.ValidateSchedule(u.StartAt.At, u.EndAt.At); err != nil {
			return err
		}
	}
	if u.Status != nil && !u.Status.Valid() {
		return assign.Invalidf("status", "status must be running, paused or stopped.")
	}
	if u.SamplingProbability != nil {
		if err := assign.ValidateSamplingProbability(*u.SamplingProbability); err != nil {
			return err
		}
	}
	if u.MaxSampleSize != nil {
		if err := assign.ValidateSampleSize(*u.MaxSampleSize); err != nil {
			return err
		}
	}
	if u.Groups != nil {
		if err := assign.ValidateGroups(u.Groups); err != nil {
			return err
		}
	}
	if u.Winner != nil {
		if err := assign.ValidateText("winner", *u.Winner); err != nil {
			return err
		}
	}
	return nil
}

// public returns a copy of e fit for clients: without the salt, which would
// let anyone predict every user's draws.
func public(e *assign.Experiment) *assign.Experiment {
	c := *e
	c.Salt = ""
	return &c
}

// writeJSON writes v with encoding/json: admin routes are not hot.
func (s *Server) writeJSON(ctx *fasthttp.RequestCtx, route string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
