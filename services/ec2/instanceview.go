package ec2

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Instances as DescribeInstances and its kin show them, and their
// attributes.

// instanceView is an instance as described: its record, refreshed from
// its interfaces, and its attributes.
type instanceView struct {
	*instanceRecord
	attrs *instanceAttrs
	owner string // the account, owner of the reservation
}

func (v *instanceView) key() string { return fmt.Sprintf("%016d/%s", v.attrs.Seq, *v.InstanceId) }

// instanceViews returns the visible instances of the scope that pass keep
// (a raw-record prefilter, nil for all), in launch order.
func instanceViews(tx *store.Tx, sc scope, now time.Time, keep func(raw []byte) bool) ([]*instanceView, error) {
	recs, err := listMatching[instanceRecord](tx, sc, kindInstance, keep)
	if err != nil {
		return nil, err
	}
	var out []*instanceView
	for _, r := range recs {
		if expired(r, now) {
			continue
		}
		v, err := viewOf(tx, sc, r)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out, nil
}

// viewOf completes an instance record with its interfaces and attributes.
// Only this instance's are read, so a filtered describe costs what it
// returns, not what the scope holds.
func viewOf(tx *store.Tx, sc scope, r *instanceRecord) (*instanceView, error) {
	enis, err := attachedENIs(tx, sc, r)
	if err != nil {
		return nil, err
	}
	if len(enis) > 0 {
		applyENIs(r, enis)
	}
	a, err := loadInstanceAttrs(tx, sc, *r.InstanceId)
	if err != nil {
		return nil, err
	}
	return &instanceView{instanceRecord: r, attrs: a, owner: sc.account}, nil
}

// attachedENIs loads the interfaces an instance record lists that are
// still attached to it.
func attachedENIs(tx *store.Tx, sc scope, r *instanceRecord) ([]*networkInterfaceRecord, error) {
	var out []*networkInterfaceRecord
	for _, ni := range r.NetworkInterfaces {
		e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, deref(ni.NetworkInterfaceId)))
		if err != nil {
			return nil, err
		}
		if ok && e.Attachment != nil && deref(e.Attachment.InstanceId) == *r.InstanceId {
			out = append(out, e)
		}
	}
	return out, nil
}

// viewsFor narrows views to the ids asked for, all of which must exist.
func viewsFor(views []*instanceView, ids []*string) ([]*instanceView, error) {
	if len(ids) == 0 {
		return views, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		if err := kindInstance.checkID(deref(id)); err != nil {
			return nil, err
		}
		want[deref(id)] = true
	}
	var out []*instanceView
	for _, v := range views {
		if want[*v.InstanceId] {
			out = append(out, v)
			delete(want, *v.InstanceId)
		}
	}
	var missing []string
	for _, id := range ids {
		if want[deref(id)] {
			missing = append(missing, deref(id))
			delete(want, deref(id))
		}
	}
	return out, instancesNotFound(missing)
}

func timeField(t *time.Time) []string {
	if t == nil {
		return nil
	}
	return []string{t.UTC().Format(imageTimeLayout)}
}

func nicField(f func(*ec2api.InstanceNetworkInterface) []string) func(*instanceView) []string {
	return func(v *instanceView) []string {
		var out []string
		for _, ni := range v.NetworkInterfaces {
			out = append(out, f(ni)...)
		}
		return out
	}
}

func bdField(f func(*ec2api.InstanceBlockDeviceMapping) []string) func(*instanceView) []string {
	return func(v *instanceView) []string {
		var out []string
		for _, b := range v.BlockDeviceMappings {
			if b.Ebs != nil {
				out = append(out, f(b)...)
			}
		}
		return out
	}
}

func groupsField(id bool) func(*instanceView) []string {
	return func(v *instanceView) []string {
		var out []string
		for _, g := range v.SecurityGroups {
			if id {
				out = append(out, deref(g.GroupId))
			} else {
				out = append(out, deref(g.GroupName))
			}
		}
		return out
	}
}

func stateField(f func(*ec2api.InstanceState) []string) func(*instanceView) []string {
	return func(v *instanceView) []string {
		if v.State == nil {
			return nil
		}
		return f(v.State)
	}
}

var instanceFields = fields[instanceView]{
	"instance-id":         func(v *instanceView) []string { return one(v.InstanceId) },
	"instance-state-name": stateField(func(s *ec2api.InstanceState) []string { return one(s.Name) }),
	"instance-state-code": stateField(func(s *ec2api.InstanceState) []string { return int64Field(s.Code) }),
	"instance-type":       func(v *instanceView) []string { return one(v.InstanceType) },
	"image-id":            func(v *instanceView) []string { return one(v.ImageId) },
	"vpc-id":              func(v *instanceView) []string { return one(v.VpcId) },
	"subnet-id":           func(v *instanceView) []string { return one(v.SubnetId) },
	"availability-zone":   func(v *instanceView) []string { return one(v.Placement.AvailabilityZone) },
	"tenancy":             func(v *instanceView) []string { return one(v.Placement.Tenancy) },
	"placement-group-name": func(v *instanceView) []string {
		if deref(v.Placement.GroupName) == "" {
			return nil
		}
		return one(v.Placement.GroupName)
	},
	"private-ip-address":             func(v *instanceView) []string { return one(v.PrivateIpAddress) },
	"ip-address":                     func(v *instanceView) []string { return one(v.PublicIpAddress) },
	"private-dns-name":               func(v *instanceView) []string { return one(v.PrivateDnsName) },
	"dns-name":                       func(v *instanceView) []string { return one(v.PublicDnsName) },
	"key-name":                       func(v *instanceView) []string { return one(v.KeyName) },
	"instance.group-id":              groupsField(true),
	"instance.group-name":            groupsField(false),
	"group-id":                       groupsField(true),
	"group-name":                     groupsField(false),
	"architecture":                   func(v *instanceView) []string { return one(v.Architecture) },
	"root-device-name":               func(v *instanceView) []string { return one(v.RootDeviceName) },
	"root-device-type":               func(v *instanceView) []string { return one(v.RootDeviceType) },
	"virtualization-type":            func(v *instanceView) []string { return one(v.VirtualizationType) },
	"hypervisor":                     func(v *instanceView) []string { return one(v.Hypervisor) },
	"ami-launch-index":               func(v *instanceView) []string { return int64Field(v.AmiLaunchIndex) },
	"client-token":                   func(v *instanceView) []string { return one(v.ClientToken) },
	"launch-time":                    func(v *instanceView) []string { return timeField(v.LaunchTime) },
	"reservation-id":                 func(v *instanceView) []string { return []string{v.attrs.ReservationID} },
	"owner-id":                       func(v *instanceView) []string { return []string{v.owner} },
	"monitoring-state":               func(v *instanceView) []string { return one(v.Monitoring.State) },
	"source-dest-check":              func(v *instanceView) []string { return boolField(v.SourceDestCheck) },
	"ebs-optimized":                  func(v *instanceView) []string { return boolField(v.EbsOptimized) },
	"ena-support":                    func(v *instanceView) []string { return boolField(v.EnaSupport) },
	"platform-details":               func(v *instanceView) []string { return one(v.PlatformDetails) },
	"usage-operation":                func(v *instanceView) []string { return one(v.UsageOperation) },
	"boot-mode":                      func(v *instanceView) []string { return one(v.BootMode) },
	"iam-instance-profile.arn":       func(v *instanceView) []string { return profileField(v, true) },
	"iam-instance-profile.id":        func(v *instanceView) []string { return profileField(v, false) },
	"state-reason-code":              func(v *instanceView) []string { return stateReason(v, true) },
	"state-reason-message":           func(v *instanceView) []string { return stateReason(v, false) },
	"reason":                         func(v *instanceView) []string { return one(v.StateTransitionReason) },
	"hibernation-options.configured": func(v *instanceView) []string { return boolField(v.HibernationOptions.Configured) },
	"metadata-options.http-tokens":   func(v *instanceView) []string { return one(v.MetadataOptions.HttpTokens) },
	"metadata-options.http-endpoint": func(v *instanceView) []string { return one(v.MetadataOptions.HttpEndpoint) },
	"metadata-options.http-put-response-hop-limit": func(v *instanceView) []string {
		return int64Field(v.MetadataOptions.HttpPutResponseHopLimit)
	},
	"metadata-options.instance-metadata-tags": func(v *instanceView) []string { return one(v.MetadataOptions.InstanceMetadataTags) },
	"network-interface.network-interface-id":  nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.NetworkInterfaceId) }),
	"network-interface.subnet-id":             nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.SubnetId) }),
	"network-interface.vpc-id":                nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.VpcId) }),
	"network-interface.mac-address":           nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.MacAddress) }),
	"network-interface.status":                nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.Status) }),
	"network-interface.description":           nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.Description) }),
	"network-interface.owner-id":              nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.OwnerId) }),
	"network-interface.private-dns-name":      nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.PrivateDnsName) }),
	"network-interface.source-dest-check":     nicField(func(n *ec2api.InstanceNetworkInterface) []string { return boolField(n.SourceDestCheck) }),
	"network-interface.group-id": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		var out []string
		for _, g := range n.Groups {
			out = append(out, deref(g.GroupId))
		}
		return out
	}),
	"network-interface.group-name": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		var out []string
		for _, g := range n.Groups {
			out = append(out, deref(g.GroupName))
		}
		return out
	}),
	"network-interface.addresses.private-ip-address": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		var out []string
		for _, a := range n.PrivateIpAddresses {
			out = append(out, deref(a.PrivateIpAddress))
		}
		return out
	}),
	"network-interface.private-ip-address": nicField(func(n *ec2api.InstanceNetworkInterface) []string { return one(n.PrivateIpAddress) }),
	"network-interface.association.public-ip": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Association == nil {
			return nil
		}
		return one(n.Association.PublicIp)
	}),
	"network-interface.association.ip-owner-id": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Association == nil {
			return nil
		}
		return one(n.Association.IpOwnerId)
	}),
	"association.public-ip": func(v *instanceView) []string { return one(v.PublicIpAddress) },
	"network-interface.attachment.attachment-id": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Attachment == nil {
			return nil
		}
		return one(n.Attachment.AttachmentId)
	}),
	"network-interface.attachment.device-index": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Attachment == nil {
			return nil
		}
		return int64Field(n.Attachment.DeviceIndex)
	}),
	"network-interface.attachment.status": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Attachment == nil {
			return nil
		}
		return one(n.Attachment.Status)
	}),
	"network-interface.attachment.delete-on-termination": nicField(func(n *ec2api.InstanceNetworkInterface) []string {
		if n.Attachment == nil {
			return nil
		}
		return boolField(n.Attachment.DeleteOnTermination)
	}),
	"block-device-mapping.device-name": bdField(func(b *ec2api.InstanceBlockDeviceMapping) []string { return one(b.DeviceName) }),
	"block-device-mapping.volume-id":   bdField(func(b *ec2api.InstanceBlockDeviceMapping) []string { return one(b.Ebs.VolumeId) }),
	"block-device-mapping.status":      bdField(func(b *ec2api.InstanceBlockDeviceMapping) []string { return one(b.Ebs.Status) }),
	"block-device-mapping.attach-time": bdField(func(b *ec2api.InstanceBlockDeviceMapping) []string { return timeField(b.Ebs.AttachTime) }),
	"block-device-mapping.delete-on-termination": bdField(func(b *ec2api.InstanceBlockDeviceMapping) []string {
		return boolField(b.Ebs.DeleteOnTermination)
	}),
	"product-code": func(v *instanceView) []string {
		var out []string
		for _, p := range v.ProductCodes {
			out = append(out, deref(p.ProductCodeId))
		}
		return out
	},
	"cpu-options.core-count":       func(v *instanceView) []string { return int64Field(v.CpuOptions.CoreCount) },
	"cpu-options.threads-per-core": func(v *instanceView) []string { return int64Field(v.CpuOptions.ThreadsPerCore) },
}

func profileField(v *instanceView, arn bool) []string {
	if v.IamInstanceProfile == nil {
		return nil
	}
	if arn {
		return one(v.IamInstanceProfile.Arn)
	}
	return one(v.IamInstanceProfile.Id)
}

func stateReason(v *instanceView, code bool) []string {
	if v.StateReason == nil {
		return nil
	}
	if code {
		return one(v.StateReason.Code)
	}
	return one(v.StateReason.Message)
}

// describedInstances is what DescribeInstances and DescribeInstanceStatus
// start from: the instances asked for (all when ids is empty), after the
// checks both make.
func (s *Service) describedInstances(ctx context.Context, ids []*string, maxResults *int64, dry *bool, keep func([]byte) bool) ([]*instanceView, error) {
	sc := scopeOf(ctx)
	s.lifecycle().track(sc)
	if len(ids) > 0 && maxResults != nil {
		return nil, api.Errorf("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	if err := checkMaxResults(maxResults, 5, 1000); err != nil {
		return nil, err
	}
	var views []*instanceView
	err := s.store.View(func(tx *store.Tx) error {
		all, err := instanceViews(tx, sc, s.now(), keep)
		if err != nil {
			return err
		}
		views, err = viewsFor(all, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	return views, dryRun(dry)
}

func (s *Service) DescribeInstances(ctx context.Context, in *ec2api.DescribeInstancesRequest) (*ec2api.DescribeInstancesResult, error) {
	views, err := s.describedInstances(ctx, in.InstanceIds, in.MaxResults, in.DryRun, tagPrefilter(in.Filters))
	if err != nil {
		return nil, err
	}
	page, next, err := filterViews(views, in.Filters, in.MaxResults, in.NextToken, instanceFields)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstancesResult{Reservations: []*ec2api.Reservation{}, NextToken: next}
	byID := map[string]*ec2api.Reservation{}
	for _, v := range page {
		r := byID[v.attrs.ReservationID]
		if r == nil {
			r = &ec2api.Reservation{ReservationId: str(v.attrs.ReservationID), OwnerId: str(scopeOf(ctx).account), Groups: []*ec2api.GroupIdentifier{}}
			byID[v.attrs.ReservationID] = r
			out.Reservations = append(out.Reservations, r)
		}
		r.Instances = append(r.Instances, &v.Instance)
	}
	return out, nil
}

func filterViews(views []*instanceView, filters []*ec2api.Filter, maxResults *int64, token *string, fs fields[instanceView]) ([]*instanceView, *string, error) {
	var matched []*instanceView
	tagsOf := func(v *instanceView) []*ec2api.Tag { return v.Tags }
	for _, v := range views {
		ok, err := matchFilters(filters, v, tagsOf, fs)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	return paginate(matched, (*instanceView).key, maxResults, token)
}

var statusFields = fields[instanceView]{
	"availability-zone":   instanceFields["availability-zone"],
	"instance-state-name": instanceFields["instance-state-name"],
	"instance-state-code": instanceFields["instance-state-code"],
	"instance-status.status": func(v *instanceView) []string {
		return []string{healthOf(v)}
	},
	"system-status.status": func(v *instanceView) []string {
		return []string{healthOf(v)}
	},
	"instance-status.reachability": func(v *instanceView) []string { return []string{reachabilityOf(v)} },
	"system-status.reachability":   func(v *instanceView) []string { return []string{reachabilityOf(v)} },
}

// healthOf is the status checks' summary: a running instance passes them
// (the data plane will report real checks); others have none.
func healthOf(v *instanceView) string {
	if instanceStateName(v.instanceRecord) == stateRunning {
		return "ok"
	}
	return "not-applicable"
}

func reachabilityOf(v *instanceView) string {
	if instanceStateName(v.instanceRecord) == stateRunning {
		return "passed"
	}
	return ""
}

func (s *Service) DescribeInstanceStatus(ctx context.Context, in *ec2api.DescribeInstanceStatusRequest) (*ec2api.DescribeInstanceStatusResult, error) {
	views, err := s.describedInstances(ctx, in.InstanceIds, in.MaxResults, in.DryRun, nil)
	if err != nil {
		return nil, err
	}
	if !derefBool(in.IncludeAllInstances) {
		running := views[:0:0]
		for _, v := range views {
			if instanceStateName(v.instanceRecord) == stateRunning {
				running = append(running, v)
			}
		}
		views = running
	}
	page, next, err := filterViews(views, in.Filters, in.MaxResults, in.NextToken, statusFields)
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeInstanceStatusResult{InstanceStatuses: []*ec2api.InstanceStatus{}, NextToken: next}
	for _, v := range page {
		st := &ec2api.InstanceStatus{
			InstanceId:       v.InstanceId,
			AvailabilityZone: v.Placement.AvailabilityZone,
			InstanceState:    v.State,
			Events:           []*ec2api.InstanceStatusEvent{},
		}
		summary := func(name string) *ec2api.InstanceStatusSummary {
			sum := &ec2api.InstanceStatusSummary{Status: str(healthOf(v)), Details: []*ec2api.InstanceStatusDetails{}}
			if r := reachabilityOf(v); r != "" {
				sum.Details = append(sum.Details, &ec2api.InstanceStatusDetails{Name: str(name), Status: str(r)})
			}
			return sum
		}
		st.InstanceStatus, st.SystemStatus = summary("reachability"), summary("reachability")
		out.InstanceStatuses = append(out.InstanceStatuses, st)
	}
	return out, nil
}

func (s *Service) DescribeInstanceAttribute(ctx context.Context, in *ec2api.DescribeInstanceAttributeRequest) (*ec2api.InstanceAttribute, error) {
	sc := scopeOf(ctx)
	var v *instanceView
	err := s.store.View(func(tx *store.Tx) error {
		if err := kindInstance.checkID(deref(in.InstanceId)); err != nil {
			return err
		}
		r, err := loadInstance(tx, sc, deref(in.InstanceId), s.now())
		if err != nil {
			return err
		}
		v, err = viewOf(tx, sc, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.InstanceAttribute{InstanceId: v.InstanceId}
	val := func(s string) *ec2api.AttributeValue {
		if s == "" {
			return &ec2api.AttributeValue{}
		}
		return &ec2api.AttributeValue{Value: str(s)}
	}
	flag := func(b bool) *ec2api.AttributeBooleanValue { return &ec2api.AttributeBooleanValue{Value: boolp(b)} }
	switch attr := deref(in.Attribute); attr {
	case "instanceType":
		out.InstanceType = val(deref(v.InstanceType))
	case "kernel":
		out.KernelId = val(deref(v.KernelId))
	case "ramdisk":
		out.RamdiskId = val(deref(v.RamdiskId))
	case "userData":
		out.UserData = val(v.UserData)
	case "disableApiTermination":
		out.DisableApiTermination = flag(v.attrs.DisableAPITermination)
	case "disableApiStop":
		out.DisableApiStop = flag(v.attrs.DisableAPIStop)
	case "instanceInitiatedShutdownBehavior":
		out.InstanceInitiatedShutdownBehavior = val(v.attrs.ShutdownBehavior)
	case "rootDeviceName":
		out.RootDeviceName = val(deref(v.RootDeviceName))
	case "blockDeviceMapping":
		out.BlockDeviceMappings = v.BlockDeviceMappings
	case "productCodes":
		out.ProductCodes = v.ProductCodes
	case "sourceDestCheck":
		out.SourceDestCheck = flag(derefBool(v.SourceDestCheck))
	case "groupSet":
		out.Groups = v.SecurityGroups
		if out.Groups == nil {
			out.Groups = []*ec2api.GroupIdentifier{}
		}
	case "ebsOptimized":
		out.EbsOptimized = flag(derefBool(v.EbsOptimized))
	case "sriovNetSupport":
		out.SriovNetSupport = val(deref(v.SriovNetSupport))
	case "enaSupport":
		out.EnaSupport = flag(derefBool(v.EnaSupport))
	case "enclaveOptions":
		out.EnclaveOptions = v.EnclaveOptions
	default:
		return nil, invalidParameter("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	return out, nil
}

// modifiedAttribute returns the one attribute a ModifyInstanceAttribute
// changes, turning the Attribute/Value form into the typed one.
func modifiedAttribute(in *ec2api.ModifyInstanceAttributeRequest) (string, error) {
	set := map[string]bool{
		"instanceType":                      in.InstanceType != nil,
		"userData":                          in.UserData != nil,
		"disableApiTermination":             in.DisableApiTermination != nil,
		"disableApiStop":                    in.DisableApiStop != nil,
		"instanceInitiatedShutdownBehavior": in.InstanceInitiatedShutdownBehavior != nil,
		"sourceDestCheck":                   in.SourceDestCheck != nil,
		"groupSet":                          len(in.Groups) > 0,
		"ebsOptimized":                      in.EbsOptimized != nil,
		"enaSupport":                        in.EnaSupport != nil,
		"sriovNetSupport":                   in.SriovNetSupport != nil,
		"kernel":                            in.Kernel != nil,
		"ramdisk":                           in.Ramdisk != nil,
		"blockDeviceMapping":                len(in.BlockDeviceMappings) > 0,
	}
	if a := deref(in.Attribute); a != "" {
		if _, ok := set[a]; !ok {
			return "", invalidParameter("Value (%s) for parameter attribute is invalid. Unknown attribute.", a)
		}
		if in.Value == nil && !set[a] {
			return "", api.Errorf("MissingParameter", "The request must contain the parameter value")
		}
		if in.Value != nil {
			if err := valueToTyped(in, a, *in.Value); err != nil {
				return "", err
			}
		}
	}
	var names []string
	for n, ok := range set {
		if ok || n == deref(in.Attribute) {
			names = append(names, n)
		}
	}
	switch len(names) {
	case 0:
		return "", api.Errorf("MissingParameter", "The request must contain the parameter attribute")
	case 1:
		return names[0], nil
	}
	sort.Strings(names)
	return "", api.Errorf("InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(names, ", "))
}

// valueToTyped sets the typed member of a ModifyInstanceAttribute from the
// Attribute/Value form.
func valueToTyped(in *ec2api.ModifyInstanceAttributeRequest, attr, v string) error {
	b := func() (*ec2api.AttributeBooleanValue, error) {
		x, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalidParameter("Value (%s) for parameter value is invalid. Expected a boolean.", v)
		}
		return &ec2api.AttributeBooleanValue{Value: &x}, nil
	}
	var err error
	switch attr {
	case "instanceType":
		in.InstanceType = &ec2api.AttributeValue{Value: &v}
	case "userData":
		raw, derr := base64.StdEncoding.DecodeString(v)
		if derr != nil {
			raw = []byte(v)
		}
		in.UserData = &ec2api.BlobAttributeValue{Value: raw}
	case "disableApiTermination":
		in.DisableApiTermination, err = b()
	case "disableApiStop":
		in.DisableApiStop, err = b()
	case "sourceDestCheck":
		in.SourceDestCheck, err = b()
	case "ebsOptimized":
		in.EbsOptimized, err = b()
	case "enaSupport":
		in.EnaSupport, err = b()
	case "instanceInitiatedShutdownBehavior":
		in.InstanceInitiatedShutdownBehavior = &ec2api.AttributeValue{Value: &v}
	case "sriovNetSupport":
		in.SriovNetSupport = &ec2api.AttributeValue{Value: &v}
	case "kernel":
		in.Kernel = &ec2api.AttributeValue{Value: &v}
	case "ramdisk":
		in.Ramdisk = &ec2api.AttributeValue{Value: &v}
	case "groupSet":
		in.Groups = []*string{&v}
	default:
		return invalidParameter("Value (%s) for parameter attribute is invalid. It cannot be set with a value.", attr)
	}
	return err
}

func (s *Service) ModifyInstanceAttribute(ctx context.Context, in *ec2api.ModifyInstanceAttributeRequest) (*ec2api.ModifyInstanceAttributeOutput, error) {
	sc := scopeOf(ctx)
	attr, err := modifiedAttribute(in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.store.Update(func(tx *store.Tx) error {
		r, err := loadInstance(tx, sc, deref(in.InstanceId), now)
		if err != nil {
			return err
		}
		attrs, err := loadInstanceAttrs(tx, sc, *r.InstanceId)
		if err != nil {
			return err
		}
		state := instanceStateName(r)
		if state == stateTerminated || state == stateShuttingDown {
			return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which its attributes can be modified.", *r.InstanceId)
		}
		mustBeStopped := func() error {
			if state != stateStopped {
				return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in the 'stopped' state.", *r.InstanceId)
			}
			return nil
		}
		var enis []*networkInterfaceRecord // interfaces changed
		switch attr {
		case "instanceType":
			t, err := lookupInstanceType(deref(in.InstanceType.Value))
			if err != nil {
				return err
			}
			if err := mustBeStopped(); err != nil {
				return err
			}
			img := &ec2api.Image{Architecture: r.Architecture}
			if err := checkArch(t, img); err != nil {
				return err
			}
			r.InstanceType = t.InstanceType
			r.CpuOptions = cpuOptions(t)
			r.VCPUs, r.MemoryMiB = typeSizeOf(t)
		case "userData":
			if err := mustBeStopped(); err != nil {
				return err
			}
			if len(in.UserData.Value) > maxUserData {
				return invalidParameter("User data is limited to %d bytes", maxUserData)
			}
			r.UserData = base64.StdEncoding.EncodeToString(in.UserData.Value)
		case "disableApiTermination":
			attrs.DisableAPITermination = derefBool(in.DisableApiTermination.Value)
		case "disableApiStop":
			attrs.DisableAPIStop = derefBool(in.DisableApiStop.Value)
		case "instanceInitiatedShutdownBehavior":
			b := deref(in.InstanceInitiatedShutdownBehavior.Value)
			if b != "stop" && b != "terminate" {
				return invalidParameter("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are stop, terminate.", b)
			}
			attrs.ShutdownBehavior = b
		case "ebsOptimized":
			if err := mustBeStopped(); err != nil {
				return err
			}
			r.EbsOptimized = boolp(derefBool(in.EbsOptimized.Value))
		case "enaSupport":
			if err := mustBeStopped(); err != nil {
				return err
			}
			r.EnaSupport = boolp(derefBool(in.EnaSupport.Value))
		case "sriovNetSupport":
			if v := deref(in.SriovNetSupport.Value); v != "simple" {
				return invalidParameter("Value (%s) for parameter sriovNetSupport is invalid. Valid values are simple.", v)
			}
			r.SriovNetSupport = str("simple")
		case "kernel", "ramdisk":
			return api.Errorf("UnsupportedOperation", "The instance '%s' uses an HVM image; kernel and ramdisk cannot be changed.", *r.InstanceId)
		case "sourceDestCheck", "groupSet":
			primary, err := primaryENI(tx, sc, r)
			if err != nil {
				return err
			}
			if attr == "sourceDestCheck" {
				primary.SourceDestCheck = boolp(derefBool(in.SourceDestCheck.Value))
			} else {
				vpc, err := load[vpcRecord](tx, sc, kindVPC, deref(primary.VpcId))
				if err != nil {
					return err
				}
				ids, err := launchGroups(tx, sc, vpc, deref(primary.SubnetId), in.Groups, nil)
				if err != nil {
					return err
				}
				groups, err := checkSecurityGroups(tx, sc, *vpc.VpcId, ids)
				if err != nil {
					return err
				}
				primary.Groups = []*ec2api.GroupIdentifier{}
				for _, g := range groups {
					primary.Groups = append(primary.Groups, &ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
				}
			}
			enis = append(enis, primary)
		case "blockDeviceMapping":
			for _, m := range in.BlockDeviceMappings {
				i := slices.IndexFunc(r.BlockDeviceMappings, func(b *ec2api.InstanceBlockDeviceMapping) bool { return deref(b.DeviceName) == deref(m.DeviceName) })
				if i < 0 || r.BlockDeviceMappings[i].Ebs == nil {
					return api.Errorf("InvalidInstanceAttributeValue", "No device is currently mapped at %s", deref(m.DeviceName))
				}
				if m.Ebs != nil && m.Ebs.DeleteOnTermination != nil {
					if err := setDeleteOnTermination(tx, sc, r.BlockDeviceMappings[i], *m.Ebs.DeleteOnTermination); err != nil {
						return err
					}
				}
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		for _, e := range enis {
			if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
				return err
			}
		}
		if len(enis) > 0 {
			all, err := enisByInstance(tx, sc)
			if err != nil {
				return err
			}
			applyENIs(r, all[*r.InstanceId])
		}
		if err := save(tx, sc, kindInstance, *r.InstanceId, r); err != nil {
			return err
		}
		return tx.Put(attrsKey(sc, *r.InstanceId), attrs)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyInstanceAttributeOutput{}, nil
}

// primaryENI returns the interface at device index 0 of an instance.
func primaryENI(tx *store.Tx, sc scope, r *instanceRecord) (*networkInterfaceRecord, error) {
	all, err := enisByInstance(tx, sc)
	if err != nil {
		return nil, err
	}
	for _, e := range all[*r.InstanceId] {
		if attachIndex(e) == 0 {
			return e, nil
		}
	}
	return nil, api.Errorf("IncorrectInstanceState", "The instance '%s' has no network interface.", *r.InstanceId)
}

func (s *Service) GetConsoleOutput(ctx context.Context, in *ec2api.GetConsoleOutputRequest) (*ec2api.GetConsoleOutputResult, error) {
	sc := scopeOf(ctx)
	err := s.store.View(func(tx *store.Tx) error {
		_, err := loadInstance(tx, sc, deref(in.InstanceId), s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	// The console as the data plane last reported it; "" without one.
	var c consoleRecord
	err = s.store.View(func(tx *store.Tx) error {
		_, err := tx.Get(store.Key{Account: sc.account, Region: sc.region, Kind: consoleKind, ID: *in.InstanceId}, &c)
		return err
	})
	if err != nil {
		return nil, err
	}
	if c.At.IsZero() {
		c.At = s.now().UTC()
	}
	return &ec2api.GetConsoleOutputResult{InstanceId: in.InstanceId, Output: str(base64.StdEncoding.EncodeToString(c.Output)), Timestamp: timep(c.At)}, nil
}

func timep(t time.Time) *time.Time { return &t }
