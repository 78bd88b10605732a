package demo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assign-dev/assign/assign"
	"github.com/assign-dev/assign/demo"
)

// The shipped sample users, and a play against a fake experiment: who
// orders follows the journey they got (their group, or old_journey outside
// the experiment), an earlier order is placed before, and the orders file
// has the documented columns.
func TestPlay(t *testing.T) {
	users, err := demo.ReadUsers(filepath.Join("..", demo.DefaultUsersFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 4000 {
		t.Fatalf("%d sample users, want 4000", len(users))
	}
	users = []demo.User{
		{ID: "both", OrdersWith: "both", MinutesToOrder: 5, Amount: "10.00"},
		{ID: "new", OrdersWith: "new_journey", MinutesToOrder: 7, Amount: "20.00", PreviousOrderDaysAgo: 3},
		{ID: "old-outside", OrdersWith: "old_journey", MinutesToOrder: 9, Amount: "30.00"},
		{ID: "none", OrdersWith: "none", FirstOrder: true},
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	enroll := func(ctx context.Context, u demo.User) (*assign.Enrollment, error) {
		if u.ID == "old-outside" {
			return &assign.Enrollment{ExperimentID: "e", Reason: assign.ReasonNotSampled}, nil
		}
		return &assign.Enrollment{ExperimentID: "e", Enrolled: true, Group: "new_journey"}, nil
	}
	sum, orders, err := demo.Play(context.Background(), "e", users, enroll, 3, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Users != 4 || sum.Enrolled["new_journey"] != 3 || sum.NotEnrolled["not_sampled"] != 1 || sum.Orders != 4 || len(orders) != 4 {
		t.Fatalf("summary %+v, %d orders", sum, len(orders))
	}
	want := map[string][]time.Time{
		"both":        {at.Add(5 * time.Minute)},
		"new":         {at.Add(-3 * 24 * time.Hour), at.Add(7 * time.Minute)},
		"old-outside": {at.Add(9 * time.Minute)}, // outside, they see the old journey
	}
	got := map[string][]time.Time{}
	for _, o := range orders {
		got[o.UserID] = append(got[o.UserID], o.OrderedAt)
	}
	for u, ts := range want {
		if len(got[u]) != len(ts) {
			t.Fatalf("%s: orders %v, want %v", u, got[u], ts)
		}
		for i := range ts {
			if !got[u][i].Equal(ts[i]) {
				t.Fatalf("%s: orders %v, want %v", u, got[u], ts)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "orders.csv")
	if err := demo.WriteOrders(path, orders); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); lines[0] != "order_id,user_id,ordered_at,amount" || len(lines) != 5 || !strings.HasPrefix(lines[1], "o-000001,both,2026-12-01T10:05:00Z,10.00") {
		t.Fatalf("orders file:\n%s", b)
	}

	// The first error stops the play.
	boom := errors.New("boom")
	if _, _, err := demo.Play(context.Background(), "e", users, func(context.Context, demo.User) (*assign.Enrollment, error) { return nil, boom }, 2, nil); !errors.Is(err, boom) {
		t.Fatalf("err=%v, want boom", err)
	}
}
