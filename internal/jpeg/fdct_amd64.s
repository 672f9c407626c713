//go:build !purego

#include "textflag.h"
#include "transpose_amd64.h"

DATA fdctConsts<>+0(SB)/4, $0x3f3504f3  // fdctA, cos(π/4), as float32
DATA fdctConsts<>+4(SB)/4, $0x3f3504f3
DATA fdctConsts<>+8(SB)/4, $0x3f3504f3
DATA fdctConsts<>+12(SB)/4, $0x3f3504f3
DATA fdctConsts<>+16(SB)/4, $0x3ec3ef15 // fdctB
DATA fdctConsts<>+20(SB)/4, $0x3ec3ef15
DATA fdctConsts<>+24(SB)/4, $0x3ec3ef15
DATA fdctConsts<>+28(SB)/4, $0x3ec3ef15
DATA fdctConsts<>+32(SB)/4, $0x3f0a8bd4 // fdctC
DATA fdctConsts<>+36(SB)/4, $0x3f0a8bd4
DATA fdctConsts<>+40(SB)/4, $0x3f0a8bd4
DATA fdctConsts<>+44(SB)/4, $0x3f0a8bd4
DATA fdctConsts<>+48(SB)/4, $0x3fa73d75 // fdctD
DATA fdctConsts<>+52(SB)/4, $0x3fa73d75
DATA fdctConsts<>+56(SB)/4, $0x3fa73d75
DATA fdctConsts<>+60(SB)/4, $0x3fa73d75
DATA fdctConsts<>+64(SB)/4, $0x45800400 // 4096.5
DATA fdctConsts<>+68(SB)/4, $0x45800400
DATA fdctConsts<>+72(SB)/4, $0x45800400
DATA fdctConsts<>+76(SB)/4, $0x45800400
DATA fdctConsts<>+80(SB)/4, $4096
DATA fdctConsts<>+84(SB)/4, $4096
DATA fdctConsts<>+88(SB)/4, $4096
DATA fdctConsts<>+92(SB)/4, $4096
GLOBL fdctConsts<>(SB), RODATA|NOPTR, $96

// FDCT8 is the 8-point forward transform of quantise, lane by lane, the
// same operations in the same order: from x0-x7 in X0-X7 to o0-o7 in
// X6, X7, X5, X0, X4, X2, X8, X9. fdctA to fdctC are in X12-X14; X1, X3,
// X10 and X11 are free afterwards.
#define FDCT8 \
	MOVO X0, X8; ADDPS X7, X8; SUBPS X7, X0; \
	MOVO X1, X7; ADDPS X6, X7; SUBPS X6, X1; \
	MOVO X2, X6; ADDPS X5, X6; SUBPS X5, X2; \
	MOVO X3, X5; ADDPS X4, X5; SUBPS X4, X3; \
	MOVO X8, X4; ADDPS X5, X4; SUBPS X5, X8; \
	MOVO X7, X5; ADDPS X6, X5; SUBPS X6, X7; \
	MOVO X4, X6; ADDPS X5, X6; SUBPS X5, X4; \
	ADDPS X8, X7; MULPS X12, X7; \
	MOVO X8, X5; ADDPS X7, X5; SUBPS X7, X8; \
	MOVO X3, X7; ADDPS X2, X7; \
	ADDPS X1, X2; \
	ADDPS X0, X1; \
	MOVO X7, X3; SUBPS X1, X3; MULPS X13, X3; \
	MULPS X14, X7; ADDPS X3, X7; \
	MOVOU fdctConsts<>+48(SB), X10; MULPS X10, X1; ADDPS X3, X1; \
	MULPS X12, X2; \
	MOVO X0, X9; ADDPS X2, X9; SUBPS X2, X0; \
	MOVO X0, X2; ADDPS X7, X2; SUBPS X7, X0; \
	MOVO X9, X7; ADDPS X1, X7; SUBPS X1, X9

// ROWS4 turns A, B, C, E (a lane each of four rows) into the four rows,
// stored at OFF, OFF+32, OFF+64 and OFF+96 from DI; X1, X3, X10 and X11
// are scratch.
#define ROWS4(A, B, C, E, OFF) \
	TRANSPOSE4(A, B, C, E, X1, X3, X10, X11); \
	MOVOU A, OFF(DI); MOVOU B, OFF+32(DI); MOVOU C, OFF+64(DI); MOVOU E, OFF+96(DI)

// LANES4 loads four values of four rows, 32 bytes apart from OFF(SI),
// into A, B, C, E, one column to a register, a lane a row; X8-X11 are
// scratch.
#define LANES4(A, B, C, E, OFF) \
	MOVOU OFF(SI), A; MOVOU OFF+32(SI), B; MOVOU OFF+64(SI), C; MOVOU OFF+96(SI), E; \
	TRANSPOSE4(A, B, C, E, X8, X9, X10, X11)

// ROWPASS transforms rows OFF/32 to OFF/32+3 of SI into DI.
#define ROWPASS(OFF) \
	LANES4(X0, X1, X2, X3, OFF); \
	LANES4(X4, X5, X6, X7, OFF+16); \
	FDCT8; \
	ROWS4(X6, X7, X5, X0, OFF); \
	ROWS4(X4, X2, X8, X9, OFF+16)

// QUANT multiplies R by the reciprocals at OFF(R8), rounds it as
// quantise does and stores it at OFF(DI) as int32.
#define QUANT(R, OFF) \
	MOVOU OFF(R8), X10; MULPS X10, R; ADDPS X11, R; \
	CVTTPS2PL R, R; PSUBL X1, R; MOVOU R, OFF(DI)

// COLPASS transforms columns OFF/4 to OFF/4+3 of DI (rows 32 bytes
// apart) and quantises them in place.
#define COLPASS(OFF) \
	MOVOU OFF(DI), X0; MOVOU OFF+32(DI), X1; MOVOU OFF+64(DI), X2; MOVOU OFF+96(DI), X3; \
	MOVOU OFF+128(DI), X4; MOVOU OFF+160(DI), X5; MOVOU OFF+192(DI), X6; MOVOU OFF+224(DI), X7; \
	FDCT8; \
	MOVOU fdctConsts<>+64(SB), X11; MOVOU fdctConsts<>+80(SB), X1; \
	QUANT(X6, OFF); QUANT(X7, OFF+32); QUANT(X5, OFF+64); QUANT(X0, OFF+96); \
	QUANT(X4, OFF+128); QUANT(X2, OFF+160); QUANT(X8, OFF+192); QUANT(X9, OFF+224)

// func quantiseVector(px *[64]float32, recip *[64]float32, out *[64]int32)
TEXT ·quantiseVector(SB), NOSPLIT, $0-24
	MOVQ px+0(FP), SI
	MOVQ recip+8(FP), R8
	MOVQ out+16(FP), DI
	MOVOU fdctConsts<>+0(SB), X12
	MOVOU fdctConsts<>+16(SB), X13
	MOVOU fdctConsts<>+32(SB), X14
	// Rows, four at a time, each lane a row; their results, as float32,
	// wait in out.
	ROWPASS(0)
	ROWPASS(128)
	// Columns, four at a time, each lane a column.
	COLPASS(0)
	COLPASS(16)
	RET
