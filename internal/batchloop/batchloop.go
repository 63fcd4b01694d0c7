// Package batchloop is the loop of a group-committing writer, shared by the
// SQLite and PostgreSQL stores: block for one queued operation, take
// whatever else is already queued (up to a bound), commit the lot, repeat.
// Under light load a batch is one operation and its latency one commit;
// under heavy load batches grow and throughput with them.
package batchloop

// Run commits the operations received on ops in batches of at most max,
// until ops is closed and drained (how a store's Close flushes pending
// writes). The slice given to commit is reused: commit must not keep it.
func Run[T any](ops <-chan T, max int, commit func(batch []T)) {
	batch := make([]T, 0, max)
	for {
		op, ok := <-ops
		if !ok {
			return
		}
		batch = append(batch[:0], op)
		open := true
	fill:
		for len(batch) < max {
			select {
			case op, ok := <-ops:
				if !ok {
					open = false
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		commit(batch)
		clear(batch) // drop references to finished operations
		if !open {
			return
		}
	}
}
