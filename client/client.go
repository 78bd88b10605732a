// Package client is a Go client of assignd's HTTP API: the admin routes
// (create, read, list and change experiments) and the enrollment route.
// It uses net/http only, so assignctl, tests and tools share it.
//
// Every failure the server answers with its JSON error body
// ({"error":{"code","message","field"}}) is returned as an *Error, which
// unwraps to an *assign.Error, so assign.ErrorCode works on it.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
)

// DefaultURL is the base URL of a local assignd.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultTimeout bounds one request when Client.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// DefaultEnrollTimeout bounds one enrollment call when Client.EnrollTimeout
// is 0: well above assignd's own deadline (50 ms; 1 s on the embedded Redis
// of make run), short enough that a screen never waits long for its
// experiment. The TypeScript client (clients/typescript) has the same.
const DefaultEnrollTimeout = 2 * time.Second

// maxResponseSize bounds how much of a response body is read: an experiment
// listing page of MaxPageSize experiments with 100 groups each stays far
// below it.
const maxResponseSize = 64 << 20

// Client talks to one assignd. The zero value is not usable: set URL, or
// use New.
type Client struct {
	// URL is the base URL of the server, e.g. "http://127.0.0.1:8080".
	URL string

	// AdminToken is sent as "Authorization: Bearer" on admin routes.
	AdminToken string

	// HTTPClient sends the requests. Default: a client with DefaultTimeout.
	HTTPClient *http.Client

	// UserAgent is sent with each request when set.
	UserAgent string

	// Platform is the platform each enrollment records (assign.PlatformWeb,
	// PlatformIOS, PlatformAndroid, PlatformOther), sent as the body's
	// platform; a platform claim of the user's token wins over it. Empty:
	// none sent. Both forms (Enroll, EnrollMany) send it.
	Platform string

	// EnrollTimeout bounds each enrollment call (Enroll, EnrollOr,
	// EnrollMany, EnrollManyOr) on top of the caller's context. 0:
	// DefaultEnrollTimeout; negative: only the context and HTTPClient bound it.
	EnrollTimeout time.Duration
}

// New returns a client of the server at baseURL with the admin token.
func New(baseURL, adminToken string) *Client {
	return &Client{URL: baseURL, AdminToken: adminToken}
}

// Error is an error answered by the server: its HTTP status and the body's
// code, message, field and fallback. It unwraps to the equivalent
// *assign.Error. A 2xx whose body is not the expected JSON is an Error too
// (its status, code EINTERNAL).
type Error struct {
	StatusCode int
	Code       string
	Message    string
	Field      string
	// Fallback is the server's advice on an enrollment's 5xx:
	// "default_experience" (show the user the default experience).
	Fallback string
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.StatusCode, e.Code)
	if e.Field != "" {
		s += " field=" + e.Field
	}
	return s
}

// Unwrap returns the application error, so errors.As and assign.ErrorCode see
// the server's code.
func (e *Error) Unwrap() error {
	return &assign.Error{Code: e.Code, Message: e.Message, Field: e.Field}
}

// errorBody is THE error body of the API.
type errorBody struct {
	Error struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Field    string `json:"field"`
		Fallback string `json:"fallback"`
	} `json:"error"`
}

// do sends a request with an optional JSON body and decodes a JSON answer
// into out (when not nil). token goes as a Bearer token when not empty.
// Answers other than 2xx become an *Error.
func (c *Client) do(ctx context.Context, method, path, token string, in, out any) error {
	if c.URL == "" {
		return assign.Errorf(assign.EINVALID, "client: no server URL")
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, body)
	if err != nil {
		return assign.Errorf(assign.EINVALID, "client: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return assign.Errorf(assign.EUNAVAILABLE, "no answer from assignd at %s in time (%s %s): %v", c.URL, method, path, err)
		}
		return assign.Errorf(assign.EUNAVAILABLE, "cannot reach assignd at %s: %v", c.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return assign.Errorf(assign.EUNAVAILABLE, "reading the answer of %s %s: %v", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return &Error{StatusCode: resp.StatusCode, Code: assign.EINTERNAL,
			Message: fmt.Sprintf("%s %s answered %d with a body that is not the expected JSON: %v", method, path, resp.StatusCode, err)}
	}
	return nil
}

// responseError turns a non-2xx answer into an *Error, whether or not the
// body is the API's JSON error (a proxy in between may answer HTML).
func responseError(status int, body []byte) error {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil && eb.Error.Code != "" {
		return &Error{StatusCode: status, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field, Fallback: eb.Error.Fallback}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{StatusCode: status, Code: statusCode(status), Message: msg}
}

// statusCode maps a status without a JSON body to an application code.
func statusCode(status int) string {
	switch {
	case status == http.StatusNotFound:
		return assign.ENOTFOUND
	case status == http.StatusConflict:
		return assign.ECONFLICT
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return assign.EUNAUTHORIZED
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		return assign.EUNAVAILABLE
	case status >= 400 && status < 500:
		return assign.EINVALID
	}
	return assign.EINTERNAL
}

// codeStatus is the HTTP status of each of the API's error codes (the
// document's ErrorCode table), for the error entries of EnrollMany, which
// carry a code and no status of their own.
func codeStatus(code string) int {
	switch code {
	case assign.EINVALID, "bad_request":
		return http.StatusBadRequest
	case assign.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case assign.ENOTFOUND, "no_route":
		return http.StatusNotFound
	case "method_not_allowed":
		return http.StatusMethodNotAllowed
	case "timeout":
		return http.StatusRequestTimeout
	case assign.ECONFLICT:
		return http.StatusConflict
	case "too_large":
		return http.StatusRequestEntityTooLarge
	case "unsupported_media_type":
		return http.StatusUnsupportedMediaType
	case "header_too_large":
		return http.StatusRequestHeaderFieldsTooLarge
	case assign.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Unavailable reports whether err means assignd gave no decision: no answer
// (a network error, a timeout), a 5xx, or a 2xx whose body is not the
// expected JSON (a captive portal's page). These are the failures the
// fallback of EnrollOr and EnrollManyOr covers; a 4xx is an error of the
// request (a bad token, an unknown experiment) and is returned as it is.
func Unavailable(err error) bool {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.StatusCode >= 500 || (ce.StatusCode >= 200 && ce.StatusCode <= 299)
	}
	return assign.ErrorCode(err) == assign.EUNAVAILABLE
}

// IsNotFound reports whether err is the server's "not found".
func IsNotFound(err error) bool { return assign.ErrorCode(err) == assign.ENOTFOUND }

// query builds "?k=v&..." from pairs, skipping empty values.
func query(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.Set(pairs[i], pairs[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func itoa(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}
