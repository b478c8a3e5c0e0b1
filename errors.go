package lmsys

import "errors"

// Sentinel errors. Implementations wrap them with %w and details (which run, row, field
// or flag); callers test them with errors.Is.
var (
	// ErrNotFound reports an unknown id: run, cluster, query, summary run, hierarchy, edit.
	ErrNotFound = errors.New("not found")
	// ErrInvalidInput reports bad input from a user: a malformed row, a bad flag value.
	ErrInvalidInput = errors.New("invalid input")
	// ErrSpaceMismatch reports an attempt to mix vectors of two embedding spaces.
	ErrSpaceMismatch = errors.New("embedding space mismatch")
	// ErrConflict reports an operation refused because of the current state, such as
	// undoing an edit that later edits depend on.
	ErrConflict = errors.New("conflict")
	// ErrProvider reports a remote provider (embedding or LLM API) that gave up after retries.
	ErrProvider = errors.New("provider error")
	// ErrEmpty reports that there is nothing to work on (no queries loaded, no embeddings).
	ErrEmpty = errors.New("nothing to process")
)
