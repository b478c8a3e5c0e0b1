package semantic

import (
	"syscall"
	"unsafe"
)

// remapSlice grows the mapping m, which v lives in, to n elements with mremap: the
// kernel moves page tables instead of copying, so the old and new storage are never
// both resident. It returns false when the kernel refuses (the caller copies).
func remapSlice[T float32 | uint32](v []T, m *vecMapping, n int) ([]T, bool) {
	var zero T
	size := int(unsafe.Sizeof(zero)) * n
	const mremapMayMove = 1
	r, _, errno := syscall.Syscall6(syscall.SYS_MREMAP, uintptr(unsafe.Pointer(&m.b[0])), uintptr(len(m.b)), uintptr(size), mremapMayMove, 0, 0)
	if errno != 0 {
		return nil, false
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&r))
	m.b = unsafe.Slice((*byte)(p), size)
	return unsafe.Slice((*T)(p), n)[:len(v)], true
}
