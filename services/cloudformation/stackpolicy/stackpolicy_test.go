package stackpolicy

import "testing"

func TestParseInvalid(t *testing.T) {
	for _, body := range []string{
		"abc", "[]", "null", `{"Statement":"x"}`, `{"Other":[]}`,
		`{"Statement":[{"Effect":"Deny","Action":"Update:*","Principal":"someone","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"Delete:*","Principal":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Maybe","Action":"Update:*","Principal":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"Update:*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"arn:aws:s3:::b"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*","Condition":{"StringEquals":{"Tag":"x"}}}]}`,
	} {
		if _, err := Parse(body); err != ErrInvalid {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestCheck(t *testing.T) {
	p, err := Parse(`{"Statement":[
		{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},
		{"Effect":"Deny","Action":["Update:Replace","Update:Delete"],"Principal":"*","Resource":"LogicalResourceId/Prod*"},
		{"Effect":"Deny","Action":"Update:*","Principal":"*","Resource":"*","Condition":{"StringLike":{"ResourceType":["AWS::RDS::*"]}}}]}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action, logical, typ string
		ok                   bool
		reason               string
	}{
		{Modify, "ProdDB", "AWS::EC2::VPC", true, ""},
		{Replace, "ProdDB", "AWS::EC2::VPC", false, "Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource [LogicalResourceId/ProdDB]"},
		{Modify, "Db", "AWS::RDS::DBInstance", false, "Action denied by stack policy: Statement [#3] does not allow [Update:Modify] for resource [LogicalResourceId/Db]"},
		{Delete, "Other", "AWS::S3::Bucket", true, ""},
	} {
		ok, reason := p.Check(c.action, c.logical, c.typ)
		if ok != c.ok || reason != c.reason {
			t.Errorf("%v: %v %q", c, ok, reason)
		}
	}
	p, _ = Parse(`{"Statement":[{"Effect":"Allow","Action":"Update:Modify","Principal":"*","NotResource":"LogicalResourceId/Keep"}]}`)
	if ok, _ := p.Check(Modify, "Other", "T"); !ok {
		t.Error("NotResource should allow Other")
	}
	if ok, reason := p.Check(Modify, "Keep", "T"); ok || reason != "Action denied by stack policy: No statement allows [Update:Modify] for resource [LogicalResourceId/Keep]" {
		t.Errorf("Keep: %q", reason)
	}
	empty, err := Parse("{}")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := empty.Check(Delete, "X", "T"); ok {
		t.Error("an empty policy allows nothing")
	}
}

// FuzzParse: any policy body parses or is ErrInvalid, and checking an
// action against a parsed one never panics.
func FuzzParse(f *testing.F) {
	f.Add(`{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}`, "Db")
	f.Add(`{"Statement":[{"Effect":"Deny","NotAction":["Update:Modify"],"Principal":"*","NotResource":"LogicalResourceId/A*?","Condition":{"StringLike":{"ResourceType":"AWS::*"}}}]}`, "Ab")
	f.Add(`{}`, "")
	f.Fuzz(func(t *testing.T, body, logical string) {
		p, err := Parse(body)
		if err != nil {
			if err != ErrInvalid {
				t.Fatalf("error %v", err)
			}
			return
		}
		for _, a := range []string{Modify, Replace, Delete} {
			if ok, reason := p.Check(a, logical, "AWS::S3::Bucket"); ok == (reason != "") {
				t.Fatalf("%v with reason %q", ok, reason)
			}
		}
	})
}
