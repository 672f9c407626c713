// TRANSPOSE4 turns the rows A, B, C, E (four 32-bit lanes each) into
// columns, in the same registers; T0-T3 are scratch.
#define TRANSPOSE4(A, B, C, E, T0, T1, T2, T3) \
	MOVO A, T0; PUNPCKLLQ B, T0; \
	MOVO A, T1; PUNPCKHLQ B, T1; \
	MOVO C, T2; PUNPCKLLQ E, T2; \
	MOVO C, T3; PUNPCKHLQ E, T3; \
	MOVO T0, A; PUNPCKLQDQ T2, A; \
	MOVO T0, B; PUNPCKHQDQ T2, B; \
	MOVO T1, C; PUNPCKLQDQ T3, C; \
	MOVO T1, E; PUNPCKHQDQ T3, E
