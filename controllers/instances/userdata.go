package instances

import (
	"strings"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/dataplane/compute"
)

// userScripts is what first boot runs of user data.
func userScripts(userData []byte, _ ami.Family) ([]compute.Script, []string) {
	if strings.HasPrefix(string(userData), "#!") {
		return []compute.Script{{Name: "part-001", Content: userData}}, nil
	}
	return nil, nil
}
