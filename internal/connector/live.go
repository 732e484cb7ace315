package connector

// Live returns the live connector of each integration type (nil for Trino, which has
// no platform to check), configured by o.
func Live(o Options) func(typ string) Connector {
	conns := map[string]Connector{
		"Snowflake":               NewSnowflake(o),
		"Redshift":                NewRedshift(o),
		"Azure Synapse Analytics": NewSynapse(o),
		"Native S3":               NewS3(o),
		"Google BigQuery":         NewBigQuery(o),
	}
	return func(typ string) Connector {
		c, ok := conns[typ]
		if !ok {
			return nil
		}
		return c
	}
}
