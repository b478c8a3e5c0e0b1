package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmsys-go/lmsys/report"
	"github.com/spf13/cobra"
)

func init() {
	commandRegistrars = append(commandRegistrars, registerReport)
}

// reportFlags are the flags of lmsys report. An investigating LLM loop that adds
// findings to the report would add its own (--model, --max-cost, --max-steps) and
// pass its findings as report.Options.Findings.
type reportFlags struct {
	output, format, summaryRef, hierarchyID, period string
	compare                                         []string
	top, examples                                   int
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
failure leaves no half-written report.`,
		Example: `  lmsys report kmeans-200-20251004-170442 --output report.html
  lmsys report kmeans-200-20251004-170442 --output report.md --top 15 --summary-run-id llm-names
  lmsys report kmeans-200-20251004-170442 --output report.html --period month --compare 2026-09,2026-10`,
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
	opts := report.Options{SummaryRunID: f.summaryRef, HierarchyID: f.hierarchyID, Top: f.top, Examples: f.examples, Period: f.period}
	if f.examples == 0 {
		opts.Examples = -1 // none
	}
	if len(f.compare) == 2 {
		opts.Compare = [2]string{f.compare[0], f.compare[1]}
	}
	db, err := openStore(cmd, g)
	if err != nil {
		return err
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
		return printJSON(cmd.OutOrStdout(), map[string]any{"output": f.output, "format": format, "bytes": size, "figures": figures,
			"sections": rep.Sections(), "report": rep})
	}
	w := cmd.OutOrStdout()
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
