package server

import (
	"errors"
	"net/http"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// scriptOp serves POST /integrations/scripts/{op}: the script of op for the body's
// payload (API.md section 7).
func (s *Server) scriptOp(op platforms.Operation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		redact, err := queryBool(r, "redact")
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := decodeScriptPayload(w, r, op)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeScript(w, r, render.Request{Operation: op, Payload: p, Redact: redact})
	}
}

// scriptEdit serves POST /integrations/{id}/scripts/edit: the script that turns the
// stored config into the body's.
func (s *Server) scriptEdit(w http.ResponseWriter, r *http.Request) {
	redact, err := queryBool(r, "redact")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.load(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := decodeScriptPayload(w, r, platforms.OpEdit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if boolOf(in.AutoBootstrap) {
		s.writeError(w, r, errorf(http.StatusBadRequest, "integration %d was configured automatically (autoBootstrap true): edit it with PUT /integrations/%d and the privileged credentials; edit scripts are for manual setups", in.ID, in.ID))
		return
	}
	if err := sameIdentity(in, p); err != nil {
		s.writeError(w, r, err)
		return
	}
	from, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeScript(w, r, render.Request{Operation: platforms.OpEdit, Payload: p, From: from, Redact: redact})
}

// scriptDelete serves POST /integrations/{id}/scripts/delete: the script that removes
// everything the stored integration created. It takes no body.
func (s *Server) scriptDelete(w http.ResponseWriter, r *http.Request) {
	redact, err := queryBool(r, "redact")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := s.load(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	data, err := readBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !emptyBody(data) {
		s.writeError(w, r, errorf(http.StatusBadRequest, "the delete script takes no body: it is made from the stored config of integration %d", in.ID))
		return
	}
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	req := render.Request{Operation: platforms.OpDelete, Payload: p, Redact: redact}
	if p.Auto() {
		// The delete script drops the system account without printing its password.
		h, err := heldOf(in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		req.SystemPassword = h.SystemPassword
		if req.SystemPassword == "" {
			req.SystemPassword = platforms.Redacted
		}
	}
	s.writeScript(w, r, req)
}

// writeScript renders req and writes it as JSON, or as the script text when the client
// asks for text/plain or application/sql.
func (s *Server) writeScript(w http.ResponseWriter, r *http.Request, req render.Request) {
	script, err := s.engine.Render(req)
	if err != nil {
		if errors.Is(err, render.ErrUnsupported) {
			err = errorf(http.StatusBadRequest, "%s", err.Error())
		}
		s.writeError(w, r, err)
		return
	}
	if mt := scriptMediaType(r); mt != "application/json" {
		w.Header().Set("Content-Type", mt+"; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(script.Script))
		return
	}
	writeJSON(w, http.StatusOK, script)
}

// decodeScriptPayload reads and validates a script endpoint's body for op.
func decodeScriptPayload(w http.ResponseWriter, r *http.Request, op platforms.Operation) (*platforms.Payload, error) {
	data, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return platforms.DecodeFor(op, data, "")
}
