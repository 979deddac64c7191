package route53_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// PublicRecords (what ACM's DNS validation asks) sees public zones only,
// by exact name and type, case-insensitively.
func TestPublicRecords(t *testing.T) {
	c := newCloud(t)
	cname := func(zone, name, value string) {
		t.Helper()
		must[*r53.ChangeResourceRecordSetsOutput](t)(c.r53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{Action: types.ChangeActionCreate,
				ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeCname, TTL: aws.Int64(300),
					ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}}}}}},
		}))
	}
	cname(c.zone(t, "example.com"), "_abc.www.example.com", "_def.acm-validations.aws.")
	cname(c.privateZone(t, "internal.example", vpc(t, c.ec2)), "_x.internal.example", "_y.acm-validations.aws.")
	if got := c.svc.PublicRecords("_ABC.www.example.com.", "CNAME"); !slices.Equal(got, []string{"_def.acm-validations.aws."}) {
		t.Errorf("the public record: %q", got)
	}
	for _, q := range [][2]string{{"_abc.www.example.com", "TXT"}, {"_x.internal.example", "CNAME"}, {"www.example.com", "CNAME"}} {
		if got := c.svc.PublicRecords(q[0], q[1]); len(got) != 0 {
			t.Errorf("%s %s: %q, want nothing", q[0], q[1], got)
		}
	}
}
