package cloudinit

import (
	"slices"
	"strings"
	"testing"
)

// TestMerge merges two cloud-config parts of a MIME message and looks at
// the runcmd script and the installed packages.
func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		first    string
		second   string // with its part headers
		runcmd   string
		install  string // the modules script's install line, "" for none
		warnings []string
	}{
		{
			// cloud-init's default, dict(replace)+list()+str(): a later
			// key replaces, keys of either part are kept.
			name:    "default replaces",
			first:   "runcmd: [one]\npackages: [a]\n",
			second:  "Content-Type: text/cloud-config\n\nruncmd: [two]\n",
			runcmd:  "#!/bin/sh\ntwo\n",
			install: "pkg install 'a'\n",
		},
		{
			name:    "merge_how string appends lists",
			first:   "runcmd: [one]\npackages: [a]\n",
			second:  "Content-Type: text/cloud-config\n\nmerge_how: 'list(append)+dict(no_replace,recurse_list)+str()'\nruncmd: [two]\npackages: [b]\n",
			runcmd:  "#!/bin/sh\none\ntwo\n",
			install: "pkg install 'a' 'b'\n",
		},
		{
			name:   "merge_how mappings",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\n\nmerge_how:\n- name: list\n  settings: [prepend]\n- name: dict\n  settings: [no_replace, recurse_list]\nruncmd: [two]\n",
			runcmd: "#!/bin/sh\ntwo\none\n",
		},
		{
			name:   "merge_type lists",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\n\nmerge_type:\n- [list, append]\n- [dict, no_replace, recurse_array]\nruncmd: [two]\n",
			runcmd: "#!/bin/sh\none\ntwo\n",
		},
		{
			name:   "Merge-Type header",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\nMerge-Type: list(append)+dict(recurse_list)+str()\n\nruncmd: [two]\n",
			runcmd: "#!/bin/sh\none\ntwo\n",
		},
		{
			name:   "X-Merge-Type header",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\nX-Merge-Type: list(append)+dict(recurse_list)+str()\n\nruncmd: [two]\n",
			runcmd: "#!/bin/sh\none\ntwo\n",
		},
		{
			// The part's own merge_how comes before its header's.
			name:   "merge_how over Merge-Type",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\nMerge-Type: list(append)+dict(recurse_list)+str()\n\nmerge_how: dict(replace)\nruncmd: [two]\n",
			runcmd: "#!/bin/sh\ntwo\n",
		},
		{
			name:    "no_replace without recursion keeps the first",
			first:   "runcmd: [one]\n",
			second:  "Content-Type: text/cloud-config\n\nmerge_how: dict(no_replace)+list(append)\nruncmd: [two]\npackages: [b]\n",
			runcmd:  "#!/bin/sh\none\n",
			install: "pkg install 'b'\n",
		},
		{
			// With no dict merger, nothing merges into the mapping.
			name:   "no dict merger",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\n\nmerge_how: list(append)\nruncmd: [two]\npackages: [b]\n",
			runcmd: "#!/bin/sh\none\n",
		},
		{
			name:   "allow_delete",
			first:  "runcmd: [one]\npackages: [a]\n",
			second: "Content-Type: text/cloud-config\n\nmerge_how: dict(no_replace,allow_delete)\npackages: null\n",
			runcmd: "#!/bin/sh\none\n",
		},
		{
			name:     "bad merge_how",
			first:    "runcmd: [one]\n",
			second:   "Content-Type: text/cloud-config\nContent-Disposition: attachment; filename=\"extra.yaml\"\n\nmerge_how: 'list(append'\nruncmd: [two]\n",
			runcmd:   "#!/bin/sh\none\n",
			warnings: []string{"Failed at merging in cloud config part from extra.yaml: Matcher identifier 'list(append' is not in the right format"},
		},
		{
			name:     "unknown merger",
			first:    "runcmd: [one]\n",
			second:   "Content-Type: text/cloud-config\n\nmerge_how: set()\nruncmd: [two]\n",
			runcmd:   "#!/bin/sh\none\n",
			warnings: []string{"Failed at merging in cloud config part from part-002: Could not find merger module named 'set'"},
		},
		{
			// Index by index, the new list's extra items are dropped.
			name:   "recursing into a no_replace list",
			first:  "runcmd: [one]\n",
			second: "Content-Type: text/cloud-config\n\nmerge_how: dict(recurse_list,no_replace)+list(no_replace)\nruncmd: [two, three]\n",
			runcmd: "#!/bin/sh\none\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ud := mimeLF("Content-Type: text/cloud-config\n\n#cloud-config\n"+tt.first, tt.second)
			p := render(t, ud, Options{PackageManager: "yum"})
			if got := string(script(p, "runcmd")); got != tt.runcmd {
				t.Errorf("runcmd %q, want %q", got, tt.runcmd)
			}
			install := ""
			for line := range strings.Lines(string(script(p, "cloud-config:modules"))) {
				if strings.HasPrefix(line, "pkg install ") {
					install = line
				}
			}
			if install != tt.install {
				t.Errorf("install line %q, want %q", install, tt.install)
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", p.Warnings, tt.warnings)
			}
		})
	}
}

// TestMergeLists checks the list merger's index-by-index modes directly.
func TestMergeLists(t *testing.T) {
	a := []any{"a", []any{"x"}, "c"}
	b := []any{"B", []any{"y"}}
	tests := []struct {
		how  string
		want []any
	}{
		{"list()", []any{"B", []any{"y"}, "c"}},
		{"list(no_replace)", []any{"a", []any{"x"}, "c"}},
		{"list(recurse_list,append)", []any{"a", []any{"x"}, "c", "B", []any{"y"}}},
		{"list(replace,recurse_list)", []any{"B", []any{"y"}, "c"}},
		{"list(replace,recurse_list)+str(append)", []any{"B", []any{"y"}, "c"}},
		{"list(replace,recurse_str)+str(append)", []any{"aB", []any{"y"}, "c"}},
	}
	for _, tt := range tests {
		specs, err := parseMergeHow(tt.how)
		if err != nil {
			t.Fatal(err)
		}
		m, err := buildMergers(specs)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.merge(a, b); !equalValues(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.how, got, tt.want)
		}
	}
}

func equalValues(a, b any) bool {
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok != bok {
		return false
	}
	if !aok {
		return a == b
	}
	return slices.EqualFunc(al, bl, equalValues)
}
