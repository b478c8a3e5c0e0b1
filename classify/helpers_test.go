package classify_test

import (
	"os"
	"time"
)

var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }
