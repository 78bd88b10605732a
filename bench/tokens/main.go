// Command tokens writes the signed tokens of a fresh population of users,
// for bench/wrk-mix.lua: one line per user, "<experiment id>\t<Authorization
// header value>", user u asking experiment u mod the number of experiments
// (as assign-loadtest's population does). The user ids have a random
// prefix, so no user of the file is enrolled yet.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/assign-dev/assign/loadtest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tokens:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	secret := fs.String("jwt-secret", "", "HS256 secret")
	users := fs.Int("users", 300000, "users (lines)")
	prefix := fs.String("prefix", "", "experiment ids are <prefix>-0 ... <prefix>-<experiments-1>")
	experiments := fs.Int("experiments", 10, "experiments")
	out := fs.String("out", "", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" || *prefix == "" || *out == "" || *experiments <= 0 {
		return fmt.Errorf("-jwt-secret, -prefix, -out and a positive -experiments are required")
	}
	ids := make([]string, *experiments)
	for i := range ids {
		ids[i] = *prefix + "-" + strconv.Itoa(i)
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:])
	pop, err := loadtest.NewPopulation(ids, *users, binary.LittleEndian.Uint64(seed[:]))
	if err != nil {
		return err
	}
	if err := pop.SignTokens([]byte(*secret), time.Now().Add(2*time.Hour)); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for u := 0; u < pop.Users; u++ {
		w.WriteString(ids[pop.ExperimentOf(u)])
		w.WriteByte('\t')
		w.Write(pop.Authorization(u))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
