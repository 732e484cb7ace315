package server

import (
	"net/http"

	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// scriptOp serves POST /integrations/scripts/{op}: the script of op for the body's
// payload (API.md section 7).
func (s *Server) scriptOp(op platforms.Operation) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		redact, err := queryBool(r, "redact")
		if err != nil {
			return err
		}
		data, err := readBody(w, r)
		if err != nil {
			return err
		}
		mt := scriptMediaType(r)
		k := s.scripts.key(op, redact, mt, data)
		if keptType, body, ok := s.scripts.get(k); ok {
			writeScriptBody(w, keptType, body)
			return nil
		}
		p, err := platforms.DecodeFor(op, data, "")
		if err != nil {
			return err
		}
		mt, body, err := s.renderScript(r, render.Request{Operation: op, Payload: p, Redact: redact})
		if err != nil {
			return err
		}
		s.scripts.put(k, mt, body)
		writeScriptBody(w, mt, body)
		return nil
	}
}

// loadForScript reads ?redact and the stored integration of the path's {id}.
func (s *Server) loadForScript(r *http.Request) (bool, *store.Integration, error) {
	redact, err := queryBool(r, "redact")
	if err != nil {
		return false, nil, err
	}
	in, err := s.load(r, false)
	return redact, in, err
}

// scriptEdit serves POST /integrations/{id}/scripts/edit: the script that turns the
// stored config into the body's.
func (s *Server) scriptEdit(w http.ResponseWriter, r *http.Request) error {
	redact, in, err := s.loadForScript(r)
	if err != nil {
		return err
	}
	p, err := decodeScriptPayload(w, r, platforms.OpEdit)
	if err != nil {
		return err
	}
	if boolOf(in.AutoBootstrap) {
		return errorf(http.StatusBadRequest, "integration %d was configured automatically (autoBootstrap true): edit it with PUT /integrations/%d and the privileged credentials; edit scripts are for manual setups", in.ID, in.ID)
	}
	from, err := sameIdentity(in, p)
	if err != nil {
		return err
	}
	req := render.Request{Operation: platforms.OpEdit, Payload: p, From: from, Redact: redact}
	// From the applied state: with the unchanged config, the migration to this bundle.
	if err := fromState(&req, in); err != nil {
		return err
	}
	return s.writeScript(w, r, req)
}

// scriptDelete serves POST /integrations/{id}/scripts/delete: the script that removes
// everything the stored integration created. It takes no body.
func (s *Server) scriptDelete(w http.ResponseWriter, r *http.Request) error {
	redact, in, err := s.loadForScript(r)
	if err != nil {
		return err
	}
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	if !emptyBody(data) {
		return errorf(http.StatusBadRequest, "the delete script takes no body: it is made from the stored config of integration %d", in.ID)
	}
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		return err
	}
	req := render.Request{Operation: platforms.OpDelete, Payload: p, Redact: redact}
	if err := fromState(&req, in); err != nil {
		return err
	}
	if p.Auto() {
		// The delete script drops the system account without printing its password.
		h, err := heldOf(in)
		if err != nil {
			return err
		}
		req.SystemPassword = h.SystemPassword
		if req.SystemPassword == "" {
			req.SystemPassword = platforms.Redacted
		}
	}
	return s.writeScript(w, r, req)
}

// writeScript renders req and writes it as JSON, or as the script text when the client
// asks for text/plain or application/sql.
func (s *Server) writeScript(w http.ResponseWriter, r *http.Request, req render.Request) error {
	mt, body, err := s.renderScript(r, req)
	if err != nil {
		return err
	}
	writeScriptBody(w, mt, body)
	return nil
}

// renderScript renders req and encodes it in the media type the client asks for: the
// JSON script, or its text for text/plain and application/sql.
func (s *Server) renderScript(r *http.Request, req render.Request) (string, []byte, error) {
	script, err := s.engine.Render(req)
	if err != nil {
		return "", nil, err
	}
	if mt := scriptMediaType(r); mt != "application/json" {
		return mt, []byte(script.Script), nil
	}
	body, err := encodeJSON(script)
	return "application/json", body, err
}

// writeScriptBody writes a script response renderScript encoded.
func writeScriptBody(w http.ResponseWriter, mediaType string, body []byte) {
	if mediaType == "application/json" {
		writeBody(w, http.StatusOK, body)
		return
	}
	w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// decodeScriptPayload reads and validates a script endpoint's body for op.
func decodeScriptPayload(w http.ResponseWriter, r *http.Request, op platforms.Operation) (*platforms.Payload, error) {
	data, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return platforms.DecodeFor(op, data, "")
}
