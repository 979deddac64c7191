package ec2

import (
	"context"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// GetLaunchTemplateData returns an instance's configuration as launch
// template data, as AWS does to make a template from an instance: image,
// type, key pair, interfaces with their subnets, groups and addresses,
// block devices as launched, placement, profile, monitoring, user data,
// metadata and CPU options, the instance's own tags, and the
// termination and shutdown attributes.
func (s *Service) GetLaunchTemplateData(ctx context.Context, in *ec2api.GetLaunchTemplateDataRequest) (*ec2api.GetLaunchTemplateDataResult, error) {
	views, err := s.describedInstances(ctx, []*string{in.InstanceId}, nil, in.DryRun, nil)
	if err != nil {
		return nil, err
	}
	v := views[0]
	d := &ec2api.ResponseLaunchTemplateData{
		ImageId:                           v.ImageId,
		InstanceType:                      v.InstanceType,
		KeyName:                           v.KeyName,
		EbsOptimized:                      boolp(v.EbsOptimized != nil && *v.EbsOptimized),
		DisableApiTermination:             boolp(v.attrs.DisableAPITermination),
		DisableApiStop:                    boolp(v.attrs.DisableAPIStop),
		InstanceInitiatedShutdownBehavior: str(orDefault(v.attrs.ShutdownBehavior, "stop")),
		Monitoring:                        &ec2api.LaunchTemplatesMonitoring{Enabled: boolp(v.Monitoring != nil && deref(v.Monitoring.State) == "enabled")},
		Placement:                         &ec2api.LaunchTemplatePlacement{GroupName: str(""), Tenancy: str("default")},
	}
	if p := v.Placement; p != nil {
		d.Placement.AvailabilityZone = p.AvailabilityZone
		if p.Tenancy != nil {
			d.Placement.Tenancy = p.Tenancy
		}
	}
	if v.UserData != "" {
		d.UserData = str(v.UserData)
	}
	if p := v.IamInstanceProfile; p != nil {
		d.IamInstanceProfile = &ec2api.LaunchTemplateIamInstanceProfileSpecification{Arn: p.Arn}
	}
	for _, parts := range []struct{ dst, src any }{
		{&d.BlockDeviceMappings, v.attrs.BlockDevices},
		{&d.CpuOptions, v.CpuOptions},
		{&d.MetadataOptions, v.MetadataOptions},
	} {
		if err := convert(parts.dst, parts.src); err != nil {
			return nil, err
		}
	}
	if d.MetadataOptions != nil {
		d.MetadataOptions.State = nil // the instance's state of applying them, not template data
	}
	for _, n := range v.NetworkInterfaces {
		spec := &ec2api.LaunchTemplateInstanceNetworkInterfaceSpecification{
			Description: str(deref(n.Description)), NetworkInterfaceId: n.NetworkInterfaceId, SubnetId: n.SubnetId,
			Groups: []*string{}, Ipv6Addresses: []*ec2api.InstanceIpv6Address{}, PrivateIpAddresses: []*ec2api.PrivateIpAddressSpecification{},
		}
		if a := n.Attachment; a != nil {
			spec.DeviceIndex, spec.NetworkCardIndex = a.DeviceIndex, a.NetworkCardIndex
		}
		for _, g := range n.Groups {
			spec.Groups = append(spec.Groups, g.GroupId)
		}
		for _, ip := range n.PrivateIpAddresses {
			spec.PrivateIpAddresses = append(spec.PrivateIpAddresses, &ec2api.PrivateIpAddressSpecification{Primary: ip.Primary, PrivateIpAddress: ip.PrivateIpAddress})
		}
		for _, ip := range n.Ipv6Addresses {
			spec.Ipv6Addresses = append(spec.Ipv6Addresses, &ec2api.InstanceIpv6Address{Ipv6Address: ip.Ipv6Address})
		}
		d.NetworkInterfaces = append(d.NetworkInterfaces, spec)
	}
	var tags []*ec2api.Tag
	for _, t := range v.Tags {
		if !strings.HasPrefix(deref(t.Key), "aws:") {
			tags = append(tags, t)
		}
	}
	if len(tags) > 0 {
		d.TagSpecifications = []*ec2api.LaunchTemplateTagSpecification{{ResourceType: str("instance"), Tags: tags}}
	}
	return &ec2api.GetLaunchTemplateDataResult{LaunchTemplateData: d}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
