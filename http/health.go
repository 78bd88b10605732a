package http

import (
	"context"

	"github.com/assign-dev/assign/assign"
	"github.com/valyala/fasthttp"
)

// handleHealthz answers 200 while the process serves requests.
func (s *Server) handleHealthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ok"}`)
}

// handleReadyz answers 200 when Ready reports no error, 503 otherwise, so a
// load balancer stops sending enrollments that could only fail.
func (s *Server) handleReadyz(ctx *fasthttp.RequestCtx) {
	if s.Ready != nil {
		c, cancel := context.WithTimeout(context.Background(), s.AdminTimeout)
		err := s.Ready(c)
		cancel()
		if err != nil {
			s.writeError(ctx, RouteReadyz, assign.EUNAVAILABLE, "Not ready: a dependency is unavailable.", "", "", err)
			return
		}
	}
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"status":"ready"}`)
}
