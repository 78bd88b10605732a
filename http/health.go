package http

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/valyala/fasthttp"
)

// ReadyTimeout bounds how long GET /readyz waits for the store, so that a
// dead Redis node makes it answer 503 quickly rather than time out.
const ReadyTimeout = 2 * time.Second

// handleHealthz answers 200 while the process serves requests.
func (s *Server) handleHealthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

// handleReadyz answers 200 when Ready reports no error, 503 otherwise, so a
// load balancer stops sending enrollments that could only fail. The details
// (warehouse backlog) are reported either way and never make it unready.
// While Degraded says something fails (Redis out of memory), it answers 200
// with status "degraded" and says what.
func (s *Server) handleReadyz(ctx *fasthttp.RequestCtx) {
	// A probe must answer before its caller gives up: a dead node is
	// waited for ReadyTimeout at most, and the two checks run side by side.
	c, cancel := context.WithTimeout(context.Background(), min(s.AdminTimeout, ReadyTimeout))
	defer cancel()
	body := struct {
		Status  string `json:"status"`
		Error   string `json:"error,omitempty"`
		Details any    `json:"details,omitempty"`
	}{Status: "ready"}
	details := make(chan any, 1)
	if s.ReadyDetails != nil {
		go func() { details <- s.ReadyDetails(c) }()
	} else {
		details <- nil
	}
	var err error
	if s.Ready != nil {
		err = s.Ready(c)
	}
	body.Details = <-details
	status := fasthttp.StatusOK
	if err == nil && s.Degraded != nil {
		if msg := s.Degraded(c); msg != "" {
			// Still ready: members are answered and a sibling instance would
			// share the same Redis; the monitor logs the change once.
			body.Status, body.Error = "degraded", msg
		}
	}
	if err != nil {
		body.Status, body.Error = "unavailable", "Not ready: a dependency is unavailable."
		var rm interface{ ReadinessMessage() string }
		if errors.As(err, &rm) { // a cause safe and useful to show, such as an evicting Redis
			body.Error = "Not ready: " + rm.ReadinessMessage()
		}
		status = fasthttp.StatusServiceUnavailable
		s.Logger.Error("not ready", "err", err)
	}
	b, _ := json.Marshal(body)
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
