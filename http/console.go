package http

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// Route names of the web console and of the admin routes it reads.
const (
	RouteConsole           = "console"            // GET / and /console/*: the web console's page and files
	RouteExperimentChanges = "experiment_changes" // GET /api/experiments/{id}/changes
	RouteExperimentDaily   = "experiment_daily"   // GET /api/experiments/{id}/daily-enrollments
	RouteExperimentResults = "experiment_results" // GET /api/experiments/{id}/results
	consoleAssetsPrefix    = "/console/"
)

// MaxInsightsCalls bounds the console's warehouse reads served at once
// (history, days, results): past it a read answers 503 with Retry-After.
const MaxInsightsCalls = 4

// Insights reads what the console shows of an experiment besides its live
// state: its history, enrollments per day and results, all from the
// warehouse over a read-only connection. Implementations must be safe for
// concurrent use and honour the context's deadline.
type Insights interface {
	// Changes returns every version of the experiment's configuration,
	// oldest first; none when the warehouse has not received it yet.
	Changes(ctx context.Context, id string) ([]ExperimentChange, error)

	// DailyEnrollments returns the enrollments per UTC day and group, in day
	// order, only for the days that have some.
	DailyEnrollments(ctx context.Context, id string) ([]DailyEnrollments, error)

	// Results analyses the metrics of the metrics file; the value is
	// marshalled as the response body. ENOTFOUND when the experiment is not
	// in the warehouse yet or without a metrics file.
	Results(ctx context.Context, id string) (any, error)
}

// ExperimentChange is one version of an experiment's configuration, with
// who set it, when, and what changed (the domain's type).
type ExperimentChange = assign.ExperimentChange

// DailyEnrollments is the enrollments of one UTC day, per group.
type DailyEnrollments struct {
	Day      string           `json:"day"` // YYYY-MM-DD
	Enrolled int64            `json:"enrolled"`
	PerGroup map[string]int64 `json:"per_group"`
}

// routeConsole serves the console's page and files (GET and HEAD of / and
// /console/*), and returns "" for any other path. They are not API routes:
// they are outside the routing table and the OpenAPI document.
func (s *Server) routeConsole(ctx *fasthttp.RequestCtx, path []byte) string {
	if s.Console == nil || (string(path) != "/" && !bytes.HasPrefix(path, []byte(consoleAssetsPrefix))) {
		return ""
	}
	switch string(ctx.Method()) {
	case fasthttp.MethodGet, fasthttp.MethodHead:
		s.Console(ctx)
	default:
		s.methodNotAllowed(ctx, RouteConsole, "GET, HEAD")
	}
	return RouteConsole
}

// insightsCall runs the common part of the three warehouse routes: the
// admin, a valid id, a configured reader and the deadline.
func (s *Server) insightsCall(ctx *fasthttp.RequestCtx, route, id string, fn func(context.Context) (any, error)) {
	if _, ok := s.admin(ctx, route); !ok {
		return
	}
	if err := assign.ValidateID(id); err != nil {
		s.writeError(ctx, route, assign.ENOTFOUND, "Experiment not found.", "", "", err)
		return
	}
	if s.Insights == nil {
		s.writeError(ctx, route, assign.EUNAVAILABLE, "This server reads no warehouse (see -results-warehouse-url).", "", "", nil)
		return
	}
	// Each read may run every metric of the metrics file: a few at a time,
	// the others are told to come back, rather than queueing without end
	// (and holding connections the enrollments share).
	select {
	case s.insightsSlots <- struct{}{}:
		defer func() { <-s.insightsSlots }()
	default:
		ctx.Response.Header.Set(fasthttp.HeaderRetryAfter, "2")
		s.writeError(ctx, route, assign.EUNAVAILABLE, fmt.Sprintf("%d warehouse reads are already running; try again shortly.", MaxInsightsCalls), "", "", nil)
		return
	}
	c, cancel := context.WithTimeout(context.Background(), s.ResultsTimeout)
	defer cancel()
	v, err := fn(c)
	if err != nil {
		s.writeErr(ctx, route, err)
		return
	}
	s.writeJSON(ctx, route, fasthttp.StatusOK, v)
}

// changesResponse is the body of GET /api/experiments/{id}/changes.
type changesResponse struct {
	ExperimentID string             `json:"experiment_id"`
	Changes      []ExperimentChange `json:"changes"`
}

// handleExperimentChanges serves GET /api/experiments/{id}/changes: the
// whole configuration history from the warehouse, oldest first, each version
// with who, when and what changed.
func (s *Server) handleExperimentChanges(ctx *fasthttp.RequestCtx, id string) {
	s.insightsCall(ctx, RouteExperimentChanges, id, func(c context.Context) (any, error) {
		changes, err := s.Insights.Changes(c, id)
		if err != nil {
			return nil, err
		}
		if changes == nil {
			changes = []ExperimentChange{}
		}
		DescribeChanges(changes)
		return changesResponse{ExperimentID: id, Changes: changes}, nil
	})
}

// dailyResponse is the body of GET /api/experiments/{id}/daily-enrollments.
type dailyResponse struct {
	ExperimentID string             `json:"experiment_id"`
	Days         []DailyEnrollments `json:"days"`
}

// maxDays bounds the days of the daily-enrollments answer: the latest ones.
const maxDays = 366

// handleExperimentDaily serves GET /api/experiments/{id}/daily-enrollments:
// the enrollments per UTC day and group, every day from the first to the
// last enrollment (days without any hold zeros), at most the last 366.
func (s *Server) handleExperimentDaily(ctx *fasthttp.RequestCtx, id string) {
	s.insightsCall(ctx, RouteExperimentDaily, id, func(c context.Context) (any, error) {
		days, err := s.Insights.DailyEnrollments(c, id)
		if err != nil {
			return nil, err
		}
		return dailyResponse{ExperimentID: id, Days: fillDays(days)}, nil
	})
}

// fillDays returns days with the missing days between the first and the
// last added as zeros, the last maxDays of them.
func fillDays(days []DailyEnrollments) []DailyEnrollments {
	out := []DailyEnrollments{}
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			continue
		}
		if n := len(out); n > 0 {
			last, _ := time.Parse(time.DateOnly, out[n-1].Day)
			if !t.After(last) {
				continue
			}
			if t.Sub(last) > maxDays*24*time.Hour {
				out = out[:0] // only the latest maxDays matter
			} else {
				for g := last.AddDate(0, 0, 1); g.Before(t); g = g.AddDate(0, 0, 1) {
					out = append(out, DailyEnrollments{Day: g.Format(time.DateOnly), PerGroup: map[string]int64{}})
				}
			}
		}
		if d.PerGroup == nil {
			d.PerGroup = map[string]int64{}
		}
		out = append(out, d)
	}
	if len(out) > maxDays {
		out = out[len(out)-maxDays:]
	}
	return out
}

// handleExperimentResults serves GET /api/experiments/{id}/results: the
// analysis of every metric of the metrics file assignd was started with.
// No SQL comes from the request.
func (s *Server) handleExperimentResults(ctx *fasthttp.RequestCtx, id string) {
	s.insightsCall(ctx, RouteExperimentResults, id, func(c context.Context) (any, error) {
		return s.Insights.Results(c, id)
	})
}
