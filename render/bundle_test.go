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

// bundleHash hashes every template and every golden expected output (outside
// golden/previous, the older bundles kept as test data): a change to a template or to a
// model changes one of them.
func bundleHash(t *testing.T) string {
	t.Helper()
	var files []string
	for _, root := range []string{"../templates", goldenRoot} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "previous" {
				return filepath.SkipDir
			}
			name := d.Name()
			if !d.IsDir() && (strings.HasSuffix(name, ".sql.tmpl") || strings.HasPrefix(name, "expected.")) {
				files = append(files, filepath.ToSlash(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBundleVersion fails when the templates or the golden outputs changed without a
// bump of templates.BundleVersion. After a bump, `go test ./render -run
// TestBundleVersion -update` records the new hash; -update refuses to record a new hash
// under the old version.
func TestBundleVersion(t *testing.T) {
	got := bundleHash(t)
	want := fmt.Sprintf("%d %s\n", templates.BundleVersion, got)
	data, err := os.ReadFile(bundleSum)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	rec := string(data)
	var recVersion int
	var recHash string
	if rec != "" {
		if _, err := fmt.Sscanf(rec, "%d %s", &recVersion, &recHash); err != nil {
			t.Fatalf("%s: %v", bundleSum, err)
		}
	}
	if rec == want {
		return
	}
	if *updateFlag() {
		if recVersion == templates.BundleVersion && rec != "" {
			t.Fatalf("the bundle changed (hash %s, recorded %s) but templates.BundleVersion is still %d: bump it, then run -update again", got, recHash, recVersion)
		}
		if err := os.WriteFile(bundleSum, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if recVersion == templates.BundleVersion {
		t.Fatalf("the templates or the golden outputs changed without a bundle version bump: bump templates.BundleVersion (now %d) and run `go test ./render -run TestBundleVersion -update`", recVersion)
	}
	t.Fatalf("templates.BundleVersion is %d but %s records version %d: run `go test ./render -run TestBundleVersion -update`", templates.BundleVersion, bundleSum, recVersion)
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
