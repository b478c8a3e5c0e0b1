// Package dataset reads conversation logs and loads their first user queries into a
// store.
//
// Sources stream records from local files (Parquet, JSON Lines, JSON arrays and CSV,
// each optionally gzip-compressed) and from datasets on the Hugging Face hub
// (LMSYS-Chat-1M by default). Rows are mapped to queries by a Mapping; chat-shaped rows
// (LMSYS "conversation", OpenAI "messages", ShareGPT "conversations") are recognised
// without configuration and their first user turn becomes the query. Load writes the
// records in large batched transactions, idempotently; Export writes queries (and a
// run's cluster assignments) back out as CSV, JSON, JSON Lines or Parquet.
//
// It is the first stage of the pipeline: it writes the queries (and, for chat rows,
// the whole conversations) through the Store's QueryStore, and every later stage
// (embed, clustering, classify …) reads them from there. Export is the last stage.
package dataset

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/lmsys-go/lmsys"
)

// Record is one row of a source, mapped to the fields of a query.
type Record struct {
	// ID is the row's conversation id; empty when the source has none (Load then
	// derives a deterministic one, see Load).
	ID string
	// Text is the first user query, unmodified.
	Text      string
	Model     string
	Language  string
	Timestamp *time.Time
	// Dataset names the dataset this row belongs to when the source has a dataset
	// column; empty means the load's dataset.
	Dataset string
	// Metadata holds the row's other scalar fields and, for chat rows, "turn",
	// "redacted", "moderation_flagged" and "moderation_categories" when present.
	Metadata map[string]any
	// Conversation holds every message of a chat row (roles normalised, see
	// normalRole), and ConversationCut why it was cut when it broke a limit
	// (MaxConversationTurns, MaxConversationBytes). Plain-text rows have none.
	Conversation    []lmsys.Message
	ConversationCut string
	// Pos says where the row came from.
	Pos Position
}

// Position locates a row: a file and a 1-based line (JSON Lines, CSV) or row
// number (JSON arrays, Parquet).
type Position struct {
	File string `json:"file"`
	Line int64  `json:"line"`
}

// String returns "file:line".
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Reasons a row is skipped, as counted in LoadStats.Skipped.
const (
	ReasonMalformed    = "malformed row"
	ReasonNoText       = "no text field"
	ReasonNotString    = "text is not a string"
	ReasonNoUserTurn   = "no user turn"
	ReasonEmpty        = "empty text"
	ReasonBadTimestamp = "bad timestamp"
)

// RowError reports a problem with one row. A source that yields a RowError can go on
// to the next row; Load counts it under Reason, or stops at it in strict mode. It
// wraps lmsys.ErrInvalidInput.
type RowError struct {
	Pos    Position
	Reason string
	Err    error
}

// Error returns "file:line: reason: detail".
func (e *RowError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("%s: %s", e.Pos, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %v", e.Pos, e.Reason, e.Err)
}

// Unwrap returns the detail error and lmsys.ErrInvalidInput.
func (e *RowError) Unwrap() []error { return []error{lmsys.ErrInvalidInput, e.Err} }

func rowErr(pos Position, reason string, err error) *RowError {
	return &RowError{Pos: pos, Reason: reason, Err: err}
}

// Source streams the records of a log.
type Source interface {
	// Name describes the source (a file path, or "hf:owner/name").
	Name() string
	// DatasetName is the dataset name its rows load under unless told otherwise.
	DatasetName() string
	// Records streams the records in order. An error that is a *RowError concerns one
	// row and the sequence continues after it; any other error ends the sequence.
	// Stopping the iteration early releases everything the source opened.
	Records(ctx context.Context) iter.Seq2[Record, error]
}

// Mapping names the fields (JSON keys, CSV header names or Parquet columns; nested
// Parquet columns as dotted paths) that hold each query field. Empty fields are
// detected: Text from text, query_text, query, prompt, question, instruction or input,
// else from a chat field (conversation, messages or conversations); ID from
// conversation_id, id, question_id or uuid; Model from model; Language from language
// or lang; Timestamp from timestamp, tstamp, created_at or time.
type Mapping struct {
	Text      string `json:"text,omitempty"`
	ID        string `json:"id,omitempty"`
	Model     string `json:"model,omitempty"`
	Language  string `json:"language,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	// Dataset names a field holding each row's dataset name; empty means none.
	Dataset string `json:"dataset,omitempty"`
}

var (
	textCandidates = []string{"text", "query_text", "query", "prompt", "question", "instruction", "input"}
	chatCandidates = []string{"conversation", "messages", "conversations"}
	idCandidates   = []string{"conversation_id", "id", "question_id", "uuid"}
	modelCands     = []string{"model"}
	langCands      = []string{"language", "lang"}
	timeCands      = []string{"timestamp", "tstamp", "created_at", "time"}
)

// candidates returns the field names to try for one query field.
func candidates(explicit string, defaults []string) []string {
	if explicit != "" {
		return []string{explicit}
	}
	return defaults
}
