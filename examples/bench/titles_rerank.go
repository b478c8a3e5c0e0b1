package main

import (
	"github.com/lmsys-go/lmsys"
	"github.com/lmsys-go/lmsys/summarize"
)

// setRerank gives the offline summarizer the run's embedder to re-rank its phrases.
func setRerank(o *summarize.Offline, e lmsys.Embedder) { o.Embedder = e }
