//go:build !amd64 || purego

package vec

// qKernelsCPU returns no assembly kernels off amd64 and with the purego tag: the
// portable 8-bit kernel runs.
func qKernelsCPU() []QKernel { return nil }
