package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
)

// batchKey marks the multi-experiment form of an enrollment body.
var batchKey = []byte(`"experiment_ids"`)

// isBatchBody reports whether a body that is not the single form holds the
// multi-experiment one: {"experiment_ids": [...]}. Only bodies the single
// form's parser refused get here, so the hot path never pays for it.
func isBatchBody(body []byte) bool {
	if !bytes.Contains(body, batchKey) {
		return false
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) != nil {
		return false
	}
	_, ok := probe["experiment_ids"]
	return ok
}

// parseBatchBody reads {"experiment_ids": ["a", "b"], "platform": "ios"}:
// 1 to assign.MaxBatchExperiments ids, no repeats, and the optional
// platform of the single form. A malformed id is not an error of the whole
// call: its entry answers the error.
func parseBatchBody(body []byte) ([]string, string, error) {
	var req struct {
		ExperimentIDs *[]string `json:"experiment_ids"`
		Platform      *string   `json:"platform"`
	}
	if err := decodeJSON(body, &req); err != nil {
		return nil, "", err
	}
	platform, err := bodyPlatform(req.Platform)
	if err != nil {
		return nil, "", err
	}
	switch {
	case req.ExperimentIDs == nil:
		return nil, "", assign.Invalidf("experiment_ids", "experiment_ids is required")
	case len(*req.ExperimentIDs) == 0:
		return nil, "", assign.Invalidf("experiment_ids", "experiment_ids is empty")
	case len(*req.ExperimentIDs) > assign.MaxBatchExperiments:
		return nil, "", assign.Invalidf("experiment_ids", "at most %d experiment_ids in one call, got %d", assign.MaxBatchExperiments, len(*req.ExperimentIDs))
	}
	ids := *req.ExperimentIDs
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		if j, ok := seen[id]; ok {
			return nil, "", assign.Invalidf(fmt.Sprintf("experiment_ids[%d]", i), "experiment_ids[%d] repeats experiment_ids[%d] (%q)", i, j, id)
		}
		seen[id] = i
	}
	return ids, platform, nil
}

// handleEnrollBatch serves the multi-experiment form of POST
// /api/experiment-enrollments: {"enrollments": [...]} in the order of the
// ids, each the single form's answer or {"experiment_id": .., "error": {..}}
// for that id. The call answers 200 whenever the body is valid: each entry
// carries its own outcome, a 503-class error with the fallback.
func (s *Server) handleEnrollBatch(ctx *fasthttp.RequestCtx, claims *auth.Claims) {
	ids, platform, err := parseBatchBody(ctx.PostBody())
	if err != nil {
		s.writeErr(ctx, RouteEnroll, err)
		return
	}
	results := make([]assign.EnrollResult, len(ids))
	var reqs []assign.EnrollRequest
	var at []int // position in ids of each request
	for i, id := range ids {
		if !plainID(id) {
			if err := assign.ValidateID(id); err != nil {
				results[i].Err = err
				continue
			}
		}
		reqs = append(reqs, assign.EnrollRequest{ExperimentID: id, UserID: claims.Subject, Claims: claims.Values, Platform: platform})
		at = append(at, i)
	}
	c, cancel := context.WithTimeout(context.Background(), s.EnrollTimeout)
	var got []assign.EnrollResult
	if b, ok := s.Enrollments.(assign.BatchEnrollmentService); ok {
		got = b.EnrollMany(c, reqs)
	} else {
		got = make([]assign.EnrollResult, len(reqs))
		for j, r := range reqs {
			got[j].Enrollment, got[j].Err = s.Enrollments.Enroll(c, r)
		}
	}
	cancel()
	for j, r := range got {
		results[at[j]] = r
	}

	// One log line per call, not per failed experiment.
	failed, firstFailed, firstErr := 0, "", error(nil)
	b := make([]byte, 0, 128*len(ids))
	b = append(b, `{"enrollments":[`...)
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		if r.Err == nil {
			if s.Observer != nil {
				s.Observer.ObserveDecision(r.Enrollment)
			}
			b = appendEnrollment(b, ids[i], r.Enrollment)
			continue
		}
		code := errorCode(r.Err)
		fallback := ""
		if ErrorStatus(code) >= 500 {
			fallback = FallbackDefaultExperience
			if failed++; failed == 1 {
				firstFailed, firstErr = ids[i], r.Err
			}
		}
		b = append(b, `{"experiment_id":`...)
		b = appendString(b, ids[i])
		b = append(b, ',')
		// appendError writes {"error":{..}}: keep its inside.
		e := appendError(nil, code, errorMessage(code, r.Err), assign.ErrorField(r.Err), fallback)
		b = append(b, e[1:]...)
	}
	b = append(b, "]}"...)
	if failed > 0 {
		s.Logger.Error("enrollments failed", "route", RouteEnroll, "failed", failed, "of", len(ids), "experiment_id", firstFailed, "err", firstErr)
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
