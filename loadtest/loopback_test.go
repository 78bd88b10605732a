package loadtest_test

import (
	"testing"

	"github.com/assign-dev/assign/loadtest"
)

func TestCheckLoopbackURL(t *testing.T) {
	for _, raw := range []string{
		"http://127.0.0.1:8080",
		"http://127.0.0.2:8080/x",
		"http://[::1]:8080",
		"http://localhost:8080",
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres:///test?host=/var/run/postgresql",
		"redis://127.0.0.1:6379/0",
	} {
		if _, err := loadtest.CheckLoopbackURL(raw); err != nil {
			t.Errorf("CheckLoopbackURL(%q)=%v, want nil", raw, err)
		}
	}
	for _, raw := range []string{
		"http://10.0.0.1:8080",
		"http://192.168.1.10",
		"http://8.8.8.8",
		"http://[2001:db8::1]:80",
		"http://example.com",
		"http://localhost.example.com",
		"http://0.0.0.0:8080",
		"postgres://postgres@127.0.0.1/test?host=10.1.1.1",
		"postgres://postgres@127.0.0.1/test?host=127.0.0.1,172.16.0.1",
	} {
		if _, err := loadtest.CheckLoopbackURL(raw); err == nil {
			t.Errorf("CheckLoopbackURL(%q)=nil, want an error", raw)
		}
	}
	if _, err := loadtest.CheckLoopbackURL("https://127.0.0.1", "http"); err == nil {
		t.Errorf("scheme https accepted where only http is allowed")
	}
}
