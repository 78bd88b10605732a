package http

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/assign-dev/assign/assign"
	"github.com/valyala/fasthttp"
)

// adminCredential is an admin token kept as its SHA-256, so comparing a
// presented token takes the same time whatever its length or content.
type adminCredential struct {
	sum  [sha256.Size]byte
	name string
}

func newAdminCredentials(admins map[string]string) []adminCredential {
	creds := make([]adminCredential, 0, len(admins))
	for token, name := range admins {
		if token == "" {
			continue // an empty token would match an empty header
		}
		creds = append(creds, adminCredential{sum: sha256.Sum256([]byte(token)), name: name})
	}
	return creds
}

// admin returns the name of the admin whose token the request carries. It
// compares against every credential in constant time, without stopping at a
// match, and answers 401 itself when there is none.
func (s *Server) admin(ctx *fasthttp.RequestCtx, route string) (string, bool) {
	token := bearer(ctx)
	sum := sha256.Sum256(token)
	name, found := "", 0
	for i := range s.admins {
		if subtle.ConstantTimeCompare(sum[:], s.admins[i].sum[:]) == 1 {
			name, found = s.admins[i].name, 1
		}
	}
	if len(token) == 0 || found == 0 {
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="assign-admin"`)
		msg := "An admin Bearer token is required."
		if len(token) > 0 {
			msg = "The admin token is not valid."
		}
		s.writeError(ctx, route, assign.EUNAUTHORIZED, msg, "", "", nil)
		return "", false
	}
	if name == "" {
		name = "admin"
	}
	return name, true
}
