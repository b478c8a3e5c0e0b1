package layout

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Picture says how Draw renders a map.
type Picture struct {
	// Format is "png" or "svg".
	Format string
	// Width and Height in pixels (1200 × 900 when 0).
	Width, Height int
	// Title is drawn above the map.
	Title string
	// Names label the groups at their centroids (the largest MaxLabels groups).
	Names     map[int]string
	MaxLabels int
}

// Draw renders points coloured by group (a cluster, or a hierarchy parent) to w: one
// colour per group, the largest groups' names at their centroids.
func Draw(w io.Writer, points []Point, groups []int, pic Picture) error {
	if len(points) != len(groups) {
		return fmt.Errorf("layout: %d points but %d groups", len(points), len(groups))
	}
	if pic.Width <= 0 {
		pic.Width = 1200
	}
	if pic.Height <= 0 {
		pic.Height = 900
	}
	if pic.MaxLabels <= 0 {
		pic.MaxLabels = 20
	}
	if _, err := pictureFormat(pic.Format); err != nil {
		return err // before drawing anything
	}
	byGroup := map[int]plotter.XYs{}
	for i, p := range points {
		byGroup[groups[i]] = append(byGroup[groups[i]], plotter.XY{X: float64(p.X), Y: float64(p.Y)})
	}
	ids := make([]int, 0, len(byGroup))
	for g := range byGroup {
		ids = append(ids, g)
	}
	// Largest first; the colours follow that order, so the big groups get the most
	// distinct hues.
	sort.Slice(ids, func(a, b int) bool {
		if len(byGroup[ids[a]]) != len(byGroup[ids[b]]) {
			return len(byGroup[ids[a]]) > len(byGroup[ids[b]])
		}
		return ids[a] < ids[b]
	})
	p := plot.New()
	p.Title.Text = pic.Title
	p.HideAxes()
	var labels plotter.XYLabels
	for rank, g := range ids {
		s, err := plotter.NewScatter(byGroup[g])
		if err != nil {
			return fmt.Errorf("layout: draw group %d: %w", g, err)
		}
		s.GlyphStyle.Color = Colour(rank, len(ids))
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = vg.Points(1.2)
		if g < 0 {
			s.GlyphStyle.Color = color.RGBA{R: 180, G: 180, B: 180, A: 255} // noise
		}
		p.Add(s)
		if name := pic.Names[g]; name != "" && rank < pic.MaxLabels {
			var cx, cy float64
			for _, xy := range byGroup[g] {
				cx += xy.X
				cy += xy.Y
			}
			n := float64(len(byGroup[g]))
			labels.XYs = append(labels.XYs, plotter.XY{X: cx / n, Y: cy / n})
			labels.Labels = append(labels.Labels, name)
		}
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return fmt.Errorf("layout: draw names: %w", err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(9)
			l.TextStyle[i].XAlign = -0.5
		}
		p.Add(l)
	}
	return render(w, p, pic)
}

// Colour returns the colour of the i-th of n groups: hues spread around the wheel,
// alternating in lightness so neighbouring ranks differ.
func Colour(i, n int) color.RGBA {
	h := math.Mod(float64(i)*0.618033988749895, 1)
	l := 0.45
	if i%2 == 1 {
		l = 0.6
	}
	return hsl(h, 0.7, l)
}

func hsl(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h*6, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch int(h * 6) {
	case 0:
		r, g = c, x
	case 1:
		r, g = x, c
	case 2:
		g, b = c, x
	case 3:
		g, b = x, c
	case 4:
		r, b = x, c
	default:
		r, b = c, x
	}
	return color.RGBA{R: uint8(255 * (r + m)), G: uint8(255 * (g + m)), B: uint8(255 * (b + m)), A: 255}
}
