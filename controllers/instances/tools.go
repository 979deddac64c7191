package instances

import (
	"embed"
	"os/exec"
)

// The tools an Amazon Linux instance has that a tutorial uses and the host
// may lack: stress (seed 003 loads its Auto Scaling group with `stress
// --cpu 1`) and yum/dnf to "install" it. Each is given to an instance
// only when the host has no program of that name.
//
//go:embed tools/stress tools/yum
var toolFiles embed.FS

// imageTools returns the tools for the instances of this host.
func imageTools() map[string][]byte {
	out := map[string][]byte{}
	for name, file := range map[string]string{"stress": "tools/stress", "yum": "tools/yum", "dnf": "tools/yum"} {
		if _, err := exec.LookPath(name); err == nil {
			continue
		}
		if b, err := toolFiles.ReadFile(file); err == nil {
			out[name] = b
		}
	}
	return out
}
