package http

import (
	"context"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/valyala/fasthttp"
)

// handleEnroll serves POST /api/experiment-enrollments, the hot path:
// token check (cached), a hand-parsed body, one store call under
// EnrollTimeout, and a hand-encoded answer.
func (s *Server) handleEnroll(ctx *fasthttp.RequestCtx) {
	claims, err := s.Verifier.Verify(bearer(ctx))
	if err != nil {
		s.rejectToken(ctx, err)
		return
	}
	if !s.checkBody(ctx, RouteEnroll) {
		return
	}
	id, platform, interned, batch, err := s.enrollRequest(ctx.PostBody())
	if batch != nil {
		if err := checkBatchIDs(batch); err != nil {
			s.writeErr(ctx, RouteEnroll, err)
			return
		}
		s.enrollBatch(ctx, &claims, batch, platform)
		return
	}
	if err != nil && isBatchBody(ctx.PostBody()) {
		s.handleEnrollBatch(ctx, &claims)
		return
	}
	if err == nil && !plainID(id) {
		err = assign.ValidateID(id) // the domain's rule and message
	}
	if err != nil {
		s.writeErr(ctx, RouteEnroll, err)
		return
	}

	// A context of our own, not the RequestCtx: the store may keep it (in a
	// pipeline) after the handler returns, and the deadline is ours to set.
	c, cancel := context.WithTimeout(context.Background(), s.EnrollTimeout)
	e, err := s.Enrollments.Enroll(c, assign.EnrollRequest{ExperimentID: id, UserID: claims.Subject, Claims: claims.Values, Platform: platform})
	cancel()
	if err != nil {
		code := errorCode(err)
		fallback := ""
		if ErrorStatus(code) >= 500 {
			// The client must still render something: tell it what.
			fallback = FallbackDefaultExperience
		}
		s.writeError(ctx, RouteEnroll, code, errorMessage(code, err), assign.ErrorField(err), fallback, err)
		return
	}
	if !interned {
		s.ids.add(id)
	}
	if s.Observer != nil {
		s.Observer.ObserveDecision(e)
	}

	var buf [256]byte
	ctx.SetContentType("application/json")
	ctx.SetBody(appendEnrollment(buf[:0], id, e))
}

// enrollRequest is parseEnrollRequest with the id of a plain body taken
// from the interned ids when it is one of them (interned is then true),
// and, for a plain body of the multi-experiment form, its ids (batch,
// not yet checked by checkBatchIDs) and platform.
func (s *Server) enrollRequest(body []byte) (id, platform string, interned bool, batch []string, err error) {
	if start, end, platform, ok := fastEnrollSpan(body); ok {
		if id, ok := s.ids.lookup(body[start:end]); ok {
			return id, platform, true, nil, nil
		}
		return string(body[start:end]), platform, false, nil, nil
	}
	if batch, platform, ok := fastBatchRequest(body, &s.ids); ok {
		return "", platform, false, batch, nil
	}
	id, platform, err = parseEnrollRequest(body)
	return id, platform, false, nil, err
}

// appendEnrollment encodes the answer by hand, in the field order of the
// contract: {"experiment_id":..,"enrolled":true,"group_name":..[,"override":true]} or
// {"experiment_id":..,"enrolled":false,"reason":..}.
func appendEnrollment(b []byte, id string, e *assign.Enrollment) []byte {
	if e.ExperimentID != "" {
		id = e.ExperimentID
	}
	b = append(b, `{"experiment_id":`...)
	b = appendString(b, id)
	if e.Enrolled {
		b = append(b, `,"enrolled":true,"group_name":`...)
		b = appendString(b, e.Group)
		if e.Override {
			b = append(b, `,"override":true`...)
		}
	} else {
		b = append(b, `,"enrolled":false,"reason":`...)
		b = appendString(b, string(e.Reason))
	}
	return append(b, '}')
}

// rejectToken answers 401 with the RFC 6750 challenge, and counts the reason.
func (s *Server) rejectToken(ctx *fasthttp.RequestCtx, err error) {
	reason := auth.Reason(err)
	if s.Observer != nil {
		s.Observer.ObserveTokenRejection(reason)
	}
	if reason == auth.ReasonMissing {
		// No credentials at all: RFC 6750 says no error attribute.
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="assign"`)
	} else {
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="assign", error="invalid_token"`)
	}
	s.writeError(ctx, RouteEnroll, assign.EUNAUTHORIZED, assign.ErrorMessage(err), "", "", err)
}

// plainID reports whether id obviously passes assign.ValidateID (1 to
// MaxIDLen letters, digits, '-', '_', '.', starting with a letter or digit)
// without the regular expression, which costs a quarter of the handler's
// time. Anything else goes to assign.ValidateID, which stays the authority.
func plainID(id string) bool {
	if len(id) == 0 || len(id) > assign.MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return true
}
