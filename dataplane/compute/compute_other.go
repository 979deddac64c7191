//go:build !linux

package compute

import "errors"

// InitMain does nothing outside Linux.
func InitMain() {}

// Check says why instances cannot run here.
func Check() error {
	return errors.New("instances need Linux (namespaces, overlayfs, cgroups)")
}

// New fails outside Linux.
func New(Config) (Runner, error) { return nil, Check() }
