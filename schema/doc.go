// Package schema backs the schema registry: it discovers the structure of
// EventBridge events the way AWS schema discovery does, publishes it in the
// OpenAPI 3 layout AWS uses for discovered schemas, exports schemas as JSON
// Schema Draft 4 (ExportSchema), and validates events against registered
// schemas.
//
// Discovery runs on the event hot path, so it is split in two: Fingerprint is
// a cheap, allocation-free structural hash that lets a caller skip events whose
// structure it has already seen, and Infer/Merge do the real work only for new
// structures. Equal tells the caller whether merging produced anything new,
// because a registry should only mint a schema version when the shape changed.
//
// Everything here is pure computation over byte slices; storage and I/O belong
// to the caller.
package schema

// Schema types, spelled as in the AWS Schemas API's Type enum so that values
// from requests can be passed straight through.
const (
	// TypeOpenAPI3 is the type of discovered schemas and of OpenAPI 3
	// documents users register.
	TypeOpenAPI3 = "OpenApi3"
	// TypeJSONSchemaDraft4 is the type of JSON Schema documents users register
	// and the format ExportSchema produces.
	TypeJSONSchemaDraft4 = "JSONSchemaDraft4"
)
