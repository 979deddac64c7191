//go:build !linux

package main

import "errors"

var errNoInternet = errors.New("the simulated internet needs Linux")

func execInNetNS(string, string, []string) error { return errNoInternet }

func enterNetNS([]string) error { return errNoInternet }
