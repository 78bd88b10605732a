// Command assignctl manages assign experiments and reports their results.
//
// It talks to assignd's admin API for the lifecycle (create, list, show,
// update, pause, resume, stop, rollout) and reads the warehouse directly for
// results and the nightly export. See `assignctl help` and
// `assignctl <command> --help`.
//
// Exit codes: 0 success, 1 error, 2 usage error (bad flags or arguments).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/client"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is the program: its streams and environment, injectable for tests.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads the environment (flags' defaults).
	Getenv func(string) string
	// IsTerminal reports whether Stdout is a terminal, which makes table the
	// default output; otherwise the default is JSON, for scripts and pipes.
	IsTerminal bool
	// HTTPClient sends the API requests; nil means the client's default.
	HTTPClient *http.Client

	defaults Globals // global flags given before the command name
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		Getenv:     os.Getenv,
		IsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
	}
}

// Command is one subcommand: it parses its flags, then runs.
type Command interface {
	// ParseFlags reads the command's flags and arguments. It returns
	// flag.ErrHelp for --help and a *UsageError for bad input.
	ParseFlags(args []string) error
	// Run executes the command.
	Run(ctx context.Context) error
	// Usage prints the command's help to Stdout.
	Usage()
}

// commands maps names to constructors, in the order of the help text.
var commands = []struct {
	name, summary string
	new           func(*Main) Command
}{
	{"create", "create an experiment", func(m *Main) Command { return &CreateCommand{Main: m} }},
	{"list", "list experiments", func(m *Main) Command { return &ListCommand{Main: m} }},
	{"show", "show one experiment with its enrollment counts", func(m *Main) Command { return &ShowCommand{Main: m} }},
	{"update", "change status, sampling, sample size or group probabilities", func(m *Main) Command { return &UpdateCommand{Main: m} }},
	{"pause", "stop enrolling new users for now (members keep their group)", func(m *Main) Command { return newStatusCommand(m, "pause", assign.StatusPaused) }},
	{"resume", "enroll new users again", func(m *Main) Command { return newStatusCommand(m, "resume", assign.StatusRunning) }},
	{"stop", "end the experiment (members keep their group)", func(m *Main) Command { return newStatusCommand(m, "stop", assign.StatusStopped) }},
	{"rollout", "give one group to every user of the experiment", func(m *Main) Command { return &RolloutCommand{Main: m} }},
	{"plan", "the users an experiment needs to detect an effect, or the effect a cap detects", func(m *Main) Command { return &PlanCommand{Main: m} }},
	{"results", "analyse the experiment from the warehouse", func(m *Main) Command { return &ResultsCommand{Main: m} }},
	{"export", "write one day's enrollments as Parquet and CSV files", func(m *Main) Command { return &ExportCommand{Main: m} }},
	{"restore", "put experiments and members back into Redis from the warehouse", func(m *Main) Command { return &RestoreCommand{Main: m} }},
	{"demo-enroll", "DEMO: enroll sample users through the API with signed tokens", func(m *Main) Command { return &DemoEnrollCommand{Main: m} }},
	{"token", "sign a user token with assignd's HS256 secret (trying the API, QA)", func(m *Main) Command { return &TokenCommand{Main: m} }},
}

// Run runs the command named by args[0] and returns the exit code. Global
// flags may come before the command name too.
func (m *Main) Run(ctx context.Context, args []string) int {
	var g Globals
	fs := flag.NewFlagSet("assignctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs, m)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			m.usage(m.Stdout)
			return ExitOK
		}
		fmt.Fprintf(m.Stderr, "assignctl: %v\n\n", err)
		m.usage(m.Stderr)
		return ExitUsage
	}
	args = fs.Args()
	if len(args) == 0 || args[0] == "help" {
		if len(args) > 1 {
			if c := m.command(args[1]); c != nil {
				c.Usage()
				return ExitOK
			}
		}
		if len(args) == 0 {
			m.usage(m.Stderr)
			return ExitUsage
		}
		m.usage(m.Stdout)
		return ExitOK
	}
	c := m.command(args[0])
	m.defaults = g
	if c == nil {
		fmt.Fprintf(m.Stderr, "assignctl: unknown command %q\n\n", args[0])
		m.usage(m.Stderr)
		return ExitUsage
	}
	// Global flags given before the command name (now in m.defaults) are
	// the defaults of the command's own copies of them.
	if err := c.ParseFlags(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.Usage()
			return ExitOK
		}
		return m.failUsage(args[0], err)
	}
	return m.fail(c.Run(ctx))
}

func (m *Main) command(name string) Command {
	for _, c := range commands {
		if c.name == name {
			return c.new(m)
		}
	}
	return nil
}

// fail prints err and returns its exit code.
func (m *Main) fail(err error) int {
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	fmt.Fprintf(m.Stderr, "assignctl: %s\n", errorText(err))
	return code
}

func (m *Main) failUsage(name string, err error) int {
	var ue *UsageError
	if !errors.As(err, &ue) {
		return m.fail(err)
	}
	fmt.Fprintf(m.Stderr, "assignctl %s: %s\nRun 'assignctl %s --help' for usage.\n", name, errorText(err), name)
	return ExitUsage
}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	}
	return ExitError
}

// errorText is the sentence printed for an error: an application error's
// message, with the field at fault; a wrapped one keeps its context.
func errorText(err error) string {
	var ae *assign.Error
	switch e := err.(type) {
	case *UsageError:
		return e.Error()
	case *client.Error:
		ae, _ = e.Unwrap().(*assign.Error)
	case *assign.Error:
		ae = e
	}
	if ae == nil {
		return err.Error()
	}
	msg := ae.Message
	if ae.Field != "" && !strings.Contains(msg, ae.Field) {
		msg += " (field " + ae.Field + ")"
	}
	return msg
}

// UsageError is a mistake in the command line: exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usageErrorf returns a *UsageError.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func (m *Main) usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`assignctl manages assign experiments and reports their results.

Usage:

	assignctl [global flags] <command> [flags] [arguments]

Commands:

`)
	for _, c := range commands {
		fmt.Fprintf(&b, "	%-12s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Global flags (any command; environment variable in brackets):

` + globalsHelp + `
Run 'assignctl <command> --help' for a command's flags.
Exit codes: 0 success, 1 error, 2 usage error.
`)
	fmt.Fprint(w, b.String())
}
