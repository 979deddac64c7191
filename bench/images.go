package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// benchImages times what the images issue asks: building the images the
// first time and from the cache, and `yum install -y httpd` inside an
// Amazon Linux 2 instance, through the package mirror cold and warm,
// against the same install (apt-get update and install apache2) run by
// the host in a throwaway chroot of the same base, straight from the
// host's Debian mirror.
func benchImages(ctx context.Context, r *runner) (section, error) {
	const title = "Images: build, and yum install -y httpd through the mirror"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	s := section{
		title: title,
		method: "A fresh image directory: `cloudbox images` builds the Debian base (mmdebstrap, from the host's Debian mirror) " +
			"and every family's layer, then runs again over the built directory (the cached start). A data-plane daemon on " +
			"that directory (empty package cache) runs a VPC with an internet gateway; an Amazon Linux 2 instance in its public " +
			"subnet times `yum install -y httpd` (the mirror fills from upstream: cold), then a second instance does the same " +
			"(every package from the mirror's cache: warm). The baseline is the host running `apt-get update && apt-get install -y " +
			"apache2` in a throwaway overlay chroot of the same base, straight from the host's mirror, as often.",
		table: table{header: []string{"Step", "Time"}},
	}
	dir, err := os.MkdirTemp("/var/tmp", "cbbench-images-")
	if err != nil {
		return s, err
	}
	defer os.RemoveAll(dir)
	imageDir := filepath.Join(dir, "images")
	build := func() (time.Duration, error) {
		t0 := time.Now()
		out, err := exec.CommandContext(ctx, r.cloudbox, "images", "--image-dir", imageDir).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("cloudbox images: %w: %s", err, tail1k(out))
		}
		return time.Since(t0), nil
	}
	first, err := build()
	if err != nil {
		return s, err
	}
	cached, err := build()
	if err != nil {
		return s, err
	}
	s.table.rows = append(s.table.rows, []string{"image build, first (base + 6 families)", secs(first)}, []string{"image build, cached", ms(cached)})

	c, err := startDataplaneDaemon(ctx, r, "cloudbox (data plane, fresh image dir)", "--image-dir", imageDir)
	if err != nil {
		return s, err
	}
	cold, warm, err := yumTwice(ctx, c)
	if err = errors.Join(err, c.close()); err != nil {
		return s, err
	}
	var base string
	if m, _ := filepath.Glob(filepath.Join(imageDir, "base-*")); len(m) == 1 {
		base = m[0]
	}
	host, err := aptInChroot(ctx, base, dir)
	if err != nil {
		return s, err
	}
	s.table.rows = append(s.table.rows,
		[]string{"`yum install -y httpd` in an instance, mirror cold", secs(cold)},
		[]string{"`yum install -y httpd` in an instance, mirror warm", secs(warm)},
		[]string{"host baseline: `apt-get update && apt-get install -y apache2`, chroot of the base", secs(host)})
	s.notes = append(s.notes, fmt.Sprintf("In an instance, with the mirror warm, the install takes %s the host's own (cold %s).",
		times(warm.Seconds()/host.Seconds()), times(cold.Seconds()/host.Seconds())))
	return s, nil
}

// yumTwice builds a public subnet and times yum install -y httpd in two
// Amazon Linux 2 instances, one after the other.
func yumTwice(ctx context.Context, c *dpCloud) (cold, warm time.Duration, err error) {
	api := c.ec2.api
	al2, err := untimed(ctx, func(ctx context.Context) (*ec2.DescribeImagesOutput, error) {
		return api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"},
			Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn2-ami-hvm-*-x86_64-gp2"}}}})
	})
	if err != nil || len(al2.Images) == 0 {
		return 0, 0, errors.Join(err, errors.New("no Amazon Linux 2 image"))
	}
	vpc, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateVpcOutput, error) {
		return api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	})
	if err != nil {
		return 0, 0, err
	}
	vpcID := vpc.Vpc.VpcId
	sub, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateSubnetOutput, error) {
		return api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.9.0.0/24")})
	})
	if err != nil {
		return 0, 0, err
	}
	igw, err := untimed(ctx, func(ctx context.Context) (*ec2.CreateInternetGatewayOutput, error) {
		return api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	})
	if err != nil {
		return 0, 0, err
	}
	igwID := igw.InternetGateway.InternetGatewayId
	if _, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{VpcId: vpcID, InternetGatewayId: igwID}); err != nil {
		return 0, 0, err
	}
	rts, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{*vpcID}}}})
	if err != nil || len(rts.RouteTables) == 0 {
		return 0, 0, errors.Join(err, errors.New("no main route table"))
	}
	if _, err := api.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rts.RouteTables[0].RouteTableId,
		DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igwID}); err != nil {
		return 0, 0, err
	}
	yum := func() (time.Duration, error) {
		out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: al2.Images[0].ImageId, InstanceType: types.InstanceTypeT3Medium,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), NetworkInterfaces: []types.InstanceNetworkInterfaceSpecification{{
				DeviceIndex: aws.Int32(0), SubnetId: sub.Subnet.SubnetId, AssociatePublicIpAddress: aws.Bool(true)}}})
		if err != nil {
			return 0, err
		}
		id := aws.ToString(out.Instances[0].InstanceId)
		if _, err := c.waitRunning(ctx, []string{id}, 2*time.Minute); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if b, err := c.exec(ctx, id, "yum", "install", "-y", "httpd").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("yum install -y httpd in %s: %w: %s", id, err, tail1k(b))
		}
		return time.Since(t0), nil
	}
	if cold, err = yum(); err != nil {
		return 0, 0, err
	}
	warm, err = yum()
	return cold, warm, err
}

// aptInChroot times apt-get update and install apache2 in an overlay of
// the base image, in a mount namespace of its own that vanishes with the
// command (nothing is mounted in the host's).
func aptInChroot(ctx context.Context, base, dir string) (time.Duration, error) {
	if base == "" {
		return 0, errors.New("no base image built")
	}
	root := filepath.Join(dir, "chroot")
	for _, d := range []string{"upper", "work", "merged"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return 0, err
		}
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(root, "upper", "etc"), 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(root, "upper", "etc", "resolv.conf"), resolv, 0o644); err != nil {
		return 0, err
	}
	m := filepath.Join(root, "merged")
	script := strings.Join([]string{
		fmt.Sprintf("mount -t overlay overlay -o lowerdir=%s,upperdir=%s/upper,workdir=%s/work %s", base, root, root, m),
		"mount -t proc proc " + m + "/proc",
		"mount --bind /dev " + m + "/dev",
		"chroot " + m + " sh -c 'DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apache2 >/dev/null'",
	}, " && ")
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("apt-get in a chroot of the base: %w: %s", err, tail1k(out))
	}
	return time.Since(t0), nil
}
