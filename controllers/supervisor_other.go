//go:build !linux

package controllers

import (
	"context"
	"errors"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

var errNotLinux = errors.New("the data plane needs Linux (network namespaces, nftables, cgroups)")

// Check says why the data plane cannot run here.
func Check() error { return errNotLinux }

// Supervisor is not available outside Linux.
type Supervisor struct{}

// New fails outside Linux.
func New(Config) (*Supervisor, error) { return nil, errNotLinux }

// The methods below exist so the daemon builds everywhere; New never
// returns a Supervisor here.

func (*Supervisor) Start(context.Context) error { return errNotLinux }
func (*Supervisor) Info() Info                  { return Info{} }
func (*Supervisor) Close() error                { return nil }
func (*Supervisor) Down(context.Context) error  { return errNotLinux }
func (*Supervisor) Exec(context.Context, string, compute.ExecRequest) (int, error) {
	return -1, errNotLinux
}

func (*Supervisor) SlotExec(string) desired.SlotExec { return desired.NoDataPlane{} }

// Cleanup has nothing to remove outside Linux.
func Cleanup(context.Context, string, string) error { return nil }
