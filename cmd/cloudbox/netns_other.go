//go:build !linux

package main

import "errors"

func execInNetNS(string, []string) error {
	return errors.New("the simulated internet needs Linux")
}
