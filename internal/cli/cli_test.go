package cli_test

import (
	"context"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/openintegrations/integrations/internal/cli"
)

// TestMain lets testscript run `integrations` in-process through cli.Run.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"integrations": func() {
			os.Exit(cli.Run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs testdata/script/*.txtar: each is a session of commands with files,
// expected stdout/stderr and exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}
