package cli

import (
	"fmt"
	"io"

	"github.com/openintegrations/integrations/platforms"
)

// schemaSynopsis is the line of `integrations schema` in its --help.
const schemaSynopsis = `[TYPE]
  print the JSON Schema (draft 2020-12) of payload files, generated from the config types:
  of every type (the payload's type picks its schema), or of TYPE, an API type such as
  "Azure Synapse Analytics" or its key (synapse). It states fields, JSON types, enumerations
  and required fields, and refuses unknown fields; it never refuses a payload that render
  or the API accepts, and leaves the precise rules (names, lengths, password policies) to
  their validation`

// runSchema prints platforms.Schema: of every type, or of the one named by its API type
// or its key. An unknown type is a usage error with a did-you-mean.
func runSchema(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("schema", schemaSynopsis)
	if code, done := fs.parse(args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "integrations schema: at most one TYPE (got %d arguments; quote a type with spaces)\n", fs.NArg())
		return ExitUsage
	}
	typ := ""
	if fs.NArg() == 1 {
		typ = fs.Arg(0)
		if p, ok := platforms.ByKey(typ); ok {
			typ = p.Type
		}
		if _, err := platforms.Lookup(typ); err != nil {
			fmt.Fprintf(stderr, "integrations schema: %v\n", err)
			return ExitUsage
		}
	}
	b, err := platforms.Schema(typ)
	if err != nil {
		// A rule of a config's schema method that names no field: a bug, not input.
		fmt.Fprintf(stderr, "integrations schema: internal error: %v\n", err)
		return ExitInternal
	}
	_, _ = stdout.Write(b)
	return ExitOK
}
