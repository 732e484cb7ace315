package server

import (
	"encoding/json"
	"fmt"

	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// appliedState returns the applied state stored with in, nil when it has none (stored
// before states were kept, or of a type without scripts).
func appliedState(in *store.Integration) (*render.State, error) {
	if len(in.AppliedState) == 0 {
		return nil, nil
	}
	var st render.State
	if err := json.Unmarshal(in.AppliedState, &st); err != nil {
		return nil, fmt.Errorf("integration %d: applied state: %w", in.ID, err)
	}
	return &st, nil
}

// fromState sets req's applied state from in: FromState when it has one, else NoState
// (the script notes that it assumes the current bundle made the integration).
func fromState(req *render.Request, in *store.Integration) error {
	st, err := appliedState(in)
	if err != nil {
		return err
	}
	req.FromState, req.NoState = st, st == nil
	return nil
}

// stateOf returns the applied state of p, which a successful create or edit (op) of
// in just made, as stored: nil for a type without scripts, and nil, logged, for a
// state that cannot be computed (the work itself succeeded; the previous state stays).
func (s *Server) stateOf(in *store.Integration, op platforms.Operation, p *platforms.Payload) []byte {
	if p == nil || p.Platform == nil || !p.Platform.HasScripts() || p.Config == nil {
		return nil
	}
	h, err := heldOf(in)
	var b []byte
	if err == nil {
		var st *render.State
		if st, err = s.engine.StateOf(render.Request{Operation: op, Payload: p, SystemPassword: h.SystemPassword}); err == nil {
			b, err = json.Marshal(st)
		}
	}
	if err != nil {
		s.log.Error("applied state not recorded", "integration", in.ID, "err", err)
		return nil
	}
	return b
}
