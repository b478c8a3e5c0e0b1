// Package report builds an offline insights report of one clustering run and renders
// it as a self-contained HTML page or as Markdown.
//
// Build reads a store and returns a typed Report: the headline numbers, the top levels
// of the taxonomy with shares and example queries, the biggest clusters, the clusters
// that grew or shrank between two periods (when the queries have timestamps), the
// clusters ranked by refusal or pushback rate (when the queries were classified), the
// language and model mixes, the run's stored map and charts. Every figure is computed
// by the same function of package analysis that the CLI command shown beside it calls,
// so the report and the command print the same numbers. A section whose data does not
// exist is left out and a note says why and which command produces it.
//
// Report.HTML writes one page that loads nothing: styles are inline, pictures are PNG
// data URIs, there is no script, and a Content-Security-Policy forbids any load.
// Report.Markdown writes the same content as Markdown, the pictures as links to files
// the caller writes (Figures lists them). Both escape every piece of user text (query
// texts, cluster titles, labels, model names). The output is deterministic for a store:
// no generation time, ties broken by id, pictures drawn deterministically.
//
// Report.Findings holds findings with the clusters and queries they cite, for a
// program (an LLM agent, say) that investigates a run and wants its conclusions in the
// report; they render first when present.
package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/layout"
	"github.com/lmsys-go/lmsys/store"
)

// Section names, as Report.Sections and Note.Section give them.
const (
	SectionFindings = "findings"
	SectionHeadline = "headline"
	SectionTaxonomy = "taxonomy"
	SectionClusters = "clusters"
	SectionTrends   = "trends"
	SectionHotSpots = "hot_spots"
	SectionMixes    = "mixes"
	SectionMap      = "map"
)

// sectionOrder is the order sections render in.
var sectionOrder = []string{SectionFindings, SectionHeadline, SectionTaxonomy, SectionClusters, SectionTrends, SectionHotSpots, SectionMixes, SectionMap}

// HotFacet names a classified facet whose labels mark a problem (refusal=refused) and
// the labels that do.
type HotFacet struct {
	Facet  string   `json:"facet"`
	Values []string `json:"values"`
}

// DefaultHotFacets are the facets of the refusal and pushback built-in classifiers
// (classify.Builtin) and the labels a hot spot counts.
var DefaultHotFacets = []HotFacet{
	{Facet: "refusal", Values: []string{"refused", "partial"}},
	{Facet: "pushback", Values: []string{"objects", "corrects", "rephrases"}},
}

// Options configure Build.
type Options struct {
	// SummaryRunID picks the summary run titles come from (an id or alias; empty: the
	// run's latest, if any).
	SummaryRunID string
	// HierarchyID picks the hierarchy of the taxonomy section (empty: the run's newest).
	HierarchyID string
	// Top bounds the rows of each table and the lines of the trend chart (default 10).
	Top int
	// Examples is the number of example queries per cluster and top-level category
	// (default 3; negative: none); second-level categories get at most two.
	Examples int
	// Period is the period of the trends (hour, day, week, month; empty: month when the
	// dated queries span 120 days or more, week from 21 days, day from 2, else hour).
	Period string
	// Compare names the two periods the risers and fallers compare, written as
	// `lmsys trends --compare` takes them (empty: the first and the last period).
	Compare [2]string
	// HotFacets are the facets of the hot-spot section (default DefaultHotFacets); a
	// facet nothing has labelled gets a note instead.
	HotFacets []HotFacet
	// MinCount is the smallest count of a label in a cluster for the cluster to be a
	// hot spot or an over-represented value (default 5, as `lmsys facets`).
	MinCount int64
	// NoFigures leaves out the map and the charts (a faster, text-only report).
	NoFigures bool
	// Findings are shown first; Build checks that the clusters and queries they cite
	// belong to the run.
	Findings []Finding
}

func (o Options) withDefaults() Options {
	if o.Top <= 0 {
		o.Top = 10
	}
	if o.Examples < 0 {
		o.Examples = 0
	} else if o.Examples == 0 {
		o.Examples = 3
	}
	if o.HotFacets == nil {
		o.HotFacets = DefaultHotFacets
	}
	if o.MinCount <= 0 {
		o.MinCount = 5
	}
	return o
}

// Report is the content of an insights report on one clustering run. A section that
// is nil (or empty) is absent, and Notes says why.
type Report struct {
	Title        string    `json:"title"`
	Run          RunInfo   `json:"run"`
	SummaryRunID string    `json:"summary_run_id,omitempty"`
	Findings     []Finding `json:"findings,omitempty"`
	// CitedTitles are the titles of the clusters the findings cite.
	CitedTitles map[int]string `json:"cited_titles,omitempty"`
	// Headline holds the numbers that matter, each with the command reproducing it.
	Headline []Number   `json:"headline"`
	Taxonomy *Taxonomy  `json:"taxonomy,omitempty"`
	Clusters *Clusters  `json:"clusters,omitempty"`
	Trends   *Trends    `json:"trends,omitempty"`
	HotSpots []HotSpots `json:"hot_spots,omitempty"`
	Mixes    []Mix      `json:"mixes,omitempty"`
	Map      *Map       `json:"map,omitempty"`
	Notes    []Note     `json:"notes,omitempty"`
}

// RunInfo describes the clustering run a report is about.
type RunInfo struct {
	ID          string    `json:"run_id"`
	Algorithm   string    `json:"algorithm"`
	NumClusters int       `json:"num_clusters"`
	Space       string    `json:"embedding_space,omitempty"`
	Status      string    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
}

// Number is one headline figure: its value, how it reads, and the CLI command that
// prints it (global flags such as --db-path left out).
type Number struct {
	// Key names the figure: queries, clusters, assigned, languages, models, dates, or a
	// hot facet's name (refusal, pushback).
	Key   string `json:"key"`
	Label string `json:"label"`
	// Value is the figure itself: a count, or a share in [0, 1] for assigned and the
	// hot facets, the number of dated queries for dates.
	Value   float64 `json:"value"`
	Text    string  `json:"text"`
	Command string  `json:"command"`
}

// Note says why a section (or part of one) is absent and which command would fill it.
type Note struct {
	Section string `json:"section"`
	Text    string `json:"text"`
	Command string `json:"command,omitempty"`
}

// Finding is one conclusion about the run with the evidence it cites: clusters of the
// run, queries, and the commands that show them.
type Finding struct {
	Title      string   `json:"title"`
	Text       string   `json:"text"`
	ClusterIDs []int    `json:"cluster_ids,omitempty"`
	QueryIDs   []int64  `json:"query_ids,omitempty"`
	Commands   []string `json:"commands,omitempty"`
}

// Taxonomy is the top two levels of a hierarchy of the run.
type Taxonomy struct {
	HierarchyID string `json:"hierarchy_run_id"`
	// Levels counts the hierarchy's levels, the leaf clusters included.
	Levels       int        `json:"levels"`
	TotalQueries int        `json:"total_queries"`
	Categories   []Category `json:"categories"`
	// More counts the top-level categories beyond Options.Top, left out.
	More    int    `json:"more,omitempty"`
	Command string `json:"command"`
}

// Category is one node of the taxonomy with its share of the hierarchy's queries.
type Category struct {
	ID          int        `json:"cluster_id"`
	Level       int        `json:"level"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	NumQueries  int        `json:"num_queries"`
	Share       float64    `json:"share"`
	Examples    []string   `json:"examples,omitempty"`
	Children    []Category `json:"children,omitempty"`
	// More counts the children beyond Options.Top, left out.
	More int `json:"more,omitempty"`
}

// Clusters is the biggest clusters of the run, as `lmsys list-clusters` lists them.
type Clusters struct {
	TotalQueries int                   `json:"total_queries"`
	NumClusters  int                   `json:"num_clusters"`
	Noise        int                   `json:"noise_queries,omitempty"`
	Rows         []analysis.ClusterRow `json:"rows"`
	Command      string                `json:"command"`
	Chart        *Figure               `json:"chart,omitempty"`
}

// Trends is the clusters' shares over time and the comparison of two periods.
type Trends struct {
	Period  string   `json:"period"`
	Periods []string `json:"periods"`
	Totals  []int64  `json:"totals"`
	Undated int64    `json:"undated_queries"`
	// FirstDay and LastDay bound the dated queries.
	FirstDay   string               `json:"first_day"`
	LastDay    string               `json:"last_day"`
	Dated      int64                `json:"dated_queries"`
	Comparison *analysis.Comparison `json:"comparison,omitempty"`
	Command    string               `json:"command"`
	// CompareCommand prints Comparison.
	CompareCommand string  `json:"compare_command,omitempty"`
	Chart          *Figure `json:"chart,omitempty"`
}

// HotSpots ranks a run's clusters by the rate of a problem label (refused, objects …)
// of one classified facet.
type HotSpots struct {
	Facet  string   `json:"facet"`
	Values []string `json:"values"`
	// Total counts the run's queries; Labelled those the facet's classifier labelled.
	Total    int64 `json:"total_queries"`
	Labelled int64 `json:"labelled_queries"`
	// Count and Rate are the queries with one of Values and their share of Total.
	Count   int64                 `json:"count"`
	Rate    float64               `json:"rate"`
	Overall []analysis.FacetValue `json:"overall"`
	// Rows are the clusters where a value of Values is over-represented, the largest
	// lift first, counted MinCount times or more.
	Rows []analysis.Lift `json:"rows"`
	// MinCount is the smallest count of a row.
	MinCount int64   `json:"min_count"`
	Command  string  `json:"command"`
	Chart    *Figure `json:"chart,omitempty"`
}

// Mix is the distribution of a metadata field (language, model) over the run.
type Mix struct {
	Field string `json:"field"`
	Total int64  `json:"total_queries"`
	// Distinct counts the values, "(unknown)" left out.
	Distinct        int                   `json:"distinct"`
	Overall         []analysis.FacetValue `json:"overall"`
	OverRepresented []analysis.Lift       `json:"over_represented"`
	// Command prints Overall and OverRepresented; CountCommand lists every value.
	Command      string  `json:"command"`
	CountCommand string  `json:"count_command"`
	Chart        *Figure `json:"chart,omitempty"`
}

// Map is the run's stored 2-D map drawn one colour per cluster.
type Map struct {
	Seed   uint64 `json:"seed"`
	Points int    `json:"points"`
	// Outside counts the points whose query is no longer in the run (drawn grey).
	Outside int     `json:"outside_run"`
	Figure  *Figure `json:"figure,omitempty"`
	Command string  `json:"command"`
}

// Figure is one picture of a report, a PNG.
type Figure struct {
	// Name is a short file-name stem: map, clusters, trends, language, refusal ….
	Name  string `json:"name"`
	Title string `json:"title"`
	// Command draws the same picture.
	Command string `json:"command"`
	PNG     []byte `json:"-"`
}

// Figures returns the report's pictures in the order they render.
func (r *Report) Figures() []*Figure {
	var out []*Figure
	add := func(f *Figure) {
		if f != nil {
			out = append(out, f)
		}
	}
	if r.Clusters != nil {
		add(r.Clusters.Chart)
	}
	if r.Trends != nil {
		add(r.Trends.Chart)
	}
	for _, h := range r.HotSpots {
		add(h.Chart)
	}
	for _, m := range r.Mixes {
		add(m.Chart)
	}
	if r.Map != nil {
		add(r.Map.Figure)
	}
	return out
}

// Sections returns the names of the sections the report holds, in render order.
func (r *Report) Sections() []string {
	var out []string
	for _, s := range sectionOrder {
		if r.has(s) {
			out = append(out, s)
		}
	}
	return out
}

func (r *Report) has(section string) bool {
	switch section {
	case SectionFindings:
		return len(r.Findings) > 0
	case SectionHeadline:
		return len(r.Headline) > 0
	case SectionTaxonomy:
		return r.Taxonomy != nil
	case SectionClusters:
		return r.Clusters != nil
	case SectionTrends:
		return r.Trends != nil
	case SectionHotSpots:
		return len(r.HotSpots) > 0
	case SectionMixes:
		return len(r.Mixes) > 0
	case SectionMap:
		return r.Map != nil
	}
	return false
}

// NotesOf returns the notes of one section.
func (r *Report) NotesOf(section string) []Note {
	var out []Note
	for _, n := range r.Notes {
		if n.Section == section {
			out = append(out, n)
		}
	}
	return out
}

// builder carries what the sections share while a report is built.
type builder struct {
	ctx   context.Context
	db    *store.DB
	run   lmsys.Run
	opts  Options
	rep   *Report
	sums  map[int]lmsys.Summary
	sizes map[int]int
	// ref is the --summary-run-id flag of the commands, when one was asked for.
	ref []string
}

func (b *builder) note(section, text string, command ...string) {
	n := Note{Section: section, Text: text}
	if len(command) > 0 {
		n.Command = command[0]
	}
	b.rep.Notes = append(b.rep.Notes, n)
}

// Build reads the store and returns the report of run runID. An unknown run, summary
// run or hierarchy is an error wrapping lmsys.ErrNotFound; a run with no assigned
// query one wrapping lmsys.ErrEmpty; a finding citing a cluster or query outside the
// run one wrapping lmsys.ErrInvalidInput.
func Build(ctx context.Context, db *store.DB, runID string, opts Options) (Report, error) {
	opts = opts.withDefaults()
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Title: "Insights report: run " + run.ID, Run: RunInfo{ID: run.ID, Algorithm: run.Algorithm,
		NumClusters: run.NumClusters, Status: run.Status, CreatedAt: run.CreatedAt.UTC()}}
	if !run.Space.IsZero() {
		rep.Run.Space = run.Space.String()
	}
	b := &builder{ctx: ctx, db: db, run: run, opts: opts, rep: &rep}
	if opts.SummaryRunID != "" {
		b.ref = []string{"--summary-run-id", opts.SummaryRunID}
	}
	if err := b.summaries(); err != nil {
		return Report{}, err
	}
	if b.sizes, err = db.ClusterSizes(ctx, run.ID); err != nil {
		return Report{}, err
	}
	if len(b.sizes) == 0 {
		return Report{}, fmt.Errorf("run %s has no assigned queries: %w", run.ID, lmsys.ErrEmpty)
	}
	if err := b.findings(); err != nil {
		return Report{}, err
	}
	for _, step := range []func() error{b.clusters, b.taxonomy, b.mixes, b.trends, b.hotSpots, b.mapPicture} {
		if err := step(); err != nil {
			return Report{}, err
		}
	}
	b.headline()
	return rep, nil
}

// summaries reads the titles of the summary run asked for (or the latest).
func (b *builder) summaries() error {
	b.sums = map[int]lmsys.Summary{}
	ss, err := b.db.Summaries(b.ctx, b.run.ID, b.opts.SummaryRunID)
	if errors.Is(err, lmsys.ErrNotFound) && b.opts.SummaryRunID == "" {
		b.note(SectionClusters, "The run has no summaries, so its clusters have no titles.", command("summarize", b.run.ID))
		return nil
	}
	if err != nil {
		return err
	}
	for _, s := range ss {
		b.sums[s.ClusterID] = s
		b.rep.SummaryRunID = s.SummaryRunID
	}
	return nil
}

// findings checks and keeps the findings of the options.
func (b *builder) findings() error {
	for i, f := range b.opts.Findings {
		for _, c := range f.ClusterIDs {
			if _, ok := b.sizes[c]; !ok {
				return fmt.Errorf("%w: finding %d (%q) cites cluster %d, which run %s does not have", lmsys.ErrInvalidInput, i+1, f.Title, c, b.run.ID)
			}
			if t := b.sums[c].Title; t != "" {
				if b.rep.CitedTitles == nil {
					b.rep.CitedTitles = map[int]string{}
				}
				b.rep.CitedTitles[c] = t
			}
		}
		if len(f.QueryIDs) > 0 {
			ids := slices.Compact(slices.Sorted(slices.Values(f.QueryIDs)))
			qs, err := b.db.ListQueries(b.ctx, lmsys.QueryFilter{RunID: b.run.ID, IDs: ids})
			if err != nil {
				return err
			}
			found := map[int64]bool{}
			for _, q := range qs {
				found[q.ID] = true
			}
			for _, id := range ids {
				if !found[id] {
					return fmt.Errorf("%w: finding %d (%q) cites query %d, which is not in run %s", lmsys.ErrInvalidInput, i+1, f.Title, id, b.run.ID)
				}
			}
		}
	}
	b.rep.Findings = b.opts.Findings
	return nil
}

func (b *builder) clusters() error {
	all, err := analysis.Clusters(b.ctx, b.db, b.run.ID, b.rep.SummaryRunID, b.sums, 0, 0)
	if err != nil {
		return err
	}
	cl, err := analysis.Clusters(b.ctx, b.db, b.run.ID, b.rep.SummaryRunID, b.sums, b.opts.Top, b.opts.Examples)
	if err != nil {
		return err
	}
	sec := &Clusters{TotalQueries: all.TotalQueries, NumClusters: all.NumClusters, Rows: cl.Clusters,
		Command: command(append([]string{"list-clusters", b.run.ID, "--limit", fmt.Sprint(b.opts.Top), "--show-examples", fmt.Sprint(b.opts.Examples)}, b.ref...)...)}
	for _, r := range all.Clusters {
		if r.ClusterID < 0 {
			sec.Noise += r.NumQueries
		}
	}
	if !b.opts.NoFigures {
		sec.Chart, err = drawPNG("clusters", fmt.Sprintf("The %d largest clusters", len(cl.Clusters)), "", func(w io.Writer) error {
			return DrawClusters(w, cl, "png")
		})
		if err != nil {
			return err
		}
	}
	b.rep.Clusters = sec
	return nil
}

// examples returns up to n example queries of a cluster, as list-clusters
// --show-examples picks them.
func (b *builder) examples(cluster, n int) ([]string, error) {
	qs, err := b.db.ListQueries(b.ctx, lmsys.QueryFilter{RunID: b.run.ID, ClusterID: &cluster, Limit: n})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Text
	}
	return out, nil
}

func (b *builder) taxonomy() error {
	id := b.opts.HierarchyID
	if id == "" {
		ids, err := b.db.Hierarchies(b.ctx, b.run.ID)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			b.note(SectionTaxonomy, "The run has no hierarchy, so there is no taxonomy.", command("merge-clusters", b.run.ID))
			return nil
		}
		id = ids[0]
	}
	nodes, err := b.db.Hierarchy(b.ctx, id)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("hierarchy %q: %w", id, lmsys.ErrNotFound)
	}
	if nodes[0].RunID != b.run.ID {
		return fmt.Errorf("%w: hierarchy %s is of run %s, not %s", lmsys.ErrInvalidInput, id, nodes[0].RunID, b.run.ID)
	}
	byID := map[int]lmsys.HierarchyNode{}
	top := 0
	for _, n := range nodes {
		byID[n.ClusterID] = n
		top = max(top, n.Level)
	}
	var roots []lmsys.HierarchyNode
	total := 0
	for _, n := range nodes {
		if n.Level == top {
			roots = append(roots, n)
			total += n.NumQueries
		}
	}
	bySize(roots)
	children := func(n lmsys.HierarchyNode) []lmsys.HierarchyNode {
		var kids []lmsys.HierarchyNode
		for _, c := range n.ChildrenIDs {
			if k, ok := byID[c]; ok {
				kids = append(kids, k)
			}
		}
		bySize(kids)
		return kids
	}
	// leaves returns the leaf clusters under n, largest first.
	var leaves func(n lmsys.HierarchyNode, out []lmsys.HierarchyNode) []lmsys.HierarchyNode
	leaves = func(n lmsys.HierarchyNode, out []lmsys.HierarchyNode) []lmsys.HierarchyNode {
		if n.Level == 0 {
			return append(out, n)
		}
		for _, k := range children(n) {
			out = leaves(k, out)
		}
		return out
	}
	share := func(n int) float64 { return float64(n) / float64(max(total, 1)) }
	cat := func(n lmsys.HierarchyNode) Category {
		title := n.Title
		if title == "" {
			title = fmt.Sprintf("cluster %d", n.ClusterID)
		}
		return Category{ID: n.ClusterID, Level: n.Level, Title: title, Description: n.Description, NumQueries: n.NumQueries, Share: share(n.NumQueries)}
	}
	tax := &Taxonomy{HierarchyID: id, Levels: top + 1, TotalQueries: total, Command: command("show-hierarchy", id, "--depth", "1")}
	for i, r := range roots {
		if i == b.opts.Top {
			tax.More = len(roots) - i
			break
		}
		c := cat(r)
		if c.Examples, err = b.categoryExamples(leaves(r, nil), b.opts.Examples); err != nil {
			return err
		}
		if top > 0 {
			kids := children(r)
			for j, k := range kids {
				if j == b.opts.Top {
					c.More = len(kids) - j
					break
				}
				kc := cat(k)
				if kc.Examples, err = b.categoryExamples(leaves(k, nil), min(b.opts.Examples, 2)); err != nil {
					return err
				}
				c.Children = append(c.Children, kc)
			}
		}
		tax.Categories = append(tax.Categories, c)
	}
	b.rep.Taxonomy = tax
	return nil
}

// categoryExamples picks n example queries from leaf clusters (largest first), one
// from each in turn, so a category's examples show several of its clusters.
func (b *builder) categoryExamples(leaves []lmsys.HierarchyNode, n int) ([]string, error) {
	leaves = leaves[:min(n, len(leaves))]
	per := make([][]string, len(leaves))
	for i, l := range leaves {
		var err error
		if per[i], err = b.examples(l.ClusterID, n); err != nil {
			return nil, err
		}
	}
	var out []string
	seen := map[string]bool{}
	for round := 0; len(out) < n && round < n; round++ {
		for _, qs := range per {
			if round < len(qs) && len(out) < n && !seen[qs[round]] {
				seen[qs[round]] = true
				out = append(out, qs[round])
			}
		}
	}
	return out, nil
}

// distinctTop bounds the values Facets returns for the mixes, enough to count them.
const distinctTop = 1000

func (b *builder) mixes() error {
	for _, field := range []string{"language", "model"} {
		fs, err := analysis.Facets(b.ctx, b.db, b.run.ID, analysis.FacetOptions{Fields: []string{field}, Top: distinctTop, MinCount: b.opts.MinCount, SummaryRef: b.opts.SummaryRunID})
		if err != nil {
			return err
		}
		f := fs[0]
		m := Mix{Field: field, Total: f.Total, Command: b.facetCommand(field, b.opts.Top)}
		for _, v := range f.Overall {
			if v.Key != "(unknown)" {
				m.Distinct++
			}
		}
		m.CountCommand = m.Command
		if len(f.Overall) > b.opts.Top {
			m.CountCommand = b.facetCommand(field, distinctTop)
		}
		// Facets sorts before it cuts, so these are what --top Top prints.
		f.Overall = f.Overall[:min(b.opts.Top, len(f.Overall))]
		f.OverRepresented = f.OverRepresented[:min(b.opts.Top, len(f.OverRepresented))]
		m.Overall, m.OverRepresented = f.Overall, f.OverRepresented
		if m.Distinct == 0 {
			if field == "language" {
				// The language facet falls back to the language classifier's labels.
				b.note(SectionMixes, "No query of the run names its language.", command("classify", "--builtin", "language", "--run-id", b.run.ID))
			} else {
				b.note(SectionMixes, fmt.Sprintf("No query of the run names its %s.", field))
			}
			continue
		}
		if !b.opts.NoFigures {
			plotCmd := b.facetCommand(field, b.opts.Top, "--plot", field+".png")
			m.Chart, err = drawPNG(field, "Queries by "+field, plotCmd, func(w io.Writer) error { return DrawFacet(w, b.run.ID, f, "png") })
			if err != nil {
				return err
			}
		}
		b.rep.Mixes = append(b.rep.Mixes, m)
	}
	return nil
}

// topFlag returns the --top flag of the report's Top when it is not the commands'
// default (10).
func (b *builder) topFlag() []string {
	if b.opts.Top == 10 {
		return nil
	}
	return []string{"--top", fmt.Sprint(b.opts.Top)}
}

// facetCommand returns the `lmsys facets` command of one field with the report's
// options; --top is written when it is not the command's default.
func (b *builder) facetCommand(field string, top int, extra ...string) string {
	args := []string{"facets", b.run.ID, "--by", field}
	if top != 10 {
		args = append(args, "--top", fmt.Sprint(top))
	}
	if b.opts.MinCount != 5 {
		args = append(args, "--min-count", fmt.Sprint(b.opts.MinCount))
	}
	args = append(args, extra...)
	return command(append(args, b.ref...)...)
}

// choosePeriod returns the period for dated queries from first to last day.
func choosePeriod(first, last string) string {
	a, errA := time.Parse("2006-01-02", first)
	z, errZ := time.Parse("2006-01-02", last)
	if errA != nil || errZ != nil {
		return analysis.Week
	}
	days := int(z.Sub(a).Hours()/24) + 1
	switch {
	case days >= 120:
		return analysis.Month
	case days >= 21:
		return analysis.Week
	case days >= 2:
		return analysis.Day
	}
	return analysis.Hour
}

func (b *builder) trends() error {
	topts := analysis.TrendOptions{Period: analysis.Day, SummaryRef: b.opts.SummaryRunID, Top: b.opts.Top}
	days, err := analysis.Trends(b.ctx, b.db, b.run.ID, topts)
	if errors.Is(err, analysis.ErrNoTimestamps) {
		b.note(SectionTrends, "No query of the run has a timestamp, so there are no trends, risers or fallers; load logs with a timestamp field, or compare two datasets.",
			command("trends", b.run.ID, "--compare-datasets", "A,B"))
		return nil
	}
	if err != nil {
		return err
	}
	tr := &Trends{FirstDay: days.Periods[0], LastDay: days.Periods[len(days.Periods)-1], Undated: days.Undated}
	for _, n := range days.Totals {
		tr.Dated += n
	}
	tr.Period = b.opts.Period
	if tr.Period == "" {
		tr.Period = choosePeriod(tr.FirstDay, tr.LastDay)
	}
	topts.Period = tr.Period
	rep, err := analysis.Trends(b.ctx, b.db, b.run.ID, topts)
	if err != nil {
		return err
	}
	tr.Periods, tr.Totals = rep.Periods, rep.Totals
	tr.Command = command(append([]string{"trends", b.run.ID, "--period", tr.Period}, b.ref...)...)
	a, z := b.opts.Compare[0], b.opts.Compare[1]
	if a == "" && z == "" {
		if len(rep.Periods) >= 2 {
			a, z = rep.Periods[0], rep.Periods[len(rep.Periods)-1]
		} else {
			b.note(SectionTrends, fmt.Sprintf("Every dated query falls in one %s (%s), so no two periods compare; a shorter period may.", tr.Period, rep.Periods[0]),
				command("trends", b.run.ID, "--period", analysis.Hour))
		}
	}
	if a != "" || z != "" {
		cmp, err := analysis.ComparePeriods(b.ctx, b.db, b.run.ID, a, z, topts)
		if err != nil {
			return err
		}
		tr.Comparison = &cmp
		tr.CompareCommand = command(append(append([]string{"trends", b.run.ID, "--compare", a + "," + z}, b.topFlag()...), b.ref...)...)
	}
	if !b.opts.NoFigures && len(rep.Periods) >= 2 {
		plotCmd := command(append(append([]string{"trends", b.run.ID, "--period", tr.Period, "--plot", "trends.png"}, b.topFlag()...), b.ref...)...)
		tr.Chart, err = drawPNG("trends", fmt.Sprintf("Share of the largest clusters per %s", tr.Period), plotCmd, func(w io.Writer) error {
			return DrawTrends(w, rep, b.opts.Top, "png")
		})
		if err != nil {
			return err
		}
	}
	b.rep.Trends = tr
	return nil
}

// hotTop bounds the over-represented values Facets returns for the hot spots.
const hotTop = 100

func (b *builder) hotSpots() error {
	for _, hf := range b.opts.HotFacets {
		if _, err := b.db.LatestResultKey(b.ctx, hf.Facet); errors.Is(err, lmsys.ErrNotFound) {
			b.note(SectionHotSpots, fmt.Sprintf("Nothing has labelled the %s facet, so there are no %s hot spots.", hf.Facet, hf.Facet),
				command("classify", "--builtin", hf.Facet, "--run-id", b.run.ID))
			continue
		} else if err != nil {
			return err
		}
		fs, err := analysis.Facets(b.ctx, b.db, b.run.ID, analysis.FacetOptions{Fields: []string{hf.Facet}, Top: hotTop, MinCount: b.opts.MinCount,
			SummaryRef: b.opts.SummaryRunID, Sort: "lift"})
		if err != nil {
			return err
		}
		f := fs[0]
		hot := map[string]bool{}
		for _, v := range hf.Values {
			hot[v] = true
		}
		h := HotSpots{Facet: hf.Facet, Values: hf.Values, Total: f.Total, Overall: f.Overall, Rows: []analysis.Lift{}, MinCount: b.opts.MinCount,
			Command: b.facetCommand(hf.Facet, hotTop, "--sort", "lift")}
		h.Labelled = f.Total
		for _, v := range f.Overall {
			if v.Key == "(unlabelled)" {
				h.Labelled -= v.Count
			}
			if hot[v.Key] {
				h.Count += v.Count
			}
		}
		if f.List && len(hot) > 1 {
			// A query whose list holds two hot items counts once.
			if h.Count, err = b.queriesWithAny(hf.Facet, hf.Values); err != nil {
				return err
			}
		}
		if h.Labelled == 0 {
			b.note(SectionHotSpots, fmt.Sprintf("The %s facet has labels, but none of this run's queries.", hf.Facet),
				command("classify", "--builtin", hf.Facet, "--run-id", b.run.ID))
			continue
		}
		h.Rate = float64(h.Count) / float64(max(h.Total, 1))
		for _, l := range f.OverRepresented {
			if hot[l.Value] && len(h.Rows) < b.opts.Top {
				h.Rows = append(h.Rows, l)
			}
		}
		if !b.opts.NoFigures {
			plotCmd := b.facetCommand(hf.Facet, hotTop, "--plot", hf.Facet+".png")
			h.Chart, err = drawPNG(hf.Facet, "Queries by "+hf.Facet, plotCmd, func(w io.Writer) error { return DrawFacet(w, b.run.ID, f, "png") })
			if err != nil {
				return err
			}
		}
		b.rep.HotSpots = append(b.rep.HotSpots, h)
	}
	return nil
}

// queriesWithAny counts the run's queries whose label of a list facet holds one of
// values.
func (b *builder) queriesWithAny(facet string, values []string) (int64, error) {
	ls, err := b.db.Labels(b.ctx, lmsys.LabelFilter{Facet: facet, RunID: b.run.ID})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range ls {
		for _, v := range values {
			if lmsys.LabelMatches(l.Value, v, true) {
				n++
				break
			}
		}
	}
	return n, nil
}

func (b *builder) mapPicture() error {
	l, err := b.db.GetLayout(b.ctx, b.run.ID)
	if errors.Is(err, lmsys.ErrNotFound) {
		b.note(SectionMap, "The run has no stored map.", command("map", b.run.ID))
		return nil
	}
	if err != nil {
		return err
	}
	pts, groups, outside, err := layout.ByCluster(b.ctx, b.db, l)
	if err != nil {
		return err
	}
	m := &Map{Seed: l.Seed, Points: len(l.QueryIDs), Outside: outside, Command: command("map", b.run.ID, "--seed", fmt.Sprint(l.Seed), "--output", "map.png")}
	if !b.opts.NoFigures {
		names := make(map[int]string, len(b.sums))
		for id, s := range b.sums {
			names[id] = s.Title
		}
		m.Figure, err = drawPNG("map", "Map of the run's queries, a colour per cluster", m.Command, func(w io.Writer) error {
			return layout.Draw(w, pts, groups, layout.Picture{Format: "png", Title: "Run " + b.run.ID, Names: names})
		})
		if err != nil {
			return err
		}
	}
	b.rep.Map = m
	return nil
}

// headline gathers the numbers that matter from the sections.
func (b *builder) headline() {
	r := b.rep
	listCmd := command(append([]string{"list-clusters", b.run.ID}, b.ref...)...)
	if c := r.Clusters; c != nil {
		r.Headline = append(r.Headline,
			Number{Key: "queries", Label: "Queries", Value: float64(c.TotalQueries), Text: count(c.TotalQueries), Command: listCmd},
			Number{Key: "clusters", Label: "Clusters", Value: float64(c.NumClusters), Text: count(c.NumClusters), Command: listCmd})
		assigned := c.TotalQueries - c.Noise
		share := float64(assigned) / float64(max(c.TotalQueries, 1))
		text := fmt.Sprintf("%s (%s of %s)", percent(share), count(assigned), count(c.TotalQueries))
		if c.Noise > 0 {
			text = fmt.Sprintf("%s (%s of %s; %s noise)", percent(share), count(assigned), count(c.TotalQueries), count(c.Noise))
		}
		r.Headline = append(r.Headline, Number{Key: "assigned", Label: "Assigned to a cluster", Value: share, Text: text, Command: listCmd})
	}
	for _, m := range r.Mixes {
		text := count(m.Distinct)
		if m.Distinct >= distinctTop {
			text += "+"
		}
		if len(m.Overall) > 0 {
			text += fmt.Sprintf(" (most: %s, %s)", m.Overall[0].Key, percent(m.Overall[0].Share))
		}
		label := map[string]string{"language": "Languages", "model": "Models"}[m.Field]
		r.Headline = append(r.Headline, Number{Key: m.Field + "s", Label: label, Value: float64(m.Distinct), Text: text, Command: m.CountCommand})
	}
	if t := r.Trends; t != nil {
		text := fmt.Sprintf("%s to %s (%s dated queries", t.FirstDay, t.LastDay, count(t.Dated))
		if t.Undated > 0 {
			text += fmt.Sprintf(", %s undated", count(t.Undated))
		}
		r.Headline = append(r.Headline, Number{Key: "dates", Label: "Dates", Value: float64(t.Dated), Text: text + ")",
			Command: command(append([]string{"trends", b.run.ID, "--period", analysis.Day}, b.ref...)...)})
	}
	for _, h := range r.HotSpots {
		r.Headline = append(r.Headline, Number{Key: h.Facet, Label: capital(h.Facet) + " (" + strings.Join(h.Values, ", ") + ")", Value: h.Rate,
			Text: fmt.Sprintf("%s (%s of %s queries)", percent(h.Rate), count(h.Count), count(h.Total)), Command: h.Command})
	}
}

// bySize sorts hierarchy nodes largest first, ties by id, as show-hierarchy does.
func bySize(ns []lmsys.HierarchyNode) {
	sort.SliceStable(ns, func(a, b int) bool {
		if ns[a].NumQueries != ns[b].NumQueries {
			return ns[a].NumQueries > ns[b].NumQueries
		}
		return ns[a].ClusterID < ns[b].ClusterID
	})
}

// percent formats a share as the CLI does (one decimal).
func percent(share float64) string {
	if math.IsNaN(share) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*share)
}

// count formats an integer with thousands separators.
func count[T ~int | ~int64](n T) string {
	s := fmt.Sprint(int64(n))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
