package main

import (
	"flag"
	"fmt"
)

// endpointFlag is the --endpoint every command that talks to a daemon
// takes.
func endpointFlag(fs *flag.FlagSet) *string {
	return fs.String("endpoint", "", "daemon endpoint (default $AWS_ENDPOINT_URL, else http://"+defaultListen+")")
}

// commandUsage is a subcommand's -h: its synopsis, what it does, its
// flags and examples.
func commandUsage(fs *flag.FlagSet, synopsis, about string, examples ...string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: cloudbox %s\n\n%s\n", synopsis, about)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
		if len(examples) > 0 {
			fmt.Fprintln(w, "\nexamples:")
			for _, e := range examples {
				fmt.Fprintln(w, "  "+e)
			}
		}
	}
}
