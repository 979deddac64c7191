package ec2

import (
	"context"
	"errors"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Images: a stock catalogue of public AMIs, computed per region (never
// stored), merged with the images accounts make with CreateImage, which
// are stored as imageRecords.

// imageTimeLayout is how AWS writes the image times (CreationDate...).
const imageTimeLayout = "2006-01-02T15:04:05.000Z"

// stableID derives an id of the form AWS uses from what it names.
func stableID(prefix string, parts ...string) string { return ami.StableID(prefix, parts...) }

// stockImagesOf returns the stock images of a region.
func stockImagesOf(region string) []*ec2api.Image {
	stock := ami.Stock(region)
	out := make([]*ec2api.Image, 0, len(stock))
	for _, si := range stock {
		out = append(out, stockImage(region, si))
	}
	return out
}

// stockImage describes a catalogue image as DescribeImages shows it.
func stockImage(region string, si ami.Image) *ec2api.Image {
	created, _ := time.Parse(imageTimeLayout, si.Created)
	img := newImage(si.ID, si.Name, si.Owner, str(si.RootDevice))
	img.Description = str(si.Description)
	img.Architecture = str(si.Arch)
	img.CreationDate = str(si.Created)
	img.DeprecationTime = str(created.AddDate(2, 0, 0).Format(imageTimeLayout))
	img.Public = boolp(true)
	img.State = str("available")
	img.BlockDeviceMappings = []*ec2api.BlockDeviceMapping{{
		DeviceName: str(si.RootDevice),
		Ebs: &ec2api.EbsBlockDevice{
			DeleteOnTermination: boolp(true),
			SnapshotId:          str(stableID("snap", region, si.Name)),
			VolumeSize:          i64(si.SizeGiB),
			VolumeType:          str(si.VolumeType),
			Encrypted:           boolp(false),
		},
	}}
	img.Tags = []*ec2api.Tag{}
	if si.Owner == ami.OwnerAmazon {
		img.ImageLocation = str("amazon/" + si.Name)
		img.ImageOwnerAlias = str("amazon")
	}
	if si.IMDS != "" {
		img.ImdsSupport = str(si.IMDS)
	}
	if si.BootMode != "" {
		img.BootMode = str(si.BootMode)
	}
	return &img
}

// newImage returns an image with what every image in cloudbox has, stock
// or made (an EBS-backed HVM Linux machine); the caller sets the rest.
func newImage(id, name, owner string, root *string) ec2api.Image {
	return ec2api.Image{
		ImageId: str(id), Name: str(name), OwnerId: str(owner), ImageLocation: str(owner + "/" + name),
		ImageType: str("machine"), RootDeviceName: root, RootDeviceType: str("ebs"),
		VirtualizationType: str("hvm"), Hypervisor: str("xen"), EnaSupport: boolp(true), SriovNetSupport: str("simple"),
		PlatformDetails: str("Linux/UNIX"), UsageOperation: str("RunInstances"), ProductCodes: []*ec2api.ProductCode{},
	}
}

// visibleImages returns every image the caller sees: the stock ones and
// its own.
func visibleImages(tx *store.Tx, sc scope) ([]*ec2api.Image, error) {
	own, err := listAll[imageRecord](tx, sc, kindImage)
	if err != nil {
		return nil, err
	}
	all := stockImagesOf(sc.region)
	for _, r := range own {
		all = append(all, &r.Image)
	}
	return all, nil
}

func checkImageID(id string) error {
	if kindImage.checkID(id) != nil {
		return api.Errorf("InvalidAMIID.Malformed", "Invalid id: \"%s\" (expecting \"ami-...\")", id)
	}
	return nil
}

func imageNotFound(ids []string) error {
	if len(ids) == 1 {
		return api.Errorf("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
	}
	return api.Errorf("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
}

// findImage returns the image id names, if the caller can see it.
func findImage(tx *store.Tx, sc scope, id string) (*ec2api.Image, error) {
	if err := checkImageID(id); err != nil {
		return nil, err
	}
	for _, img := range stockImagesOf(sc.region) {
		if *img.ImageId == id {
			return img, nil
		}
	}
	r, ok, err := store.Get[imageRecord](tx, sc.key(kindImage, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, imageNotFound([]string{id})
	}
	return &r.Image, nil
}

// launchImage returns the image a launch names, as findImage does, but a
// well-formed id that no image has launches as the region's default image
// (moto's habit, which users of tutorials expect: their AMI ids are real
// public ones) unless images are strict. The adopted image is recorded,
// public and Amazon's, so DescribeImages shows what was launched.
func (s *Service) launchImage(tx *store.Tx, sc scope, id string) (*ec2api.Image, error) {
	img, err := findImage(tx, sc, id)
	var ae *api.Error
	if err == nil || s.strictImages || !errors.As(err, &ae) || ae.Code != "InvalidAMIID.NotFound" {
		return img, err
	}
	def := ami.Default(sc.region, id)
	r := &imageRecord{Image: *stockImage(sc.region, def), Family: def.Family, Adopted: true}
	r.Description = str(def.Description + " (cloudbox: an AMI id it does not know, launched as this image)")
	if err := save(tx, sc, kindImage, id, r); err != nil {
		return nil, err
	}
	s.log.Info("ec2: an unknown AMI id launches as the default image", "account", sc.account, "region", sc.region,
		"image", id, "as", def.Name, "hint", "cloudbox up --strict-images refuses unknown AMI ids as AWS does")
	return &r.Image, nil
}

// imageLayers returns what the data plane boots an image from: its
// family and the layers CreateImage baked (own first).
func imageLayers(tx *store.Tx, sc scope, id string) (ami.Family, []string) {
	if img, ok := ami.Find(sc.region, id); ok {
		return img.Family, nil
	}
	r, ok, err := store.Get[imageRecord](tx, sc.key(kindImage, id))
	if err != nil || !ok || r.Family == "" {
		return ami.AmazonLinux2, nil
	}
	return r.Family, r.Baked
}

var imageFields = fields[ec2api.Image]{
	"image-id":            func(i *ec2api.Image) []string { return one(i.ImageId) },
	"name":                func(i *ec2api.Image) []string { return one(i.Name) },
	"description":         func(i *ec2api.Image) []string { return one(i.Description) },
	"owner-id":            func(i *ec2api.Image) []string { return one(i.OwnerId) },
	"owner-alias":         func(i *ec2api.Image) []string { return one(i.ImageOwnerAlias) },
	"architecture":        func(i *ec2api.Image) []string { return one(i.Architecture) },
	"state":               func(i *ec2api.Image) []string { return one(i.State) },
	"is-public":           func(i *ec2api.Image) []string { return boolField(i.Public) },
	"image-type":          func(i *ec2api.Image) []string { return one(i.ImageType) },
	"manifest-location":   func(i *ec2api.Image) []string { return one(i.ImageLocation) },
	"root-device-name":    func(i *ec2api.Image) []string { return one(i.RootDeviceName) },
	"root-device-type":    func(i *ec2api.Image) []string { return one(i.RootDeviceType) },
	"virtualization-type": func(i *ec2api.Image) []string { return one(i.VirtualizationType) },
	"hypervisor":          func(i *ec2api.Image) []string { return one(i.Hypervisor) },
	"ena-support":         func(i *ec2api.Image) []string { return boolField(i.EnaSupport) },
	"sriov-net-support":   func(i *ec2api.Image) []string { return one(i.SriovNetSupport) },
	"platform":            func(i *ec2api.Image) []string { return one(i.Platform) },
	"platform-details":    func(i *ec2api.Image) []string { return one(i.PlatformDetails) },
	"usage-operation":     func(i *ec2api.Image) []string { return one(i.UsageOperation) },
	"creation-date":       func(i *ec2api.Image) []string { return one(i.CreationDate) },
	"kernel-id":           func(i *ec2api.Image) []string { return one(i.KernelId) },
	"ramdisk-id":          func(i *ec2api.Image) []string { return one(i.RamdiskId) },
	"source-instance-id":  func(i *ec2api.Image) []string { return one(i.SourceInstanceId) },
	"imds-support":        func(i *ec2api.Image) []string { return one(i.ImdsSupport) },
	"boot-mode":           func(i *ec2api.Image) []string { return one(i.BootMode) },
	"state-reason-code": func(i *ec2api.Image) []string {
		if i.StateReason == nil {
			return nil
		}
		return one(i.StateReason.Code)
	},
	"product-code": func(i *ec2api.Image) []string {
		var out []string
		for _, p := range i.ProductCodes {
			out = append(out, deref(p.ProductCodeId))
		}
		return out
	},
	"block-device-mapping.device-name": bdmField(func(b *ec2api.BlockDeviceMapping) []string { return one(b.DeviceName) }),
	"block-device-mapping.snapshot-id": bdmField(func(b *ec2api.BlockDeviceMapping) []string {
		return ebsField(b, func(e *ec2api.EbsBlockDevice) []string { return one(e.SnapshotId) })
	}),
	"block-device-mapping.volume-size": bdmField(func(b *ec2api.BlockDeviceMapping) []string {
		return ebsField(b, func(e *ec2api.EbsBlockDevice) []string { return int64Field(e.VolumeSize) })
	}),
	"block-device-mapping.volume-type": bdmField(func(b *ec2api.BlockDeviceMapping) []string {
		return ebsField(b, func(e *ec2api.EbsBlockDevice) []string { return one(e.VolumeType) })
	}),
	"block-device-mapping.encrypted": bdmField(func(b *ec2api.BlockDeviceMapping) []string {
		return ebsField(b, func(e *ec2api.EbsBlockDevice) []string { return boolField(e.Encrypted) })
	}),
	"block-device-mapping.delete-on-termination": bdmField(func(b *ec2api.BlockDeviceMapping) []string {
		return ebsField(b, func(e *ec2api.EbsBlockDevice) []string { return boolField(e.DeleteOnTermination) })
	}),
}

func bdmField(f func(*ec2api.BlockDeviceMapping) []string) func(*ec2api.Image) []string {
	return func(i *ec2api.Image) []string {
		var out []string
		for _, b := range i.BlockDeviceMappings {
			out = append(out, f(b)...)
		}
		return out
	}
}

func ebsField(b *ec2api.BlockDeviceMapping, f func(*ec2api.EbsBlockDevice) []string) []string {
	if b.Ebs == nil {
		return nil
	}
	return f(b.Ebs)
}

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// ownedBy applies the Owners parameter of DescribeImages.
func ownedBy(img *ec2api.Image, owners []*string, caller string) bool {
	for _, o := range owners {
		switch v := deref(o); v {
		case "self":
			if deref(img.OwnerId) == caller {
				return true
			}
		default:
			if deref(img.ImageOwnerAlias) == v || deref(img.OwnerId) == v {
				return true
			}
		}
	}
	return false
}

// executableBy applies the ExecutableUsers parameter: "all" is the public
// images, an account (or "self") the images it may launch. Images are
// never shared with other accounts here, so that is the owner's own.
func executableBy(img *ec2api.Image, users []*string, caller string) bool {
	for _, u := range users {
		switch v := deref(u); v {
		case "all":
			if derefBool(img.Public) {
				return true
			}
		case "self":
			if deref(img.OwnerId) == caller || derefBool(img.Public) {
				return true
			}
		default:
			if deref(img.OwnerId) == v {
				return true
			}
		}
	}
	return false
}

func (s *Service) DescribeImages(ctx context.Context, in *ec2api.DescribeImagesRequest) (*ec2api.DescribeImagesResult, error) {
	sc := scopeOf(ctx)
	for _, o := range in.Owners {
		switch v := deref(o); {
		case v == "self" || v == "amazon" || v == "aws-marketplace" || v == "aws-backup-vault" || accountIDRE.MatchString(v):
		default:
			return nil, api.Errorf("InvalidUserID.Malformed", "Invalid user id: \"%s\"", v)
		}
	}
	if err := checkMaxResults(in.MaxResults, 5, 1000); err != nil {
		return nil, err
	}
	var all []*ec2api.Image
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		all, err = visibleImages(tx, sc)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.ImageIds) > 0 {
		byID := map[string]*ec2api.Image{}
		for _, img := range all {
			byID[*img.ImageId] = img
		}
		all = nil
		var missing []string
		seen := map[string]bool{}
		for _, id := range in.ImageIds {
			v := deref(id)
			if err := checkImageID(v); err != nil {
				return nil, err
			}
			if seen[v] {
				continue
			}
			seen[v] = true
			if img, ok := byID[v]; ok {
				all = append(all, img)
			} else {
				missing = append(missing, v)
			}
		}
		if len(missing) > 0 {
			return nil, imageNotFound(missing)
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var matched []*ec2api.Image
	for _, img := range all {
		if len(in.Owners) > 0 && !ownedBy(img, in.Owners, sc.account) {
			continue
		}
		if len(in.ExecutableUsers) > 0 && !executableBy(img, in.ExecutableUsers, sc.account) {
			continue
		}
		ok, err := matchFilters(in.Filters, img, func(i *ec2api.Image) []*ec2api.Tag { return i.Tags }, imageFields)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, img)
		}
	}
	idOf := func(i *ec2api.Image) string { return *i.ImageId }
	sort.Slice(matched, func(i, j int) bool { return idOf(matched[i]) < idOf(matched[j]) })
	page, next, err := paginate(matched, idOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*ec2api.Image{}
	}
	return &ec2api.DescribeImagesResult{Images: page, NextToken: next}, nil
}

var amiNameRE = regexp.MustCompile(`^[A-Za-z0-9()\[\]. /'@_-]{3,128}$`)

func (s *Service) CreateImage(ctx context.Context, in *ec2api.CreateImageRequest) (*ec2api.CreateImageResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.Name)
	if !amiNameRE.MatchString(name) {
		return nil, api.Errorf("InvalidAMIName.Malformed", "AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/' and '_'")
	}
	if len(deref(in.Description)) > 255 {
		return nil, invalidParameter("Value for parameter description is invalid. Description must be at most 255 characters.")
	}
	tags, err := tagsFor(in.TagSpecifications, "image", "snapshot")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	l := s.lifecycle()
	l.track(sc)
	var id string
	err = s.store.Update(func(tx *store.Tx) error {
		inst, err := loadInstance(tx, sc, deref(in.InstanceId), s.now())
		if err != nil {
			return err
		}
		if st := instanceStateName(inst); st != stateRunning && st != stateStopped {
			return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in the 'running' or 'stopped' state.", *inst.InstanceId)
		}
		own, err := listAll[imageRecord](tx, sc, kindImage)
		if err != nil {
			return err
		}
		for _, o := range own {
			if deref(o.Name) == name {
				return api.Errorf("InvalidAMIName.Duplicate", "AMI name %s is already in use by AMI %s", name, *o.ImageId)
			}
		}
		attrs, err := loadInstanceAttrs(tx, sc, *inst.InstanceId)
		if err != nil {
			return err
		}
		bdms, err := imageBlockDevices(attrs.BlockDevices, in.BlockDeviceMappings)
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		id = kindImage.newID()
		img := &imageRecord{Image: newImage(id, name, sc.account, inst.RootDeviceName)}
		img.Description = in.Description
		img.Architecture = inst.Architecture
		img.CreationDate = str(s.now().UTC().Format(imageTimeLayout))
		img.Public = boolp(false)
		img.State = str("pending")
		img.SourceInstanceId = inst.InstanceId
		img.BlockDeviceMappings = bdms
		img.Tags = tags
		// The new image boots like the one the instance came from, from
		// the instance's disk over that image's layers.
		if src, err := findImage(tx, sc, deref(inst.ImageId)); err == nil {
			img.BootMode, img.ImdsSupport = src.BootMode, src.ImdsSupport
		}
		family, baked := imageLayers(tx, sc, deref(inst.ImageId))
		img.Family, img.Baked, img.SourceDisk = family, append([]string{id}, baked...), *inst.InstanceId
		return save(tx, sc, kindImage, id, img)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateImageResult{ImageId: str(id)}, nil
}

// imageBlockDevices returns the mappings of a new image: the instance's
// volumes, each with a new snapshot, changed or removed by the request's.
func imageBlockDevices(have []*ec2api.BlockDeviceMapping, req []*ec2api.BlockDeviceMapping) ([]*ec2api.BlockDeviceMapping, error) {
	merged, err := mergeBlockDevices(have, req)
	if err != nil {
		return nil, err
	}
	for _, b := range merged {
		if b.Ebs != nil {
			b.Ebs.SnapshotId = str(newAssocID("snap"))
		}
	}
	return merged, nil
}

func (s *Service) DeregisterImage(ctx context.Context, in *ec2api.DeregisterImageRequest) (*ec2api.DeregisterImageOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		img, err := findImage(tx, sc, deref(in.ImageId))
		if err != nil {
			return err
		}
		if deref(img.OwnerId) != sc.account {
			return api.Errorf("AuthFailure", "Not authorized for image:%s", *img.ImageId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindImage, *img.ImageId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeregisterImageOutput{}, nil
}

func (s *Service) DescribeImageAttribute(ctx context.Context, in *ec2api.DescribeImageAttributeRequest) (*ec2api.ImageAttribute, error) {
	sc := scopeOf(ctx)
	var img *ec2api.Image
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		img, err = findImage(tx, sc, deref(in.ImageId))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.ImageAttribute{ImageId: img.ImageId}
	val := func(s *string) *ec2api.AttributeValue {
		if s == nil {
			return &ec2api.AttributeValue{}
		}
		return &ec2api.AttributeValue{Value: s}
	}
	switch attr := deref(in.Attribute); attr {
	case "launchPermission":
		if deref(img.OwnerId) != sc.account {
			return nil, api.Errorf("AuthFailure", "Not authorized for image:%s", *img.ImageId)
		}
		out.LaunchPermissions = []*ec2api.LaunchPermission{}
		if derefBool(img.Public) {
			out.LaunchPermissions = append(out.LaunchPermissions, &ec2api.LaunchPermission{Group: str("all")})
		}
	case "description":
		out.Description = val(img.Description)
	case "kernel":
		out.KernelId = val(img.KernelId)
	case "ramdisk":
		out.RamdiskId = val(img.RamdiskId)
	case "productCodes":
		out.ProductCodes = img.ProductCodes
	case "blockDeviceMapping":
		out.BlockDeviceMappings = img.BlockDeviceMappings
	case "sriovNetSupport":
		out.SriovNetSupport = val(img.SriovNetSupport)
	case "bootMode":
		out.BootMode = val(img.BootMode)
	case "imdsSupport":
		out.ImdsSupport = val(img.ImdsSupport)
	case "tpmSupport":
		out.TpmSupport = val(img.TpmSupport)
	case "lastLaunchedTime":
		out.LastLaunchedTime = val(img.LastLaunchedTime)
	case "deregistrationProtection":
		out.DeregistrationProtection = val(str("disabled"))
	case "uefiData":
		out.UefiData = &ec2api.AttributeValue{}
	default:
		return nil, invalidParameter("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	return out, nil
}
