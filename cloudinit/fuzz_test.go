package cloudinit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzRender renders arbitrary user data. Whatever the input, Render must
// not panic, may fail only with ErrTooLarge, and must return a plan whose
// scripts start with "#!" under unique, file-safe names; the scripts it
// generates itself can hold no NUL byte.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"",
		seed003,
		fullConfig,
		"#cloud-boothook\n#!/bin/sh\necho\n",
		"#include\nhttp://x\n",
		"#cloud-config-archive\n- {type: text/x-shellscript, content: \"#!/bin/sh\"}\n- \"#cloud-config\\nruncmd: [a]\"\n",
		"#cloud-config\nmerge_how: list(append)+dict(no_replace,recurse_list)\nwrite_files: [{path: a, content: !!binary AA==, encoding: gz}]\nusers: [default, {name: b, sudo: [x]}]\n",
		mimeLF(
			"Content-Type: text/cloud-config\nMerge-Type: list(append)+dict()\n\nruncmd: [a]\n",
			"Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\nIyEvYmluL3NoCg==\n",
			"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/cloud-boothook\n\n#!/bin/sh\n--b--\n",
			"Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\n\n"+b64(gz(f, []byte("#!/bin/sh\n")))+"\n",
		),
		string(gz(f, []byte("#cloud-config\nruncmd: [a]\n"))),
	} {
		f.Add([]byte(s), "yum", true)
	}
	f.Fuzz(func(t *testing.T, userData []byte, pm string, defaultUser bool) {
		opt := Options{PackageManager: "apt"}
		if pm == "yum" || pm == "" {
			opt.PackageManager = pm
		}
		if defaultUser {
			opt.DefaultUser = "ec2-user"
		}
		p, err := Render(userData, opt)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Render: %v", err)
			}
			return
		}
		if msg := checkInvariants(p); msg != "" {
			t.Fatal(msg)
		}
		for _, s := range p.Scripts {
			if strings.HasPrefix(s.Name, "cloud-config:") && bytes.IndexByte(s.Content, 0) >= 0 {
				t.Fatalf("%s holds a NUL byte", s.Name)
			}
		}
	})
}
