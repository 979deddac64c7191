package compute

import (
	"context"
	"errors"
	"testing"
)

func TestFake(t *testing.T) {
	ctx := context.Background()
	f := NewFake("d1")
	var r Runner = f
	s := Spec{ID: "i-1", Hostname: "ip-10-0-1-5", VCPUs: 1, MemoryMiB: 1024, RootDir: "/var/lib/x/i-1", Layers: []string{"/"}, Scripts: []Script{{Name: "part-001", Content: []byte("#!/bin/sh\necho hi\n")}}}
	if err := r.Start(ctx, Spec{ID: "bad id"}); err == nil {
		t.Error("bad spec accepted")
	}
	if err := r.Start(ctx, s); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.State("i-1"); st != StateRunning {
		t.Errorf("state %q", st)
	}
	if err := r.Stop(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Exec(ctx, "i-1", ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("exec on stopped: %v", err)
	}
	_ = r.Start(ctx, s)
	_ = r.Reboot(ctx, "i-1")
	if boots, runs := f.Boots("i-1"); boots != 3 || runs != 1 {
		t.Errorf("boots %d, user data runs %d", boots, runs)
	}
	f.ExecFunc = func(id string, req ExecRequest) (int, error) { return len(req.Argv), nil }
	if code, err := r.Exec(ctx, "i-1", ExecRequest{Argv: []string{"a", "b"}}); code != 2 || err != nil {
		t.Errorf("exec: %d, %v", code, err)
	}
	_ = f.SetStats("i-1", Stats{OOMKills: 1})
	if st, _ := r.Stats("i-1"); st.OOMKills != 1 {
		t.Errorf("stats %+v", st)
	}
	if l, _ := r.List(); len(l) != 1 || l[0].ID != "i-1" {
		t.Errorf("list %+v", l)
	}
	if err := r.Terminate(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.State("i-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("state after terminate: %v", err)
	}
	_ = r.Start(ctx, s)
	_ = r.Cleanup(ctx, "other")
	if l, _ := r.List(); len(l) != 1 {
		t.Error("cleanup of another daemon removed ours")
	}
	_ = r.Cleanup(ctx, "d1")
	if l, _ := r.List(); len(l) != 0 {
		t.Error("cleanup left instances")
	}
}

func TestSpecValidate(t *testing.T) {
	good := Spec{ID: "i-0123456789abcdef0", Hostname: "ip-10-0-1-54", VCPUs: 1, MemoryMiB: 1024, RootDir: "/var/lib/cloudbox/i-1", Layers: []string{"/var/lib/cloudbox/images/base"}}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Spec){
		"id":        func(s *Spec) { s.ID = "../x" },
		"hostname":  func(s *Spec) { s.Hostname = "-bad" },
		"vcpus":     func(s *Spec) { s.VCPUs = 0 },
		"no layers": func(s *Spec) { s.Layers = nil },
		"layer":     func(s *Spec) { s.Layers = []string{"/a:b"} },
		"memory":    func(s *Spec) { s.MemoryMiB = 1 },
		"relative":  func(s *Spec) { s.RootDir = "var/x" },
		"top-level": func(s *Spec) { s.RootDir = "/x" },
		"comma":     func(s *Spec) { s.RootDir = "/var/a,b" },
		"netns":     func(s *Spec) { s.NetNS = "netns" },
		"env":       func(s *Spec) { s.Env = []string{"NOEQUALS"} },
	} {
		s := good
		mod(&s)
		if s.Validate() == nil {
			t.Errorf("%s: accepted %+v", name, s)
		}
	}
}
