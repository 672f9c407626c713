//go:build !purego

#include "textflag.h"

// func weighRows16(d *uint8, n int, src *uint8, stride int, w *int32, taps int)
//
// Sixteen samples at a time: two source rows' bytes are interleaved and
// widened to 16-bit pairs (a, b), and PMADDWL multiplies them by the
// pair of weights (wa, wb) and adds the two, four sums to a register.
// A last row alone is paired with itself, its second weight zero.
TEXT ·weighRows16(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ stride+24(FP), DX
	MOVQ w+32(FP), R8
	MOVQ taps+40(FP), R9
	PXOR X7, X7          // zero, to widen bytes
	MOVL $8192, AX       // ½ of 1<<14: rounding
	MOVQ AX, X6
	PSHUFL $0, X6, X6
	XORQ BX, BX          // the sample the block starts at

block:
	PXOR X0, X0          // sums of samples 0-3
	PXOR X1, X1          // 4-7
	PXOR X2, X2          // 8-11
	PXOR X3, X3          // 12-15
	LEAQ (SI)(BX*1), R10 // row a's sixteen
	MOVQ R8, R11         // the next pair of weights
	MOVQ R9, R12         // rows left

pair:
	CMPQ R12, $2
	JLT  single
	MOVOU (R10), X8
	MOVOU (R10)(DX*1), X9
	MOVOU X8, X10
	PUNPCKLBW X9, X8     // a0 b0 a1 b1 … a7 b7
	PUNPCKHBW X9, X10    // a8 b8 … a15 b15
	MOVSS (R11), X11
	PSHUFL $0, X11, X11  // wa wb, four times
	MOVOU X8, X12
	PUNPCKLBW X7, X8     // (a0 b0) … (a3 b3) as 16-bit words
	PUNPCKHBW X7, X12    // (a4 b4) … (a7 b7)
	MOVOU X10, X13
	PUNPCKLBW X7, X10    // (a8 b8) … (a11 b11)
	PUNPCKHBW X7, X13    // (a12 b12) … (a15 b15)
	PMADDWL X11, X8
	PMADDWL X11, X12
	PMADDWL X11, X10
	PMADDWL X11, X13
	PADDL X8, X0
	PADDL X12, X1
	PADDL X10, X2
	PADDL X13, X3
	LEAQ (R10)(DX*2), R10
	ADDQ $4, R11
	SUBQ $2, R12
	JMP  pair

single:
	TESTQ R12, R12
	JZ    store
	MOVOU (R10), X8
	MOVOU X8, X10
	PUNPCKLBW X8, X8     // a0 a0 a1 a1 … a7 a7
	PUNPCKHBW X10, X10   // a8 a8 … a15 a15
	MOVSS (R11), X11
	PSHUFL $0, X11, X11  // w 0, four times
	MOVOU X8, X12
	PUNPCKLBW X7, X8
	PUNPCKHBW X7, X12
	MOVOU X10, X13
	PUNPCKLBW X7, X10
	PUNPCKHBW X7, X13
	PMADDWL X11, X8
	PMADDWL X11, X12
	PMADDWL X11, X10
	PMADDWL X11, X13
	PADDL X8, X0
	PADDL X12, X1
	PADDL X10, X2
	PADDL X13, X3

store:
	PADDL X6, X0
	PADDL X6, X1
	PADDL X6, X2
	PADDL X6, X3
	PSRAL $14, X0
	PSRAL $14, X1
	PSRAL $14, X2
	PSRAL $14, X3
	PACKSSLW X1, X0      // samples 0-7, 16 bits, saturated
	PACKSSLW X3, X2      // 8-15
	PACKUSWB X2, X0      // all sixteen clamped to 0-255
	MOVOU X0, (DI)(BX*1)
	ADDQ $16, BX
	CMPQ BX, CX
	JLT  block
	RET
