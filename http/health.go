package http

import (
	"context"
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// handleHealthz answers 200 while the process serves requests.
func (s *Server) handleHealthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

// handleReadyz answers 200 when Ready reports no error, 503 otherwise, so a
// load balancer stops sending enrollments that could only fail. The details
// (warehouse backlog) are reported either way and never make it unready.
func (s *Server) handleReadyz(ctx *fasthttp.RequestCtx) {
	c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
	defer cancel()
	var err error
	if s.Ready != nil {
		err = s.Ready(c)
	}
	body := struct {
		Status  string `json:"status"`
		Error   string `json:"error,omitempty"`
		Details any    `json:"details,omitempty"`
	}{Status: "ready"}
	if s.ReadyDetails != nil {
		body.Details = s.ReadyDetails(c)
	}
	status := fasthttp.StatusOK
	if err != nil {
		body.Status, body.Error = "unavailable", "Not ready: a dependency is unavailable."
		status = fasthttp.StatusServiceUnavailable
		s.Logger.Error("not ready", "err", err)
	}
	b, _ := json.Marshal(body)
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
