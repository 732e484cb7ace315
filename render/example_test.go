package render_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/openintegrations/integrations/platforms"
	"github.com/openintegrations/integrations/render"
)

// Render a script from a payload file, as the CLI and the API do.
func Example() {
	data, err := os.ReadFile("../examples/snowflake.yaml")
	if err != nil {
		log.Fatal(err)
	}
	payload, err := platforms.Decode(data, "snowflake.yaml")
	if err != nil {
		log.Fatal(err) // every problem, as file:line:col: field: message lines
	}
	eng, err := render.Default()
	if err != nil {
		log.Fatal(err)
	}
	script, err := eng.Render(render.Request{Operation: platforms.OpCreate, Payload: payload, Redact: true})
	if err != nil {
		log.Fatal(err)
	}
	sts := script.Phases[0].Statements
	for _, st := range []render.Statement{sts[3], sts[5]} {
		fmt.Printf("%s\n  why:  %s\n  undo: %s\n", st.SQL, st.Why, st.Undo)
	}
	// Output:
	// CREATE ROLE "IMMUTA_DB_SYSTEM";
	//   why:  config.database (system role IMMUTA_DB_SYSTEM)
	//   undo: DROP ROLE IF EXISTS "IMMUTA_DB_SYSTEM";
	// CREATE DATABASE "IMMUTA_DB";
	//   why:  config.database
	//   undo: DROP DATABASE IF EXISTS "IMMUTA_DB";
}

// Render an edit from two typed configs.
func ExampleEngine_Render_typedConfig() {
	cfg := func(audit bool) *platforms.Snowflake {
		return &platforms.Snowflake{
			Host: "org.us-east-1.snowflakecomputing.com", Warehouse: "compute_wh", Database: "immuta",
			AuthenticationType: "userPassword", Username: "immuta_system", Password: "s3cret-Passw0rd",
			Audit: platforms.Toggle{Enabled: audit},
		}
	}
	old, err := platforms.NewPayload(cfg(false), false)
	if err != nil {
		log.Fatal(err)
	}
	updated, err := platforms.NewPayload(cfg(true), false)
	if err != nil {
		log.Fatal(err)
	}
	eng, err := render.Default()
	if err != nil {
		log.Fatal(err)
	}
	script, err := eng.Render(render.Request{Operation: platforms.OpEdit, From: old, Payload: updated})
	if err != nil {
		log.Fatal(err)
	}
	for _, ph := range script.Phases {
		for _, st := range ph.Statements {
			fmt.Println(st.SQL)
		}
	}
	// Output:
	// GRANT IMPORTED PRIVILEGES ON DATABASE "SNOWFLAKE" TO ROLE "IMMUTA_SYSTEM";
}

// List the platforms and their script operations.
func Example_platforms() {
	for _, p := range platforms.All() {
		ops := make([]string, len(p.ScriptOps))
		for i, op := range p.ScriptOps {
			ops[i] = string(op)
		}
		if len(ops) == 0 {
			ops = []string{"(no scripts)"}
		}
		fmt.Printf("%s: %s\n", p.Type, strings.Join(ops, ", "))
	}
	// Output:
	// Snowflake: create, edit, delete, cleanup
	// Redshift: create, initial-create, edit, delete, cleanup
	// Azure Synapse Analytics: create, initial-create, edit, delete, cleanup, post-cleanup
	// Google BigQuery: (no scripts)
	// Native S3: (no scripts)
	// Trino: (no scripts)
}
