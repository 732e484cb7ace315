package templates

import (
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"
)

// Respell returns a copy of FS in which, for each file named in changes, the first
// occurrence of each pair's old text is replaced by its new text: a later bundle that
// differs only in spelling, which tests migrate to. A file or an old text that is not
// there is an error, so that a test does not silently migrate nothing.
func Respell(changes map[string][][2]string) (fs.FS, error) {
	m := fstest.MapFS{}
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		return nil, err
	}
	for name, pairs := range changes {
		f, ok := m[name]
		if !ok {
			return nil, fmt.Errorf("templates: no file %s", name)
		}
		s := string(f.Data)
		for _, r := range pairs {
			if !strings.Contains(s, r[0]) {
				return nil, fmt.Errorf("templates: %s has no %q", name, r[0])
			}
			s = strings.Replace(s, r[0], r[1], 1)
		}
		f.Data = []byte(s)
	}
	return m, nil
}
