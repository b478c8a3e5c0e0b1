package report

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// MarkdownOptions configure Report.Markdown.
type MarkdownOptions struct {
	// FigureLink returns the link a figure's picture is shown from (a file the caller
	// writes beside the Markdown, say "report-map.png"); nil, or an empty link, leaves
	// the pictures out with a note that the HTML report has them.
	FigureLink func(f *Figure) string
}

// mdSpecial are the characters escaped with a backslash wherever user text appears:
// the ones that open emphasis, code, links, images, raw HTML, tables, headings,
// strike-through and math, and the escape itself.
const mdSpecial = "\\`*_[]<>|~$#"

// mdText returns user text for Markdown prose, headings or table cells: cleaned onto
// one line (so it cannot start a heading, list, quote or table row of its own), each
// Markdown special character backslash-escaped, '&' written as an entity so no
// character reference forms, and a start that would open a block (a leading '-', '+'
// or '=', or an ordered-list marker such as "12. " or "3)") escaped.
func mdText(s string) string {
	s = clean(s)
	list := -1
	if j := strings.IndexFunc(s, func(c rune) bool { return c < '0' || c > '9' }); j > 0 && (s[j] == '.' || s[j] == ')') && (j+1 == len(s) || s[j+1] == ' ') {
		list = j
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
			continue
		case strings.ContainsRune(mdSpecial, r), i == list, i == 0 && strings.ContainsRune("-+=", r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// mdClip is mdText of s clipped to n characters.
func mdClip(s string, n int) string { return mdText(clip(s, n)) }

// mdCode returns s as a code span whose fence no backtick run inside can close; in
// a table cell, pipes are escaped too (GFM reads them as cell breaks even in code).
func mdCode(s string, cell bool) string {
	s = clean(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdWriter writes Markdown, remembering the first error.
type mdWriter struct {
	w    *bufio.Writer
	err  error
	opts MarkdownOptions
}

func (m *mdWriter) printf(format string, a ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, a...)
	}
}

func (m *mdWriter) table(header []string, rows [][]string) {
	m.printf("| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	for _, r := range rows {
		m.printf("| %s |\n", strings.Join(r, " | "))
	}
	m.printf("\n")
}

func (m *mdWriter) notes(r *Report, section string) {
	for _, n := range r.NotesOf(section) {
		m.printf("> %s", mdText(n.Text))
		if n.Command != "" {
			m.printf(" Run %s.", mdCode(n.Command, false))
		}
		m.printf("\n\n")
	}
}

func (m *mdWriter) reproduce(cmd string) {
	if cmd != "" {
		m.printf("Reproduce: %s\n\n", mdCode(cmd, false))
	}
}

func (m *mdWriter) figure(f *Figure) {
	if f == nil {
		return
	}
	link := ""
	if m.opts.FigureLink != nil {
		link = m.opts.FigureLink(f)
	}
	if link == "" {
		m.printf("*Picture: %s (in the HTML report).*\n\n", mdText(f.Title))
		return
	}
	m.printf("![%s](<%s>)\n\n", mdText(f.Title), url.PathEscape(link))
	if f.Command != "" {
		m.printf("*%s; drawn by %s.*\n\n", mdText(f.Title), mdCode(f.Command, false))
	}
}

func clusterCell(id int) string {
	if id < 0 {
		return "noise"
	}
	return fmt.Sprint(id)
}

// Markdown writes the report as Markdown (GitHub-flavoured tables): the same sections
// and figures as HTML, every piece of user text escaped, pictures linked as
// opts.FigureLink says.
func (r *Report) Markdown(w io.Writer, opts MarkdownOptions) error {
	m := &mdWriter{w: bufio.NewWriter(w), opts: opts}
	m.printf("# %s\n\n", mdText(r.Title))
	m.printf("Run %s: %s, %d clusters", mdCode(r.Run.ID, false), mdText(r.Run.Algorithm), r.Run.NumClusters)
	if r.Run.Space != "" {
		m.printf(", embedded with %s", mdText(r.Run.Space))
	}
	m.printf(", %s, created %s", mdText(r.Run.Status), r.Run.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if r.SummaryRunID != "" {
		m.printf("; titles from summary run %s", mdCode(r.SummaryRunID, false))
	}
	m.printf(".\n\n")

	if len(r.Findings) > 0 {
		m.printf("## Findings\n\n")
		for i, f := range r.Findings {
			m.printf("### %d. %s\n\n", i+1, mdClip(f.Title, 200))
			for _, p := range paragraphs(f.Text) {
				m.printf("%s\n\n", mdText(p))
			}
			if len(f.ClusterIDs) > 0 {
				parts := make([]string, len(f.ClusterIDs))
				for j, c := range f.ClusterIDs {
					parts[j] = fmt.Sprint(c)
					if t := r.clusterTitle(c); t != "" {
						parts[j] += " (" + mdClip(t, 80) + ")"
					}
				}
				m.printf("Clusters: %s; %s shows one.\n\n", strings.Join(parts, ", "), mdCode("lmsys inspect "+shellQuote(r.Run.ID)+" CLUSTER", false))
			}
			if len(f.QueryIDs) > 0 {
				parts := make([]string, len(f.QueryIDs))
				for j, q := range f.QueryIDs {
					parts[j] = fmt.Sprint(q)
				}
				m.printf("Queries: %s; %s shows one.\n\n", strings.Join(parts, ", "), mdCode("lmsys edit view-query QUERY", false))
			}
			if len(f.Commands) > 0 {
				m.printf("Evidence:\n\n")
				for _, c := range f.Commands {
					m.printf("- %s\n", mdCode(c, false))
				}
				m.printf("\n")
			}
		}
	}

	m.printf("## The numbers that matter\n\n")
	var rows [][]string
	for _, n := range r.Headline {
		rows = append(rows, []string{mdText(n.Label), mdText(n.Text), mdCode(n.Command, true)})
	}
	m.table([]string{"Figure", "Value", "Command"}, rows)
	m.printf("Commands read the default database; add `--db-path FILE` or `--db-url URL` as when this report was made, and `--json` for the figures as JSON.\n\n")

	m.printf("## Taxonomy\n\n")
	if t := r.Taxonomy; t != nil {
		m.printf("The top levels of hierarchy %s (%d levels, %s queries), largest first, each with its share of the queries and example queries from its largest clusters.\n\n",
			mdCode(t.HierarchyID, false), t.Levels, count(t.TotalQueries))
		for _, c := range t.Categories {
			m.printf("### %s\n\nCategory %d: %s queries, %s", mdClip(c.Title, 120), c.ID, count(c.NumQueries), percent(c.Share))
			if c.Description != "" {
				m.printf(". %s", mdClip(c.Description, 400))
			}
			m.printf("\n\n")
			for _, e := range c.Examples {
				m.printf("- %s\n", mdClip(e, 200))
			}
			if len(c.Examples) > 0 {
				m.printf("\n")
			}
			if len(c.Children) > 0 {
				var rows [][]string
				for _, k := range c.Children {
					ex := make([]string, len(k.Examples))
					for i, e := range k.Examples {
						ex[i] = mdClip(e, 120)
					}
					rows = append(rows, []string{fmt.Sprint(k.ID), count(k.NumQueries), percent(k.Share), mdClip(k.Title, 120), strings.Join(ex, " · ")})
				}
				m.table([]string{"Category", "Queries", "Share", "Title", "Example queries"}, rows)
			}
			if c.More > 0 {
				m.printf("… and %d smaller categories.\n\n", c.More)
			}
		}
		if t.More > 0 {
			m.printf("… and %d smaller top-level categories.\n\n", t.More)
		}
		m.reproduce(t.Command)
	}
	m.notes(r, SectionTaxonomy)

	m.printf("## Biggest clusters\n\n")
	if c := r.Clusters; c != nil {
		m.printf("%s clusters hold %s queries", count(c.NumClusters), count(c.TotalQueries))
		if c.Noise > 0 {
			m.printf(", %s of them noise (cluster -1)", count(c.Noise))
		}
		m.printf(". The %d largest:\n\n", len(c.Rows))
		var rows [][]string
		for _, row := range c.Rows {
			title := mdClip(row.Title, 120)
			if row.ClusterID < 0 {
				title = "(noise)"
			}
			ex := make([]string, len(row.Examples))
			for i, e := range row.Examples {
				ex[i] = mdClip(e, 120)
			}
			rows = append(rows, []string{clusterCell(row.ClusterID), count(row.NumQueries), percent(row.Share), title, strings.Join(ex, " · ")})
		}
		m.table([]string{"Cluster", "Queries", "Share", "Title", "Example queries"}, rows)
		m.reproduce(c.Command)
		m.figure(c.Chart)
	}
	m.notes(r, SectionClusters)

	m.printf("## Risers and fallers\n\n")
	if t := r.Trends; t != nil {
		m.printf("Dated queries from %s to %s (%s", t.FirstDay, t.LastDay, count(t.Dated))
		if t.Undated > 0 {
			m.printf("; %s without a time left out", count(t.Undated))
		}
		periods := make([]string, len(t.Periods))
		for i, p := range t.Periods {
			periods[i] = fmt.Sprintf("%s (%s)", p, count(t.Totals[i]))
		}
		m.printf("), %d %ss: %s.\n\n", len(t.Periods), t.Period, strings.Join(periods, ", "))
		m.reproduce(t.Command)
		if c := t.Comparison; c != nil {
			m.printf("Each cluster's share of the queries of %s %s (%s queries) against %s (%s queries); z is the two-proportion z statistic of the change, p its two-sided p-value: small clusters move a lot by chance.\n\n",
				c.By, mdText(c.A), count(c.TotalA), mdText(c.B), count(c.TotalB))
			for _, l := range changeLists(c) {
				m.printf("### %s\n\n", l.Name)
				if len(l.Changes) == 0 {
					m.printf("None.\n\n")
					continue
				}
				var rows [][]string
				for _, ch := range l.Changes {
					rows = append(rows, []string{clusterCell(ch.ClusterID), count(ch.CountA), count(ch.CountB), percent(ch.ShareA), percent(ch.ShareB),
						fmt.Sprintf("%.1f", ch.Z), fmt.Sprintf("%.2g", ch.P), mdClip(ch.Title, 120)})
				}
				m.table([]string{"Cluster", mdText(c.A), mdText(c.B), "Share A", "Share B", "z", "p", "Title"}, rows)
			}
			m.reproduce(t.CompareCommand)
		}
		m.figure(t.Chart)
	}
	m.notes(r, SectionTrends)

	m.printf("## Refusal and pushback hot spots\n\n")
	for _, h := range r.HotSpots {
		m.printf("### %s\n\n", mdText(h.Facet))
		vals := make([]string, len(h.Values))
		for i, v := range h.Values {
			vals[i] = mdText(v)
		}
		m.printf("%s of the run's %s queries are labelled %s (%s)", percent(h.Rate), count(h.Total), strings.Join(vals, " or "), count(h.Count))
		if h.Labelled != h.Total {
			m.printf("; %s are labelled at all", count(h.Labelled))
		}
		labels := make([]string, len(h.Overall))
		for i, v := range h.Overall {
			labels[i] = fmt.Sprintf("%s %s (%s)", mdText(v.Key), count(v.Count), percent(v.Share))
		}
		m.printf(". Labels: %s.\n\n", strings.Join(labels, ", "))
		if len(h.Rows) > 0 {
			m.printf("Clusters where those labels are most over-represented (lift = share in the cluster / share overall; z counts the evidence, and under 2 it is within chance):\n\n")
			var rows [][]string
			for _, l := range h.Rows {
				rows = append(rows, []string{clusterCell(l.ClusterID), mdText(l.Value), count(l.Count) + "/" + count(l.ClusterSize), percent(l.Share), percent(l.BaseShare),
					fmt.Sprintf("%.2f", l.Lift), fmt.Sprintf("%.1f", l.Z), mdClip(l.Title, 120)})
			}
			m.table([]string{"Cluster", "Label", "Count/size", "Rate", "Overall", "Lift", "z", "Title"}, rows)
		} else {
			m.printf("No cluster has those labels over-represented %d times or more.\n\n", h.MinCount)
		}
		m.reproduce(h.Command)
		m.figure(h.Chart)
	}
	m.notes(r, SectionHotSpots)

	m.printf("## Languages and models\n\n")
	for _, x := range r.Mixes {
		m.printf("### %s: %s values\n\n", mdText(x.Field), count(x.Distinct))
		var rows [][]string
		for _, v := range x.Overall {
			rows = append(rows, []string{mdClip(v.Key, 80), count(v.Count), percent(v.Share)})
		}
		m.table([]string{mdText(x.Field), "Queries", "Share"}, rows)
		if len(x.OverRepresented) > 0 {
			m.printf("Where a value is most over-represented:\n\n")
			var rows [][]string
			for _, l := range x.OverRepresented {
				rows = append(rows, []string{clusterCell(l.ClusterID), mdClip(l.Value, 80), count(l.Count) + "/" + count(l.ClusterSize), percent(l.Share), percent(l.BaseShare),
					fmt.Sprintf("%.2f", l.Lift), fmt.Sprintf("%.1f", l.Z), mdClip(l.Title, 120)})
			}
			m.table([]string{"Cluster", "Value", "Count/size", "Share", "Overall", "Lift", "z", "Title"}, rows)
		}
		m.reproduce(x.Command)
		m.figure(x.Chart)
	}
	m.notes(r, SectionMixes)

	m.printf("## Map\n\n")
	if mp := r.Map; mp != nil {
		m.printf("The run's stored map: %s queries laid out in 2-D (seed %d), a colour per cluster, the largest named", count(mp.Points), mp.Seed)
		if mp.Outside > 0 {
			m.printf("; %s points whose query has left the run are grey", count(mp.Outside))
		}
		m.printf(".\n\n")
		if mp.Figure != nil {
			m.figure(mp.Figure)
		} else {
			m.reproduce(mp.Command)
		}
	}
	m.notes(r, SectionMap)
	m.printf("---\n\n*Written by `lmsys report` from the store alone; the figures are those the commands shown print.*\n")
	if m.err != nil {
		return fmt.Errorf("report: render Markdown: %w", m.err)
	}
	return m.w.Flush()
}
