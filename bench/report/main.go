// Command report writes BENCHMARKS.md from the raw results bench/run.sh
// collects: the JSON reports of assign-loadtest, redis-benchmark's CSV, wrk's
// and go test -bench's text, and the machine's description.
//
//	report -results DIR -out BENCHMARKS.md
//	report -extract-gobench OLD.md   (prints the go test -bench lines of a report, for benchstat)
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("results", "", "directory of raw results written by bench/run.sh")
	out := flag.String("out", "BENCHMARKS.md", "the report to write")
	extract := flag.String("extract-gobench", "", "print the go test -bench lines of this report (its raw output) and exit")
	flag.Parse()
	if *extract != "" {
		b, err := os.ReadFile(*extract)
		if err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		fmt.Print(ExtractGoBench(string(b)))
		return
	}
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
