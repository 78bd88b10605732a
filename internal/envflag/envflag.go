// Package envflag gives each command-line flag an environment variable, the
// way every assign binary takes its configuration: the environment first,
// then the flags given, so a flag on the command line wins.
package envflag

import (
	"flag"
	"fmt"
	"strings"
)

// Parse sets the flags of fs named in env (flag name -> variable) from the
// variables getenv finds, then parses args. Positional arguments are an
// error: none of the commands takes any.
func Parse(fs *flag.FlagSet, env map[string]string, args []string, getenv func(string) string) error {
	for name, variable := range env {
		if v := getenv(variable); v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s: %w", variable, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	} else if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// SetUsage makes fs print header, then each flag with its environment
// variable in brackets, its help and its default when it has one.
func SetUsage(fs *flag.FlagSet, env map[string]string, header string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, header)
		fmt.Fprint(w, "\nFlags (environment variable in brackets):\n")
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(w, "  -%s", f.Name)
			if v := env[f.Name]; v != "" {
				fmt.Fprintf(w, " [%s]", v)
			}
			fmt.Fprintf(w, "\n    \t%s", f.Usage)
			if f.DefValue != "" && f.DefValue != "0s" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(w, " (default %q)", f.DefValue)
			}
			fmt.Fprintln(w)
		})
	}
}
