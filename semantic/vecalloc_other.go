//go:build !unix

package semantic

// mapFloats reports that this platform has no anonymous mappings; vectors stay on
// the Go heap.
func mapFloats(n int) (v []float32, free func(), ok bool) { return nil, nil, false }
