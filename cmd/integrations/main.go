// Command integrations renders and checks integration scripts and serves the API; see
// internal/cli, which is the whole program.
package main

import (
	"os"

	"github.com/openintegrations/integrations/internal/cli"
)

func main() { os.Exit(cli.Main()) }
