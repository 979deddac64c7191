package api

// The service packages below and the protocol-test types are generated from
// the AWS models pinned in go.mod. Regenerate with: go generate ./api
//go:generate go run ../cmd/apigen -out . sts=sts ec2=ec2 elbv2=elasticloadbalancingv2 autoscaling=autoscaling cloudwatch=monitoring acm=acm iam=iam route53=route53 s3=s3 ssm=ssm rds=rds elasticache=elasticache cloudformation=cloudformation
//go:generate go run ../cmd/apigen -protocol-tests protocol/cases_gen_test.go
