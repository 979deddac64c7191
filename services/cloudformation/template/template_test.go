package template

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
)

// eval parses body and resolves the Value of its output Out.
func eval(t *testing.T, body string, params map[string]string) (any, error) {
	t.Helper()
	tpl, err := Parse(body)
	if err != nil {
		return nil, err
	}
	values, err := tpl.ParamValues(params, func(name string) (string, error) { return "ssm:" + name, nil })
	if err != nil {
		return nil, err
	}
	c := &Context{Region: "ap-northeast-2", Account: "123456789012", StackName: "bts-net",
		StackID: "arn:aws:cloudformation:ap-northeast-2:123456789012:stack/bts-net/1", Params: values,
		Ref: func(name string) (any, error) { return "id-" + name, nil },
		GetAtt: func(name, attr string) (any, error) {
			return name + "." + attr, nil
		},
		Import: func(name string) (string, error) { return "imported-" + name, nil },
		AZs: func(region string) ([]string, error) {
			return []string{region + "a", region + "b", region + "c"}, nil
		}}
	return tpl.Resolve(tpl.Outputs["Out"].Value, c)
}

const head = "Resources:\n  R:\n    Type: AWS::EC2::VPC\n"

func TestIntrinsics(t *testing.T) {
	cases := []struct {
		name, value string
		want        any
	}{
		{"ref pseudo", "!Ref AWS::Region", "ap-northeast-2"},
		{"ref resource", "!Ref R", "id-R"},
		{"partition", "!Ref AWS::Partition", "aws"},
		{"url suffix", "!Ref AWS::URLSuffix", "amazonaws.com"},
		{"getatt dotted", "!GetAtt R.CidrBlock", "R.CidrBlock"},
		{"getatt list", "!GetAtt [R, CidrBlock]", "R.CidrBlock"},
		{"getatt long", "{'Fn::GetAtt': [R, VpcId]}", "R.VpcId"},
		{"sub", "!Sub '${AWS::StackName}-VPC'", "bts-net-VPC"},
		{"sub resource and attribute", "!Sub '${R}/${R.CidrBlock}'", "id-R/R.CidrBlock"},
		{"sub literal", "!Sub 'a${!Literal}b'", "a${Literal}b"},
		{"sub map", "!Sub ['${Stack}-${X}', {X: !Ref R, Stack: s}]", "s-id-R"},
		{"join", "!Join ['-', [a, !Ref R, 3]]", "a-id-R-3"},
		{"select getazs", "!Select [2, !GetAZs '']", "ap-northeast-2c"},
		{"select getazs region", "!Select ['1', !GetAZs {Ref: 'AWS::Region'}]", "ap-northeast-2b"},
		{"split", "!Select [1, !Split [',', 'a,b,c']]", "b"},
		{"findinmap", "!FindInMap [RegionMap, !Ref 'AWS::Region', NAT]", "ami-1"},
		{"findinmap default", "!FindInMap [RegionMap, eu-west-9, NAT, {DefaultValue: ami-0}]", "ami-0"},
		{"base64", "!Base64 'hello'", base64.StdEncoding.EncodeToString([]byte("hello"))},
		{"cidr", "!Cidr ['10.0.0.0/16', 3, 8]", []any{"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"}},
		{"cidr small", "!Select [1, !Cidr ['192.168.0.0/24', 4, 6]]", "192.168.0.64/26"},
		{"importvalue", "!ImportValue bts-net-VPC", "imported-bts-net-VPC"},
		{"if true", "!If [IsSeoul, yes, no]", "yes"},
		{"if false", "!If [NotSeoul, yes, no]", "no"},
		{"if and or not", "!If [Complex, yes, no]", "yes"},
		{"length", "{'Fn::Length': [a, b, c]}", int64(3)},
		{"tojsonstring", "{'Fn::ToJsonString': {a: [1, b]}}", `{"a":[1,"b"]}`},
		{"list parameter", "!Join [',', !Ref Subnets]", "subnet-1,subnet-2"},
		{"ssm parameter", "!Ref Image", "ssm:/aws/service/ami"},
		{"novalue in list", "[a, !Ref 'AWS::NoValue', b]", []any{"a", "b"}},
		{"novalue if", "{k: !If [NotSeoul, x, !Ref 'AWS::NoValue'], j: 1}", map[string]any{"j": int64(1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := `Parameters:
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
    Default: subnet-1,subnet-2
  Image:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami
Mappings:
  RegionMap:
    ap-northeast-2: {NAT: ami-1}
Conditions:
  IsSeoul: !Equals [!Ref 'AWS::Region', ap-northeast-2]
  NotSeoul: !Not [!Condition IsSeoul]
  Complex: !And [!Condition IsSeoul, !Or [!Condition NotSeoul, !Equals [1, '1']]]
` + head + "Outputs:\n  Out:\n    Value: " + tc.value + "\n"
			got, err := eval(t, body, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	body := `{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"R": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}},
	"Outputs": {"Out": {"Value": {"Fn::Join": ["", ["x", {"Ref": "R"}, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]}}}}`
	got, err := eval(t, body, nil)
	if err != nil || got != "xid-Rap-northeast-2a" {
		t.Fatalf("%v %v", got, err)
	}
}

// TestErrors checks AWS's texts for templates it refuses.
func TestErrors(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"no resources", "Description: x\n", "Template format error: At least one Resources member must be defined."},
		{"no type", "Resources:\n  R:\n    Properties: {}\n", "Template format error: [/Resources/R] Every Resources object must contain a Type member."},
		{"bad section", head + "Output:\n  x: 1\n", "Template format error: Invalid template property or properties [Output]"},
		{"unresolved", head + "    Properties:\n      VpcId: !Ref Missing\n      X: !Sub '${Other}'\n",
			"Template format error: Unresolved resource dependencies [Missing, Other] in the Resources block of the template"},
		{"depends on missing", head + "    DependsOn: Ghost\n", "Template format error: Unresolved resource dependencies [Ghost] in the Resources block of the template"},
		{"getatt undefined", head + "    Properties:\n      X: !GetAtt Ghost.Arn\n", "Template error: instance of Fn::GetAtt references undefined resource Ghost"},
		{"circular", "Resources:\n  A:\n    Type: AWS::EC2::VPC\n    DependsOn: B\n  B:\n    Type: AWS::EC2::VPC\n    Properties:\n      X: !GetAtt A.Id\n  C:\n    Type: AWS::EC2::VPC\n    DependsOn: A\n",
			"Circular dependency between resources: [A, B, C]"},
		{"yaml", "Resources: [\n", "Template format error: YAML not well-formed."},
		{"json", "{\"Resources\": }", "Template format error: JSON not well-formed. (line 1, column 15)"},
		{"parameter type", "Parameters:\n  P:\n    Type: Strin\n" + head, "Template format error: Unrecognized parameter type: Strin"},
		{"bad attribute", head + "    Propertes: {}\n", "Template format error: [/Resources/R] Invalid template resource property 'Propertes'"},
		{"function", head + "Outputs:\n  Out:\n    Value: {'Fn::Nope': 1}\n", "Template format error: Encountered unsupported function: Fn::Nope"},
		{"select range", head + "Outputs:\n  Out:\n    Value: !Select [5, [a]]\n", "Template error: Fn::Select cannot select nonexistent value at index 5"},
		{"mapping", head + "Mappings:\n  M:\n    a: {b: c}\nOutputs:\n  Out:\n    Value: !FindInMap [M, x, b]\n", "Template error: Unable to get mapping for M::x::b"},
		{"sub variable", head + "Outputs:\n  Out:\n    Value: !Sub '${a b}'\n", "Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons"},
		{"condition on resource", head + "Conditions:\n  C: !Equals [!Ref R, x]\n", "Template format error: Unresolved dependencies [R]. Cannot reference resources in the Conditions block of the template"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eval(t, tc.body, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestParameters checks the constraints with AWS's messages.
func TestParameters(t *testing.T) {
	body := `Parameters:
  Env:
    Type: String
    AllowedValues: [dev, prod]
  Name:
    Type: String
    AllowedPattern: '[a-z]+'
    MinLength: 2
    MaxLength: 5
    Default: web
  Count:
    Type: Number
    MinValue: 1
    MaxValue: 9
    Default: 3
  Secret:
    Type: String
    NoEcho: true
    Default: x
    ConstraintDescription: must be lower case
    AllowedPattern: '[a-z]*'
` + head
	tpl, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if !tpl.Parameters["Secret"].NoEcho {
		t.Error("NoEcho")
	}
	cases := []struct {
		given map[string]string
		want  string
	}{
		{map[string]string{}, "Parameters: [Env] must have values"},
		{map[string]string{"Env": "qa"}, "Parameter 'Env' must be one of AllowedValues"},
		{map[string]string{"Env": "dev", "Name": "Web"}, "Parameter 'Name' must match pattern [a-z]+"},
		{map[string]string{"Env": "dev", "Name": "w"}, "Parameter 'Name' must contain at least 2 characters"},
		{map[string]string{"Env": "dev", "Name": "abcdef"}, "Parameter 'Name' must contain at most 5 characters"},
		{map[string]string{"Env": "dev", "Count": "10"}, "Parameter 'Count' must be a number not greater than 9"},
		{map[string]string{"Env": "dev", "Count": "x"}, "Parameter 'Count' must be a number."},
		{map[string]string{"Env": "dev", "Secret": "X"}, "Parameter Secret failed to satisfy constraint: must be lower case"},
		{map[string]string{"Env": "dev", "Other": "1"}, "Parameters: [Other] do not exist in the template"},
		{map[string]string{"Env": "prod"}, ""},
	}
	for _, tc := range cases {
		_, err := tpl.ParamValues(tc.given, nil)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.given, got, tc.want)
		}
	}
}

func TestOrder(t *testing.T) {
	tpl, err := Parse(`Resources:
  Route: {Type: AWS::EC2::Route, DependsOn: Attach, Properties: {RouteTableId: !Ref Table, GatewayId: !Ref Igw}}
  Attach: {Type: AWS::EC2::VPCGatewayAttachment, Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}}
  Table: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}
  Igw: {Type: AWS::EC2::InternetGateway}
  Vpc: {Type: AWS::EC2::VPC}
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tpl.Order(), " "); got != "Attach Igw Vpc Table Route" && !before(tpl.Order()) {
		t.Errorf("order %s", got)
	}
	if got := tpl.Resources["Route"].Deps; !reflect.DeepEqual(got, []string{"Attach", "Igw", "Table"}) {
		t.Errorf("deps %v", got)
	}
}

// before checks that every resource comes after its dependencies.
func before(order []string) bool {
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	deps := map[string][]string{"Route": {"Attach", "Table", "Igw"}, "Attach": {"Vpc", "Igw"}, "Table": {"Vpc"}}
	for n, ds := range deps {
		for _, d := range ds {
			if pos[d] > pos[n] {
				return false
			}
		}
	}
	return true
}
