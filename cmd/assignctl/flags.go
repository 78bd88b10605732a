package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/assign-dev/assign/client"
	"github.com/assign-dev/assign/results"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
	OutputCSV   = "csv"
)

// Globals are the flags every command takes. Each has an environment
// variable; a flag given on the command line wins.
type Globals struct {
	URL          string // assignd's base URL
	AdminToken   string // admin Bearer token
	WarehouseURL string // postgres://... or a DuckDB file
	Output       string // table, json or csv; "" picks by terminal
}

const globalsHelp = `	--url URL               assignd's base URL [ASSIGN_URL] (default ` + client.DefaultURL + `)
	--admin-token TOKEN     admin Bearer token [ASSIGN_ADMIN_TOKEN]
	--warehouse-url URL     postgres://... or a DuckDB file [ASSIGN_WAREHOUSE_URL] (default ` + results.DefaultURL + `)
	--output FORMAT         table, json or csv [ASSIGN_OUTPUT] (default: table on a terminal, json otherwise)
`

// register adds the global flags to fs, with defaults taken, in order, from
// flags given before the command name, the environment, and the built-ins.
func (g *Globals) register(fs *flag.FlagSet, m *Main) {
	pick := func(given, env, def string) string {
		if given != "" {
			return given
		}
		if v := m.Getenv(env); v != "" {
			return v
		}
		return def
	}
	d := m.defaults
	fs.StringVar(&g.URL, "url", pick(d.URL, "ASSIGN_URL", client.DefaultURL), "assignd's base URL [ASSIGN_URL]")
	fs.StringVar(&g.AdminToken, "admin-token", pick(d.AdminToken, "ASSIGN_ADMIN_TOKEN", ""), "admin Bearer token [ASSIGN_ADMIN_TOKEN]")
	fs.StringVar(&g.WarehouseURL, "warehouse-url", pick(d.WarehouseURL, "ASSIGN_WAREHOUSE_URL", results.DefaultURL), "postgres://... or a DuckDB file [ASSIGN_WAREHOUSE_URL]")
	fs.StringVar(&g.Output, "output", pick(d.Output, "ASSIGN_OUTPUT", ""), "table, json or csv [ASSIGN_OUTPUT]")
}

// format returns the output format to use: the flag, or table on a
// terminal and JSON otherwise (a pipe or a file is read by a program).
func (g *Globals) format(m *Main) (string, error) {
	switch g.Output {
	case OutputTable, OutputJSON, OutputCSV:
		return g.Output, nil
	case "":
		if m.IsTerminal {
			return OutputTable, nil
		}
		return OutputJSON, nil
	}
	return "", usageErrorf("--output must be table, json or csv, not %q", g.Output)
}

// client returns an API client with the global URL and token.
func (g *Globals) client(m *Main) (*client.Client, error) {
	if g.AdminToken == "" {
		return nil, usageErrorf("an admin token is required: set --admin-token or ASSIGN_ADMIN_TOKEN")
	}
	c := client.New(g.URL, g.AdminToken)
	c.HTTPClient = m.HTTPClient
	c.UserAgent = "assignctl"
	return c, nil
}

// adminSession returns the output format and an API client: what every
// admin command needs before it starts.
func (g *Globals) adminSession(m *Main) (format string, api *client.Client, err error) {
	if format, err = g.format(m); err != nil {
		return "", nil, err
	}
	if api, err = g.client(m); err != nil {
		return "", nil, err
	}
	return format, api, nil
}

// newFlagSet returns a flag set for a command that reports errors to its
// caller instead of printing them, with the global flags registered.
func newFlagSet(name string, g *Globals, m *Main) *flag.FlagSet {
	fs := flag.NewFlagSet("assignctl "+name, flag.ContinueOnError)
	fs.SetOutput(discard{})
	g.register(fs, m)
	return fs
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// parse parses args allowing flags after positional arguments
// ("show ID --output json"), and returns the positional ones. "--" ends
// the flags.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, &UsageError{Err: err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		// fs.Parse stops at "--" (consumed) or at the first non-flag.
		if i := len(args); i > 0 && args[0] != "" && args[0][0] != '-' {
			pos = append(pos, args[0])
			args = args[1:]
			continue
		}
		return append(pos, args...), nil
	}
}

// exactArgs checks the number of positional arguments.
func exactArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		return usageErrorf("want %d argument(s) (%s), got %d", len(names), strings.Join(names, ", "), len(args))
	}
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, ",") }
func (f *multiFlag) Set(v string) error { *f = append(*f, v); return nil }

// printFlags writes the flags of fs, globals last, in the help format.
func printFlags(b *strings.Builder, fs *flag.FlagSet) {
	global := map[string]bool{"url": true, "admin-token": true, "warehouse-url": true, "output": true}
	fs.VisitAll(func(f *flag.Flag) {
		if global[f.Name] {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		arg := "--" + f.Name
		if name != "" {
			arg += " " + name
		}
		fmt.Fprintf(b, "\t%-24s %s", arg, usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	b.WriteString("\nGlobal flags:\n\n" + globalsHelp)
}
