package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmsys-go/lmsys/agent"
	"github.com/lmsys-go/lmsys/llm"
	"github.com/lmsys-go/lmsys/mcpserver"
	"github.com/lmsys-go/lmsys/report"
	"github.com/lmsys-go/lmsys/search"
	"github.com/lmsys-go/lmsys/store"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerReport)
}

// reportFlags are the flags of lmsys report; model and the flags after it run the
// agent loop whose findings head the report.
type reportFlags struct {
	output, format, summaryRef, hierarchyID, period string
	compare                                         []string
	top, examples                                   int

	model, baseURL, goal, transcript string
	maxCost                          float64
	maxSteps                         int
	noScrub                          bool
	search                           searchFlags
}

func registerReport(root *cobra.Command, g *globals) {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RUN_ID --output FILE",
		Short: "Write an offline insights report of a run: one self-contained HTML file, or Markdown",
		Long: `report writes what matters about a clustering run to one file, offline: the headline numbers
(queries, clusters, share assigned, languages, models, date range), each with the command that
prints it; the top levels of the taxonomy with shares and example queries; the biggest clusters;
the clusters that grew or shrank between the first and the last period (when the queries have
timestamps); the clusters ranked by refusal and pushback rate (when classified, e.g. by
lmsys classify --builtin refusal,pushback); the language and model mixes; the run's stored map
(lmsys map) and charts. A section without data says why it is absent and what produces it.

The HTML file is self-contained: inline styles, pictures embedded as PNG data, no script, and a
Content-Security-Policy that forbids loading anything. --output FILE.md (or --format md) writes
Markdown with the pictures beside it as FILE-map.png, FILE-trends.png …. Every figure is computed
by the same code as the command shown beside it, every piece of user text is escaped, and the
same store gives the same bytes. The file is written to a temporary name and renamed, so a
failure leaves no half-written report.

--model runs an agent first: the model forms hypotheses about the run and checks them with the
MCP server's read tools, called in process (list_clusters, inspect_cluster, search_queries,
facets, trends, show_hierarchy …), then submits findings that cite cluster and query ids. Every
cited id is checked against the store, and the findings head the report. --max-cost (required
with --model) and --max-steps cap the loop; tool results are scrubbed of e-mails, phone and card
numbers, addresses and keys before the model sees them (unless --no-scrub); every model call and
tool call is kept in --transcript (default FILE.transcript.jsonl beside the report).`,
		Example: `  lmsys report kmeans-200-20251004-170442 --output report.html
  lmsys report kmeans-200-20251004-170442 --output report.md --top 15 --summary-run-id llm-names
  lmsys report kmeans-200-20251004-170442 --output report.html --period month --compare 2026-09,2026-10
  lmsys report kmeans-200-20251004-170442 --model openai/gpt-4o-mini --max-cost 2 --max-steps 40 --output findings.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runReport(cmd, g, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.output, "output", "", "file to write: .html, or .md for Markdown")
	fs.StringVar(&f.format, "format", "", "html or md (default: from the --output extension)")
	fs.StringVar(&f.summaryRef, "summary-run-id", "", "summary run (id or alias) titles come from (default: the latest)")
	fs.StringVar(&f.hierarchyID, "hierarchy-id", "", "hierarchy of the taxonomy section (default: the run's newest)")
	fs.IntVar(&f.top, "top", 10, "rows per table")
	fs.IntVar(&f.examples, "examples", 3, "example queries per cluster and category")
	fs.StringVar(&f.period, "period", "", "period of the trends: hour, day, week or month (default: from the date range)")
	fs.StringSliceVar(&f.compare, "compare", nil, "two periods the risers and fallers compare, e.g. 2026-09,2026-10 (default: the first and the last)")
	fs.StringVar(&f.model, "model", "", "run an agent with this chat model (provider/model) and put its findings first")
	fs.Float64Var(&f.maxCost, "max-cost", 0, "with --model: the most the agent may spend, in US dollars (required)")
	fs.IntVar(&f.maxSteps, "max-steps", agent.DefaultMaxSteps, "with --model: the most model calls the agent may make")
	fs.StringVar(&f.goal, "goal", "", "with --model: what the agent should focus on (e.g. \"refusals of coding questions\")")
	fs.StringVar(&f.baseURL, "base-url", "", "with --model: LLM API endpoint (gateways, proxies, local OpenAI-compatible servers)")
	fs.StringVar(&f.transcript, "transcript", "", "with --model: JSON lines of every model and tool call (default: FILE.transcript.jsonl)")
	fs.BoolVar(&f.noScrub, "no-scrub", false, "with --model: send tool results without replacing personal data and secrets")
	addIndexFlags(cmd, &f.search)
	_ = cmd.MarkFlagRequired("output")
	root.AddCommand(cmd)
}

// reportFormat returns the format of the report: the flag's, else the extension's.
func reportFormat(output, format string) (string, error) {
	switch strings.ToLower(format) {
	case "html":
		return "html", nil
	case "md", "markdown":
		return "md", nil
	case "":
	default:
		return "", usagef("--format %q: use html or md", format)
	}
	switch strings.ToLower(filepath.Ext(output)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "md", nil
	}
	return "", usagef("--output %s: name a .html or .md file, or give --format html|md", output)
}

func runReport(cmd *cobra.Command, g *globals, f reportFlags, runID string) error {
	format, err := reportFormat(f.output, f.format)
	if err != nil {
		return err
	}
	switch {
	case f.top < 1:
		return usagef("--top must be at least 1, got %d", f.top)
	case f.examples < 0:
		return usagef("--examples must not be negative, got %d", f.examples)
	case len(f.compare) != 0 && len(f.compare) != 2:
		return usagef("--compare takes two periods, e.g. --compare 2026-09,2026-10")
	}
	agentFlags := f.maxCost != 0 || f.goal != "" || f.baseURL != "" || f.transcript != "" || f.noScrub || cmd.Flags().Changed("max-steps")
	switch {
	case f.model == "" && agentFlags:
		return usagef("--max-cost, --max-steps, --goal, --base-url, --transcript and --no-scrub are for the agent: give --model too")
	case f.model != "" && f.maxCost <= 0:
		return usagef("--model needs --max-cost above zero, the most the agent may spend in US dollars")
	case f.model != "" && f.maxSteps < 1:
		return usagef("--max-steps must be at least 1, got %d", f.maxSteps)
	}
	opts := report.Options{SummaryRunID: f.summaryRef, HierarchyID: f.hierarchyID, Top: f.top, Examples: f.examples, Period: f.period}
	if f.examples == 0 {
		opts.Examples = -1 // none
	}
	if len(f.compare) == 2 {
		opts.Compare = [2]string{f.compare[0], f.compare[1]}
	}
	var db *store.DB
	var explored *agent.Outcome
	var transcript string
	if f.model == "" {
		if db, err = openStore(cmd, g); err != nil {
			return err
		}
	} else {
		var svc *search.Service
		if svc, db, _, _, err = openSearch(cmd, g, &f.search); err != nil {
			return err
		}
		if _, err := db.GetRun(cmd.Context(), runID); err != nil {
			return err
		}
		transcript = f.transcript
		if transcript == "" {
			transcript = strings.TrimSuffix(f.output, filepath.Ext(f.output)) + ".transcript.jsonl"
		}
		out, err := exploreRun(cmd, db, svc, runID, f, transcript)
		if err != nil {
			return err
		}
		explored = &out
		opts.Findings = reportFindings(runID, out.Findings)
	}
	rep, err := report.Build(cmd.Context(), db, runID, opts)
	if err != nil {
		return err
	}
	figures := []string{}
	var size int64
	if format == "html" {
		size, err = writeAtomic(f.output, rep.HTML)
	} else {
		stem := strings.TrimSuffix(f.output, filepath.Ext(f.output))
		links := map[*report.Figure]string{}
		for _, fig := range rep.Figures() {
			path := stem + "-" + fig.Name + ".png"
			if _, err := writeAtomic(path, func(w io.Writer) error { _, err := w.Write(fig.PNG); return err }); err != nil {
				return err
			}
			figures = append(figures, path)
			links[fig] = filepath.Base(path)
		}
		size, err = writeAtomic(f.output, func(w io.Writer) error {
			return rep.Markdown(w, report.MarkdownOptions{FigureLink: func(fig *report.Figure) string { return links[fig] }})
		})
	}
	if err != nil {
		return err
	}
	if g.json {
		m := map[string]any{"output": f.output, "format": format, "bytes": size, "figures": figures, "sections": rep.Sections(), "report": rep}
		if explored != nil {
			m["agent"], m["transcript"] = explored, transcript
		}
		return printJSON(cmd.OutOrStdout(), m)
	}
	w := cmd.OutOrStdout()
	if explored != nil {
		fmt.Fprintf(w, "Agent (%s): %s after %d steps and %d tool calls (%d refused), %d findings, $%.4f; transcript %s\n",
			f.model, explored.Stopped, explored.Steps, explored.ToolCalls, explored.ToolErrors, len(explored.Findings), explored.Usage.CostUSD, transcript)
		if explored.Stopped != agent.StopSubmitted {
			fmt.Fprintf(cmd.ErrOrStderr(), "The agent stopped (%s) before submitting findings; the report holds the offline sections only. Raise --max-steps or --max-cost to let it finish.\n", explored.Stopped)
		}
	}
	fmt.Fprintf(w, "Report of run %s written to %s (%s, %d kB): %s.\n", rep.Run.ID, f.output, strings.ToUpper(format), (size+512)/1024, strings.Join(rep.Sections(), ", "))
	for _, p := range figures {
		fmt.Fprintf(w, "Picture: %s\n", p)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "Note (%s): %s", n.Section, n.Text)
		if n.Command != "" {
			fmt.Fprintf(w, " Run: %s", n.Command)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// writeAtomic writes path through write into a temporary file beside it, then renames
// it into place, so a failure leaves the old file (or none) and no partial one. It
// returns the bytes written.
func writeAtomic(path string, write func(w io.Writer) error) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is there
	cw := &countWriter{w: tmp}
	bw := bufio.NewWriter(cw)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("write %s: %w", path, err)
	}
	return cw.n, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// agentTools are the MCP tools the report's agent may call: the read tools, without
// classify (it spends beyond the agent's cap) and export (raw rows, not analysis).
func agentTools() []string {
	var out []string
	for _, n := range mcpserver.ReadTools() {
		if n != mcpserver.ToolClassify && n != mcpserver.ToolExport {
			out = append(out, n)
		}
	}
	return out
}

// exploreRun runs the agent over the in-process MCP server, writing its transcript.
func exploreRun(cmd *cobra.Command, db *store.DB, svc *search.Service, runID string, f reportFlags, transcript string) (agent.Outcome, error) {
	ctx := cmd.Context()
	opts := []llm.Option{}
	if f.baseURL != "" {
		opts = append(opts, llm.WithBaseURL(f.baseURL))
	}
	client, err := llm.Open(f.model, opts...)
	if err != nil {
		return agent.Outcome{}, usageError{err}
	}
	cs, err := mcpserver.Connect(ctx, mcpserver.New(mcpserver.Deps{Store: db, Search: svc}, mcpserver.Options{}))
	if err != nil {
		return agent.Outcome{}, err
	}
	defer cs.Close()
	sizes, err := db.ClusterSizes(ctx, runID)
	if err != nil {
		return agent.Outcome{}, err
	}
	verify := func(ctx context.Context, fd agent.Finding) error {
		for _, c := range fd.ClusterIDs {
			if _, ok := sizes[c]; !ok {
				return fmt.Errorf("cluster %d is not a cluster of run %s", c, runID)
			}
		}
		for _, q := range fd.QueryIDs {
			if _, err := db.GetQuery(ctx, q); err != nil {
				return fmt.Errorf("query %d: %w", q, err)
			}
		}
		return nil
	}
	// The transcript is written as the loop goes, and kept when it fails: it is what
	// tells why.
	tf, err := os.Create(transcript)
	if err != nil {
		return agent.Outcome{}, fmt.Errorf("transcript: %w", err)
	}
	out, err := agent.Run(ctx, agent.Options{Client: client, Tools: agent.MCP(cs, agentTools()...), RunID: runID, Goal: f.goal,
		MaxSteps: f.maxSteps, MaxCostUSD: f.maxCost, Verify: verify, Transcript: tf, NoScrub: f.noScrub})
	if cerr := tf.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("transcript: %w", cerr)
	}
	if err != nil {
		return out, fmt.Errorf("%w (transcript so far: %s)", err, transcript)
	}
	return out, nil
}

// reportFindings turns the agent's findings into the report's, each with the commands
// that show its clusters and queries.
func reportFindings(runID string, fs []agent.Finding) []report.Finding {
	out := make([]report.Finding, 0, len(fs))
	for _, fd := range fs {
		rf := report.Finding{Title: fd.Title, Text: fmt.Sprintf("%s: %s Evidence: %s", strings.ReplaceAll(fd.Kind, "_", " "), fd.Summary, fd.Evidence),
			ClusterIDs: fd.ClusterIDs, QueryIDs: fd.QueryIDs}
		for _, c := range fd.ClusterIDs {
			rf.Commands = append(rf.Commands, fmt.Sprintf("lmsys inspect %s %d", runID, c))
		}
		out = append(out, rf)
	}
	return out
}
