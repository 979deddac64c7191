package cfnhelpers

import (
	"reflect"
	"strings"
	"testing"
)

func names(steps []configStep) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.name)
	}
	return out
}

func TestPlanConfigSets(t *testing.T) {
	md := `{"AWS::CloudFormation::Init": {
		"configSets": {
			"ascending": ["config1", "config2"],
			"descending": ["config2", "config1"],
			"single": "config1",
			"nested": [{"ConfigSet": "descending"}, "config3"],
			"default": [{"ConfigSet": "nested"}, "config1"],
			"loop": [{"ConfigSet": "loop2"}],
			"loop2": [{"ConfigSet": "loop"}],
			"missing": ["nope"]
		},
		"config1": {"commands": {}},
		"config2": {"files": {}},
		"config3": {}
	}}`
	for _, c := range []struct {
		sets []string
		want []string
		err  string
	}{
		{sets: []string{"ascending"}, want: []string{"config1", "config2"}},
		{sets: []string{"descending"}, want: []string{"config2", "config1"}},
		{sets: []string{"single"}, want: []string{"config1"}},
		{sets: []string{"nested"}, want: []string{"config2", "config1", "config3"}},
		{sets: []string{"ascending", "descending"}, want: []string{"config1", "config2", "config2", "config1"}},
		{want: []string{"config2", "config1", "config3", "config1"}},
		{sets: []string{"loop"}, err: "includes itself"},
		{sets: []string{"other"}, err: "configSet other does not exist"},
		{sets: []string{"missing"}, err: "Config nope not found"},
	} {
		steps, err := plan([]byte(md), c.sets)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want %q", c.sets, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(names(steps), c.want) {
			t.Errorf("%v: %v %v, want %v", c.sets, names(steps), err, c.want)
		}
	}
}

func TestPlanWithoutConfigSets(t *testing.T) {
	steps, err := plan([]byte(`{"AWS::CloudFormation::Init": {"config": {"files": {}}}}`), nil)
	if err != nil || !reflect.DeepEqual(names(steps), []string{"config"}) {
		t.Fatalf("%v %v", names(steps), err)
	}
	if _, err := plan([]byte(`{"AWS::CloudFormation::Init": {"config": {}}}`), []string{"x"}); err == nil {
		t.Error("a config set that the metadata does not define was accepted")
	}
	if _, err := plan([]byte(`{"Other": 1}`), nil); err == nil || !strings.Contains(err.Error(), "no AWS::CloudFormation::Init") {
		t.Errorf("metadata without Init: %v", err)
	}
	if _, err := plan([]byte(`null`), nil); err == nil {
		t.Error("no metadata was accepted")
	}
}

func TestParseSignal(t *testing.T) {
	for _, c := range []struct {
		args []string
		want signalArgs
		err  string
	}{
		{args: []string{"-e", "0", "--stack", "s", "--resource", "R", "--region", "eu-west-1"},
			want: signalArgs{success: true, stack: "s", resource: "R", conn: connArgs{region: "eu-west-1"}}},
		{args: []string{"-e", "1", "--stack=s", "--resource=R"}, want: signalArgs{success: false, stack: "s", resource: "R"}},
		{args: []string{"-e1", "--stack", "s", "--resource", "R", "-r", "it broke", "-i", "web-1"},
			want: signalArgs{success: false, stack: "s", resource: "R", reason: "it broke", id: "web-1"}},
		{args: []string{"-s", "false", "--stack", "s", "--resource", "R"}, want: signalArgs{success: false, stack: "s", resource: "R"}},
		{args: []string{"--success", "true", "-e", "2", "--stack", "s", "--resource", "R"}, want: signalArgs{success: false, stack: "s", resource: "R"}},
		{args: []string{"-e", "0", "-d", "ready", "https://h/x?X-Amz-Signature=1"},
			want: signalArgs{success: true, data: "ready", handleURL: "https://h/x?X-Amz-Signature=1"}},
		{args: []string{"--exit-code", "x", "--stack", "s", "--resource", "R"}, err: "must be an integer"},
		{args: []string{"-e", "0"}, err: "are required"},
		{args: []string{"-e", "0", "u1", "u2"}, err: "too many arguments"},
		{args: []string{""}, err: "not a wait condition handle URL"},
		{args: []string{"-e", "0", "/relative"}, err: "not a wait condition handle URL"},
		{args: []string{"--stack", "s", "--resource", "R", "--bogus"}, err: "no such option: --bogus"},
		{args: []string{"--stack", "s", "--resource"}, err: "requires an argument"},
		{args: []string{"-s", "maybe", "--stack", "s", "--resource", "R"}, err: "true or false"},
	} {
		got, err := parseSignal(c.args)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.args, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%q: %+v %v, want %+v", c.args, got, err, c.want)
		}
	}
}

func TestParseInit(t *testing.T) {
	a, err := parseInit([]string{"-v", "--stack", "web", "--resource", "WebServer", "--configsets", "install, run", "--region", "us-west-2"})
	if err != nil || !a.verbose || a.stack != "web" || a.resource != "WebServer" || !reflect.DeepEqual(a.configSets, []string{"install", "run"}) || a.conn.region != "us-west-2" {
		t.Fatalf("%+v %v", a, err)
	}
	a, err = parseInit([]string{"-vs", "web", "-rWebServer", "-c", "x"})
	if err != nil || !a.verbose || a.stack != "web" || a.resource != "WebServer" || !reflect.DeepEqual(a.configSets, []string{"x"}) {
		t.Fatalf("grouped short options: %+v %v", a, err)
	}
	if _, err := parseInit([]string{"--stack", "web"}); err == nil || !strings.Contains(err.Error(), "logical resource id") {
		t.Errorf("no resource: %v", err)
	}
	if _, err := parseInit([]string{"--verbose=1", "-s", "a", "-r", "b"}); err == nil {
		t.Error("a value for a flag was accepted")
	}
	m, err := parseMetadata([]string{"-s", "web", "-r", "R", "-k", "AWS::CloudFormation::Init.config"})
	if err != nil || m.key != "AWS::CloudFormation::Init.config" {
		t.Errorf("cfn-get-metadata: %+v %v", m, err)
	}
}

// FuzzParseArgs: no command line makes the parsers panic, and what they
// accept names a target.
func FuzzParseArgs(f *testing.F) {
	f.Add("-e\x000\x00--stack\x00s\x00--resource\x00R")
	f.Add("-vs\x00web\x00-rR\x00-c\x00a,b")
	f.Add("--\x00-x\x00https://h/p")
	f.Add("-e")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		if s, err := parseSignal(args); err == nil && s.handleURL == "" && (s.stack == "" || s.resource == "") {
			t.Errorf("%q: a signal without a target", args)
		}
		for _, p := range []func([]string) (*initArgs, error){parseInit, parseMetadata} {
			if a, err := p(args); err == nil && (a.stack == "" || a.resource == "") {
				t.Errorf("%q: no stack or resource", args)
			}
		}
	})
}
