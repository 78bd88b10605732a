package loadtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/loadtest"
)

const (
	testSecret = "test-secret-0123456789abcdef0123"
	testAdmin  = "admin-token-0123456789"
)

// fakeServer speaks assignd's HTTP contract with an in-memory sticky
// decision (by a hash of the user), and answers 503 to every 7th enrollment.
type fakeServer struct {
	URL     string
	mu      sync.Mutex
	created map[string]loadtest.ExperimentSpec
	calls   atomic.Int64
}

func startFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{URL: "http://" + ln.Addr().String(), created: make(map[string]loadtest.ExperimentSpec)}
	srv := &fasthttp.Server{Handler: f.handle, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return f
}

func (f *fakeServer) handle(ctx *fasthttp.RequestCtx) {
	auth, _ := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	switch string(ctx.Path()) {
	case loadtest.PathCreate:
		var spec loadtest.ExperimentSpec
		if auth != testAdmin {
			ctx.SetStatusCode(401)
		} else if err := json.Unmarshal(ctx.PostBody(), &spec); err != nil {
			ctx.SetStatusCode(400)
		} else {
			f.mu.Lock()
			f.created[spec.ID] = spec
			f.mu.Unlock()
			ctx.SetStatusCode(201)
			fmt.Fprintf(ctx, `{"experiment_id":%q}`, spec.ID)
		}
	case loadtest.PathEnroll:
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(auth, claims, func(*jwt.Token) (any, error) { return []byte(testSecret), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()); err != nil {
			ctx.SetStatusCode(401)
			return
		}
		var body struct {
			ID string `json:"experiment_id"`
		}
		_ = json.Unmarshal(ctx.PostBody(), &body)
		f.mu.Lock()
		spec, ok := f.created[body.ID]
		f.mu.Unlock()
		if !ok {
			ctx.SetStatusCode(404)
			return
		}
		if f.calls.Add(1)%7 == 0 {
			ctx.SetStatusCode(503)
			ctx.SetBodyString(`{"error":"unavailable"}`)
			return
		}
		h := fnv.New32a()
		h.Write([]byte(body.ID + "/" + claims["sub"].(string)))
		ctx.SetContentType("application/json")
		if g := int(h.Sum32() % uint32(len(spec.Groups)+1)); g < len(spec.Groups) {
			fmt.Fprintf(ctx, `{"experiment_id":%q,"enrolled":true,"group_name":%q}`, body.ID, spec.Groups[g].Name)
		} else {
			fmt.Fprintf(ctx, `{"experiment_id":%q,"enrolled":false,"reason":"not_sampled"}`, body.ID)
		}
	default:
		ctx.SetStatusCode(404)
	}
}

func testSpecs(ids ...string) []loadtest.ExperimentSpec {
	var specs []loadtest.ExperimentSpec
	for _, id := range ids {
		specs = append(specs, loadtest.ExperimentSpec{ID: id, MaxSampleSize: 100, SamplingProbability: 1,
			Groups: loadtest.MustParseGroups("control:0.5,treatment:0.5")})
	}
	return specs
}

func TestHTTPTarget(t *testing.T) {
	srv := startFakeServer(t)
	ctx := context.Background()
	if err := loadtest.CreateExperiments(ctx, srv.URL, "wrong-admin-token-xx", testSpecs("x")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("CreateExperiments with a wrong token: %v, want a 401 error", err)
	}
	if err := loadtest.CreateExperiments(ctx, srv.URL, testAdmin, testSpecs("e1", "e2", "e3")); err != nil {
		t.Fatal(err)
	} else if len(srv.created) != 3 {
		t.Fatalf("server has %d experiments, want 3", len(srv.created))
	}

	pop, _ := loadtest.NewPopulation([]string{"e1", "e2", "e3"}, 300, 9)
	if err := pop.SignTokens([]byte(testSecret), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	target, err := loadtest.NewHTTPTarget(srv.URL, pop, 4, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	rep, _, err := loadtest.Run(ctx, loadtest.RunConfig{Connections: 4, Requests: 700, Returning: 0.5, Seed: 4}, pop, target)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Errors["status_503"], int64(100); got != want || rep.Failed != want {
		t.Errorf("errors %v, want exactly status_503=%d (every 7th of 700)", rep.Errors, want)
	}
	if rep.OK != 600 || rep.Sticky != 0 {
		t.Errorf("ok %d sticky %d, want 600 decisions and no stickiness violation; examples %v", rep.OK, rep.Sticky, rep.Examples)
	}
	if rep.Decisions["enrolled"] == 0 || rep.Decisions["not_sampled"] == 0 || len(rep.Groups) != 2 {
		t.Errorf("decisions %v groups %v, want both outcomes and both groups", rep.Decisions, rep.Groups)
	}
}

func TestHTTPTarget_ConnectionRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	url := "http://" + ln.Addr().String()
	ln.Close()
	pop, _ := loadtest.NewPopulation([]string{"e"}, 10, 1)
	_ = pop.SignTokens([]byte(testSecret), time.Now().Add(time.Hour))
	target, err := loadtest.NewHTTPTarget(url, pop, 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := loadtest.Run(context.Background(), loadtest.RunConfig{Connections: 2, Requests: 5}, pop, target)
	if err != nil {
		t.Fatal(err)
	} else if got := rep.Errors[loadtest.KindConnection]; got != 5 {
		t.Fatalf("errors %v, want connection=5", rep.Errors)
	}
}

func TestNewHTTPTarget_Loopback(t *testing.T) {
	pop, _ := loadtest.NewPopulation([]string{"e"}, 1, 1)
	if _, err := loadtest.NewHTTPTarget("http://10.1.2.3:8080", pop, 1, time.Second); err == nil {
		t.Fatal("NewHTTPTarget accepted a non-loopback address")
	}
	if err := loadtest.CreateExperiments(context.Background(), "http://192.168.0.1", testAdmin, testSpecs("e")); err == nil {
		t.Fatal("CreateExperiments accepted a non-loopback address")
	}
}

func TestParseDecision(t *testing.T) {
	g := loadtest.NewGroupNames()
	control := g.Outcome([]byte("control"))
	for _, tc := range []struct {
		body string
		want loadtest.Outcome
	}{
		{`{"experiment_id":"e","enrolled":true,"group_name":"control"}`, control},
		{`{"experiment_id":"e","enrolled":false,"reason":"not_sampled"}`, loadtest.OutcomeNotSampled},
		{`{"experiment_id":"e","enrolled":false,"reason":"sample_full"}`, loadtest.OutcomeSampleFull},
		{`{"experiment_id":"e","enrolled":false,"reason":"not_eligible"}`, loadtest.OutcomeNotEligible},
		{`{"experiment_id":"e","enrolled":false,"reason":"not_running"}`, loadtest.OutcomeNotRunning},
		{`{"experiment_id":"e","enrolled":false,"reason":"something_new"}`, loadtest.OutcomeOtherReason},
		{`{ "enrolled" : true, "group_name" : "control" }`, control},              // spacing: the JSON fallback
		{`{"enrolled":true,"group_name":"con\u0074rol"}`, control},                // escapes: the JSON fallback
		{`{"group_name":"control","enrolled":true,"experiment_id":"e"}`, control}, // any order
	} {
		got, err := loadtest.ParseDecision([]byte(tc.body), g)
		if err != nil || got != tc.want {
			t.Errorf("ParseDecision(%s)=%d,%v, want %d", tc.body, got, err, tc.want)
		}
	}
	for _, body := range []string{``, `{}`, `not json`, `{"enrolled":true}`, `{"enrolled":false}`, `{"error":"x"}`} {
		if _, err := loadtest.ParseDecision([]byte(body), g); loadtest.ErrorKind(err) != loadtest.KindBadBody {
			t.Errorf("ParseDecision(%q) error %v, want kind bad_body", body, err)
		}
	}
}
