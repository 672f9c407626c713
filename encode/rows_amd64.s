//go:build !purego

#include "textflag.h"

// WEIGH widens the interleaved bytes of X8 (samples 0-7) and X10 (8-15)
// to 16-bit pairs, multiplies each pair by the pair of weights at R11 and
// adds the products to the sums X0-X3. X11-X13 are scratch.
#define WEIGH \
	MOVSS (R11), X11; PSHUFL $0, X11, X11; \
	MOVOU X8, X12; PUNPCKLBW X7, X8; PUNPCKHBW X7, X12; \
	MOVOU X10, X13; PUNPCKLBW X7, X10; PUNPCKHBW X7, X13; \
	PMADDWL X11, X8; PMADDWL X11, X12; PMADDWL X11, X10; PMADDWL X11, X13; \
	PADDL X8, X0; PADDL X12, X1; PADDL X10, X2; PADDL X13, X3

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
	WEIGH
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
	WEIGH

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

// func acrossRows4Vector(dst *uint8, w int, src *uint8, stride int, tx *taps)
//
// For each output, eight source pixels of each of the four rows at a
// time: widened to 16 bits and weighed by PMADDWL against eight weights,
// four sums to a row; the four rows' sums are then added across in one
// register, rounded, shifted and clamped, and the four bytes written one
// to a row. A tap is 88 bytes: at8 at 56, w8's pointer and length at 64
// and 72.
TEXT ·acrossRows4Vector(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ w+8(FP), CX
	MOVQ src+16(FP), SI
	MOVQ stride+24(FP), DX
	MOVQ tx+32(FP), R8
	PXOR X7, X7
	MOVL $8192, AX
	MOVQ AX, X6
	PSHUFL $0, X6, X6
	LEAQ (DX)(DX*2), R13 // the fourth source row
	LEAQ (CX)(CX*2), R14 // the fourth output row
	XORQ BX, BX          // the output

output:
	MOVQ 56(R8), R9
	MOVQ 64(R8), R10
	MOVQ 72(R8), R11
	ADDQ SI, R9
	PXOR X0, X0
	PXOR X1, X1
	PXOR X2, X2
	PXOR X3, X3

eight:
	MOVOU (R10), X8
	MOVQ (R9), X4
	PUNPCKLBW X7, X4
	PMADDWL X8, X4
	PADDL X4, X0
	MOVQ (R9)(DX*1), X4
	PUNPCKLBW X7, X4
	PMADDWL X8, X4
	PADDL X4, X1
	MOVQ (R9)(DX*2), X4
	PUNPCKLBW X7, X4
	PMADDWL X8, X4
	PADDL X4, X2
	MOVQ (R9)(R13*1), X4
	PUNPCKLBW X7, X4
	PMADDWL X8, X4
	PADDL X4, X3
	ADDQ $8, R9
	ADDQ $16, R10
	SUBQ $8, R11
	JNZ  eight

	// Each row's four partial sums, added across: (a b c d) per row to
	// one register of the four rows' totals.
	MOVO X0, X4
	PUNPCKLLQ X1, X4
	PUNPCKHLQ X1, X0
	PADDL X4, X0         // a0+a2 b0+b2 a1+a3 b1+b3
	MOVO X2, X5
	PUNPCKLLQ X3, X5
	PUNPCKHLQ X3, X2
	PADDL X5, X2         // the same of rows 2 and 3
	MOVO X0, X4
	PUNPCKLQDQ X2, X4
	PUNPCKHQDQ X2, X0
	PADDL X4, X0         // rows 0-3
	PADDL X6, X0
	PSRAL $14, X0
	PACKSSLW X0, X0
	PACKUSWB X0, X0
	MOVQ X0, AX
	LEAQ (DI)(BX*1), R12
	MOVB AX, (R12)
	SHRQ $8, AX
	MOVB AX, (R12)(CX*1)
	SHRQ $8, AX
	MOVB AX, (R12)(CX*2)
	SHRQ $8, AX
	MOVB AX, (R12)(R14*1)
	ADDQ $88, R8
	INCQ BX
	CMPQ BX, CX
	JLT  output
	RET
