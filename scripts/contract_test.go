package scripts

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// luaFiles are the scripts as written, without the generated constants.
var luaFiles = map[string]string{
	"enroll.lua": enrollLua, "create.lua": createLua, "update.lua": updateLua,
	"layer.lua": layerLua, "restore.lua": restoreLua,
}

// scriptOf names the prelude each file is run with (layer.lua runs with
// both create's and update's: the common constants are all it uses).
var scriptOf = map[string][]string{
	"enroll.lua": {"enroll"}, "create.lua": {"create"}, "update.lua": {"update"},
	"layer.lua": {"create", "update"}, "restore.lua": {"restore"},
}

var (
	luaString  = regexp.MustCompile(`'[^'\\]*'|"[^"\\]*"`)
	luaComment = regexp.MustCompile(`--.*`)
	luaName    = regexp.MustCompile(`\b[A-Z][A-Z0-9_]*\b`)
	luaNumber  = regexp.MustCompile(`(^|[^A-Za-z0-9_.])(-?[0-9]+)\b`)
	localConst = regexp.MustCompile(`^\s*local ([A-Z][A-Z0-9_]*) = -?[0-9]+\s*$`)
	byPosition = regexp.MustCompile(`\b(KEYS|ARGV)\[\s*-?[0-9]`)
	bareReturn = regexp.MustCompile(`\breturn\s+-?[0-9]`)
	preludeDef = regexp.MustCompile(`(?m)^local ([A-Z][A-Z0-9_]*) = `)
)

// TestSources_UseTheContract fails when the scripts and Go could disagree:
// a script that uses a constant the Go contract does not define (it would be
// nil in Lua, silently: miniredis allows undeclared globals), or that spells
// a field name, an event field, a reply code, a contract number or a KEYS or
// ARGV position itself instead of by the generated name. On the scripts
// before the contract (positions, 'status', 128, return -6 written out),
// every rule fails.
func TestSources_UseTheContract(t *testing.T) {
	for file, problems := range contractProblems(luaFiles) {
		t.Errorf("%s disagrees with scripts/contract.go:\n%s", file, strings.Join(problems, "\n"))
	}
}

// contractProblems returns, by file, the lines of Lua sources that break the
// contract.
func contractProblems(files map[string]string) map[string][]string {
	out := map[string][]string{}
	strs := map[string]string{} // contract string value -> its Lua name
	nums := map[int]string{}    // contract numbers past 2 -> a Lua name
	for _, c := range common {
		switch v := c.value.(type) {
		case string:
			strs[v] = c.name
		case int:
			if v > 6 || v < -6 { // small ones are indexes too; reply codes are caught as returns

				nums[v] = c.name
				nums[-v] = c.name
			}
		}
	}
	for file, src := range files {
		src = expand(src)
		contract := map[string]bool{}
		decl := map[string]bool{"KEYS": true, "ARGV": true}
		for _, s := range scriptOf[file] {
			for _, c := range constants(s) {
				decl[c.name], contract[c.name] = true, true
			}
		}
		var problems []string
		for i, line := range strings.Split(src, "\n") {
			code := luaComment.ReplaceAllString(line, "")
			at := fmt.Sprintf("%s:%d: %s", file, i+1, strings.TrimSpace(line))
			for _, lit := range luaString.FindAllString(code, -1) {
				if name, ok := strs[lit[1:len(lit)-1]]; ok {
					problems = append(problems, fmt.Sprintf("%s: string %s is %s of the contract", at, lit, name))
				}
			}
			bare := luaString.ReplaceAllString(code, "''")
			if m := localConst.FindStringSubmatch(bare); m != nil {
				if contract[m[1]] {
					problems = append(problems, at+": redeclares a contract name")
				}
				decl[m[1]] = true // a constant of the script's own (a chunk size)
				continue
			}
			if byPosition.MatchString(bare) {
				problems = append(problems, at+": KEYS or ARGV by a literal position")
			}
			if bareReturn.MatchString(bare) {
				problems = append(problems, at+": a literal reply code")
			}
			for _, m := range luaNumber.FindAllStringSubmatch(bare, -1) {
				n, _ := strconv.Atoi(m[2])
				if name, ok := nums[n]; ok {
					problems = append(problems, fmt.Sprintf("%s: number %d is %s of the contract", at, n, name))
				}
			}
		}
		// Every constant used is declared: names are checked over the whole
		// file once its own constants are known.
		for i, line := range strings.Split(src, "\n") {
			bare := luaString.ReplaceAllString(luaComment.ReplaceAllString(line, ""), "''")
			for _, n := range luaName.FindAllString(bare, -1) {
				if !decl[n] {
					problems = append(problems, fmt.Sprintf("%s:%d: %s is not a constant of the contract", file, i+1, n))
				}
			}
		}
		if len(problems) > 0 {
			sort.Strings(problems)
			out[file] = problems
		}
	}
	return out
}

// The rules above catch what they are meant to: each sample line breaks one.
func TestSources_UseTheContract_Catches(t *testing.T) {
	for _, line := range []string{
		"local s = redis.call('HGET', config, 'status')",
		"return 100 + tonumber(rec) % 128",
		"return -6",
		"local user = ARGV[1]",
		"if n > GROW_AFTER then",
	} {
		if len(contractProblems(map[string]string{"enroll.lua": line})) == 0 {
			t.Errorf("%q passes the contract check", line)
		}
	}
}

// Every script gets a valid prelude: no name twice, every string a plain
// name (luaValue panics otherwise), only the constants it uses, and the
// enrollment script's HMGET lists its fields in the order of the reply
// indexes.
func TestPrelude(t *testing.T) {
	for s := range positions {
		seen := map[string]bool{}
		for _, c := range constants(s) {
			if seen[c.name] {
				t.Errorf("%s: %s declared twice", s, c.name)
			}
			seen[c.name] = true
		}
		src := Source(s)
		end := strings.Index(src, "-- End of the generated constants.\n")
		if !strings.HasPrefix(src, "-- Generated from scripts/contract.go") || end < 0 {
			t.Fatalf("%s: no prelude:\n%s", s, src)
		}
		body := src[end:]
		for _, m := range preludeDef.FindAllStringSubmatch(src[:end], -1) {
			if !regexp.MustCompile(`\b` + m[1] + `\b`).MatchString(luaLineRemark.ReplaceAllString(body, "")) {
				t.Errorf("%s: %s rendered but unused", s, m[1])
			}
		}
		if strings.Contains(src, "{{") {
			t.Errorf("%s: a placeholder is left", s)
		}
	}
	p := Source("enroll")
	for i, f := range enrollFields {
		if !strings.Contains(p, fmt.Sprintf("local %s = %d\n", f.index, i+1)) {
			t.Errorf("%s is not %d", f.index, i+1)
		}
	}
	for _, want := range []string{
		"redis.call('HMGET', config, F_STATUS, F_MAX, F_SAMPLING, F_CUM, F_N, F_WINNER, F_T0, F_BUCKETS, F_GEN, F_FP, F_START_AT, F_END_AT, F_LAYER_INDEX)",
		"redis.call('HMGET', config, F_STATUS, F_MAX, F_SAMPLING, F_CUM, F_N, F_WINNER, F_T0, F_BUCKETS, F_GEN, F_FP, F_START_AT, F_END_AT)",
		"local F_FP = 'fp'\n", "local MEMBER_GROUPS = 128\n", "local R_STALE = -6\n", "local A_FP = 6\n",
	} {
		if !strings.Contains(p, want) {
			t.Errorf("the enrollment script lacks %q", want)
		}
	}
}
