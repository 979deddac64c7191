package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/daemon"
)

var update = flag.Bool("update", false, "rewrite the README's services table")

const (
	tableBegin = "<!-- services:begin -->\n"
	tableEnd   = "<!-- services:end -->"
)

// TestREADMEServices keeps the README's table of services and operations
// equal to what the code registers and implements.
func TestREADMEServices(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README has no %q ... %q section", tableBegin, tableEnd)
	}
	d, err := daemon.New(daemon.Config{Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := markdownTable(daemon.ImplementedTable(d.Services()))
	got := readme[i+len(tableBegin) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme[:i+len(tableBegin)]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("README's services table is stale; run: go test ./cmd/cloudbox -run TestREADME -update\nwant:\n%s", want)
}
