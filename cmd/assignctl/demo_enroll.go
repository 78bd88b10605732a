package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/auth"
	"github.com/assign-dev/assign/client"
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
	fs.StringVar(&c.users, "users", "examples/shipping-address/users.csv", "sample users `file` (CSV with user_id, first_order, orders_with, minutes_to_order, amount, previous_order_days_ago)")
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

// sampleUser is one row of the sample users file: who the user is, and what
// they do after the journey. orders_with says under which journey the user
// orders: "both", "none", or one group's name (the journey makes the
// difference for this user).
type sampleUser struct {
	ID                   string
	FirstOrder           bool
	OrdersWith           string
	MinutesToOrder       int
	Amount               string
	PreviousOrderDaysAgo int // 0: none
}

// DemoSummary is what demo-enroll prints.
type DemoSummary struct {
	ExperimentID string           `json:"experiment_id"`
	Users        int              `json:"users"`
	Enrolled     map[string]int64 `json:"enrolled"`     // per group
	NotEnrolled  map[string]int64 `json:"not_enrolled"` // per reason
	Orders       int              `json:"orders"`       // written to --orders-out
}

// Run implements Command.
func (c *DemoEnrollCommand) Run(ctx context.Context) error {
	format, err := c.format(c.Main)
	if err != nil {
		return err
	}
	users, err := readSampleUsers(c.users)
	if err != nil {
		return err
	}
	api := client.New(c.URL, "")
	api.HTTPClient, api.UserAgent = c.HTTPClient, "assignctl-demo"
	now := c.now
	if now == nil {
		now = time.Now
	}

	type answer struct {
		e  *assign.Enrollment
		at time.Time
	}
	answers := make([]answer, len(users))
	jobs := make(chan int)
	errc := make(chan error, c.concurrency)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range c.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				u := users[i]
				tok, err := auth.SignHS256([]byte(c.secret), u.ID, time.Hour, map[string]any{"first_order": u.FirstOrder})
				if err == nil {
					answers[i].e, err = enrollRetry(ctx, api, tok, c.id)
				}
				if err != nil {
					errc <- fmt.Errorf("user %s: %w", u.ID, err)
					cancel()
					return
				}
				answers[i].at = now()
			}
		}()
	}
feed:
	for i := range users {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	sum := DemoSummary{ExperimentID: c.id, Users: len(users), Enrolled: map[string]int64{}, NotEnrolled: map[string]int64{}}
	var orders [][]string
	for i, a := range answers {
		u := users[i]
		if a.e.Enrolled {
			sum.Enrolled[a.e.Group]++
		} else {
			sum.NotEnrolled[string(a.e.Reason)]++
		}
		if u.PreviousOrderDaysAgo > 0 {
			orders = append(orders, []string{u.ID, a.at.Add(-time.Duration(u.PreviousOrderDaysAgo) * 24 * time.Hour).UTC().Format(time.RFC3339Nano), u.Amount})
		}
		// Users outside the experiment see the current journey: old_journey.
		journey := "old_journey"
		if a.e.Enrolled {
			journey = a.e.Group
		}
		if u.OrdersWith == "both" || u.OrdersWith == journey {
			orders = append(orders, []string{u.ID, a.at.Add(time.Duration(u.MinutesToOrder) * time.Minute).UTC().Format(time.RFC3339Nano), u.Amount})
		}
	}
	if c.ordersOut != "" {
		for i := range orders {
			orders[i] = append([]string{fmt.Sprintf("o-%06d", i+1)}, orders[i]...)
		}
		if err := writeOrders(c.ordersOut, orders); err != nil {
			return err
		}
		sum.Orders = len(orders)
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

func writeOrders(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeCSV(f, []string{"order_id", "user_id", "ordered_at", "amount"}, rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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

// readSampleUsers reads the sample users file by column name.
func readSampleUsers(path string) ([]sampleUser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"user_id", "first_order", "orders_with", "minutes_to_order", "amount", "previous_order_days_ago"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s: no column %q", path, need)
		}
	}
	var users []sampleUser
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return users, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		u := sampleUser{ID: rec[col["user_id"]], OrdersWith: rec[col["orders_with"]], Amount: rec[col["amount"]]}
		u.FirstOrder, err = strconv.ParseBool(rec[col["first_order"]])
		if err == nil {
			u.MinutesToOrder, err = strconv.Atoi(rec[col["minutes_to_order"]])
		}
		if err == nil && rec[col["previous_order_days_ago"]] != "" {
			u.PreviousOrderDaysAgo, err = strconv.Atoi(rec[col["previous_order_days_ago"]])
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		users = append(users, u)
	}
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
