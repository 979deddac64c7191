// Package ami is the catalogue of public AMIs every region offers: the
// images Amazon, Canonical, Debian and CentOS publish, with ids stable per
// region, the real ids of the public AMIs the tutorials name, and the root
// file system family each one boots (dataplane/images builds them).
//
// EC2 describes and launches these; SSM publishes the newest of each as
// the public parameters /aws/service/...; neither stores them.
package ami

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Family is the root file system an image boots: what is underneath is
// always Debian (see dataplane/images), with the tools of the family.
type Family string

const (
	AmazonLinux2    Family = "amzn2"
	AmazonLinux2023 Family = "al2023"
	// AmazonLinuxNAT is amzn-ami-vpc-nat: Amazon Linux with IP forwarding
	// and masquerading set up at boot, as the NAT AMIs do.
	AmazonLinuxNAT Family = "amzn-nat"
	Ubuntu         Family = "ubuntu"
	Debian         Family = "debian"
	CentOS         Family = "centos"
)

// DefaultUser returns the user a family's images are logged in as, with
// sudo, as on the real AMIs.
func DefaultUser(f Family) string {
	switch f {
	case Ubuntu:
		return "ubuntu"
	case Debian:
		return "admin"
	}
	return "ec2-user"
}

// Families lists every family, in a stable order.
var Families = []Family{AmazonLinux2, AmazonLinux2023, AmazonLinuxNAT, Ubuntu, Debian, CentOS}

// The accounts that publish the stock images, as on AWS. Only Amazon's own
// have the owner alias "amazon"; the others are found by owner id.
const (
	OwnerAmazon    = "137112412989"
	OwnerCanonical = "099720109477"
	OwnerDebian    = "136693071363"
	OwnerCentOS    = "125523088429"
)

// Image is one public AMI of a region.
type Image struct {
	ID, Name, Description string
	Owner                 string // account id
	Arch                  string // x86_64 or arm64
	RootDevice            string // /dev/xvda, /dev/sda1
	SizeGiB               int64
	VolumeType            string
	Created               string // creation date, as AWS writes it (2006-01-02T15:04:05.000Z)
	IMDS                  string // "v2.0" when the image asks for IMDSv2
	BootMode              string
	Family                Family
	// Params are the leaves, under ParamPath, of the SSM public
	// parameters that point at this image (none if no parameter does).
	ParamPath string
	Params    []string
}

// The SSM public parameter paths of the families.
const (
	PathAmazonLinux = "/aws/service/ami-amazon-linux-latest"
	PathUbuntu      = "/aws/service/canonical/ubuntu/server"
	PathDebian      = "/aws/service/debian/release"
)

type stock struct {
	Image
	// ids are the real AMI ids of this image in the regions that have one
	// a tutorial names; other regions get a stable derived id.
	ids map[string]string
}

var catalogue = []stock{
	{Image: Image{Name: "amzn2-ami-kernel-5.10-hvm-2.0.20240306.2-x86_64-gp2", Description: "Amazon Linux 2 Kernel 5.10 AMI 2.0.20240306.2 x86_64 HVM gp2", Owner: OwnerAmazon, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-06T21:21:13.000Z", Family: AmazonLinux2, ParamPath: PathAmazonLinux, Params: []string{"amzn2-ami-kernel-5.10-hvm-x86_64-gp2"}}},
	{Image: Image{Name: "amzn2-ami-kernel-5.10-hvm-2.0.20240306.2-arm64-gp2", Description: "Amazon Linux 2 Kernel 5.10 AMI 2.0.20240306.2 arm64 HVM gp2", Owner: OwnerAmazon, Arch: "arm64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-06T21:21:18.000Z", BootMode: "uefi", Family: AmazonLinux2, ParamPath: PathAmazonLinux, Params: []string{"amzn2-ami-kernel-5.10-hvm-arm64-gp2"}}},
	{Image: Image{Name: "amzn2-ami-hvm-2.0.20240306.2-x86_64-gp2", Description: "Amazon Linux 2 AMI 2.0.20240306.2 x86_64 HVM gp2", Owner: OwnerAmazon, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-06T21:20:51.000Z", Family: AmazonLinux2, ParamPath: PathAmazonLinux, Params: []string{"amzn2-ami-hvm-x86_64-gp2"}}},
	{Image: Image{Name: "amzn2-ami-hvm-2.0.20240306.2-arm64-gp2", Description: "Amazon Linux 2 AMI 2.0.20240306.2 arm64 HVM gp2", Owner: OwnerAmazon, Arch: "arm64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-06T21:20:57.000Z", BootMode: "uefi", Family: AmazonLinux2, ParamPath: PathAmazonLinux, Params: []string{"amzn2-ami-hvm-arm64-gp2"}}},
	{Image: Image{Name: "al2023-ami-2023.3.20240312.0-kernel-6.1-x86_64", Description: "Amazon Linux 2023 AMI 2023.3.20240312.0 x86_64 HVM kernel-6.1", Owner: OwnerAmazon, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp3", Created: "2024-03-11T22:08:06.000Z", IMDS: "v2.0", BootMode: "uefi-preferred", Family: AmazonLinux2023, ParamPath: PathAmazonLinux, Params: []string{"al2023-ami-kernel-default-x86_64", "al2023-ami-kernel-6.1-x86_64"}}},
	{Image: Image{Name: "al2023-ami-2023.3.20240312.0-kernel-6.1-arm64", Description: "Amazon Linux 2023 AMI 2023.3.20240312.0 arm64 HVM kernel-6.1", Owner: OwnerAmazon, Arch: "arm64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp3", Created: "2024-03-11T22:08:19.000Z", IMDS: "v2.0", BootMode: "uefi", Family: AmazonLinux2023, ParamPath: PathAmazonLinux, Params: []string{"al2023-ami-kernel-default-arm64", "al2023-ami-kernel-6.1-arm64"}}},
	{Image: Image{Name: "al2023-ami-minimal-2023.3.20240312.0-kernel-6.1-x86_64", Description: "Amazon Linux 2023 AMI 2023.3.20240312.0 x86_64 Minimal HVM kernel-6.1", Owner: OwnerAmazon, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 2, VolumeType: "gp3", Created: "2024-03-11T22:08:01.000Z", IMDS: "v2.0", BootMode: "uefi-preferred", Family: AmazonLinux2023, ParamPath: PathAmazonLinux, Params: []string{"al2023-ami-minimal-kernel-default-x86_64", "al2023-ami-minimal-kernel-6.1-x86_64"}}},
	// The NAT AMI of seed 003's RegionMap, under its real ids.
	{Image: Image{Name: "amzn-ami-vpc-nat-2018.03.0.20231218.0-x86_64-ebs", Description: "Amazon Linux AMI 2018.03.0.20231218.0 x86_64 VPC NAT HVM EBS", Owner: OwnerAmazon, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "standard", Created: "2023-12-19T01:12:52.000Z", Family: AmazonLinuxNAT},
		ids: map[string]string{"ap-northeast-2": "ami-00550ccc38e992b78", "us-east-1": "ami-00a36856283d67c39", "us-west-2": "ami-0032ea5ae08aa27a2"}},
	{Image: Image{Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301", Description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-03-01", Owner: OwnerCanonical, Arch: "x86_64", RootDevice: "/dev/sda1", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-01T10:14:21.000Z", Family: Ubuntu, ParamPath: PathUbuntu, Params: []string{"22.04/stable/current/amd64/hvm/ebs-gp2/ami-id", "jammy/stable/current/amd64/hvm/ebs-gp2/ami-id"}}},
	{Image: Image{Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20240301", Description: "Canonical, Ubuntu, 22.04 LTS, arm64 jammy image build on 2024-03-01", Owner: OwnerCanonical, Arch: "arm64", RootDevice: "/dev/sda1", SizeGiB: 8, VolumeType: "gp2", Created: "2024-03-01T10:15:02.000Z", Family: Ubuntu, ParamPath: PathUbuntu, Params: []string{"22.04/stable/current/arm64/hvm/ebs-gp2/ami-id", "jammy/stable/current/arm64/hvm/ebs-gp2/ami-id"}}},
	{Image: Image{Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240423", Description: "Canonical, Ubuntu, 24.04 LTS, amd64 noble image build on 2024-04-23", Owner: OwnerCanonical, Arch: "x86_64", RootDevice: "/dev/sda1", SizeGiB: 8, VolumeType: "gp3", Created: "2024-04-23T11:47:12.000Z", Family: Ubuntu, ParamPath: PathUbuntu, Params: []string{"24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", "noble/stable/current/amd64/hvm/ebs-gp3/ami-id"}}},
	{Image: Image{Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20240423", Description: "Canonical, Ubuntu, 24.04 LTS, arm64 noble image build on 2024-04-23", Owner: OwnerCanonical, Arch: "arm64", RootDevice: "/dev/sda1", SizeGiB: 8, VolumeType: "gp3", Created: "2024-04-23T11:47:40.000Z", Family: Ubuntu, ParamPath: PathUbuntu, Params: []string{"24.04/stable/current/arm64/hvm/ebs-gp3/ami-id", "noble/stable/current/arm64/hvm/ebs-gp3/ami-id"}}},
	{Image: Image{Name: "debian-12-amd64-20240211-1654", Description: "Debian 12 (20240211-1654)", Owner: OwnerDebian, Arch: "x86_64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-02-11T16:58:52.000Z", Family: Debian, ParamPath: PathDebian, Params: []string{"12/latest/amd64"}}},
	{Image: Image{Name: "debian-12-arm64-20240211-1654", Description: "Debian 12 (20240211-1654)", Owner: OwnerDebian, Arch: "arm64", RootDevice: "/dev/xvda", SizeGiB: 8, VolumeType: "gp2", Created: "2024-02-11T16:59:13.000Z", Family: Debian, ParamPath: PathDebian, Params: []string{"12/latest/arm64"}}},
	{Image: Image{Name: "CentOS Stream 9 x86_64 20240311", Description: "CentOS Stream 9 x86_64 20240311", Owner: OwnerCentOS, Arch: "x86_64", RootDevice: "/dev/sda1", SizeGiB: 10, VolumeType: "gp2", Created: "2024-03-11T09:12:44.000Z", Family: CentOS}},
	{Image: Image{Name: "CentOS Stream 9 aarch64 20240311", Description: "CentOS Stream 9 aarch64 20240311", Owner: OwnerCentOS, Arch: "arm64", RootDevice: "/dev/sda1", SizeGiB: 10, VolumeType: "gp2", Created: "2024-03-11T09:13:05.000Z", Family: CentOS}},
}

// defaultName is the image an unknown AMI id launches as (moto's default
// too): Amazon Linux 2 on x86_64.
const defaultName = "amzn2-ami-hvm-2.0.20240306.2-x86_64-gp2"

// StableID derives an id of the form AWS uses from what it names, so an
// image keeps its id in a region across restarts, and ids differ between
// regions as AMI ids do.
func StableID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + "-" + hex.EncodeToString(h[:])[:17]
}

// Stock returns the public images of a region.
func Stock(region string) []Image {
	out := make([]Image, 0, len(catalogue))
	for _, s := range catalogue {
		img := s.Image
		img.ID = s.ids[region]
		if img.ID == "" {
			img.ID = StableID("ami", region, img.Name)
		}
		out = append(out, img)
	}
	return out
}

// Find returns the public image id names in a region.
func Find(region, id string) (Image, bool) {
	for _, img := range Stock(region) {
		if img.ID == id {
			return img, true
		}
	}
	return Image{}, false
}

// Default returns the image an unknown AMI id launches as in a region: its
// Amazon Linux 2 x86_64 image, under the id asked for.
func Default(region, id string) Image {
	for _, img := range Stock(region) {
		if img.Name == defaultName {
			img.ID = id
			return img
		}
	}
	panic("ami: the catalogue lost its default image")
}

// Parameters returns the SSM public parameters of a region: full name ->
// image id, for the newest image of each parameter.
func Parameters(region string) map[string]string {
	out := map[string]string{}
	created := map[string]string{}
	for _, img := range Stock(region) {
		for _, leaf := range img.Params {
			name := img.ParamPath + "/" + leaf
			if img.Created > created[name] {
				out[name], created[name] = img.ID, img.Created
			}
		}
	}
	return out
}
