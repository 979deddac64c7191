package cloudformation

import (
	"sort"

	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
)

// SSM's parameters, made through SSM's API.
func init() {
	register("AWS::SSM::Parameter", &provider{Create: createParameter, Update: updateParameter, Read: readParameter,
		Delete: func(c *call, s *state, _ props) error {
			_, err := c.invoke("ssm", "DeleteParameter", &ssmapi.DeleteParameterRequest{Name: &s.Physical})
			return err
		}, Replace: []string{"Name"}})
}

// A parameter's Ref is its name ("CFN-<logical>-<random>" when the
// template gives none); Type and Value are its attributes.
func createParameter(c *call, p props) (*state, error) {
	name := p.str("Name")
	if name == "" {
		c2 := *c
		c2.stackName = "CFN"
		name = c2.physicalName(128, false)
	}
	return putParameter(c, name, p, false)
}

func updateParameter(c *call, s *state, _, new props) (*state, error) {
	return putParameter(c, s.Physical, new, true)
}

func putParameter(c *call, name string, p props, overwrite bool) (*state, error) {
	in := &ssmapi.PutParameterRequest{Name: &name, Type: p.strp("Type"), Value: p.strp("Value"), Description: p.strp("Description"),
		AllowedPattern: p.strp("AllowedPattern"), Tier: p.strp("Tier"), DataType: p.strp("DataType"), Policies: p.strp("Policies")}
	if overwrite {
		in.Overwrite = &overwrite
	} else {
		// SSM::Parameter's Tags are a map, not a list.
		tags := p.sub("Tags")
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			in.Tags = append(in.Tags, &ssmapi.Tag{Key: str(k), Value: tags.strp(k)})
		}
	}
	if _, err := c.invoke("ssm", "PutParameter", in); err != nil {
		return nil, err
	}
	return &state{Physical: name, Attrs: map[string]any{"Type": p.str("Type"), "Value": p.str("Value")}}, nil
}
