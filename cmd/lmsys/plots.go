package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/lmsys-go/lmsys/analysis"
	"github.com/lmsys-go/lmsys/report"
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
	return writePicture(path, func(f *os.File) error { return report.DrawTrends(f, rep, top, format) })
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
		if err := writePicture(out, func(file *os.File) error { return report.DrawFacet(file, runID, f, format) }); err != nil {
			return err
		}
	}
	return nil
}
