package connector

// Live returns the live connector of each integration type (nil for Trino, which has
// no platform to check), configured by o: every registration's New.
func Live(o Options) func(typ string) Connector {
	conns := map[string]Connector{}
	for typ, r := range registrations {
		if r.New != nil {
			conns[typ] = r.New(o)
		}
	}
	return func(typ string) Connector {
		c, ok := conns[typ]
		if !ok {
			return nil
		}
		return c
	}
}
