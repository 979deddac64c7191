package route53_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func vpcOf(id, reg string) *types.VPC {
	return &types.VPC{VPCId: aws.String(id), VPCRegion: types.VPCRegion(reg)}
}

// TestPrivateZones: a private zone in a VPC EC2 knows, its VPCs,
// associations and their errors, and the zones of a VPC.
func TestPrivateZones(t *testing.T) {
	c := newCloud(t)
	v1, v2 := vpc(t, c.ec2), vpc(t, c.ec2)
	west := vpc(t, c.ec2Client(account, "eu-west-1"))

	out := must[*r53.CreateHostedZoneOutput](t)(c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String("vprofile.in"), CallerReference: aws.String("x"),
		VPC: vpcOf(v1, region), HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
	}))
	id := bare(*out.HostedZone.Id)
	if !out.HostedZone.Config.PrivateZone || aws.ToString(out.VPC.VPCId) != v1 || out.VPC.VPCRegion != region ||
		fmt.Sprint(out.DelegationSet.NameServers) != "[ns-1536.awsdns-00.co.uk ns-0.awsdns-00.com ns-1024.awsdns-00.org ns-512.awsdns-00.net]" {
		t.Errorf("private zone: %+v %+v %+v", out.HostedZone.Config, out.VPC, out.DelegationSet)
	}
	if sets := c.sets(t, id); *sets[1].ResourceRecords[0].Value != "ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400" {
		t.Errorf("private SOA %q", *sets[1].ResourceRecords[0].Value)
	}
	vpcs := func() string {
		got := must[*r53.GetHostedZoneOutput](t)(c.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)}))
		if got.DelegationSet != nil {
			t.Errorf("a private zone shows a delegation set: %+v", got.DelegationSet)
		}
		var s []string
		for _, v := range got.VPCs {
			s = append(s, aws.ToString(v.VPCId)+"@"+string(v.VPCRegion))
		}
		return fmt.Sprint(s)
	}
	if got := vpcs(); got != fmt.Sprintf("[%s@%s]", v1, region) {
		t.Errorf("VPCs %s", got)
	}

	pub := c.zone(t, "example.com")
	assoc := func(zone string, v *types.VPC) error {
		_, err := c.r53.AssociateVPCWithHostedZone(ctx, &r53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(zone), VPC: v, Comment: aws.String("join")})
		return err
	}
	disassoc := func(zone string, v *types.VPC) error {
		_, err := c.r53.DisassociateVPCFromHostedZone(ctx, &r53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(zone), VPC: v})
		return err
	}
	create := func(name, ref string, v *types.VPC) error {
		_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(ref), VPC: v})
		return err
	}
	invalidVPC := func(v string) string {
		return fmt.Sprintf("The VPC ID '%s' that you specified either isn't a valid ID or the current account is not authorized to access this VPC.", v)
	}
	for _, tc := range []struct {
		name   string
		err    error
		code   string
		status int
		msg    string
	}{
		{"create in unknown VPC", create("a.in", "a", vpcOf("vpc-0123456789abcdef0", region)), "InvalidVPCId", 400, invalidVPC("vpc-0123456789abcdef0")},
		{"create in a VPC of another region", create("b.in", "b", vpcOf(v1, "eu-west-1")), "InvalidVPCId", 400, invalidVPC(v1)},
		{"create without region", create("c.in", "c", &types.VPC{VPCId: aws.String(v1)}), "InvalidInput", 400, "Both VPCId and VPCRegion must be specified."},
		{"create a second zone of the name in the VPC", create("vprofile.in", "d", vpcOf(v1, region)), "ConflictingDomainExists", 400,
			fmt.Sprintf("The VPC %s in %s is already associated with another hosted zone (%s) with the same name: vprofile.in.", v1, region, id)},
		{"associate a public zone", assoc(pub, vpcOf(v1, region)), "PublicZoneVPCAssociation", 400, fmt.Sprintf("Attempting to associate public zone: %s with vpc: %s", pub, v1)},
		{"associate again", assoc(id, vpcOf(v1, region)), "ConflictingDomainExists", 400, fmt.Sprintf("The VPC %s in %s is already associated with the hosted zone %s with the same domain name.", v1, region, id)},
		{"associate unknown VPC", assoc(id, vpcOf("vpc-00000000", region)), "InvalidVPCId", 400, invalidVPC("vpc-00000000")},
		{"associate with unknown zone", assoc("ZNOPE", vpcOf(v2, region)), "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"disassociate a VPC not associated", disassoc(id, vpcOf(v2, region)), "VPCAssociationNotFound", 404, "The specified VPC and hosted zone are not currently associated."},
		{"disassociate the last VPC", disassoc(id, vpcOf(v1, region)), "LastVPCAssociation", 400,
			"The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.code, tc.status, tc.msg) })
	}

	// The same name in another VPC is another zone.
	other := c.privateZone(t, "vprofile.in", v2)
	// Which cannot join the first zone's VPC.
	wantErr(t, assoc(other, vpcOf(v1, region)), "ConflictingDomainExists", 400,
		fmt.Sprintf("The VPC %s in %s is already associated with another hosted zone (%s) with the same name: vprofile.in.", v1, region, id))

	a := must[*r53.AssociateVPCWithHostedZoneOutput](t)(c.r53.AssociateVPCWithHostedZone(ctx, &r53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: vpcOf(west, "eu-west-1"), Comment: aws.String("west")}))
	if a.ChangeInfo.Status != types.ChangeStatusPending || aws.ToString(a.ChangeInfo.Comment) != "west" {
		t.Errorf("associate: %+v", a.ChangeInfo)
	}
	if got := vpcs(); got != fmt.Sprintf("[%s@%s %s@eu-west-1]", v1, region, west) {
		t.Errorf("VPCs after associating: %s", got)
	}
	byVPC := func(v, reg string) string {
		out := must[*r53.ListHostedZonesByVPCOutput](t)(c.r53.ListHostedZonesByVPC(ctx, &r53.ListHostedZonesByVPCInput{VPCId: aws.String(v), VPCRegion: types.VPCRegion(reg)}))
		var s []string
		for _, z := range out.HostedZoneSummaries {
			s = append(s, aws.ToString(z.Name)+"/"+aws.ToString(z.HostedZoneId)+"/"+aws.ToString(z.Owner.OwningAccount))
		}
		return fmt.Sprint(s)
	}
	if got := byVPC(west, "eu-west-1"); got != fmt.Sprintf("[vprofile.in./%s/%s]", id, account) {
		t.Errorf("zones of %s: %s", west, got)
	}
	if got := byVPC(v2, region); got != fmt.Sprintf("[vprofile.in./%s/%s]", other, account) {
		t.Errorf("zones of %s: %s", v2, got)
	}
	// The region is part of the VPC's identity.
	if got := byVPC(west, region); got != "[]" {
		t.Errorf("zones of %s in the wrong region: %s", west, got)
	}

	must[*r53.DisassociateVPCFromHostedZoneOutput](t)(c.r53.DisassociateVPCFromHostedZone(ctx, &r53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id), VPC: vpcOf(v1, region)}))
	if got := vpcs(); got != fmt.Sprintf("[%s@eu-west-1]", west) {
		t.Errorf("VPCs after disassociating: %s", got)
	}
	// Now the first VPC is free for the other zone of that name.
	if err := assoc(other, vpcOf(v1, region)); err != nil {
		t.Fatal(err)
	}
	if got := byVPC(v1, region); got != fmt.Sprintf("[vprofile.in./%s/%s]", other, account) {
		t.Errorf("zones of %s: %s", v1, got)
	}
}

// TestCrossAccountAssociation: another account's VPC joins a private zone
// once the zone's owner authorized it, and leaves it again.
func TestCrossAccountAssociation(t *testing.T) {
	c := newCloud(t)
	const peer = "222222222222"
	owner, guest := c.r53, c.route53(peer)
	id := c.privateZone(t, "shared.internal", vpc(t, c.ec2))
	theirs := vpc(t, c.ec2Client(peer, region))
	v := vpcOf(theirs, region)

	_, err := guest.AssociateVPCWithHostedZone(ctx, &r53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: v})
	wantErr(t, err, "NotAuthorizedException", 401, fmt.Sprintf("The VPC %s in %s is not authorized to be associated with the hosted zone %s.", theirs, region, id))
	// The guest does not see the zone otherwise.
	_, err = guest.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: "+id)
	_, err = guest.CreateVPCAssociationAuthorization(ctx, &r53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: v})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: "+id)

	auth := must[*r53.CreateVPCAssociationAuthorizationOutput](t)(owner.CreateVPCAssociationAuthorization(ctx, &r53.CreateVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: v}))
	if aws.ToString(auth.HostedZoneId) != id || aws.ToString(auth.VPC.VPCId) != theirs {
		t.Errorf("authorization: %+v %+v", auth, auth.VPC)
	}
	list := must[*r53.ListVPCAssociationAuthorizationsOutput](t)(owner.ListVPCAssociationAuthorizations(ctx, &r53.ListVPCAssociationAuthorizationsInput{HostedZoneId: aws.String(id)}))
	if aws.ToString(list.HostedZoneId) != id || len(list.VPCs) != 1 || aws.ToString(list.VPCs[0].VPCId) != theirs || list.NextToken != nil {
		t.Errorf("authorizations: %+v", list)
	}

	must[*r53.AssociateVPCWithHostedZoneOutput](t)(guest.AssociateVPCWithHostedZone(ctx, &r53.AssociateVPCWithHostedZoneInput{HostedZoneId: aws.String(id), VPC: v}))
	zs := must[*r53.ListHostedZonesByVPCOutput](t)(guest.ListHostedZonesByVPC(ctx, &r53.ListHostedZonesByVPCInput{VPCId: aws.String(theirs), VPCRegion: region}))
	if len(zs.HostedZoneSummaries) != 1 || aws.ToString(zs.HostedZoneSummaries[0].Owner.OwningAccount) != account || aws.ToString(zs.HostedZoneSummaries[0].HostedZoneId) != id {
		t.Errorf("guest's zones: %+v", zs.HostedZoneSummaries)
	}
	got := must[*r53.GetHostedZoneOutput](t)(owner.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)}))
	if len(got.VPCs) != 2 || aws.ToString(got.VPCs[1].VPCId) != theirs {
		t.Errorf("zone's VPCs: %+v", got.VPCs)
	}

	must[*r53.DeleteVPCAssociationAuthorizationOutput](t)(owner.DeleteVPCAssociationAuthorization(ctx, &r53.DeleteVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: v}))
	_, err = owner.DeleteVPCAssociationAuthorization(ctx, &r53.DeleteVPCAssociationAuthorizationInput{HostedZoneId: aws.String(id), VPC: v})
	wantErr(t, err, "VPCAssociationAuthorizationNotFound", 404, fmt.Sprintf("The VPC %s in %s is not authorized to be associated with the hosted zone %s.", theirs, region, id))
	// The association outlives its authorization; the guest can still
	// take its own VPC away.
	must[*r53.DisassociateVPCFromHostedZoneOutput](t)(guest.DisassociateVPCFromHostedZone(ctx, &r53.DisassociateVPCFromHostedZoneInput{HostedZoneId: aws.String(id), VPC: v}))
	got = must[*r53.GetHostedZoneOutput](t)(owner.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)}))
	if len(got.VPCs) != 1 {
		t.Errorf("zone's VPCs after the guest left: %+v", got.VPCs)
	}
}
