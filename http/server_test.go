package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
	"github.com/assign-dev/assign/redisstore"
)

var (
	testSecret = []byte("http-test-secret-0123456789abcdef")
	adminToken = "admin-token-0123456789"
	adminName  = "alice"
)

// TestServer is a Server listening on 127.0.0.1:0 over the real redisstore,
// with a net/http client.
type TestServer struct {
	*assignhttp.Server
	Store     *redisstore.Store
	Namespace string               // key namespace of this test
	Redis     *miniredis.Miniredis // nil on the real Redis
	Client    *http.Client
}

// MustOpenServer opens a server over redisstore on miniredis. configure, if
// not nil, may change the server before it opens.
func MustOpenServer(tb testing.TB, configure func(*assignhttp.Server)) *TestServer {
	tb.Helper()
	mr := miniredis.RunT(tb)
	ts := mustOpenServerOn(tb, redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1}), configure)
	ts.Redis = mr
	return ts
}

func mustOpenServerOn(tb testing.TB, client *redis.Client, configure func(*assignhttp.Server)) *TestServer {
	tb.Helper()
	ns := testenv.Namespace()
	tb.Cleanup(func() {
		// Delete what the test wrote, then let go of the connections.
		ctx := context.Background()
		iter := client.Scan(ctx, 0, ns+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		client.Close()
	})
	store := redisstore.New(client, redisstore.Keys{Namespace: ns})
	if err := store.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{HS256Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	s := assignhttp.NewServer()
	s.Addr = "127.0.0.1:0"
	s.Experiments, s.Enrollments, s.Verifier = store, store, v
	s.Admins = map[string]string{adminToken: adminName}
	s.Ready = store.Ping
	// Generous: miniredis under concurrent tests on a busy machine is slow,
	// and tests must not depend on timing. TestEnroll_Deadline covers it.
	s.EnrollTimeout = 5 * time.Second
	if configure != nil {
		configure(s)
	}
	if err := s.Open(); err != nil {
		tb.Fatal(err)
	}
	client2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	tb.Cleanup(func() {
		client2.CloseIdleConnections()
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return &TestServer{Server: s, Store: store, Namespace: ns, Client: client2}
}

// Response is a buffered answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// ErrorCode returns error.code of an error body.
func (r Response) ErrorCode(tb testing.TB) string {
	tb.Helper()
	e, _ := r.JSON(tb)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// ErrorField returns error.field of an error body.
func (r Response) ErrorField(tb testing.TB) string {
	tb.Helper()
	e, _ := r.JSON(tb)["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// Do sends a request. token, when set, goes as a Bearer token; a non-empty
// body is sent as application/json unless contentType says otherwise
// ("-" sends no Content-Type).
func (ts *TestServer) Do(tb testing.TB, method, path, token, body string, contentType ...string) Response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ct := "application/json"
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	if body != "" && ct != "-" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := ts.Client.Do(req)
	// A server refusing an oversized body (413) answers and closes without
	// reading it: the client's write of the rest can then fail before it
	// reads the answer (EPIPE, ECONNRESET), a race of the transport, not of
	// the server. Such a request is sent again, a few times at most.
	for try := 0; err != nil && len(body) >= 4<<10 && try < 5 && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)); try++ {
		if req, err = http.NewRequest(method, ts.URL()+path, strings.NewReader(body)); err != nil {
			tb.Fatal(err)
		}
		req.Header = resendHeader(token, body, contentType...)
		resp, err = ts.Client.Do(req)
	}
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); len(b) > 0 && ct != "application/json" && path != "/metrics" {
		tb.Fatalf("%s %s: Content-Type=%q, want application/json", method, path, ct)
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	// Every answer of every test is one the OpenAPI document allows.
	sharedContract(tb).check(tb, method, path, r)
	return r
}

var (
	contractOnce sync.Once
	contractDoc  *contract
)

// sharedContract is the document's validator, loaded once for the package.
func sharedContract(tb testing.TB) *contract {
	tb.Helper()
	contractOnce.Do(func() { contractDoc = newContract(tb) })
	return contractDoc
}

// resendHeader is the header Do sets on a request.
func resendHeader(token, body string, contentType ...string) http.Header {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ct := "application/json"
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	if body != "" && ct != "-" {
		h.Set("Content-Type", ct)
	}
	return h
}

// MustStatus fails unless r has the wanted status.
func MustStatus(tb testing.TB, r Response, want int) {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status=%d, want %d; body=%s", r.Status, want, r.Body)
	}
}

// UserToken returns a valid HS256 token for sub with extra claims.
func UserToken(tb testing.TB, sub string, extra map[string]any) string {
	tb.Helper()
	tok, err := auth.SignHS256(testSecret, sub, time.Hour, extra)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// MustCreate creates an experiment from a JSON body and returns its id.
func (ts *TestServer) MustCreate(tb testing.TB, body string) string {
	tb.Helper()
	r := ts.Do(tb, "POST", "/api/experiment-create", adminToken, body)
	MustStatus(tb, r, http.StatusCreated)
	id, _ := r.JSON(tb)["experiment_id"].(string)
	if id == "" {
		tb.Fatalf("no experiment_id in %s", r.Body)
	}
	return id
}

// MustEnroll enrolls sub and returns the decoded answer.
func (ts *TestServer) MustEnroll(tb testing.TB, id, sub string, extra map[string]any) map[string]any {
	tb.Helper()
	r := ts.Do(tb, "POST", "/api/experiment-enrollments", UserToken(tb, sub, extra), `{"experiment_id":"`+id+`"}`)
	MustStatus(tb, r, http.StatusOK)
	return r.JSON(tb)
}

const seedExperiment = `{"experiment_id": "f380739f-62f3-4316-8acf-93ed5744cb9e",
 "maximum_sample_size": 250,
 "groups": [{"group_name": "old_journey", "probability_of_falling_in": 0.5},
            {"group_name": "new_journey", "probability_of_falling_in": 0.5}]}`

// observer records what the server reports, for TestServer_Observer.
type observer struct {
	mu         sync.Mutex
	requests   []string
	rejections []string
	decisions  []assign.Enrollment
}

func (o *observer) ObserveRequest(route string, code int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, route+" "+http.StatusText(code))
}

func (o *observer) ObserveTokenRejection(reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rejections = append(o.rejections, reason)
}

func (o *observer) ObserveDecision(e *assign.Enrollment) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.decisions = append(o.decisions, *e)
}

func TestServer_Open(t *testing.T) {
	t.Run("ErrBadAddr", func(t *testing.T) {
		s := assignhttp.NewServer()
		s.Addr = "256.0.0.1:99999"
		ts := MustOpenServer(t, nil)
		s.Experiments, s.Enrollments, s.Verifier = ts.Store, ts.Store, ts.Verifier
		if err := s.Open(); err == nil {
			s.Close()
			t.Fatal("expected an error for a bad address")
		}
	})
	t.Run("ErrAddrInUse", func(t *testing.T) {
		ts := MustOpenServer(t, nil)
		s := assignhttp.NewServer()
		s.Addr = strings.TrimPrefix(ts.URL(), "http://")
		s.Experiments, s.Enrollments, s.Verifier = ts.Store, ts.Store, ts.Verifier
		if err := s.Open(); err == nil {
			s.Close()
			t.Fatal("expected an error for an address in use")
		}
	})
	t.Run("ErrMissingServices", func(t *testing.T) {
		s := assignhttp.NewServer()
		s.Addr = "127.0.0.1:0"
		if err := s.Open(); err == nil {
			s.Close()
			t.Fatal("expected an error without services")
		}
	})
	t.Run("URL", func(t *testing.T) {
		ts := MustOpenServer(t, nil)
		if !strings.HasPrefix(ts.URL(), "http://127.0.0.1:") || ts.Port() == 0 {
			t.Fatalf("URL=%q Port=%d", ts.URL(), ts.Port())
		}
	})
}

func TestServer_Close(t *testing.T) {
	ts := MustOpenServer(t, nil)
	MustStatus(t, ts.Do(t, "GET", "/healthz", "", ""), http.StatusOK)
	ts.Client.CloseIdleConnections()
	if err := ts.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if resp, err := ts.Client.Get(ts.URL() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Close")
	}
}

func TestServer_Routes(t *testing.T) {
	ts := MustOpenServer(t, nil)
	t.Run("NotFound", func(t *testing.T) {
		for _, p := range []string{"/", "/api", "/api/experiments/a/b", "/api/experiments/", "/nope"} {
			r := ts.Do(t, "GET", p, adminToken, "")
			MustStatus(t, r, http.StatusNotFound)
			if got, want := r.ErrorCode(t), "no_route"; got != want {
				t.Fatalf("%s: code=%q, want %q", p, got, want)
			}
		}
	})
	t.Run("MethodNotAllowed", func(t *testing.T) {
		for _, tt := range []struct{ method, path, allow string }{
			{"GET", "/api/experiment-enrollments", "POST"},
			{"PUT", "/api/experiment-create", "POST"},
			{"POST", "/api/experiments", "GET, HEAD"},
			{"DELETE", "/api/experiments/x", "GET, HEAD, PATCH"},
			{"POST", "/healthz", "GET, HEAD"},
		} {
			r := ts.Do(t, tt.method, tt.path, adminToken, "")
			MustStatus(t, r, http.StatusMethodNotAllowed)
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Fatalf("%s %s: Allow=%q, want %q", tt.method, tt.path, got, tt.allow)
			} else if got, want := r.ErrorCode(t), "method_not_allowed"; got != want {
				t.Fatalf("code=%q, want %q", got, want)
			}
		}
	})
}

func TestServer_Health(t *testing.T) {
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.ReadyDetails = func(ctx context.Context) any { return map[string]int{"exporter_backlog": 7} }
	})
	MustStatus(t, ts.Do(t, "GET", "/healthz", "", ""), http.StatusOK)
	r := ts.Do(t, "GET", "/readyz", "", "")
	MustStatus(t, r, http.StatusOK)
	body := r.JSON(t)
	if got, want := body["status"], any("ready"); got != want {
		t.Fatalf("status=%v, want %v", got, want)
	} else if got, want := fmt.Sprint(body["details"]), "map[exporter_backlog:7]"; got != want {
		t.Fatalf("details=%v, want %v", got, want)
	}

	ts.Redis.Close() // Redis gone: not ready, still alive, details still reported
	r = ts.Do(t, "GET", "/readyz", "", "")
	MustStatus(t, r, http.StatusServiceUnavailable)
	body = r.JSON(t)
	if got, want := body["status"], any("unavailable"); got != want {
		t.Fatalf("status=%v, want %v", got, want)
	} else if body["details"] == nil {
		t.Fatal("details missing while unready")
	}
	MustStatus(t, ts.Do(t, "GET", "/healthz", "", ""), http.StatusOK)
}

func TestServer_Layers(t *testing.T) {
	ts := MustOpenServer(t, func(s *assignhttp.Server) { s.Layers = s.Experiments.(assignhttp.LayerSplitter) })
	for _, id := range []string{"a", "b"} {
		ts.MustCreate(t, `{"experiment_id":"`+id+`","layer":"checkout","maximum_sample_size":10,"groups":[{"group_name":"x","probability_of_falling_in":1}]}`)
	}
	r := ts.Do(t, "GET", "/api/layers/checkout", adminToken, "")
	MustStatus(t, r, http.StatusOK)
	if got, want := string(r.Body), `{"layer":"checkout","slots":{"a":500,"b":500}}`; got != want {
		t.Fatalf("body=%s, want %s", got, want)
	}
	r = ts.Do(t, "GET", "/api/layers/unknown", adminToken, "")
	MustStatus(t, r, http.StatusOK)
	if got, want := string(r.Body), `{"layer":"unknown","slots":{}}`; got != want {
		t.Fatalf("unknown layer: body=%s, want %s", got, want)
	}
	MustStatus(t, ts.Do(t, "GET", "/api/layers/checkout", "", ""), http.StatusUnauthorized)
	MustStatus(t, ts.Do(t, "GET", "/api/layers/%7Bbad%7D", adminToken, ""), http.StatusNotFound)
	MustStatus(t, ts.Do(t, "POST", "/api/layers/checkout", adminToken, ""), http.StatusMethodNotAllowed)
}

func TestServer_Metrics(t *testing.T) {
	ts := MustOpenServer(t, nil)
	MustStatus(t, ts.Do(t, "GET", "/metrics", "", ""), http.StatusNotFound) // not configured

	ts = MustOpenServer(t, func(s *assignhttp.Server) {
		s.Metrics = func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("text/plain; version=0.0.4")
			ctx.SetBodyString("assign_up 1\n")
		}
	})
	r := ts.Do(t, "GET", "/metrics", "", "")
	MustStatus(t, r, http.StatusOK)
	if got, want := string(r.Body), "assign_up 1\n"; got != want {
		t.Fatalf("body=%q, want %q", got, want)
	}
	MustStatus(t, ts.Do(t, "POST", "/metrics", "", ""), http.StatusMethodNotAllowed)
}

func TestServer_Observer(t *testing.T) {
	obs := &observer{}
	ts := MustOpenServer(t, func(s *assignhttp.Server) { s.Observer = obs })
	id := ts.MustCreate(t, seedExperiment)
	ts.MustEnroll(t, id, "user-1", nil)
	ts.Do(t, "POST", "/api/experiment-enrollments", "garbage", `{"experiment_id":"`+id+`"}`)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	if got, want := strings.Join(obs.requests, ","), "experiment_create Created,experiment_enrollments OK,experiment_enrollments Unauthorized"; got != want {
		t.Fatalf("requests=%s, want %s", got, want)
	}
	if got, want := strings.Join(obs.rejections, ","), auth.ReasonMalformed; got != want {
		t.Fatalf("rejections=%s, want %s", got, want)
	}
	if len(obs.decisions) != 1 || obs.decisions[0].ExperimentID != id || !obs.decisions[0].Enrolled {
		t.Fatalf("decisions=%+v", obs.decisions)
	}
}

// TestServer_RealRedis runs the seed's walk-through (create, enroll twice,
// same group, stats) against the real Redis.
func TestServer_RealRedis(t *testing.T) {
	addr := testenv.RedisAddr(t)
	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	ts := mustOpenServerOn(t, client, nil)
	id := ts.MustCreate(t, seedExperiment)

	first := ts.MustEnroll(t, id, "user-1", nil)
	second := ts.MustEnroll(t, id, "user-1", nil)
	if first["enrolled"] != true || first["group_name"] != second["group_name"] {
		t.Fatalf("first=%v second=%v: want the same group twice", first, second)
	}
	r := ts.Do(t, "GET", "/api/experiments/"+id, adminToken, "")
	MustStatus(t, r, http.StatusOK)
	stats, _ := r.JSON(t)["stats"].(map[string]any)
	if got, want := stats["enrolled"], any(float64(1)); got != want {
		t.Fatalf("stats.enrolled=%v, want %v", got, want)
	}
	if n, err := client.Keys(context.Background(), ts.Namespace+"*").Result(); err != nil || len(n) == 0 {
		t.Fatalf("no keys under the test namespace %q (err=%v): the store did not write to the real Redis", ts.Namespace, err)
	}
}
