package lmsys

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Roles of conversation messages. Loaders map source roles onto these: "human" and
// ShareGPT's "human" become RoleUser, "gpt", "bot" and "model" become RoleAssistant.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleSystem    = "system"
	RoleTool      = "tool"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Conversation is the whole chat a query came from: the query is its first user
// message. Truncated is empty when every turn is stored; otherwise it says why the
// chat was cut (too many turns, too much text) and Messages holds the kept prefix.
type Conversation struct {
	QueryID   int64     `json:"query_id"`
	Messages  []Message `json:"messages"`
	Truncated string    `json:"truncated,omitempty"`
}

// FirstUser returns the index of the first user message, or -1 when there is none.
func (c Conversation) FirstUser() int {
	for i, m := range c.Messages {
		if m.Role == RoleUser {
			return i
		}
	}
	return -1
}

// Label is one classifier's answer about one query's conversation, for one facet.
// A classifier may answer several facets (the Clio template answers request, task,
// languages, concern …). Value is a label from the facet's closed vocabulary, or
// free text for a text facet. ResultKey identifies the classifier and its
// parameters: labels with equal keys are interchangeable, so a re-run skips them.
type Label struct {
	QueryID             int64     `json:"query_id"`
	Facet               string    `json:"facet"`
	Value               string    `json:"label"`
	Reasoning           string    `json:"reasoning,omitempty"`
	ClassificationRunID string    `json:"classification_run_id"`
	ResultKey           string    `json:"result_key,omitempty"`
	CreatedAt           time.Time `json:"created_at"`
}

// ErrorLabel is the label stored for a conversation a classifier could not label
// (the Python tool's classification plan records failures as label "ERROR", the
// reason as reasoning). Text facets standing for queries (QueryFilter.On) skip it.
const ErrorLabel = "ERROR"

// Statuses of a classification run, as of clustering runs.
const (
	ClassificationRunning   = RunRunning
	ClassificationCompleted = RunCompleted
	ClassificationFailed    = RunFailed
	// ClassificationStopped marks a run that stopped cleanly at its cost cap.
	ClassificationStopped = "stopped"
)

// ClassificationTemplate is a classifier definition as stored: a built-in one or a
// YAML/JSON template file, with the hash of its content.
type ClassificationTemplate struct {
	ID          string    `json:"template_id"`
	Name        string    `json:"name"`
	Version     string    `json:"version,omitempty"`
	Description string    `json:"description,omitempty"`
	Source      string    `json:"source"`
	Content     string    `json:"yaml_content"`
	Hash        string    `json:"template_hash"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ClassificationRun is one pass of one classifier over a set of queries. ResultKey
// is the hash of the template and the parameters that change answers (model,
// temperature …): a run with the key of an earlier one reuses that run's labels
// and only classifies what is missing.
type ClassificationRun struct {
	ID           string         `json:"classification_run_id"`
	TemplateID   string         `json:"template_id"`
	TemplateHash string         `json:"template_hash"`
	ResultKey    string         `json:"result_key"`
	Provider     string         `json:"provider"`
	Model        string         `json:"model"`
	Facets       []string       `json:"facets"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	// Scope says which queries the run covers: {"run_id": …, "cluster_ids": […]},
	// {"dataset": …} or empty for every query.
	Scope            map[string]any `json:"scope,omitempty"`
	Status           string         `json:"status"`
	Error            string         `json:"error,omitempty"`
	TotalQueries     int64          `json:"total_queries"`
	ProcessedQueries int64          `json:"processed_queries"`
	ErrorCount       int64          `json:"error_count"`
	Calls            int64          `json:"calls"`
	InputTokens      int64          `json:"input_tokens"`
	OutputTokens     int64          `json:"output_tokens"`
	Cost             float64        `json:"estimated_cost"`
	CreatedAt        time.Time      `json:"created_at"`
	CompletedAt      *time.Time     `json:"completed_at,omitempty"`
}

// ListSeparator joins the items of a list facet's label: a conversation in English
// and French gets the label "English, French". Items never hold a comma.
const ListSeparator = ", "

// ListFacetsParameter is the key of ClassificationRun.Parameters naming the facets
// the run answers with a list (a JSON array of facet names). Counts and label filters
// take such a facet item by item.
const ListFacetsParameter = "list_facets"

// ListFacets returns the facets the run records as answered with a list
// (Parameters[ListFacetsParameter]), or nil.
func (r ClassificationRun) ListFacets() []string {
	switch v := r.Parameters[ListFacetsParameter].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// ListItems splits a list facet's label into its items, in order, without empty or
// repeated items: "English, French" gives [English French].
func ListItems(label string) []string {
	parts := strings.Split(label, ListSeparator)
	out := parts[:0]
	for _, p := range parts {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// LabelMatches reports whether a stored label matches the value of a label filter:
// the same label, or, for a list facet and a value without a comma, a label whose
// items include value exactly ("French" matches "English, French", not "Old
// French"). A value with a comma is compared with the whole stored label.
func LabelMatches(label, value string, list bool) bool {
	if !list || strings.Contains(value, ",") {
		return label == value
	}
	return slices.Contains(ListItems(label), value)
}

// NewClassificationRunID returns an id in the form classify-NAME-YYYYMMDD-HHMMSS.
func NewClassificationRunID(name string, t time.Time) string {
	return "classify-" + name + "-" + t.UTC().Format("20060102-150405")
}

// ParseLabel splits a label filter "facet=value" (refusal=refused), as
// QueryFilter.Label and the CLI and API label flags take it. A spec without both
// parts is an error wrapping ErrInvalidInput.
func ParseLabel(spec string) (facet, value string, err error) {
	facet, value, ok := strings.Cut(spec, "=")
	facet, value = strings.TrimSpace(facet), strings.TrimSpace(value)
	if !ok || facet == "" || value == "" {
		return "", "", fmt.Errorf("%w: label filter %q: use facet=value, e.g. refusal=refused", ErrInvalidInput, spec)
	}
	return facet, value, nil
}

// LabelFilter selects labels. Zero fields do not filter.
type LabelFilter struct {
	Facet string
	// ResultKey keeps the labels of one classifier configuration; empty means the
	// newest configuration that answered Facet.
	ResultKey string
	// RunID (with ClusterID) keeps the labels of a clustering run's (cluster's)
	// members.
	RunID     string
	ClusterID *int
	QueryIDs  []int64
}

// ConversationStore holds the whole conversations of chat rows. Loaders write them
// with the queries (Query.Conversation); classifiers read them back.
type ConversationStore interface {
	// GetConversation returns the conversation of one query, or an error wrapping
	// ErrNotFound when the query has none (a plain-text row).
	GetConversation(ctx context.Context, queryID int64) (Conversation, error)
	// ScanConversations streams the queries selected by f with their
	// conversations, batch at a time, in id order. A query without a stored
	// conversation comes as a single user message holding its text.
	ScanConversations(ctx context.Context, f QueryFilter, batch int, fn func([]Conversation) error) error
}

// LabelStore holds classification templates, runs and their labels.
type LabelStore interface {
	// SaveTemplate stores a template, replacing one with the same id.
	SaveTemplate(ctx context.Context, t ClassificationTemplate) error
	// Templates lists the stored templates by name.
	Templates(ctx context.Context) ([]ClassificationTemplate, error)
	// CreateClassificationRun records a new run.
	CreateClassificationRun(ctx context.Context, r ClassificationRun) error
	// UpdateClassificationRun saves a run's status, counters and cost.
	UpdateClassificationRun(ctx context.Context, r ClassificationRun) error
	// GetClassificationRun returns one run or an error wrapping ErrNotFound.
	GetClassificationRun(ctx context.Context, id string) (ClassificationRun, error)
	// ClassificationRuns lists the runs, newest first.
	ClassificationRuns(ctx context.Context) ([]ClassificationRun, error)
	// SaveLabels stores labels; a label for a (result key, query, facet) already
	// stored is replaced. It is one transaction.
	SaveLabels(ctx context.Context, ls []Label) error
	// LabeledQueryIDs returns the ids among ids that already have a label under
	// resultKey (for any facet), so a re-run can skip them.
	LabeledQueryIDs(ctx context.Context, resultKey string, ids []int64) (map[int64]bool, error)
	// Labels returns the labels selected by f, in query id order.
	Labels(ctx context.Context, f LabelFilter) ([]Label, error)
	// LabelFacets lists the facets that have labels, with their number of labels.
	LabelFacets(ctx context.Context) ([]Count, error)
}
