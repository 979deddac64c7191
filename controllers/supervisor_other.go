//go:build !linux

package controllers

import (
	"context"
	"errors"
	"net/http"

	"github.com/cloudbox/cloudbox/dataplane/compute"
)

var errNotLinux = errors.New("the data plane needs Linux (network namespaces, nftables, cgroups)")

// Check says why the data plane cannot run here.
func Check() error { return errNotLinux }

// World is not available outside Linux.
type World struct{}

// New fails outside Linux.
func New(Config) (*World, error) { return nil, errNotLinux }

// The methods below exist so the daemon builds everywhere; New never
// returns a World here.

func (*World) Start(context.Context) error                                    { return errNotLinux }
func (*World) Info() Info                                                     { return Info{} }
func (*World) Close() error                                                   { return nil }
func (*World) Down(context.Context) error                                     { return errNotLinux }
func (*World) Boot(context.Context, string, string, string) error             { return errNotLinux }
func (*World) Halt(context.Context, string, string, string, bool) error       { return errNotLinux }
func (*World) Reboot(context.Context, string, string, string) error           { return errNotLinux }
func (*World) ConsoleOutput(string, string, string) ([]byte, error)           { return nil, errNotLinux }
func (*World) Exec(context.Context, string, compute.ExecRequest) (int, error) { return -1, errNotLinux }

// Cleanup has nothing to remove outside Linux.
func Cleanup(context.Context, string) error { return nil }

// ServeEdge answers that there is no data plane.
func (*World) ServeEdge(rw http.ResponseWriter, _ *http.Request) {
	http.Error(rw, errNotLinux.Error(), http.StatusServiceUnavailable)
}
