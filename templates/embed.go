// Package templates embeds the SQL template bundles, one folder per platform
// (templates/<platform>/*.sql.tmpl); files whose names start with "_" are partials.
// They are the only place SQL text is written. The package holds data only and imports
// nothing of the module.
package templates

import "embed"

// FS holds every platform's templates. The glob (not a bare directory) keeps the
// "_"-prefixed partials.
//
//go:embed */*.sql.tmpl
var FS embed.FS
