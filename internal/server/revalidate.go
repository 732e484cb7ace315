package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/openintegrations/integrations/internal/connector"
	"github.com/openintegrations/integrations/internal/lifecycle"
	"github.com/openintegrations/integrations/internal/store"
	"github.com/openintegrations/integrations/platforms"
)

// Recurring validation (API.md section 5): every RevalidateInterval, each enabled
// integration (and each in recurringValidationError) re-runs the recurring tests of
// its catalogue as its system account. The store's ClaimIdle hands each due
// integration to exactly one replica; a failure moves enabled to
// recurringValidationError with the failing tests in validationResults, and a later
// pass moves it back to enabled. The outcome is written only if nothing else changed
// the integration meanwhile.

// DefaultRevalidateInterval is the period `integrations serve` uses unless told.
const DefaultRevalidateInterval = time.Hour

// revalidateDue claims and runs every integration due for revalidation.
func (s *Server) revalidateDue(ctx context.Context) error {
	if s.revalidate <= 0 || s.Offline() {
		return nil
	}
	for {
		now := s.now().UTC()
		in, err := s.store.ClaimIdle(ctx, now, now.Add(-s.revalidate), lifecycle.Enabled, lifecycle.RecurringValidationError)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sem <- struct{}{}
			defer func() { <-s.sem }()
			s.revalidateOne(s.jobCtx, in)
		}()
	}
}

// systemCredentials is what the server holds to sign in as an automatic setup's
// system account (nothing for a manual setup: its config has the credentials).
func systemCredentials(in *store.Integration, p *platforms.Payload) connector.Credentials {
	if !p.Auto() || p.Config == nil {
		return connector.Credentials{}
	}
	h, _ := heldOf(in)
	user := ""
	if su, ok := p.Config.(interface{ SystemUser(bool) string }); ok {
		user = su.SystemUser(true)
	}
	return connector.Credentials{Username: user, Password: h.SystemPassword}
}

func (s *Server) revalidateOne(ctx context.Context, in *store.Integration) {
	defer s.onBackground()
	p, err := platforms.Restore(in.Type, in.AutoBootstrap, in.Config)
	if err != nil {
		s.log.ErrorContext(ctx, "revalidate: restore", "integration", in.ID, "err", err)
		return
	}
	res := connector.Validate(ctx, s.connectorFor(in.Type), connector.Revalidate, p, systemCredentials(in, p), s.checkTimeout)
	if ctx.Err() != nil {
		return // shutting down: the next period retries
	}
	results, _ := json.Marshal(res)
	cur := *in
	cur.ValidationResults = results
	switch {
	case res.Failed() && in.Status == lifecycle.Enabled:
		cur.Status, _ = lifecycle.Next(in.Status, lifecycle.RevalidateFailed)
		cur.Message = "recurring validation failed: see the failed tests in validationResults; fix them and the next validation re-enables the integration"
		s.metrics.jobs.WithLabelValues("revalidate", "failed").Inc()
	case !res.Failed() && in.Status == lifecycle.RecurringValidationError:
		cur.Status, _ = lifecycle.Next(in.Status, lifecycle.Revalidated)
		cur.Message = ""
		s.metrics.jobs.WithLabelValues("revalidate", "recovered").Inc()
	default:
		s.metrics.jobs.WithLabelValues("revalidate", "unchanged").Inc()
	}
	// Conditional on the version ClaimIdle returned: an edit or delete that came in
	// meanwhile wins, and this outcome is dropped.
	if err := s.store.Update(ctx, &cur); err != nil && !errors.Is(err, store.ErrStale) {
		s.log.WarnContext(ctx, "revalidate: write", "integration", in.ID, "err", err)
	}
}
