package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
	"github.com/lmsys-go/lmsys/web"
)

// DefaultMaxResultBytes is the default cap on a tool result's JSON (32 KiB).
const DefaultMaxResultBytes = 32 << 10

// DefaultLimit and MaxLimit are the default and largest page sizes of the list tools.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// DefaultEditor is the editor recorded on edits when Options.Editor is empty.
const DefaultEditor = "mcp"

// Deps are what the server serves.
type Deps struct {
	// Store is the system of record (required).
	Store *store.DB
	// Search answers search_queries and search_clusters; nil makes them a tool error
	// (full-text cluster search works without it).
	Search *search.Service
	// LLM opens the chat model ("provider/model") that LLM classifiers ask, with the
	// options the call needs (concurrency) (default llm.Open with the store's reply
	// cache, so a repeated prompt costs nothing).
	LLM func(model string, opts ...llm.Option) (*llm.Client, error)
}

// Options configure the server.
type Options struct {
	// AllowWrites adds the curation tools. Without it they are not listed and a call
	// is refused.
	AllowWrites bool
	// Editor is recorded on every edit (default DefaultEditor).
	Editor string
	// MaxResultBytes caps the JSON of each result (default DefaultMaxResultBytes).
	MaxResultBytes int
	// DefaultLimit and MaxLimit are the default and largest page sizes (default
	// DefaultLimit and MaxLimit; MaxLimit is at most 100).
	DefaultLimit, MaxLimit int
	// MaxQueryChars limits a search text, in characters (default
	// web.DefaultMaxQueryChars).
	MaxQueryChars int
	// MaxCost, when positive, is the largest max_cost a classify call may give, in US
	// dollars.
	MaxCost float64
	// Version is the version reported to hosts (default "devel").
	Version string
	// Logger receives errors (default slog.Default()).
	Logger *slog.Logger
}

// Tool names. They are stable: hosts and agent loops call tools by name.
const (
	ToolListRuns        = "list_runs"
	ToolListClusters    = "list_clusters"
	ToolInspectCluster  = "inspect_cluster"
	ToolSearchQueries   = "search_queries"
	ToolSearchClusters  = "search_clusters"
	ToolListHierarchies = "list_hierarchies"
	ToolShowHierarchy   = "show_hierarchy"
	ToolFacets          = "facets"
	ToolTrends          = "trends"
	ToolComparePeriods  = "compare_periods"
	ToolCompareRuns     = "compare_runs"
	ToolListEdits       = "list_edits"
	ToolExport          = "export"
	ToolClassify        = "classify"

	ToolMoveQueries     = "move_queries"
	ToolRenameCluster   = "rename_cluster"
	ToolMergeClusters   = "merge_clusters"
	ToolSplitCluster    = "split_cluster"
	ToolDeleteCluster   = "delete_cluster"
	ToolTagCluster      = "tag_cluster"
	ToolFlagCluster     = "flag_cluster"
	ToolReassignOrphans = "reassign_orphans"
	ToolUndoEdit        = "undo_edit"
)

// ReadTools returns the names of the tools every server has, in the order listed.
func ReadTools() []string {
	return []string{ToolListRuns, ToolListClusters, ToolInspectCluster, ToolSearchQueries, ToolSearchClusters, ToolListHierarchies,
		ToolShowHierarchy, ToolFacets, ToolTrends, ToolComparePeriods, ToolCompareRuns, ToolListEdits, ToolExport, ToolClassify}
}

// WriteTools returns the names of the curation tools, which only a server with
// Options.AllowWrites has.
func WriteTools() []string {
	return []string{ToolMoveQueries, ToolRenameCluster, ToolMergeClusters, ToolSplitCluster, ToolDeleteCluster, ToolTagCluster,
		ToolFlagCluster, ToolReassignOrphans, ToolUndoEdit}
}

// server holds the tools' state.
type server struct {
	deps Deps
	opts Options
	api  *web.API
	log  *slog.Logger
}

// New returns an MCP server over deps with the tools and resources described in the
// package documentation. It panics when deps.Store is nil (a programming error).
func New(deps Deps, opts Options) *mcp.Server {
	if deps.Store == nil {
		panic("mcpserver: Deps.Store is nil")
	}
	if deps.LLM == nil {
		db := deps.Store
		deps.LLM = func(model string, opts ...llm.Option) (*llm.Client, error) {
			return llm.Open(model, append([]llm.Option{llm.WithCache(db.LLMCache())}, opts...)...)
		}
	}
	if opts.Editor == "" {
		opts.Editor = DefaultEditor
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = DefaultMaxResultBytes
	}
	if opts.MaxLimit <= 0 || opts.MaxLimit > MaxLimit {
		opts.MaxLimit = MaxLimit
	}
	if opts.DefaultLimit <= 0 {
		opts.DefaultLimit = DefaultLimit
	}
	opts.DefaultLimit = min(opts.DefaultLimit, opts.MaxLimit)
	if opts.MaxQueryChars <= 0 {
		opts.MaxQueryChars = web.DefaultMaxQueryChars
	}
	if opts.Version == "" {
		opts.Version = "devel"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{deps: deps, opts: opts, log: opts.Logger,
		api: web.NewAPI(web.Deps{Store: deps.Store, Search: deps.Search}, web.Options{MaxQueryChars: opts.MaxQueryChars, Editor: opts.Editor, Logger: opts.Logger})}
	srv := mcp.NewServer(&mcp.Implementation{Name: "lmsys", Title: "lmsys: LLM conversation log analysis", Version: opts.Version},
		&mcp.ServerOptions{Instructions: s.instructions(), Logger: slog.New(warnings{opts.Logger.Handler()}), Capabilities: &mcp.ServerCapabilities{}})
	s.addReadTools(srv)
	s.addClassify(srv)
	if opts.AllowWrites {
		s.addWriteTools(srv)
	} else {
		srv.AddReceivingMiddleware(refuseWrites)
	}
	s.addResources(srv)
	return srv
}

func (s *server) instructions() string {
	w := "The curation tools are off: this server was started without --allow-writes."
	if s.opts.AllowWrites {
		w = fmt.Sprintf("The curation tools edit the store; every edit is audited under editor %q and undo_edit reverts it.", s.opts.Editor)
	}
	return "Analyses of LLM chat logs: clustering runs (list_runs), their clusters (list_clusters, inspect_cluster), " +
		"search over queries and clusters, hierarchies, facets, trends, comparisons, export and classification. " +
		"Start with list_runs, then list_clusters with a run_id. Lists are paged (page, limit); results are cut to " +
		fmt.Sprintf("%d bytes and say so in \"truncated\" and \"truncation\", with the arguments that continue. ", s.opts.MaxResultBytes) + w
}

// refuseWrites answers a call of a curation tool on a server without AllowWrites.
func refuseWrites(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" {
			if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && slices.Contains(WriteTools(), p.Name) {
				res := &mcp.CallToolResult{}
				res.SetError(fmt.Errorf("%s edits the store and this server is read-only: start it with `lmsys mcp --allow-writes` "+
					"(mcpserver.Options.AllowWrites) to enable the curation tools", p.Name))
				return res, nil
			}
		}
		return next(ctx, method, req)
	}
}

// Connect connects a new client to srv in memory and returns the client's session.
// ListTools and CallTool on it go through the protocol, the schemas and the
// validation a remote host's calls go through; closing it ends the server's session.
func Connect(ctx context.Context, srv *mcp.Server) (*mcp.ClientSession, error) {
	ct, st := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(ctx, st, nil); err != nil {
		return nil, fmt.Errorf("mcpserver: connect server: %w", err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "lmsys-in-process", Version: "devel"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: connect client: %w", err)
	}
	return cs, nil
}

// argError is a bad tool input: the field and what is wrong with it.
type argError struct {
	field, msg string
}

func (e *argError) Error() string { return e.field + ": " + e.msg }

func badArg(field, format string, a ...any) error {
	return &argError{field: field, msg: fmt.Sprintf(format, a...)}
}

// toolError turns an error into the message of a tool error: input errors name
// their field; the root package's sentinels keep their message with advice.
func (s *server) toolError(tool string, err error) error {
	var ae *argError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, search.ErrIndexBuilding):
		return fmt.Errorf("%w; the run's vector index is being built: call again in a few seconds, or use mode fulltext", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("cancelled: %w", err)
	case errors.Is(err, lmsys.ErrNotFound), errors.Is(err, lmsys.ErrInvalidInput), errors.Is(err, lmsys.ErrConflict),
		errors.Is(err, lmsys.ErrEmpty), errors.Is(err, lmsys.ErrSpaceMismatch), errors.Is(err, lmsys.ErrProvider):
		return err
	}
	if strings.HasPrefix(err.Error(), "request validation failed: ") {
		return errors.New(strings.TrimPrefix(err.Error(), "request validation failed: "))
	}
	s.log.Error("mcpserver: tool failed", "tool", tool, "err", err)
	return err
}

// handler is a tool's body: it returns the result's JSON.
type handler[In any] func(ctx context.Context, req *mcp.CallToolRequest, in In) (json.RawMessage, error)

// addTool registers a tool whose input schema is inferred from In and adjusted by
// tune (enums, descriptions that depend on the options).
func addTool[In any](s *server, srv *mcp.Server, t *mcp.Tool, tune func(*jsonschema.Schema), h handler[In]) {
	schema, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: schema of %s: %v", t.Name, err))
	}
	s.describePaging(schema)
	if tune != nil {
		tune(schema)
	}
	t.InputSchema = schema
	mcp.AddTool(srv, t, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
		out, err := h(ctx, req, in)
		if err != nil {
			return nil, nil, s.toolError(t.Name, err)
		}
		return nil, out, nil
	})
}

// describePaging describes the paging properties with the server's limits.
func (s *server) describePaging(schema *jsonschema.Schema) {
	if p := schema.Properties["limit"]; p != nil && p.Description == "" {
		p.Description = fmt.Sprintf("items per page, 1 to %d (default %d)", s.opts.MaxLimit, s.opts.DefaultLimit)
	}
	if p := schema.Properties["page"]; p != nil && p.Description == "" {
		p.Description = "page number, from 1 (default 1)"
	}
	if p := schema.Properties["offset"]; p != nil && p.Description == "" {
		p.Description = "instead of page: start at this item, counting from 0 (a cut result's truncation.next gives it)"
	}
}

// enum sets the allowed values of a string property (or of an array's items).
func enum(schema *jsonschema.Schema, prop string, values ...string) {
	p := schema.Properties[prop]
	if p == nil {
		panic("mcpserver: no property " + prop)
	}
	vs := make([]any, len(values))
	for i, v := range values {
		vs[i] = v
	}
	if p.Items != nil {
		p.Items.Enum = vs
		return
	}
	p.Enum = vs
}

var (
	readOnly    = &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)}
	destructive = &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)}
)

func ptr[T any](v T) *T { return &v }

// warnings passes on the records of warning level and above: the SDK logs every
// session's start and end at info level.
type warnings struct{ slog.Handler }

func (w warnings) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}

func (w warnings) WithAttrs(as []slog.Attr) slog.Handler { return warnings{w.Handler.WithAttrs(as)} }

func (w warnings) WithGroup(name string) slog.Handler { return warnings{w.Handler.WithGroup(name)} }
