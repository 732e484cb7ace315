package platforms

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxDepth bounds the nesting of any payload; real payloads are three levels deep.
const maxDepth = 32

// maxEntries bounds the keys of an object and the items of an array; the largest real
// config object has about 20 keys, and BigQuery's credential about 10. A body of
// 60,000 keys is refused at the first key past the limit, without decoding the rest.
const maxEntries = 1000

// maxValues bounds the keys and values of a whole JSON payload (real ones have under
// 100), so that no shape of body (60 objects of 999 keys) costs more than a small one.
const maxValues = 5000

// msgTooManyValues is the problem of a JSON payload past maxValues.
var msgTooManyValues = fmt.Sprintf("more than %d keys and values in the payload", maxValues)

// msgTooManyEntries is the problem of an object or array past maxEntries.
var msgTooManyEntries = fmt.Sprintf("more than %d keys or items in one object or array", maxEntries)

// Payload is a decoded, defaulted and validated integration payload
// (`{type, autoBootstrap, config}`).
type Payload struct {
	Type string `json:"type"`
	// AutoBootstrap is nil when the payload had none (Trino).
	AutoBootstrap *bool `json:"autoBootstrap,omitempty"`
	// Config is the typed config; nil for Trino.
	Config Config `json:"config,omitempty"`
	// Platform is the registry entry of Type.
	Platform *Platform `json:"-"`
}

// Auto reports the payload's autoBootstrap (false when absent).
func (p *Payload) Auto() bool { return p.AutoBootstrap != nil && *p.AutoBootstrap }

// Config is implemented by every typed config.
type Config interface {
	// Defaults fills in the documented defaults of absent fields.
	Defaults(autoBootstrap bool)
	// Validate reports every problem of the (defaulted) config; paths start with "config.".
	Validate(v *Validator, autoBootstrap bool)
	// UniqueKey is the value that must be unique among live integrations of the type.
	UniqueKey() string
	// UniqueKeys lists what must be unique among live integrations of the type (API.md
	// section 3), each with the words a conflict message names it by.
	UniqueKeys() []Unique
	// ImpersonationEnabled reports whether the config turns impersonation on (false for
	// types that have none), so that the impersonation tests apply.
	ImpersonationEnabled() bool
}

// Unique is one value that must be unique among live integrations of a type.
type Unique struct {
	// Key is the value as the store compares it, prefixed by what it is ("host|h",
	// "name|n"); the payload's type comes in front of it (see Payload.UniqueKeys).
	Key string
	// What ends the 409 message, e.g. "on host h": "<type> integration already exists
	// <What> (id = N)".
	What string
}

// UniqueKeys returns the store keys of the payload's unique values: its type, a '|' and
// the config's Unique.Key; a type without a config (Trino) is unique on the server.
func (p *Payload) UniqueKeys() []Unique {
	if p.Config == nil {
		return []Unique{{Key: p.Type + "|cluster", What: "on this server"}}
	}
	us := p.Config.UniqueKeys()
	out := make([]Unique, len(us))
	for i, u := range us {
		out[i] = Unique{Key: p.Type + "|" + u.Key, What: u.What}
	}
	return out
}

// hostUnique is the unique value of a type whose integrations are unique per host.
func hostUnique(c Config, host string) []Unique {
	return []Unique{{Key: "host|" + c.UniqueKey(), What: "on host " + host}}
}

// Decode parses a payload given as JSON or YAML (sniffed: JSON starts with '{' or '['),
// rejects unknown fields, fills in defaults and validates it. Every problem is reported
// in one *ValidationError whose problems carry line:col in data; file names the input in
// diagnostics.
func Decode(data []byte, file string) (*Payload, error) { return decode(data, file, false) }

// DecodeIntegration is Decode for the body of POST or PUT /integrations: the config's
// credentials are those of an account that already exists (the caller ran the create
// script, or the server generates the system account), so the password policies that
// apply when a script sets a password are not applied; every other rule is. The script
// endpoints and the CLI use Decode.
func DecodeIntegration(data []byte) (*Payload, error) { return decode(data, "", true) }

// DecodeExisting is DecodeIntegration for a named input (file names positions).
func DecodeExisting(data []byte, file string) (*Payload, error) { return decode(data, file, true) }

// DecodeFor decodes the payload of a script operation: the password policies apply
// only when the operation's script sets passwords (create, initial-create, edit);
// teardown scripts only drop, so the seed's cleanup examples with short passwords work.
func DecodeFor(op Operation, data []byte, file string) (*Payload, error) {
	return decode(data, file, !op.SetsPasswords())
}

func decode(data []byte, file string, existing bool) (*Payload, error) {
	root, isJSON, perr := parseTree(data)
	if perr != nil {
		return nil, &ValidationError{File: file, Problems: []Problem{*perr}}
	}
	d := &decoder{pos: map[string]pos{}, json: isJSON}
	p := &Payload{}
	v := newValidator(d.pos)
	v.existing = existing
	d.v = v
	d.payload(root, p)
	if err := v.Err(file); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) payload(root *yaml.Node, p *Payload) {
	v := d.v
	d.pos[""] = pos{root.Line, root.Column}
	if root.Kind != yaml.MappingNode {
		v.Add("", "payload must be an object with type, autoBootstrap and config")
		return
	}
	var typeNode, autoNode, cfgNode *yaml.Node
	var strays []string // unknown top-level keys: config's, when not indented under it
	d.fields(root, "", func(key string, val *yaml.Node) bool {
		switch key {
		case "type":
			typeNode = val
		case "autoBootstrap":
			autoNode = val
		case "config":
			cfgNode = val
		default:
			strays = append(strays, key)
			return false
		}
		return true
	}, "type, autoBootstrap, config")
	if typeNode == nil || isNull(typeNode) {
		v.Add("type", "is required; accepted: %s", strings.Join(TypeNames(), ", "))
		return
	}
	if !d.str(typeNode, "type", &p.Type) {
		return
	}
	plat, err := Lookup(p.Type)
	if err != nil {
		v.Add("type", "%s", err.Error())
		return
	}
	p.Platform = plat
	if autoNode != nil && !isNull(autoNode) {
		var b bool
		if d.boolean(autoNode, "autoBootstrap", &b) {
			p.AutoBootstrap = &b
		}
	}
	switch plat.AutoBootstrap {
	case AutoBootstrapAbsent:
		if p.AutoBootstrap != nil {
			v.Add("autoBootstrap", "must be absent for %s", plat.Type)
		}
	case AutoBootstrapMustBeFalse:
		if p.AutoBootstrap == nil {
			if !v.Has("autoBootstrap") {
				v.Add("autoBootstrap", "is required (false for %s)", plat.Type)
			}
		} else if *p.AutoBootstrap {
			v.Add("autoBootstrap", "must be false for %s", plat.Type)
		}
	default:
		if p.AutoBootstrap == nil && !v.Has("autoBootstrap") {
			v.Add("autoBootstrap", "is required (true or false)")
		}
	}
	if !plat.HasConfig() {
		if cfgNode != nil && !isNull(cfgNode) {
			v.Add("config", "must be absent: %s has no config", plat.Type)
		}
		return
	}
	if cfgNode == nil || isNull(cfgNode) {
		if len(strays) > 0 {
			verb := "are" // "is colour meant ...", "are name, awsRegion meant ..."
			if len(strays) == 1 {
				verb = "is"
			}
			v.Add("config", "is required for %s (%s %s meant to be indented under config:?)", plat.Type, verb, strings.Join(strays, ", "))
			return
		}
		v.Add("config", "is required for %s", plat.Type)
		return
	}
	cfg := plat.NewConfig()
	d.value(cfgNode, reflect.ValueOf(cfg).Elem(), "config", 0)
	// Rules run even after shape errors so that every problem is reported at once; the
	// validator keeps only the first problem of each path, so a field of the wrong type
	// is not also reported as missing.
	cfg.Defaults(p.Auto())
	v.skipPlaceholders(cfg)
	cfg.Validate(v, p.Auto())
	p.Config = cfg
}

// checkFormatChars refuses Unicode format characters (category Cf: bidi controls such
// as U+202E, zero-width characters, U+FEFF) in a value that can reach SQL or a review
// comment: they make a script read differently from what it does. Secrets are exempt
// (they are never shown).
func checkFormatChars(v *Validator, path, s string) {
	i := 0
	for _, r := range s {
		i++
		if unicode.Is(unicode.Cf, r) {
			v.Add(path, "must not contain Unicode format or bidi control characters (U+%04X at character %d)", r, i)
			return
		}
	}
}

type decoder struct {
	v    *Validator
	pos  map[string]pos
	json bool // JSON input: numbers are never strings
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// fields walks a mapping node, reporting duplicate and unknown keys.
func (d *decoder) fields(n *yaml.Node, prefix string, take func(string, *yaml.Node) bool, accepted string) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		path := join(prefix, key)
		d.pos[path] = pos{val.Line, val.Column}
		if k.Kind != yaml.ScalarNode {
			d.pos[path] = pos{k.Line, k.Column}
			d.v.Add(prefix, "field names must be strings")
			continue
		}
		if seen[key] {
			d.pos[path] = pos{k.Line, k.Column}
			d.v.Add(path, "duplicate field")
			continue
		}
		seen[key] = true
		if !take(key, val) {
			if d.v.full() {
				d.v.Add(path, "unknown field") // only counted: the list is full
				continue
			}
			d.pos[path] = pos{k.Line, k.Column}
			names := strings.Split(accepted, ", ")
			d.v.Add(path, "unknown field%s; accepted: %s", suggest(key, names), accepted)
		}
	}
}

// value decodes n into rv (a struct, pointer to struct, string, int or bool).
func (d *decoder) value(n *yaml.Node, rv reflect.Value, path string, depth int) {
	if depth > maxDepth {
		d.v.Add(path, "nested too deeply")
		return
	}
	if isNull(n) {
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		d.value(n, rv.Elem(), path, depth+1)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.v.Add(path, "must be an object")
			return
		}
		t := rv.Type()
		index := map[string]int{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name := jsonName(t.Field(i))
			if name == "" {
				continue
			}
			index[name] = i
			names = append(names, name)
		}
		d.fields(n, path, func(key string, val *yaml.Node) bool {
			i, ok := index[key]
			if !ok {
				return false
			}
			fpath := join(path, key)
			d.value(val, rv.Field(i), fpath, depth+1)
			if f := rv.Field(i); f.Kind() == reflect.String && !fieldTag(t.Field(i), "secret") {
				checkFormatChars(d.v, fpath, f.String())
			}
			return true
		}, strings.Join(names, ", "))
	case reflect.String:
		var s string
		if d.str(n, path, &s) {
			rv.SetString(s)
		}
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.v.Add(path, "must be an integer")
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || i < -1<<31 || i > 1<<31-1 {
			d.v.Add(path, "must be an integer in range")
			return
		}
		rv.SetInt(i)
	case reflect.Bool:
		var b bool
		if d.boolean(n, path, &b) {
			rv.SetBool(b)
		}
	default:
		d.v.Add(path, "unsupported field type")
	}
}

func (d *decoder) str(n *yaml.Node, path string, out *string) bool {
	if n.Kind != yaml.ScalarNode {
		d.v.Add(path, "must be a string")
		return false
	}
	switch n.Tag {
	case "!!str":
	case "!!int", "!!float":
		// YAML users write account ids unquoted; in JSON a number is not a string.
		if d.json {
			d.v.Add(path, "must be a string")
			return false
		}
	default:
		d.v.Add(path, "must be a string")
		return false
	}
	if !utf8.ValidString(n.Value) {
		d.v.Add(path, "must be valid UTF-8")
		return false
	}
	*out = n.Value
	return true
}

func (d *decoder) boolean(n *yaml.Node, path string, out *bool) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.v.Add(path, "must be true or false")
		return false
	}
	// YAML's core schema spells true as true, True or TRUE (and false likewise); the
	// tag check above admitted only those.
	*out = strings.EqualFold(n.Value, "true")
	return true
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

// EmptyDocument reports whether data, a JSON or YAML body, holds nothing: only white
// space, an empty YAML document ("---"), a null, or an empty object. A DELETE body like
// that carries no credentials. Anything the parser refuses is not empty.
func EmptyDocument(data []byte) bool {
	root, _, perr := parseTree(data)
	if perr != nil {
		return perr.Message == msgEmptyPayload
	}
	switch root.Kind {
	case yaml.MappingNode:
		return len(root.Content) == 0
	case yaml.ScalarNode:
		return root.ShortTag() == "!!null"
	}
	return false
}

// msgEmptyPayload is parseTree's problem for a body with nothing in it.
const msgEmptyPayload = "empty payload"

// parseTree reads JSON or YAML into a yaml.Node tree with positions. Aliases, anchors and
// multiple documents are refused (alias bombs, confusing configs).
func parseTree(data []byte) (*yaml.Node, bool, *Problem) {
	if !utf8.Valid(data) {
		off := 0
		for off < len(data) {
			r, size := utf8.DecodeRune(data[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		l, c := lineCol(data, off)
		return nil, false, &Problem{Message: "input is not valid UTF-8", Line: l, Col: c}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		l, c := lineCol(data, i)
		return nil, false, &Problem{Message: "input contains a NUL byte", Line: l, Col: c}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return nil, false, &Problem{Message: msgEmptyPayload, Line: 1, Col: 1}
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		n, p := parseJSON(data)
		return n, true, p
	}
	n, p := parseYAML(data)
	return n, false, p
}

// maxYAMLLines bounds a YAML payload before it is parsed (the YAML parser is far slower
// than the JSON one); a real payload has under 100 lines.
const maxYAMLLines = 4 * maxEntries

func parseYAML(data []byte) (n *yaml.Node, prob *Problem) {
	if lines := bytes.Count(data, []byte{'\n'}); lines > maxYAMLLines {
		return nil, &Problem{Message: fmt.Sprintf("a YAML payload has at most %d lines (this one has %d)", maxYAMLLines, lines), Line: maxYAMLLines + 1, Col: 1}
	}
	defer func() {
		if r := recover(); r != nil {
			n, prob = nil, &Problem{Message: fmt.Sprintf("invalid YAML: %v", r), Line: 1, Col: 1}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlProblem(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Problem{Message: "only one YAML document is allowed", Line: extra.Line, Col: extra.Column}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlProblem(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &Problem{Message: msgEmptyPayload, Line: 1, Col: 1}
	}
	if p := checkYAML(doc.Content[0], 0); p != nil {
		return nil, p
	}
	return doc.Content[0], nil
}

func checkYAML(n *yaml.Node, depth int) *Problem {
	if depth > maxDepth {
		return &Problem{Message: "nested too deeply", Line: n.Line, Col: n.Column}
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &Problem{Message: "YAML anchors and aliases are not allowed", Line: n.Line, Col: n.Column}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!merge" {
		return &Problem{Message: "YAML merge keys are not allowed", Line: n.Line, Col: n.Column}
	}
	if (n.Kind == yaml.MappingNode && len(n.Content) > 2*maxEntries) || (n.Kind == yaml.SequenceNode && len(n.Content) > maxEntries) {
		at := n.Content[2*maxEntries]
		if n.Kind == yaml.SequenceNode {
			at = n.Content[maxEntries]
		}
		return &Problem{Message: msgTooManyEntries, Line: at.Line, Col: at.Column}
	}
	for _, c := range n.Content {
		if p := checkYAML(c, depth+1); p != nil {
			return p
		}
	}
	return nil
}

func yamlProblem(err error) *Problem {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				line = l
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	if msg == "mapping values are not allowed in this context" && line > 0 {
		// What yaml.v3 says of a key indented deeper than the keys beside it.
		msg += fmt.Sprintf(" (is line %d indented deeper than the key above it? keys of one mapping take the same indentation)", line)
	}
	p := &Problem{Message: "invalid YAML: " + msg, Line: line}
	if line > 0 {
		p.Col = 1
	}
	return p
}

// parseJSON builds a yaml.Node tree from JSON tokens so that JSON and YAML share one
// strict decoder; positions come from the decoder's offsets.
func parseJSON(data []byte) (*yaml.Node, *Problem) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(err error) *Problem {
		off := int(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset)
		}
		l, c := lineCol(data, off)
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "unexpected end of JSON input"
		}
		return &Problem{Message: "invalid JSON: " + msg, Line: l, Col: c}
	}
	cur := &cursor{data: data, line: 1, col: 1}
	var build func(depth int) (*yaml.Node, *Problem)
	values := 0
	build = func(depth int) (*yaml.Node, *Problem) {
		start := skipSep(data, int(dec.InputOffset()))
		l, c := cur.at(start)
		if values++; values > maxValues {
			return nil, &Problem{Message: msgTooManyValues, Line: l, Col: c}
		}
		if depth > maxDepth {
			return nil, &Problem{Message: "nested too deeply", Line: l, Col: c}
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(err)
		}
		n := &yaml.Node{Line: l, Column: c}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				n.Kind, n.Tag = yaml.MappingNode, "!!map"
				for dec.More() {
					kstart := skipSep(data, int(dec.InputOffset()))
					kl, kc := cur.at(kstart)
					if len(n.Content) >= 2*maxEntries {
						return nil, &Problem{Message: msgTooManyEntries, Line: kl, Col: kc}
					}
					if values++; values > maxValues {
						return nil, &Problem{Message: msgTooManyValues, Line: kl, Col: kc}
					}
					kt, err := dec.Token()
					if err != nil {
						return nil, fail(err)
					}
					ks, _ := kt.(string)
					key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks, Line: kl, Column: kc}
					val, p := build(depth + 1)
					if p != nil {
						return nil, p
					}
					n.Content = append(n.Content, key, val)
				}
			case '[':
				n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
				for dec.More() {
					if len(n.Content) >= maxEntries {
						l, c := cur.at(skipSep(data, int(dec.InputOffset())))
						return nil, &Problem{Message: msgTooManyEntries, Line: l, Col: c}
					}
					val, p := build(depth + 1)
					if p != nil {
						return nil, p
					}
					n.Content = append(n.Content, val)
				}
			}
			if _, err := dec.Token(); err != nil { // closing delimiter
				return nil, fail(err)
			}
		case string:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!str", t
		case json.Number:
			n.Kind, n.Value = yaml.ScalarNode, t.String()
			n.Tag = "!!float"
			if _, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
				n.Tag = "!!int"
			}
		case bool:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(t)
		case nil:
			n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
		}
		return n, nil
	}
	root, p := build(0)
	if p != nil {
		return nil, p
	}
	end := skipSep(data, int(dec.InputOffset()))
	if _, err := dec.Token(); err != io.EOF {
		l, c := lineCol(data, end)
		return nil, &Problem{Message: "invalid JSON: unexpected data after the top-level value", Line: l, Col: c}
	}
	return root, nil
}

func skipSep(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// cursor converts increasing byte offsets to lines and columns in time linear in the
// input overall: it moves on from the last offset instead of rescanning from the start
// (a 1 MiB body of 60,000 keys would otherwise take minutes).
type cursor struct {
	data           []byte
	off, line, col int
}

// at returns the 1-based line and rune column of off; an offset before the last one
// starts again from the beginning.
func (c *cursor) at(off int) (int, int) {
	if off > len(c.data) {
		off = len(c.data)
	}
	if off < c.off {
		c.off, c.line, c.col = 0, 1, 1
	}
	for ; c.off < off; c.off++ {
		switch b := c.data[c.off]; {
		case b == '\n':
			c.line++
			c.col = 1
		case b&0xC0 != 0x80:
			c.col++
		}
	}
	return c.line, c.col
}

// lineCol converts a byte offset to a 1-based line and rune column.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// NewPayload builds a validated payload from a typed config (for Go callers that do not
// start from JSON or YAML): it finds the config's platform, fills in defaults and
// validates, reporting problems like Decode (without positions).
func NewPayload(cfg Config, autoBootstrap bool) (*Payload, error) {
	var plat *Platform
	for _, p := range registry {
		if p.newConfig != nil && reflect.TypeOf(p.newConfig()) == reflect.TypeOf(cfg) {
			plat = p
		}
	}
	if plat == nil {
		return nil, fmt.Errorf("%w: %T is not a registered config type", ErrUnknownType, cfg)
	}
	p := &Payload{Type: plat.Type, Config: cfg, Platform: plat, AutoBootstrap: &autoBootstrap}
	v := newValidator(nil)
	if plat.AutoBootstrap == AutoBootstrapMustBeFalse && autoBootstrap {
		v.Add("autoBootstrap", "must be false for %s", plat.Type)
	}
	cfg.Defaults(autoBootstrap)
	v.skipPlaceholders(cfg)
	cfg.Validate(v, autoBootstrap)
	if err := v.Err(""); err != nil {
		return nil, err
	}
	return p, nil
}
