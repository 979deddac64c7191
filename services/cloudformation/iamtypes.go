package cloudformation

import (
	"encoding/json"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
)

// IAM's resource types, made through IAM's API; a template with any of
// them needs CAPABILITY_IAM (CAPABILITY_NAMED_IAM when it names them).
func init() {
	register("AWS::IAM::Role", &provider{Create: createRole, Delete: deleteRole, Update: updateRole,
		Replace: []string{"RoleName", "Path"}, Capability: "CAPABILITY_IAM"})
	register("AWS::IAM::InstanceProfile", &provider{Create: createInstanceProfile, Delete: deleteInstanceProfile, Capability: "CAPABILITY_IAM"})
	register("AWS::IAM::Policy", &provider{Create: createInlinePolicy, Delete: deleteInlinePolicy, Capability: "CAPABILITY_IAM"})
	register("AWS::IAM::ManagedPolicy", &provider{Create: createManagedPolicy, Delete: deleteManagedPolicy, Capability: "CAPABILITY_IAM"})
}

// document is a policy document property: templates give JSON objects
// (or, rarely, a string).
func document(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	b, _ := json.Marshal(v)
	s := string(b)
	return &s
}

func iamTags(c *call, p props) []*iamapi.Tag {
	var out []*iamapi.Tag
	for _, t := range c.tags(p) {
		out = append(out, &iamapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	return out
}

// A role's Ref is its name; Arn and RoleId are its attributes.
func createRole(c *call, p props) (*state, error) {
	name := p.str("RoleName")
	if name == "" {
		name = c.physicalName(64, false)
	}
	out, err := c.invoke("iam", "CreateRole", &iamapi.CreateRoleRequest{RoleName: &name, AssumeRolePolicyDocument: document(p["AssumeRolePolicyDocument"]),
		Path: p.strp("Path"), Description: p.strp("Description"), MaxSessionDuration: p.int64p("MaxSessionDuration"),
		PermissionsBoundary: p.strp("PermissionsBoundary"), Tags: iamTags(c, p)})
	if err != nil {
		return nil, err
	}
	role := out.(*iamapi.CreateRoleResponse).Role
	st := &state{Physical: name, Attrs: map[string]any{"Arn": deref(role.Arn), "RoleId": deref(role.RoleId)}}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "PutRolePolicy", &iamapi.PutRolePolicyRequest{RoleName: &name, PolicyName: pol.strp("PolicyName"),
			PolicyDocument: document(pol["PolicyDocument"])}); err != nil {
			return st, err
		}
	}
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "AttachRolePolicy", &iamapi.AttachRolePolicyRequest{RoleName: &name, PolicyArn: arn}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteRole(c *call, s *state, p props) error {
	name := s.Physical
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "DetachRolePolicy", &iamapi.DetachRolePolicyRequest{RoleName: &name, PolicyArn: arn}); err != nil && !gone(err) {
			return err
		}
	}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "DeleteRolePolicy", &iamapi.DeleteRolePolicyRequest{RoleName: &name, PolicyName: pol.strp("PolicyName")}); err != nil && !gone(err) {
			return err
		}
	}
	_, err := c.invoke("iam", "DeleteRole", &iamapi.DeleteRoleRequest{RoleName: &name})
	return err
}

// An instance profile's Ref is its name.
func createInstanceProfile(c *call, p props) (*state, error) {
	name := p.str("InstanceProfileName")
	if name == "" {
		name = c.physicalName(128, false)
	}
	out, err := c.invoke("iam", "CreateInstanceProfile", &iamapi.CreateInstanceProfileRequest{InstanceProfileName: &name, Path: p.strp("Path")})
	if err != nil {
		return nil, err
	}
	prof := out.(*iamapi.CreateInstanceProfileResponse).InstanceProfile
	st := &state{Physical: name, Attrs: map[string]any{"Arn": deref(prof.Arn)}}
	for _, role := range p.strs("Roles") {
		if _, err := c.invoke("iam", "AddRoleToInstanceProfile", &iamapi.AddRoleToInstanceProfileRequest{InstanceProfileName: &name, RoleName: role}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteInstanceProfile(c *call, s *state, p props) error {
	for _, role := range p.strs("Roles") {
		if _, err := c.invoke("iam", "RemoveRoleFromInstanceProfile", &iamapi.RemoveRoleFromInstanceProfileRequest{InstanceProfileName: &s.Physical, RoleName: role}); err != nil && !gone(err) {
			return err
		}
	}
	_, err := c.invoke("iam", "DeleteInstanceProfile", &iamapi.DeleteInstanceProfileRequest{InstanceProfileName: &s.Physical})
	return err
}

// An inline policy is put on each of its roles, users and groups; its
// physical id is one CloudFormation makes up.
func createInlinePolicy(c *call, p props) (*state, error) {
	st := &state{Physical: c.physicalName(128, false)}
	doc, name := document(p["PolicyDocument"]), p.strp("PolicyName")
	for _, r := range p.strs("Roles") {
		if _, err := c.invoke("iam", "PutRolePolicy", &iamapi.PutRolePolicyRequest{RoleName: r, PolicyName: name, PolicyDocument: doc}); err != nil {
			return st, err
		}
	}
	for _, u := range p.strs("Users") {
		if _, err := c.invoke("iam", "PutUserPolicy", &iamapi.PutUserPolicyRequest{UserName: u, PolicyName: name, PolicyDocument: doc}); err != nil {
			return st, err
		}
	}
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "PutGroupPolicy", &iamapi.PutGroupPolicyRequest{GroupName: g, PolicyName: name, PolicyDocument: doc}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteInlinePolicy(c *call, _ *state, p props) error {
	name := p.strp("PolicyName")
	for _, r := range p.strs("Roles") {
		if _, err := c.invoke("iam", "DeleteRolePolicy", &iamapi.DeleteRolePolicyRequest{RoleName: r, PolicyName: name}); err != nil && !gone(err) {
			return err
		}
	}
	for _, u := range p.strs("Users") {
		if _, err := c.invoke("iam", "DeleteUserPolicy", &iamapi.DeleteUserPolicyRequest{UserName: u, PolicyName: name}); err != nil && !gone(err) {
			return err
		}
	}
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "DeleteGroupPolicy", &iamapi.DeleteGroupPolicyRequest{GroupName: g, PolicyName: name}); err != nil && !gone(err) {
			return err
		}
	}
	return nil
}

// A managed policy's Ref is its ARN.
func createManagedPolicy(c *call, p props) (*state, error) {
	name := p.str("ManagedPolicyName")
	if name == "" {
		name = c.physicalName(128, false)
	}
	out, err := c.invoke("iam", "CreatePolicy", &iamapi.CreatePolicyRequest{PolicyName: &name, Path: p.strp("Path"),
		Description: p.strp("Description"), PolicyDocument: document(p["PolicyDocument"])})
	if err != nil {
		return nil, err
	}
	pol := out.(*iamapi.CreatePolicyResponse).Policy
	arn := deref(pol.Arn)
	st := &state{Physical: arn, Attrs: map[string]any{"PolicyArn": arn, "PolicyId": deref(pol.PolicyId)}}
	for _, r := range p.strs("Roles") {
		if _, err := c.invoke("iam", "AttachRolePolicy", &iamapi.AttachRolePolicyRequest{RoleName: r, PolicyArn: &arn}); err != nil {
			return st, err
		}
	}
	for _, u := range p.strs("Users") {
		if _, err := c.invoke("iam", "AttachUserPolicy", &iamapi.AttachUserPolicyRequest{UserName: u, PolicyArn: &arn}); err != nil {
			return st, err
		}
	}
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "AttachGroupPolicy", &iamapi.AttachGroupPolicyRequest{GroupName: g, PolicyArn: &arn}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteManagedPolicy(c *call, s *state, p props) error {
	arn := s.Physical
	for _, r := range p.strs("Roles") {
		if _, err := c.invoke("iam", "DetachRolePolicy", &iamapi.DetachRolePolicyRequest{RoleName: r, PolicyArn: &arn}); err != nil && !gone(err) {
			return err
		}
	}
	for _, u := range p.strs("Users") {
		if _, err := c.invoke("iam", "DetachUserPolicy", &iamapi.DetachUserPolicyRequest{UserName: u, PolicyArn: &arn}); err != nil && !gone(err) {
			return err
		}
	}
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "DetachGroupPolicy", &iamapi.DetachGroupPolicyRequest{GroupName: g, PolicyArn: &arn}); err != nil && !gone(err) {
			return err
		}
	}
	_, err := c.invoke("iam", "DeletePolicy", &iamapi.DeletePolicyRequest{PolicyArn: &arn})
	return err
}
