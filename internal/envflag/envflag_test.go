package envflag_test

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/assign-dev/assign/internal/envflag"
)

func newSet(out io.Writer) (*flag.FlagSet, *string, *int) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", ":8080", "listen address")
	n := fs.Int("n", 0, "count")
	return fs, addr, n
}

var env = map[string]string{"addr": "X_ADDR", "n": "X_N"}

func TestParse(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"X_ADDR": ":7", "X_N": "3"}[k] }

	fs, addr, n := newSet(io.Discard)
	if err := envflag.Parse(fs, env, []string{"-addr", ":9"}, getenv); err != nil {
		t.Fatal(err)
	} else if *addr != ":9" || *n != 3 {
		t.Fatalf("addr=%q n=%d, want the flag to win (:9) and the environment to fill n (3)", *addr, *n)
	}

	fs, _, _ = newSet(io.Discard)
	if err := envflag.Parse(fs, env, nil, func(k string) string { return map[string]string{"X_N": "many"}[k] }); err == nil || !strings.Contains(err.Error(), "X_N") {
		t.Fatalf("bad environment value: err=%v, want one naming X_N", err)
	}
	fs, _, _ = newSet(io.Discard)
	if err := envflag.Parse(fs, env, []string{"stray"}, func(string) string { return "" }); err == nil {
		t.Fatal("a positional argument was accepted")
	}
}

func TestSetUsage(t *testing.T) {
	var out bytes.Buffer
	fs, _, _ := newSet(&out)
	envflag.SetUsage(fs, map[string]string{"addr": "X_ADDR"}, "Usage: x [flags]\n")
	fs.Usage()
	want := "Usage: x [flags]\n\nFlags (environment variable in brackets):\n" +
		"  -addr [X_ADDR]\n    \tlisten address (default \":8080\")\n" +
		"  -n\n    \tcount\n"
	if got := out.String(); got != want {
		t.Fatalf("usage:\n%s\nwant:\n%s", got, want)
	}
}
