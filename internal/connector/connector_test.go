package connector

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

func payload(t *testing.T, doc string) *platforms.Payload {
	t.Helper()
	p, err := platforms.DecodeIntegration([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const autoSnowflake = `{"type":"Snowflake","autoBootstrap":true,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"u","password":"p","role":"ACCOUNTADMIN"}}`

func TestValidate(t *testing.T) {
	manual := `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"u","password":"p","impersonation":{"enabled":true}}}`
	cases := []struct {
		name    string
		doc     string
		op      platforms.Operation
		conn    Connector
		overall string
		status  []string
	}{
		{"auto create", autoSnowflake, platforms.OpCreate, &Fake{}, Passed,
			[]string{Passed, Passed, Passed, Passed, Passed, Skipped, Passed}},
		{"manual create", manual, platforms.OpCreate, &Fake{}, Passed,
			[]string{Passed, Passed, Passed, Skipped, Skipped, Skipped, Skipped}},
		{"auto edit skips create-only tests", autoSnowflake, platforms.OpEdit, &Fake{}, Passed,
			[]string{Passed, Passed, Passed, Passed, Skipped, Skipped, Passed}},
		{"failure wins", autoSnowflake, platforms.OpCreate, &Fake{Fail: map[string]string{"Validate Automatic Bootstrap User Grants": "grant MANAGE GRANTS"}, Warn: map[string]string{"Initial Validation: Basic Connection Test": "slow"}}, Failed,
			[]string{Warning, Passed, Passed, Passed, Passed, Skipped, Failed}},
		{"connection failure skips the rest", autoSnowflake, platforms.OpCreate, &Fake{Fail: map[string]string{"Initial Validation: Basic Connection Test": "no route to host"}}, Failed,
			[]string{Failed, Skipped, Skipped, Skipped, Skipped, Skipped, Skipped}},
		{"warning", autoSnowflake, platforms.OpCreate, &Fake{Warn: map[string]string{"Initial Validation: Basic Connection Test": "slow"}}, Warning,
			[]string{Warning, Passed, Passed, Passed, Passed, Skipped, Passed}},
		{"offline", autoSnowflake, platforms.OpCreate, nil, Skipped,
			[]string{Skipped, Skipped, Skipped, Skipped, Skipped, Skipped, Skipped}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Validate(context.Background(), c.conn, c.op, payload(t, c.doc), Credentials{}, time.Second)
			if r.Status != c.overall || len(r.Tests) != len(c.status) {
				t.Fatalf("results %+v", r)
			}
			for i, s := range c.status {
				if r.Tests[i].Status != s {
					t.Errorf("test %d %q: %s, want %s (%s)", i, r.Tests[i].Name, r.Tests[i].Status, s, r.Tests[i].Message)
				}
				if (s == Failed || s == Warning) && r.Tests[i].Message == "" {
					t.Errorf("test %d: no message", i)
				}
			}
		})
	}
}

type slow struct{ Fake }

func (s *slow) Check(ctx context.Context, _ string, _ *platforms.Payload, _ Credentials) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestValidateTimeout(t *testing.T) {
	r := Validate(context.Background(), &slow{}, platforms.OpCreate, payload(t, autoSnowflake), Credentials{}, 10*time.Millisecond)
	if r.Status != Failed || r.Tests[0].Message == "" {
		t.Fatalf("%+v", r)
	}
}

func TestCatalogueEveryType(t *testing.T) {
	for _, p := range platforms.All() {
		r, ok := Registered(p.Type)
		if !ok {
			t.Errorf("no connector registered for %s", p.Type)
		}
		if (r.New == nil) != (p.Type == "Trino") {
			t.Errorf("%s: live connector %v, want one for every type but Trino", p.Type, r.New != nil)
		}
	}
	if got := Summarize(nil); got.Status != Passed || got.Tests == nil {
		t.Errorf("empty: %+v", got)
	}
}

func TestFakeRun(t *testing.T) {
	eng, err := render.Default()
	if err != nil {
		t.Fatal(err)
	}
	p := payload(t, `{"type":"Snowflake","autoBootstrap":false,"config":{"host":"h.snowflakecomputing.com","warehouse":"W","database":"D","authenticationType":"userPassword","username":"u","password":"Passw0rd-1"}}`)
	s, err := eng.Render(render.Request{Operation: platforms.OpCreate, Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	f := &Fake{}
	if err := f.Run(context.Background(), s, p, Credentials{}); err != nil {
		t.Fatal(err)
	}
	f.Set(func(f *Fake) { f.RunErr = map[platforms.Operation]error{platforms.OpCreate: errors.New("boom")} })
	err = f.Run(context.Background(), s, p, Credentials{})
	var re *RunError
	if !errors.As(err, &re) || re.Phase != "create" || err.Error() != "phase create, statement 1: boom" {
		t.Errorf("%v", err)
	}
	// A gate holds the work until it is closed or the context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	f.Set(func(f *Fake) { f.Gate = make(chan struct{}) })
	if err := f.Verify(ctx, platforms.OpCreate, p, Credentials{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("gated verify: %v", err)
	}
	if got := f.Calls(); len(got) != 3 || got[0] != "run:create(create@account)" || got[2] != "verify:create" {
		t.Errorf("calls %v", got)
	}
}
