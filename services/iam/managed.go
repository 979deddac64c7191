package iam

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/identity"
)

// managedFiles are AWS's managed policies, one file each, named for the
// policy: its ARN, path, description, default version and dates, and the
// default version's document as the AWS managed policy reference publishes
// it (members of each statement in the order Sid, Effect, Action, Resource,
// Condition). PolicyId is AWS's where it is known; the others get one
// derived from the ARN. The documents are validated by the tests (the
// policy package's rules, but for the customer quota on size, which AWS's
// own documents such as ReadOnlyAccess exceed), not at each start.
//
//go:embed managed/*.json
var managedFiles embed.FS

// managedFile is the form of a managed/*.json file: the fields of IAM's
// Policy, and the document.
type managedFile struct {
	PolicyName       string
	Arn              string
	Path             string
	PolicyId         string
	Description      string
	DefaultVersionId string
	CreateDate       time.Time
	UpdateDate       time.Time
	Document         json.RawMessage
}

// awsPolicies are AWS's managed policies by ARN, and awsPolicyList the
// same in order of name.
var awsPolicies, awsPolicyList = mustLoadManaged()

func mustLoadManaged() (map[string]*policyRecord, []*policyRecord) {
	byARN, list, err := loadManaged()
	if err != nil {
		panic(err) // the files are part of the binary: the tests catch this
	}
	return byARN, list
}

func loadManaged() (map[string]*policyRecord, []*policyRecord, error) {
	files, err := managedFiles.ReadDir("managed")
	if err != nil {
		return nil, nil, err
	}
	byARN := map[string]*policyRecord{}
	var list []*policyRecord
	for _, f := range files {
		name := path.Join("managed", f.Name())
		b, err := managedFiles.ReadFile(name)
		if err != nil {
			return nil, nil, err
		}
		p, err := parseManaged(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if f.Name() != p.Name+".json" {
			return nil, nil, fmt.Errorf("%s: holds policy %s", name, p.Name)
		}
		byARN[p.arn("")] = p
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b *policyRecord) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return byARN, list, nil
}

// parseManaged reads one managed policy file into the record IAM serves it
// from, checking that its ARN is the one its path and name make.
func parseManaged(b []byte) (*policyRecord, error) {
	var f managedFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	var doc bytes.Buffer
	if err := json.Compact(&doc, f.Document); err != nil || doc.Len() == 0 || doc.Bytes()[0] != '{' {
		return nil, fmt.Errorf("document: not a JSON object (%v)", err)
	}
	p := &policyRecord{
		Name: f.PolicyName, Path: f.Path, ID: f.PolicyId, Description: f.Description,
		Created: f.CreateDate, Updated: f.UpdateDate, Default: f.DefaultVersionId,
		Versions: []policyVersion{{ID: f.DefaultVersionId, Document: doc.String(), Created: f.UpdateDate}},
		aws:      true,
	}
	if err := checkName("policyName", p.Name); err != nil {
		return nil, err
	}
	if _, err := policyPathOf(&p.Path); err != nil {
		return nil, err
	}
	if err := checkVersionID(p.Default); err != nil {
		return nil, err
	}
	if got := p.arn(""); got != f.Arn {
		return nil, fmt.Errorf("ARN %s, but path and name make %s", f.Arn, got)
	}
	if p.ID == "" {
		p.ID = identity.UniqueID("ANPA", f.Arn)
	}
	return p, nil
}

// serviceRolePolicy reports whether an AWS managed policy is for
// service-linked roles only.
func (p *policyRecord) serviceRolePolicy() bool {
	return p.aws && strings.HasPrefix(p.Path, "/aws-service-role/")
}
