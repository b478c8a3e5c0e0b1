package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/layout"
)

// pictureFormat returns the format of a picture file from its extension.
func pictureFormat(path string) (string, error) {
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if ext != "png" && ext != "svg" {
		return "", usagef("--plot %s: the picture must be a .png or .svg file", path)
	}
	return ext, nil
}

// writePicture creates path and draws into it; a failed drawing leaves no file.
func writePicture(path string, draw func(f *os.File) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = draw(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// plotTrends draws the share per period of the top clusters (by size).
func plotTrends(path string, rep analysis.TrendReport, top int) error {
	format, err := pictureFormat(path)
	if err != nil {
		return err
	}
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
	return writePicture(path, func(f *os.File) error {
		return layout.DrawLines(f, rep.Periods, series, "% of the period's queries", layout.Picture{Format: format,
			Title: fmt.Sprintf("Run %s: share of the %d largest clusters per %s", rep.RunID, len(series), rep.Period)})
	})
}

// plotFacets draws each facet's overall distribution as bars.
func plotFacets(path, runID string, fs []analysis.Facet) error {
	format, err := pictureFormat(path)
	if err != nil {
		return err
	}
	for _, f := range fs {
		out := path
		if len(fs) > 1 {
			out = strings.TrimSuffix(path, filepath.Ext(path)) + "-" + f.Field + filepath.Ext(path)
		}
		labels := make([]string, len(f.Overall))
		values := make([]float64, len(f.Overall))
		for i, v := range f.Overall {
			labels[i], values[i] = v.Key, 100*v.Share
		}
		err := writePicture(out, func(file *os.File) error {
			return layout.DrawBars(file, labels, values, "% of the run's queries", layout.Picture{Format: format,
				Title: fmt.Sprintf("Run %s by %s (%d queries)", runID, f.Field, f.Total)})
		})
		if err != nil {
			return err
		}
	}
	return nil
}
