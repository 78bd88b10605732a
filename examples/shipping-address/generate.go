//go:build ignore

// generate writes users.csv, the sample users of the shipping-address
// experiment: go run generate.go > users.csv. It is deterministic (fixed
// seed), so the file in the repository is what it prints.
//
// Each user has a fixed behaviour, so that the demo shows a real effect of
// the journey whatever group the random draw gives them:
//
//	orders_with   both 10%         orders with either journey
//	              new_journey 7%   orders only with the new shipping-address journey
//	              old_journey 0.5% orders only with the old one
//	              none             never orders
//
// So old_journey converts at about 10.5% and new_journey at about 17%.
// first_order is true for 90% (the experiment's eligibility rule);
// previous_order_days_ago (15%) is an order placed before the experiment,
// which the analysis must not count.
package main

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
)

func main() {
	r := rand.New(rand.NewPCG(2026, 11))
	w := csv.NewWriter(os.Stdout)
	w.Write([]string{"user_id", "first_order", "orders_with", "minutes_to_order", "amount", "previous_order_days_ago"})
	for range 4000 {
		var id [16]byte
		for i := range id {
			id[i] = byte(r.UintN(256))
		}
		id[6] = id[6]&0x0f | 0x40 // version 4
		id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
		uuid := fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])

		orders := "none"
		switch u := r.Float64(); {
		case u < 0.10:
			orders = "both"
		case u < 0.17:
			orders = "new_journey"
		case u < 0.175:
			orders = "old_journey"
		}
		previous := ""
		if r.Float64() < 0.15 {
			previous = strconv.Itoa(1 + r.IntN(30))
		}
		w.Write([]string{
			uuid,
			strconv.FormatBool(r.Float64() < 0.9),
			orders,
			strconv.Itoa(1 + r.IntN(120)),
			fmt.Sprintf("%.2f", 15+r.Float64()*85),
			previous,
		})
	}
	w.Flush()
}
