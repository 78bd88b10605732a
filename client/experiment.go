package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/stats"
)

// ExperimentCreate is the body of POST /api/experiment-create, the contract
// agreed with clients. ID may be empty (the server generates a UUID);
// SamplingProbability nil means 1.
type ExperimentCreate struct {
	ID                  string            `json:"experiment_id,omitempty"`
	MaxSampleSize       int64             `json:"maximum_sample_size"`
	SamplingProbability *float64          `json:"sampling_probability,omitempty"`
	Groups              []assign.Group    `json:"groups"`
	Eligibility         []assign.Rule     `json:"eligibility,omitempty"`
	Layer               string            `json:"layer,omitempty"`
	StartAt             *time.Time        `json:"start_at,omitempty"`  // schedule: new users from this second on
	EndAt               *time.Time        `json:"end_at,omitempty"`    // schedule: no new users from this second on
	Overrides           map[string]string `json:"overrides,omitempty"` // QA overrides: user id -> group
}

// CreateExperiment creates an experiment and returns its id. The server
// answers EINVALID naming the field at fault, or ECONFLICT when the id exists.
func (c *Client) CreateExperiment(ctx context.Context, req ExperimentCreate) (string, error) {
	var out struct {
		ID string `json:"experiment_id"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/experiment-create", c.AdminToken, req, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// Experiment returns one experiment with its live Stats. ENOTFOUND when it
// does not exist.
func (c *Client) Experiment(ctx context.Context, id string) (*assign.Experiment, error) {
	var e assign.Experiment
	if err := c.do(ctx, http.MethodGet, "/api/experiments/"+url.PathEscape(id), c.AdminToken, nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ExperimentPage is one page of the experiment listing. Next is the cursor of
// the following page, "" on the last.
type ExperimentPage struct {
	Experiments []*assign.Experiment `json:"experiments"`
	Next        string               `json:"next"`
}

// ListExperiments returns the page of experiments after the cursor after
// ("" for the first), of at most limit experiments (0: the server's default).
func (c *Client) ListExperiments(ctx context.Context, after string, limit int) (*ExperimentPage, error) {
	var p ExperimentPage
	if err := c.do(ctx, http.MethodGet, "/api/experiments"+query("limit", itoa(limit), "after", after), c.AdminToken, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllExperiments follows the listing's cursor to the end, pageSize
// experiments per request, and returns every experiment in id order.
func (c *Client) AllExperiments(ctx context.Context, pageSize int) ([]*assign.Experiment, error) {
	var all []*assign.Experiment
	after := ""
	for {
		p, err := c.ListExperiments(ctx, after, pageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Experiments...)
		// A cursor that does not move would loop forever on a broken server.
		if p.Next == "" || p.Next == after {
			return all, nil
		}
		after = p.Next
	}
}

// UpdateExperiment applies a change (PATCH /api/experiments/{id}) and returns
// the experiment as it is after it. The server records the admin token's name
// as who changed it.
func (c *Client) UpdateExperiment(ctx context.Context, id string, upd assign.ExperimentUpdate) (*assign.Experiment, error) {
	var e assign.Experiment
	if err := c.do(ctx, http.MethodPatch, "/api/experiments/"+url.PathEscape(id), c.AdminToken, upd, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// SetStatus pauses, resumes or stops an experiment.
func (c *Client) SetStatus(ctx context.Context, id string, status assign.Status) (*assign.Experiment, error) {
	return c.UpdateExperiment(ctx, id, assign.ExperimentUpdate{Status: &status})
}

// Rollout makes group the winner: every new and existing user of the
// experiment gets it from now on; the record of who was in which group
// during the experiment is kept.
func (c *Client) Rollout(ctx context.Context, id, group string) (*assign.Experiment, error) {
	return c.UpdateExperiment(ctx, id, assign.ExperimentUpdate{Winner: &group})
}

// LayerSplit is GET /api/layers/{name}: the layer's traffic slots offered to
// each of its experiments taking traffic (they sum to 1,000 while any does;
// empty otherwise).
type LayerSplit struct {
	Layer string         `json:"layer"`
	Slots map[string]int `json:"slots"`
}

// Layer returns how a layer's traffic slots are split between its
// experiments. A layer no experiment uses has no slots.
func (c *Client) Layer(ctx context.Context, name string) (*LayerSplit, error) {
	var l LayerSplit
	if err := c.do(ctx, http.MethodGet, "/api/layers/"+url.PathEscape(name), c.AdminToken, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Plan asks the server for a sample plan (GET /api/plan): the users needed
// per group and in total for in.Effect, or, with in.MaximumSampleSize, the
// effect that many users can detect. Each set field of in goes as the query
// parameter of its JSON name (the API's names are PlanInput's), a slice
// comma-separated; zero fields are left to the server's defaults. EINVALID
// names the parameter at fault.
func (c *Client) Plan(ctx context.Context, in stats.PlanInput) (*stats.Plan, error) {
	q, err := planQuery(in)
	if err != nil {
		return nil, err
	}
	var p stats.Plan
	if err := c.do(ctx, http.MethodGet, "/api/plan"+q, c.AdminToken, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// planQuery encodes the set fields of in by their JSON names, so that a
// field PlanInput gains is sent without a change here.
func planQuery(in stats.PlanInput) (string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("client: encode plan: %w", err)
	}
	var fields map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // numbers as written: 3000, not 3e+03
	if err := d.Decode(&fields); err != nil {
		return "", fmt.Errorf("client: encode plan: %w", err)
	}
	v := url.Values{}
	for name, x := range fields {
		switch x := x.(type) {
		case string:
			if x != "" {
				v.Set(name, x)
			}
		case json.Number:
			if f, _ := x.Float64(); f != 0 {
				v.Set(name, x.String())
			}
		case bool:
			if x {
				v.Set(name, "true")
			}
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			if len(parts) > 0 {
				v.Set(name, strings.Join(parts, ","))
			}
		case nil:
		default:
			return "", fmt.Errorf("client: plan field %s: cannot send a %T as a query parameter", name, x)
		}
	}
	if len(v) == 0 {
		return "", nil
	}
	return "?" + v.Encode(), nil
}

// Readiness is GET /readyz's answer.
type Readiness struct {
	Status  string         `json:"status"` // ready, degraded
	Error   string         `json:"error,omitempty"`
	Details map[string]any `json:"details,omitempty"`
}

// Ready asks whether the server is ready (GET /readyz, no token): ready or
// degraded, or an EUNAVAILABLE *Error with the 503.
func (c *Client) Ready(ctx context.Context) (*Readiness, error) {
	var r Readiness
	if err := c.do(ctx, http.MethodGet, "/readyz", "", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ExperimentChange is one version of an experiment's configuration, with
// who set it, when, and what changed (the domain's type).
type ExperimentChange = assign.ExperimentChange

// Changes returns every version of the experiment's configuration, oldest
// first, from the warehouse the server reads (none until its exporter has
// written the experiment). EUNAVAILABLE when the server reads no warehouse.
func (c *Client) Changes(ctx context.Context, id string) ([]ExperimentChange, error) {
	var out struct {
		Changes []ExperimentChange `json:"changes"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/experiments/"+url.PathEscape(id)+"/changes", c.AdminToken, nil, &out); err != nil {
		return nil, err
	}
	return out.Changes, nil
}

// DailyEnrollments is one UTC day of an experiment's enrollments in the
// warehouse, per group.
type DailyEnrollments struct {
	Day      string           `json:"day"` // YYYY-MM-DD
	Enrolled int64            `json:"enrolled"`
	PerGroup map[string]int64 `json:"per_group"`
}

// DailyEnrollments returns the experiment's enrollments in the warehouse per
// UTC day and group, in day order (GET /api/experiments/{id}/daily-enrollments).
func (c *Client) DailyEnrollments(ctx context.Context, id string) ([]DailyEnrollments, error) {
	var out struct {
		Days []DailyEnrollments `json:"days"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/experiments/"+url.PathEscape(id)+"/daily-enrollments", c.AdminToken, nil, &out); err != nil {
		return nil, err
	}
	return out.Days, nil
}

// ExperimentResults is GET /api/experiments/{id}/results: the analysis of
// each metric of the server's metrics file. Each metric is kept as the JSON
// the server sends (results.MetricResult, as assignctl results --metrics
// --output json prints it), so that this package does not pull the
// warehouse drivers in; decode it into results.MetricResult where that
// package is at hand.
type ExperimentResults struct {
	ExperimentID    string            `json:"experiment_id"`
	Correction      string            `json:"correction"`
	GoalComparisons int               `json:"goal_comparisons"`
	Metrics         []json.RawMessage `json:"metrics"`
	Warnings        []string          `json:"warnings,omitempty"`
}

// Results analyses the metrics of the metrics file the server runs with on
// its warehouse. ENOTFOUND before the experiment reached the warehouse and
// on a server without a metrics file; EUNAVAILABLE when the warehouse cannot
// be read.
func (c *Client) Results(ctx context.Context, id string) (*ExperimentResults, error) {
	var r ExperimentResults
	if err := c.do(ctx, http.MethodGet, "/api/experiments/"+url.PathEscape(id)+"/results", c.AdminToken, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
