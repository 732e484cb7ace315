package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The server's log output. Every line is written as it is logged, except the access
// lines (the server's "request" line at info, one per request), which are held and
// written together: before the next line of any other kind, once 32 KB are held, and
// every accessFlush. A request then costs no write(2) of its own, which on the 2-core
// development machine was about 5% of a GET's cost; the order of the lines is kept,
// and a warning or an error is never held. What a crash loses is at most accessFlush
// of access lines.

const (
	// accessFlush is how long an access line may be held.
	accessFlush = 100 * time.Millisecond
	// accessHold is how many bytes of access lines are held at most.
	accessHold = 32 << 10
)

// lineSink collects the handler's lines and writes them to w when told. Its Write has
// the shape of the server tests' syncBuffer (a bytes.Buffer behind a mutex), a test
// helper of another package; the two share no logic.
type lineSink struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

// Write implements io.Writer: the handler writes one whole line per call.
func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// flush writes what is held; unless always, only once more than accessHold is held.
func (s *lineSink) flush(always bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf.Len() == 0 || !always && s.buf.Len() < accessHold {
		return
	}
	_, _ = s.w.Write(s.buf.Bytes()) // a log that cannot be written has nowhere to say so
	s.buf.Reset()
}

// batching is the slog.Handler over a lineSink (see above).
type batching struct {
	slog.Handler
	sink *lineSink
}

// Handle implements slog.Handler.
func (h batching) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	h.sink.flush(!(r.Level == slog.LevelInfo && r.Message == "request"))
	return err
}

// WithAttrs implements slog.Handler.
func (h batching) WithAttrs(attrs []slog.Attr) slog.Handler {
	return batching{h.Handler.WithAttrs(attrs), h.sink}
}

// WithGroup implements slog.Handler.
func (h batching) WithGroup(name string) slog.Handler {
	return batching{h.Handler.WithGroup(name), h.sink}
}

// newServeLog returns the server's JSON logger on w and a stop function that writes
// what is held and ends the periodic flush.
func newServeLog(w io.Writer) (*slog.Logger, func()) {
	sink := &lineSink{w: w}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(accessFlush)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				sink.flush(true)
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return slog.New(batching{slog.NewJSONHandler(sink, nil), sink}), func() {
		once.Do(func() {
			close(quit)
			<-done
			sink.flush(true)
		})
	}
}
