package elasticache

import "testing"

func TestEndpointNames(t *testing.T) {
	for region, code := range map[string]string{"us-east-1": "use1", "us-west-2": "usw2", "eu-central-1": "euc1",
		"ap-southeast-1": "apse1", "ap-northeast-1": "apne1", "ap-northeast-2": "apn2", "sa-east-1": "sae1"} {
		if got := regionCode(region); got != code {
			t.Errorf("regionCode(%s) = %s, want %s", region, got, code)
		}
	}
	sc := scope{account: "123456789012", region: "ap-northeast-2"}
	h := sc.hash()
	if len(h) != 6 || h != sc.hash() || h == (scope{account: "123456789012", region: "us-east-1"}).hash() {
		t.Fatalf("hash %q", h)
	}
	if got, want := sc.primaryName("bts-redis"), "master.bts-redis."+h+".apn2.cache.amazonaws.com"; got != want {
		t.Errorf("primary %s, want %s", got, want)
	}
	if got, want := sc.nodeName("bts-redis", "bts-redis-002"), "bts-redis-002.bts-redis."+h+".apn2.cache.amazonaws.com"; got != want {
		t.Errorf("node %s, want %s", got, want)
	}
}
