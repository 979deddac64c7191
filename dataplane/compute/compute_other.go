//go:build !linux

package compute

import (
	"context"
	"errors"
)

// InitMain does nothing outside Linux.
func InitMain() {}

// Check says why instances cannot run here.
func Check() error {
	return errors.New("instances need Linux (namespaces, overlayfs, cgroups)")
}

// New fails outside Linux.
func New(Config) (Runner, error) { return nil, Check() }

// MountHelperMain fails outside Linux.
func MountHelperMain([]string) int { return 1 }

// ExecIn fails outside Linux.
func ExecIn(context.Context, string, ExecRequest) (int, error) { return -1, Check() }
