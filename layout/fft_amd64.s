//go:build !purego

#include "textflag.h"

// func butterflyAVX512(top, bot *complex128, n int, wr, wi float64)
// For four complex values a step: u = w·bot, top, bot = top + u, top − u, with
// w·b = (wr·br − wi·bi, wr·bi + wi·br) rounded as Go rounds complex128 products
// (no fused multiply-add), n a multiple of 4.
TEXT ·butterflyAVX512(SB), NOSPLIT, $0-40
	MOVQ top+0(FP), SI
	MOVQ bot+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSD wr+24(FP), Z8
	VBROADCASTSD wi+32(FP), Z9
	MOVQ $0x8000000000000000, AX
	VPBROADCASTQ AX, Z11
	MOVQ $0x55, AX
	KMOVW AX, K1
	VMOVAPD Z9, Z10
	VXORPD Z11, Z9, K1, Z10 // (−wi, wi, −wi, wi …)

loop:
	CMPQ CX, $4
	JL   done
	VMOVUPD (DI), Z0          // b = (br, bi …)
	VMOVUPD (SI), Z1          // t
	VPERMILPD $0x55, Z0, Z2   // (bi, br …)
	VMULPD  Z8, Z0, Z3        // (wr·br, wr·bi)
	VMULPD  Z10, Z2, Z4       // (−wi·bi, wi·br)
	VADDPD  Z4, Z3, Z3        // u
	VADDPD  Z3, Z1, Z5
	VSUBPD  Z3, Z1, Z6
	VMOVUPD Z5, (SI)
	VMOVUPD Z6, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $4, CX
	JMP     loop

done:
	VZEROUPPER
	RET
