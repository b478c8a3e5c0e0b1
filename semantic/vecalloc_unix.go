//go:build unix

package semantic

import (
	"syscall"
	"unsafe"
)

// mapSlice returns n zeroed elements in anonymous memory mapped from the OS,
// outside the Go heap, and the mapping; ok is false when the mapping fails (the
// caller then uses the heap). The garbage collector paces itself on the heap it
// manages: a collection's 2 GB of pointer-free vectors inside it would let another
// 2 GB of garbage accumulate before a collection. Pages of the mapping that are
// never written cost no memory.
func mapSlice[T float32 | uint32](n int) (v []T, m *vecMapping, ok bool) {
	var zero T
	b, err := syscall.Mmap(-1, 0, int(unsafe.Sizeof(zero))*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, false
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n), &vecMapping{b: b}, true
}

// unmap returns a mapping's memory to the OS.
func unmap(b []byte) { _ = syscall.Munmap(b) }
