// Package openblas is uselite's binding to OpenBLAS's single-precision matrix multiply
// (Debian: apt-get install libopenblas-dev). Its code is compiled only with the
// openblas build tag (and cgo); without it the package is empty and links nothing. It
// lives apart from uselite because a cgo package cannot also hold Go assembly.
package openblas
