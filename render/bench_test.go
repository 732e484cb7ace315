package render_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// largest returns, per platform, the golden payload whose create script (all phases)
// has the most statements.
func largest(b *testing.B, eng *render.Engine) map[string]*platforms.Payload {
	b.Helper()
	best := map[string]*platforms.Payload{}
	size := map[string]int{}
	for _, c := range loadCases(b) {
		if c.wantErr {
			continue
		}
		p, err := decodeFile(b, c.input)
		if err != nil {
			b.Fatal(err)
		}
		phases, err := eng.CreateAll(p, systemPassword(p))
		if err != nil {
			b.Fatal(err)
		}
		if n := len(statements(phases)); n > size[c.platform] {
			size[c.platform], best[c.platform] = n, p
		}
	}
	return best
}

// BenchmarkRender renders + checks the largest create script of each platform, and
// reports, measured in the same run, the ratio to a template-only render (the same
// engine with the syntax checks switched off). Goal: ratio <= 3.0.
func BenchmarkRender(b *testing.B) {
	full := engine(b)
	bare, err := render.New(render.Options{Check: func(string, string) (string, error) { return "", nil }})
	if err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{"snowflake", "redshift", "synapse"} {
		p := largest(b, full)[key]
		if p == nil {
			b.Fatalf("no golden case for %s", key)
		}
		req := render.Request{Operation: platforms.OpCreate, Payload: p, SystemPassword: systemPassword(p)}
		run := func(eng *render.Engine) func(*testing.B) {
			return func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := eng.Render(req); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		// Measured back to back in the same run, so the ratio holds on any machine.
		// (testing.Benchmark cannot be called from inside a benchmark: it would wait
		// for the lock the running benchmark holds.)
		base, checked := perOp(b, bare, req), perOp(b, full, req)
		fmt.Printf("bench: %s render+check %.1f µs/script, template-only %.1f µs/script, ratio %.2f (goal <= 3.0)\n",
			key, checked/1e3, base/1e3, checked/base)
		b.Run(key+"/render+check", run(full))
		b.Run(key+"/template-only", run(bare))
	}
}

// perOp measures the median time of one render over several rounds of about 100 ms.
func perOp(b *testing.B, eng *render.Engine, req render.Request) float64 {
	b.Helper()
	var rounds []float64
	for r := 0; r < 7; r++ {
		n, start := 0, time.Now()
		for time.Since(start) < 100*time.Millisecond {
			if _, err := eng.Render(req); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rounds = append(rounds, float64(time.Since(start).Nanoseconds())/float64(n))
	}
	sort.Float64s(rounds)
	return rounds[len(rounds)/2]
}
