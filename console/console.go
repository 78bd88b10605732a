// Package console is assign's web console: one page and a few static files,
// embedded in the assignd binary, that product owners use to create
// experiments, watch them fill, read their results and roll the winner out.
//
// The page is a single-page application in plain JavaScript (no build step,
// no library, no CDN) over assignd's own JSON API. Its security design:
//
//   - Sign-in is the admin token of today (-admin-token). The token is kept in
//     a JavaScript variable of the page only and sent as the Authorization
//     header of each API call: never in a cookie (so there is no CSRF
//     exposure: a cross-site request carries no credential), a URL, a log
//     line, localStorage or sessionStorage. Reloading the page or closing
//     the tab signs out. The sign-in field has no name and form submission is
//     blocked by the policy (form-action 'none'), so even without script the
//     token cannot end up in a URL.
//   - The page and its files hold no data: everything comes from the admin
//     API, which answers 401 to a missing or forged token, and any 401 puts
//     the sign-in page back.
//   - A strict Content-Security-Policy: scripts, styles, images and API calls
//     from this origin only, no inline script or style, no frames
//     (frame-ancestors 'none'), no plugins, no <base>. Every value from the
//     API is written with textContent or as an attribute value, never as
//     HTML. Plus nosniff, no-referrer and cross-origin isolation headers.
//   - assignd runs only the metrics of its metrics file; nothing typed in the
//     browser becomes SQL.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/valyala/fasthttp"
)

//go:embed static
var staticFS embed.FS

// Paths the console is served at.
const (
	IndexPath    = "/"
	AssetsPrefix = "/console/"
)

// ContentSecurityPolicy is the policy of every console response.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Headers are the security headers set on every console response.
var Headers = map[string]string{
	"Content-Security-Policy":      ContentSecurityPolicy,
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=()",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Options configure the console.
type Options struct {
	// Demo shows, on an experiment's page, the button that sends the demo's
	// sample users (POST /api/experiments/{id}/sample-users: assignd's
	// embedded demo mode serves it).
	Demo bool
}

// Handler serves the console: GET / (the page) and GET /console/<file>.
// Anything else under /console/ is a 404; the caller routes only those paths
// and methods GET and HEAD here.
func Handler() fasthttp.RequestHandler { return NewHandler(Options{}) }

// NewHandler is Handler with options.
func NewHandler(o Options) fasthttp.RequestHandler {
	assets := map[string]asset{}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	versions := map[string]string{}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "index.html" {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		v := hex.EncodeToString(sum[:8])
		versions[p] = v
		assets[AssetsPrefix+p] = asset{body: b, contentType: ct, etag: `"` + v + `"`}
		return nil
	})
	tmpl := template.Must(template.ParseFS(sub, "index.html"))
	var page bytes.Buffer
	if err := tmpl.Execute(&page, map[string]any{"V": versions, "Demo": o.Demo}); err != nil {
		panic(err)
	}
	index := page.Bytes()

	return func(ctx *fasthttp.RequestCtx) {
		for k, v := range Headers {
			ctx.Response.Header.Set(k, v)
		}
		p := string(ctx.Path())
		if p == IndexPath {
			ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
			ctx.SetContentType("text/html; charset=utf-8")
			ctx.SetBody(index)
			return
		}
		a, ok := assets[p]
		if !ok || strings.Contains(p, "..") {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			ctx.SetContentType("text/plain; charset=utf-8")
			ctx.SetBodyString("Not found.\n")
			return
		}
		// The page names each file with its hash (?v=), so a cached copy
		// is revalidated only by its ETag.
		ctx.Response.Header.Set(fasthttp.HeaderCacheControl, "no-cache")
		ctx.Response.Header.Set(fasthttp.HeaderETag, a.etag)
		if string(ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch)) == a.etag {
			ctx.SetStatusCode(fasthttp.StatusNotModified)
			return
		}
		ctx.SetContentType(a.contentType)
		ctx.SetBody(a.body)
	}
}
