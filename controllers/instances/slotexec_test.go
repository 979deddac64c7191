package instances

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

// TestExecSlot: a service runs commands, their input and output
// streamed, in its own running slots only.
func TestExecSlot(t *testing.T) {
	run := compute.NewFake("d")
	run.ExecFunc = func(id string, req compute.ExecRequest) (int, error) {
		b, _ := io.ReadAll(req.Stdin)
		io.WriteString(req.Stdout, id+":"+strings.Join(req.Argv, " ")+":"+string(b))
		return 3, nil
	}
	world := &desired.World{Slots: []*desired.Slot{{ID: "rds-a", Owner: "rds"}, {ID: "rds-stopped", Owner: "rds"}}}
	ctl := New(Config{Runner: run, Desired: func() *desired.World { return world }, Log: slog.New(slog.DiscardHandler)})
	if err := run.Start(context.Background(), compute.Spec{ID: "rds-a", Hostname: "rds-a", VCPUs: 1, MemoryMiB: 64, RootDir: "/x/rds-a", Layers: []string{"/l"}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := ctl.ExecSlot(context.Background(), "rds", "rds-a", []string{"cat"}, strings.NewReader("dump"), &out)
	if err != nil || code != 3 || out.String() != "rds-a:cat:dump" {
		t.Fatalf("exec: %d %v %q", code, err, out.String())
	}
	for _, c := range []struct{ owner, slot string }{{"elasticache", "rds-a"}, {"rds", "rds-stopped"}, {"rds", "rds-gone"}} {
		if _, err := ctl.ExecSlot(context.Background(), c.owner, c.slot, []string{"true"}, nil, nil); !errors.Is(err, desired.ErrSlotNotRunning) {
			t.Errorf("%s in %s: %v, want ErrSlotNotRunning", c.owner, c.slot, err)
		}
	}
}
