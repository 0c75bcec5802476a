package image

import (
	"strings"
	"testing"
)

func lookupOf(refs map[string]Ref) Lookup {
	return func(m Marker, _ string) (Ref, Decision) {
		r, ok := refs[m.Key()]
		if !ok {
			return r, Missing
		}
		return r, Write
	}
}

func TestUpdateRewritesOnlyMarkedValues(t *testing.T) {
	refs := map[string]Ref{
		"apps:podinfo": {Name: "ghcr.io/stefanprodan/podinfo", Tag: "6.5.0"},
		"apps:pinned":  {Name: "reg.local:5000/app", Tag: "2.0.0", Digest: "sha256:" + strings.Repeat("a", 64)},
		"apps:numeric": {Name: "app", Tag: "1.10"},
	}
	tests := []struct{ name, in, want string }{
		{"full ref",
			"image: ghcr.io/stefanprodan/podinfo:6.4.0 # {\"$imagepolicy\": \"apps:podinfo\"}\n",
			"image: ghcr.io/stefanprodan/podinfo:6.5.0 # {\"$imagepolicy\": \"apps:podinfo\"}\n"},
		{"tag, spacing and comment kept",
			"  newTag:   6.4.0    #  {\"$imagepolicy\":\"apps:podinfo:tag\"}  \n",
			"  newTag:   6.5.0    #  {\"$imagepolicy\":\"apps:podinfo:tag\"}  \n"},
		{"name",
			"- name: x\n  newName: old/name # {\"$imagepolicy\": \"apps:podinfo:name\"}\n",
			"- name: x\n  newName: ghcr.io/stefanprodan/podinfo # {\"$imagepolicy\": \"apps:podinfo:name\"}\n"},
		{"double quoted",
			"tag: \"6.4.0\" # {\"$imagepolicy\": \"apps:podinfo:tag\"}\n",
			"tag: \"6.5.0\" # {\"$imagepolicy\": \"apps:podinfo:tag\"}\n"},
		{"single quoted",
			"tag: '6.4.0' # {\"$imagepolicy\": \"apps:podinfo:tag\"}\n",
			"tag: '6.5.0' # {\"$imagepolicy\": \"apps:podinfo:tag\"}\n"},
		{"digest pinned full ref",
			"image: reg.local:5000/app:1.0.0 # {\"$imagepolicy\": \"apps:pinned\"}\n",
			"image: reg.local:5000/app:2.0.0@sha256:" + strings.Repeat("a", 64) + " # {\"$imagepolicy\": \"apps:pinned\"}\n"},
		{"digest field",
			"digest: sha256:0 # {\"$imagepolicy\": \"apps:pinned:digest\"}\n",
			"digest: sha256:" + strings.Repeat("a", 64) + " # {\"$imagepolicy\": \"apps:pinned:digest\"}\n"},
		{"list item",
			"args:\n  - app:0.1 # {\"$imagepolicy\": \"apps:numeric\"}\n",
			"args:\n  - app:1.10 # {\"$imagepolicy\": \"apps:numeric\"}\n"},
		{"string stays a string",
			"tag: v1 # {\"$imagepolicy\": \"apps:numeric:tag\"}\n",
			"tag: \"1.10\" # {\"$imagepolicy\": \"apps:numeric:tag\"}\n"},
		{"unchanged value, bytes identical",
			"# top comment\nimage: ghcr.io/stefanprodan/podinfo:6.5.0 # {\"$imagepolicy\": \"apps:podinfo\"}\n",
			"# top comment\nimage: ghcr.io/stefanprodan/podinfo:6.5.0 # {\"$imagepolicy\": \"apps:podinfo\"}\n"},
		{"marker in a block scalar is text",
			"script: |\n  image: a:1 # {\"$imagepolicy\": \"apps:podinfo\"}\n",
			"script: |\n  image: a:1 # {\"$imagepolicy\": \"apps:podinfo\"}\n"},
		{"multi-document, unicode before",
			"a: é\n---\nspec:\n  image: x:1 # {\"$imagepolicy\": \"apps:podinfo\"}\n  other: x:1\n",
			"a: é\n---\nspec:\n  image: ghcr.io/stefanprodan/podinfo:6.5.0 # {\"$imagepolicy\": \"apps:podinfo\"}\n  other: x:1\n"},
		{"unicode on the line",
			"{a: é, image: x:1} # {\"$imagepolicy\": \"apps:podinfo\"}\n",
			"{a: é, image: x:1} # {\"$imagepolicy\": \"apps:podinfo\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Update([]byte(tt.in), lookupOf(refs))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Data) != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", res.Data, tt.want)
			}
		})
	}
}

func TestUpdateReportsMissingPolicies(t *testing.T) {
	in := "a: x:1 # {\"$imagepolicy\": \"apps:gone\"}\nb: y:1 # {\"$imagepolicy\": \"apps:here:tag\"}\n"
	res, err := Update([]byte(in), lookupOf(map[string]Ref{"apps:here": {Name: "y", Tag: "2"}}))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := res.Missing[1]; !ok || m.Key() != "apps:gone" {
		t.Fatalf("Missing = %v", res.Missing)
	}
	if len(res.Changes) != 1 || res.Changes[0].Old != "y:1" || res.Changes[0].New != "2" || res.Markers != 2 {
		t.Fatalf("Changes = %+v, markers %d", res.Changes, res.Markers)
	}
}

func TestUpdateRefuses(t *testing.T) {
	refs := lookupOf(map[string]Ref{"apps:p": {Name: "n", Tag: "2"}})
	for name, in := range map[string]string{
		"bad marker":      "a: x # {\"$imagepolicy\": \"nonamespace\"}\n",
		"bad field":       "a: x # {\"$imagepolicy\": \"apps:p:version\"}\n",
		"digest unpinned": "a: x # {\"$imagepolicy\": \"apps:p:digest\"}\n",
		"broken yaml":     "a: [\n",
		"escaped quotes":  "a: \"x\\u0031\" # {\"$imagepolicy\": \"apps:p:tag\"}\n",
	} {
		if _, err := Update([]byte(in), refs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUpdateKeeps(t *testing.T) {
	in := "a: x:1 # {\"$imagepolicy\": \"apps:held\"}\n"
	var seen string
	res, err := Update([]byte(in), func(m Marker, current string) (Ref, Decision) {
		seen = current
		return Ref{Name: "x", Tag: "2"}, Keep
	})
	if err != nil || string(res.Data) != in || len(res.Changes) != 0 || seen != "x:1" {
		t.Fatalf("Keep changed the file: %q %v (current %q)", res.Data, err, seen)
	}
}
