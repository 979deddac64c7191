package daemon

import (
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/registry"

	// The services cloudbox serves: each registers itself (its
	// register.go). A new service is one line here.
	_ "github.com/cloudbox/cloudbox/services/acm"
	_ "github.com/cloudbox/cloudbox/services/autoscaling"
	_ "github.com/cloudbox/cloudbox/services/cloudwatch"
	_ "github.com/cloudbox/cloudbox/services/ec2"
	_ "github.com/cloudbox/cloudbox/services/elbv2"
	_ "github.com/cloudbox/cloudbox/services/route53"
	_ "github.com/cloudbox/cloudbox/services/s3"
	_ "github.com/cloudbox/cloudbox/services/ssm"
	_ "github.com/cloudbox/cloudbox/services/sts"
)

// APIs routed and decoded before their service exists: every operation
// answers NotImplemented. A service package that implements one replaces
// its line here with its own registration.
func init() {
	registry.Register(registry.Registration{Name: "iam", API: iamapi.Service})
}
