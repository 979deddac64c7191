package template

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Parameter is one entry of Parameters.
type Parameter struct {
	Name                  string
	Type                  string
	Default               *string
	Description           string
	AllowedValues         []string
	AllowedPattern        string
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	NoEcho                bool
	ConstraintDescription string
}

// awsTypes are the AWS-specific parameter types (also inside List<>).
var awsTypes = map[string]bool{
	"AWS::EC2::AvailabilityZone::Name": true, "AWS::EC2::Image::Id": true, "AWS::EC2::Instance::Id": true,
	"AWS::EC2::KeyPair::KeyName": true, "AWS::EC2::SecurityGroup::GroupName": true, "AWS::EC2::SecurityGroup::Id": true,
	"AWS::EC2::Subnet::Id": true, "AWS::EC2::Volume::Id": true, "AWS::EC2::VPC::Id": true,
	"AWS::Route53::HostedZone::Id": true, "AWS::SSM::Parameter::Name": true,
}

// SSMType says whether typ is AWS::SSM::Parameter::Value<T>, and returns
// T.
func SSMType(typ string) (string, bool) {
	const p = "AWS::SSM::Parameter::Value<"
	if strings.HasPrefix(typ, p) && strings.HasSuffix(typ, ">") {
		return typ[len(p) : len(typ)-1], true
	}
	return "", false
}

// IsList says whether values of typ are lists.
func IsList(typ string) bool {
	if inner, ok := SSMType(typ); ok {
		typ = inner
	}
	return typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<")
}

func validType(typ string) bool {
	if inner, ok := SSMType(typ); ok {
		return inner == "String" || inner == "List<String>" || inner == "CommaDelimitedList" || validType(inner)
	}
	if strings.HasPrefix(typ, "List<") && strings.HasSuffix(typ, ">") {
		inner := typ[5 : len(typ)-1]
		return inner == "Number" || awsTypes[inner]
	}
	return typ == "String" || typ == "Number" || typ == "CommaDelimitedList" || awsTypes[typ]
}

func parseParameter(name string, v any) (*Parameter, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("Every Parameters object must contain a Type member.")
	}
	typ, ok := m["Type"].(string)
	if !ok {
		return nil, formatErr("Every Parameters object must contain a Type member.")
	}
	if !validType(typ) {
		return nil, formatErr("Unrecognized parameter type: %s", typ)
	}
	p := &Parameter{Name: name, Type: typ}
	if d, ok := m["Default"]; ok {
		var s string
		if l, ok := d.([]any); ok {
			parts := make([]string, len(l))
			for i, e := range l {
				parts[i], _ = scalarString(e)
			}
			s = strings.Join(parts, ",")
		} else if s, ok = scalarString(d); !ok {
			return nil, formatErr("Default member of parameter %s must be a string", name)
		}
		p.Default = &s
	}
	p.Description, _ = m["Description"].(string)
	p.ConstraintDescription, _ = m["ConstraintDescription"].(string)
	p.AllowedPattern, _ = m["AllowedPattern"].(string)
	if p.AllowedPattern != "" {
		if _, err := regexp.Compile(p.AllowedPattern); err != nil {
			return nil, formatErr("AllowedPattern of parameter %s is not a valid pattern", name)
		}
	}
	if av, ok := m["AllowedValues"].([]any); ok {
		for _, e := range av {
			s, _ := scalarString(e)
			p.AllowedValues = append(p.AllowedValues, s)
		}
	}
	if b, ok := m["NoEcho"]; ok {
		s, _ := scalarString(b)
		p.NoEcho = s == "true"
	}
	for key, dst := range map[string]**int{"MinLength": &p.MinLength, "MaxLength": &p.MaxLength} {
		if x, ok := m[key]; ok {
			s, _ := scalarString(x)
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, formatErr("%s of parameter %s must be an integer", key, name)
			}
			*dst = &n
		}
	}
	for key, dst := range map[string]**float64{"MinValue": &p.MinValue, "MaxValue": &p.MaxValue} {
		if x, ok := m[key]; ok {
			s, _ := scalarString(x)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, formatErr("%s of parameter %s must be a number", key, name)
			}
			*dst = &f
		}
	}
	return p, nil
}

// ParamValues resolves the parameters of a stack from the given values
// and the defaults, checking AWS's constraints. ssm reads an SSM
// parameter for the AWS::SSM::Parameter::Value types. The result holds a
// string or a []string per parameter.
func (t *Template) ParamValues(given map[string]string, ssm func(name string) (string, error)) (map[string]any, error) {
	var unknown, missing []string
	for n := range given {
		if _, ok := t.Parameters[n]; !ok {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, errorf("Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	names := make([]string, 0, len(t.Parameters))
	for n := range t.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, n := range names {
		p := t.Parameters[n]
		v, ok := given[n]
		if !ok {
			if p.Default == nil {
				missing = append(missing, n)
				continue
			}
			v = *p.Default
		}
		if err := p.check(v); err != nil {
			return nil, err
		}
		if _, ok := SSMType(p.Type); ok {
			if ssm == nil {
				return nil, errorf("Parameters: [%s] must have values", n)
			}
			got, err := ssm(v)
			if err != nil {
				return nil, err
			}
			v = got
		}
		if IsList(p.Type) {
			var l []string
			if v != "" {
				for _, s := range strings.Split(v, ",") {
					l = append(l, strings.TrimSpace(s))
				}
			}
			out[n] = l
		} else {
			out[n] = v
		}
	}
	if len(missing) > 0 {
		return nil, errorf("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	return out, nil
}

// check applies the parameter's constraints to v, with AWS's messages.
func (p *Parameter) check(v string) error {
	fail := func(reason string) error {
		if p.ConstraintDescription != "" {
			return errorf("Parameter %s failed to satisfy constraint: %s", p.Name, p.ConstraintDescription)
		}
		return errorf("%s", reason)
	}
	values := []string{v}
	if IsList(p.Type) {
		values = strings.Split(v, ",")
	}
	for _, x := range values {
		if len(p.AllowedValues) > 0 && !contains(p.AllowedValues, x) {
			return fail("Parameter '" + p.Name + "' must be one of AllowedValues")
		}
		if p.AllowedPattern != "" {
			re := regexp.MustCompile("^(?:" + p.AllowedPattern + ")$")
			if !re.MatchString(x) {
				return fail("Parameter '" + p.Name + "' must match pattern " + p.AllowedPattern)
			}
		}
		if p.MinLength != nil && len(x) < *p.MinLength {
			return fail("Parameter '" + p.Name + "' must contain at least " + strconv.Itoa(*p.MinLength) + " characters")
		}
		if p.MaxLength != nil && len(x) > *p.MaxLength {
			return fail("Parameter '" + p.Name + "' must contain at most " + strconv.Itoa(*p.MaxLength) + " characters")
		}
		if p.Type == "Number" || p.Type == "List<Number>" {
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return errorf("Parameter '%s' must be a number.", p.Name)
			}
			if p.MinValue != nil && f < *p.MinValue {
				return fail("Parameter '" + p.Name + "' must be a number not less than " + strconv.FormatFloat(*p.MinValue, 'f', -1, 64))
			}
			if p.MaxValue != nil && f > *p.MaxValue {
				return fail("Parameter '" + p.Name + "' must be a number not greater than " + strconv.FormatFloat(*p.MaxValue, 'f', -1, 64))
			}
		}
	}
	return nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
