// Command integrations renders and checks integration scripts and serves the API; see
// internal/cli, which is the whole program.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/openintegrations/integrations/internal/cli"
)

func main() {
	// SIGINT or SIGTERM cancels the context: serve shuts down gracefully. Once it is
	// cancelled the default handling is back, so a second signal stops at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
