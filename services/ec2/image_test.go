package ec2_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/cloudbox/cloudbox/daemon"
)

func TestImageCatalogue(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()

	al2 := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Owners:  []string{"amazon"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"amzn2-ami-hvm-*"}}, {Name: aws.String("architecture"), Values: []string{"x86_64"}}},
	}))
	if len(al2.Images) != 1 {
		t.Fatalf("amzn2-ami-hvm-* x86_64: %d images", len(al2.Images))
	}
	img := al2.Images[0]
	if !strings.HasPrefix(aws.ToString(img.ImageId), "ami-") || len(aws.ToString(img.ImageId)) != 21 ||
		aws.ToString(img.OwnerId) != "137112412989" || aws.ToString(img.ImageOwnerAlias) != "amazon" ||
		!aws.ToBool(img.Public) || img.State != types.ImageStateAvailable || aws.ToString(img.RootDeviceName) != "/dev/xvda" ||
		img.VirtualizationType != types.VirtualizationTypeHvm || !aws.ToBool(img.EnaSupport) || aws.ToString(img.PlatformDetails) != "Linux/UNIX" ||
		len(img.BlockDeviceMappings) != 1 || aws.ToInt32(img.BlockDeviceMappings[0].Ebs.VolumeSize) != 8 {
		t.Fatalf("image: %+v", img)
	}

	// Ids are stable in a region and differ between regions.
	again := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{*img.ImageId}}))
	if len(again.Images) != 1 || aws.ToString(again.Images[0].Name) != aws.ToString(img.Name) {
		t.Fatalf("by id: %+v", again.Images)
	}
	other := must[*ec2sdk.DescribeImagesOutput](t)(c.ec2("eu-west-1", "test").DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{aws.ToString(img.Name)}}},
	}))
	if len(other.Images) != 1 || aws.ToString(other.Images[0].ImageId) == aws.ToString(img.ImageId) {
		t.Fatalf("eu-west-1: %+v", other.Images)
	}

	// Canonical's images are found by owner id, not under "amazon".
	ubuntu := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Owners:  []string{"099720109477"},
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"}}},
	}))
	if len(ubuntu.Images) != 1 || aws.ToString(ubuntu.Images[0].RootDeviceName) != "/dev/sda1" {
		t.Fatalf("jammy: %+v", ubuntu.Images)
	}
	amazonUbuntu := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Owners: []string{"amazon"}, Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"ubuntu*"}}},
	}))
	if len(amazonUbuntu.Images) != 0 {
		t.Fatalf("ubuntu under amazon: %d", len(amazonUbuntu.Images))
	}
	for _, f := range []struct{ name, value string }{
		{"name", "debian-12-*"}, {"name", "CentOS Stream 9 *"}, {"name", "al2023-ami-2023.*-kernel-6.1-x86_64"}, {"name", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"},
	} {
		out := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String(f.name), Values: []string{f.value}}}}))
		if len(out.Images) == 0 {
			t.Errorf("no image named %s", f.value)
		}
	}
	arm := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("architecture"), Values: []string{"arm64"}}, {Name: aws.String("is-public"), Values: []string{"true"}}},
	}))
	for _, i := range arm.Images {
		if i.Architecture != types.ArchitectureValuesArm64 {
			t.Fatalf("arm64 filter gave %s", i.Architecture)
		}
	}
	self := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Owners: []string{"self"}}))
	if self.Images == nil || len(self.Images) != 0 {
		t.Fatalf("a new account owns no images: %+v", self.Images)
	}

	// Pagination over the catalogue.
	p := ec2sdk.NewDescribeImagesPaginator(cl, &ec2sdk.DescribeImagesInput{MaxResults: aws.Int32(5)})
	n := 0
	for p.HasMorePages() {
		n += len(must[*ec2sdk.DescribeImagesOutput](t)(p.NextPage(ctx)).Images)
	}
	if n != 16 {
		t.Fatalf("%d stock images", n)
	}

	_, err := cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{"ami-nope"}})
	wantCode(t, err, "InvalidAMIID.Malformed")
	_, err = cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Owners: []string{"somebody"}})
	wantCode(t, err, "InvalidUserID.Malformed")
	_, err = cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
}

func TestImageCreateFromInstance(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpImage(t, cl, "al2023-ami-2023.*-kernel-6.1-arm64")
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t4g.small"})
	id := aws.ToString(inst.InstanceId)
	cmpWaitRunning(t, cl, id)

	out := must[*ec2sdk.CreateImageOutput](t)(cl.CreateImage(ctx, &ec2sdk.CreateImageInput{
		InstanceId: aws.String(id), Name: aws.String("web (v1)"), Description: aws.String("golden"), NoReboot: aws.Bool(true),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeImage, Tags: []types.Tag{{Key: aws.String("role"), Value: aws.String("web")}}}},
	}))
	imgID := aws.ToString(out.ImageId)
	// A new image is pending for a moment (TestInstanceStateClock sees it
	// without racing the clock).
	first := cmpDescribeImage(t, cl, imgID)
	if first.State != types.ImageStatePending && first.State != types.ImageStateAvailable {
		t.Fatalf("a new image: %s", first.State)
	}
	if first.Architecture != types.ArchitectureValuesArm64 || aws.ToBool(first.Public) || aws.ToString(first.OwnerId) != "000000000000" ||
		aws.ToString(first.SourceInstanceId) != id || first.ImdsSupport != types.ImdsSupportValuesV20 || len(first.Tags) != 1 {
		t.Fatalf("image: %+v", first)
	}
	waiter := ec2sdk.NewImageAvailableWaiter(cl, func(o *ec2sdk.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := waiter.Wait(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{imgID}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	self := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Owners: []string{"self"}}))
	if len(self.Images) != 1 || aws.ToString(self.Images[0].ImageId) != imgID {
		t.Fatalf("own images: %+v", self.Images)
	}
	perm := must[*ec2sdk.DescribeImageAttributeOutput](t)(cl.DescribeImageAttribute(ctx, &ec2sdk.DescribeImageAttributeInput{ImageId: aws.String(imgID), Attribute: types.ImageAttributeNameLaunchPermission}))
	if perm.LaunchPermissions == nil || len(perm.LaunchPermissions) != 0 {
		t.Fatalf("a private image has no launch permissions: %+v", perm.LaunchPermissions)
	}
	desc := must[*ec2sdk.DescribeImageAttributeOutput](t)(cl.DescribeImageAttribute(ctx, &ec2sdk.DescribeImageAttributeInput{ImageId: aws.String(imgID), Attribute: types.ImageAttributeNameDescription}))
	if aws.ToString(desc.Description.Value) != "golden" {
		t.Fatalf("description: %+v", desc.Description)
	}

	// The image launches an instance of its architecture.
	child := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(imgID), InstanceType: "t4g.micro"})
	if child.Architecture != types.ArchitectureValuesArm64 {
		t.Fatalf("child: %s", child.Architecture)
	}

	_, err := cl.CreateImage(ctx, &ec2sdk.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("web (v1)")})
	wantCode(t, err, "InvalidAMIName.Duplicate")
	_, err = cl.CreateImage(ctx, &ec2sdk.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("x!")})
	wantCode(t, err, "InvalidAMIName.Malformed")
	_, err = cl.CreateImage(ctx, &ec2sdk.CreateImageInput{InstanceId: aws.String("i-0123456789abcdef0"), Name: aws.String("ghost")})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = cl.CreateImage(ctx, &ec2sdk.CreateImageInput{InstanceId: aws.String(id), Name: aws.String("dry"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.DescribeImageAttribute(ctx, &ec2sdk.DescribeImageAttributeInput{ImageId: aws.String(ami), Attribute: types.ImageAttributeNameLaunchPermission})
	wantCode(t, err, "AuthFailure")
	_, err = cl.DeregisterImage(ctx, &ec2sdk.DeregisterImageInput{ImageId: aws.String(ami)})
	wantCode(t, err, "AuthFailure")

	must[*ec2sdk.DeregisterImageOutput](t)(cl.DeregisterImage(ctx, &ec2sdk.DeregisterImageInput{ImageId: aws.String(imgID)}))
	_, err = cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{imgID}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = cl.DeregisterImage(ctx, &ec2sdk.DeregisterImageInput{ImageId: aws.String(imgID)})
	wantCode(t, err, "InvalidAMIID.NotFound")
}

func cmpDescribeImage(t *testing.T, cl *ec2sdk.Client, id string) types.Image {
	t.Helper()
	out := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(context.Background(), &ec2sdk.DescribeImagesInput{ImageIds: []string{id}}))
	if len(out.Images) != 1 {
		t.Fatalf("image %s: %d found", id, len(out.Images))
	}
	return out.Images[0]
}

// The public AMI ids the tutorials name are in the catalogue, in their
// regions, as the images they are: seed 003's NAT AMIs.
func TestImageTutorialIDs(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	for region, id := range map[string]string{"ap-northeast-2": "ami-00550ccc38e992b78", "us-east-1": "ami-00a36856283d67c39", "us-west-2": "ami-0032ea5ae08aa27a2"} {
		out := must[*ec2sdk.DescribeImagesOutput](t)(c.ec2(region, "test").DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{id}}))
		if len(out.Images) != 1 || !strings.HasPrefix(aws.ToString(out.Images[0].Name), "amzn-ami-vpc-nat-") || aws.ToString(out.Images[0].ImageOwnerAlias) != "amazon" {
			t.Errorf("%s in %s: %+v", id, region, out.Images)
		}
	}
	// Only in its own region, as AMI ids are.
	_, err := c.ec2("eu-west-1", "test").DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{"ami-00a36856283d67c39"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
}

// Without --strict-images, an AMI id the catalogue does not know launches
// as the region's Amazon Linux 2, which DescribeImages then shows as the
// public image it was taken for; with it, the launch fails as on AWS.
func TestImageUnknownIDLaunches(t *testing.T) {
	t.Parallel()
	c := newCloudWith(t, daemon.Config{Ephemeral: true})
	cl := c.client()
	ctx := context.Background()
	const id = "ami-0abcdef1234567890"
	run := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
	if got := aws.ToString(run.Instances[0].ImageId); got != id {
		t.Fatalf("instance image %q, want %q", got, id)
	}
	img := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{ImageIds: []string{id}}))
	if len(img.Images) != 1 || !aws.ToBool(img.Images[0].Public) || aws.ToString(img.Images[0].OwnerId) != "137112412989" ||
		!strings.HasPrefix(aws.ToString(img.Images[0].Name), "amzn2-ami-hvm-") {
		t.Fatalf("the adopted image: %+v", img.Images)
	}
	// Not the caller's to deregister.
	_, err := cl.DeregisterImage(ctx, &ec2sdk.DeregisterImageInput{ImageId: aws.String(id)})
	wantCode(t, err, "AuthFailure")
	// A malformed id is still refused.
	_, err = cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String("ami-xyz"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "InvalidAMIID.Malformed")

	strict := newCloud(t).client()
	_, err = strict.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(id), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "InvalidAMIID.NotFound")
}

// "resolve:ssm:" image ids launch the image an SSM parameter holds, given
// directly or in a launch template (resolved at launch, as on AWS).
func TestImageResolveSSM(t *testing.T) {
	t.Parallel()
	cl := newCloud(t).client()
	ctx := context.Background()
	al2023 := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Owners: []string{"amazon"}, Filters: []types.Filter{{Name: aws.String("name"), Values: []string{"al2023-ami-2023*-kernel-6.1-x86_64"}}},
	}))
	if len(al2023.Images) != 1 {
		t.Fatalf("al2023 x86_64: %+v", al2023.Images)
	}
	want := aws.ToString(al2023.Images[0].ImageId)
	const param = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
	run := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(param), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
	if got := aws.ToString(run.Instances[0].ImageId); got != want {
		t.Errorf("launched %s, want %s", got, want)
	}
	must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("ssm"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(param)},
	}))
	run = must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("ssm")}, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))
	if got := aws.ToString(run.Instances[0].ImageId); got != want {
		t.Errorf("launched from the template %s, want %s", got, want)
	}
	_, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String("resolve:ssm:/no/such/parameter"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "SsmInvalidParameter")
}
