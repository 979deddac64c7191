package daemon

import (
	// The services cloudbox serves: each registers itself (its
	// register.go). A new service is one line here.
	_ "github.com/cloudbox/cloudbox/services/acm"
	_ "github.com/cloudbox/cloudbox/services/autoscaling"
	_ "github.com/cloudbox/cloudbox/services/cloudformation"
	_ "github.com/cloudbox/cloudbox/services/cloudwatch"
	_ "github.com/cloudbox/cloudbox/services/ec2"
	_ "github.com/cloudbox/cloudbox/services/elasticache"
	_ "github.com/cloudbox/cloudbox/services/elbv2"
	_ "github.com/cloudbox/cloudbox/services/iam"
	_ "github.com/cloudbox/cloudbox/services/rds"
	_ "github.com/cloudbox/cloudbox/services/route53"
	_ "github.com/cloudbox/cloudbox/services/s3"
	_ "github.com/cloudbox/cloudbox/services/ssm"
	_ "github.com/cloudbox/cloudbox/services/sts"
)
