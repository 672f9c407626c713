//go:build !purego

#include "textflag.h"
#include "transpose_amd64.h"

// Constants, four 32-bit lanes each.
DATA tanWords<>+0(SB)/8, $0x6a0a6a0a6a0a6a0a // tan(π/8)·2^16 = 27146 in every 16-bit word
DATA tanWords<>+8(SB)/8, $0x6a0a6a0a6a0a6a0a
GLOBL tanWords<>(SB), RODATA|NOPTR, $16
DATA tanPairs<>+0(SB)/8, $0x00006a0a00006a0a // (27146, 0) word pairs, for PMADDWL
DATA tanPairs<>+8(SB)/8, $0x00006a0a00006a0a
GLOBL tanPairs<>(SB), RODATA|NOPTR, $16
DATA lowWords<>+0(SB)/8, $0x0000ffff0000ffff
DATA lowWords<>+8(SB)/8, $0x0000ffff0000ffff
GLOBL lowWords<>(SB), RODATA|NOPTR, $16
DATA pixelRound<>+0(SB)/8, $0x0008080000080800 // ½ and 128, in foldBits (12) fixed point
DATA pixelRound<>+8(SB)/8, $0x0008080000080800
GLOBL pixelRound<>(SB), RODATA|NOPTR, $16

// MULTAN sets D to (S·27146 + 2^15) >> 16 in each 32-bit lane, exactly as
// mulTan's 64-bit product does: S = h·2^16 + l, with h the signed high
// half and l the unsigned low one, gives h·27146 (PMADDWL against the
// pair (27146, 0)) plus the high half of l·27146 (PMULHUW), plus 1 where
// its low half reaches 2^15 (PMULLW, its top bit). T and X8 are scratch;
// S is kept.
#define MULTAN(S, D, T) \
	MOVO S, D; PSRAL $16, D; PMADDWL X13, D; \
	MOVO S, T; PMULLW X12, T; PSRLW $15, T; \
	MOVO S, X8; PMULHUW X12, X8; PADDW X8, T; \
	PAND X14, T; PADDL T, D

// PASS is the 4-point transform of each lane: from the frequencies
// A (0), B (1), C (2), E (3) to the values A, B, C, E (0 to 3).
// X4-X7 are scratch.
#define PASS(A, B, C, E) \
	MULTAN(E, X4, X6); PADDL B, X4; \
	MULTAN(B, X5, X6); PSUBL E, X5; \
	MOVO A, X6; PADDL C, X6; \
	MOVO A, X7; PSUBL C, X7; \
	MOVO X6, A; PADDL X4, A; \
	MOVO X7, B; PADDL X5, B; \
	MOVO X7, C; PSUBL X5, C; \
	MOVO X6, E; PSUBL X4, E

// func idctFold4Vector(b *[65]int32, dst *byte, stride int)
TEXT ·idctFold4Vector(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), AX
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), SI
	MOVOU tanWords<>(SB), X12
	MOVOU tanPairs<>(SB), X13
	MOVOU lowWords<>(SB), X14
	MOVOU 0(AX), X0
	MOVOU 16(AX), X1
	MOVOU 32(AX), X2
	MOVOU 48(AX), X3
	// Rows first: each lane a row, each register a frequency across.
	TRANSPOSE4(X0, X1, X2, X3, X8, X9, X10, X11)
	PASS(X0, X1, X2, X3)
	// Then columns: each lane a column, each register a frequency down.
	TRANSPOSE4(X0, X1, X2, X3, X8, X9, X10, X11)
	PASS(X0, X1, X2, X3)
	MOVOU pixelRound<>(SB), X4
	PADDL X4, X0
	PADDL X4, X1
	PADDL X4, X2
	PADDL X4, X3
	PSRAL $12, X0
	PSRAL $12, X1
	PSRAL $12, X2
	PSRAL $12, X3
	PACKSSLW X1, X0 // rows 0 and 1, 16 bits, saturated
	PACKSSLW X3, X2 // rows 2 and 3
	PACKUSWB X2, X0 // the sixteen pixels clamped to 0-255, row by row
	MOVQ X0, BX
	MOVL BX, (DI)
	SHRQ $32, BX
	MOVL BX, (DI)(SI*1)
	PSRLDQ $8, X0
	MOVQ X0, BX
	LEAQ (DI)(SI*2), DI
	MOVL BX, (DI)
	SHRQ $32, BX
	MOVL BX, (DI)(SI*1)
	RET
