package main

import (
	"os"
	"testing"

	"github.com/assign-dev/assign/internal/testenv"
)

// TestMain stops the package's shared Redis Cluster after the tests.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
