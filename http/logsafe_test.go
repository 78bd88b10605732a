package http_test

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	assignhttp "github.com/assign-dev/assign/http"
	"github.com/assign-dev/assign/internal/testenv"
)

// rawRequest sends req over a new TCP connection and returns the response
// fasthttp wrote, parsed.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no HTTP response to %q: %v", req, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// TestServer_MalformedRequestsLogNoHeader sends requests fasthttp cannot
// frame (bad, negative, repeated Content-Length and the like) carrying an
// admin token and a user JWT, with the server logging at debug level: the
// client gets the JSON 400, and no header value reaches the log.
func TestServer_MalformedRequestsLogNoHeader(t *testing.T) {
	var logs testenv.Buffer
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	jwt := UserToken(t, "user-1", nil)
	secretHeader := "X-Api-Key: key-value-9f8e7d6c5b4a"
	addr := strings.TrimPrefix(ts.URL(), "http://")
	for _, tt := range []struct{ name, framing string }{
		{"BadContentLength", "Content-Length: abc\r\n"},
		{"NegativeContentLength", "Content-Length: -5\r\n"},
		{"RepeatedContentLength", "Content-Length: 2\r\nContent-Length: 25\r\n"},
		{"ContentLengthAndChunked", "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"},
		{"BadTransferEncoding", "Transfer-Encoding: gzip, chunked, x\r\n"},
		{"SpaceBeforeColon", "Content-Length : 2\r\n"},
		{"BadChunk", "Transfer-Encoding: chunked\r\n"},
	} {
		for token, route := range map[string]string{adminToken: "/api/experiment-create", jwt: "/api/experiment-enrollments"} {
			t.Run(tt.name+route, func(t *testing.T) {
				body := "{}"
				if tt.name == "BadChunk" {
					body = "zz\r\n{}\r\n0\r\n\r\n"
				}
				req := "POST " + route + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n" + secretHeader + "\r\n" +
					"Content-Type: application/json\r\n" + tt.framing + "\r\n" + body
				resp, b := rawRequest(t, addr, req)
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status=%d, want 400; body=%s", resp.StatusCode, b)
				} else if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type=%q, want application/json; body=%s", ct, b)
				}
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Fatalf("body %s is not THE JSON error (%v)", b, err)
				}
			})
		}
	}
	// Let the connection goroutines finish logging.
	ts.Client.CloseIdleConnections()
	if err := ts.Server.Close(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if out == "" {
		t.Fatal("the server logged nothing at debug level: the test would prove nothing")
	}
	for _, secret := range []string{adminToken, jwt, jwt[strings.LastIndexByte(jwt, '.')+1:], "key-value-9f8e7d6c5b4a", "Bearer", "Authorization"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}
