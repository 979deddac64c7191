package cloudformation

import (
	"fmt"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
)

// S3's resource types, made through S3's API.
func init() {
	register("AWS::S3::Bucket", &provider{Create: createBucket, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("s3", "DeleteBucket", &s3api.DeleteBucketRequest{Bucket: &s.Physical})
		return err
	}, Update: updateBucket, Replace: []string{"BucketName", "ObjectLockEnabled"}})
	register("AWS::S3::BucketPolicy", &provider{Create: createBucketPolicy, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("s3", "DeleteBucketPolicy", &s3api.DeleteBucketPolicyRequest{Bucket: &s.Physical})
		return err
	}, Update: func(c *call, s *state, _, new props) (*state, error) {
		_, err := createBucketPolicy(c, new)
		return s, err
	}, Replace: []string{"Bucket"}})
}

// A bucket's Ref is its name; it gets a lower-case name when the
// template gives none.
func createBucket(c *call, p props) (*state, error) {
	name := p.str("BucketName")
	if name == "" {
		name = c.physicalName(63, true)
	}
	in := &s3api.CreateBucketRequest{Bucket: &name, ObjectOwnership: p.sub("OwnershipControls").ownership()}
	if c.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3api.CreateBucketConfiguration{LocationConstraint: str(c.region)}
	}
	if _, err := c.invoke("s3", "CreateBucket", in); err != nil {
		return nil, err
	}
	suffix := "amazonaws.com"
	st := &state{Physical: name, Attrs: map[string]any{
		"Arn":                 fmt.Sprintf("arn:%s:s3:::%s", template.Partition(c.region), name),
		"DomainName":          name + ".s3." + suffix,
		"RegionalDomainName":  name + ".s3." + c.region + "." + suffix,
		"DualStackDomainName": name + ".s3.dualstack." + c.region + "." + suffix,
		"WebsiteURL":          "http://" + name + ".s3-website." + c.region + "." + suffix,
	}}
	if tags := c.tags(p); len(tags) > 0 {
		t := &s3api.Tagging{}
		for _, kv := range tags {
			t.TagSet = append(t.TagSet, &s3api.Tag{Key: str(kv[0]), Value: str(kv[1])})
		}
		if _, err := c.invoke("s3", "PutBucketTagging", &s3api.PutBucketTaggingRequest{Bucket: &name, Tagging: t}); err != nil {
			return st, err
		}
	}
	if v := p.sub("VersioningConfiguration"); v.has("Status") {
		if _, err := c.invoke("s3", "PutBucketVersioning", &s3api.PutBucketVersioningRequest{Bucket: &name,
			VersioningConfiguration: &s3api.VersioningConfiguration{Status: v.strp("Status")}}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ownership is OwnershipControls' first rule's ObjectOwnership.
func (p props) ownership() *string {
	for _, r := range p.maps("Rules") {
		return r.strp("ObjectOwnership")
	}
	return nil
}

// A bucket policy's physical id is its bucket's name.
func createBucketPolicy(c *call, p props) (*state, error) {
	bucket := p.str("Bucket")
	if _, err := c.invoke("s3", "PutBucketPolicy", &s3api.PutBucketPolicyRequest{Bucket: &bucket, Policy: document(p["PolicyDocument"])}); err != nil {
		return nil, err
	}
	return &state{Physical: bucket}, nil
}
