// Package arn formats and parses Amazon Resource Names.
package arn

import (
	"fmt"
	"strings"
)

// ARN is arn:partition:service:region:account:resource.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// New returns the ARN of a resource, in the partition of region.
func New(service, region, account, resource string) ARN {
	return ARN{Partition: Partition(region), Service: service, Region: region, Account: account, Resource: resource}
}

// Partition returns the partition a region belongs to. Global resources
// (region "") are in "aws".
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// Parse splits an ARN into its parts.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" {
		return ARN{}, fmt.Errorf("%q is not a valid ARN", s)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}
