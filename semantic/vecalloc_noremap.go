//go:build !linux

package semantic

// remapSlice reports that mappings cannot grow in place here: the caller copies.
func remapSlice[T float32 | uint32](v []T, m *vecMapping, n int) ([]T, bool) { return nil, false }
