package platforms

import "testing"

func TestEmptyDocument(t *testing.T) {
	for _, c := range []struct {
		body string
		want bool
	}{
		{"", true}, {" \n\t", true}, {"\ufeff", true},
		{"{}", true}, {"{ \n }", true}, {"null", true}, {" null\n", true},
		{"~", true}, {"Null\n", true}, {"{}\n", true},
		{"---\n", true},
		{`{"username":"u"}`, false}, {`{"username":null}`, false}, {"username: u\n", false},
		{"[]", false}, {`""`, false}, {"0", false}, {"false", false}, {"{", false},
		{"null null", false}, {"{}{}", false}, {"\x00", false}, {"\xff", false},
	} {
		if got := EmptyDocument([]byte(c.body)); got != c.want {
			t.Errorf("EmptyDocument(%q) = %t, want %t", c.body, got, c.want)
		}
	}
}
