package template

import "testing"

// FuzzParse feeds templates to the parser and the evaluator: any input
// is a template or an error, never a panic or a hang.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Resources:\n  R:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !Select [0, !Cidr [10.0.0.0/16, 2, 8]]\nOutputs:\n  O:\n    Value: !Sub '${R}-${AWS::Region}'\n",
		`{"Resources": {"R": {"Type": "T", "DependsOn": ["R"]}}}`,
		"Parameters:\n  P: {Type: 'List<Number>', Default: '1,2', MinValue: 0}\nConditions:\n  C: !Equals [!Ref P, x]\nResources:\n  R: {Type: T, Condition: C}\n",
		"a: &x [*x]\n",
		"Resources:\n  R:\n    Type: T\n    Properties:\n      A: !If [C, !GetAtt [R2, !Ref P], !Join ['', !Split [',', !FindInMap [M, a, b]]]]\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		tpl, err := Parse(body)
		if err != nil {
			return
		}
		values, err := tpl.ParamValues(nil, func(string) (string, error) { return "v", nil })
		if err != nil {
			values = map[string]any{}
		}
		c := &Context{Region: "us-east-1", Params: values,
			Ref:    func(string) (any, error) { return "id", nil },
			GetAtt: func(string, string) (any, error) { return "attr", nil }}
		for _, r := range tpl.Resources {
			_, _ = tpl.Resolve(r.Properties, c)
		}
		for _, o := range tpl.Outputs {
			_, _ = tpl.Resolve(o.Value, c)
		}
		_ = tpl.Order()
	})
}
