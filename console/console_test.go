package console_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/assign-dev/assign/console"
)

func get(h fasthttp.RequestHandler, path string, header ...string) *fasthttp.Response {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod("GET")
	ctx.Request.SetRequestURI(path)
	for i := 0; i+1 < len(header); i += 2 {
		ctx.Request.Header.Set(header[i], header[i+1])
	}
	h(&ctx)
	var resp fasthttp.Response
	ctx.Response.CopyTo(&resp)
	return &resp
}

// TestHandler: the page names each file by its hash, every answer carries
// the security headers, unknown files are 404s and a cached file a 304.
func TestHandler(t *testing.T) {
	h := console.Handler()
	page := get(h, "/")
	if page.StatusCode() != 200 || !strings.HasPrefix(string(page.Header.ContentType()), "text/html") {
		t.Fatalf("GET / = %d %s", page.StatusCode(), page.Header.ContentType())
	}
	for k, v := range console.Headers {
		if got := string(page.Header.Peek(k)); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := string(page.Header.Peek("Cache-Control")); got != "no-store" {
		t.Errorf("page Cache-Control = %q, want no-store", got)
	}
	refs := regexp.MustCompile(`(/console/[a-z.]+)\?v=([0-9a-f]{16})`).FindAllStringSubmatch(string(page.Body()), -1)
	if len(refs) != 3 {
		t.Fatalf("the page references %d versioned files, want 3: %s", len(refs), page.Body())
	}
	for _, ref := range refs {
		r := get(h, ref[0])
		if r.StatusCode() != 200 || string(r.Header.Peek("ETag")) != `"`+ref[2]+`"` {
			t.Fatalf("GET %s = %d, ETag %s", ref[0], r.StatusCode(), r.Header.Peek("ETag"))
		}
		if string(r.Header.Peek("Content-Security-Policy")) != console.ContentSecurityPolicy {
			t.Fatalf("GET %s without the policy", ref[0])
		}
		if c := get(h, ref[1], "If-None-Match", `"`+ref[2]+`"`); c.StatusCode() != 304 {
			t.Fatalf("GET %s with its ETag = %d, want 304", ref[1], c.StatusCode())
		}
	}
	for _, p := range []string{"/console/", "/console/nope.js", "/console/../console.go", "/console/index.html"} {
		if r := get(h, p); r.StatusCode() != 404 || len(r.Header.Peek("Content-Security-Policy")) == 0 {
			t.Errorf("GET %s = %d, want 404 with the policy", p, r.StatusCode())
		}
	}
}

// TestStaticFiles: no inline script or style, and the script writes no HTML
// and keeps nothing in the browser's storage or cookies.
func TestStaticFiles(t *testing.T) {
	err := filepath.WalkDir("static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		switch filepath.Ext(path) {
		case ".html":
			for _, bad := range []string{"<script>", "<style", "style=", "onclick=", "onload=", "javascript:", "http://", "https://"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s contains %q", path, bad)
				}
			}
		case ".js":
			s = strings.ReplaceAll(s, "'http://www.w3.org/2000/svg'", "") // the SVG namespace, not a URL fetched
			for _, bad := range []string{"innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "new Function",
				"localStorage.", "sessionStorage.", "document.cookie", "console.log", "setAttribute('style'", "http://", "https://"} {
				if strings.Contains(s, bad) {
					t.Errorf("%s contains %q", path, bad)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
