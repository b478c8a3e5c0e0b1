package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/analysis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func build(t *testing.T, f fixture, opts Options) Report {
	t.Helper()
	r, err := Build(context.Background(), f.db, f.runID, opts)
	require.NoError(t, err)
	return r
}

func renderHTML(t *testing.T, r Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.HTML(&b))
	return b.String()
}

func renderMarkdown(t *testing.T, r Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, r.Markdown(&b, MarkdownOptions{FigureLink: func(f *Figure) string { return "report-" + f.Name + ".png" }}))
	return b.String()
}

func number(t *testing.T, r Report, key string) Number {
	t.Helper()
	for _, n := range r.Headline {
		if n.Key == key {
			return n
		}
	}
	t.Fatalf("no headline number %q in %+v", key, r.Headline)
	return Number{}
}

func TestBuildEverySection(t *testing.T) {
	f := newFixture(t, allParts())
	r := build(t, f, Options{})
	assert.Equal(t, []string{SectionHeadline, SectionTaxonomy, SectionClusters, SectionTrends, SectionHotSpots, SectionMixes, SectionMap}, r.Sections())
	assert.Empty(t, r.Notes)
	assert.Equal(t, "sum-1", r.SummaryRunID)

	for _, tc := range []struct {
		key     string
		value   float64
		command string
	}{
		{"queries", 60, `lmsys list-clusters 'run-"<1>"|x'`},
		{"clusters", 3, `lmsys list-clusters 'run-"<1>"|x'`},
		{"assigned", 1, `lmsys list-clusters 'run-"<1>"|x'`},
		{"languages", 3, `lmsys facets 'run-"<1>"|x' --by language`},
		{"models", 2, `lmsys facets 'run-"<1>"|x' --by model`},
		{"dates", 60, `lmsys trends 'run-"<1>"|x' --period day`},
		{"refusal", 15.0 / 60, `lmsys facets 'run-"<1>"|x' --by refusal --top 100 --sort lift`},
		{"pushback", 8.0 / 60, `lmsys facets 'run-"<1>"|x' --by pushback --top 100 --sort lift`},
	} {
		n := number(t, r, tc.key)
		assert.InDelta(t, tc.value, n.Value, 1e-9, tc.key)
		assert.Equal(t, tc.command, n.Command, tc.key)
	}

	tax := r.Taxonomy
	require.NotNil(t, tax)
	assert.Equal(t, "hier-<1>", tax.HierarchyID)
	assert.Equal(t, 2, tax.Levels)
	require.Len(t, tax.Categories, 1)
	root := tax.Categories[0]
	assert.Equal(t, 60, root.NumQueries)
	assert.InDelta(t, 1, root.Share, 1e-12)
	assert.Len(t, root.Examples, 3, "one from each of the three largest leaves")
	require.Len(t, root.Children, 3)
	assert.Equal(t, []int{1, 0, 2}, []int{root.Children[0].ID, root.Children[1].ID, root.Children[2].ID}, "largest first")
	assert.InDelta(t, 25.0/60, root.Children[0].Share, 1e-12)
	assert.Len(t, root.Children[0].Examples, 2)

	cl := r.Clusters
	require.NotNil(t, cl)
	assert.Equal(t, 60, cl.TotalQueries)
	require.Len(t, cl.Rows, 3)
	assert.Equal(t, 1, cl.Rows[0].ClusterID)
	assert.Len(t, cl.Rows[0].Examples, 3)

	tr := r.Trends
	require.NotNil(t, tr)
	assert.Equal(t, analysis.Week, tr.Period, "four weeks of data are bucketed by week")
	assert.Equal(t, []string{"2026-W10", "2026-W11", "2026-W12", "2026-W13"}, tr.Periods)
	require.NotNil(t, tr.Comparison)
	assert.Equal(t, "2026-W10", tr.Comparison.A)
	assert.Equal(t, "2026-W13", tr.Comparison.B)
	require.Len(t, tr.Comparison.New, 1)
	assert.Equal(t, 2, tr.Comparison.New[0].ClusterID, "cluster 2 appears in the last weeks only")
	assert.Equal(t, `lmsys trends 'run-"<1>"|x' --compare 2026-W10,2026-W13`, tr.CompareCommand)

	require.Len(t, r.HotSpots, 2)
	ref := r.HotSpots[0]
	assert.Equal(t, "refusal", ref.Facet)
	assert.Equal(t, int64(15), ref.Count)
	require.Len(t, ref.Rows, 1)
	assert.Equal(t, 0, ref.Rows[0].ClusterID)
	assert.Equal(t, "refused", ref.Rows[0].Value)
	assert.Equal(t, int64(15), ref.Rows[0].Count)
	assert.InDelta(t, 3, ref.Rows[0].Lift, 1e-9)
	push := r.HotSpots[1]
	require.Len(t, push.Rows, 1)
	assert.Equal(t, 1, push.Rows[0].ClusterID)
	assert.Equal(t, int64(8), push.Rows[0].Count)

	require.Len(t, r.Mixes, 2)
	assert.Equal(t, "language", r.Mixes[0].Field)
	assert.Equal(t, 3, r.Mixes[0].Distinct)

	require.NotNil(t, r.Map)
	assert.Equal(t, 60, r.Map.Points)
	assert.Equal(t, uint64(7), r.Map.Seed)
	assert.Zero(t, r.Map.Outside)

	names := []string{}
	for _, fig := range r.Figures() {
		names = append(names, fig.Name)
		img, err := png.Decode(bytes.NewReader(fig.PNG))
		require.NoError(t, err, fig.Name)
		assert.Greater(t, img.Bounds().Dx(), 100, fig.Name)
	}
	assert.Equal(t, []string{"clusters", "trends", "refusal", "pushback", "language", "model", "map"}, names)

	text := build(t, f, Options{NoFigures: true})
	assert.Empty(t, text.Figures())
	assert.Equal(t, r.Headline, text.Headline, "figures change no number")
}

func TestOptions(t *testing.T) {
	f := newFixture(t, allParts())
	r := build(t, f, Options{Top: 2, Examples: -1, Period: analysis.Day, Compare: [2]string{"2026-W11", "2026-W12"}, SummaryRunID: "sum-1", MinCount: 3})
	require.Len(t, r.Clusters.Rows, 2)
	assert.Empty(t, r.Clusters.Rows[0].Examples)
	assert.Empty(t, r.Taxonomy.Categories[0].Examples)
	assert.Len(t, r.Taxonomy.Categories[0].Children, 2)
	assert.Equal(t, 1, r.Taxonomy.Categories[0].More)
	assert.Equal(t, analysis.Day, r.Trends.Period)
	assert.Equal(t, "2026-W11", r.Trends.Comparison.A)
	assert.Equal(t, `lmsys list-clusters 'run-"<1>"|x' --limit 2 --show-examples 0 --summary-run-id sum-1`, r.Clusters.Command)
	assert.Equal(t, `lmsys trends 'run-"<1>"|x' --compare 2026-W11,2026-W12 --top 2 --summary-run-id sum-1`, r.Trends.CompareCommand)
	assert.Equal(t, `lmsys facets 'run-"<1>"|x' --by refusal --top 100 --min-count 3 --sort lift --summary-run-id sum-1`, r.HotSpots[0].Command)
	assert.Len(t, r.Mixes[0].Overall, 2)
	assert.Equal(t, `lmsys facets 'run-"<1>"|x' --by language --top 1000 --min-count 3 --summary-run-id sum-1`, number(t, r, "languages").Command,
		"three languages are more than --top 2 lists")

	r = build(t, f, Options{HotFacets: []HotFacet{{Facet: "pushback", Values: []string{"objects"}}}})
	require.Len(t, r.HotSpots, 1)
	assert.Equal(t, "pushback", r.HotSpots[0].Facet)
}

func TestAbsentSectionsSayWhy(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	r := build(t, f, Options{})
	assert.Equal(t, []string{SectionHeadline, SectionClusters, SectionMixes}, r.Sections())
	want := map[string][]string{
		SectionClusters: {"lmsys summarize 'run-\"<1>\"|x'"},
		SectionTaxonomy: {"lmsys merge-clusters 'run-\"<1>\"|x'"},
		SectionTrends:   {"lmsys trends 'run-\"<1>\"|x' --compare-datasets A,B"},
		SectionHotSpots: {"lmsys classify --builtin refusal --run-id 'run-\"<1>\"|x'", "lmsys classify --builtin pushback --run-id 'run-\"<1>\"|x'"},
		SectionMap:      {"lmsys map 'run-\"<1>\"|x'"},
	}
	got := map[string][]string{}
	for _, n := range r.Notes {
		got[n.Section] = append(got[n.Section], n.Command)
		assert.NotEmpty(t, n.Text)
	}
	assert.Equal(t, want, got)
	_, ok := func() (Number, bool) {
		for _, n := range r.Headline {
			if n.Key == "dates" || n.Key == "refusal" {
				return n, true
			}
		}
		return Number{}, false
	}()
	assert.False(t, ok, "no date range and no refusal rate without their data")

	h := html.UnescapeString(renderHTML(t, r))
	md := renderMarkdown(t, r)
	for _, n := range r.Notes {
		assert.Contains(t, h, n.Text)
		assert.Contains(t, h, n.Command)
		assert.Contains(t, md, mdText(n.Text))
		assert.Contains(t, md, mdCode(n.Command, false))
	}
	for _, heading := range []string{"## Taxonomy", "## Risers and fallers", "## Refusal and pushback hot spots", "## Map"} {
		assert.Contains(t, md, heading, "an absent section keeps its heading and its note")
	}
}

func TestPartlyLabelled(t *testing.T) {
	// Labels of another run's queries only: the facet exists, this run has none.
	f := newFixture(t, fixtureOptions{summaries: true})
	ctx := context.Background()
	require.NoError(t, f.db.CreateClassificationRun(ctx, lmsys.ClassificationRun{ID: "c", ResultKey: "k", Facets: []string{"refusal"}}))
	r := build(t, f, Options{})
	assert.Empty(t, r.HotSpots)
	notes := r.NotesOf(SectionHotSpots)
	require.Len(t, notes, 2)
	assert.Contains(t, notes[0].Text, "none of this run's queries")
}

func TestBuildErrors(t *testing.T) {
	f := newFixture(t, allParts())
	ctx := context.Background()
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: "empty", Algorithm: "kmeans", NumClusters: 2}))
	require.NoError(t, f.db.CreateRun(ctx, lmsys.Run{ID: "other", Algorithm: "kmeans", NumClusters: 1}))
	require.NoError(t, f.db.SaveAssignments(ctx, []lmsys.Assignment{{RunID: "other", QueryID: 1, ClusterID: 0}}))
	for _, tc := range []struct {
		name  string
		run   string
		opts  Options
		want  error
		words string
	}{
		{"unknown run", "nope", Options{}, lmsys.ErrNotFound, "nope"},
		{"no assignments", "empty", Options{}, lmsys.ErrEmpty, "no assigned queries"},
		{"unknown summary run", f.runID, Options{SummaryRunID: "nope"}, lmsys.ErrNotFound, "nope"},
		{"unknown hierarchy", f.runID, Options{HierarchyID: "nope"}, lmsys.ErrNotFound, "nope"},
		{"hierarchy of another run", "other", Options{HierarchyID: f.hierarchy}, lmsys.ErrInvalidInput, "not other"},
		{"bad period", f.runID, Options{Period: "year"}, lmsys.ErrInvalidInput, "year"},
		{"bad comparison", f.runID, Options{Compare: [2]string{"2026-W10", "2026-03"}}, lmsys.ErrInvalidInput, "differ"},
		{"finding cites a cluster", f.runID, Options{Findings: []Finding{{Title: "x", ClusterIDs: []int{9}}}}, lmsys.ErrInvalidInput, "cluster 9"},
		{"finding cites a query", f.runID, Options{Findings: []Finding{{Title: "x", QueryIDs: []int64{1, 999}}}}, lmsys.ErrInvalidInput, "query 999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(ctx, f.db, tc.run, tc.opts)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.words)
		})
	}
}

func TestDeterministic(t *testing.T) {
	f := newFixture(t, allParts())
	opts := Options{Findings: []Finding{{Title: "t", Text: "x", ClusterIDs: []int{0}}}}
	a, b := build(t, f, opts), build(t, f, opts)
	assert.Equal(t, renderHTML(t, a), renderHTML(t, b))
	assert.Equal(t, renderMarkdown(t, a), renderMarkdown(t, b))
	ja, err := json.Marshal(a)
	require.NoError(t, err)
	jb, err := json.Marshal(b)
	require.NoError(t, err)
	assert.Equal(t, string(ja), string(jb))
	for i, fig := range a.Figures() {
		assert.Equal(t, fig.PNG, b.Figures()[i].PNG, fig.Name)
	}
}

func TestFindingsRender(t *testing.T) {
	f := newFixture(t, allParts())
	r := build(t, f, Options{Findings: []Finding{{
		Title:      "Refusals <concentrate> in one cluster",
		Text:       "Three in four queries of cluster 0 are refused.\n\nThe rest of the run complies [see](javascript:alert(6)).",
		ClusterIDs: []int{0, 2}, QueryIDs: []int64{2, 3}, Commands: []string{"lmsys facets RUN --by refusal --sort lift"},
	}}})
	assert.Equal(t, SectionFindings, r.Sections()[0])
	h := renderHTML(t, r)
	assert.Contains(t, h, `<h3>1. Refusals &lt;concentrate&gt; in one cluster</h3>`)
	assert.Contains(t, h, `<p>Three in four queries of cluster 0 are refused.</p>`)
	assert.Contains(t, h, `<a href="#cluster-0">0</a>`)
	assert.Contains(t, h, `2</a> (Rising topic)`, "a cited cluster has its title")
	assert.Contains(t, h, `lmsys inspect &#39;run-&#34;&lt;1&gt;&#34;|x&#39; CLUSTER`)
	assert.Contains(t, h, "Queries: 2, 3")
	md := renderMarkdown(t, r)
	assert.Contains(t, md, "### 1. Refusals \\<concentrate\\> in one cluster")
	assert.Contains(t, md, "The rest of the run complies \\[see\\](javascript:alert(6)).")
	assert.Contains(t, md, "- `lmsys facets RUN --by refusal --sort lift`")
}

// allowedTags are the elements the HTML template writes.
var allowedTags = map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "header": true,
	"h1": true, "h2": true, "h3": true, "p": true, "code": true, "nav": true, "a": true, "section": true, "table": true, "tr": true,
	"th": true, "td": true, "span": true, "ul": true, "li": true, "figure": true, "img": true, "figcaption": true, "div": true, "footer": true}

var (
	tagRe  = regexp.MustCompile(`^<(/?)([a-z0-9]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>`)
	attrRe = regexp.MustCompile(`([a-z-]+)="([^"]*)"`)
)

// checkHTML fails unless every tag of page is one the template writes, with only
// its attributes, links within the page and pictures from data URIs.
func checkHTML(t *testing.T, page string) {
	t.Helper()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>\n"))
	rest := strings.TrimPrefix(page, "<!DOCTYPE html>\n")
	for i := strings.IndexByte(rest, '<'); i >= 0; i = strings.IndexByte(rest, '<') {
		rest = rest[i:]
		m := tagRe.FindStringSubmatch(rest)
		if !assert.NotNil(t, m, "not a tag of the template: %.80q", rest) {
			rest = rest[1:]
			continue
		}
		assert.True(t, allowedTags[m[2]], "tag %s", m[2])
		for _, a := range attrRe.FindAllStringSubmatch(m[3], -1) {
			name, value := a[1], html.UnescapeString(a[2])
			switch name {
			case "href":
				assert.True(t, strings.HasPrefix(value, "#"), "href %q", value)
			case "src":
				assert.Regexp(t, `^data:image/png;base64,[A-Za-z0-9+/=]+$`, value)
			case "style":
				assert.Regexp(t, `^width:\d+px$`, value)
			case "id", "class", "lang", "charset", "http-equiv", "content", "name", "alt":
			default:
				t.Errorf("attribute %s=%q", name, value)
			}
		}
		if m[2] == "style" && m[1] == "" {
			end := strings.Index(rest, "</style>")
			require.Positive(t, end)
			assert.NotContains(t, rest[len(m[0]):end], "<")
			rest = rest[end:]
			continue
		}
		rest = rest[len(m[0]):]
	}
}

func TestHTMLEscapesUserText(t *testing.T) {
	f := newFixture(t, allParts())
	r := build(t, f, Options{Findings: []Finding{{Title: hostile[0], Text: hostile[1] + "\n\n" + hostile[3], ClusterIDs: []int{0}}}})
	page := renderHTML(t, r)
	checkHTML(t, page)
	assert.Contains(t, page, `content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`, "the page may load nothing")
	text := html.UnescapeString(page)
	for _, h := range []string{hostile[0], hostile[1], `<script>alert("title")</script> | pipes`, `m"><script>alert(4)</script>`, `Parent <i>category</i>`, `<b>Klingon</b>`} {
		assert.Contains(t, text, h, "shown as text")
	}
	assert.False(t, strings.Contains(text, "\u202E"), "bidi overrides are dropped")
	assert.False(t, strings.Contains(page, `"http://evil`), "no link to anywhere")
	assert.Contains(t, text, "http://evil.example/ and www.evil.example", "shown as text")
}

// checkMarkdown fails unless every Markdown special character of doc outside the
// renderer's own structure (headings, notes, lists, table pipes, code spans, its
// pictures and italics) is escaped, and each table row has its header's cells.
func checkMarkdown(t *testing.T, doc string) {
	t.Helper()
	codeSpan := regexp.MustCompile("(`+)(?:[^`]|[^`].*?[^`])(?:`+)")
	picture := regexp.MustCompile(`^!\[((?:[^\\\]]|\\.)*)\]\(<[A-Za-z0-9._%-]+>\)$`)
	cellsOf := -1
	for n, line := range strings.Split(doc, "\n") {
		if picture.MatchString(line) {
			continue
		}
		body := line
		for _, p := range []string{"### ", "## ", "# ", "> ", "- "} {
			if strings.HasPrefix(body, p) {
				body = body[len(p):]
				break
			}
		}
		if strings.HasPrefix(body, "*") && strings.HasSuffix(body, "*") && len(body) > 1 {
			body = body[1 : len(body)-1]
		}
		// Code spans hold commands; a span's pipes are escaped in a table.
		table := strings.HasPrefix(line, "|")
		body = codeSpan.ReplaceAllStringFunc(body, func(span string) string {
			if table {
				assert.NotRegexp(t, `[^\\]\|`, span, "an unescaped pipe in a code span of a table: %q", line)
			}
			return "CODE"
		})
		pipes := 0
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case c == '\\':
				i++
			case c == '|' && table:
				pipes++
			case strings.IndexByte("`*_[]<>|~$#", c) >= 0:
				t.Errorf("line %d: unescaped %q in %q", n+1, c, line)
			case c == '&' && !strings.HasPrefix(body[i:], "&amp;"):
				t.Errorf("line %d: a bare & in %q", n+1, line)
			}
		}
		if table {
			if cellsOf < 0 {
				cellsOf = pipes
			}
			assert.Equal(t, cellsOf, pipes, "line %d has its own cells: %q", n+1, line)
		} else {
			cellsOf = -1
		}
	}
}

func TestMarkdownEscapesUserText(t *testing.T) {
	f := newFixture(t, allParts())
	r := build(t, f, Options{Findings: []Finding{{Title: hostile[5], Text: hostile[6] + "\n\n" + hostile[3], ClusterIDs: []int{0}}}})
	md := renderMarkdown(t, r)
	checkMarkdown(t, md)
	assert.False(t, regexp.MustCompile(`[^\\]\]\(javascript:`).MatchString(md), "an unescaped link")
	assert.False(t, regexp.MustCompile(`[^\\]<script`).MatchString(md), "an unescaped tag")
	assert.False(t, strings.Contains(md, "\n# Heading injection"), "a heading of user text")
	assert.Contains(t, md, `Title\](javascript:alert(5)) \*bold\*`)
	assert.Contains(t, md, "![The 3 largest clusters](<report-clusters.png>)")

	var plain bytes.Buffer
	require.NoError(t, r.Markdown(&plain, MarkdownOptions{}))
	assert.Contains(t, plain.String(), "*Picture: The 3 largest clusters (in the HTML report).*")
	assert.NotContains(t, plain.String(), "![")
}

func TestMdText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain words", "plain words"},
		{"a | b", `a \| b`},
		{"[x](javascript:y)", `\[x\](javascript:y)`},
		{"<script>", `\<script\>`},
		{"# title", `\# title`},
		{"- item", `\- item`},
		{"12. item", `12\. item`},
		{"3) item", `3\) item`},
		{"100.0% of it", "100.0% of it"},
		{"-5 degrees", `\-5 degrees`},
		{"Tom & Jerry &amp;", "Tom &amp; Jerry &amp;amp;"},
		{"line\nbreak\t\ttab", "line break tab"},
		{"*em* _em_ ~~s~~ $m$ `c`", "\\*em\\* \\_em\\_ \\~\\~s\\~\\~ \\$m\\$ \\`c\\`"},
		{"back\\slash", `back\\slash`},
		{"\u202Eevil\u200B", "evil"},
		{"  padded  ", "padded"},
	} {
		assert.Equal(t, tc.want, mdText(tc.in), "%q", tc.in)
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"  a \n\t b  ", 10, "a b"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven chars", 10, "eleven ch…"},
		{"word    then more", 6, "word…"},
		{"\u202Ehidden\u200B text", 20, "hidden text"},
		{strings.Repeat("é", 1<<20), 3, "éé…"},
	} {
		assert.Equal(t, tc.want, clip(tc.in, tc.n), "%.20q", tc.in)
	}
}

func TestMdCode(t *testing.T) {
	assert.Equal(t, "`lmsys map r`", mdCode("lmsys map r", false))
	assert.Equal(t, "``a`b``", mdCode("a`b", false))
	assert.Equal(t, "`` `x ``", mdCode("`x", false))
	assert.Equal(t, "`a \\| b`", mdCode("a | b", true))
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kmeans-16-20261201-212807", "kmeans-16-20261201-212807"},
		{"2026-W02,2026-W09", "2026-W02,2026-W09"},
		{"", "''"},
		{"my alias", "'my alias'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
		{"é", "'é'"},
	} {
		assert.Equal(t, tc.want, shellQuote(tc.in), tc.in)
	}
}

func TestChoosePeriod(t *testing.T) {
	for _, tc := range []struct{ first, last, want string }{
		{"2026-01-01", "2026-01-01", analysis.Hour},
		{"2026-01-01", "2026-01-02", analysis.Day},
		{"2026-01-01", "2026-01-20", analysis.Day},
		{"2026-01-01", "2026-01-21", analysis.Week},
		{"2026-01-05", "2026-03-01", analysis.Week},
		{"2026-01-01", "2026-04-30", analysis.Month},
	} {
		assert.Equal(t, tc.want, choosePeriod(tc.first, tc.last), "%s – %s", tc.first, tc.last)
	}
}

// FuzzMdText checks that mdText keeps any text on one line with every special
// character escaped, and loses nothing but white space and hidden characters.
func FuzzMdText(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Add("12. x")
	f.Fuzz(func(t *testing.T, s string) {
		out := mdText(s)
		if strings.ContainsAny(out, "\n\r") {
			t.Fatalf("mdText(%q) = %q spans lines", s, out)
		}
		var plain strings.Builder
		for i := 0; i < len(out); i++ {
			c := out[i]
			switch {
			case c == '\\' && i+1 < len(out):
				i++
				plain.WriteByte(out[i])
			case c == '&':
				if !strings.HasPrefix(out[i:], "&amp;") {
					t.Fatalf("mdText(%q) = %q has a bare &", s, out)
				}
				plain.WriteByte('&')
				i += len("&amp;") - 1
			case strings.IndexByte(mdSpecial, c) >= 0:
				t.Fatalf("mdText(%q) = %q leaves %q unescaped", s, out, c)
			default:
				plain.WriteByte(c)
			}
		}
		if got, want := plain.String(), clean(s); got != want {
			t.Fatalf("mdText(%q) unescaped is %q, want %q", s, got, want)
		}
	})
}

// A hot facet that is a list counts a query once however many hot items its list
// holds.
func TestHotSpotsOfAListFacet(t *testing.T) {
	f := newFixture(t, fixtureOptions{summaries: true})
	ctx := context.Background()
	require.NoError(t, f.db.CreateClassificationRun(ctx, lmsys.ClassificationRun{ID: "c", TemplateID: "clio-1", ResultKey: "k", Provider: "openai",
		Facets: []string{"languages"}, Parameters: map[string]any{lmsys.ListFacetsParameter: []string{"languages"}}}))
	qs, err := f.db.ListQueries(ctx, lmsys.QueryFilter{})
	require.NoError(t, err)
	require.Len(t, qs, 60)
	var ls []lmsys.Label
	for i, q := range qs {
		v := "en"
		switch {
		case i >= 20 && i < 45 && i%2 == 0:
			v = "fr, de"
		case i >= 20 && i < 45:
			v = "fr"
		case i >= 45:
			v = "de"
		}
		ls = append(ls, lmsys.Label{QueryID: q.ID, Facet: "languages", Value: v, ClassificationRunID: "c", ResultKey: "k"})
	}
	require.NoError(t, f.db.SaveLabels(ctx, ls))
	r := build(t, f, Options{NoFigures: true, HotFacets: []HotFacet{{Facet: "languages", Values: []string{"fr", "de"}}}})
	require.Len(t, r.HotSpots, 1)
	h := r.HotSpots[0]
	assert.EqualValues(t, 60, h.Total)
	assert.EqualValues(t, 60, h.Labelled)
	assert.EqualValues(t, 40, h.Count, "25 with fr, 15 more with de alone")
	assert.InDelta(t, 40.0/60, h.Rate, 1e-9)
}
