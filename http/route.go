package http

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// Route names: bounded label values for metrics and logs.
const (
	RouteExperimentCreate = "experiment_create"
	RouteEnroll           = "experiment_enrollments"
	RouteExperimentList   = "experiment_list"
	RouteExperimentGet    = "experiment_get"
	RouteExperimentUpdate = "experiment_update"
	RouteHealthz          = "healthz"
	RouteReadyz           = "readyz"
	RouteMetrics          = "metrics"
	RouteLayerGet         = "layer_get"
	RouteNotFound         = "not_found" // no route matched
	RouteTransport        = "transport" // fasthttp could not read the request
)

const (
	experimentsPrefix = "/api/experiments/"
	layersPrefix      = "/api/layers/"
)

// route dispatches a request and returns its route name.
func (s *Server) route(ctx *fasthttp.RequestCtx) string {
	path := ctx.Path()
	switch string(path) { // no allocation: the compiler switches on the bytes
	case "/api/experiment-enrollments":
		if s.allow(ctx, RouteEnroll, "POST", fasthttp.MethodPost) {
			s.handleEnroll(ctx)
		}
		return RouteEnroll
	case "/api/experiment-create":
		if s.allow(ctx, RouteExperimentCreate, "POST", fasthttp.MethodPost) {
			s.handleCreateExperiment(ctx)
		}
		return RouteExperimentCreate
	case "/api/experiments":
		if s.allow(ctx, RouteExperimentList, "GET, HEAD", fasthttp.MethodGet, fasthttp.MethodHead) {
			s.handleListExperiments(ctx)
		}
		return RouteExperimentList
	case "/api/plan":
		if s.allow(ctx, RoutePlan, "GET, HEAD", fasthttp.MethodGet, fasthttp.MethodHead) {
			s.handlePlan(ctx)
		}
		return RoutePlan
	case "/healthz":
		if s.allow(ctx, RouteHealthz, "GET, HEAD", fasthttp.MethodGet, fasthttp.MethodHead) {
			s.handleHealthz(ctx)
		}
		return RouteHealthz
	case "/readyz":
		if s.allow(ctx, RouteReadyz, "GET, HEAD", fasthttp.MethodGet, fasthttp.MethodHead) {
			s.handleReadyz(ctx)
		}
		return RouteReadyz
	case "/metrics":
		if s.Metrics != nil && s.allow(ctx, RouteMetrics, "GET", fasthttp.MethodGet) {
			s.Metrics(ctx)
			return RouteMetrics
		} else if s.Metrics != nil {
			return RouteMetrics
		}
	}
	if id, ok := bytes.CutPrefix(path, []byte(experimentsPrefix)); ok && len(id) > 0 && bytes.IndexByte(id, '/') < 0 {
		switch string(ctx.Method()) {
		case fasthttp.MethodGet, fasthttp.MethodHead:
			s.handleGetExperiment(ctx, string(id))
			return RouteExperimentGet
		case fasthttp.MethodPatch:
			s.handleUpdateExperiment(ctx, string(id))
			return RouteExperimentUpdate
		}
		s.methodNotAllowed(ctx, RouteExperimentGet, "GET, HEAD, PATCH")
		return RouteExperimentGet
	}
	if name, ok := bytes.CutPrefix(path, []byte(layersPrefix)); ok && len(name) > 0 && bytes.IndexByte(name, '/') < 0 {
		if s.allow(ctx, RouteLayerGet, "GET, HEAD", fasthttp.MethodGet, fasthttp.MethodHead) {
			s.handleGetLayer(ctx, string(name))
		}
		return RouteLayerGet
	}
	s.writeError(ctx, RouteNotFound, ENOROUTE, "No such endpoint.", "", "", nil)
	return RouteNotFound
}

// allow reports whether the request's method is one of methods, and answers
// 405 with the Allow header otherwise.
func (s *Server) allow(ctx *fasthttp.RequestCtx, route, allowHeader string, methods ...string) bool {
	m := ctx.Method()
	for _, want := range methods {
		if string(m) == want {
			return true
		}
	}
	s.methodNotAllowed(ctx, route, allowHeader)
	return false
}

func (s *Server) methodNotAllowed(ctx *fasthttp.RequestCtx, route, allowHeader string) {
	ctx.Response.Header.Set(fasthttp.HeaderAllow, allowHeader)
	s.writeError(ctx, route, EMETHOD, "Method not allowed; allowed: "+allowHeader+".", "", "", nil)
}

// checkBody answers 413 or 415 and returns false unless the request carries a
// JSON body within the size limit. fasthttp enforces the limit on the wire;
// the check here covers Handler used without a fasthttp.Server.
func (s *Server) checkBody(ctx *fasthttp.RequestCtx, route string) bool {
	if !isJSON(ctx.Request.Header.ContentType()) {
		s.writeError(ctx, route, EMEDIATYPE, "Content-Type must be application/json.", "", "", nil)
		return false
	}
	if len(ctx.PostBody()) > s.MaxRequestBodySize {
		s.writeError(ctx, route, ETOOLARGE, transportMessages[ETOOLARGE], "", "", nil)
		return false
	}
	return true
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters (charset) and in any case.
func isJSON(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return bytes.EqualFold(bytes.TrimSpace(ct), []byte("application/json"))
}

// bearer returns the token of an "Authorization: Bearer <token>" header, or
// nil. The scheme is case-insensitive (RFC 7235).
func bearer(ctx *fasthttp.RequestCtx) []byte {
	h := ctx.Request.Header.Peek(fasthttp.HeaderAuthorization)
	if len(h) < 7 || !bytes.EqualFold(h[:7], []byte("bearer ")) {
		return nil
	}
	return bytes.TrimSpace(h[7:])
}
