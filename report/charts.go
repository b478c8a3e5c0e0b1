package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/layout"
)

// DrawTrends draws the share per period of the top largest clusters of rep (10 when
// top ≤ 0) as lines, in format "png" or "svg": the chart of `lmsys trends --plot`.
func DrawTrends(w io.Writer, rep analysis.TrendReport, top int, format string) error {
	if top <= 0 {
		top = 10
	}
	var series []layout.Series
	for _, c := range rep.Clusters[:min(top, len(rep.Clusters))] {
		s := layout.Series{Name: fmt.Sprintf("%d %s", c.ClusterID, c.Title), Values: make([]float64, len(c.Periods))}
		for i, p := range c.Periods {
			s.Values[i] = 100 * p.Share
		}
		series = append(series, s)
	}
	return layout.DrawLines(w, rep.Periods, series, "% of the period's queries", layout.Picture{Format: format,
		Title: fmt.Sprintf("Run %s: share of the %d largest clusters per %s", rep.RunID, len(series), rep.Period)})
}

// DrawFacet draws a facet's overall shares as bars, in format "png" or "svg": the
// chart of `lmsys facets --plot`.
func DrawFacet(w io.Writer, runID string, f analysis.Facet, format string) error {
	labels := make([]string, len(f.Overall))
	values := make([]float64, len(f.Overall))
	for i, v := range f.Overall {
		labels[i], values[i] = v.Key, 100*v.Share
	}
	return layout.DrawBars(w, labels, values, "% of the run's queries", layout.Picture{Format: format,
		Title: fmt.Sprintf("Run %s by %s (%d queries)", runID, f.Field, f.Total)})
}

// DrawClusters draws the shares of the clusters of cl (the largest first, as listed)
// as bars, in format "png" or "svg".
func DrawClusters(w io.Writer, cl analysis.ClusterList, format string) error {
	labels := make([]string, len(cl.Clusters))
	values := make([]float64, len(cl.Clusters))
	for i, c := range cl.Clusters {
		labels[i], values[i] = fmt.Sprint(c.ClusterID), 100*c.Share
		if c.Title != "" {
			labels[i] += " " + c.Title
		}
	}
	return layout.DrawBars(w, labels, values, "% of the run's queries", layout.Picture{Format: format,
		Title: fmt.Sprintf("Run %s: the %d largest of %d clusters", cl.RunID, len(cl.Clusters), cl.NumClusters)})
}

// drawPNG renders draw into a PNG figure.
func drawPNG(name, title, command string, draw func(w io.Writer) error) (*Figure, error) {
	var buf bytes.Buffer
	if err := draw(&buf); err != nil {
		return nil, fmt.Errorf("report: draw %s: %w", name, err)
	}
	return &Figure{Name: name, Title: title, Command: command, PNG: buf.Bytes()}, nil
}
