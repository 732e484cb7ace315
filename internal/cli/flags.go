package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// command is a subcommand's flag set with the synopsis its --help prints.
type command struct {
	*flag.FlagSet
	name, synopsis string
}

// newFlags returns the flags of subcommand name; synopsis is the line after
// "usage: integrations NAME" in its --help (its arguments and what it does).
func newFlags(name, synopsis string) *command {
	fs := flag.NewFlagSet("integrations "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors itself
	return &command{FlagSet: fs, name: name, synopsis: synopsis}
}

// printHelp writes the command's usage, flags spelled --name (as the README does).
func (c *command) printHelp(w io.Writer) {
	fmt.Fprintf(w, "usage: integrations %s %s\n", c.name, c.synopsis)
	var lines []string
	c.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		l := "  " + dash + f.Name
		if arg != "" {
			l += " " + arg
		}
		l += "\n        " + usage
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			l += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		lines = append(lines, l)
	})
	if len(lines) > 0 {
		fmt.Fprintln(w, "\nflags:")
		sort.Strings(lines)
		fmt.Fprintln(w, strings.Join(lines, "\n"))
	}
	fmt.Fprint(w, "\n"+exitCodes)
}

// parse parses args. --help (or -h) prints the usage on stdout: done with ExitOK. A
// flag error names the flag, with a did-you-mean for a misspelt one: done with
// ExitUsage. Otherwise done is false and the command goes on.
func (c *command) parse(args []string, stdout, stderr io.Writer) (code int, done bool) {
	err := c.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		c.printHelp(stdout)
		return ExitOK, true
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		bare := strings.TrimLeft(name, "-")
		var names []string
		c.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		msg = "unknown flag " + name
		if s := didYouMean(bare, names); s != "" {
			msg += strings.Replace(s, `"`, `"--`, 1)
		}
	}
	fmt.Fprintf(stderr, "integrations %s: %s (see integrations %s --help)\n", c.name, msg, c.name)
	return ExitUsage, true
}
