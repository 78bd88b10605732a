package http

import (
	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/openapi"
)

// serveOpenAPI serves GET /openapi.json: the API's OpenAPI 3.1 document,
// without auth.
func (s *Server) serveOpenAPI(ctx *fasthttp.RequestCtx, _ string) {
	ctx.SetContentType("application/json")
	ctx.SetBody(openapi.Document)
}
