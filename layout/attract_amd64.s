//go:build !purego

#include "textflag.h"

// func attractAVX512(y *float32, cols *int32, vals *float32, n int, xi, yi float32) (ax, ay float32)
// Lane l of Z0 (x) and Z1 (y) sums the edges t ≡ l (mod 16), as attractGo does, and
// the lanes are folded in reduceLanes' order; no product is fused, so the bits are
// attractGo's.
TEXT ·attractAVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), SI
	MOVQ cols+8(FP), DI
	MOVQ vals+16(FP), BX
	MOVQ n+24(FP), CX
	VBROADCASTSS xi+32(FP), Z8
	VBROADCASTSS yi+36(FP), Z9
	MOVL $0x3F800000, AX
	VPBROADCASTD AX, Z10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1

loop:
	CMPQ CX, $16
	JL   tail
	VMOVDQU32 (DI), Z2
	VPADDD  Z2, Z2, Z2     // 2j: the points are (x, y) pairs
	KXNORW  K1, K1, K1
	VGATHERDPS (SI)(Z2*4), K1, Z4
	KXNORW  K1, K1, K1
	VGATHERDPS 4(SI)(Z2*4), K1, Z5
	VMOVUPS (BX), Z6
	VSUBPS  Z4, Z8, Z4     // dx = xi − x_j
	VSUBPS  Z5, Z9, Z5     // dy = yi − y_j
	VMULPS  Z4, Z4, Z11
	VMULPS  Z5, Z5, Z12
	VADDPS  Z12, Z11, Z11
	VADDPS  Z10, Z11, Z11  // 1 + (dx² + dy²)
	VDIVPS  Z11, Z6, Z6    // q = p / (1 + d²)
	VMULPS  Z6, Z4, Z4
	VMULPS  Z6, Z5, Z5
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	ADDQ    $64, DI
	ADDQ    $64, BX
	SUBQ    $16, CX
	JMP     loop

tail:
	TESTQ CX, CX
	JZ    reduce
	MOVQ  $1, AX
	SHLQ  CX, AX
	DECQ  AX
	KMOVW AX, K2           // the n mod 16 edges left
	VMOVDQU32.Z (DI), K2, Z2
	VPADDD Z2, Z2, Z2
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	KMOVW  K2, K1
	VGATHERDPS (SI)(Z2*4), K1, Z4
	KMOVW  K2, K1
	VGATHERDPS 4(SI)(Z2*4), K1, Z5
	VMOVUPS.Z (BX), K2, Z6 // the lanes past the row have p = 0, so they add (±)0
	VSUBPS  Z4, Z8, Z4
	VSUBPS  Z5, Z9, Z5
	VMULPS  Z4, Z4, Z11
	VMULPS  Z5, Z5, Z12
	VADDPS  Z12, Z11, Z11
	VADDPS  Z10, Z11, Z11
	VDIVPS  Z11, Z6, Z6
	VMULPS  Z6, Z4, Z4
	VMULPS  Z6, Z5, Z5
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1

reduce:
	// Halves, quarters, pairs, then the last two: reduceLanes' order.
	VEXTRACTF32X8 $1, Z0, Y2
	VADDPS    Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X2
	VADDPS    X2, X0, X0
	VMOVHLPS  X0, X0, X2
	VADDPS    X2, X0, X0
	VMOVSHDUP X0, X2
	VADDSS    X2, X0, X0
	VEXTRACTF32X8 $1, Z1, Y3
	VADDPS    Y3, Y1, Y1
	VEXTRACTF128 $1, Y1, X3
	VADDPS    X3, X1, X1
	VMOVHLPS  X1, X1, X3
	VADDPS    X3, X1, X1
	VMOVSHDUP X1, X3
	VADDSS    X3, X1, X1
	VZEROUPPER
	MOVSS X0, ax+40(FP)
	MOVSS X1, ay+44(FP)
	RET
