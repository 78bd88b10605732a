package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/openapi"
)

// loadOpenAPI loads openapi/openapi.json and checks it is a valid OpenAPI 3.1
// document.
func loadOpenAPI(tb testing.TB) *openapi3.T {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		tb.Fatalf("openapi.json does not load: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.IsOpenAPI32OrLater() {
		tb.Fatalf("openapi.json is OpenAPI %q, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		tb.Fatalf("openapi.json is not a valid OpenAPI 3.1 document: %v", err)
	}
	return doc
}

func TestOpenAPI_Valid(t *testing.T) {
	loadOpenAPI(t)
	if !json.Valid(openapi.Document) {
		t.Fatal("openapi.json is not JSON")
	}
}

// TestOpenAPI_EveryRouteDocumented holds the routing table (route.go) and the
// document to the same set of methods and paths: a route added to the table
// must be documented, and a documented operation must be routed.
func TestOpenAPI_EveryRouteDocumented(t *testing.T) {
	doc := loadOpenAPI(t)
	routed := map[string]bool{}
	for _, e := range assignhttp.Endpoints() {
		if e.Route == "" {
			t.Errorf("%s %s has no route name", e.Method, e.Path)
		}
		routed[e.Method+" "+e.Path] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for k := range routed {
		if !documented[k] {
			t.Errorf("%s is routed (route.go) but not in openapi/openapi.json", k)
		}
	}
	for k := range documented {
		if !routed[k] {
			t.Errorf("%s is in openapi/openapi.json but not routed (route.go)", k)
		}
	}

	// And the table dispatches each: in process, every documented operation
	// on a concrete path reaches a handler, neither 404 no_route nor 405.
	s := assignhttp.NewServer()
	s.Metrics = func(ctx *fasthttp.RequestCtx) {}
	s.SampleUsers = func(ctx context.Context, id string) (any, error) { return nil, assign.Errorf(assign.ENOTFOUND, "no") }
	h := s.Handler()
	for k := range documented {
		method, path, _ := strings.Cut(k, " ")
		path = strings.NewReplacer("{id}", "x", "{name}", "x").Replace(path)
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(path)
		h(&ctx)
		if code := ctx.Response.StatusCode(); code == http.StatusMethodNotAllowed ||
			(code == http.StatusNotFound && bytes.Contains(ctx.Response.Body(), []byte(`"no_route"`))) {
			t.Errorf("%s %s: %d %s: documented but not dispatched", method, path, code, ctx.Response.Body())
		}
	}
}

// contract validates real responses against the document.
type contract struct {
	doc    *openapi3.T
	router routers.Router

	mu      sync.Mutex
	checked map[string]bool // "operationId status" validated
}

func newContract(tb testing.TB) *contract {
	tb.Helper()
	doc := loadOpenAPI(tb)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return &contract{doc: doc, router: router, checked: map[string]bool{}}
}

// Do sends a request through ts and fails unless the answer is one the
// document allows: for a documented operation, a documented status with its
// headers and body schema; for a path not routed, the NoRoute response; for
// a method the path does not answer, MethodNotAllowed.
func (c *contract) Do(tb testing.TB, ts *TestServer, method, path, token, body string, contentType ...string) Response {
	tb.Helper()
	r := ts.Do(tb, method, path, token, body, contentType...)
	c.check(tb, method, path, r)
	return r
}

func (c *contract) check(tb testing.TB, method, path string, r Response) {
	tb.Helper()
	req, err := http.NewRequest(method, "http://localhost"+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	route, params, err := c.router.FindRoute(req)
	switch {
	case err != nil && r.Status == http.StatusNotFound:
		c.checkComponent(tb, method, path, "NoRoute", r)
		return
	case err != nil && r.Status == http.StatusMethodNotAllowed:
		c.checkComponent(tb, method, path, "MethodNotAllowed", r)
		return
	case err != nil:
		tb.Fatalf("%s %s: %d, but the document has no such operation: %v", method, path, r.Status, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(r.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		tb.Fatalf("%s %s: the %d answer does not match the document: %v\nbody: %s", method, path, r.Status, err, r.Body)
	}
	if method == http.MethodHead && len(r.Body) > 0 {
		tb.Fatalf("HEAD %s: a body", path)
	}
	c.mu.Lock()
	c.checked[route.Operation.OperationID+" "+strconv.Itoa(r.Status)] = true
	c.mu.Unlock()
}

// checkComponent validates an answer to a request that matches no operation
// against a response of components.
func (c *contract) checkComponent(tb testing.TB, method, path, name string, r Response) {
	tb.Helper()
	resp := c.doc.Components.Responses[name].Value
	for h, ref := range resp.Headers {
		if ref.Value.Required && r.Header.Get(h) == "" {
			tb.Fatalf("%s %s: %d without the %s header %s requires", method, path, r.Status, h, name)
		}
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, r.Status, r.Body)
	}
	if err := c.doc.ValidateSchemaJSON(resp.Content.Get("application/json").Schema.Value, v); err != nil {
		tb.Fatalf("%s %s: the %d answer does not match components/responses/%s: %v\nbody: %s", method, path, r.Status, name, err, r.Body)
	}
	c.mu.Lock()
	c.checked[name] = true
	c.mu.Unlock()
}

// TestOpenAPI_Responses walks every route, its answers and its error cases
// (400, 401, 404, 405, 409, 413, 415, 503; there is no 403) on a real
// server, and validates each answer against the document.
func TestOpenAPI_Responses(t *testing.T) {
	c := newContract(t)
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Layers = s.Experiments.(assignhttp.LayerSplitter)
		s.Metrics = func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain; version=0.0.4; charset=utf-8")
			ctx.SetBodyString("assign_up 1\n")
		}
		s.MaxRequestBodySize = 4 << 10
		s.Logger = slog.New(slog.DiscardHandler) // the walk's errors are on purpose
	})
	user := UserToken(t, "user-1", map[string]any{"first_order": true})
	do := func(method, path, token, body string, want int, contentType ...string) Response {
		t.Helper()
		r := c.Do(t, ts, method, path, token, body, contentType...)
		MustStatus(t, r, want)
		return r
	}
	const create, enroll = "/api/experiment-create", "/api/experiment-enrollments"
	const id = "f380739f-62f3-4316-8acf-93ed5744cb9e"
	exp := "/api/experiments/" + id

	// Creation.
	do("POST", create, adminToken, `{"experiment_id":"`+id+`","maximum_sample_size":250,"sampling_probability":1,
		"groups":[{"group_name":"old_journey","probability_of_falling_in":0.5},{"group_name":"new_journey","probability_of_falling_in":0.5}],
		"eligibility":[{"claim":"first_order","equals":true}]}`, http.StatusCreated)
	do("POST", create, adminToken, `{"maximum_sample_size":10,"layer":"checkout","groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusCreated)
	do("POST", create, adminToken, `{"experiment_id":"layered","maximum_sample_size":10,"layer":"checkout","groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusCreated)
	do("POST", create, adminToken, `{"experiment_id":"full","maximum_sample_size":1,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusCreated)
	do("POST", create, adminToken, `{"experiment_id":"`+id+`","maximum_sample_size":250,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusConflict)
	do("POST", create, adminToken, `{"experiment_id":"x","maximum_sample_size":0,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusBadRequest)
	do("POST", create, adminToken, `{"experiment_id":"x","maximum_sample_size":1,"groups":[{"group_name":"a\u0007","probability_of_falling_in":1}]}`, http.StatusBadRequest)
	do("POST", create, adminToken, `{"nope":1}`, http.StatusBadRequest)
	do("POST", create, adminToken, `{`, http.StatusBadRequest)
	do("POST", create, "", `{}`, http.StatusUnauthorized)
	do("POST", create, "wrong", `{}`, http.StatusUnauthorized)
	do("POST", create, adminToken, `{}`, http.StatusUnsupportedMediaType, "text/plain")
	do("POST", create, adminToken, `{"experiment_id":"`+strings.Repeat("x", 5<<10)+`"}`, http.StatusRequestEntityTooLarge)
	do("PUT", create, adminToken, `{}`, http.StatusMethodNotAllowed)

	// Enrollment.
	do("POST", enroll, user, enrollBody(id), http.StatusOK)
	do("POST", enroll, user, enrollBody(id), http.StatusOK)
	do("POST", enroll, UserToken(t, "user-2", nil), enrollBody(id), http.StatusOK) // not eligible
	do("POST", enroll, user, enrollBody("full"), http.StatusOK)
	do("POST", enroll, UserToken(t, "user-3", nil), enrollBody("full"), http.StatusOK) // sample full
	do("POST", enroll, user, enrollBody("unknown"), http.StatusNotFound)
	do("POST", enroll, user, enrollBody("bad id!"), http.StatusBadRequest)
	do("POST", enroll, user, `{"experiment_id":1}`, http.StatusBadRequest)
	do("POST", enroll, UserToken(t, "user\u0001", nil), enrollBody(id), http.StatusBadRequest)
	do("POST", enroll, "", enrollBody(id), http.StatusUnauthorized)
	do("POST", enroll, "garbage", enrollBody(id), http.StatusUnauthorized)
	do("POST", enroll, user, enrollBody(id), http.StatusUnsupportedMediaType, "-")
	do("POST", enroll, user, `{"experiment_id":"`+strings.Repeat("x", 5<<10)+`"}`, http.StatusRequestEntityTooLarge)
	do("GET", enroll, user, "", http.StatusMethodNotAllowed)
	// The multi-experiment form: answers, refusals and error entries.
	do("POST", enroll, user, `{"experiment_ids":["`+id+`","full","unknown","bad id!","layered"]}`, http.StatusOK)
	do("POST", enroll, user, `{"experiment_ids":[]}`, http.StatusBadRequest)
	do("POST", enroll, user, `{"experiment_ids":["full","full"]}`, http.StatusBadRequest)

	// Reading, listing and changing.
	for _, m := range []string{"GET", "HEAD"} {
		do(m, exp, adminToken, "", http.StatusOK)
		do(m, "/api/experiments/unknown", adminToken, "", http.StatusNotFound)
		do(m, "/api/experiments/bad%20id", adminToken, "", http.StatusNotFound)
		do(m, exp, "", "", http.StatusUnauthorized)
		do(m, "/api/experiments", adminToken, "", http.StatusOK)
		do(m, "/api/experiments?limit=1", adminToken, "", http.StatusOK)
		do(m, "/api/experiments?limit=1&after="+id, adminToken, "", http.StatusOK)
		do(m, "/api/experiments?limit=0", adminToken, "", http.StatusBadRequest)
		do(m, "/api/experiments", "", "", http.StatusUnauthorized)
	}
	do("PATCH", exp, adminToken, `{"status":"paused"}`, http.StatusOK)
	do("PATCH", exp, adminToken, `{"status":"running","sampling_probability":0.5,"maximum_sample_size":300}`, http.StatusOK)
	do("PATCH", exp, adminToken, `{"groups":[{"group_name":"old_journey","probability_of_falling_in":0.2},{"group_name":"new_journey","probability_of_falling_in":0.8}]}`, http.StatusOK)
	do("PATCH", exp, adminToken, `{"winner":"new_journey"}`, http.StatusOK)
	do("GET", exp, adminToken, "", http.StatusOK)
	do("PATCH", exp, adminToken, `{"winner":""}`, http.StatusOK)
	do("PATCH", exp, adminToken, `{"winner":"nobody"}`, http.StatusBadRequest)
	do("PATCH", exp, adminToken, `{}`, http.StatusBadRequest)
	do("PATCH", exp, adminToken, `{"status":"gone"}`, http.StatusBadRequest)
	do("PATCH", "/api/experiments/unknown", adminToken, `{"status":"paused"}`, http.StatusNotFound)
	do("PATCH", exp, "", `{"status":"paused"}`, http.StatusUnauthorized)
	do("PATCH", exp, adminToken, `{"status":"paused"}`, http.StatusUnsupportedMediaType, "text/plain")
	do("PATCH", exp, adminToken, `{"winner":"`+strings.Repeat("x", 5<<10)+`"}`, http.StatusRequestEntityTooLarge)
	do("DELETE", exp, adminToken, "", http.StatusMethodNotAllowed)
	do("PATCH", "/api/experiments", adminToken, `{}`, http.StatusMethodNotAllowed)
	do("PATCH", "/api/experiments/paused", adminToken, `{"status":"paused"}`, http.StatusNotFound)
	do("POST", enroll, user, enrollBody("layered"), http.StatusOK)

	// Layers.
	for _, m := range []string{"GET", "HEAD"} {
		do(m, "/api/layers/checkout", adminToken, "", http.StatusOK)
		do(m, "/api/layers/unknown", adminToken, "", http.StatusOK)
		do(m, "/api/layers/%7Bbad%7D", adminToken, "", http.StatusNotFound)
		do(m, "/api/layers/checkout", "", "", http.StatusUnauthorized)
	}
	do("POST", "/api/layers/checkout", adminToken, "", http.StatusMethodNotAllowed)

	// Planning.
	for _, m := range []string{"GET", "HEAD"} {
		do(m, "/api/plan?baseline=0.11&effect=0.2&relative=true&sampling_probability=0.9", adminToken, "", http.StatusOK)
		do(m, "/api/plan?outcome=numeric&baseline=6.5&sd=20&maximum_sample_size=3000", adminToken, "", http.StatusOK)
		do(m, "/api/plan?baseline=0.1&effect=0.02&probabilities=0.2,0.4,0.4&alpha=0.1&power=0.9", adminToken, "", http.StatusOK)
		do(m, "/api/plan?baseline=x&effect=0.02", adminToken, "", http.StatusBadRequest)
		do(m, "/api/plan?nope=1", adminToken, "", http.StatusBadRequest)
		do(m, "/api/plan?baseline=0.1", "", "", http.StatusUnauthorized)
	}
	do("POST", "/api/plan", adminToken, "", http.StatusMethodNotAllowed)

	// Operations.
	for _, m := range []string{"GET", "HEAD"} {
		do(m, "/healthz", "", "", http.StatusOK)
		do(m, "/readyz", "", "", http.StatusOK)
		r := do(m, "/openapi.json", "", "", http.StatusOK)
		if m == "GET" && !bytes.Equal(r.Body, openapi.Document) {
			t.Fatal("GET /openapi.json is not openapi/openapi.json")
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Fatalf("%s /openapi.json: Content-Type=%q", m, got)
		}
	}
	do("GET", "/metrics", "", "", http.StatusOK)
	do("POST", "/metrics", "", "", http.StatusMethodNotAllowed)
	do("POST", "/openapi.json", "", "", http.StatusMethodNotAllowed)
	do("PUT", "/healthz", "", "", http.StatusMethodNotAllowed)
	do("GET", "/", "", "", http.StatusNotFound)
	do("POST", "/api/experiments/a/b", adminToken, "", http.StatusNotFound)

	// Redis gone: 503 everywhere it is reachable.
	ts.Redis.Close()
	do("POST", enroll, user, enrollBody(id), http.StatusServiceUnavailable)
	do("POST", create, adminToken, `{"maximum_sample_size":10,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`, http.StatusServiceUnavailable)
	do("GET", exp, adminToken, "", http.StatusServiceUnavailable)
	do("PATCH", exp, adminToken, `{"status":"paused"}`, http.StatusServiceUnavailable)
	do("GET", "/api/experiments", adminToken, "", http.StatusServiceUnavailable)
	do("GET", "/api/layers/checkout", adminToken, "", http.StatusServiceUnavailable)
	for _, m := range []string{"GET", "HEAD"} {
		do(m, "/readyz", "", "", http.StatusServiceUnavailable)
		do(m, "/healthz", "", "", http.StatusOK)
	}

	walkConsoleRoutes(t, c) // console_test.go
	walkSampleUsers(t, c)   // sampleusers_test.go

	// Without Layers and Metrics, their paths are 404s of their own.
	plain := MustOpenServer(t, func(s *assignhttp.Server) { s.Logger = slog.New(slog.DiscardHandler) })
	MustStatus(t, c.Do(t, plain, "GET", "/api/layers/checkout", adminToken, ""), http.StatusNotFound)
	MustStatus(t, c.Do(t, plain, "GET", "/metrics", "", ""), http.StatusNotFound)

	// Degraded is still ready.
	degraded := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Logger = slog.New(slog.DiscardHandler)
		s.Degraded = func(context.Context) string { return "Redis is out of memory: new enrollments fail." }
	})
	if r := c.Do(t, degraded, "GET", "/readyz", "", ""); r.Status != http.StatusOK || r.JSON(t)["status"] != "degraded" {
		t.Fatalf("degraded: %d %s", r.Status, r.Body)
	}

	// Every operation's success was seen, and every status the walk aims at.
	var missing []string
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for _, o := range c.doc.Paths.Value(path).Operations() {
			for status := range o.Responses.Map() {
				if !c.checked[o.OperationID+" "+status] && (strings.HasPrefix(status, "2") || !unreached(o.OperationID, status)) {
					missing = append(missing, o.OperationID+" "+status)
				}
			}
		}
	}
	for _, name := range []string{"NoRoute", "MethodNotAllowed"} {
		if !c.checked[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("documented answers the walk did not validate: %s", strings.Join(missing, ", "))
	}
}

// unreached reports whether the walk may leave a documented status of an
// operation out: 500 (a bug, or a corrupt stored configuration), 503 where
// it is only the connection limit's (conns_test.go covers the limit), and
// the 409 of updates racing each other.
func unreached(operationID, status string) bool {
	return slices.Contains([]string{"500", "503"}, status) || operationID+" "+status == "updateExperiment 409"
}

// TestRoute_NoAllocs: dispatching from the routing table allocates nothing
// (the enrollment's own allocations are BenchmarkEnrollHandler's).
func TestRoute_NoAllocs(t *testing.T) {
	s := assignhttp.NewServer()
	s.Logger = slog.New(slog.DiscardHandler)
	h := s.Handler()
	for _, path := range []string{"/healthz", "/openapi.json", "/nope", "/api/layers/a/b"} {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(fasthttp.MethodGet)
		ctx.Request.SetRequestURI(path)
		h(&ctx) // warm the buffers
		if n := testing.AllocsPerRun(100, func() { ctx.Response.Reset(); h(&ctx) }); n != 0 {
			t.Errorf("GET %s: %v allocations per request, want 0", path, n)
		}
	}
}

// TestOpenAPI_ConnectionLimit: at the connection limit, every operation's
// answer is the documented 503 with Retry-After.
func TestOpenAPI_ConnectionLimit(t *testing.T) {
	c := newContract(t)
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Concurrency = 1
		s.Layers = s.Experiments.(assignhttp.LayerSplitter)
		s.Metrics = func(ctx *fasthttp.RequestCtx) {}
		s.Logger = slog.New(slog.DiscardHandler)
	})
	addr := strings.TrimPrefix(ts.URL(), "http://")
	// The one connection allowed is busy: headers sent, its body to come.
	req := enrollRequest(UserToken(t, "user-1", nil))
	busy := dialKeepAlive(t, addr)
	busy.send(t, req[:strings.Index(req, "\r\n\r\n")+4])
	waitConns(t, ts.Server, func(s assignhttp.ConnStats) bool { return s.Open == 1 && s.Idle == 0 })

	for _, e := range assignhttp.Endpoints() {
		path := strings.NewReplacer("{id}", "x", "{name}", "x").Replace(e.Path)
		k := dialKeepAlive(t, addr)
		k.send(t, e.Method+" "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(k.br, &http.Request{Method: e.Method})
		if err != nil {
			t.Fatalf("%s %s: %v", e.Method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
		MustStatus(t, r, http.StatusServiceUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s %s: a 503 at the limit without Retry-After", e.Method, path)
		}
		c.check(t, e.Method, path, r)
	}
}
