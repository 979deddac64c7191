package iam

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// entity is what users, groups and roles share: their name, path and id,
// and the managed and inline policies that give them permissions.
type entity struct {
	Name    string
	Path    string
	ID      string
	Created time.Time
	// Attached are the ARNs of the managed policies attached, in the order
	// attached.
	Attached []string `json:",omitempty"`
	// Inline are the inline policies, in the order first put.
	Inline []inlinePolicy `json:",omitempty"`
}

func (e *entity) common() *entity { return e }

// recordPath is the path ListX's PathPrefix filters on.
func (e *entity) recordPath() string { return e.Path }

func (p *profileRecord) recordPath() string { return p.Path }

// inlinePolicy is an inline policy; its document is kept as given.
type inlinePolicy struct {
	Name     string
	Document string
}

// holder is a user, group or role: what policies attach to.
type holder interface{ common() *entity }

// userRecord is an IAM user, under kindUser.
type userRecord struct {
	entity
	// Boundary is the ARN of the permissions boundary, "" for none.
	Boundary string `json:",omitempty"`
	Tags     []tag  `json:",omitempty"`
	// Groups are the keys (lower-case names) of the user's groups, in the
	// order joined.
	Groups []string      `json:",omitempty"`
	Keys   []accessKey   `json:",omitempty"`
	Login  *loginProfile `json:",omitempty"`
}

// accessKey is one of a user's access keys. The secret is kept here so
// that reactivating the key can make it resolve again.
type accessKey struct {
	ID      string
	Secret  string
	Active  bool
	Created time.Time
}

func (k accessKey) status() string {
	if k.Active {
		return "Active"
	}
	return "Inactive"
}

// loginProfile is a user's console password; the password itself is not
// kept, as nothing signs in to a console here.
type loginProfile struct {
	Created       time.Time
	ResetRequired bool
}

// groupRecord is an IAM group, under kindGroup. Its members are found from
// the users (userRecord.Groups).
type groupRecord struct {
	entity
}

// roleRecord is an IAM role, under kindRole.
type roleRecord struct {
	entity
	Description string `json:",omitempty"`
	// TrustPolicy is the assume role policy document as given.
	TrustPolicy string
	// MaxSession is the maximum session duration, in seconds.
	MaxSession int64
	Boundary   string `json:",omitempty"`
	Tags       []tag  `json:",omitempty"`
	// Service is the service principal of a service-linked role
	// ("autoscaling.amazonaws.com"): such a role only that service may
	// change.
	Service string `json:",omitempty"`
}

// policyRecord is a managed policy: a customer managed one under
// kindPolicy, or one of AWS's, from the catalog (aws set, never stored).
type policyRecord struct {
	Name        string
	Path        string
	ID          string
	Description string `json:",omitempty"`
	Created     time.Time
	Updated     time.Time
	// Default is the id of the default version ("v1").
	Default string
	// Versions are the versions kept, oldest first.
	Versions []policyVersion
	// Next is the number of the next version: numbers are never reused.
	Next int
	Tags []tag `json:",omitempty"`

	aws bool
}

// policyVersion is one version of a managed policy.
type policyVersion struct {
	ID       string
	Document string
	Created  time.Time
}

// arn is the policy's ARN; acct owns a customer managed one.
func (p *policyRecord) arn(acct string) string {
	if p.aws {
		acct = "aws"
	}
	return "arn:aws:iam::" + acct + ":policy" + p.Path + p.Name
}

// version returns the version id, or nil.
func (p *policyRecord) version(id string) *policyVersion {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

// profileRecord is an instance profile, under kindProfile.
type profileRecord struct {
	Name    string
	Path    string
	ID      string
	Created time.Time
	// Roles are the keys of its roles: one at most.
	Roles []string `json:",omitempty"`
	Tags  []tag    `json:",omitempty"`
}

// aliasRecord is an account's alias: under kindAlias in the account, and
// under kindAliasOwner by alias.
type aliasRecord struct {
	Alias   string
	Account string
}

type tag struct{ Key, Value string }

// class describes users, groups or roles: their store kind and how IAM
// names them in ARNs, ids, quotas and messages.
type class struct {
	kind     string
	noun     string // "user": in ARNs and messages
	idPrefix string // of their unique ids
	// quota is the name of the quota on attached managed policies.
	quota string
	// inline is the kind of their inline policies' documents.
	inline policy.Kind
}

var (
	users  = class{kindUser, "user", "AIDA", "PoliciesPerUser", policy.UserInline}
	groups = class{kindGroup, "group", "AGPA", "PoliciesPerGroup", policy.GroupInline}
	roles  = class{kindRole, "role", "AROA", "PoliciesPerRole", policy.RoleInline}
)

// maxAttached is the quota of managed policies attached to one user, group
// or role.
const maxAttached = 10

func (c class) notFound(name string) *api.Error {
	return errorf("NoSuchEntity", "The %s with name %s cannot be found.", c.noun, name)
}

func (c class) exists(name string) *api.Error {
	return errorf("EntityAlreadyExists", "%s with name %s already exists.", strings.ToUpper(c.noun[:1])+c.noun[1:], name)
}

// arn is the ARN of the entity named name at path in acct.
func (c class) arn(acct, path, name string) string {
	return arn.New("iam", "", acct, c.noun+path+name).String()
}

// load reads the user, group or role named name.
func (c class) load(tx *store.Tx, acct, name string) (holder, error) {
	h, ok, err := c.find(tx, acct, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.notFound(name)
	}
	return h, nil
}

// find is load reporting a missing entity as false.
func (c class) find(tx *store.Tx, acct, name string) (holder, bool, error) {
	k := key(acct, c.kind, name)
	switch c.kind {
	case kindUser:
		return getAs[userRecord](tx, k)
	case kindGroup:
		return getAs[groupRecord](tx, k)
	case kindRole:
		return getAs[roleRecord](tx, k)
	}
	panic(fmt.Sprintf("iam: no class %q", c.kind))
}

// getAs is store.Get of a record that is a holder through its pointer.
func getAs[R any, P interface {
	*R
	holder
}](tx *store.Tx, k store.Key) (holder, bool, error) {
	r, ok, err := store.Get[R](tx, k)
	if !ok || err != nil {
		return nil, ok, err
	}
	return P(r), true, nil
}

// save writes a user, group or role back.
func (c class) save(tx *store.Tx, acct string, h holder) error {
	return tx.Put(key(acct, c.kind, h.common().Name), h)
}

// loadUser, loadRole and loadGroup read one entity of their class.
func loadUser(tx *store.Tx, acct, name string) (*userRecord, error) {
	h, err := users.load(tx, acct, name)
	if err != nil {
		return nil, err
	}
	return h.(*userRecord), nil
}

func loadGroup(tx *store.Tx, acct, name string) (*groupRecord, error) {
	h, err := groups.load(tx, acct, name)
	if err != nil {
		return nil, err
	}
	return h.(*groupRecord), nil
}

func loadRole(tx *store.Tx, acct, name string) (*roleRecord, error) {
	h, err := roles.load(tx, acct, name)
	if err != nil {
		return nil, err
	}
	return h.(*roleRecord), nil
}

func loadProfile(tx *store.Tx, acct, name string) (*profileRecord, error) {
	p, ok, err := store.Get[profileRecord](tx, key(acct, kindProfile, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf("NoSuchEntity", "Instance Profile %s cannot be found.", name)
	}
	return p, nil
}

// unused returns taken if a record of kind is named name (in any case).
func unused(tx *store.Tx, acct, kind, name string, taken *api.Error) error {
	var v struct{}
	ok, err := tx.Get(key(acct, kind, name), &v)
	if err == nil && ok {
		return taken
	}
	return err
}
