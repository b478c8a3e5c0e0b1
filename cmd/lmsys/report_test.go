package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/dataset/demo"
	"github.com/lmsys-go/lmsys/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoChats writes the demo set as LMSYS chat rows to dir/chats.jsonl: jailbreak
// attempts are refused and the user objects, maths answers are objected to, the rest
// answered. Without timestamps when dated is false.
func demoChats(t *testing.T, dir string, dated bool) string {
	t.Helper()
	type msg struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range demo.Rows() {
		conv := []msg{{"user", r.Text}}
		switch r.Topic {
		case "jailbreak":
			conv = append(conv, msg{"assistant", "I'm sorry, but I can't help with that."},
				msg{"user", "Stop refusing and just answer the question."}, msg{"assistant", "I understand, but I still can't help with that."})
		case "math":
			conv = append(conv, msg{"assistant", "Here is the solution, step by step: first we set up the equation, then we solve it, and the answer is 42."},
				msg{"user", "That's wrong, try again."}, msg{"assistant", "You are right, let me redo the calculation: the answer is 12."})
		default:
			conv = append(conv, msg{"assistant", "Sure! Here is a detailed answer with the steps to follow and an example that shows how it works in practice."})
		}
		row := map[string]any{"conversation_id": r.ConversationID, "model": r.Model, "language": r.Language, "topic": r.Topic, "conversation": conv}
		if dated {
			row["timestamp"] = r.Timestamp
		}
		require.NoError(t, enc.Encode(row))
	}
	path := filepath.Join(dir, "chats.jsonl")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

// reportDemo analyses the demo chats offline (12 clusters, 2 levels) and returns the
// directory, the database and the run; classified adds the refusal and pushback
// labels and the map.
func reportDemo(t *testing.T, dated, classified bool) (dir, db, runID string) {
	t.Helper()
	t.Setenv("OPENAI_API_KEY", "")
	dir = t.TempDir()
	db = filepath.Join(dir, "q.db")
	code, out, errOut := cli(t, "--db-path", db, "--json", "analyze", "--source", demoChats(t, dir, dated), "--n-clusters", "12",
		"--target-levels", "2", "--embedding-model", "local/lexical")
	require.Equal(t, 0, code, errOut)
	var a struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &a))
	if classified {
		code, _, errOut = cli(t, "--db-path", db, "classify", "--builtin", "refusal,pushback", "--run-id", a.RunID)
		require.Equal(t, 0, code, errOut)
		code, _, errOut = cli(t, "--db-path", db, "map", a.RunID)
		require.Equal(t, 0, code, errOut)
	}
	return dir, db, a.RunID
}

// reportJSON is what lmsys report --json prints.
type reportJSON struct {
	Output   string        `json:"output"`
	Format   string        `json:"format"`
	Bytes    int64         `json:"bytes"`
	Figures  []string      `json:"figures"`
	Sections []string      `json:"sections"`
	Report   report.Report `json:"report"`
}

func runReportCLI(t *testing.T, db string, args ...string) reportJSON {
	t.Helper()
	code, out, errOut := cli(t, append([]string{"--db-path", db, "--json", "report"}, args...)...)
	require.Equal(t, 0, code, errOut)
	var r reportJSON
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	return r
}

var shellWord = regexp.MustCompile(`'(?:[^']|'\\'')*'|\S+`)

// cliJSON runs a command line the report shows ("lmsys …", global flags left out)
// against db with --json, the picture flags' files moved to dir, and decodes its
// output into v.
func cliJSON(t *testing.T, db, dir, command string, v any) {
	t.Helper()
	words := shellWord.FindAllString(command, -1)
	require.Equal(t, "lmsys", words[0], command)
	args := []string{"--db-path", db, "--json"}
	for i, w := range words[1:] {
		if strings.HasPrefix(w, "'") {
			w = strings.ReplaceAll(strings.Trim(w, "'"), `'\''`, "'")
		}
		if i > 0 && (words[i] == "--plot" || words[i] == "--output") {
			w = filepath.Join(dir, w)
		}
		args = append(args, w)
	}
	code, out, errOut := cli(t, args...)
	require.Equal(t, 0, code, "%s: %s", command, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), v), command)
}

// asJSON round-trips v through JSON, so report values compare with decoded CLI output.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestReportFiguresEqualTheCLI(t *testing.T) {
	dir, db, runID := reportDemo(t, true, true)
	mdPath := filepath.Join(dir, "report.md")
	md := runReportCLI(t, db, runID, "--output", mdPath)
	rep := md.Report
	assert.Equal(t, []string{report.SectionHeadline, report.SectionTaxonomy, report.SectionClusters, report.SectionTrends,
		report.SectionHotSpots, report.SectionMixes, report.SectionMap}, md.Sections, "every section on the classified, dated demo set")
	assert.Empty(t, rep.Notes)

	// Each headline number is what its command prints.
	for _, n := range rep.Headline {
		switch n.Key {
		case "queries", "clusters", "assigned":
			var cl analysis.ClusterList
			cliJSON(t, db, dir, n.Command, &cl)
			noise := 0
			for _, c := range cl.Clusters {
				if c.ClusterID < 0 {
					noise += c.NumQueries
				}
			}
			want := map[string]float64{"queries": float64(cl.TotalQueries), "clusters": float64(cl.NumClusters),
				"assigned": float64(cl.TotalQueries-noise) / float64(cl.TotalQueries)}[n.Key]
			assert.Equal(t, want, n.Value, n.Key)
		case "languages", "models":
			var f struct{ Facets []analysis.Facet }
			cliJSON(t, db, dir, n.Command, &f)
			values := 0
			for _, v := range f.Facets[0].Overall {
				if v.Key != "(unknown)" {
					values++
				}
			}
			assert.Equal(t, float64(values), n.Value, n.Key)
		case "dates":
			var tr analysis.TrendReport
			cliJSON(t, db, dir, n.Command, &tr)
			var dated int64
			for _, x := range tr.Totals {
				dated += x
			}
			assert.Equal(t, float64(dated), n.Value)
			assert.Equal(t, float64(len(demo.Rows())), n.Value)
			assert.Contains(t, n.Text, tr.Periods[0]+" to "+tr.Periods[len(tr.Periods)-1])
		case "refusal", "pushback":
			var f struct{ Facets []analysis.Facet }
			cliJSON(t, db, dir, n.Command, &f)
			hot := map[string][]string{"refusal": {"refused", "partial"}, "pushback": {"objects", "corrects", "rephrases"}}[n.Key]
			var share float64
			for _, v := range f.Facets[0].Overall {
				for _, h := range hot {
					if v.Key == h {
						share += v.Share
					}
				}
			}
			assert.InDelta(t, share, n.Value, 1e-12, n.Key)
			assert.Positive(t, n.Value, "the demo chats have refusals and pushback")
		default:
			t.Errorf("headline number %q is not checked", n.Key)
		}
	}
	assert.Len(t, rep.Headline, 8)

	// The biggest clusters are list-clusters' rows.
	var cl analysis.ClusterList
	cliJSON(t, db, dir, rep.Clusters.Command, &cl)
	assert.Equal(t, asJSON(t, cl.Clusters), asJSON(t, rep.Clusters.Rows))
	assert.Equal(t, cl.TotalQueries, rep.Clusters.TotalQueries)

	// The taxonomy is show-hierarchy's.
	var tree struct {
		Total int `json:"total_queries"`
		Nodes []struct {
			ID         int    `json:"cluster_id"`
			Level      int    `json:"level"`
			Title      string `json:"title"`
			NumQueries int    `json:"num_queries"`
		} `json:"nodes"`
	}
	cliJSON(t, db, dir, rep.Taxonomy.Command, &tree)
	assert.Equal(t, tree.Total, rep.Taxonomy.TotalQueries)
	byID := map[int]int{}
	for _, n := range tree.Nodes {
		byID[n.ID] = n.NumQueries
	}
	require.NotEmpty(t, rep.Taxonomy.Categories)
	for _, c := range rep.Taxonomy.Categories {
		assert.Equal(t, byID[c.ID], c.NumQueries)
		assert.InDelta(t, float64(byID[c.ID])/float64(tree.Total), c.Share, 1e-12)
		assert.NotEmpty(t, c.Examples)
		for _, k := range c.Children {
			assert.Equal(t, byID[k.ID], k.NumQueries)
		}
	}

	// Trends and the comparison are trends' own.
	var tr analysis.TrendReport
	cliJSON(t, db, dir, rep.Trends.Command, &tr)
	assert.Equal(t, tr.Periods, rep.Trends.Periods)
	assert.Equal(t, tr.Totals, rep.Trends.Totals)
	assert.Len(t, tr.Periods, 8, "eight weeks")
	var cmp analysis.Comparison
	cliJSON(t, db, dir, rep.Trends.CompareCommand, &cmp)
	assert.Equal(t, asJSON(t, cmp), asJSON(t, rep.Trends.Comparison))
	assert.Equal(t, tr.Periods[0], cmp.A)
	assert.Equal(t, tr.Periods[7], cmp.B)

	// Hot spots are facets' over-represented rows of the hot labels.
	require.Len(t, rep.HotSpots, 2)
	for _, h := range rep.HotSpots {
		var f struct{ Facets []analysis.Facet }
		cliJSON(t, db, dir, h.Command, &f)
		var want []analysis.Lift
		for _, l := range f.Facets[0].OverRepresented {
			for _, v := range h.Values {
				if l.Value == v && len(want) < 10 {
					want = append(want, l)
				}
			}
		}
		assert.Equal(t, asJSON(t, want), asJSON(t, h.Rows), h.Facet)
		assert.NotEmpty(t, h.Rows, h.Facet)
		assert.Equal(t, asJSON(t, f.Facets[0].Overall), asJSON(t, h.Overall))
	}
	assert.Equal(t, "refused", rep.HotSpots[0].Rows[0].Value)
	assert.Greater(t, rep.HotSpots[0].Rows[0].Lift, 2.0, "the refused jailbreak attempts gather in a cluster")
	assert.Equal(t, int64(18), rep.HotSpots[0].Count, "the 18 jailbreak attempts are refused")

	// Mixes are facets' output.
	for _, m := range rep.Mixes {
		var f struct{ Facets []analysis.Facet }
		cliJSON(t, db, dir, m.Command, &f)
		assert.Equal(t, asJSON(t, f.Facets[0].Overall), asJSON(t, m.Overall), m.Field)
		assert.Equal(t, asJSON(t, f.Facets[0].OverRepresented), asJSON(t, m.OverRepresented), m.Field)
	}

	// The pictures are the ones the commands draw, byte for byte.
	require.Len(t, md.Figures, 7)
	figures := map[string]string{}
	for _, p := range md.Figures {
		figures[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "report-"), ".png")] = p
	}
	for _, fig := range []*report.Figure{rep.Trends.Chart, rep.HotSpots[0].Chart, rep.Mixes[0].Chart, rep.Map.Figure} {
		var ignored any
		cliJSON(t, db, dir, fig.Command, &ignored)
		drawn := regexp.MustCompile(`(?:--plot|--output) (\S+)`).FindStringSubmatch(fig.Command)[1]
		want, err := os.ReadFile(filepath.Join(dir, drawn))
		require.NoError(t, err)
		got, err := os.ReadFile(figures[fig.Name])
		require.NoError(t, err)
		assert.True(t, bytes.Equal(want, got), "%s differs from %s", figures[fig.Name], fig.Command)
	}

	// The Markdown holds every section and links its pictures.
	b, err := os.ReadFile(mdPath)
	require.NoError(t, err)
	doc := string(b)
	for _, h := range []string{"## The numbers that matter", "## Taxonomy", "## Biggest clusters", "## Risers and fallers",
		"## Refusal and pushback hot spots", "### refusal", "### pushback", "## Languages and models", "## Map", "![Map of the run's queries"} {
		assert.Contains(t, doc, h)
	}
	assert.Contains(t, doc, "](<report-map.png>)")
	assert.NotContains(t, "\n"+doc, "\n> ", "no absent-section note")
}

func TestReportHTMLDeterministicAndEscaped(t *testing.T) {
	dir, db, runID := reportDemo(t, true, true)
	a, b := filepath.Join(dir, "a.html"), filepath.Join(dir, "b.html")
	ra := runReportCLI(t, db, runID, "--output", a)
	runReportCLI(t, db, runID, "--output", b, "--format", "html")
	pa, err := os.ReadFile(a)
	require.NoError(t, err)
	pb, err := os.ReadFile(b)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(pa, pb), "the same store gives the same bytes")
	assert.Equal(t, ra.Bytes, int64(len(pa)))
	assert.Equal(t, "html", ra.Format)
	page := string(pa)

	// Self-contained: no script, nothing loaded.
	assert.NotContains(t, strings.ToLower(page), "<script")
	assert.NotRegexp(t, `(?i)(src|href)="(https?:|//|javascript:)`, page)
	assert.Contains(t, page, `http-equiv="Content-Security-Policy" content="default-src 'none'`)
	for _, id := range []string{"headline", "taxonomy", "clusters", "trends", "hot_spots", "mixes", "map"} {
		assert.Contains(t, page, `<section id="`+id+`">`)
	}
	assert.Equal(t, 7, strings.Count(page, `<img src="data:image/png;base64,`))
	// The demo's texts with markup appear escaped wherever they are shown.
	shown := 0
	for _, r := range demo.Rows() {
		if strings.ContainsAny(r.Text, "<>") {
			assert.NotContains(t, page, r.Text)
			if strings.Contains(page, strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(clipForTest(r.Text))) {
				shown++
			}
		}
	}
	assert.Positive(t, shown, "a demo text with markup is shown, escaped")

	// The report lists the same numbers in its text as in its JSON.
	for _, n := range ra.Report.Headline {
		assert.Contains(t, page, "<td>"+strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(n.Text)+"</td>")
	}
}

// clipForTest is the first 100 characters of s, far enough into a text to find it.
func clipForTest(s string) string {
	if r := []rune(s); len(r) > 100 {
		return string(r[:100])
	}
	return s
}

func TestReportAbsentSections(t *testing.T) {
	dir, db, runID := reportDemo(t, false, false)
	out := filepath.Join(dir, "plain.md")
	r := runReportCLI(t, db, runID, "--output", out)
	assert.Equal(t, []string{report.SectionHeadline, report.SectionTaxonomy, report.SectionClusters, report.SectionMixes}, r.Sections)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	doc := string(b)
	sections := map[string]bool{}
	for _, n := range r.Report.Notes {
		sections[n.Section] = true
		assert.Contains(t, doc, "> "+n.Text[:20], "the note is in the file")
	}
	assert.Equal(t, map[string]bool{report.SectionTrends: true, report.SectionHotSpots: true, report.SectionMap: true}, sections)
	assert.Contains(t, doc, "No query of the run has a timestamp")
	assert.Contains(t, doc, "`lmsys classify --builtin refusal --run-id "+runID+"`")
	assert.Contains(t, doc, "`lmsys map "+runID+"`")

	code, text, errOut := cli(t, "--db-path", db, "report", runID, "--output", filepath.Join(dir, "plain.html"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, text, "Report of run "+runID+" written to ")
	assert.Contains(t, text, "Note (map): The run has no stored map. Run: lmsys map "+runID)

	// A run never summarised nor merged says so too.
	path, bare := demoRun(t)
	r = runReportCLI(t, path, bare, "--output", filepath.Join(t.TempDir(), "bare.html"))
	notes := map[string]string{}
	for _, n := range r.Report.Notes {
		notes[n.Section] = n.Command
	}
	assert.Equal(t, "lmsys summarize "+bare, notes[report.SectionClusters])
	assert.Equal(t, "lmsys merge-clusters "+bare, notes[report.SectionTaxonomy])
}

func TestReportErrors(t *testing.T) {
	path, runID := demoRun(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r.html")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown run", []string{"report", "no-such-run", "--output", out}, 1, "no-such-run"},
		{"unknown hierarchy", []string{"report", runID, "--output", out, "--hierarchy-id", "nope"}, 1, "nope"},
		{"unknown summary run", []string{"report", runID, "--output", out, "--summary-run-id", "nope"}, 1, "nope"},
		{"no output", []string{"report", runID}, 2, "output"},
		{"unknown extension", []string{"report", runID, "--output", filepath.Join(dir, "r.txt")}, 2, "--format"},
		{"unknown format", []string{"report", runID, "--output", out, "--format", "pdf"}, 2, "pdf"},
		{"top", []string{"report", runID, "--output", out, "--top", "0"}, 2, "--top"},
		{"one period", []string{"report", runID, "--output", out, "--compare", "2026-W02"}, 2, "two periods"},
		{"bad period", []string{"report", runID, "--output", out, "--period", "year"}, 1, "year"},
		{"missing directory", []string{"report", runID, "--output", filepath.Join(dir, "no", "r.html")}, 1, "no"},
		{"no run id", []string{"report", "--output", out}, 2, "arg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"--db-path", path}, tc.args...)...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.want)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "a failed report leaves no file, whole or partial")

	// A rename that fails (the output is a directory) leaves the directory and no
	// temporary file.
	blocked := filepath.Join(dir, "blocked.html")
	require.NoError(t, os.MkdirAll(filepath.Join(blocked, "x"), 0o755))
	code, _, errOut := cli(t, "--db-path", path, "report", runID, "--output", blocked)
	assert.Equal(t, 1, code, errOut)
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "blocked.html", entries[0].Name())

	// A report over an old one replaces it whole.
	require.NoError(t, os.WriteFile(out, []byte("old"), 0o644))
	code, _, errOut = cli(t, "--db-path", path, "report", runID, "--output", out)
	require.Equal(t, 0, code, errOut)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "<!DOCTYPE html>"))
}
