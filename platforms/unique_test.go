package platforms

import (
	"reflect"
	"testing"
)

// TestUniqueKeys pins the store keys and the conflict wording of every type: the 409
// messages are the seed's.
func TestUniqueKeys(t *testing.T) {
	cases := []struct {
		doc  string
		want []Unique
		imp  bool
	}{
		{`{"type":"Snowflake","autoBootstrap":false,"config":{"host":"H.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"u","password":"p","impersonation":{"enabled":true}}}`,
			[]Unique{{"Snowflake|host|h.snowflakecomputing.com", "on host H.snowflakecomputing.com"}}, true},
		{`{"type":"Trino"}`, []Unique{{"Trino|cluster", "on this server"}}, false},
		{`{"type":"Native S3","autoBootstrap":false,"config":{"name":"n","awsAccountId":"123456789012","awsRegion":"us-east-1","awsLocationRole":"arn:aws:iam::123456789012:role/r","awsLocationPath":"s3://b/p","authenticationType":"accessKey","awsAccessKeyId":"k","awsSecretAccessKey":"s"}}`,
			[]Unique{{"Native S3|name|n", `with name "n"`}, {"Native S3|path|s3://b/p", "for location s3://b/p"}}, false},
	}
	for _, c := range cases {
		p, err := DecodeIntegration([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.UniqueKeys(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: UniqueKeys %q, want %q", p.Type, got, c.want)
		}
		if p.Config != nil && p.Config.ImpersonationEnabled() != c.imp {
			t.Errorf("%s: ImpersonationEnabled %v, want %v", p.Type, !c.imp, c.imp)
		}
	}
}
