package cfnhelpers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// option is one option a helper accepts: its long name, an optional
// one-letter short name, and whether it takes a value.
type option struct {
	long, short string
	value       bool
}

// parsed is a command line read against a table of options: values by
// long name (a flag's value is "true") and the positional arguments.
type parsed struct {
	opts map[string]string
	args []string
}

func (p *parsed) get(long string) string { return p.opts[long] }

func (p *parsed) has(long string) bool { _, ok := p.opts[long]; return ok }

// parseArgs reads args as Python's optparse does for aws-cfn-bootstrap's
// tools: --long VALUE, --long=VALUE, -s VALUE, -sVALUE, grouped short
// flags (-vx), and "--" ending the options; positional arguments may come
// anywhere. A repeated option keeps its last value.
func parseArgs(table []option, args []string) (*parsed, error) {
	p := &parsed{opts: map[string]string{}}
	byLong, byShort := map[string]option{}, map[string]option{}
	for _, o := range table {
		byLong[o.long] = o
		if o.short != "" {
			byShort[o.short] = o
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			p.args = append(p.args, args[i+1:]...)
			return p, nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			o, ok := byLong[name]
			if !ok {
				return nil, fmt.Errorf("no such option: --%s", name)
			}
			switch {
			case !o.value && hasVal:
				return nil, fmt.Errorf("--%s option does not take a value", name)
			case !o.value:
				val = "true"
			case !hasVal:
				if i+1 >= len(args) {
					return nil, fmt.Errorf("--%s option requires an argument", name)
				}
				i++
				val = args[i]
			}
			p.opts[o.long] = val
		case len(a) > 1 && a[0] == '-':
			// A group of short options: flags, then at most one taking the
			// rest of the group or the next argument as its value.
			rest := a[1:]
			for rest != "" {
				c := rest[:1]
				rest = rest[1:]
				o, ok := byShort[c]
				if !ok {
					return nil, fmt.Errorf("no such option: -%s", c)
				}
				if !o.value {
					p.opts[o.long] = "true"
					continue
				}
				if rest == "" {
					if i+1 >= len(args) {
						return nil, fmt.Errorf("-%s option requires an argument", c)
					}
					i++
					rest = args[i]
				}
				p.opts[o.long] = rest
				rest = ""
			}
		default:
			p.args = append(p.args, a)
		}
	}
	return p, nil
}

// Options shared by the tools: where the API is and how to sign.
var commonOptions = []option{
	{long: "region", value: true},
	{long: "url", short: "u", value: true},
	{long: "role", value: true},
	{long: "access-key", value: true},
	{long: "secret-key", value: true},
	{long: "credential-file", short: "f", value: true},
	{long: "http-proxy", value: true},
	{long: "https-proxy", value: true},
}

var signalOptions = append([]option{
	{long: "success", short: "s", value: true},
	{long: "reason", short: "r", value: true},
	{long: "data", short: "d", value: true},
	{long: "id", short: "i", value: true},
	{long: "exit-code", short: "e", value: true},
	{long: "stack", value: true},
	{long: "resource", value: true},
}, commonOptions...)

var initOptions = append([]option{
	{long: "stack", short: "s", value: true},
	{long: "resource", short: "r", value: true},
	{long: "configsets", short: "c", value: true},
	{long: "verbose", short: "v"},
	{long: "resume"},
}, commonOptions...)

var metadataOptions = append([]option{
	{long: "stack", short: "s", value: true},
	{long: "resource", short: "r", value: true},
	{long: "key", short: "k", value: true},
}, commonOptions...)

// signalArgs is what cfn-signal was asked.
type signalArgs struct {
	success          bool
	reason, data, id string
	stack, resource  string
	handleURL        string
	conn             connArgs
}

// connArgs say where the API is and what to sign with.
type connArgs struct {
	region, url, role     string
	accessKey, secretKey  string
	credentialFile        string
	httpProxy, httpsProxy string
}

func connOf(p *parsed) connArgs {
	return connArgs{region: p.get("region"), url: p.get("url"), role: p.get("role"),
		accessKey: p.get("access-key"), secretKey: p.get("secret-key"), credentialFile: p.get("credential-file"),
		httpProxy: p.get("http-proxy"), httpsProxy: p.get("https-proxy")}
}

// parseSignal reads cfn-signal's command line: either a wait condition
// handle's URL, or --stack and --resource for SignalResource. -e (an exit
// code, 0 for success) wins over -s (true or false).
func parseSignal(args []string) (*signalArgs, error) {
	p, err := parseArgs(signalOptions, args)
	if err != nil {
		return nil, err
	}
	s := &signalArgs{success: true, reason: p.get("reason"), data: p.get("data"), id: p.get("id"),
		stack: p.get("stack"), resource: p.get("resource"), conn: connOf(p)}
	if p.has("success") {
		switch strings.ToLower(p.get("success")) {
		case "true":
		case "false":
			s.success = false
		default:
			return nil, fmt.Errorf("-s/--success must be true or false, not %q", p.get("success"))
		}
	}
	if p.has("exit-code") {
		code, err := strconv.Atoi(strings.TrimSpace(p.get("exit-code")))
		if err != nil {
			return nil, fmt.Errorf("-e/--exit-code must be an integer, not %q", p.get("exit-code"))
		}
		s.success = code == 0
	}
	switch {
	case len(p.args) > 1:
		return nil, fmt.Errorf("too many arguments: %s", strings.Join(p.args, " "))
	case len(p.args) == 1:
		s.handleURL = p.args[0]
		if u, err := url.Parse(s.handleURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("%q is not a wait condition handle URL", s.handleURL)
		}
		if s.stack != "" || s.resource != "" {
			return nil, fmt.Errorf("a wait condition handle URL and --stack/--resource are exclusive")
		}
	case s.stack == "" || s.resource == "":
		return nil, fmt.Errorf("either a wait condition handle URL, or --stack and --resource, are required")
	}
	return s, nil
}

// initArgs is what cfn-init or cfn-get-metadata was asked.
type initArgs struct {
	stack, resource string
	configSets      []string
	key             string
	verbose         bool
	conn            connArgs
}

func parseInit(args []string) (*initArgs, error) {
	p, err := parseArgs(initOptions, args)
	if err != nil {
		return nil, err
	}
	a := &initArgs{stack: p.get("stack"), resource: p.get("resource"), verbose: p.has("verbose"), conn: connOf(p)}
	if p.has("configsets") {
		for _, c := range strings.Split(p.get("configsets"), ",") {
			if c = strings.TrimSpace(c); c != "" {
				a.configSets = append(a.configSets, c)
			}
		}
	}
	return a, requireStack(a, p)
}

func parseMetadata(args []string) (*initArgs, error) {
	p, err := parseArgs(metadataOptions, args)
	if err != nil {
		return nil, err
	}
	a := &initArgs{stack: p.get("stack"), resource: p.get("resource"), key: p.get("key"), conn: connOf(p)}
	return a, requireStack(a, p)
}

func requireStack(a *initArgs, p *parsed) error {
	switch {
	case len(p.args) > 0:
		return fmt.Errorf("unexpected arguments: %s", strings.Join(p.args, " "))
	case a.stack == "":
		return fmt.Errorf("you must specify a stack name (-s/--stack)")
	case a.resource == "":
		return fmt.Errorf("you must specify a logical resource id (-r/--resource)")
	}
	return nil
}
