// Command assign-exporter moves enrollments from Redis to the warehouse,
// apart from assignd so that it can be scaled and restarted on its own, and
// writes the nightly Parquet/CSV export.
//
//	assign-exporter [run] [flags]     export continuously until SIGINT/SIGTERM
//	assign-exporter export [flags]    write one UTC day as Parquet and CSV
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/assign-dev/assign/internal/envflag"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(NewMain().Run(ctx, os.Args[1:]))
}

// Command is one subcommand.
type Command interface {
	ParseFlags(args []string, getenv func(string) string) error
	Run(ctx context.Context) error
}

// Main dispatches to the subcommands.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	IsTerminal     func() bool // whether Stderr is a terminal, for the progress bar
}

// NewMain returns a Main on the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, IsTerminal: stderrIsTerminal}
}

// Run runs the command named by args and returns the exit code:
// 0 success, 1 error, 2 usage.
func (m *Main) Run(ctx context.Context, args []string) int {
	var cmd Command
	name := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	switch name {
	case "run":
		cmd = &RunCommand{Main: m}
	case "export":
		cmd = &ExportCommand{Main: m}
	case "dead-letters":
		cmd = &DeadLettersCommand{Main: m}
	case "help":
		fmt.Fprint(m.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(m.Stderr, "assign-exporter: unknown command %q\n\n%s", name, usage)
		return 2
	}
	if err := cmd.ParseFlags(args, m.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(m.Stderr, "assign-exporter:", err)
		return 2
	}
	if err := cmd.Run(ctx); err != nil {
		fmt.Fprintln(m.Stderr, "assign-exporter:", err)
		return 1
	}
	return 0
}

const usage = `Usage: assign-exporter <command> [flags]

Commands:
  run      export enrollments from Redis to the warehouse until stopped (default)
  export   write one UTC day of enrollments as Parquet and CSV files
  dead-letters
           list the events the warehouse refused (--replay: append them to their streams again)
  help     show this help

Run "assign-exporter <command> -h" for a command's flags.
`

// newFlagSet returns a flag set whose help lists each flag's environment
// variable.
func newFlagSet(m *Main, name string, env map[string]string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	envflag.SetUsage(fs, env, "Usage: assign-exporter "+name+" [flags]\n")
	return fs
}
