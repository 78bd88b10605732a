package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/assign-dev/assign/auth"
)

// TokenCommand signs a user token with assignd's HS256 secret: for trying
// the API by hand against a real Redis (where assignd prints no demo token)
// and for QA. Production tokens come from the identity provider.
type TokenCommand struct {
	*Main
	secret string
	ttl    time.Duration
	claims multiFlag
	sub    string
}

func (c *TokenCommand) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.StringVar(&c.secret, "jwt-secret", c.Getenv("ASSIGN_JWT_SECRET"), "assignd's HS256 `secret` [ASSIGN_JWT_SECRET]")
	fs.DurationVar(&c.ttl, "ttl", 24*time.Hour, "how long the token is valid")
	fs.Var(&c.claims, "claim", "`claim=value` to put in the token (repeatable): true, false and numbers are JSON scalars, anything else a string")
	return fs
}

// ParseFlags implements Command.
func (c *TokenCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "user id"); err != nil {
		return err
	}
	c.sub = args[0]
	if c.secret == "" {
		return usageErrorf("--jwt-secret (or ASSIGN_JWT_SECRET) is required")
	} else if c.ttl <= 0 {
		return usageErrorf("--ttl must be positive")
	}
	return nil
}

// Run implements Command: it prints the token alone on a line.
func (c *TokenCommand) Run(ctx context.Context) error {
	claims := map[string]any{}
	for _, s := range c.claims {
		r, err := parseRule(s)
		if err != nil {
			return usageErrorf("--claim %q: want claim=value", s)
		}
		claims[r.Claim] = r.Equals
	}
	tok, err := auth.SignHS256([]byte(c.secret), c.sub, c.ttl, claims)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.Stdout, tok)
	return err
}

// Usage implements Command.
func (c *TokenCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl token [flags] <user id>

Signs a user token (HS256, sub = <user id>) with assignd's secret, for trying
the API by hand or for QA:

	export USER_TOKEN=$(assignctl token --claim first_order=true user-1)

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
