// Command luasource prints the full source of one of the Redis scripts,
// generated constants included, for tools that load it without go-redis:
//
//	redis-cli SCRIPT LOAD "$(go run ./scripts/luasource enroll)"
package main

import (
	"fmt"
	"os"

	"github.com/assign-dev/assign/scripts"
)

func main() {
	if len(os.Args) != 2 || scripts.Source(os.Args[1]) == "" {
		fmt.Fprintln(os.Stderr, "usage: luasource enroll|create|update|restore")
		os.Exit(2)
	}
	fmt.Print(scripts.Source(os.Args[1]))
}
