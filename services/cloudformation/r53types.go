package cloudformation

import (
	"fmt"
	"strings"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/uuid"
)

// Route 53's and CloudWatch's resource types, made through their APIs.
func init() {
	register("AWS::Route53::HostedZone", &provider{Create: createZone, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("route53", "DeleteHostedZone", &r53api.DeleteHostedZoneRequest{Id: &s.Physical})
		return err
	}})
	register("AWS::Route53::RecordSet", &provider{Create: func(c *call, p props) (*state, error) {
		return changeRecord(c, p, "CREATE")
	}, Delete: func(c *call, _ *state, p props) error {
		_, err := changeRecord(c, p, "DELETE")
		return err
	}, Update: func(c *call, s *state, _, new props) (*state, error) {
		return changeRecord(c, new, "UPSERT")
	}, Replace: []string{"Name", "Type", "HostedZoneId", "HostedZoneName", "SetIdentifier"}})
	register("AWS::CloudWatch::Alarm", &provider{Create: putAlarm, Update: func(c *call, s *state, _, new props) (*state, error) {
		named := props{"AlarmName": s.Physical}
		for k, v := range new {
			named[k] = v
		}
		return putAlarm(c, named)
	}, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("cloudwatch", "DeleteAlarms", &cwapi.DeleteAlarmsInput{AlarmNames: []*string{&s.Physical}})
		return err
	}, Replace: []string{"AlarmName"}})
}

// A hosted zone's Ref is its id (without "/hostedzone/").
func createZone(c *call, p props) (*state, error) {
	in := &r53api.CreateHostedZoneRequest{Name: p.strp("Name"), CallerReference: str(uuid.New())}
	if cfg := p.sub("HostedZoneConfig"); cfg != nil {
		in.HostedZoneConfig = &r53api.HostedZoneConfig{Comment: cfg.strp("Comment")}
	}
	vpcs := p.maps("VPCs")
	if len(vpcs) > 0 {
		in.VPC = &r53api.VPC{VPCId: vpcs[0].strp("VPCId"), VPCRegion: vpcs[0].strp("VPCRegion")}
	}
	out, err := c.invoke("route53", "CreateHostedZone", in)
	if err != nil {
		return nil, err
	}
	res := out.(*r53api.CreateHostedZoneResponse)
	id := strings.TrimPrefix(deref(res.HostedZone.Id), "/hostedzone/")
	var ns []any
	if res.DelegationSet != nil {
		for _, n := range res.DelegationSet.NameServers {
			ns = append(ns, deref(n))
		}
	}
	st := &state{Physical: id, Attrs: map[string]any{"Id": id, "NameServers": ns}}
	for _, v := range vpcs[min(1, len(vpcs)):] {
		if _, err := c.invoke("route53", "AssociateVPCWithHostedZone", &r53api.AssociateVPCWithHostedZoneRequest{HostedZoneId: &id,
			VPC: &r53api.VPC{VPCId: v.strp("VPCId"), VPCRegion: v.strp("VPCRegion")}}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// changeRecord applies one change of a record set; its physical id (and
// Ref) is the record's name.
func changeRecord(c *call, p props, action string) (*state, error) {
	zone := strings.TrimPrefix(p.str("HostedZoneId"), "/hostedzone/")
	if zone == "" {
		name := p.str("HostedZoneName")
		out, err := c.invoke("route53", "ListHostedZonesByName", &r53api.ListHostedZonesByNameRequest{DNSName: &name})
		if err != nil {
			return nil, err
		}
		for _, z := range out.(*r53api.ListHostedZonesByNameResponse).HostedZones {
			if strings.TrimSuffix(deref(z.Name), ".") == strings.TrimSuffix(name, ".") {
				zone = strings.TrimPrefix(deref(z.Id), "/hostedzone/")
				break
			}
		}
		if zone == "" {
			return nil, fmt.Errorf("No hosted zone found with name %s", name)
		}
	}
	rr := &r53api.ResourceRecordSet{}
	fill(rr, p, map[string]string{"ResourceRecords": ""})
	for _, v := range p.strs("ResourceRecords") {
		rr.ResourceRecords = append(rr.ResourceRecords, &r53api.ResourceRecord{Value: v})
	}
	_, err := c.invoke("route53", "ChangeResourceRecordSets", &r53api.ChangeResourceRecordSetsRequest{HostedZoneId: &zone,
		ChangeBatch: &r53api.ChangeBatch{Changes: []*r53api.Change{{Action: &action, ResourceRecordSet: rr}}}})
	if err != nil {
		return nil, err
	}
	return &state{Physical: p.str("Name")}, nil
}

// An alarm's Ref is its name.
func putAlarm(c *call, p props) (*state, error) {
	in := &cwapi.PutMetricAlarmInput{}
	fill(in, p, map[string]string{"Tags": ""})
	if in.AlarmName == nil {
		in.AlarmName = str(c.physicalName(255, false))
	}
	if _, err := c.invoke("cloudwatch", "PutMetricAlarm", in); err != nil {
		return nil, err
	}
	arn := fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", template.Partition(c.region), c.region, c.account, *in.AlarmName)
	return &state{Physical: *in.AlarmName, Attrs: map[string]any{"Arn": arn}}, nil
}
