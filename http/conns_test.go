package http_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	assignhttp "github.com/assign-dev/assign/http"
)

// keepAlive is a raw client connection that keeps its connection open.
type keepAlive struct {
	c  net.Conn
	br *bufio.Reader
}

func dialKeepAlive(t *testing.T, addr string) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &keepAlive{c: c, br: bufio.NewReader(c)}
}

func (k *keepAlive) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(k.c, s); err != nil {
		t.Fatal(err)
	}
}

func (k *keepAlive) read(t *testing.T) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func enrollRequest(token string) string {
	body := `{"experiment_id":"limit"}`
	return "POST /api/experiment-enrollments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// waitConns waits until the server's connection counters satisfy ok.
func waitConns(t *testing.T, s *assignhttp.Server, ok func(assignhttp.ConnStats) bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if ok(s.ConnStats()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("connection counters never got there: %+v", s.ConnStats())
}

// TestServer_MaxConnsIdleKeepAlive: with Concurrency N, N idle keep-alive
// connections do not lock new clients out (each new client closes the
// longest idle one and is served); N connections all in a request make a new
// client get the JSON 503 with its fallback, and once those are idle again,
// new clients are served.
func TestServer_MaxConnsIdleKeepAlive(t *testing.T) {
	const n = 3
	ts := MustOpenServer(t, func(s *assignhttp.Server) {
		s.Concurrency = n
		s.IdleTimeout = time.Minute // far longer than the test
	})
	ts.MustCreate(t, `{"experiment_id":"limit","maximum_sample_size":100,"groups":[{"group_name":"a","probability_of_falling_in":1}]}`)
	ts.Client.CloseIdleConnections()
	waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Open == 0 })
	addr := strings.TrimPrefix(ts.URL(), "http://")
	token := UserToken(t, "user-1", nil)

	served := func(t *testing.T) {
		t.Helper()
		k := dialKeepAlive(t, addr)
		k.send(t, enrollRequest(token))
		resp, b := k.read(t)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"enrolled":true`) {
			t.Fatalf("a new client: %d %s, want served", resp.StatusCode, b)
		}
	}

	t.Run("IdleConnectionsAreReclaimed", func(t *testing.T) {
		var idle []*keepAlive
		for i := 0; i < n; i++ {
			k := dialKeepAlive(t, addr)
			k.send(t, enrollRequest(token))
			if resp, b := k.read(t); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			idle = append(idle, k)
		}
		waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Open == n && c.Idle == n })
		before := ts.Server.ConnStats().Reclaimed
		for i := 0; i < 2*n; i++ { // more new clients than the limit, all served
			served(t)
			waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Idle == n })
		}
		if got := ts.Server.ConnStats().Reclaimed - before; got < 2*n {
			t.Fatalf("reclaimed %d idle connections, want at least %d", got, 2*n)
		}
		// The oldest idle connection was closed under its client: it reads EOF.
		_ = idle[0].c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := idle[0].br.ReadByte(); err == nil {
			t.Fatal("the longest idle connection is still open")
		}
	})

	t.Run("BusyConnectionsGetJSON503", func(t *testing.T) {
		// The previous step's clients have gone (their connections closed at
		// its end). Hold n connections in the middle of a request: headers
		// sent, body not yet.
		waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Open == 0 })
		var busy []*keepAlive
		req := enrollRequest(token)
		cut := strings.Index(req, "\r\n\r\n") + 4
		for i := 0; i < n; i++ {
			k := dialKeepAlive(t, addr)
			k.send(t, req[:cut]) // the body is still to come
			busy = append(busy, k)
		}
		waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Open == n && c.Idle == 0 })

		k := dialKeepAlive(t, addr)
		k.send(t, enrollRequest(token))
		resp, b := k.read(t)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("over capacity: %d %q %s, want the JSON 503", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		var e struct {
			Error struct{ Code, Message, Fallback string } `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != "unavailable" || e.Error.Fallback != assignhttp.FallbackDefaultExperience || e.Error.Message == "" {
			t.Fatalf("over capacity: body %s (%v), want code unavailable with the fallback", b, err)
		}
		if !resp.Close {
			t.Fatal("the over-capacity connection is kept open")
		}

		// The busy clients finish their requests and stay connected, idle.
		for _, k := range busy {
			k.send(t, req[cut:])
			if resp, b := k.read(t); resp.StatusCode != http.StatusOK {
				t.Fatalf("busy client: %d %s", resp.StatusCode, b)
			}
		}
		waitConns(t, ts.Server, func(c assignhttp.ConnStats) bool { return c.Idle == n })
		served(t)
		if ts.Server.ConnStats().OverCapacity < 1 {
			t.Fatal("over-capacity answers not counted")
		}
	})
}
