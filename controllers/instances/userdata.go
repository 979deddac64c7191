package instances

import (
	"regexp"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/cloudinit"
	"github.com/cloudbox/cloudbox/dataplane/compute"
)

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// userScripts is what first boot runs of user data, as cloud-init on the
// family's AMIs would run it, and what it says about the rest.
func userScripts(userData []byte, f ami.Family) ([]compute.Script, []string) {
	pm := "yum"
	if f == ami.Ubuntu || f == ami.Debian {
		pm = "apt"
	}
	plan, err := cloudinit.Render(userData, cloudinit.Options{PackageManager: pm, DefaultUser: ami.DefaultUser(f)})
	if err != nil {
		return nil, []string{err.Error()}
	}
	scripts := make([]compute.Script, 0, len(plan.Scripts))
	for _, s := range plan.Scripts {
		// cloudinit marks the scripts it keeps outside cloud-init's
		// scripts directory with a "stage:" prefix (boothook:part-001);
		// here every script is a file of that one directory, run in the
		// plan's order.
		name := unsafeName.ReplaceAllString(s.Name, "-")
		scripts = append(scripts, compute.Script{Name: name[:min(len(name), 64)], Content: s.Content})
	}
	return scripts, plan.Warnings
}
