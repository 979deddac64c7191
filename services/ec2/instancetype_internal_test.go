package ec2

import (
	"context"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// TestCatalogueLimits launches types of every generation and checks that
// the data plane is asked for the catalogue's vCPUs and memory as the
// instance's limits.
func TestCatalogueLimits(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := New(st, time.Now, nil, 1)
	svc.SetDataPlane(true)
	inv := svc.Invoker()
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "123456789012"}})
	want := map[string][2]int{"t1.micro": {1, 627}, "c4.2xlarge": {8, 15360}, "m5.large": {2, 8192}, "m4.10xlarge": {40, 163840}, "r3.large": {2, 15616}}
	ids := map[string]string{}
	for typ := range want {
		out, err := inv.Invoke(ctx, "RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("ap-northeast-2")[0].ImageId,
			InstanceType: str(typ), MinCount: i64(1), MaxCount: i64(1)})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		ids[typ] = *out.(*ec2api.Reservation).Instances[0].InstanceId
	}
	w, err := desired.Snapshot(svc.store, svc)
	if err != nil {
		t.Fatal(err)
	}
	for typ, id := range ids {
		in := w.FindInstance(id)
		if in == nil || in.VCPUs != want[typ][0] || in.MemoryMiB != want[typ][1] {
			t.Errorf("%s: %+v, want %v", typ, in, want[typ])
		}
	}
	_, err = inv.Invoke(ctx, "RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("ap-northeast-2")[0].ImageId,
		InstanceType: str("m5.huge"), MinCount: i64(1), MaxCount: i64(1)})
	if e := api.As(err); e == nil || e.Code != "InvalidParameterValue" || e.Message != "Invalid value 'm5.huge' for InstanceType." {
		t.Fatalf("unknown type: %v", err)
	}
}

// TestCatalogueData checks the data file's entries hold together.
func TestCatalogueData(t *testing.T) {
	if len(instanceTypes) < 150 {
		t.Fatalf("%d types", len(instanceTypes))
	}
	prev := 0
	for _, it := range instanceTypes {
		v, m := typeSizeOf(it)
		if v < 1 || m < 512 || *it.NetworkInfo.NetworkPerformance == "" || len(it.ProcessorInfo.SupportedArchitectures) == 0 ||
			*it.VCpuInfo.DefaultCores**it.VCpuInfo.DefaultThreadsPerCore != v || *it.NetworkInfo.MaximumNetworkInterfaces < 2 {
			t.Errorf("%s: %+v", *it.InstanceType, it)
		}
		words := map[string]bool{"default": true, "supported": true, "unsupported": true}
		if !words[*it.EbsInfo.EbsOptimizedSupport] || !words[*it.NetworkInfo.EnaSupport] || *it.NetworkInfo.EnaSupport == "default" {
			t.Errorf("%s: EBS optimization %s, ENA %s", *it.InstanceType, *it.EbsInfo.EbsOptimizedSupport, *it.NetworkInfo.EnaSupport)
		}
		if !*it.CurrentGeneration {
			prev++
		}
	}
	if prev < 15 {
		t.Errorf("%d previous generation types", prev)
	}
}
