package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cfnHelpersTemplate is an instance whose user data runs cfn-init on its
// own Metadata (a file, and a service started from a unit the metadata
// writes) and then cfn-signal for its CreationPolicy, as Amazon Linux
// templates do. Fail makes the user data signal a failure instead.
const cfnHelpersTemplate = `{
  "Parameters": {
    "ImageId": {"Type": "String"},
    "SubnetId": {"Type": "String"},
    "Fail": {"Type": "String", "Default": "false"}
  },
  "Resources": {
    "Web": {
      "Type": "AWS::EC2::Instance",
      "CreationPolicy": {"ResourceSignal": {"Count": 1, "Timeout": "PT10M"}},
      "Metadata": {
        "AWS::CloudFormation::Init": {
          "configSets": {"setup": ["files", "run"]},
          "files": {
            "files": {
              "/etc/cfn-e2e/hello.txt": {"content": {"Fn::Sub": "made by ${AWS::StackName}\n"}, "mode": "000640"},
              "/etc/systemd/system/e2e-web.service": {"content": "[Unit]\nDescription=cfn-init e2e\n[Service]\nExecStart=/bin/sh -c 'while :; do sleep 60; done'\n[Install]\nWantedBy=multi-user.target\n"}
            }
          },
          "run": {
            "commands": {
              "01_mark": {"command": "echo ran > /etc/cfn-e2e/commands", "test": "test -e /etc/cfn-e2e/hello.txt"}
            },
            "services": {"sysvinit": {"e2e-web": {"enabled": "true", "ensureRunning": "true"}}}
          }
        }
      },
      "Properties": {
        "ImageId": {"Ref": "ImageId"},
        "InstanceType": "t3.micro",
        "SubnetId": {"Ref": "SubnetId"},
        "UserData": {"Fn::Base64": {"Fn::Sub": "#!/bin/bash\n/opt/aws/bin/cfn-init -v --stack ${AWS::StackName} --resource Web --configsets setup --region ${AWS::Region}\nrc=$?\nif [ ${Fail} = true ]; then rc=1; fi\n/opt/aws/bin/cfn-signal -e $rc --stack ${AWS::StackName} --resource Web --region ${AWS::Region}\n"}}
      }
    }
  }
}`

// TestCfnHelpers: a CreationPolicy met by cfn-signal from user data after
// cfn-init applied the instance's Metadata; and a failure signal rolling
// the stack back with AWS's reasons.
func TestCfnHelpers(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	const region = "ap-northeast-2"
	vpcID := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := get(w.aws("ec2", "create-subnet", "--vpc-id", vpcID, "--cidr-block", "10.0.0.0/24", "--availability-zone", region+"a"), "Subnet", "SubnetId")
	w.aws("ec2", "modify-subnet-attribute", "--subnet-id", subnet, "--map-public-ip-on-launch")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpcID, "--internet-gateway-id", igw)
	rt := get(w.aws("ec2", "create-route-table", "--vpc-id", vpcID), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", subnet)
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")

	body := filepath.Join(t.TempDir(), "template.json")
	if err := os.WriteFile(body, []byte(cfnHelpersTemplate), 0o644); err != nil {
		t.Fatal(err)
	}
	create := func(name, fail string) {
		w.aws("cloudformation", "create-stack", "--stack-name", name, "--template-body", "file://"+body, "--parameters",
			"ParameterKey=ImageId,ParameterValue="+ami, "ParameterKey=SubnetId,ParameterValue="+subnet, "ParameterKey=Fail,ParameterValue="+fail)
	}
	// settle waits for the stack to leave its *_IN_PROGRESS states.
	settle := func(name string) string {
		deadline := time.Now().Add(8 * time.Minute)
		for {
			st := get(w.aws("cloudformation", "describe-stacks", "--stack-name", name), "Stacks", 0, "StackStatus")
			if !strings.HasSuffix(st, "_IN_PROGRESS") || time.Now().After(deadline) {
				return st
			}
			time.Sleep(2 * time.Second)
		}
	}
	type event struct{ LogicalResourceId, ResourceStatus, ResourceStatusReason, PhysicalResourceId string }
	events := func(name string) []event {
		var out struct{ StackEvents []event }
		b, _ := json.Marshal(w.aws("cloudformation", "describe-stack-events", "--stack-name", name))
		json.Unmarshal(b, &out)
		// Newest first, as AWS lists them: oldest first for reading.
		for i, j := 0, len(out.StackEvents)-1; i < j; i, j = i+1, j-1 {
			out.StackEvents[i], out.StackEvents[j] = out.StackEvents[j], out.StackEvents[i]
		}
		return out.StackEvents
	}

	create("cfn-ok", "false")
	create("cfn-fail", "true")

	t.Run("success", func(t *testing.T) {
		w := w.in(t)
		if st := settle("cfn-ok"); st != "CREATE_COMPLETE" {
			t.Fatalf("stack %s: %+v", st, events("cfn-ok"))
		}
		inst := get(w.aws("cloudformation", "describe-stack-resource", "--stack-name", "cfn-ok", "--logical-resource-id", "Web"),
			"StackResourceDetail", "PhysicalResourceId")
		// The resource completed only after the instance's signal.
		signalled := -1
		for i, e := range events("cfn-ok") {
			if e.LogicalResourceId != "Web" {
				continue
			}
			if e.ResourceStatusReason == "Received SUCCESS signal with UniqueId "+inst {
				signalled = i
			}
			if e.ResourceStatus == "CREATE_COMPLETE" && (signalled < 0 || signalled > i) {
				t.Errorf("Web completed before its signal: %+v", events("cfn-ok"))
			}
		}
		if signalled < 0 {
			t.Errorf("no signal event from %s: %+v", inst, events("cfn-ok"))
		}
		if got := w.shOK(inst, "cat /etc/cfn-e2e/hello.txt; stat -c %a /etc/cfn-e2e/hello.txt; cat /etc/cfn-e2e/commands"); got != "made by cfn-ok\n640\nran" {
			t.Errorf("files and commands of the metadata: %q", got)
		}
		if got := w.sh(inst, "systemctl is-active e2e-web; systemctl is-enabled e2e-web"); !strings.HasPrefix(got.Stdout, "active\nenabled") {
			t.Errorf("the metadata's service: %s", got)
		}
		if got := w.shOK(inst, "grep -c 'Command 01_mark succeeded' /var/log/cfn-init.log"); got != "1" {
			t.Errorf("cfn-init.log: %s", w.shOK(inst, "cat /var/log/cfn-init.log"))
		}
		// cfn-get-metadata reads the resolved metadata.
		if got := w.shOK(inst, "/opt/aws/bin/cfn-get-metadata -s cfn-ok -r Web -k AWS::CloudFormation::Init.files.files"); !strings.Contains(got, "made by cfn-ok") {
			t.Errorf("cfn-get-metadata: %s", got)
		}
		// cfn-hup, run once, sees the metadata for the first time: its
		// post.add hook runs with the value in CFN_NEW_METADATA; a second
		// run sees no change and runs nothing.
		hup := `mkdir -p /etc/cfn/hooks.d
cat > /etc/cfn/cfn-hup.conf <<'CONF'
[main]
stack=cfn-ok
region=` + region + `
interval=1
CONF
cat > /etc/cfn/hooks.d/reloader.conf <<'CONF'
[reloader]
triggers=post.add,post.update
path=Resources.Web.Metadata.AWS::CloudFormation::Init
action=echo run >> /tmp/hup-runs; printf '%s' "$CFN_NEW_METADATA" > /tmp/hup-new
CONF
/opt/aws/bin/cfn-hup --no-daemon && /opt/aws/bin/cfn-hup --no-daemon && wc -l < /tmp/hup-runs && cat /tmp/hup-new`
		if got := w.shOK(inst, hup); !strings.HasPrefix(got, "1\n") || !strings.Contains(got, "made by cfn-ok") {
			t.Errorf("cfn-hup: %q; log: %s", got, w.sh(inst, "cat /var/log/cfn-hup.log").Stdout)
		}
		// The helpers are the read-only daemon binary.
		if r := w.sh(inst, "echo x > /opt/aws/bin/cfn-signal"); r.ExitCode == 0 {
			t.Errorf("the instance wrote its helper: %s", r)
		}
	})

	t.Run("failure", func(t *testing.T) {
		if st := settle("cfn-fail"); st != "ROLLBACK_COMPLETE" {
			t.Fatalf("stack %s: %+v", st, events("cfn-fail"))
		}
		var inst string
		var gotSignal, gotFailed bool
		for _, e := range events("cfn-fail") {
			if e.LogicalResourceId != "Web" {
				continue
			}
			if e.PhysicalResourceId != "" {
				inst = e.PhysicalResourceId
			}
			if e.ResourceStatus == "CREATE_IN_PROGRESS" && e.ResourceStatusReason == "Received FAILURE signal with UniqueId "+inst {
				gotSignal = true
			}
			if e.ResourceStatus == "CREATE_FAILED" && e.ResourceStatusReason == "Received 1 FAILURE signal(s) out of 1. Unable to satisfy 100% MinSuccessfulInstancesPercent requirement" {
				gotFailed = true
			}
		}
		if !gotSignal || !gotFailed {
			t.Errorf("events of the failed stack (instance %s): %+v", inst, events("cfn-fail"))
		}
	})
	w.checkSafety()
}
