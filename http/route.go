package http

import (
	"bytes"
	"strings"

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
	RouteOpenAPI          = "openapi"
	RouteNotFound         = "not_found" // no route matched
	RouteTransport        = "transport" // fasthttp could not read the request
)

const experimentsPrefix = "/api/experiments/"

// endpoint is one method of a path and the handler serving it. param is the
// path's parameter ("" for a path without one).
type endpoint struct {
	method  string
	name    string // route name, for metrics and logs
	handler func(s *Server, ctx *fasthttp.RequestCtx, param string)
}

// pathRoute is one path of the API. A path ending in "/{name}" matches any
// non-empty last segment without '/', handed to the handler as param.
type pathRoute struct {
	path      string     // the OpenAPI path template: /api/experiments/{id}
	name      string     // route name of a 405 on this path
	endpoints []endpoint // HEAD listed explicitly where served
	// enabled, when set, says whether the server serves the path at all
	// (GET /metrics needs a Metrics handler); a disabled path is a 404.
	enabled func(s *Server) bool

	prefix string // path before its parameter, "" for a fixed path (set by init)
	suffix string // path after its parameter: /changes of /api/experiments/{id}/changes (set by init)
	allow  string // the Allow header of a 405 (set by init)
}

// routes is THE routing table: route dispatches from it and the OpenAPI test
// checks it against openapi/openapi.json, so a path or method added here must
// be documented there (see package openapi), and TestOpenAPI_Responses
// should walk its answers. Entries are tried in order: fixed paths before
// parameterized ones, and the enrollment, the hot path, first. A route only
// some servers serve sets enabled.
var routes = []pathRoute{
	{path: "/api/experiment-enrollments", name: RouteEnroll, endpoints: []endpoint{
		{fasthttp.MethodPost, RouteEnroll, (*Server).serveEnroll},
	}},
	{path: "/api/experiment-create", name: RouteExperimentCreate, endpoints: []endpoint{
		{fasthttp.MethodPost, RouteExperimentCreate, (*Server).serveCreateExperiment},
	}},
	{path: "/api/experiments", name: RouteExperimentList, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteExperimentList, (*Server).serveListExperiments},
		{fasthttp.MethodHead, RouteExperimentList, (*Server).serveListExperiments},
	}},
	{path: "/api/plan", name: RoutePlan, endpoints: []endpoint{
		{fasthttp.MethodGet, RoutePlan, (*Server).servePlan},
		{fasthttp.MethodHead, RoutePlan, (*Server).servePlan},
	}},
	{path: "/healthz", name: RouteHealthz, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteHealthz, (*Server).serveHealthz},
		{fasthttp.MethodHead, RouteHealthz, (*Server).serveHealthz},
	}},
	{path: "/readyz", name: RouteReadyz, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteReadyz, (*Server).serveReadyz},
		{fasthttp.MethodHead, RouteReadyz, (*Server).serveReadyz},
	}},
	{path: "/metrics", name: RouteMetrics, enabled: func(s *Server) bool { return s.Metrics != nil }, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteMetrics, func(s *Server, ctx *fasthttp.RequestCtx, _ string) { s.Metrics(ctx) }},
	}},
	{path: "/openapi.json", name: RouteOpenAPI, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteOpenAPI, (*Server).serveOpenAPI},
		{fasthttp.MethodHead, RouteOpenAPI, (*Server).serveOpenAPI},
	}},
	{path: "/api/experiments/{id}", name: RouteExperimentGet, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteExperimentGet, (*Server).handleGetExperiment},
		{fasthttp.MethodHead, RouteExperimentGet, (*Server).handleGetExperiment},
		{fasthttp.MethodPatch, RouteExperimentUpdate, (*Server).handleUpdateExperiment},
	}},
	// The console's warehouse reads (console.go).
	{path: "/api/experiments/{id}/changes", name: RouteExperimentChanges, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteExperimentChanges, (*Server).handleExperimentChanges},
	}},
	{path: "/api/experiments/{id}/daily-enrollments", name: RouteExperimentDaily, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteExperimentDaily, (*Server).handleExperimentDaily},
	}},
	{path: "/api/experiments/{id}/results", name: RouteExperimentResults, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteExperimentResults, (*Server).handleExperimentResults},
	}},
	// The demo's sample users (sampleusers.go), in assignd's demo mode only.
	{path: "/api/experiments/{id}/sample-users", name: RouteSampleUsers, enabled: func(s *Server) bool { return s.SampleUsers != nil }, endpoints: []endpoint{
		{fasthttp.MethodPost, RouteSampleUsers, (*Server).handleSampleUsers},
	}},
	{path: "/api/layers/{name}", name: RouteLayerGet, endpoints: []endpoint{
		{fasthttp.MethodGet, RouteLayerGet, (*Server).handleGetLayer},
		{fasthttp.MethodHead, RouteLayerGet, (*Server).handleGetLayer},
	}},
}

func init() {
	for i := range routes {
		r := &routes[i]
		if i, j := strings.IndexByte(r.path, '{'), strings.IndexByte(r.path, '}'); i > 0 && j > i && r.path[i-1] == '/' &&
			(j == len(r.path)-1 || r.path[j+1] == '/') && !strings.ContainsAny(r.path[j+1:], "{}") {
			r.prefix, r.suffix = r.path[:i], r.path[j+1:]
		} else if strings.ContainsAny(r.path, "{}") {
			panic("http: one whole path segment can be a parameter: " + r.path)
		}
		methods := make([]string, len(r.endpoints))
		for k, e := range r.endpoints {
			methods[k] = e.method
		}
		r.allow = strings.Join(methods, ", ")
	}
}

// Endpoint is one method and path the server answers, for the tests that hold
// the routing table against the API's OpenAPI document.
type Endpoint struct {
	Method string // GET, HEAD, POST, PATCH...
	Path   string // OpenAPI path template: /api/experiments/{id}
	Route  string // route name (Route* constants)
}

// Endpoints returns every method and path of the routing table, including
// those served only when configured (GET /metrics).
func Endpoints() []Endpoint {
	var out []Endpoint
	for _, r := range routes {
		for _, e := range r.endpoints {
			out = append(out, Endpoint{Method: e.method, Path: r.path, Route: e.name})
		}
	}
	return out
}

// route dispatches a request from the routing table and returns its route
// name. It does not allocate beyond the handler: comparisons of string(bytes)
// do not copy.
func (s *Server) route(ctx *fasthttp.RequestCtx) string {
	path := ctx.Path()
	for i := range routes {
		r := &routes[i]
		var param []byte
		if r.prefix == "" {
			if string(path) != r.path {
				continue
			}
		} else {
			if len(path) <= len(r.prefix)+len(r.suffix) || string(path[:len(r.prefix)]) != r.prefix ||
				string(path[len(path)-len(r.suffix):]) != r.suffix {
				continue
			}
			if param = path[len(r.prefix) : len(path)-len(r.suffix)]; bytes.IndexByte(param, '/') >= 0 {
				continue
			}
		}
		if r.enabled != nil && !r.enabled(s) {
			break
		}
		m := ctx.Method()
		for k := range r.endpoints {
			if e := &r.endpoints[k]; string(m) == e.method {
				e.handler(s, ctx, string(param))
				return e.name
			}
		}
		s.methodNotAllowed(ctx, r.name, r.allow)
		return r.name
	}
	if r := s.routeConsole(ctx, path); r != "" { // console.go
		return r
	}
	s.writeError(ctx, RouteNotFound, ENOROUTE, "No such endpoint.", "", "", nil)
	return RouteNotFound
}

// Adapters from the handlers of fixed paths to the table's signature.
func (s *Server) serveEnroll(ctx *fasthttp.RequestCtx, _ string) { s.handleEnroll(ctx) }
func (s *Server) serveCreateExperiment(ctx *fasthttp.RequestCtx, _ string) {
	s.handleCreateExperiment(ctx)
}
func (s *Server) serveListExperiments(ctx *fasthttp.RequestCtx, _ string) {
	s.handleListExperiments(ctx)
}
func (s *Server) servePlan(ctx *fasthttp.RequestCtx, _ string)    { s.handlePlan(ctx) }
func (s *Server) serveHealthz(ctx *fasthttp.RequestCtx, _ string) { s.handleHealthz(ctx) }
func (s *Server) serveReadyz(ctx *fasthttp.RequestCtx, _ string)  { s.handleReadyz(ctx) }

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
