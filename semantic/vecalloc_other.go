//go:build !unix

package semantic

// mapSlice reports that this platform has no anonymous mappings; vectors and links
// stay on the Go heap.
func mapSlice[T float32 | uint32](n int) (v []T, m *vecMapping, ok bool) { return nil, nil, false }

func unmap(b []byte) {}
