// Command assign-loadtest drives assignd (or the naive PostgreSQL baseline)
// with a realistic enrollment load on this machine, prints what it measured,
// and verifies the store's invariants afterwards.
//
//	assign-loadtest -url http://127.0.0.1:8080 -admin-token ... -jwt-secret ... \
//	    -experiments 10 -users 100000 -returning 0.5 -connections 64 -duration 10s \
//	    -redis-url redis://127.0.0.1:6379
//
// Exit status: 0 when every answer was consistent and every invariant held,
// 1 on an error or a violation, 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "assign-loadtest:", err)
		os.Exit(2)
	}
	rep, err := m.Run(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "assign-loadtest:", err)
		os.Exit(1)
	}
	if !rep.Correct() {
		fmt.Fprintln(os.Stderr, "assign-loadtest: the store broke an invariant (see the report)")
		os.Exit(1)
	}
}
