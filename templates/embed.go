// Package templates embeds the SQL template bundles, one folder per platform
// (templates/<platform>/*.sql.tmpl); files whose names start with "_" are partials.
// They are the only place SQL text is written. The package holds data only and imports
// nothing of the module.
package templates

import "embed"

// BundleVersion numbers the bundle: these templates together with the object models of
// package platforms. An integration's applied state records the version that rendered
// it, and a state of an older version is migrated. Bump it on any change of a template
// or a model: render's TestBundleVersion compares the golden corpus and the templates
// with the hash recorded for this version in bundle.sum.
const BundleVersion = 2

// FS holds every platform's templates. The glob (not a bare directory) keeps the
// "_"-prefixed partials.
//
//go:embed */*.sql.tmpl
var FS embed.FS
