package cloudformation

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
)

// Nested stacks: an AWS::CloudFormation::Stack is a stack of its own,
// made through this service's API from a template in S3. Its Ref is the
// child's id; Outputs.<Key> reads the child's outputs.
func init() {
	register("AWS::CloudFormation::Stack", &provider{Create: createNested, Update: updateNested, Delete: deleteNested})
}

func nestedParams(p props) []*cfnapi.Parameter {
	m := p.sub("Parameters")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*cfnapi.Parameter
	for _, k := range keys {
		v := m.str(k)
		if l := m.list(k); l != nil {
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i] = template.String(e)
			}
			v = strings.Join(parts, ",")
		}
		out = append(out, &cfnapi.Parameter{ParameterKey: str(k), ParameterValue: str(v)})
	}
	return out
}

// nestedCaps lets a child make what its parent could: the parent's own
// check covered the template it was given, not the child's.
var nestedCaps = []*string{str("CAPABILITY_IAM"), str("CAPABILITY_NAMED_IAM")}

func createNested(c *call, p props) (*state, error) {
	in := &cfnapi.CreateStackInput{StackName: str(c.physicalName(128, false)), TemplateURL: p.strp("TemplateURL"),
		Parameters: nestedParams(p), Capabilities: nestedCaps, TimeoutInMinutes: p.int64p("TimeoutInMinutes")}
	for _, t := range c.tags(p) {
		in.Tags = append(in.Tags, &cfnapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	out, err := c.invoke("cloudformation", "CreateStack", in)
	if err != nil {
		return nil, err
	}
	id := deref(out.(*cfnapi.CreateStackOutput).StackId)
	st := &state{Physical: id}
	attrs, err := waitNested(c, id, "CREATE_COMPLETE", "created")
	st.Attrs = attrs
	return st, err
}

func updateNested(c *call, s *state, _, new props) (*state, error) {
	_, err := c.invoke("cloudformation", "UpdateStack", &cfnapi.UpdateStackInput{StackName: &s.Physical, TemplateURL: new.strp("TemplateURL"),
		Parameters: nestedParams(new), Capabilities: nestedCaps})
	var e *api.Error
	if errors.As(err, &e) && e.Message == "No updates are to be performed." {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	attrs, err := waitNested(c, s.Physical, "UPDATE_COMPLETE", "updated")
	return &state{Physical: s.Physical, Attrs: attrs}, err
}

func deleteNested(c *call, s *state, _ props) error {
	if _, err := c.invoke("cloudformation", "DeleteStack", &cfnapi.DeleteStackInput{StackName: &s.Physical}); err != nil {
		return err
	}
	_, err := waitNested(c, s.Physical, "DELETE_COMPLETE", "deleted")
	return err
}

// waitNested waits for the child to settle and returns its outputs as
// attributes; any other end is the parent resource's failure, with the
// child's reason.
func waitNested(c *call, id, want, verb string) (map[string]any, error) {
	var child *cfnapi.Stack
	err := c.wait("nested stack", func() (bool, error) {
		out, err := c.invoke("cloudformation", "DescribeStacks", &cfnapi.DescribeStacksInput{StackName: &id})
		if err != nil {
			return false, err
		}
		child = out.(*cfnapi.DescribeStacksOutput).Stacks[0]
		status := deref(child.StackStatus)
		switch {
		case status == want:
			return true, nil
		case strings.HasSuffix(status, "_IN_PROGRESS"):
			return false, nil
		}
		return false, fmt.Errorf("Embedded stack %s was not successfully %s: %s", id, verb, deref(child.StackStatusReason))
	})
	if err != nil {
		return nil, err
	}
	attrs := map[string]any{}
	for _, o := range child.Outputs {
		attrs["Outputs."+deref(o.OutputKey)] = deref(o.OutputValue)
	}
	return attrs, nil
}
