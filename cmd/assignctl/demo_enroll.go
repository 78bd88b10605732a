package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/demo"
)

// DemoEnrollCommand is a DEMO tool: it plays the sample users of
// examples/shipping-address through the journey. Each user gets an HS256
// token signed with assignd's secret (sub = user_id, plus the first_order
// claim), is enrolled through the API like a real client would, and, with
// --orders-out, "places" the orders the sample data says this user places
// with the journey they got. Production clients get their tokens from the
// identity provider and their orders from the shop.
type DemoEnrollCommand struct {
	*Main
	Globals
	id          string
	users       string
	secret      string
	ordersOut   string
	concurrency int
	now         func() time.Time
}

func (c *DemoEnrollCommand) flagSet() *flag.FlagSet {
	fs := newFlagSet("demo-enroll", &c.Globals, c.Main)
	fs.StringVar(&c.users, "users", demo.DefaultUsersFile, "sample users `file` (CSV with user_id, first_order, orders_with, minutes_to_order, amount, previous_order_days_ago)")
	fs.StringVar(&c.secret, "jwt-secret", c.Getenv("ASSIGN_JWT_SECRET"), "assignd's HS256 `secret`, to sign the users' tokens [ASSIGN_JWT_SECRET]")
	fs.StringVar(&c.ordersOut, "orders-out", "", "write the orders the users place to this CSV `file`")
	fs.IntVar(&c.concurrency, "concurrency", 4, "enrollments in flight at once")
	return fs
}

// ParseFlags implements Command.
func (c *DemoEnrollCommand) ParseFlags(args []string) error {
	args, err := parse(c.flagSet(), args)
	if err != nil {
		return err
	} else if err := exactArgs(args, "experiment id"); err != nil {
		return err
	}
	c.id = args[0]
	if c.secret == "" {
		return usageErrorf("--jwt-secret (or ASSIGN_JWT_SECRET) is required: assignd prints it in its embedded demo mode")
	}
	if c.concurrency < 1 || c.concurrency > 256 {
		return usageErrorf("--concurrency must be from 1 to 256")
	}
	return nil
}

// DemoSummary is what demo-enroll prints.
type DemoSummary = demo.Summary

// Run implements Command.
func (c *DemoEnrollCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	users, err := demo.ReadUsers(c.users)
	if err != nil {
		return err
	}
	api := client.New(c.URL, "")
	api.HTTPClient, api.UserAgent = c.HTTPClient, "assignctl-demo"
	enroll := func(ctx context.Context, u demo.User) (*assign.Enrollment, error) {
		tok, err := auth.SignHS256([]byte(c.secret), u.ID, time.Hour, u.Claims())
		if err != nil {
			return nil, err
		}
		return enrollRetry(ctx, api, tok, c.id)
	}
	sum, orders, err := demo.Play(ctx, c.id, users, enroll, c.concurrency, c.now)
	if err != nil {
		return err
	}
	if c.ordersOut != "" {
		if err := demo.WriteOrders(c.ordersOut, orders); err != nil {
			return err
		}
	} else {
		sum.Orders = 0
	}
	return writeDemoSummary(c.Stdout, format, sum)
}

// enrollRetry enrolls, retrying a 503 a few times: the demo runs on a
// laptop, often against the embedded Redis, where a burst can miss the
// server's short enrollment deadline. A real client shows the default
// experience instead; the answer is the same on retry (sticky, idempotent).
func enrollRetry(ctx context.Context, api *client.Client, tok, id string) (*assign.Enrollment, error) {
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		e, err := api.Enroll(ctx, tok, id)
		if assign.ErrorCode(err) != assign.EUNAVAILABLE || attempt == 8 {
			return e, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		backoff *= 2
	}
}

func writeDemoSummary(w io.Writer, format string, s DemoSummary) error {
	keys := func(m map[string]int64) []string {
		ks := make([]string, 0, len(m))
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return ks
	}
	switch format {
	case OutputJSON:
		return writeJSON(w, s)
	case OutputCSV:
		var rows [][]string
		for _, k := range keys(s.Enrolled) {
			rows = append(rows, []string{s.ExperimentID, "true", k, "", strconv.FormatInt(s.Enrolled[k], 10)})
		}
		for _, k := range keys(s.NotEnrolled) {
			rows = append(rows, []string{s.ExperimentID, "false", "", k, strconv.FormatInt(s.NotEnrolled[k], 10)})
		}
		return writeCSV(w, []string{"experiment_id", "enrolled", "group_name", "reason", "users"}, rows)
	}
	fmt.Fprintf(w, "Enrolled %d sample users in %s (demo):\n\n", s.Users, s.ExperimentID)
	t := newTable(w)
	fmt.Fprintln(t, "ANSWER\tUSERS")
	for _, k := range keys(s.Enrolled) {
		fmt.Fprintf(t, "group %s\t%d\n", k, s.Enrolled[k])
	}
	for _, k := range keys(s.NotEnrolled) {
		fmt.Fprintf(t, "not enrolled: %s\t%d\n", k, s.NotEnrolled[k])
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if s.Orders > 0 {
		fmt.Fprintf(w, "\nThe users placed %d orders.\n", s.Orders)
	}
	return nil
}

// Usage implements Command.
func (c *DemoEnrollCommand) Usage() {
	var b strings.Builder
	b.WriteString(`Usage: assignctl demo-enroll [flags] <experiment id>

DEMO ONLY. Plays the sample users of examples/shipping-address through the
journey: signs a token for each (sub = user_id, first_order claim) with
assignd's HS256 secret, enrolls them through the API as a client would, and
with --orders-out writes the orders they place afterwards, as the sample
data says each user behaves with the journey they got. See
docs/walkthrough.md.

Flags:

`)
	printFlags(&b, c.flagSet())
	fmt.Fprint(c.Stdout, b.String())
}
