package report

import (
	"bufio"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/lmsys-go/lmsys/analysis"
)

//go:embed page.html.tmpl
var htmlSource string

// sectionNames are the headings of the sections.
var sectionNames = map[string]string{
	SectionFindings: "Findings",
	SectionHeadline: "Numbers",
	SectionTaxonomy: "Taxonomy",
	SectionClusters: "Biggest clusters",
	SectionTrends:   "Risers and fallers",
	SectionHotSpots: "Hot spots",
	SectionMixes:    "Languages and models",
	SectionMap:      "Map",
}

// changeList is one list of a comparison with its heading.
type changeList struct {
	Name    string
	Changes []analysis.Change
}

// changeLists returns the four lists of a comparison with their headings.
func changeLists(c *analysis.Comparison) []changeList {
	return []changeList{{"Risers", c.Risers}, {"Fallers", c.Fallers}, {"New", c.New}, {"Vanished", c.Vanished}}
}

// baseFuncs are the template functions that do not depend on the report.
var baseFuncs = template.FuncMap{
	"clip":  clip,
	"count": func(n any) string { return countAny(n) },
	"pct":   percent,
	"f1":    func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"f2":    func(x float64) string { return fmt.Sprintf("%.2f", x) },
	"g2":    func(x float64) string { return fmt.Sprintf("%.2g", x) },
	"inc":   func(i int) int { return i + 1 },
	"quote": shellQuote,
	"join":  strings.Join,
	"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"barWidth": func(share float64) int {
		if math.IsNaN(share) || share < 0 {
			return 0
		}
		return int(math.Round(120 * min(share, 1)))
	},
	"paragraphs": paragraphs,
	"dataURI": func(f *Figure) template.URL {
		// A base64 PNG: letters, digits, '+', '/' and '=' only.
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))
	},
	"changeLists": changeLists,
	// Bound to the report when it renders.
	"notes":        func(string) []Note { return nil },
	"sections":     func() []struct{ ID, Name string } { return nil },
	"clusterShown": func(int) bool { return false },
	"clusterTitle": func(int) string { return "" },
}

var htmlTemplate = template.Must(template.New("report").Funcs(baseFuncs).Parse(htmlSource))

// countAny formats an int or int64 with thousands separators.
func countAny(n any) string {
	switch v := n.(type) {
	case int:
		return count(v)
	case int64:
		return count(v)
	}
	return fmt.Sprint(n)
}

// paragraphs splits text at blank lines into cleaned paragraphs.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = clean(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// reportFuncs binds the template functions that read the report.
func (r *Report) reportFuncs() template.FuncMap {
	shown := map[int]bool{}
	if r.Clusters != nil {
		for _, c := range r.Clusters.Rows {
			shown[c.ClusterID] = true
		}
	}
	return template.FuncMap{
		"notes": r.NotesOf,
		"sections": func() []struct{ ID, Name string } {
			var out []struct{ ID, Name string }
			for _, s := range sectionOrder {
				if s == SectionFindings && len(r.Findings) == 0 {
					continue
				}
				out = append(out, struct{ ID, Name string }{s, sectionNames[s]})
			}
			return out
		},
		"clusterShown": func(c int) bool { return shown[c] },
		"clusterTitle": r.clusterTitle,
	}
}

// clusterTitle returns the title of a cluster the report lists or a finding cites,
// or "".
func (r *Report) clusterTitle(c int) string {
	if t, ok := r.CitedTitles[c]; ok {
		return t
	}
	if r.Clusters != nil {
		for _, row := range r.Clusters.Rows {
			if row.ClusterID == c {
				return row.Title
			}
		}
	}
	return ""
}

// HTML writes the report as one self-contained HTML page: inline styles, pictures as
// PNG data URIs, no script, and a Content-Security-Policy that forbids loading
// anything. Every piece of user text is escaped by html/template.
func (r *Report) HTML(w io.Writer) error {
	t, err := htmlTemplate.Clone()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if err := t.Funcs(r.reportFuncs()).Execute(bw, r); err != nil {
		return fmt.Errorf("report: render HTML: %w", err)
	}
	return bw.Flush()
}
