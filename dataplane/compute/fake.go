package compute

import (
	"context"
	"slices"
	"strings"
	"sync"
)

// Fake is an in-memory Runner for controllers' unit tests: it keeps states
// and boot counts, runs nothing, and answers Exec with ExecFunc.
type Fake struct {
	// ExecFunc answers Exec on a running instance; nil answers exit code 0.
	ExecFunc func(id string, req ExecRequest) (int, error)
	// StartErr, when set, makes Start fail (before anything changes).
	StartErr error

	daemonID string
	mu       sync.Mutex
	insts    map[string]*fakeInstance
}

type fakeInstance struct {
	spec         Spec
	state        State
	boots        int
	userDataRuns int
	ranFirstBoot bool
	stats        Stats
}

// NewFake returns an empty Fake for daemonID.
func NewFake(daemonID string) *Fake {
	return &Fake{daemonID: daemonID, insts: map[string]*fakeInstance{}}
}

var _ Runner = (*Fake)(nil)

// Start implements Runner.
func (f *Fake) Start(_ context.Context, spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.StartErr != nil {
		return f.StartErr
	}
	in := f.insts[spec.ID]
	if in == nil {
		in = &fakeInstance{}
		f.insts[spec.ID] = in
	}
	if in.state == StateRunning {
		return nil
	}
	in.spec, in.state = spec, StateRunning
	in.boots++
	if !in.ranFirstBoot {
		in.ranFirstBoot = true
		if len(spec.Scripts) > 0 {
			in.userDataRuns++
		}
	}
	return nil
}

func (f *Fake) get(id string) (*fakeInstance, error) {
	in := f.insts[id]
	if in == nil {
		return nil, ErrNotFound
	}
	return in, nil
}

// Stop implements Runner.
func (f *Fake) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, err := f.get(id)
	if err != nil {
		return err
	}
	in.state = StateStopped
	return nil
}

// Reboot implements Runner.
func (f *Fake) Reboot(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, err := f.get(id)
	if err != nil {
		return err
	}
	in.state = StateRunning
	in.boots++
	return nil
}

// Terminate implements Runner.
func (f *Fake) Terminate(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.get(id); err != nil {
		return err
	}
	delete(f.insts, id)
	return nil
}

// Exec implements Runner.
func (f *Fake) Exec(_ context.Context, id string, req ExecRequest) (int, error) {
	f.mu.Lock()
	in, err := f.get(id)
	if err == nil && in.state != StateRunning {
		err = ErrNotRunning
	}
	fn := f.ExecFunc
	f.mu.Unlock()
	if err != nil {
		return -1, err
	}
	if fn == nil {
		return 0, nil
	}
	return fn(id, req)
}

// Stats implements Runner: what SetStats last set.
func (f *Fake) Stats(id string) (Stats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, err := f.get(id)
	if err != nil {
		return Stats{}, err
	}
	return in.stats, nil
}

// SetStats sets what Stats answers for id.
func (f *Fake) SetStats(id string, s Stats) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, err := f.get(id)
	if err != nil {
		return err
	}
	in.stats = s
	return nil
}

// State implements Runner.
func (f *Fake) State(id string) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, err := f.get(id)
	if err != nil {
		return "", err
	}
	return in.state, nil
}

// List implements Runner, sorted by id.
func (f *Fake) List() ([]Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Info
	for id, in := range f.insts {
		out = append(out, Info{ID: id, State: in.state, RootDir: in.spec.RootDir})
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Cleanup implements Runner: forgets every instance if daemonID is the
// Fake's.
func (f *Fake) Cleanup(_ context.Context, daemonID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if daemonID == f.daemonID {
		clear(f.insts)
	}
	return nil
}

// Boots says how many times id has booted and how many times its user data
// ran (0 or 1).
func (f *Fake) Boots(id string) (boots, userDataRuns int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in := f.insts[id]; in != nil {
		return in.boots, in.userDataRuns
	}
	return 0, 0
}
