//go:build !linux

package sshd

import (
	"errors"
	"os"
)

// OpenTerminal allocates a pseudo-terminal; only Linux has them here.
func OpenTerminal(devpts string) (ptmx, tty *os.File, err error) {
	return nil, nil, errors.New("sshd: terminals are only supported on Linux")
}

func setWinsize(*os.File, uint32, uint32, uint32, uint32) error {
	return errors.ErrUnsupported
}
