//go:build !amd64 || purego

package layout

// hasAVX512 is false off amd64 and with the purego tag: the portable kernels run.
const hasAVX512 = false

// attractVector is attractGo where there is no vector kernel.
var attractVector = attractGo
