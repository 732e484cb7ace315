package store_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/openintegrations/integrations/lifecycle"
	"github.com/openintegrations/integrations/store"
)

// BenchmarkGet measures GET-by-id (a primary-key lookup and one AES-GCM open per sealed
// field) with 10 and with 10000 stored integrations.
func BenchmarkGet(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := openAt(b, tempDB(b), newKey(b))
			ctx := b.Context()
			// Load fast: durability does not matter for the fixture.
			if err := store.ExecWriter(ctx, s, `PRAGMA synchronous = OFF`); err != nil {
				b.Fatal(err)
			}
			ids := make([]int64, n)
			for i := range n {
				in := &store.Integration{Type: "snowflake", AutoBootstrap: new(bool), Status: lifecycle.Enabled,
					Message:           "",
					Config:            json.RawMessage(fmt.Sprintf(`{"account":"acct%d","warehouse":"WH","role":"SYSADMIN","user":"svc"}`, i)),
					Credentials:       json.RawMessage(`{"password":"0123456789abcdef0123456789abcdef"}`),
					ValidationResults: json.RawMessage(`[{"name":"connect","ok":true}]`),
					Keys:              []string{fmt.Sprintf("snowflake:acct%d", i)}}
				if err := s.Create(ctx, in); err != nil {
					b.Fatal(err)
				}
				ids[i] = in.ID
			}
			if err := store.ExecWriter(ctx, s, `PRAGMA synchronous = FULL`); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := s.Get(ctx, ids[i%n]); err != nil {
					b.Fatal(err)
				}
				i += 7919 // a prime: visit the ids out of order
			}
		})
	}
}
