//go:build !unix

package clustering

// allocHalves returns n zeroed half floats from the Go heap and a function that does
// nothing (the garbage collector frees them).
func allocHalves(n int) ([]uint16, func()) { return make([]uint16, n), func() {} }
