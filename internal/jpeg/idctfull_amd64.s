//go:build !purego

#include "textflag.h"
#include "transpose_amd64.h"

// The AAN constants (aanSqrt2, aan2Cos, aanA, aanB: c = h·65536 + l, with
// h 1, 1, 1 and 2) by their low 16 bits l: in every word, and as the
// pair (l, 0) for PMADDWL.
DATA aanSqrt2Words<>+0(SB)/8, $0x6a0a6a0a6a0a6a0a
DATA aanSqrt2Words<>+8(SB)/8, $0x6a0a6a0a6a0a6a0a
GLOBL aanSqrt2Words<>(SB), RODATA|NOPTR, $16
DATA aanSqrt2Pairs<>+0(SB)/8, $0x00006a0a00006a0a
DATA aanSqrt2Pairs<>+8(SB)/8, $0x00006a0a00006a0a
GLOBL aanSqrt2Pairs<>(SB), RODATA|NOPTR, $16
DATA aanCos2Words<>+0(SB)/8, $0xd907d907d907d907
DATA aanCos2Words<>+8(SB)/8, $0xd907d907d907d907
GLOBL aanCos2Words<>(SB), RODATA|NOPTR, $16
DATA aanCos2Pairs<>+0(SB)/8, $0x0000d9070000d907
DATA aanCos2Pairs<>+8(SB)/8, $0x0000d9070000d907
GLOBL aanCos2Pairs<>(SB), RODATA|NOPTR, $16
DATA aanAWords<>+0(SB)/8, $0x1518151815181518
DATA aanAWords<>+8(SB)/8, $0x1518151815181518
GLOBL aanAWords<>(SB), RODATA|NOPTR, $16
DATA aanAPairs<>+0(SB)/8, $0x0000151800001518
DATA aanAPairs<>+8(SB)/8, $0x0000151800001518
GLOBL aanAPairs<>(SB), RODATA|NOPTR, $16
DATA aanBWords<>+0(SB)/8, $0x9cf69cf69cf69cf6
DATA aanBWords<>+8(SB)/8, $0x9cf69cf69cf69cf6
GLOBL aanBWords<>(SB), RODATA|NOPTR, $16
DATA aanBPairs<>+0(SB)/8, $0x00009cf600009cf6
DATA aanBPairs<>+8(SB)/8, $0x00009cf600009cf6
GLOBL aanBPairs<>(SB), RODATA|NOPTR, $16
DATA highHalves<>+0(SB)/8, $0xffff0000ffff0000
DATA highHalves<>+8(SB)/8, $0xffff0000ffff0000
GLOBL highHalves<>(SB), RODATA|NOPTR, $16
DATA lowHalves<>+0(SB)/8, $0x0000ffff0000ffff
DATA lowHalves<>+8(SB)/8, $0x0000ffff0000ffff
GLOBL lowHalves<>(SB), RODATA|NOPTR, $16
DATA roundFirst<>+0(SB)/8, $0x0000000800000008 // ½ of the first pass's 4-bit shift
DATA roundFirst<>+8(SB)/8, $0x0000000800000008
GLOBL roundFirst<>(SB), RODATA|NOPTR, $16
DATA roundPixel<>+0(SB)/8, $0x0008080000080800 // ½ and 128, in foldBits (12) fixed point
DATA roundPixel<>+8(SB)/8, $0x0008080000080800
GLOBL roundPixel<>(SB), RODATA|NOPTR, $16

// MULLOW sets D to the part of mulAAN(S, c) that c's low 16 bits l make,
// modulo 2^32: with S = s·2^16 + r (s signed, r unsigned), s·l as the
// signed pair product s·l' (PMADDWL, l' = l as a signed 16-bit number)
// plus the high half of r·l (PMULHUW) plus the rounding bit (the top bit
// of the low half, PMULLW), and s·65536 where l' is l − 65536. T and U
// are scratch; S is kept.
#define MULLOW(S, D, T, U, PAIRS, WORDS) \
	MOVO S, D; PSRAL $16, D; MOVOU PAIRS<>(SB), T; PMADDWL T, D; \
	MOVOU WORDS<>(SB), U; MOVO S, T; PMULLW U, T; PSRLW $15, T; \
	PMULHUW S, U; PADDW U, T; MOVOU lowHalves<>(SB), U; PAND U, T; PADDL T, D

// HIGHHALF adds S with its low 16 bits cleared (s·65536) to D.
#define HIGHHALF(S, D, T) \
	MOVOU highHalves<>(SB), T; PAND S, T; PADDL T, D

// The four products, exactly mulAAN's: S·c = S·h·65536 + S·l.
#define MULSQRT2(S, D) MULLOW(S, D, X10, X11, aanSqrt2Pairs, aanSqrt2Words); PADDL S, D
#define MULCOS2(S, D) MULLOW(S, D, X10, X11, aanCos2Pairs, aanCos2Words); PADDL S, D; HIGHHALF(S, D, X10)
#define MULA(S, D) MULLOW(S, D, X10, X11, aanAPairs, aanAWords); PADDL S, D
#define MULB(S, D) MULLOW(S, D, X10, X11, aanBPairs, aanBWords); PADDL S, D; PADDL S, D; HIGHHALF(S, D, X10)

// AAN8 is idctFull's 8-point transform in each lane, from x0-x7 in
// X0-X7 to the outputs 0-7 in X1, X7, X6, X9, X8, X0, X4, X2. X3, X5,
// X10 and X11 are free afterwards.
#define AAN8 \
	MOVO X0, X8; PADDL X4, X8; PSUBL X4, X0; \
	MOVO X2, X4; PADDL X6, X4; PSUBL X6, X2; \
	MULSQRT2(X2, X6); PSUBL X4, X6; \
	MOVO X8, X2; PADDL X4, X2; PSUBL X4, X8; \
	MOVO X0, X4; PADDL X6, X4; PSUBL X6, X0; \
	MOVO X5, X6; PSUBL X3, X6; PADDL X3, X5; \
	MOVO X1, X3; PADDL X7, X3; PSUBL X7, X1; \
	MOVO X3, X7; PADDL X5, X7; \
	PSUBL X5, X3; MULSQRT2(X3, X9); \
	MOVO X6, X3; PADDL X1, X3; MULCOS2(X3, X5); \
	MULA(X1, X3); PSUBL X5, X3; \
	MULB(X6, X1); MOVO X5, X6; PSUBL X1, X6; PSUBL X7, X6; \
	PSUBL X6, X9; \
	PADDL X9, X3; \
	MOVO X2, X1; PADDL X7, X1; PSUBL X7, X2; \
	MOVO X4, X7; PADDL X6, X7; PSUBL X6, X4; \
	MOVO X0, X6; PADDL X9, X6; PSUBL X9, X0; \
	MOVO X8, X9; PSUBL X3, X9; PADDL X3, X8

// COLUMNS transforms columns OFF/4 to OFF/4+3 of the block at AX (rows 32
// bytes apart) in place, each lane a column, shifted by 4 bits.
#define COLUMNS(OFF) \
	MOVOU OFF(AX), X0; MOVOU OFF+32(AX), X1; MOVOU OFF+64(AX), X2; MOVOU OFF+96(AX), X3; \
	MOVOU OFF+128(AX), X4; MOVOU OFF+160(AX), X5; MOVOU OFF+192(AX), X6; MOVOU OFF+224(AX), X7; \
	MOVOU roundFirst<>(SB), X8; PADDL X8, X0; \
	AAN8; \
	PSRAL $4, X1; PSRAL $4, X7; PSRAL $4, X6; PSRAL $4, X9; \
	PSRAL $4, X8; PSRAL $4, X0; PSRAL $4, X4; PSRAL $4, X2; \
	MOVOU X1, OFF(AX); MOVOU X7, OFF+32(AX); MOVOU X6, OFF+64(AX); MOVOU X9, OFF+96(AX); \
	MOVOU X8, OFF+128(AX); MOVOU X0, OFF+160(AX); MOVOU X4, OFF+192(AX); MOVOU X2, OFF+224(AX)

// ROWS transforms rows OFF/32 to OFF/32+3 of the block at AX, each lane a
// row, into four rows of pixels at DI, stride SI apart.
#define ROWS(OFF) \
	MOVOU OFF(AX), X0; MOVOU OFF+32(AX), X1; MOVOU OFF+64(AX), X2; MOVOU OFF+96(AX), X3; \
	TRANSPOSE4(X0, X1, X2, X3, X8, X9, X10, X11); \
	MOVOU OFF+16(AX), X4; MOVOU OFF+48(AX), X5; MOVOU OFF+80(AX), X6; MOVOU OFF+112(AX), X7; \
	TRANSPOSE4(X4, X5, X6, X7, X8, X9, X10, X11); \
	MOVOU roundPixel<>(SB), X8; PADDL X8, X0; \
	AAN8; \
	PSRAL $12, X1; PSRAL $12, X7; PSRAL $12, X6; PSRAL $12, X9; \
	PSRAL $12, X8; PSRAL $12, X0; PSRAL $12, X4; PSRAL $12, X2; \
	TRANSPOSE4(X1, X7, X6, X9, X3, X5, X10, X11); \
	TRANSPOSE4(X8, X0, X4, X2, X3, X5, X10, X11); \
	PACKSSLW X8, X1; PACKUSWB X1, X1; MOVQ X1, (DI); \
	PACKSSLW X0, X7; PACKUSWB X7, X7; MOVQ X7, (DI)(SI*1); \
	PACKSSLW X4, X6; PACKUSWB X6, X6; MOVQ X6, (DI)(SI*2); \
	PACKSSLW X2, X9; PACKUSWB X9, X9; LEAQ (DI)(SI*2), R8; MOVQ X9, (R8)(SI*1)

// func idctFullVector(b *[64]int32, dst *byte, stride int)
//
// idctFull four lanes at a time: columns in place (four at a time, a lane
// each), then rows (four at a time, through transposes) to pixels.
TEXT ·idctFullVector(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), SI
	COLUMNS(0)
	COLUMNS(16)
	ROWS(0)
	LEAQ (DI)(SI*4), DI
	ROWS(128)
	RET
