//go:build unix

package clustering

import (
	"syscall"
	"unsafe"
)

// allocHalves returns n zeroed half floats in anonymous memory mapped from the OS,
// outside the Go heap, and the function that unmaps it. The garbage collector paces
// itself on the heap it manages: a gigabyte matrix inside it would let the garbage of
// the first pass (the store's row buffers) grow to another gigabyte before a
// collection. It falls back to the heap when the mapping fails.
func allocHalves(n int) ([]uint16, func()) {
	b, err := syscall.Mmap(-1, 0, 2*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil || n == 0 {
		return make([]uint16, n), func() {}
	}
	return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n), func() { _ = syscall.Munmap(b) }
}
