package layout

import (
	"fmt"
	"io"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one line of a line chart: a value per x position.
type Series struct {
	Name   string
	Values []float64
}

// DrawLines renders series over the x labels (periods, say) as a line chart with a
// legend: the chart of `lmsys trends --plot`.
func DrawLines(w io.Writer, xLabels []string, series []Series, yLabel string, pic Picture) error {
	p := plot.New()
	p.Title.Text = pic.Title
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	for i, s := range series {
		if len(s.Values) != len(xLabels) {
			return fmt.Errorf("layout: series %q has %d values for %d x labels", s.Name, len(s.Values), len(xLabels))
		}
		xys := make(plotter.XYs, len(s.Values))
		for j, v := range s.Values {
			xys[j] = plotter.XY{X: float64(j), Y: v}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return fmt.Errorf("layout: line %q: %w", s.Name, err)
		}
		l.Color = Colour(i, len(series))
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(clip(s.Name, 40), l)
	}
	p.NominalX(xLabels...)
	return render(w, p, pic)
}

// DrawBars renders one bar per label (the values of a facet, say): the chart of
// `lmsys facets --plot`.
func DrawBars(w io.Writer, labels []string, values []float64, yLabel string, pic Picture) error {
	if len(labels) != len(values) {
		return fmt.Errorf("layout: %d bar labels for %d values", len(labels), len(values))
	}
	p := plot.New()
	p.Title.Text = pic.Title
	p.Y.Label.Text = yLabel
	bars, err := plotter.NewBarChart(plotter.Values(values), vg.Points(18))
	if err != nil {
		return fmt.Errorf("layout: bars: %w", err)
	}
	bars.Color = Colour(0, 1)
	bars.LineStyle.Width = 0
	p.Add(bars)
	short := make([]string, len(labels))
	for i, l := range labels {
		short[i] = clip(l, 18)
	}
	p.NominalX(short...)
	return render(w, p, pic)
}

func render(w io.Writer, p *plot.Plot, pic Picture) error {
	if pic.Width <= 0 {
		pic.Width = 1200
	}
	if pic.Height <= 0 {
		pic.Height = 700
	}
	format, err := pictureFormat(pic.Format)
	if err != nil {
		return err
	}
	wt, err := p.WriterTo(vg.Length(pic.Width)*vg.Inch/96, vg.Length(pic.Height)*vg.Inch/96, format)
	if err != nil {
		return fmt.Errorf("layout: render %s: %w", format, err)
	}
	_, err = wt.WriteTo(w)
	return err
}

// pictureFormat returns the lower-cased format, png or svg, or an error naming it.
func pictureFormat(f string) (string, error) {
	f = strings.ToLower(f)
	if f != "png" && f != "svg" {
		return "", fmt.Errorf("layout: picture format %q: want png or svg", f)
	}
	return f, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
