package platforms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// StripBootstrap returns a deep copy of cfg for storage: every set field tagged
// `bootstrap:"true"` (the privileged bootstrap user's credentials of an automatic
// setup, which are used once and never stored) reads "<REDACTED>". GET responses show
// them that way, as the seed does.
func StripBootstrap(cfg Config) Config {
	if cfg == nil {
		return nil
	}
	cp := deepCopy(reflect.ValueOf(cfg))
	st := cp.Elem()
	for i := 0; i < st.NumField(); i++ {
		if !fieldTag(st.Type().Field(i), "bootstrap") {
			continue
		}
		walkStrings(st.Field(i), "", "", false, func(_ string, v reflect.Value, _ bool) {
			if v.Kind() == reflect.String && v.String() != "" && v.CanSet() {
				v.SetString(Redacted)
			}
		})
	}
	return cp.Interface().(Config)
}

// BootstrapFields lists the JSON names of cfg's top-level fields tagged bootstrap,
// sorted: the credentials a DELETE of an automatic setup may carry.
func BootstrapFields(cfg Config) []string {
	if cfg == nil {
		return nil
	}
	t := reflect.TypeOf(cfg).Elem()
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if fieldTag(t.Field(i), "bootstrap") {
			out = append(out, jsonName(t.Field(i)))
		}
	}
	sort.Strings(out)
	return out
}

// Restore rebuilds a payload from a config the server stored itself (validated when it
// was accepted): strict JSON decoding and defaults, but no validation, because the
// stored copy has its bootstrap credentials removed. Never use it on client input.
func Restore(typ string, autoBootstrap *bool, config []byte) (*Payload, error) {
	plat, err := Lookup(typ)
	if err != nil {
		return nil, err
	}
	p := &Payload{Type: typ, AutoBootstrap: autoBootstrap, Platform: plat}
	if !plat.HasConfig() {
		return p, nil
	}
	cfg := plat.NewConfig()
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("stored %s config: %w", typ, err)
	}
	cfg.Defaults(p.Auto())
	p.Config = cfg
	return p, nil
}

// MergeCredentials validates the body of a DELETE of an automatic setup: a JSON or YAML
// object holding only the bootstrap credentials of the type (for Snowflake
// authenticationType, username, password, role, privateKey, privateKeyPassword,
// oAuthClientConfig). It returns the stored config with those credentials put back,
// validated as a whole; problem paths name the body's fields (no "config." prefix).
func MergeCredentials(stored *Payload, body []byte) (*Payload, error) {
	if stored.Config == nil {
		return nil, &ValidationError{Problems: []Problem{{Message: stored.Type + " integrations take no credentials"}}}
	}
	root, _, perr := parseTree(body)
	if perr != nil {
		return nil, &ValidationError{Problems: []Problem{*perr}}
	}
	allowed := append(BootstrapFields(stored.Config), "authenticationType")
	if _, ok := reflect.TypeOf(stored.Config).Elem().FieldByName("Role"); ok {
		allowed = append(allowed, "role")
	}
	sort.Strings(allowed)
	var generic map[string]any
	if err := root.Decode(&generic); err != nil || generic == nil {
		return nil, &ValidationError{Problems: []Problem{{Message: "credentials must be an object with " + strings.Join(allowed, ", ")}}}
	}
	v := newValidator(nil)
	for k := range generic {
		if !slices.Contains(allowed, k) {
			v.Add(k, "unknown field%s; accepted: %s", suggest(k, allowed), strings.Join(allowed, ", "))
		}
	}
	if err := v.Err(""); err != nil {
		return nil, err
	}
	// Put the credentials into the stored config and validate the whole payload, so the
	// platform's own rules (required fields per authenticationType) apply.
	raw, err := json.Marshal(stored.Config)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, err
	}
	for _, f := range BootstrapFields(stored.Config) {
		delete(cfg, f)
	}
	for k, val := range generic {
		cfg[k] = val
	}
	doc, err := json.Marshal(map[string]any{"type": stored.Type, "autoBootstrap": true, "config": cfg})
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Message: "credentials must be plain JSON or YAML values"}}}
	}
	p, err := Decode(doc, "")
	if err != nil {
		if ve, ok := err.(*ValidationError); ok {
			for i := range ve.Problems {
				ve.Problems[i].Path = strings.TrimPrefix(ve.Problems[i].Path, "config.")
				ve.Problems[i].Line, ve.Problems[i].Col = 0, 0
			}
		}
		return nil, err
	}
	return p, nil
}
