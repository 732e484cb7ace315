package server

import "github.com/prometheus/client_golang/prometheus"

// metrics are the server's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	jobs     *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "integrations_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "integrations_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "integrations_jobs_total",
			Help: "Background jobs by kind (create, edit, delete, migrate) and event: started (its platform work began here), ok and failed (its outcome written), interrupted (a job of a replica that died, which cannot resume, ended in its error status), resumed (a manual setup's job of a replica that died, taken over to run again here), dropped (an outcome that could not be written), lost (its lease was lost: another replica took it over or a forceDisable ended it), released (handed over unfinished at shutdown), rejected (refused with 503: the queue was full or the server stopping).",
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.jobs)
	return m
}
