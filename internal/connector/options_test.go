package connector

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckTableGrantsRolePrefix(t *testing.T) {
	cases := []struct {
		prefix string
		ok     bool
		want   string // the option's prefix as the check uses it
	}{
		{"IMMUTA", true, "IMMUTA"},
		{"immuta_tg_", true, "IMMUTA_TG_"},
		{"_X9$", true, "_X9$"},
		{"", false, ""},
		{"9LIVES", false, ""},
		{"$X", false, ""},
		{"IMMUTA%", false, ""},
		{"IM MUTA", false, ""},
		{`IMMUTA"`, false, ""},
		{"IMMUTA'", false, ""},
		{"ÉTÉ", false, ""},
		{strings.Repeat("A", maxTableGrantsRolePrefix), true, strings.Repeat("A", maxTableGrantsRolePrefix)},
		{strings.Repeat("A", maxTableGrantsRolePrefix+1), false, ""},
	}
	for _, c := range cases {
		err := CheckTableGrantsRolePrefix(c.prefix)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok %v", c.prefix, err, c.ok)
			continue
		}
		if err != nil {
			var pe *PrefixError
			if !errors.As(err, &pe) || pe.Prefix != c.prefix {
				t.Errorf("%q: error %T %v", c.prefix, err, err)
			}
			continue
		}
		if got := (Options{TableGrantsRolePrefix: c.prefix}).tableGrantsRolePrefix(); got != c.want {
			t.Errorf("%q: prefix %q, want %q", c.prefix, got, c.want)
		}
	}
	if got := (Options{}).tableGrantsRolePrefix(); got != DefaultTableGrantsRolePrefix {
		t.Errorf("default prefix %q", got)
	}
}
