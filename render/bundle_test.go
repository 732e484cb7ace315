package render_test

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/openintegrations/integrations/templates"
)

// bundleSum is the file recording the bundle version and the hash of what it renders.
const bundleSum = "../templates/bundle.sum"

// bundleHashes hashes what a bundle renders: all the templates as one entry
// ("templates"), and each golden case (outside golden/previous, the older bundles kept
// as test data) as one entry named by its folder, over its expected outputs. A change
// to a template or to a model changes one of them.
func bundleHashes(t *testing.T) map[string]string {
	t.Helper()
	files := map[string][]string{}
	for _, root := range []string{"../templates", goldenRoot} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "previous" {
				return filepath.SkipDir
			}
			name := d.Name()
			switch {
			case d.IsDir():
			case strings.HasSuffix(name, ".sql.tmpl"):
				files["templates"] = append(files["templates"], filepath.ToSlash(path))
			case strings.HasPrefix(name, "expected."):
				rel, err := filepath.Rel(goldenRoot, filepath.Dir(path))
				if err != nil {
					return err
				}
				entry := "golden/" + filepath.ToSlash(rel)
				files[entry] = append(files[entry], filepath.ToSlash(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	for entry, list := range files {
		sort.Strings(list)
		h := sha256.New()
		for _, f := range list {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s %d\n", f, len(data))
			h.Write(data)
		}
		out[entry] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// formatSum is bundle.sum's text: the version, then one "hash entry" line per entry,
// sorted.
func formatSum(version int, hashes map[string]string) string {
	entries := make([]string, 0, len(hashes))
	for e := range hashes {
		entries = append(entries, e)
	}
	sort.Strings(entries)
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", version)
	for _, e := range entries {
		fmt.Fprintf(&b, "%s %s\n", hashes[e], e)
	}
	return b.String()
}

// parseSum reads bundle.sum's text.
func parseSum(text string) (int, map[string]string, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	var version int
	if _, err := fmt.Sscanf(lines[0], "%d", &version); err != nil {
		return 0, nil, fmt.Errorf("first line %q: %v", lines[0], err)
	}
	hashes := map[string]string{}
	for i, l := range lines[1:] {
		hash, entry, ok := strings.Cut(l, " ")
		if !ok || entry == "" {
			return 0, nil, fmt.Errorf("line %d: %q is not \"hash entry\"", i+2, l)
		}
		hashes[entry] = hash
	}
	return version, hashes, nil
}

// bundleChanges lists what changed between the recorded hashes and the current ones
// that is a change of the bundle: the templates, or the outputs of a recorded golden
// case. A new case, or one removed, changes tests only.
func bundleChanges(rec, now map[string]string) []string {
	var out []string
	for e, h := range now {
		if r, ok := rec[e]; ok && r != h {
			out = append(out, e)
		}
	}
	if _, ok := rec["templates"]; !ok {
		out = append(out, "templates")
	}
	sort.Strings(out)
	return out
}

// TestBundleVersion fails when the templates or the outputs of a recorded golden case
// changed without a bump of templates.BundleVersion, and when bundle.sum does not
// record every case. `go test ./render -run TestBundleVersion -update` records the
// hashes: under the same version only when the bundle did not change (cases added or
// removed: no bump needed, no integration to migrate), else after a bump.
func TestBundleVersion(t *testing.T) {
	now := bundleHashes(t)
	want := formatSum(templates.BundleVersion, now)
	data, err := os.ReadFile(bundleSum)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if string(data) == want {
		return
	}
	recVersion, rec := 0, map[string]string{}
	if len(data) > 0 {
		if recVersion, rec, err = parseSum(string(data)); err != nil {
			t.Fatalf("%s: %v", bundleSum, err)
		}
	}
	changed := bundleChanges(rec, now)
	if *updateFlag() {
		if recVersion == templates.BundleVersion && len(changed) > 0 && len(data) > 0 {
			t.Fatalf("the bundle changed (%s) but templates.BundleVersion is still %d: bump it, then run -update again", strings.Join(changed, ", "), recVersion)
		}
		if err := os.WriteFile(bundleSum, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	switch {
	case recVersion != templates.BundleVersion:
		t.Fatalf("templates.BundleVersion is %d but %s records version %d: run `go test ./render -run TestBundleVersion -update`", templates.BundleVersion, bundleSum, recVersion)
	case len(changed) > 0:
		t.Fatalf("the bundle changed without a version bump (%s): bump templates.BundleVersion (now %d) and run `go test ./render -run TestBundleVersion -update`", strings.Join(changed, ", "), recVersion)
	default:
		t.Fatalf("%s does not record the golden cases as they are (a case was added or removed; the bundle did not change): run `go test ./render -run TestBundleVersion -update`, no bump needed", bundleSum)
	}
}

// updateFlag is goldie's -update flag.
func updateFlag() *bool {
	f := flag.Lookup("update")
	if f == nil {
		b := false
		return &b
	}
	b := f.Value.String() == "true"
	return &b
}
