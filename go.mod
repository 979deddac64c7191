module github.com/cloudbox/cloudbox

go 1.26.8

require (
	github.com/aws/aws-sdk-go v1.55.8
	github.com/aws/aws-sdk-go-v2 v1.47.7
	go.etcd.io/bbolt v1.5.0
)

require (
	github.com/aws/smithy-go v1.28.8 // indirect
	github.com/jmespath/go-jmespath v0.4.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
