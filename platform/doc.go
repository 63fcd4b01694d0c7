// Package platform is wims' local EventBridge (DESIGN §8): the service behind
// the REST API, the CLI and the EventBridge wire API that keeps event buses,
// rules, targets, connections and API destinations in the store, and puts
// users' events on the bus.
//
// Resources live in the store (wims.ResourceStore) as JSON documents, one
// per resource, so they change through the change log like every row and
// every running instance sees a change: the Catalog polls the store's
// resource generation and recompiles what changed (catalog.go). Connection
// secrets are sealed with AES-256-GCM before they reach the store
// (secrets.go) and are never returned, logged or put in an event.
//
// Routing (fanout.go, deliver.go): built-in targets (the order workflow, the
// notifications and the wims-events log group) on the default bus keep
// their own durable consumers on the events stream, which filter with
// matchers the Catalog rebuilds live; every other target is reached through
// one fan-out consumer that matches each event against all rules of its bus
// and writes one delivery per matched target to a work queue, where the
// delivery worker applies the target's input transformation, retry policy
// and dead-lettering.
package platform
