package arn

import "testing"

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		a    ARN
		want string
	}{
		{New("iam", "", "123456789012", "role/web"), "arn:aws:iam::123456789012:role/web"},
		{New("ec2", "cn-north-1", "123456789012", "vpc/vpc-1"), "arn:aws-cn:ec2:cn-north-1:123456789012:vpc/vpc-1"},
		{New("sts", "", "000000000000", "assumed-role/r/s"), "arn:aws:sts::000000000000:assumed-role/r/s"},
	} {
		if got := tc.a.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		back, err := Parse(tc.want)
		if err != nil || back != tc.a {
			t.Errorf("Parse(%q) = %+v, %v", tc.want, back, err)
		}
	}
	for _, bad := range []string{"", "arn:aws", "foo:aws:iam::1:x", "arn::iam::1:x"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}
