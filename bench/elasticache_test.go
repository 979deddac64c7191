package main

import "testing"

func TestParseRedisBenchCSV(t *testing.T) {
	out := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","45045.04","0.567","0.128","0.543","0.815","1.087","3.135"
"GET","52083.33","0.489","0.112","0.471","0.703","0.959","2.447"
`
	res, err := parseRedisBenchCSV(out)
	if err != nil {
		t.Fatal(err)
	}
	if res["SET"].rps != 45045.04 || res["SET"].p99 != 1.087 || res["GET"].rps != 52083.33 || res["GET"].p99 != 0.959 {
		t.Errorf("parsed %+v", res)
	}
	for _, bad := range []string{"", `"test","rps"` + "\n", `"SET","1"` + "\n" + `"x","y"` + "\n", `"test","rps","p99_latency_ms"` + "\n" + `"SET","x","1"` + "\n"} {
		if _, err := parseRedisBenchCSV(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
