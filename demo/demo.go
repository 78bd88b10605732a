// Package demo plays the sample users of examples/shipping-address through
// an experiment, for the walk-through: `assignctl demo-enroll` plays them
// through the API with tokens it signs, and assignd's embedded demo mode
// through its console's button. Each user reaches the screen, is enrolled,
// and then places the orders the sample data says this user places with
// the journey they got. Not for production: real clients get their tokens
// from the identity provider and their orders from the shop.
package demo

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/assign-dev/assign/assign"
)

// DefaultUsersFile is the sample users' file, from the repository's root.
const DefaultUsersFile = "examples/shipping-address/users.csv"

// User is one row of the sample users file: who the user is, and what they
// do after the journey. OrdersWith says under which journey the user orders:
// "both", "none", or one group's name (the journey makes the difference for
// this user).
type User struct {
	ID                   string
	FirstOrder           bool
	OrdersWith           string
	MinutesToOrder       int
	Amount               string
	PreviousOrderDaysAgo int // 0: none
}

// Claims are the token claims the user's client would carry.
func (u User) Claims() map[string]any { return map[string]any{"first_order": u.FirstOrder} }

// Summary is what a play did.
type Summary struct {
	ExperimentID string           `json:"experiment_id"`
	Users        int              `json:"users"`
	Enrolled     map[string]int64 `json:"enrolled"`     // per group
	NotEnrolled  map[string]int64 `json:"not_enrolled"` // per reason
	Orders       int              `json:"orders"`       // placed (written, when a file was given)
}

// Order is one order a sample user placed.
type Order struct {
	ID        string
	UserID    string
	OrderedAt time.Time
	Amount    string
}

// EnrollFunc enrolls one sample user in the experiment.
type EnrollFunc func(ctx context.Context, u User) (*assign.Enrollment, error)

// Play enrolls every user with enroll, concurrency at once, and returns what
// happened and the orders the users then place: an order before the
// experiment for those who had one (which the analysis must not count), and
// one at MinutesToOrder after the answer when the journey they saw (their
// group, or old_journey for users outside the experiment) is one they order
// with. The first error stops the play.
func Play(ctx context.Context, experimentID string, users []User, enroll EnrollFunc, concurrency int, now func() time.Time) (Summary, []Order, error) {
	if now == nil {
		now = time.Now
	}
	concurrency = max(1, concurrency)
	type answer struct {
		e  *assign.Enrollment
		at time.Time
	}
	answers := make([]answer, len(users))
	jobs := make(chan int)
	errc := make(chan error, concurrency)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				e, err := enroll(ctx, users[i])
				if err != nil {
					errc <- fmt.Errorf("user %s: %w", users[i].ID, err)
					cancel()
					return
				}
				answers[i] = answer{e, now()}
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
		return Summary{}, nil, err
	default:
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, nil, err
	}

	sum := Summary{ExperimentID: experimentID, Users: len(users), Enrolled: map[string]int64{}, NotEnrolled: map[string]int64{}}
	var orders []Order
	for i, a := range answers {
		u := users[i]
		if a.e.Enrolled {
			sum.Enrolled[a.e.Group]++
		} else {
			sum.NotEnrolled[string(a.e.Reason)]++
		}
		if u.PreviousOrderDaysAgo > 0 {
			orders = append(orders, Order{UserID: u.ID, OrderedAt: a.at.Add(-time.Duration(u.PreviousOrderDaysAgo) * 24 * time.Hour).UTC(), Amount: u.Amount})
		}
		// Users outside the experiment see the current journey: old_journey.
		journey := "old_journey"
		if a.e.Enrolled {
			journey = a.e.Group
		}
		if u.OrdersWith == "both" || u.OrdersWith == journey {
			orders = append(orders, Order{UserID: u.ID, OrderedAt: a.at.Add(time.Duration(u.MinutesToOrder) * time.Minute).UTC(), Amount: u.Amount})
		}
	}
	for i := range orders {
		orders[i].ID = fmt.Sprintf("o-%06d", i+1)
	}
	sum.Orders = len(orders)
	return sum, orders, nil
}

// WriteOrders writes orders as CSV: order_id, user_id, ordered_at (RFC 3339
// in UTC), amount. The file is replaced at once (written aside, then
// renamed), so a reader never sees half of it.
func WriteOrders(path string, orders []Order) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, nothing left to remove
	w := csv.NewWriter(f)
	w.Write([]string{"order_id", "user_id", "ordered_at", "amount"})
	for _, o := range orders {
		w.Write([]string{o.ID, o.UserID, o.OrderedAt.UTC().Format(time.RFC3339Nano), o.Amount})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadUsers reads the sample users file by column name.
func ReadUsers(path string) ([]User, error) {
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
	var users []User
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return users, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		u := User{ID: rec[col["user_id"]], OrdersWith: rec[col["orders_with"]], Amount: rec[col["amount"]]}
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
