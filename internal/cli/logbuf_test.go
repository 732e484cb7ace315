package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// syncWriter records each Write it gets.
type syncWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *syncWriter) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// TestServeLog: access lines are held and written together, before the next other
// line, in order; a warning is written at once; stop writes what is held.
func TestServeLog(t *testing.T) {
	w := &syncWriter{}
	log, stop := newServeLog(w)
	log.Info("request", "n", 1)
	log.Info("request", "n", 2)
	// The ticker may have written the two access lines already; either way, they are
	// written before the warning and in one write.
	log.With("k", "v").Warn("lease lost")
	got := w.all()
	if len(got) == 0 || !strings.Contains(got[len(got)-1], `"msg":"lease lost"`) {
		t.Fatalf("the warning is not written at once: %q", got)
	}
	joined := strings.Join(got, "")
	if i, j, k := strings.Index(joined, `"n":1`), strings.Index(joined, `"n":2`), strings.Index(joined, `"lease lost"`); i < 0 || j < i || k < j {
		t.Fatalf("lines out of order: %q", joined)
	}
	for _, wr := range got {
		if strings.Contains(wr, `"n":1`) && !strings.Contains(wr, `"n":2`) {
			t.Errorf("the held access lines were written one by one: %q", got)
		}
	}
	log.Info("request", "n", 3)
	stop()
	if all := strings.Join(w.all(), ""); !strings.Contains(all, `"n":3`) {
		t.Errorf("stop did not write the held line: %q", all)
	}
	stop() // idempotent
	// A full buffer is written without waiting.
	var big bytes.Buffer
	w2 := &syncWriter{}
	log2, stop2 := newServeLog(w2)
	defer stop2()
	for big.Len() <= accessHold {
		log2.Info("request", "pad", strings.Repeat("x", 1000))
		big.WriteString(strings.Repeat("x", 1000))
	}
	if len(w2.all()) == 0 {
		t.Error("more than accessHold held without a write")
	}
}
