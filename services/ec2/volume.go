package ec2

import (
	"context"
	"regexp"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// EBS volumes. Every EBS device of an instance is a volume record (the
// root one too, made at launch); AttachVolume and DetachVolume move a
// volume between instances of its zone. With a data plane a volume's
// data is a file that the volumes controller attaches to the running
// instance as a block device, and the transitional states (creating,
// attaching, detaching) wait for its reports (ReportVolume,
// ReportAttachment); without one they are skipped.

func (s *Service) registerVolumes(h *ec2api.Handlers) {
	h.CreateVolume = s.CreateVolume
	h.DescribeVolumes = s.DescribeVolumes
	h.AttachVolume = s.AttachVolume
	h.DetachVolume = s.DetachVolume
	h.DeleteVolume = s.DeleteVolume
	h.ModifyVolume = s.ModifyVolume
	h.DescribeVolumesModifications = s.DescribeVolumesModifications
	h.CreateSnapshot = s.CreateSnapshot
	h.DescribeSnapshots = s.DescribeSnapshots
	h.DeleteSnapshot = s.DeleteSnapshot
	h.CopySnapshot = s.CopySnapshot
}

// volumeLimits are each type's sizes in GiB and IOPS, as the EBS user
// guide gives them.
var volumeLimits = map[string]struct {
	minGiB, maxGiB     int64
	minIOPS, maxIOPS   int64 // 0: the type takes no IOPS
	iopsRequired, tput bool
}{
	"gp2":      {1, 16384, 0, 0, false, false},
	"gp3":      {1, 16384, 3000, 16000, false, true},
	"io1":      {4, 16384, 100, 64000, true, false},
	"io2":      {4, 65536, 100, 256000, true, false},
	"st1":      {125, 16384, 0, 0, false, false},
	"sc1":      {125, 16384, 0, 0, false, false},
	"standard": {1, 1024, 0, 0, false, false},
}

// defaultRootGiB is the root volume's size when the image says none.
const defaultRootGiB = 8

// volumeSpec is a volume's type, size and performance, checked.
type volumeSpec struct {
	volumeType       string
	size             int64
	iops, throughput *int64
}

func checkVolumeSpec(v volumeSpec) (volumeSpec, error) {
	lim, ok := volumeLimits[v.volumeType]
	if !ok {
		return v, invalidParameter("Value (%s) for parameter volumeType is invalid. Valid values are standard, io1, io2, gp2, gp3, sc1, st1.", v.volumeType)
	}
	if v.size < lim.minGiB {
		return v, invalidParameter("Volume of size %dGiB is smaller than minimum %dGiB for %s volumes.", v.size, lim.minGiB, v.volumeType)
	}
	if v.size > lim.maxGiB {
		return v, invalidParameter("Volume of %dGiB is too large for %s volumes; maximum is %dGiB.", v.size, v.volumeType, lim.maxGiB)
	}
	switch {
	case v.iops != nil && lim.maxIOPS == 0:
		return v, api.Errorf("InvalidParameterCombination", "The parameter iops is not supported for %s volumes.", v.volumeType)
	case v.iops == nil && lim.iopsRequired:
		return v, api.Errorf("MissingParameter", "The parameter iops must be specified for %s volumes.", v.volumeType)
	case v.iops != nil && (*v.iops < lim.minIOPS || *v.iops > lim.maxIOPS):
		return v, invalidParameter("Volume iops of %d is invalid for %s volumes: it must be between %d and %d.", *v.iops, v.volumeType, lim.minIOPS, lim.maxIOPS)
	case v.throughput != nil && !lim.tput:
		return v, api.Errorf("InvalidParameterCombination", "The parameter throughput is not supported for %s volumes.", v.volumeType)
	case v.throughput != nil && (*v.throughput < 125 || *v.throughput > 1000):
		return v, invalidParameter("Throughput of %d MiB/s is invalid for gp3 volumes: it must be between 125 and 1000.", *v.throughput)
	}
	// What Describe shows when none was asked: gp3's baseline, gp2's
	// 3 IOPS per GiB (100 at least, 16000 at most).
	switch v.volumeType {
	case "gp3":
		if v.iops == nil {
			v.iops = i64(3000)
		}
		if v.throughput == nil {
			v.throughput = i64(125)
		}
	case "gp2":
		v.iops = i64(min(max(3*v.size, 100), 16000))
	}
	return v, nil
}

func (s *Service) CreateVolume(ctx context.Context, in *ec2api.CreateVolumeRequest) (*ec2api.Volume, error) {
	sc := scopeOf(ctx)
	az := deref(in.AvailabilityZone)
	z, ok := zoneByName(sc.region, az)
	if !ok {
		return nil, invalidParameter("Invalid availability zone: [%s]", az)
	}
	if in.Size == nil && in.SnapshotId == nil {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	if derefBool(in.MultiAttachEnabled) {
		return nil, api.Errorf("UnsupportedOperation", "Multi-Attach is not supported by cloudbox's volumes.")
	}
	tags, err := tagsFor(in.TagSpecifications, "volume")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var out *ec2api.Volume
	err = s.store.Update(func(tx *store.Tx) error {
		spec := volumeSpec{volumeType: deref(in.VolumeType), iops: in.Iops, throughput: in.Throughput}
		if spec.volumeType == "" {
			spec.volumeType = "gp2"
		}
		encrypted := derefBool(in.Encrypted)
		var snap *snapshotRecord
		if id := deref(in.SnapshotId); id != "" {
			var err error
			if snap, err = load[snapshotRecord](tx, sc, kindSnapshot, id); err != nil {
				return err
			}
			if deref(snap.State) != "completed" {
				return api.Errorf("IncorrectState", "Snapshot is in invalid state - %s", deref(snap.State))
			}
			spec.size = *snap.VolumeSize
			encrypted = encrypted || derefBool(snap.Encrypted)
		}
		if in.Size != nil {
			if snap != nil && *in.Size < *snap.VolumeSize {
				return invalidParameter("Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", *in.Size, *snap.SnapshotId, *snap.VolumeSize)
			}
			spec.size = *in.Size
		}
		spec, err := checkVolumeSpec(spec)
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		state := "available"
		if s.dataPlane {
			state = "creating" // until the data plane made its file
		}
		rec := &volumeRecord{Volume: ec2api.Volume{
			VolumeId:           str(kindVolume.newID()),
			AvailabilityZone:   str(z.Name),
			CreateTime:         &now,
			Encrypted:          boolp(encrypted),
			Size:               i64(spec.size),
			VolumeType:         str(spec.volumeType),
			Iops:               spec.iops,
			Throughput:         spec.throughput,
			SnapshotId:         str(""),
			State:              str(state),
			MultiAttachEnabled: boolp(false),
			Attachments:        []*ec2api.VolumeAttachment{},
			Tags:               tags,
		}}
		if snap != nil {
			rec.SnapshotId = snap.SnapshotId
		}
		if encrypted {
			rec.KmsKeyId = defaultEBSKey(sc, in.KmsKeyId)
		}
		if rec.Tags == nil {
			rec.Tags = []*ec2api.Tag{}
		}
		out = &rec.Volume
		return save(tx, sc, kindVolume, *rec.VolumeId, rec)
	})
	if err != nil {
		return nil, err
	}
	v := *out
	v.State = str("creating") // as AWS answers, whatever follows
	return &v, nil
}

// defaultEBSKey is the KMS key of an encrypted volume: the one asked, or
// the account's AWS managed key for EBS.
func defaultEBSKey(sc scope, asked *string) *string {
	if k := deref(asked); k != "" {
		return str(k)
	}
	return str("arn:aws:kms:" + sc.region + ":" + sc.account + ":alias/aws/ebs")
}

var volumeFields = fields[volumeRecord]{
	"volume-id":                        func(v *volumeRecord) []string { return one(v.VolumeId) },
	"status":                           func(v *volumeRecord) []string { return one(v.State) },
	"availability-zone":                func(v *volumeRecord) []string { return one(v.AvailabilityZone) },
	"create-time":                      func(v *volumeRecord) []string { return timeField(v.CreateTime) },
	"encrypted":                        func(v *volumeRecord) []string { return boolField(v.Encrypted) },
	"multi-attach-enabled":             func(v *volumeRecord) []string { return boolField(v.MultiAttachEnabled) },
	"size":                             func(v *volumeRecord) []string { return int64Field(v.Size) },
	"snapshot-id":                      func(v *volumeRecord) []string { return one(v.SnapshotId) },
	"volume-type":                      func(v *volumeRecord) []string { return one(v.VolumeType) },
	"attachment.attach-time":           attachmentField(func(a *ec2api.VolumeAttachment) []string { return timeField(a.AttachTime) }),
	"attachment.delete-on-termination": attachmentField(func(a *ec2api.VolumeAttachment) []string { return boolField(a.DeleteOnTermination) }),
	"attachment.device":                attachmentField(func(a *ec2api.VolumeAttachment) []string { return one(a.Device) }),
	"attachment.instance-id":           attachmentField(func(a *ec2api.VolumeAttachment) []string { return one(a.InstanceId) }),
	"attachment.status":                attachmentField(func(a *ec2api.VolumeAttachment) []string { return one(a.State) }),
}

func attachmentField(f func(*ec2api.VolumeAttachment) []string) func(*volumeRecord) []string {
	return func(v *volumeRecord) []string {
		var out []string
		for _, a := range v.Attachments {
			out = append(out, f(a)...)
		}
		return out
	}
}

func (s *Service) DescribeVolumes(ctx context.Context, in *ec2api.DescribeVolumesRequest) (*ec2api.DescribeVolumesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var page []*volumeRecord
	var next *string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		page, next, err = describe(tx, sc, kindVolume, query{ids: in.VolumeIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken, idsParam: "volumeIds"},
			func(v *volumeRecord) string { return *v.VolumeId },
			func(v *volumeRecord) []*ec2api.Tag { return v.Tags }, volumeFields)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesResult{Volumes: []*ec2api.Volume{}, NextToken: next}
	for _, v := range page {
		out.Volumes = append(out.Volumes, &v.Volume)
	}
	return out, nil
}

// deviceRE is the device names EBS takes on Linux instances: /dev/sd[b-z],
// /dev/sd[b-z][1-15], /dev/xvd[b-z] and the two-letter xvd names, as the
// EC2 user guide's device naming table has them (/dev/sda1 and /dev/xvda
// for roots).
var deviceRE = regexp.MustCompile(`^/dev/(sd[a-z]([1-9]|1[0-5])?|xvd[a-z][a-z]?)$`)

func (s *Service) AttachVolume(ctx context.Context, in *ec2api.AttachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	sc := scopeOf(ctx)
	dev := deref(in.Device)
	if !deviceRE.MatchString(dev) {
		return nil, invalidParameter("Value (%s) for parameter device is invalid. %s is not a valid EBS device name.", dev, dev)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var out ec2api.VolumeAttachment
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[volumeRecord](tx, sc, kindVolume, deref(in.VolumeId))
		if err != nil {
			return err
		}
		r, err := loadInstance(tx, sc, deref(in.InstanceId), now)
		if err != nil {
			return err
		}
		switch st := instanceStateName(r); st {
		case stateShuttingDown, stateTerminated:
			return api.Errorf("IncorrectState", "Instance '%s' is not 'running'.", *r.InstanceId)
		}
		if deref(v.AvailabilityZone) != deref(r.Placement.AvailabilityZone) {
			return api.Errorf("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", *v.VolumeId, *r.InstanceId)
		}
		switch deref(v.State) {
		case "available":
		case "in-use":
			return api.Errorf("VolumeInUse", "%s is already attached to an instance", *v.VolumeId)
		default:
			return api.Errorf("IncorrectState", "%s is not 'available'.", *v.VolumeId)
		}
		if slices.ContainsFunc(r.BlockDeviceMappings, func(b *ec2api.InstanceBlockDeviceMapping) bool { return deref(b.DeviceName) == dev }) ||
			dev == deref(r.RootDeviceName) {
			return invalidParameter("Invalid value '%s' for unixDevice. Attachment point %s is already in use", dev, dev)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		state := "attached"
		if s.dataPlane && instanceStateName(r) != stateStopped {
			state = "attaching" // until the device is in the instance
		}
		at := now
		a := &ec2api.VolumeAttachment{AttachTime: &at, Device: str(dev), InstanceId: r.InstanceId, State: str(state),
			VolumeId: v.VolumeId, DeleteOnTermination: boolp(false)}
		v.Attachments = []*ec2api.VolumeAttachment{a}
		v.State = str("in-use")
		r.BlockDeviceMappings = append(r.BlockDeviceMappings, &ec2api.InstanceBlockDeviceMapping{DeviceName: str(dev),
			Ebs: &ec2api.EbsInstanceBlockDevice{AttachTime: &at, DeleteOnTermination: boolp(false), Status: str(state), VolumeId: v.VolumeId}})
		out = *a
		if err := save(tx, sc, kindInstance, *r.InstanceId, r); err != nil {
			return err
		}
		return save(tx, sc, kindVolume, *v.VolumeId, v)
	})
	if err != nil {
		return nil, err
	}
	out.State = str("attaching")
	out.DeleteOnTermination = nil // AttachVolume's answer has no such field
	return &out, nil
}

func (s *Service) DetachVolume(ctx context.Context, in *ec2api.DetachVolumeRequest) (*ec2api.VolumeAttachment, error) {
	sc := scopeOf(ctx)
	now := s.now()
	var out ec2api.VolumeAttachment
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[volumeRecord](tx, sc, kindVolume, deref(in.VolumeId))
		if err != nil {
			return err
		}
		if len(v.Attachments) == 0 {
			return api.Errorf("IncorrectState", "Volume '%s' is in the '%s' state.", *v.VolumeId, deref(v.State))
		}
		a := v.Attachments[0]
		if id := deref(in.InstanceId); id != "" && id != deref(a.InstanceId) {
			return api.Errorf("InvalidAttachment.NotFound", "The volume '%s' is not attached to instance '%s'", *v.VolumeId, id)
		}
		if d := deref(in.Device); d != "" && d != deref(a.Device) {
			return api.Errorf("InvalidAttachment.NotFound", "The volume '%s' is not attached at device '%s'", *v.VolumeId, d)
		}
		if deref(a.State) == "detaching" {
			return api.Errorf("IncorrectState", "Volume '%s' is in the 'detaching' state.", *v.VolumeId)
		}
		r, err := loadInstance(tx, sc, deref(a.InstanceId), now)
		if err != nil {
			return err
		}
		if v.Root {
			// AWS detaches the root of a stopped instance; here the root
			// is the instance's disk directory, which no other instance
			// could mount.
			if instanceStateName(r) != stateStopped {
				return api.Errorf("IncorrectState", "Unable to detach root volume '%s' from instance '%s'", *v.VolumeId, *r.InstanceId)
			}
			return api.Errorf("UnsupportedOperation", "cloudbox keeps the root volume '%s' as the disk of instance '%s': it cannot be detached.", *v.VolumeId, *r.InstanceId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		out = *a
		if s.dataPlane && instanceStateName(r) != stateStopped {
			// Until the device left the instance (which waits for it to
			// be unmounted there, as EBS's "busy").
			a.State = str("detaching")
			setDeviceStatus(r, *v.VolumeId, "detaching")
			if err := save(tx, sc, kindInstance, *r.InstanceId, r); err != nil {
				return err
			}
			return save(tx, sc, kindVolume, *v.VolumeId, v)
		}
		return detachVolume(tx, sc, v, r)
	})
	if err != nil {
		return nil, err
	}
	out.State = str("detaching")
	out.DeleteOnTermination = nil
	return &out, nil
}

// setDeviceStatus sets the status of the instance's mapping of a volume.
func setDeviceStatus(r *instanceRecord, volume, status string) {
	for _, b := range r.BlockDeviceMappings {
		if b.Ebs != nil && deref(b.Ebs.VolumeId) == volume {
			b.Ebs.Status = str(status)
		}
	}
}

// detachVolume ends a volume's attachment: the volume is available, the
// instance no longer maps it.
func detachVolume(tx *store.Tx, sc scope, v *volumeRecord, r *instanceRecord) error {
	v.Attachments = []*ec2api.VolumeAttachment{}
	v.State = str("available")
	if r != nil {
		r.BlockDeviceMappings = slices.DeleteFunc(r.BlockDeviceMappings, func(b *ec2api.InstanceBlockDeviceMapping) bool {
			return b.Ebs != nil && deref(b.Ebs.VolumeId) == *v.VolumeId
		})
		if err := save(tx, sc, kindInstance, *r.InstanceId, r); err != nil {
			return err
		}
	}
	return save(tx, sc, kindVolume, *v.VolumeId, v)
}

func (s *Service) DeleteVolume(ctx context.Context, in *ec2api.DeleteVolumeRequest) (*ec2api.DeleteVolumeOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[volumeRecord](tx, sc, kindVolume, deref(in.VolumeId))
		if err != nil {
			return err
		}
		if len(v.Attachments) > 0 {
			return api.Errorf("VolumeInUse", "Volume %s is currently attached to %s", *v.VolumeId, deref(v.Attachments[0].InstanceId))
		}
		if deref(v.State) == "creating" {
			return api.Errorf("IncorrectState", "The volume '%s' is 'creating'", *v.VolumeId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindVolume, *v.VolumeId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteVolumeOutput{}, nil
}

func (s *Service) ModifyVolume(ctx context.Context, in *ec2api.ModifyVolumeRequest) (*ec2api.ModifyVolumeResult, error) {
	sc := scopeOf(ctx)
	now := s.now().UTC().Truncate(time.Millisecond)
	var out *ec2api.VolumeModification
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[volumeRecord](tx, sc, kindVolume, deref(in.VolumeId))
		if err != nil {
			return err
		}
		if derefBool(in.MultiAttachEnabled) {
			return api.Errorf("UnsupportedOperation", "Multi-Attach is not supported by cloudbox's volumes.")
		}
		if in.Size == nil && in.VolumeType == nil && in.Iops == nil && in.Throughput == nil {
			return api.Errorf("MissingParameter", "The request must contain at least one of the parameters size, volumeType, iops or throughput")
		}
		spec := volumeSpec{volumeType: deref(v.VolumeType), size: *v.Size, iops: v.Iops, throughput: v.Throughput}
		if spec.volumeType == "gp2" {
			spec.iops = nil // derived from the size
		}
		if in.VolumeType != nil && *in.VolumeType != spec.volumeType {
			spec.volumeType, spec.iops, spec.throughput = *in.VolumeType, nil, nil
		}
		if in.Size != nil {
			if *in.Size < *v.Size {
				return invalidParameter("New size cannot be smaller than existing size")
			}
			spec.size = *in.Size
		}
		if in.Iops != nil {
			spec.iops = in.Iops
		}
		if in.Throughput != nil {
			spec.throughput = in.Throughput
		}
		if spec, err = checkVolumeSpec(spec); err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		at := now
		m := &ec2api.VolumeModification{VolumeId: v.VolumeId, ModificationState: str("completed"), Progress: i64(100),
			StartTime: &at, EndTime: &at,
			OriginalSize: v.Size, OriginalVolumeType: v.VolumeType, OriginalIops: v.Iops, OriginalThroughput: v.Throughput,
			OriginalMultiAttachEnabled: boolp(false), TargetMultiAttachEnabled: boolp(false),
			TargetSize: i64(spec.size), TargetVolumeType: str(spec.volumeType), TargetIops: spec.iops, TargetThroughput: spec.throughput}
		v.Size, v.VolumeType, v.Iops, v.Throughput = m.TargetSize, m.TargetVolumeType, spec.iops, spec.throughput
		v.Modification = m
		resp := *m
		resp.ModificationState, resp.Progress, resp.EndTime = str("modifying"), i64(0), nil
		out = &resp
		return save(tx, sc, kindVolume, *v.VolumeId, v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyVolumeResult{VolumeModification: out}, nil
}

// launchVolumes makes the volumes of a new instance's EBS mappings, each
// attached to it, and returns the instance's mappings of them.
func launchVolumes(tx *store.Tx, sc scope, p *launchPlan, instance, az string, launched time.Time) ([]*ec2api.InstanceBlockDeviceMapping, error) {
	bdms := []*ec2api.InstanceBlockDeviceMapping{}
	for _, b := range p.blockDevices {
		if b.Ebs == nil {
			continue
		}
		e := b.Ebs
		spec := volumeSpec{volumeType: deref(e.VolumeType), size: defaultRootGiB, iops: e.Iops, throughput: e.Throughput}
		if spec.volumeType == "" {
			spec.volumeType = "gp2"
		}
		if e.VolumeSize != nil {
			spec.size = *e.VolumeSize
		}
		spec, err := checkVolumeSpec(spec)
		if err != nil {
			return nil, err
		}
		at := launched
		id := kindVolume.newID()
		dot := derefBool(e.DeleteOnTermination)
		v := &volumeRecord{Volume: ec2api.Volume{
			VolumeId: str(id), AvailabilityZone: str(az), CreateTime: &at, Encrypted: boolp(derefBool(e.Encrypted)),
			Size: i64(spec.size), VolumeType: str(spec.volumeType), Iops: spec.iops, Throughput: spec.throughput,
			SnapshotId: str(deref(e.SnapshotId)), State: str("in-use"), MultiAttachEnabled: boolp(false),
			Attachments: []*ec2api.VolumeAttachment{{AttachTime: &at, Device: b.DeviceName, InstanceId: str(instance),
				State: str("attached"), VolumeId: str(id), DeleteOnTermination: boolp(dot)}},
			Tags: []*ec2api.Tag{},
		}, Root: deref(b.DeviceName) == deref(p.image.RootDeviceName)}
		if derefBool(e.Encrypted) {
			v.KmsKeyId = defaultEBSKey(sc, e.KmsKeyId)
		}
		if p.attrs.VolumeTags != nil {
			v.Tags = p.attrs.VolumeTags
		}
		if err := save(tx, sc, kindVolume, id, v); err != nil {
			return nil, err
		}
		bdms = append(bdms, &ec2api.InstanceBlockDeviceMapping{DeviceName: b.DeviceName, Ebs: &ec2api.EbsInstanceBlockDevice{
			AttachTime: &at, DeleteOnTermination: boolp(dot), Status: str("attached"), VolumeId: str(id),
		}})
	}
	return bdms, nil
}

// releaseVolumes ends the attachments of a terminated instance: volumes
// to delete on termination go, the others become available.
func releaseVolumes(tx *store.Tx, sc scope, r *instanceRecord) error {
	for _, b := range r.BlockDeviceMappings {
		if b.Ebs == nil {
			continue
		}
		v, ok, err := store.Get[volumeRecord](tx, sc.key(kindVolume, deref(b.Ebs.VolumeId)))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if derefBool(b.Ebs.DeleteOnTermination) {
			if err := remove(tx, sc, kindVolume, *v.VolumeId); err != nil {
				return err
			}
			continue
		}
		v.Root = false // no longer anyone's root: a data volume now
		if err := detachVolume(tx, sc, v, nil); err != nil {
			return err
		}
	}
	return nil
}

// setDeleteOnTermination changes the flag on both the instance's mapping
// and the volume's attachment (ModifyInstanceAttribute).
func setDeleteOnTermination(tx *store.Tx, sc scope, b *ec2api.InstanceBlockDeviceMapping, dot bool) error {
	b.Ebs.DeleteOnTermination = boolp(dot)
	v, ok, err := store.Get[volumeRecord](tx, sc.key(kindVolume, deref(b.Ebs.VolumeId)))
	if err != nil || !ok {
		return err
	}
	for _, a := range v.Attachments {
		a.DeleteOnTermination = boolp(dot)
	}
	return save(tx, sc, kindVolume, *v.VolumeId, v)
}

// ReportVolume implements desired.VolumeReporter.
func (s *Service) ReportVolume(account, region, id string) error {
	sc := scope{account: account, region: region}
	return s.store.Update(func(tx *store.Tx) error {
		v, ok, err := store.Get[volumeRecord](tx, sc.key(kindVolume, id))
		if err != nil || !ok || deref(v.State) != "creating" {
			return err
		}
		v.State = str("available")
		s.log.Info("ec2 volume state", "account", account, "region", region, "volume", id, "from", "creating", "to", "available")
		return save(tx, sc, kindVolume, id, v)
	})
}

// ReportAttachment implements desired.VolumeReporter.
func (s *Service) ReportAttachment(account, region, volume, instance, state string) error {
	sc := scope{account: account, region: region}
	now := s.now()
	return s.store.Update(func(tx *store.Tx) error {
		v, ok, err := store.Get[volumeRecord](tx, sc.key(kindVolume, volume))
		if err != nil || !ok || len(v.Attachments) == 0 || deref(v.Attachments[0].InstanceId) != instance {
			return err
		}
		a := v.Attachments[0]
		r, err := loadInstance(tx, sc, instance, now)
		if err != nil {
			return nil // gone meanwhile: its termination released the volume
		}
		switch {
		case state == "attached" && deref(a.State) == "attaching":
			a.State = str("attached")
			setDeviceStatus(r, volume, "attached")
			if err := save(tx, sc, kindInstance, instance, r); err != nil {
				return err
			}
			s.log.Info("ec2 volume attached", "account", account, "region", region, "volume", volume, "instance", instance)
			return save(tx, sc, kindVolume, volume, v)
		case state == "detached" && deref(a.State) == "detaching":
			s.log.Info("ec2 volume detached", "account", account, "region", region, "volume", volume, "instance", instance)
			return detachVolume(tx, sc, v, r)
		}
		return nil
	})
}

var modificationFields = fields[volumeRecord]{
	"volume-id":            func(v *volumeRecord) []string { return one(v.VolumeId) },
	"modification-state":   func(v *volumeRecord) []string { return one(v.Modification.ModificationState) },
	"original-size":        func(v *volumeRecord) []string { return int64Field(v.Modification.OriginalSize) },
	"original-volume-type": func(v *volumeRecord) []string { return one(v.Modification.OriginalVolumeType) },
	"target-size":          func(v *volumeRecord) []string { return int64Field(v.Modification.TargetSize) },
	"target-volume-type":   func(v *volumeRecord) []string { return one(v.Modification.TargetVolumeType) },
	"start-time":           func(v *volumeRecord) []string { return timeField(v.Modification.StartTime) },
}

// DescribeVolumesModifications lists the last modification of each
// volume that has one.
func (s *Service) DescribeVolumesModifications(ctx context.Context, in *ec2api.DescribeVolumesModificationsRequest) (*ec2api.DescribeVolumesModificationsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if err := checkFilterNames(in.Filters, modificationFields); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var page []*volumeRecord
	var next *string
	err := s.store.View(func(tx *store.Tx) error {
		var all []*volumeRecord
		if len(in.VolumeIds) > 0 {
			for _, id := range in.VolumeIds {
				v, err := load[volumeRecord](tx, sc, kindVolume, deref(id))
				if err != nil {
					return err
				}
				if v.Modification == nil {
					return api.Errorf("InvalidVolumeModification.NotFound", "Modification for volume '%s' does not exist.", *v.VolumeId)
				}
				all = append(all, v)
			}
		} else {
			vols, err := listAll[volumeRecord](tx, sc, kindVolume)
			if err != nil {
				return err
			}
			for _, v := range vols {
				if v.Modification != nil {
					all = append(all, v)
				}
			}
		}
		var matched []*volumeRecord
		for _, v := range all {
			ok, err := matchFilters(in.Filters, v, func(v *volumeRecord) []*ec2api.Tag { return v.Tags }, modificationFields)
			if err != nil {
				return err
			}
			if ok {
				matched = append(matched, v)
			}
		}
		var err error
		page, next, err = paginate(matched, func(v *volumeRecord) string { return *v.VolumeId }, in.MaxResults, in.NextToken)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeVolumesModificationsResult{VolumesModifications: []*ec2api.VolumeModification{}, NextToken: next}
	for _, v := range page {
		out.VolumesModifications = append(out.VolumesModifications, v.Modification)
	}
	return out, nil
}
