// Package ssm implements the Parameter Store of AWS Systems Manager: the
// parameters of each account and region (String, StringList and
// SecureString, their versions, labels, tags and tiers) and, read-only,
// the public parameters AWS publishes under /aws/service, whose AMI ids
// come from package ami, so that `--image-id resolve:ssm:/aws/service/...`
// and `aws ssm get-parameters` give the ids EC2 describes.
//
// What differs from AWS:
//
//   - There is no KMS. A SecureString keeps its value in the store; read
//     without decryption it shows a ciphertext, really encrypted, in the
//     form KMS gives (base64, "AQICAH..."), under a key derived from the
//     account, region and key id. Any well-formed key id, key ARN, alias or
//     alias ARN is accepted, since there is no key list to check it against.
//   - A parameter of data type aws:ec2:image is checked, as AWS does
//     asynchronously, for the form of an AMI id (ami- and 8 or 17 hex
//     digits); like AWS, PutParameter answers success either way and a
//     value that fails is not stored (the failure is logged). Whether the
//     image exists is not checked: SSM does not depend on EC2 (EC2 resolves
//     its ImageId through SSM).
//   - Parameter policies (Expiration, notifications) are not implemented:
//     PutParameter with Policies answers NotImplemented.
//   - The public parameters are the AMI parameters of package ami, each at
//     version 1, last modified when its image was created.
package ssm

import (
	"context"
	"log/slog"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/store"
)

const (
	// paramKind is the store kind of a parameter: one record per name,
	// holding its versions.
	paramKind = "ssm:parameter"

	// maxVersions is how many versions Parameter Store keeps.
	maxVersions = 100
	// maxLabels is how many labels one version may carry.
	maxLabels = 10
	// maxTags is how many tags a parameter may carry.
	maxTags = 50
	// DefaultStandardLimit is the quota of standard parameters per account
	// and region.
	DefaultStandardLimit = 10000

	// defaultKeyID is the AWS managed key SecureStrings use by default.
	defaultKeyID = "alias/aws/ssm"
)

// Service is the SSM implementation. Set its exported fields before it
// serves.
type Service struct {
	// StandardLimit is the number of standard parameters an account may
	// hold per region.
	StandardLimit int

	store *store.Store
	now   func() time.Time
	log   *slog.Logger
}

// New returns SSM over st.
func New(st *store.Store, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{StandardLimit: DefaultStandardLimit, store: st, now: now, log: log}
}

// Handlers returns the operations SSM implements.
func (s *Service) Handlers() *ssmapi.Handlers {
	return &ssmapi.Handlers{
		PutParameter:            s.putParameter,
		GetParameter:            s.getParameter,
		GetParameters:           s.getParameters,
		GetParametersByPath:     s.getParametersByPath,
		GetParameterHistory:     s.getParameterHistory,
		DescribeParameters:      s.describeParameters,
		DeleteParameter:         s.deleteParameter,
		DeleteParameters:        s.deleteParameters,
		LabelParameterVersion:   s.labelParameterVersion,
		UnlabelParameterVersion: s.unlabelParameterVersion,
		AddTagsToResource:       s.addTags,
		RemoveTagsFromResource:  s.removeTags,
		ListTagsForResource:     s.listTags,
	}
}

// scope is the account and region a request sees, and who made it.
type scope struct {
	account, region string
	caller          string // the caller's ARN: LastModifiedUser
}

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region, caller: r.Caller.ARN}
}

func (sc scope) key(name string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: paramKind, ID: name}
}

// load reads the parameter name of this scope; nil if there is none.
func load(tx *store.Tx, sc scope, name string) (*paramRecord, error) {
	r, _, err := store.Get[paramRecord](tx, sc.key(name))
	return r, err
}

func save(tx *store.Tx, sc scope, r *paramRecord) error {
	return tx.Put(sc.key(r.Name), r)
}

func str(s string) *string { return &s }

func i64(n int64) *int64 { return &n }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// ptrs returns ss as the API's list of string pointers, empty but not nil:
// AWS shows these lists even when they are empty.
func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

func timePtr(t time.Time) *time.Time { return &t }
