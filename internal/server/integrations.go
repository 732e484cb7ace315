package server

// The import block is like worker.go's: both handle an integration from its payload to
// the store; a list of dependencies shares no logic.
import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// The exact messages of API.md section 5.
const (
	msgValidationFailed     = "Validation of prerequisite setup failed. Unable to create integration."
	msgEditValidationFailed = "Validation of prerequisite setup failed. Unable to edit integration."
	msgDelValidationFailed  = "Validation of prerequisite setup failed. Unable to delete integration."
	msgNeedCredentials      = "Integrations that are automatically configured require privileged credentials to disable. Please provide them in your payload."
	msgNoCredentials        = "Credentials are not required for disable unless the integration was configured automatically. If you need to update your integration credentials, use PUT to update the integration before disabling."
	msgOfflineAuto          = "Automatic setup needs platform connectivity, but the server runs with --offline. Set autoBootstrap to false and run the scripts yourself, or run the server without --offline."
)

func notFound(id string) error {
	return errorf(http.StatusNotFound, "No Integration found with ID %s.", id)
}

// parseID reads the path's {id}: a positive decimal number. Anything else is answered
// like an unknown id (API.md section 1).
func parseID(r *http.Request, lowerCase bool) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || raw[0] == '+' || raw[0] == '0' {
		if len(raw) > 64 {
			raw = raw[:64] + "..."
		}
		if lowerCase {
			return 0, errorf(http.StatusNotFound, "No integration found with ID %s.", raw)
		}
		return 0, notFound(raw)
	}
	return id, nil
}

// load reads the integration of the path's {id}; DELETE's 404 says "integration" in
// lower case, as the seed documents.
func (s *Server) load(r *http.Request, lowerCase bool) (*store.Integration, error) {
	id, err := parseID(r, lowerCase)
	if err != nil {
		return nil, err
	}
	return s.loadID(r, id, lowerCase)
}

// loadID is load with the path's id already parsed.
func (s *Server) loadID(r *http.Request, id int64, lowerCase bool) (*store.Integration, error) {
	in, err := s.store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		if lowerCase {
			return nil, errorf(http.StatusNotFound, "No integration found with ID %d.", id)
		}
		return nil, notFound(strconv.FormatInt(id, 10))
	}
	return in, err
}

// view is the integration object of API.md section 4, fields in the seed's order.
type view struct {
	ID                string           `json:"id"`
	Status            lifecycle.Status `json:"status"`
	ValidationResults json.RawMessage  `json:"validationResults"`
	Type              string           `json:"type"`
	AutoBootstrap     *bool            `json:"autoBootstrap,omitempty"`
	Config            any              `json:"config,omitempty"`
	Message           string           `json:"message,omitempty"`
}

// accepted is the body of an accepted POST, PUT or DELETE.
type accepted struct {
	ID                string            `json:"id"`
	Status            lifecycle.Status  `json:"status"`
	ValidationResults connector.Results `json:"validationResults"`
}

// dryRunBody is the body of a dryRun.
type dryRunBody struct {
	ValidationResults connector.Results `json:"validationResults"`
}

// trinoConfig is what GET shows for a Trino integration.
type trinoConfig struct {
	APIKey               string `json:"apiKey"`
	ConfigurationSnippet string `json:"configurationSnippet"`
}

// held is the JSON of store.Integration.Credentials: what the server itself holds.
type held struct {
	// SystemPassword is the generated system-account password of an automatic setup.
	SystemPassword string `json:"systemPassword,omitempty"`
	// APIKey is the Trino cluster's key.
	APIKey string `json:"apiKey,omitempty"`
	// Migration is the progress of a running migration (migrate.go): what its rollback
	// undoes if it stops. Sealed with the rest, since statements may hold secrets.
	Migration *migrationProgress `json:"migration,omitempty"`
}

func heldOf(in *store.Integration) (held, error) {
	var h held
	if len(in.Credentials) == 0 {
		return h, nil
	}
	err := json.Unmarshal(in.Credentials, &h)
	return h, err
}

func (s *Server) view(r *http.Request, in *store.Integration) (*view, error) {
	v := &view{
		ID: strconv.FormatInt(in.ID, 10), Status: in.Status, Type: in.Type,
		AutoBootstrap: in.AutoBootstrap, ValidationResults: in.ValidationResults, Message: in.Message,
	}
	if len(v.ValidationResults) == 0 {
		v.ValidationResults = json.RawMessage(`{"status":"skipped","validationTests":[]}`)
	}
	if platforms.IssuesKey(in.Type) {
		h, err := heldOf(in)
		if err != nil {
			return nil, err
		}
		// Until the background work has made the key (status creating): an empty config.
		v.Config = struct{}{}
		if h.APIKey != "" && in.Status != lifecycle.Deleted && in.Status != lifecycle.Disabled {
			v.Config = trinoConfig{APIKey: h.APIKey, ConfigurationSnippet: trinoSnippet(s.publicURL, h.APIKey)}
		}
		return v, nil
	}
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		return nil, err
	}
	v.Config = platforms.Redact(p.Config)
	return v, nil
}

// trinoSnippet is the access-control properties text the Trino cluster installs; its
// base URL is the server's configured public URL.
func trinoSnippet(base, key string) string {
	return "access-control.name=immuta\nimmuta.base-url=" + base + "\nimmuta.apikey=" + key + "\n"
}

// listIntegrations serves GET /integrations: the seed's whole array, or with ?limit=N
// (and ?after=ID, the last id of the page before) one page of it in id order. The ids
// and versions are read first (two columns, nothing unsealed); each item's body then
// comes from the cache GET uses when its version matches, else from the row. The
// array is written item by item, never built whole. A store error after the first byte
// is sent aborts the response (the client sees a cut connection, never a shorter array
// that looks whole).
func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := pageOf(r)
	if err != nil {
		return err
	}
	items, err := s.store.ListVersions(r.Context(), after, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	bw := bufio.NewWriterSize(w, 32<<10)
	total := 0 // bytes given to bw; those beyond bw.Buffered() are sent
	write := func(b []byte) {
		total += len(b)
		_, _ = bw.Write(b)
	}
	write([]byte{'['})
	n := 0
	for _, it := range items {
		body, ok, err := s.listItem(r, it)
		if err != nil {
			if total == bw.Buffered() {
				return err // nothing sent yet: the usual error answer
			}
			s.log.ErrorContext(r.Context(), "list cut off", "request_id", r.Context().Value(ctxRequestID), "err", err)
			panic(http.ErrAbortHandler)
		}
		if !ok {
			continue // deleted since the ids were read
		}
		if n > 0 {
			write([]byte{','})
		}
		write(bytes.TrimSuffix(body, []byte("\n")))
		n++
	}
	write([]byte("]\n"))
	return bw.Flush()
}

// listItem returns the body of one listed integration, false when it was deleted
// since its id was read.
func (s *Server) listItem(r *http.Request, it store.IDVersion) ([]byte, bool, error) {
	if body, ok := s.views.get(it.ID, it.Version); ok {
		return body, true, nil
	}
	in, err := s.store.Get(r.Context(), it.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if in.Status == lifecycle.Deleted {
		return nil, false, nil
	}
	body, err := s.viewJSON(r, in)
	return body, err == nil, err
}

// maxPage is the largest ?limit.
const maxPage = 10000

// pageOf reads ?after (an integration id, 0 when absent) and ?limit (1 to maxPage, 0
// when absent: no limit).
func pageOf(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	if v, ok := q["after"]; ok {
		if after, err = strconv.ParseInt(v[0], 10, 64); err != nil || after < 0 || v[0][0] == '+' {
			return 0, 0, errorf(http.StatusBadRequest, "query parameter after must be an integration id (got %q)", v[0])
		}
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxPage || v[0][0] == '+' {
			return 0, 0, errorf(http.StatusBadRequest, "query parameter limit must be a whole number from 1 to %d (got %q)", maxPage, v[0])
		}
		limit = n
	}
	return after, limit, nil
}

// viewJSON encodes the integration object of in, through the cache of bodies by id and
// version (the body of a type whose key the server issues, Trino's, depends on the
// request's host, for the snippet's base URL, so it is not cached).
func (s *Server) viewJSON(r *http.Request, in *store.Integration) ([]byte, error) {
	cacheable := !platforms.IssuesKey(in.Type)
	if body, ok := s.views.get(in.ID, in.Version); ok && cacheable {
		return body, nil
	}
	v, err := s.view(r, in)
	if err != nil {
		return nil, err
	}
	body, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	if cacheable {
		s.views.put(in.ID, in.Version, body)
	}
	return body, nil
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) error {
	// A kept body is served after a check of the row's version alone: no full-row read
	// and nothing unsealed. Every write moves the version, whichever replica made it,
	// so the check sees another replica's write on the next GET.
	id, err := parseID(r, false)
	if err != nil {
		return err
	}
	if v, body, ok := s.views.cached(id); ok {
		if cur, err := s.store.Version(r.Context(), id); err == nil && cur == v {
			writeBody(w, http.StatusOK, body)
			return nil
		}
	}
	in, err := s.loadID(r, id, false)
	if err != nil {
		return err
	}
	body, err := s.viewJSON(r, in)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	in, err := s.load(r, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID     int64            `json:"id"`
		Status lifecycle.Status `json:"status"`
	}{in.ID, in.Status})
	return nil
}

// decodePayload reads and validates a POST or PUT body.
func decodePayload(w http.ResponseWriter, r *http.Request) (*platforms.Payload, error) {
	data, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return platforms.DecodeIntegration(data)
}

// keysOf lists the store keys of what must be unique among live integrations of p's
// type (API.md section 3); each platform's config says what they are
// (platforms.Config.UniqueKeys).
func keysOf(p *platforms.Payload) []string {
	us := p.UniqueKeys()
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Key
	}
	return out
}

// conflict turns a store conflict into the seed's 409 message.
func conflict(p *platforms.Payload, err error) error {
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	what := "with the same unique settings"
	for _, u := range p.UniqueKeys() {
		if u.Key == ce.Key {
			what = u.What
		}
	}
	return errorf(http.StatusConflict, "%s integration already exists %s (id = %d)", p.Type, what, ce.ExistingID)
}

// precheckConflict finds a live integration (other than self) holding one of p's keys,
// so that a conflict is reported before the platform tests run and by a dry run, which
// stores nothing. Writes do not rely on it: the store's constraint decides races.
func (s *Server) precheckConflict(r *http.Request, p *platforms.Payload, self int64) error {
	keys := keysOf(p)
	holders, err := s.store.KeyHolders(r.Context(), keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if id, ok := holders[k]; ok && id != self {
			return conflict(p, &store.ConflictError{Key: k, ExistingID: id})
		}
	}
	return nil
}

// admit runs what POST and PUT check before anything is stored: automatic setup needs
// a connector, no live integration (other than self) may hold p's unique keys, and the
// validation tests of op must not fail (the 422 of API.md section 5).
func (s *Server) admit(r *http.Request, op platforms.Operation, p *platforms.Payload, self int64, failMsg string) (connector.Results, error) {
	if p.Auto() && s.Offline() {
		return connector.Results{}, errorf(http.StatusUnprocessableEntity, msgOfflineAuto)
	}
	if err := s.precheckConflict(r, p, self); err != nil {
		return connector.Results{}, err
	}
	if err := s.scriptRules(p); err != nil {
		return connector.Results{}, err
	}
	return s.validate(r, op, p, failMsg)
}

// scriptRules refuses, before anything is accepted, an automatic setup whose create
// scripts the engine would refuse (a shared Snowflake database, a name a script cannot
// take): the server renders and runs those scripts itself, so the problem is the
// request's, a 400 naming the field, not a createError after the 200.
func (s *Server) scriptRules(p *platforms.Payload) error {
	if !p.Auto() || !p.Platform.HasScripts() {
		return nil
	}
	pw := newSystemPassword() // a stand-in: the real one is generated when the job runs
	for _, op := range []platforms.Operation{platforms.OpInitialCreate, platforms.OpCreate} {
		if !p.Platform.Supports(op) {
			continue
		}
		_, err := s.engine.Render(render.Request{Operation: op, Payload: p, SystemPassword: pw})
		if errors.Is(err, platforms.ErrInvalid) {
			return err
		}
	}
	return nil
}

// dryRun ends a request that stops before storing anything: with err, or with the
// dryRun body of the validation results.
func dryRun(w http.ResponseWriter, res connector.Results, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dryRunBody{res})
	return nil
}

// validate runs the validation tests for op; a failure is the 422 of API.md section 5.
func (s *Server) validate(r *http.Request, op platforms.Operation, p *platforms.Payload, failMsg string) (connector.Results, error) {
	res := connector.Validate(r.Context(), s.connectorFor(p.Type), op, p, connector.Credentials{}, s.checkTimeout)
	if err := r.Context().Err(); err != nil {
		// The request's deadline passed (or its client left) while the tests ran: their
		// failures say nothing about the platform, and nothing is written.
		w := "its client disconnected"
		if errors.Is(err, context.DeadlineExceeded) {
			w = fmt.Sprintf("it took longer than the %s request limit", s.requestTimeout)
		}
		return res, errorf(http.StatusServiceUnavailable, "the validation tests did not finish: %s; nothing was written, retry later", w)
	}
	if res.Failed() {
		return res, &httpError{status: http.StatusUnprocessableEntity, message: failMsg, results: &res}
	}
	return res, nil
}

// storedConfig is the JSON kept for a payload's config: bootstrap credentials of an
// automatic setup are removed (they are used once and held in memory only).
func storedConfig(p *platforms.Payload) (json.RawMessage, error) {
	if p.Config == nil {
		return nil, nil
	}
	cfg := p.Config
	if p.Auto() {
		cfg = platforms.StripBootstrap(cfg)
	}
	return json.Marshal(cfg)
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) error {
	dry, err := queryBool(r, "dryRun")
	if err != nil {
		return err
	}
	p, err := decodePayload(w, r)
	if err != nil {
		return err
	}
	if err := platforms.RefusePlaceholders(p.Config, ""); err != nil {
		return err
	}
	res, err := s.admit(r, platforms.OpCreate, p, 0, msgValidationFailed)
	if err != nil || dry {
		return dryRun(w, res, err)
	}
	cfg, err := storedConfig(p)
	if err != nil {
		return err
	}
	results, _ := json.Marshal(res)
	in := &store.Integration{
		Type: p.Type, AutoBootstrap: p.AutoBootstrap, Status: lifecycle.Creating,
		Config: cfg, ValidationResults: results, Keys: keysOf(p),
	}
	place, err := s.reserve(platforms.OpCreate, in)
	if err != nil {
		return err
	}
	defer place.cancel()
	if err := s.store.Create(r.Context(), in); err != nil {
		return conflict(p, err)
	}
	place.enqueue(job{kind: platforms.OpCreate, id: in.ID, payload: p})
	writeJSON(w, http.StatusOK, accepted{strconv.FormatInt(in.ID, 10), in.Status, res})
	return nil
}

func (s *Server) updateIntegration(w http.ResponseWriter, r *http.Request) error {
	// Query, then the integration, then the body, as deleteIntegration reads them:
	// the order decides which error a request with several problems gets.
	dry, err := queryBool(r, "dryRun")
	if err != nil {
		return err
	}
	in, err := s.load(r, false)
	if err != nil {
		return err
	}
	p, err := decodePayload(w, r)
	if err != nil {
		return err
	}
	old, err := sameIdentity(in, p)
	if err != nil {
		return err
	}
	// A secret that reads <REDACTED> (a GET body sent back) keeps the stored secret.
	p.Config = platforms.KeepSecrets(old.Config, p.Config)
	if err := platforms.RefusePlaceholders(p.Config, " (the stored integration has none to keep)"); err != nil {
		return err
	}
	if !lifecycle.Allowed(in.Status, lifecycle.Edit) {
		return errorf(http.StatusConflict, "Unable to edit integration with ID %d in current state %s.", in.ID, in.Status)
	}
	res, err := s.admit(r, platforms.OpEdit, p, in.ID, msgEditValidationFailed)
	if err != nil || dry {
		return dryRun(w, res, err)
	}
	pending, err := storedConfig(p)
	if err != nil {
		return err
	}
	next, _ := lifecycle.Next(in.Status, lifecycle.Edit)
	in.Status, in.Message, in.Pending = next, "", pending
	in.ValidationResults, _ = json.Marshal(res)
	// While the edit runs the integration holds its old and its new keys (the store
	// drops duplicates).
	in.Keys = append(in.Keys, keysOf(p)...)
	place, err := s.reserve(platforms.OpEdit, in)
	if err != nil {
		return err
	}
	defer place.cancel()
	if err := s.store.Update(r.Context(), in); err != nil {
		return s.raced(r, in.ID, err, "edit", p)
	}
	place.enqueue(job{kind: platforms.OpEdit, id: in.ID, payload: p})
	writeJSON(w, http.StatusOK, accepted{strconv.FormatInt(in.ID, 10), in.Status, res})
	return nil
}

// raced maps an Update error of a request: a lost race is the 409 of the state the
// winner left.
func (s *Server) raced(r *http.Request, id int64, err error, verb string, p *platforms.Payload) error {
	switch {
	case errors.Is(err, store.ErrStale):
		cur, gerr := s.store.Get(r.Context(), id)
		if gerr != nil {
			return gerr
		}
		return errorf(http.StatusConflict, "Unable to %s integration with ID %d in current state %s.", verb, id, cur.Status)
	case errors.Is(err, store.ErrConflict) && p != nil:
		return conflict(p, err)
	}
	return err
}

// sameIdentity refuses a PUT (or edit script) that changes the type, autoBootstrap or a
// field that cannot change after creation, naming every such field (render.CheckEdit).
// It returns the stored payload.
func sameIdentity(in *store.Integration, p *platforms.Payload) (*platforms.Payload, error) {
	if p.Type != in.Type {
		return nil, &httpError{status: http.StatusBadRequest,
			message: fmt.Sprintf("type: cannot be changed (was %q)", in.Type),
			details: []platforms.Problem{{Path: "type", Message: fmt.Sprintf("cannot be changed (was %q)", in.Type)}}}
	}
	old, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		return nil, err
	}
	return old, render.CheckEdit(old, p)
}

func boolOf(b *bool) bool { return b != nil && *b }

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) error {
	// Query, then the integration, then the body, as updateIntegration reads them:
	// the order decides which error a request with several problems gets.
	dry, err := queryBool(r, "dryRun")
	if err != nil {
		return err
	}
	force, err := queryBool(r, "forceDisable")
	if err != nil {
		return err
	}
	in, err := s.load(r, true)
	if err != nil {
		return err
	}
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	busy := func() error {
		return errorf(http.StatusConflict, "Unable to delete integration with ID %d in current state %s.", in.ID, in.Status)
	}
	if force {
		if !lifecycle.Allowed(in.Status, lifecycle.ForceDisable) {
			return busy()
		}
		res := storedResults(in)
		if dry {
			return dryRun(w, res, nil)
		}
		wasMigrating := in.Status == lifecycle.Migrating
		in.Status, _ = lifecycle.Next(in.Status, lifecycle.ForceDisable)
		in.Message = "disabled with forceDisable: remove the integration's objects from the platform yourself (POST /integrations/" + strconv.FormatInt(in.ID, 10) + "/scripts/delete gives the script)"
		if wasMigrating {
			in.Message += "; a migration was running and was stopped without a rollback: some of its statements may have run"
		}
		clearMigration(in)
		// The work in flight (if any) loses its lease and stops.
		in.Pending, in.LeaseOwner, in.LeaseUntil = nil, "", time.Time{}
		if err := s.store.Update(r.Context(), in); err != nil {
			return s.raced(r, in.ID, err, "delete", nil)
		}
		if platforms.IssuesKey(in.Type) {
			if err := s.retireTrinoKey(r.Context(), in.ID); err != nil {
				return err
			}
		}
		writeJSON(w, http.StatusOK, accepted{strconv.FormatInt(in.ID, 10), in.Status, res})
		return nil
	}
	if !lifecycle.Allowed(in.Status, lifecycle.Delete) {
		return busy()
	}
	stored, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		return err
	}
	p := stored
	// No body, white space, null and {} all carry no credentials (API.md section 5):
	// what a manual integration takes, and what an automatic one refuses.
	none := platforms.EmptyDocument(data)
	switch {
	case stored.Auto() && none:
		return errorf(http.StatusBadRequest, msgNeedCredentials)
	case !stored.Auto() && !none:
		return errorf(http.StatusBadRequest, msgNoCredentials)
	case stored.Auto():
		if s.Offline() {
			return errorf(http.StatusUnprocessableEntity, msgOfflineAuto+" To remove the integration without the platform, use forceDisable=true.")
		}
		if p, err = platforms.MergeCredentials(stored, data); err != nil {
			return incompleteCredentials(err)
		}
	}
	res, err := s.validate(r, platforms.OpDelete, p, msgDelValidationFailed)
	if err != nil || dry {
		return dryRun(w, res, err)
	}
	in.Status, _ = lifecycle.Next(in.Status, lifecycle.Delete)
	in.Message, in.Pending = "", nil
	in.ValidationResults, _ = json.Marshal(res)
	place, err := s.reserve(platforms.OpDelete, in)
	if err != nil {
		return err
	}
	defer place.cancel()
	if err := s.store.Update(r.Context(), in); err != nil {
		return s.raced(r, in.ID, err, "delete", nil)
	}
	place.enqueue(job{kind: platforms.OpDelete, id: in.ID, payload: p})
	writeJSON(w, http.StatusOK, accepted{strconv.FormatInt(in.ID, 10), in.Status, res})
	return nil
}

// incompleteCredentials gives a DELETE body that lacks some of the privileged
// credentials the seed's message, with every problem of the body in details. Other
// problems (unknown fields, values of the wrong type) keep their own message.
func incompleteCredentials(err error) error {
	var ve *platforms.ValidationError
	if errors.As(err, &ve) && slices.ContainsFunc(ve.Problems, platforms.Problem.Missing) {
		return &httpError{status: http.StatusBadRequest, message: msgNeedCredentials, details: ve.Problems}
	}
	return err
}

func storedResults(in *store.Integration) connector.Results {
	var res connector.Results
	if err := json.Unmarshal(in.ValidationResults, &res); err != nil || res.Status == "" {
		return connector.Summarize(nil)
	}
	return res
}

func (s *Server) regenerate(w http.ResponseWriter, r *http.Request) error {
	in, err := s.load(r, false)
	if err != nil {
		return err
	}
	plat, err := platforms.Lookup(in.Type)
	if err != nil {
		return err
	}
	if !plat.Regenerate {
		return errorf(http.StatusBadRequest, "regenerate is only for Trino integrations: a %s integration has no API key to regenerate", in.Type)
	}
	if in.Status != lifecycle.Enabled {
		return errorf(http.StatusConflict, "Unable to regenerate the API key of integration with ID %d in current state %s.", in.ID, in.Status)
	}
	key, err := s.rotateTrinoKey(r.Context(), in.ID)
	if err != nil {
		return s.raced(r, in.ID, err, "regenerate the API key of", nil)
	}
	writeJSON(w, http.StatusOK, map[string]string{"newKey": key})
	return nil
}
