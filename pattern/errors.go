package pattern

import "strconv"

// Error reports an invalid event pattern. Path is the dotted path of the
// offending field (for example "detail.quantity"), or "" when the problem is
// at the root of the pattern (not an object, malformed JSON, too long).
// Reason mirrors the message AWS/event-ruler gives for the same problem, with
// a lowercase first letter and, for operator-specific problems, the operator
// name as a prefix ("numeric range: bottom must be less than top").
type Error struct {
	Path   string
	Reason string
}

// Error formats the error as "<path>: <reason>", or just the reason when the
// path is empty.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// EventError reports an event that cannot be matched: it is not a JSON
// object, is malformed JSON, or nests deeper than MaxEventDepth.
type EventError struct {
	Offset int    // byte offset in the event where the problem was found
	Reason string // what is wrong
}

// Error formats the error with its byte offset.
func (e *EventError) Error() string {
	return "invalid event at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}
