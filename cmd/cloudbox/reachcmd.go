package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/cloudbox/cloudbox/reachability"
)

// reachCmd asks the daemon whether FROM can reach TO, and prints the path
// with the rule, entry or route that decides. Exit code 0 when it can, 1
// when it cannot.
func reachCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("reach", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	port := fs.Int("port", 0, "destination port (tcp, udp)")
	proto := fs.String("protocol", "tcp", "tcp, udp or icmp")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	fs.Usage = commandUsage(fs, "reach [--port P] [--protocol tcp|udp|icmp] [--json] FROM TO",
		"Answers \"why can't FROM reach TO?\" from the rules the kernel enforces: security groups,\n"+
			"network ACLs (both ways: they are stateless), route tables, internet and NAT gateways,\n"+
			"peering connections; it names the rule, ACL entry or missing route that decides.\n"+
			"FROM and TO are instance ids, network interface ids, private or public addresses, an\n"+
			"RDS or ElastiCache endpoint name, or \"internet\". Flags go before FROM and TO.",
		"cloudbox reach --port 3306 i-0123456789abcdef0 bts-db.abcdefgh.ap-northeast-2.rds.amazonaws.com",
		"cloudbox reach --port 80 internet 203.0.113.10",
		"cloudbox reach --protocol icmp i-0123456789abcdef0 internet")
	fs.Parse(args)
	if fs.NArg() != 2 {
		fs.Usage()
		os.Exit(2)
	}
	v := url.Values{"from": {fs.Arg(0)}, "to": {fs.Arg(1)}, "protocol": {*proto}, "port": {strconv.Itoa(*port)}}
	if _, err := getInfo(*endpoint); err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(endpointURL(*endpoint) + "/_cloudbox/reachability?" + v.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("reach: %s", e.Error)
		}
		return fmt.Errorf("reach: %s: %s", resp.Status, b)
	}
	var res reachability.Result
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		fmt.Fprintln(w, res.Explanation)
		for _, s := range res.Path {
			mark := "ok  "
			if !s.Allowed {
				mark = "STOP"
			}
			fmt.Fprintf(w, "  %s %-18s %s\n", mark, s.Component, s.Detail)
		}
	}
	if !res.Reachable {
		os.Exit(1)
	}
	return nil
}
