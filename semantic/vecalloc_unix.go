//go:build unix

package semantic

import (
	"syscall"
	"unsafe"
)

// mapFloats returns n zeroed float32s in anonymous memory mapped from the OS,
// outside the Go heap, and the function that unmaps it; ok is false when the
// mapping fails (the caller then uses the heap). The garbage collector paces
// itself on the heap it manages: a collection's 2 GB of pointer-free vectors
// inside it would let another 2 GB of garbage accumulate before a collection.
// Pages of the mapping that are never written cost no memory.
func mapFloats(n int) (v []float32, free func(), ok bool) {
	b, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n), func() { _ = syscall.Munmap(b) }, true
}
