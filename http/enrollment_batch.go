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
	if req.ExperimentIDs == nil {
		return nil, "", assign.Invalidf("experiment_ids", "experiment_ids is required")
	}
	if err := checkBatchIDs(*req.ExperimentIDs); err != nil {
		return nil, "", err
	}
	return *req.ExperimentIDs, platform, nil
}

// checkBatchIDs refuses an empty list of ids, one over
// assign.MaxBatchExperiments, and the first repeat (naming its first
// occurrence): a pairwise comparison, at most 50 ids, allocates nothing.
func checkBatchIDs(ids []string) error {
	switch {
	case len(ids) == 0:
		return assign.Invalidf("experiment_ids", "experiment_ids is empty")
	case len(ids) > assign.MaxBatchExperiments:
		return assign.Invalidf("experiment_ids", "at most %d experiment_ids in one call, got %d", assign.MaxBatchExperiments, len(ids))
	}
	for i, id := range ids {
		for j := 0; j < i; j++ {
			if ids[j] == id {
				return assign.Invalidf(fmt.Sprintf("experiment_ids[%d]", i), "experiment_ids[%d] repeats experiment_ids[%d] (%q)", i, j, id)
			}
		}
	}
	return nil
}

var batchOpen = []byte(`"experiment_ids"`)

// fastBatchRequest reads the shapes clients send of the multi-experiment
// form, {"experiment_ids":["a","b"]} with an optional "platform" that is
// one of the platforms, before or after, with any whitespace: ids plain
// strings (no escapes, control or non-ASCII bytes) at most
// assign.MaxBatchExperiments of them, each from ids (interned) when it is
// there. It returns ok=false for anything else, which parseBatchBody reads
// with encoding/json; whatever it accepts, parseBatchBody would decode to
// the same ids and platform (FuzzEnrollBody holds it to that), and
// checkBatchIDs is still to run.
func fastBatchRequest(b []byte, ids *idTable) (list []string, platform string, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, "", false
	}
	i = skipSpace(b, i+1)
	seenIDs, seenPlatform := false, false
	for {
		switch {
		case !seenIDs && bytes.HasPrefix(b[i:], batchOpen):
			seenIDs = true
			i = skipSpace(b, i+len(batchOpen))
			if i >= len(b) || b[i] != ':' {
				return nil, "", false
			}
			i = skipSpace(b, i+1)
			if i >= len(b) || b[i] != '[' {
				return nil, "", false
			}
			i = skipSpace(b, i+1)
			list = make([]string, 0, 8)
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			for {
				if len(list) == assign.MaxBatchExperiments {
					return nil, "", false // parseBatchBody's error
				}
				start, end, next, ok := fastString(b, i)
				if !ok {
					return nil, "", false
				}
				id, interned := ids.lookup(b[start:end])
				if !interned {
					id = string(b[start:end])
				}
				list = append(list, id)
				i = skipSpace(b, next)
				if i < len(b) && b[i] == ',' {
					i = skipSpace(b, i+1)
					continue
				}
				if i < len(b) && b[i] == ']' {
					i++
					break
				}
				return nil, "", false
			}
		case !seenPlatform && bytes.HasPrefix(b[i:], platformKey):
			seenPlatform = true
			ps, pe, next, ok := fastMember(b, i, platformKey)
			if !ok {
				return nil, "", false
			}
			if platform = knownPlatform(b[ps:pe]); platform == "" {
				return nil, "", false
			}
			i = next
		default:
			return nil, "", false
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i >= len(b) || b[i] != '}' || !seenIDs || skipSpace(b, i+1) != len(b) {
			return nil, "", false
		}
		return list, platform, true
	}
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
	s.enrollBatch(ctx, claims, ids, platform)
}

// enrollBatch answers the multi-experiment form for valid ids.
func (s *Server) enrollBatch(ctx *fasthttp.RequestCtx, claims *auth.Claims, ids []string, platform string) {
	results := make([]assign.EnrollResult, len(ids))
	reqs := make([]assign.EnrollRequest, 0, len(ids))
	at := make([]int, 0, len(ids)) // position in ids of each request
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
			s.ids.add(ids[i])
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
