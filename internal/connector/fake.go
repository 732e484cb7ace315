package connector

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// Fake is an in-process Connector whose outcomes are chosen by its fields. The zero
// value passes every test and runs every script; the server's --sandbox mode uses it
// so that clients can be tried against the API without a platform. Safe for
// concurrent use.
type Fake struct {
	mu sync.Mutex
	// Fail maps a test name to the failure message Check returns.
	Fail map[string]string
	// Warn maps a test name to the warning message Check returns.
	Warn map[string]string
	// RunErr maps a script operation to the error Run returns for it.
	RunErr map[platforms.Operation]error
	// FailStatement, when set, is asked about each statement Run is given, with the
	// script's operation: a non-nil error fails that statement (a *RunError naming it).
	FailStatement func(op, sql string) error
	// VerifyErr maps an operation to the error Verify returns for it.
	VerifyErr map[platforms.Operation]error
	// Gate, when set, makes Run and Verify wait until it is closed (or ctx ends): tests
	// use it to hold an integration in creating, editing or deleting.
	Gate chan struct{}
	// Latency, when set, makes Run and Verify take that long (or until ctx ends), like
	// a real platform would.
	Latency time.Duration
	// CheckGate, when set, makes Check wait until it is closed (or ctx ends): tests use
	// it to hold a request in its validation tests.
	CheckGate chan struct{}
	// OnRun, when set, is called as each Run or Verify starts, with what Calls records
	// ("run:OP(...)" or "verify:OP"), the integration's type and its unique key
	// (Config.UniqueKey: a host, a dataset, a name): --sandbox logs it, so that a test
	// can count each integration's script runs. It must not block.
	OnRun func(call, typ, key string)
	calls []string
}

// Set changes the fake's fields under its lock (use it once workers may be running).
func (f *Fake) Set(change func(f *Fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// Calls returns what the fake was asked to do, in order ("check:NAME",
// "run:OP(PHASE@TARGET,...)", followed by " as USER" when Run was given a system
// account's password, "verify:OP").
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Fake) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

// started records call (a Run or a Verify) for p and tells OnRun.
func (f *Fake) started(call string, p *platforms.Payload) {
	f.record(call)
	f.mu.Lock()
	on := f.OnRun
	f.mu.Unlock()
	if on != nil && p != nil {
		key := ""
		if p.Config != nil {
			key = p.Config.UniqueKey()
		}
		on(call, p.Type, key)
	}
}

func (f *Fake) wait(ctx context.Context) error {
	f.mu.Lock()
	g, d := f.Gate, f.Latency
	f.mu.Unlock()
	// The same timer-or-context wait as recorddriver's delay: that package is a driver of
	// its own for tests and shares no code with the connectors.
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if g == nil {
		return nil
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Check implements Connector.
func (f *Fake) Check(ctx context.Context, test string, _ *platforms.Payload, _ Credentials) error {
	f.record("check:" + test)
	f.mu.Lock()
	g := f.CheckGate
	f.mu.Unlock()
	if g != nil {
		select {
		case <-g:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if msg, ok := f.Fail[test]; ok {
		return errors.New(msg)
	}
	if msg, ok := f.Warn[test]; ok {
		return &warning{msg}
	}
	return nil
}

// Run implements Connector.
func (f *Fake) Run(ctx context.Context, s *render.Script, p *platforms.Payload, sys Credentials) error {
	names := make([]string, len(s.Phases))
	for i, ph := range s.Phases {
		names[i] = ph.Name + "@" + ph.ConnectTo
	}
	call := "run:" + s.Operation + "(" + strings.Join(names, ",") + ")"
	if sys.Password != "" {
		call += " as " + sys.Username
	}
	f.started(call, p)
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.FailStatement != nil {
		for _, ph := range s.Phases {
			for i, st := range ph.Statements {
				if err := f.FailStatement(s.Operation, st.SQL); err != nil {
					return &RunError{Phase: ph.Name, Index: i + 1, Err: err}
				}
			}
		}
	}
	if err := f.RunErr[platforms.Operation(s.Operation)]; err != nil {
		phase := ""
		if len(s.Phases) > 0 {
			phase = s.Phases[0].Name
		}
		return &RunError{Phase: phase, Index: 1, Err: err}
	}
	return nil
}

// Verify implements Connector.
func (f *Fake) Verify(ctx context.Context, op platforms.Operation, p *platforms.Payload, _ Credentials) error {
	f.started("verify:"+string(op), p)
	if err := f.wait(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.VerifyErr[op]
}

type warning struct{ msg string }

func (w *warning) Error() string { return w.msg }
func (w *warning) Unwrap() error { return ErrWarning }
