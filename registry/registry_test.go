package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
)

type svc struct{ name string }

func (s svc) Invoker() api.Invoker { return unimplemented{&api.Service{ServiceID: s.name}} }

func reg(name string, requires ...string) Registration {
	return Registration{Name: name, Requires: requires, New: func(e *Env) (Service, error) {
		for _, r := range requires {
			if e.Service(r) == nil {
				return nil, errors.New(name + ": " + r + " not built first")
			}
		}
		return svc{name}, nil
	}}
}

func TestBuildOrder(t *testing.T) {
	built, err := Build(Env{}, []Registration{reg("c", "b"), reg("a"), reg("b", "a"), {Name: "z", API: &api.Service{ServiceID: "Z"}}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range built {
		names = append(names, b.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c,z" {
		t.Fatalf("order %s", got)
	}
	// A registration without New serves its API as NotImplemented.
	_, err = built[3].Invoker.Invoke(context.Background(), "Op", nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != "NotImplemented" || built[3].Service != nil {
		t.Fatalf("unimplemented: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		regs []Registration
		want string
	}{
		{[]Registration{reg("a", "b"), reg("b", "a")}, "circular"},
		{[]Registration{reg("a", "missing")}, "not registered"},
		{[]Registration{{Name: "a", New: func(*Env) (Service, error) { return nil, errors.New("boom") }}}, "a: boom"},
	} {
		if _, err := Build(Env{}, tc.regs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestUndeclaredLookupPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("looking up an undeclared service did not panic")
		}
	}()
	Build(Env{}, []Registration{reg("a"), {Name: "b", New: func(e *Env) (Service, error) { return e.Service("a"), nil }}})
}
