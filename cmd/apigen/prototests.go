package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// protoSuite is one entry of a protocol-test file: a small model and cases.
type protoSuite struct {
	Description string            `json:"description"`
	Metadata    metadata          `json:"metadata"`
	Shapes      map[string]*shape `json:"shapes"`
	Cases       []struct {
		Given *operation `json:"given"`
	} `json:"cases"`
}

var protocolFiles = []string{"ec2", "query", "json", "rest-json", "rest-xml"}

// genProtocolTests writes the Go types of every protocol-test case into one
// test file, with a table that ties each case to its types and operation.
func genProtocolTests(dir, version, out string) error {
	var body, table bytes.Buffer
	usesTime, usesJSON := false, false
	table.WriteString("var protocolCases = map[string]protocolCase{\n")
	for _, dirn := range []string{"input", "output"} {
		for _, proto := range protocolFiles {
			file := filepath.Join(dirn, proto+".json")
			b, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				return err
			}
			var suites []protoSuite
			if err := json.Unmarshal(b, &suites); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			for i, s := range suites {
				prefix := fmt.Sprintf("%s%s%d_", strings.ToUpper(dirn[:1])+dirn[1:], exportName(strings.ReplaceAll(proto, "-", "")), i)
				for _, c := range s.Cases {
					if in := c.Given.Input; in != nil && in.Payload != "" {
						s.Shapes[in.Shape].Payload = in.Payload
					}
				}
				w := newTypeWriter(s.Shapes, prefix, "aws.JSONValue")
				for _, c := range s.Cases {
					if c.Given.Input != nil {
						w.need(c.Given.Input.Shape)
					}
					if c.Given.Output != nil {
						w.need(c.Given.Output.Shape)
					}
				}
				w.writeStructs(&body)
				usesTime = usesTime || w.usesTime
				usesJSON = usesJSON || w.usesJSONValue
				for j, c := range s.Cases {
					op := c.Given
					// The ops need an input and an output to describe.
					if op.Input == nil {
						op.Input = &opRef{Shape: synthesize(&model{Shapes: s.Shapes}, prefix+"EmptyInput")}
						w.need(op.Input.Shape)
						w.writeStruct(&body, op.Input.Shape, s.Shapes[op.Input.Shape])
					}
					if op.Output == nil {
						op.Output = &opRef{Shape: synthesize(&model{Shapes: s.Shapes}, prefix+"EmptyOutput")}
						w.need(op.Output.Shape)
						w.writeStruct(&body, op.Output.Shape, s.Shapes[op.Output.Shape])
					}
					md := s.Metadata
					fmt.Fprintf(&table, "\t%q: {Service: &api.Service{Protocol: %q, APIVersion: %q, TargetPrefix: %q, JSONVersion: %q, XMLNamespace: %q}, Op: &api.Operation%s},\n",
						fmt.Sprintf("%s/%s/%d/%d", dirn, proto, i, j), md.Protocol, md.APIVersion, md.TargetPrefix, md.JSONVersion, md.XMLNamespace, opLiteral(w, op))
				}
			}
		}
	}
	table.WriteString("}\n")

	var b bytes.Buffer
	header(&b, fmt.Sprintf("%s@%s models/protocol_tests", sdkModule, version), "protocol_test")
	b.WriteString("import (\n")
	if usesTime {
		b.WriteString("\t\"time\"\n")
	}
	if usesJSON {
		b.WriteString("\n\t\"github.com/aws/aws-sdk-go/aws\"\n")
	}
	b.WriteString("\t\"github.com/cloudbox/cloudbox/api\"\n)\n\n")
	b.Write(table.Bytes())
	b.WriteString("\n")
	b.Write(body.Bytes())
	return writeGo(out, &b)
}
