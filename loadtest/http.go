package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/assign"
)

// HTTP routes of assignd used here (the contract of issue 2).
const (
	PathCreate = "/api/experiment-create"
	PathEnroll = "/api/experiment-enrollments"
)

// HTTPTarget enrolls users through assignd's HTTP API with fasthttp's
// client, which costs a few microseconds of CPU per request: the generator
// shares the machine with the server and Redis, so every cycle it spends is
// taken from them.
type HTTPTarget struct {
	client  *fasthttp.HostClient
	pop     *Population
	uri     string
	bodies  [][]byte // request body per experiment
	timeout time.Duration
}

// NewHTTPTarget returns a target for the server at baseURL (http, loopback
// only), with at most conns connections and a timeout per request. The
// population's tokens must be signed (SignTokens).
func NewHTTPTarget(baseURL string, pop *Population, conns int, timeout time.Duration) (*HTTPTarget, error) {
	client, base, err := newHostClient(baseURL, conns, timeout)
	if err != nil {
		return nil, err
	}
	t := &HTTPTarget{client: client, pop: pop, uri: base + PathEnroll, timeout: timeout}
	for _, id := range pop.Experiments {
		b, _ := json.Marshal(struct {
			ID string `json:"experiment_id"`
		}{id})
		t.bodies = append(t.bodies, b)
	}
	return t, nil
}

func newHostClient(baseURL string, conns int, timeout time.Duration) (*fasthttp.HostClient, string, error) {
	u, err := CheckLoopbackURL(baseURL, "http")
	if err != nil {
		return nil, "", err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &fasthttp.HostClient{
		Addr:                          addr,
		Name:                          "assign-loadtest",
		MaxConns:                      conns,
		MaxConnWaitTimeout:            timeout,
		ReadTimeout:                   timeout,
		WriteTimeout:                  timeout,
		MaxIdleConnDuration:           30 * time.Second,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
	}, "http://" + u.Host, nil
}

// Close closes the idle connections.
func (t *HTTPTarget) Close() { t.client.CloseIdleConnections() }

// Enroll implements Target.
func (t *HTTPTarget) Enroll(ctx context.Context, u int) (Outcome, error) {
	auth := t.pop.Authorization(u)
	if auth == nil {
		return OutcomeNone, errors.New("loadtest: no token for the user: call SignTokens first")
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(t.uri)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.SetBytesV("Authorization", auth)
	req.SetBodyRaw(t.bodies[t.pop.ExperimentOf(u)])
	if err := t.client.DoTimeout(req, resp, t.timeout); err != nil {
		return OutcomeNone, classifyFastHTTP(err)
	}
	if code := resp.StatusCode(); code != fasthttp.StatusOK {
		return OutcomeNone, &RequestError{Kind: StatusKind(code)}
	}
	return ParseDecision(resp.Body(), t.pop.Groups)
}

// classifyFastHTTP gives a client error its kind for the report.
func classifyFastHTTP(err error) error {
	kind := KindOther
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		kind = KindTimeout
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		kind = KindNoConns
	case errors.Is(err, fasthttp.ErrConnectionClosed), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		kind = KindConnection
	case errors.As(err, &ne) && ne.Timeout():
		kind = KindTimeout
	case errors.As(err, &ne):
		kind = KindConnection
	}
	return &RequestError{Kind: kind, Err: err}
}

// ParseDecision reads an enrollment answer,
// {"experiment_id":...,"enrolled":true,"group_name":"..."} or
// {...,"enrolled":false,"reason":"..."}. It scans for the two fields it needs
// without a full JSON decode, and falls back to encoding/json for anything
// unusual (escapes, odd spacing).
func ParseDecision(body []byte, groups *GroupNames) (Outcome, error) {
	enrolled, ok := scanBool(body, `"enrolled":`)
	if ok {
		key := `"reason":`
		if enrolled {
			key = `"group_name":`
		}
		if s, ok := scanString(body, key); ok {
			if enrolled {
				return groups.Outcome(s), nil
			}
			return ReasonOutcome(assign.Reason(s)), nil
		}
	}
	var d struct {
		Enrolled *bool  `json:"enrolled"`
		Group    string `json:"group_name"`
		Reason   string `json:"reason"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Enrolled == nil ||
		(*d.Enrolled && d.Group == "") || (!*d.Enrolled && d.Reason == "") {
		return OutcomeNone, &RequestError{Kind: KindBadBody, Err: fmt.Errorf("not a decision: %.200q", body)}
	}
	if *d.Enrolled {
		return groups.Outcome([]byte(d.Group)), nil
	}
	return ReasonOutcome(assign.Reason(d.Reason)), nil
}

// scanBool finds key (with its colon) and reads a literal true/false right
// after it.
func scanBool(body []byte, key string) (v, ok bool) {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return false, false
	}
	rest := body[i+len(key):]
	switch {
	case bytes.HasPrefix(rest, []byte("true")):
		return true, true
	case bytes.HasPrefix(rest, []byte("false")):
		return false, true
	}
	return false, false
}

// scanString finds key (with its colon) and returns the string right after
// it, if it has no escapes.
func scanString(body []byte, key string) ([]byte, bool) {
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := body[i+len(key):]
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return nil, false
	}
	return rest[:j], true
}

// ExperimentSpec is the body of an experiment creation.
type ExperimentSpec struct {
	ID                  string         `json:"experiment_id"`
	MaxSampleSize       int64          `json:"maximum_sample_size"`
	SamplingProbability float64        `json:"sampling_probability"`
	Groups              []assign.Group `json:"groups"`
}

// CreateExperiments creates the experiments through the admin API, a few at
// a time. Each must answer 201.
func CreateExperiments(ctx context.Context, baseURL, adminToken string, specs []ExperimentSpec) error {
	client, base, err := newHostClient(baseURL, 8, 10*time.Second)
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan ExperimentSpec)
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for spec := range next {
				if err := createExperiment(client, base, adminToken, spec); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, s := range specs {
		if ctx.Err() != nil {
			break
		}
		next <- s
	}
	close(next)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func createExperiment(client *fasthttp.HostClient, base, adminToken string, spec ExperimentSpec) error {
	body, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(base + PathCreate)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.Header.SetContentType("application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.SetBody(body)
	if err := client.DoTimeout(req, resp, 10*time.Second); err != nil {
		return fmt.Errorf("create experiment %s: %w", spec.ID, err)
	}
	if code := resp.StatusCode(); code != fasthttp.StatusCreated {
		return fmt.Errorf("create experiment %s: status %s: %.300s", spec.ID, strconv.Itoa(code), resp.Body())
	}
	return nil
}
