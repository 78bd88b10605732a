// Command report writes BENCHMARKS.md from the raw results bench/run.sh
// collects: the JSON reports of assign-loadtest, redis-benchmark's CSV, wrk's
// and go test -bench's text, and the machine's description.
//
//	report -results DIR -out BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("results", "", "directory of raw results written by bench/run.sh")
	out := flag.String("out", "BENCHMARKS.md", "the report to write")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "report: -results is required")
		os.Exit(2)
	}
	res, err := LoadResults(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, []byte(Render(res)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}
