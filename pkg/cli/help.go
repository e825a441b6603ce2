package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
)

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// parseFlags parses args into fs. Asked for help (-h or --help) it prints
// fs's usage on stdout and returns (0, false); on a bad flag it prints the
// error and the usage on stderr and returns (2, false). Otherwise it returns
// (0, true) and later messages of fs go to stderr.
func parseFlags(fs *flag.FlagSet, args []string, io IO) (code int, ok bool) {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(io.Stderr)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		io.Stdout.Write(buf.Bytes())
		return 0, false
	default:
		io.Stderr.Write(buf.Bytes())
		return 2, false
	}
}

// subcommand picks the subcommand of a command with several (watch, feeds,
// silence, ...). With no argument it prints usage on stderr and returns
// (code 2, ok false); asked for help it prints usage on stdout and returns
// (0, false).
func subcommand(args []string, usage string, io IO) (sub string, rest []string, code int, ok bool) {
	switch {
	case len(args) == 0:
		fmt.Fprintln(io.Stderr, usage)
		return "", nil, 2, false
	case isHelp(args[0]):
		fmt.Fprintln(io.Stdout, usage)
		return "", nil, 0, false
	}
	return args[0], args[1:], 0, true
}

// usageFunc makes a FlagSet's Usage print the usage line of one subcommand
// and then its flags, on the FlagSet's output.
func usageFunc(fs *flag.FlagSet, line string) func() {
	return func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\nflags:\n", line)
		fs.PrintDefaults()
	}
}
