package ec2_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestGetLaunchTemplateData reads an instance back as template data, with
// the SDK and the CLI, and makes a template from what the CLI printed.
func TestGetLaunchTemplateData(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "c4.large", UserData: aws.String(userData),
		Monitoring:        &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}}})
	out := must[*ec2sdk.GetLaunchTemplateDataOutput](t)(cl.GetLaunchTemplateData(ctx, &ec2sdk.GetLaunchTemplateDataInput{InstanceId: inst.InstanceId}))
	d := out.LaunchTemplateData
	if aws.ToString(d.ImageId) != ami || d.InstanceType != "c4.large" || aws.ToString(d.UserData) != userData || !aws.ToBool(d.Monitoring.Enabled) ||
		aws.ToString(d.Placement.AvailabilityZone) != aws.ToString(inst.Placement.AvailabilityZone) || len(d.NetworkInterfaces) != 1 ||
		aws.ToString(d.NetworkInterfaces[0].SubnetId) != aws.ToString(inst.SubnetId) || len(d.NetworkInterfaces[0].Groups) != 1 ||
		aws.ToString(d.NetworkInterfaces[0].PrivateIpAddresses[0].PrivateIpAddress) != aws.ToString(inst.PrivateIpAddress) ||
		len(d.BlockDeviceMappings) == 0 || len(d.TagSpecifications) != 1 || aws.ToString(d.TagSpecifications[0].Tags[0].Value) != "web" ||
		aws.ToInt32(d.CpuOptions.CoreCount) != 1 || d.InstanceInitiatedShutdownBehavior != "stop" {
		b, _ := json.MarshalIndent(d, "", " ")
		t.Fatalf("template data: %s", b)
	}
	_, err := cl.GetLaunchTemplateData(ctx, &ec2sdk.GetLaunchTemplateDataInput{InstanceId: aws.String("i-0123456789abcdef0")})
	wantCode(t, err, "InvalidInstanceID.NotFound")

	// The CLI's output, less the interface's own id, makes a template.
	var got struct{ LaunchTemplateData map[string]any }
	if err := c.cli(t, &got, "ec2", "get-launch-template-data", "--instance-id", *inst.InstanceId); err != nil {
		t.Fatal(err)
	}
	for _, n := range got.LaunchTemplateData["NetworkInterfaces"].([]any) {
		delete(n.(map[string]any), "NetworkInterfaceId")
		delete(n.(map[string]any), "PrivateIpAddresses")
	}
	b, _ := json.Marshal(got.LaunchTemplateData)
	file := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.cli(t, nil, "ec2", "create-launch-template", "--launch-template-name", "from-instance", "--launch-template-data", "file://"+file); err != nil {
		t.Fatal(err)
	}
	v := must[*ec2sdk.DescribeLaunchTemplateVersionsOutput](t)(cl.DescribeLaunchTemplateVersions(ctx, &ec2sdk.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("from-instance")}))
	if v.LaunchTemplateVersions[0].LaunchTemplateData.InstanceType != "c4.large" {
		t.Fatalf("template: %+v", v.LaunchTemplateVersions[0].LaunchTemplateData)
	}
}
