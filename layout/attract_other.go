//go:build !amd64 || purego

package layout

// hasAttractAVX512 is false off amd64 and with the purego tag: attractGo runs.
const hasAttractAVX512 = false

// attractVector is attractGo where there is no vector kernel.
var attractVector = attractGo
