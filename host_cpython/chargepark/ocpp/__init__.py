"""OCPP 1.6J charge point of the park (docs/ocpp.md): the park's OCPP points are the connectors of one charge
box. The protocol (framing, schema validation, routing) is the `ocpp` package's; the behaviour around it is
here, one job per module: `vocab` (our names -> OCPP's), `keys` (configuration keys over the store's ocpp
area), `txqueue` (the durable transaction message queue), `connectors` (the points as connectors),
`chargebox` (the handlers of the Central System's requests), `session` (the link to the backend)."""
