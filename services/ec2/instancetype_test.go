package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestInstanceTypeCatalogue(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	out := must[*ec2sdk.DescribeInstanceTypesOutput](t)(cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{
		InstanceTypes: []types.InstanceType{"t2.micro", "t4g.small", "m5.xlarge", "c6i.large", "r5.2xlarge", "t3a.nano"},
	}))
	want := map[string]struct {
		vcpus int32
		mem   int64
		arch  types.ArchitectureType
	}{
		"t2.micro": {1, 1024, "x86_64"}, "t4g.small": {2, 2048, "arm64"}, "m5.xlarge": {4, 16384, "x86_64"},
		"c6i.large": {2, 4096, "x86_64"}, "r5.2xlarge": {8, 65536, "x86_64"}, "t3a.nano": {2, 512, "x86_64"},
	}
	if len(out.InstanceTypes) != len(want) {
		t.Fatalf("got %d types", len(out.InstanceTypes))
	}
	for _, it := range out.InstanceTypes {
		w := want[string(it.InstanceType)]
		archs := it.ProcessorInfo.SupportedArchitectures
		if aws.ToInt32(it.VCpuInfo.DefaultVCpus) != w.vcpus || aws.ToInt64(it.MemoryInfo.SizeInMiB) != w.mem || archs[len(archs)-1] != w.arch {
			t.Errorf("%s: %d vCPUs, %d MiB, %v; want %+v", it.InstanceType, aws.ToInt32(it.VCpuInfo.DefaultVCpus), aws.ToInt64(it.MemoryInfo.SizeInMiB), archs, w)
		}
	}

	free := must[*ec2sdk.DescribeInstanceTypesOutput](t)(cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{
		Filters: []types.Filter{{Name: aws.String("free-tier-eligible"), Values: []string{"true"}}},
	}))
	var names []string
	for _, it := range free.InstanceTypes {
		names = append(names, string(it.InstanceType))
	}
	if !equal(names, []string{"t2.micro", "t3.micro"}) {
		t.Fatalf("free tier: %v", names)
	}

	arm := must[*ec2sdk.DescribeInstanceTypesOutput](t)(cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{
		Filters: []types.Filter{
			{Name: aws.String("processor-info.supported-architecture"), Values: []string{"arm64"}},
			{Name: aws.String("vcpu-info.default-vcpus"), Values: []string{"2"}},
			{Name: aws.String("memory-info.size-in-mib"), Values: []string{"4096"}},
		},
	}))
	names = nil
	for _, it := range arm.InstanceTypes {
		names = append(names, string(it.InstanceType))
	}
	if !equal(names, []string{"c6g.large", "c7g.large", "t4g.medium"}) {
		t.Fatalf("arm64, 2 vCPUs, 4 GiB: %v", names)
	}

	// Every type, 20 a page, with wildcards over the families.
	p := ec2sdk.NewDescribeInstanceTypesPaginator(cl, &ec2sdk.DescribeInstanceTypesInput{
		MaxResults: aws.Int32(20),
		Filters:    []types.Filter{{Name: aws.String("instance-type"), Values: []string{"t*", "m5.*"}}, {Name: aws.String("current-generation"), Values: []string{"true"}}},
	})
	seen, pages := map[types.InstanceType]bool{}, 0
	for p.HasMorePages() {
		page := must[*ec2sdk.DescribeInstanceTypesOutput](t)(p.NextPage(ctx))
		pages++
		for _, it := range page.InstanceTypes {
			if seen[it.InstanceType] {
				t.Fatalf("%s twice", it.InstanceType)
			}
			seen[it.InstanceType] = true
		}
	}
	if len(seen) != 7*4+8 || pages != 2 {
		t.Fatalf("%d types over %d pages, want 36 over 2", len(seen), pages)
	}

	// Previous generation types, through the CLI.
	var old struct{ InstanceTypes []types.InstanceTypeInfo }
	if err := c.cli(t, &old, "ec2", "describe-instance-types", "--filters", "Name=current-generation,Values=false",
		"Name=instance-type,Values=t1.*,m1.*", "--query", "{InstanceTypes: InstanceTypes[].{InstanceType: InstanceType, MemoryInfo: MemoryInfo}}"); err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, it := range old.InstanceTypes {
		names = append(names, string(it.InstanceType))
	}
	if !equal(names, []string{"m1.large", "m1.medium", "m1.small", "m1.xlarge", "t1.micro"}) || aws.ToInt64(old.InstanceTypes[4].MemoryInfo.SizeInMiB) != 627 {
		t.Fatalf("previous generation: %+v", old.InstanceTypes)
	}

	offers := must[*ec2sdk.DescribeInstanceTypeOfferingsOutput](t)(cl.DescribeInstanceTypeOfferings(ctx, &ec2sdk.DescribeInstanceTypeOfferingsInput{
		LocationType: types.LocationTypeAvailabilityZone,
		Filters:      []types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.micro"}}},
	}))
	if len(offers.InstanceTypeOfferings) != 4 || aws.ToString(offers.InstanceTypeOfferings[0].Location) != "ap-northeast-2a" {
		t.Fatalf("offerings: %+v", offers.InstanceTypeOfferings)
	}

	_, err := cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{"t2.micro", "t2.gigantic"}})
	wantCode(t, err, "InvalidInstanceType")
	_, err = cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{Filters: []types.Filter{{Name: aws.String("flavour"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.DescribeInstanceTypes(ctx, &ec2sdk.DescribeInstanceTypesInput{MaxResults: aws.Int32(500)})
	wantCode(t, err, "InvalidParameterValue")
}
