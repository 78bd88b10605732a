package loadtest_test

import (
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/assign-dev/assign/loadtest"
	"github.com/assign-dev/assign/redisstore"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestPopulation_UserID(t *testing.T) {
	p, err := loadtest.NewPopulation([]string{"a", "b", "c"}, 1000, 42)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, u := range []int{0, 1, 2, 255, 256, 999} {
		id := p.UserID(u)
		if !uuidPattern.MatchString(id) {
			t.Fatalf("UserID(%d)=%q, want a lowercase version 4 UUID", u, id)
		} else if seen[id] {
			t.Fatalf("UserID(%d)=%q repeats", u, id)
		}
		seen[id] = true
		if got, ok := p.UserIndex(id); !ok || got != u {
			t.Fatalf("UserIndex(%q)=%d,%v, want %d,true", id, got, ok, u)
		}
		// The store keeps such ids as 16 raw bytes and gives them back as is.
		if got := redisstore.DecodeUserID(redisstore.EncodeUserID(id)); got != id {
			t.Fatalf("store round trip of %q gave %q", id, got)
		}
	}
	if got, want := p.ExperimentOf(4), 1; got != want {
		t.Errorf("ExperimentOf(4)=%d, want %d", got, want)
	}

	other, _ := loadtest.NewPopulation([]string{"a"}, 1000, 43)
	for _, id := range []string{
		other.UserID(5),              // another run's user
		strings.ToUpper(p.UserID(5)), // not the form UserID writes
		"not-a-uuid",
		p.UserID(5)[:35] + "g",
	} {
		if u, ok := p.UserIndex(id); ok {
			t.Errorf("UserIndex(%q)=%d,true, want false", id, u)
		}
	}
	small, _ := loadtest.NewPopulation([]string{"a"}, 10, 42)
	if _, ok := small.UserIndex(p.UserID(500)); ok {
		t.Errorf("UserIndex accepted an index beyond the population")
	}
}

func TestPopulation_SignTokens(t *testing.T) {
	p, _ := loadtest.NewPopulation([]string{"e"}, 257, 7)
	if p.Authorization(0) != nil {
		t.Fatal("Authorization before SignTokens is not nil")
	}
	secret := []byte("0123456789abcdef0123456789abcdef")
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := p.SignTokens(secret, exp); err != nil {
		t.Fatal(err)
	}
	for _, u := range []int{0, 1, 128, 256} {
		auth := string(p.Authorization(u))
		raw, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			t.Fatalf("Authorization(%d)=%q, want a Bearer token", u, auth)
		}
		claims := jwt.MapClaims{}
		tok, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err != nil || !tok.Valid {
			t.Fatalf("token of user %d: %v", u, err)
		}
		if got, want := claims["sub"], p.UserID(u); got != want {
			t.Errorf("sub=%v, want %v", got, want)
		}
		if got, _ := claims.GetExpirationTime(); !got.Equal(exp) {
			t.Errorf("exp=%v, want %v", got, exp)
		}
	}
}

func TestMix(t *testing.T) {
	t.Run("Ratio", func(t *testing.T) {
		const users, picks = 100_000, 20_000
		ledger := loadtest.NewLedger(users)
		mix := loadtest.NewMix(0.3, users, ledger)
		r := rand.New(rand.NewPCG(1, 1))
		returning, nextNew := 0, 0
		for i := 0; i < picks; i++ {
			u, ret := mix.Pick(r)
			if ret {
				returning++
				if ledger.First(u) == loadtest.OutcomeNone {
					t.Fatalf("returning user %d has no answer", u)
				}
			} else {
				if u != nextNew {
					t.Fatalf("new user %d, want %d (handed out in order)", u, nextNew)
				}
				nextNew++
			}
			ledger.Record(u, loadtest.OutcomeNotSampled)
		}
		// The first pick is necessarily new; afterwards 30% are returning.
		if frac := float64(returning) / picks; math.Abs(frac-0.3) > 0.015 {
			t.Errorf("returning fraction %.3f, want 0.3 ± 0.015", frac)
		}
		if got, want := mix.NewUsers(), int64(nextNew); got != want {
			t.Errorf("NewUsers=%d, want %d", got, want)
		}
	})
	t.Run("Exhausted", func(t *testing.T) {
		// Once every user has been handed out, all requests are returning.
		ledger := loadtest.NewLedger(10)
		mix := loadtest.NewMix(0, 10, ledger)
		r := rand.New(rand.NewPCG(2, 2))
		for i := 0; i < 10; i++ {
			u, ret := mix.Pick(r)
			if ret || u != i {
				t.Fatalf("pick %d=%d,%v, want %d,false", i, u, ret, i)
			}
			ledger.Record(u, loadtest.OutcomeSampleFull)
		}
		for i := 0; i < 100; i++ {
			if u, ret := mix.Pick(r); !ret || u < 0 || u >= 10 {
				t.Fatalf("pick after exhaustion=%d,%v, want a returning user", u, ret)
			}
		}
	})
	t.Run("NoAnswerYet", func(t *testing.T) {
		// Returning requests need someone with an answer: until then, new users.
		ledger := loadtest.NewLedger(5)
		mix := loadtest.NewMix(1, 5, ledger)
		r := rand.New(rand.NewPCG(3, 3))
		for i := 0; i < 5; i++ {
			if u, ret := mix.Pick(r); ret || u != i {
				t.Fatalf("pick %d=%d,%v, want %d,false", i, u, ret, i)
			}
		}
	})
}

func TestLedger_Record(t *testing.T) {
	l := loadtest.NewLedger(3)
	if first, isFirst := l.Record(1, loadtest.Outcome(2)); !isFirst || first != 2 {
		t.Fatalf("Record=%d,%v, want 2,true", first, isFirst)
	}
	if first, isFirst := l.Record(1, loadtest.OutcomeSampleFull); isFirst || first != 2 {
		t.Fatalf("second Record=%d,%v, want 2,false (the first answer stays)", first, isFirst)
	}
	if got := l.Answered(); got != 1 {
		t.Fatalf("Answered=%d, want 1", got)
	}
}
