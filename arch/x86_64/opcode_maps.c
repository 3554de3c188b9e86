/*
 * coremu x86_64 — the opcode maps of the Intel SDM Vol. 2, Appendix A (Tables ), as
 * rows: map, opcode, mandatory-prefix column, group, mnemonic, operand codes, flags, CPUID
 * feature. decode.c indexes them at start-up. Operand codes are the SDM's (Appendix A.2):
 * the addressing method letter then the size letters; "1", "CL", "DX", "AL", "rAX"... are
 * fixed operands.
 */
#include "decode.h"

#define ROW(map, op, pfx, grp, mn, ops, fl, ft) \
    {X86_MAP_##map, (op), X86_PFX_##pfx, (grp), (mn), (ops), (fl), X86_FEAT_##ft, 0, 0, 0, 0, 0}
#define B(op, mn, ops, fl)      ROW(1BYTE, op, ANY, 0, mn, ops, fl, BASE)
#define BG(op, grp, ops, fl)    ROW(1BYTE, op, ANY, grp, "", ops, fl, BASE)
#define F(op, pfx, mn, ops, ft) ROW(0F, op, pfx, 0, mn, ops, 0, ft)
#define FB(op, mn, ops, fl)     ROW(0F, op, ANY, 0, mn, ops, fl, BASE)
#define FG(op, grp, ops, fl)    ROW(0F, op, ANY, grp, "", ops, fl, BASE)
#define T8(op, pfx, mn, ops, ft) ROW(0F38, op, pfx, 0, mn, ops, 0, ft)
#define TA(op, pfx, mn, ops, ft) ROW(0F3A, op, pfx, 0, mn, ops, 0, ft)

/* The eight ALU rows 00-05 + 8n. */
#define ALU(base, mn)                                                                   \
    B((base) + 0, mn, "Eb,Gb", X86_LOCKABLE), B((base) + 1, mn, "Ev,Gv", X86_LOCKABLE), \
        B((base) + 2, mn, "Gb,Eb", 0), B((base) + 3, mn, "Gv,Ev", 0),                   \
        B((base) + 4, mn, "AL,Ib", 0), B((base) + 5, mn, "rAX,Iz", 0)
/* An MMX row (no prefix) and its SSE2 twin (66). */
#define MMX2(op, mn)                                                     \
    F(op, NP, mn, "Pq,Qq", MMX), F(op, 66, mn, "Vx,Wx", SSE2)
#define SSSE3(op, mn) T8(op, NP, mn, "Pq,Qq", SSSE3), T8(op, 66, mn, "Vx,Wx", SSSE3)
#define PS4(op, mn)                                                                       \
    F(op, NP, mn "PS", "Vps,Wps", SSE), F(op, 66, mn "PD", "Vpd,Wpd", SSE2),              \
        F(op, F3, mn "SS", "Vss,Wss", SSE), F(op, F2, mn "SD", "Vsd,Wsd", SSE2)
#define PS2(op, mn) F(op, NP, mn "PS", "Vps,Wps", SSE), F(op, 66, mn "PD", "Vpd,Wpd", SSE2)
#define CC16(base, mn, ops, fl, tbl) /* 16 condition-code rows */                           \
    tbl(base + 0, mn "O", ops, fl), tbl(base + 1, mn "NO", ops, fl),                            \
        tbl(base + 2, mn "B", ops, fl), tbl(base + 3, mn "AE", ops, fl),                        \
        tbl(base + 4, mn "E", ops, fl), tbl(base + 5, mn "NE", ops, fl),                        \
        tbl(base + 6, mn "BE", ops, fl), tbl(base + 7, mn "A", ops, fl),                        \
        tbl(base + 8, mn "S", ops, fl), tbl(base + 9, mn "NS", ops, fl),                        \
        tbl(base + 10, mn "P", ops, fl), tbl(base + 11, mn "NP", ops, fl),                      \
        tbl(base + 12, mn "L", ops, fl), tbl(base + 13, mn "GE", ops, fl),                      \
        tbl(base + 14, mn "LE", ops, fl), tbl(base + 15, mn "G", ops, fl)
#define R8(base, mn, ops, fl) /* eight register-in-opcode rows */ \
    B(base + 0, mn, ops, fl), B(base + 1, mn, ops, fl), B(base + 2, mn, ops, fl), \
    B(base + 3, mn, ops, fl), B(base + 4, mn, ops, fl), B(base + 5, mn, ops, fl), \
    B(base + 6, mn, ops, fl), B(base + 7, mn, ops, fl)

struct x86_opcode_row x86_opcode_rows[] = {
    /* Table A-2: one-byte opcodes. Prefix bytes (26 2E 36 3E 40-4F(64) 64-67 F0 F2 F3) and
     * the escapes (0F, C4/C5/62 as VEX/EVEX) are handled by decode.c. */
    ALU(0x00, "ADD"), ALU(0x08, "OR"), ALU(0x10, "ADC"), ALU(0x18, "SBB"),
    ALU(0x20, "AND"), ALU(0x28, "SUB"), ALU(0x30, "XOR"), ALU(0x38, "CMP"),
    B(0x06, "PUSH", "ES", X86_I64), B(0x07, "POP", "ES", X86_I64),
    B(0x0e, "PUSH", "CS", X86_I64),
    B(0x16, "PUSH", "SS", X86_I64), B(0x17, "POP", "SS", X86_I64),
    B(0x1e, "PUSH", "DS", X86_I64), B(0x1f, "POP", "DS", X86_I64),
    B(0x27, "DAA", "", X86_I64), B(0x2f, "DAS", "", X86_I64),
    B(0x37, "AAA", "", X86_I64), B(0x3f, "AAS", "", X86_I64),
    R8(0x40, "INC", "Zv", X86_I64), R8(0x48, "DEC", "Zv", X86_I64),
    R8(0x50, "PUSH", "Zv", X86_D64), R8(0x58, "POP", "Zv", X86_D64),
    B(0x60, "PUSHA", "", X86_I64), B(0x61, "POPA", "", X86_I64),
    B(0x62, "BOUND", "Gv,Ma", X86_I64),
    B(0x63, "ARPL", "Ew,Gw", X86_I64), B(0x63, "MOVSXD", "Gv,Ed", X86_O64),
    B(0x68, "PUSH", "Iz", X86_D64), B(0x69, "IMUL", "Gv,Ev,Iz", 0),
    B(0x6a, "PUSH", "Ib", X86_D64), B(0x6b, "IMUL", "Gv,Ev,Ib", 0),
    B(0x6c, "INSB", "Yb,DX", 0), B(0x6d, "INS", "Yz,DX", 0),
    B(0x6e, "OUTSB", "DX,Xb", 0), B(0x6f, "OUTS", "DX,Xz", 0),
    CC16(0x70, "J", "Jb", X86_F64, B),
    BG(0x80, 1, "Eb,Ib", X86_LOCKABLE), BG(0x81, 1, "Ev,Iz", X86_LOCKABLE),
    BG(0x82, 1, "Eb,Ib", X86_I64 | X86_LOCKABLE), BG(0x83, 1, "Ev,Ib", X86_LOCKABLE),
    B(0x84, "TEST", "Eb,Gb", 0), B(0x85, "TEST", "Ev,Gv", 0),
    B(0x86, "XCHG", "Eb,Gb", X86_LOCKABLE), B(0x87, "XCHG", "Ev,Gv", X86_LOCKABLE),
    B(0x88, "MOV", "Eb,Gb", 0), B(0x89, "MOV", "Ev,Gv", 0),
    B(0x8a, "MOV", "Gb,Eb", 0), B(0x8b, "MOV", "Gv,Ev", 0),
    B(0x8c, "MOV", "Ev,Sw", 0), B(0x8d, "LEA", "Gv,M", 0),
    B(0x8e, "MOV", "Sw,Ew", 0), BG(0x8f, 0x1a, "Ev", X86_D64),
    B(0x90, "NOP", "", 0), B(0x91, "XCHG", "Zv,rAX", 0), B(0x92, "XCHG", "Zv,rAX", 0),
    B(0x93, "XCHG", "Zv,rAX", 0), B(0x94, "XCHG", "Zv,rAX", 0), B(0x95, "XCHG", "Zv,rAX", 0),
    B(0x96, "XCHG", "Zv,rAX", 0), B(0x97, "XCHG", "Zv,rAX", 0),
    B(0x98, "CBW", "", 0), B(0x99, "CWD", "", 0), B(0x9a, "CALLF", "Ap", X86_I64),
    B(0x9b, "FWAIT", "", 0), B(0x9c, "PUSHF", "Fv", X86_D64), B(0x9d, "POPF", "Fv", X86_D64),
    B(0x9e, "SAHF", "", 0), B(0x9f, "LAHF", "", 0),
    B(0xa0, "MOV", "AL,Ob", 0), B(0xa1, "MOV", "rAX,Ov", 0),
    B(0xa2, "MOV", "Ob,AL", 0), B(0xa3, "MOV", "Ov,rAX", 0),
    B(0xa4, "MOVSB", "Yb,Xb", 0), B(0xa5, "MOVS", "Yv,Xv", 0),
    B(0xa6, "CMPSB", "Xb,Yb", 0), B(0xa7, "CMPS", "Xv,Yv", 0),
    B(0xa8, "TEST", "AL,Ib", 0), B(0xa9, "TEST", "rAX,Iz", 0),
    B(0xaa, "STOSB", "Yb,AL", 0), B(0xab, "STOS", "Yv,rAX", 0),
    B(0xac, "LODSB", "AL,Xb", 0), B(0xad, "LODS", "rAX,Xv", 0),
    B(0xae, "SCASB", "AL,Yb", 0), B(0xaf, "SCAS", "rAX,Yv", 0),
    R8(0xb0, "MOV", "Zb,Ib", 0), R8(0xb8, "MOV", "Zv,Iv", 0),
    BG(0xc0, 2, "Eb,Ib", 0), BG(0xc1, 2, "Ev,Ib", 0),
    B(0xc2, "RET", "Iw", X86_F64), B(0xc3, "RET", "", X86_F64),
    B(0xc4, "LES", "Gz,Mp", X86_I64), B(0xc5, "LDS", "Gz,Mp", X86_I64),
    BG(0xc6, 11, "Eb", 0), BG(0xc7, 11, "Ev", 0),
    B(0xc8, "ENTER", "Iw,Ib", X86_D64), B(0xc9, "LEAVE", "", X86_D64),
    B(0xca, "RETF", "Iw", 0), B(0xcb, "RETF", "", 0),
    B(0xcc, "INT3", "", 0), B(0xcd, "INT", "Ib", 0), B(0xce, "INTO", "", X86_I64),
    B(0xcf, "IRET", "", 0),
    BG(0xd0, 2, "Eb,1", 0), BG(0xd1, 2, "Ev,1", 0), BG(0xd2, 2, "Eb,CL", 0),
    BG(0xd3, 2, "Ev,CL", 0),
    B(0xd4, "AAM", "Ib", X86_I64), B(0xd5, "AAD", "Ib", X86_I64),
    B(0xd7, "XLAT", "", 0),
    /* x87 escapes: ModRM always; decode.c checks the undefined register forms. */
    B(0xd8, "ESC", "Ex", 0), B(0xd9, "ESC", "Ex", 0), B(0xda, "ESC", "Ex", 0),
    B(0xdb, "ESC", "Ex", 0), B(0xdc, "ESC", "Ex", 0), B(0xdd, "ESC", "Ex", 0),
    B(0xde, "ESC", "Ex", 0), B(0xdf, "ESC", "Ex", 0),
    B(0xe0, "LOOPNE", "Jb", X86_F64), B(0xe1, "LOOPE", "Jb", X86_F64),
    B(0xe2, "LOOP", "Jb", X86_F64), B(0xe3, "JrCXZ", "Jb", X86_F64),
    B(0xe4, "IN", "AL,Ib", 0), B(0xe5, "IN", "eAX,Ib", 0),
    B(0xe6, "OUT", "Ib,AL", 0), B(0xe7, "OUT", "Ib,eAX", 0),
    B(0xe8, "CALL", "Jz", X86_F64), B(0xe9, "JMP", "Jz", X86_F64),
    B(0xea, "JMPF", "Ap", X86_I64), B(0xeb, "JMP", "Jb", X86_F64),
    B(0xec, "IN", "AL,DX", 0), B(0xed, "IN", "eAX,DX", 0),
    B(0xee, "OUT", "DX,AL", 0), B(0xef, "OUT", "DX,eAX", 0),
    B(0xf1, "INT1", "", 0), B(0xf4, "HLT", "", 0), B(0xf5, "CMC", "", 0),
    BG(0xf6, 3, "Eb", X86_LOCKABLE), BG(0xf7, 3, "Ev", X86_LOCKABLE),
    B(0xf8, "CLC", "", 0), B(0xf9, "STC", "", 0), B(0xfa, "CLI", "", 0),
    B(0xfb, "STI", "", 0), B(0xfc, "CLD", "", 0), B(0xfd, "STD", "", 0),
    BG(0xfe, 4, "", X86_LOCKABLE), BG(0xff, 5, "", X86_LOCKABLE),

    /* Table A-3: two-byte opcodes (0F xx). */
    FG(0x00, 6, "", 0), FG(0x01, 7, "", 0),
    FB(0x02, "LAR", "Gv,Ew", 0), FB(0x03, "LSL", "Gv,Ew", 0),
    ROW(0F, 0x05, ANY, 0, "SYSCALL", "", X86_O64, SYSCALL), FB(0x06, "CLTS", "", 0),
    ROW(0F, 0x07, ANY, 0, "SYSRET", "", X86_O64, SYSCALL),
    FB(0x08, "INVD", "", 0), F(0x09, NP, "WBINVD", "", BASE), /* F3 0F 09 is WBNOINVD */
    FB(0x0b, "UD2", "", 0),
    FB(0x0d, "PREFETCHW", "Mb", 0),
    F(0x10, NP, "MOVUPS", "Vps,Wps", SSE), F(0x10, 66, "MOVUPD", "Vpd,Wpd", SSE2),
    F(0x10, F3, "MOVSS", "Vx,Wss", SSE), F(0x10, F2, "MOVSD", "Vx,Wsd", SSE2),
    F(0x11, NP, "MOVUPS", "Wps,Vps", SSE), F(0x11, 66, "MOVUPD", "Wpd,Vpd", SSE2),
    F(0x11, F3, "MOVSS", "Wss,Vss", SSE), F(0x11, F2, "MOVSD", "Wsd,Vsd", SSE2),
    F(0x12, NP, "MOVLPS", "Vq,Wq", SSE), F(0x12, 66, "MOVLPD", "Vq,Mq", SSE2),
    F(0x12, F3, "MOVSLDUP", "Vx,Wx", SSE3), F(0x12, F2, "MOVDDUP", "Vx,Wx", SSE3),
    F(0x13, NP, "MOVLPS", "Mq,Vq", SSE), F(0x13, 66, "MOVLPD", "Mq,Vq", SSE2),
    F(0x14, NP, "UNPCKLPS", "Vx,Wx", SSE), F(0x14, 66, "UNPCKLPD", "Vx,Wx", SSE2),
    F(0x15, NP, "UNPCKHPS", "Vx,Wx", SSE), F(0x15, 66, "UNPCKHPD", "Vx,Wx", SSE2),
    F(0x16, NP, "MOVHPS", "Vdq,Wq", SSE), F(0x16, 66, "MOVHPD", "Vdq,Mq", SSE2),
    F(0x16, F3, "MOVSHDUP", "Vx,Wx", SSE3),
    F(0x17, NP, "MOVHPS", "Mq,Vq", SSE), F(0x17, 66, "MOVHPD", "Mq,Vq", SSE2),
    FG(0x18, 16, "", 0),
    /* 0F 19-1F: reserved-NOP (hint) space; F3 0F 1E FA/FB are ENDBR64/32 within it. */
    FB(0x19, "NOP", "Ev", 0), FB(0x1a, "NOP", "Ev", 0), FB(0x1b, "NOP", "Ev", 0),
    FB(0x1c, "NOP", "Ev", 0), FB(0x1d, "NOP", "Ev", 0), FB(0x1e, "NOP", "Ev", 0),
    FB(0x1f, "NOP", "Ev", 0),
    FB(0x20, "MOV", "Rd,Cd", 0), FB(0x21, "MOV", "Rd,Dd", 0),
    FB(0x22, "MOV", "Cd,Rd", 0), FB(0x23, "MOV", "Dd,Rd", 0),
    F(0x28, NP, "MOVAPS", "Vps,Wps", SSE), F(0x28, 66, "MOVAPD", "Vpd,Wpd", SSE2),
    F(0x29, NP, "MOVAPS", "Wps,Vps", SSE), F(0x29, 66, "MOVAPD", "Wpd,Vpd", SSE2),
    F(0x2a, NP, "CVTPI2PS", "Vps,Qpi", SSE), F(0x2a, 66, "CVTPI2PD", "Vpd,Qpi", SSE2),
    F(0x2a, F3, "CVTSI2SS", "Vss,Ey", SSE), F(0x2a, F2, "CVTSI2SD", "Vsd,Ey", SSE2),
    F(0x2b, NP, "MOVNTPS", "Mps,Vps", SSE), F(0x2b, 66, "MOVNTPD", "Mpd,Vpd", SSE2),
    F(0x2c, NP, "CVTTPS2PI", "Ppi,Wps", SSE), F(0x2c, 66, "CVTTPD2PI", "Ppi,Wpd", SSE2),
    F(0x2c, F3, "CVTTSS2SI", "Gy,Wss", SSE), F(0x2c, F2, "CVTTSD2SI", "Gy,Wsd", SSE2),
    F(0x2d, NP, "CVTPS2PI", "Ppi,Wps", SSE), F(0x2d, 66, "CVTPD2PI", "Ppi,Wpd", SSE2),
    F(0x2d, F3, "CVTSS2SI", "Gy,Wss", SSE), F(0x2d, F2, "CVTSD2SI", "Gy,Wsd", SSE2),
    F(0x2e, NP, "UCOMISS", "Vss,Wss", SSE), F(0x2e, 66, "UCOMISD", "Vsd,Wsd", SSE2),
    F(0x2f, NP, "COMISS", "Vss,Wss", SSE), F(0x2f, 66, "COMISD", "Vsd,Wsd", SSE2),
    FB(0x30, "WRMSR", "", 0), FB(0x31, "RDTSC", "", 0), FB(0x32, "RDMSR", "", 0),
    FB(0x33, "RDPMC", "", 0), FB(0x34, "SYSENTER", "", 0), FB(0x35, "SYSEXIT", "", 0),
    FB(0x37, "GETSEC", "", 0),
    CC16(0x40, "CMOV", "Gv,Ev", 0, FB),
    F(0x50, NP, "MOVMSKPS", "Gd,Ups", SSE), F(0x50, 66, "MOVMSKPD", "Gd,Upd", SSE2),
    PS4(0x51, "SQRT"),
    F(0x52, NP, "RSQRTPS", "Vps,Wps", SSE), F(0x52, F3, "RSQRTSS", "Vss,Wss", SSE),
    F(0x53, NP, "RCPPS", "Vps,Wps", SSE), F(0x53, F3, "RCPSS", "Vss,Wss", SSE),
    PS2(0x54, "AND"), PS2(0x55, "ANDN"), PS2(0x56, "OR"), PS2(0x57, "XOR"),
    PS4(0x58, "ADD"), PS4(0x59, "MUL"),
    F(0x5a, NP, "CVTPS2PD", "Vpd,Wps", SSE2), F(0x5a, 66, "CVTPD2PS", "Vps,Wpd", SSE2),
    F(0x5a, F3, "CVTSS2SD", "Vsd,Wss", SSE2), F(0x5a, F2, "CVTSD2SS", "Vss,Wsd", SSE2),
    F(0x5b, NP, "CVTDQ2PS", "Vps,Wdq", SSE2), F(0x5b, 66, "CVTPS2DQ", "Vdq,Wps", SSE2),
    F(0x5b, F3, "CVTTPS2DQ", "Vdq,Wps", SSE2),
    PS4(0x5c, "SUB"), PS4(0x5d, "MIN"), PS4(0x5e, "DIV"), PS4(0x5f, "MAX"),
    MMX2(0x60, "PUNPCKLBW"), MMX2(0x61, "PUNPCKLWD"), MMX2(0x62, "PUNPCKLDQ"),
    MMX2(0x63, "PACKSSWB"), MMX2(0x64, "PCMPGTB"), MMX2(0x65, "PCMPGTW"),
    MMX2(0x66, "PCMPGTD"), MMX2(0x67, "PACKUSWB"), MMX2(0x68, "PUNPCKHBW"),
    MMX2(0x69, "PUNPCKHWD"), MMX2(0x6a, "PUNPCKHDQ"), MMX2(0x6b, "PACKSSDW"),
    F(0x6c, 66, "PUNPCKLQDQ", "Vx,Wx", SSE2), F(0x6d, 66, "PUNPCKHQDQ", "Vx,Wx", SSE2),
    F(0x6e, NP, "MOVD", "Pd,Ey", MMX), F(0x6e, 66, "MOVD", "Vy,Ey", SSE2),
    F(0x6f, NP, "MOVQ", "Pq,Qq", MMX), F(0x6f, 66, "MOVDQA", "Vx,Wx", SSE2),
    F(0x6f, F3, "MOVDQU", "Vx,Wx", SSE2),
    F(0x70, NP, "PSHUFW", "Pq,Qq,Ib", SSE), F(0x70, 66, "PSHUFD", "Vx,Wx,Ib", SSE2),
    F(0x70, F3, "PSHUFHW", "Vx,Wx,Ib", SSE2), F(0x70, F2, "PSHUFLW", "Vx,Wx,Ib", SSE2),
    ROW(0F, 0x71, NP, 12, "", "Ib", 0, MMX), ROW(0F, 0x71, 66, 12, "", "Ib", 0, SSE2),
    ROW(0F, 0x72, NP, 13, "", "Ib", 0, MMX), ROW(0F, 0x72, 66, 13, "", "Ib", 0, SSE2),
    ROW(0F, 0x73, NP, 14, "", "Ib", 0, MMX), ROW(0F, 0x73, 66, 14, "", "Ib", 0, SSE2),
    MMX2(0x74, "PCMPEQB"), MMX2(0x75, "PCMPEQW"), MMX2(0x76, "PCMPEQD"),
    F(0x77, NP, "EMMS", "", MMX),
    F(0x78, NP, "VMREAD", "Ey,Gy", BASE), F(0x79, NP, "VMWRITE", "Gy,Ey", BASE),
    F(0x7c, 66, "HADDPD", "Vpd,Wpd", SSE3), F(0x7c, F2, "HADDPS", "Vps,Wps", SSE3),
    F(0x7d, 66, "HSUBPD", "Vpd,Wpd", SSE3), F(0x7d, F2, "HSUBPS", "Vps,Wps", SSE3),
    F(0x7e, NP, "MOVD", "Ey,Pd", MMX), F(0x7e, 66, "MOVD", "Ey,Vy", SSE2),
    F(0x7e, F3, "MOVQ", "Vq,Wq", SSE2),
    F(0x7f, NP, "MOVQ", "Qq,Pq", MMX), F(0x7f, 66, "MOVDQA", "Wx,Vx", SSE2),
    F(0x7f, F3, "MOVDQU", "Wx,Vx", SSE2),
    CC16(0x80, "J", "Jz", X86_F64, FB),
    CC16(0x90, "SET", "Eb", 0, FB),
    FB(0xa0, "PUSH", "FS", X86_D64), FB(0xa1, "POP", "FS", X86_D64), FB(0xa2, "CPUID", "", 0),
    FB(0xa3, "BT", "Ev,Gv", 0), FB(0xa4, "SHLD", "Ev,Gv,Ib", 0), FB(0xa5, "SHLD", "Ev,Gv,CL", 0),
    FB(0xa8, "PUSH", "GS", X86_D64), FB(0xa9, "POP", "GS", X86_D64), FB(0xaa, "RSM", "", 0),
    FB(0xab, "BTS", "Ev,Gv", X86_LOCKABLE), FB(0xac, "SHRD", "Ev,Gv,Ib", 0),
    FB(0xad, "SHRD", "Ev,Gv,CL", 0), FG(0xae, 15, "", 0), FB(0xaf, "IMUL", "Gv,Ev", 0),
    FB(0xb0, "CMPXCHG", "Eb,Gb", X86_LOCKABLE), FB(0xb1, "CMPXCHG", "Ev,Gv", X86_LOCKABLE),
    FB(0xb2, "LSS", "Gv,Mp", 0), FB(0xb3, "BTR", "Ev,Gv", X86_LOCKABLE),
    FB(0xb4, "LFS", "Gv,Mp", 0), FB(0xb5, "LGS", "Gv,Mp", 0),
    FB(0xb6, "MOVZX", "Gv,Eb", 0), FB(0xb7, "MOVZX", "Gv,Ew", 0),
    F(0xb8, F3, "POPCNT", "Gv,Ev", POPCNT), FB(0xb9, "UD1", "Gv,Ev", 0),
    FG(0xba, 8, "Ev,Ib", X86_LOCKABLE), FB(0xbb, "BTC", "Ev,Gv", X86_LOCKABLE),
    /* BC/BD have an F3 column (TZCNT/LZCNT) and no F2 one: F2 is #UD, as objdump has it */
    F(0xbc, NP, "BSF", "Gv,Ev", BASE), F(0xbc, 66, "BSF", "Gv,Ev", BASE),
    F(0xbc, F3, "TZCNT", "Gv,Ev", BMI1),
    F(0xbd, NP, "BSR", "Gv,Ev", BASE), F(0xbd, 66, "BSR", "Gv,Ev", BASE),
    F(0xbd, F3, "LZCNT", "Gv,Ev", LZCNT),
    FB(0xbe, "MOVSX", "Gv,Eb", 0), FB(0xbf, "MOVSX", "Gv,Ew", 0),
    FB(0xc0, "XADD", "Eb,Gb", X86_LOCKABLE), FB(0xc1, "XADD", "Ev,Gv", X86_LOCKABLE),
    F(0xc2, NP, "CMPPS", "Vps,Wps,Ib", SSE), F(0xc2, 66, "CMPPD", "Vpd,Wpd,Ib", SSE2),
    F(0xc2, F3, "CMPSS", "Vss,Wss,Ib", SSE), F(0xc2, F2, "CMPSD", "Vsd,Wsd,Ib", SSE2),
    F(0xc3, NP, "MOVNTI", "My,Gy", SSE2),
    F(0xc4, NP, "PINSRW", "Pq,Ew,Ib", SSE), F(0xc4, 66, "PINSRW", "Vdq,Ew,Ib", SSE2),
    F(0xc5, NP, "PEXTRW", "Gd,Nq,Ib", SSE), F(0xc5, 66, "PEXTRW", "Gd,Udq,Ib", SSE2),
    F(0xc6, NP, "SHUFPS", "Vps,Wps,Ib", SSE), F(0xc6, 66, "SHUFPD", "Vpd,Wpd,Ib", SSE2),
    FG(0xc7, 9, "", 0),
    FB(0xc8, "BSWAP", "Zv", 0), FB(0xc9, "BSWAP", "Zv", 0), FB(0xca, "BSWAP", "Zv", 0),
    FB(0xcb, "BSWAP", "Zv", 0), FB(0xcc, "BSWAP", "Zv", 0), FB(0xcd, "BSWAP", "Zv", 0),
    FB(0xce, "BSWAP", "Zv", 0), FB(0xcf, "BSWAP", "Zv", 0),
    F(0xd0, 66, "ADDSUBPD", "Vpd,Wpd", SSE3), F(0xd0, F2, "ADDSUBPS", "Vps,Wps", SSE3),
    MMX2(0xd1, "PSRLW"), MMX2(0xd2, "PSRLD"), MMX2(0xd3, "PSRLQ"), MMX2(0xd4, "PADDQ"),
    MMX2(0xd5, "PMULLW"),
    F(0xd6, 66, "MOVQ", "Wq,Vq", SSE2), F(0xd6, F3, "MOVQ2DQ", "Vdq,Nq", SSE2),
    F(0xd6, F2, "MOVDQ2Q", "Pq,Uq", SSE2),
    F(0xd7, NP, "PMOVMSKB", "Gd,Nq", SSE), F(0xd7, 66, "PMOVMSKB", "Gd,Ux", SSE2),
    MMX2(0xd8, "PSUBUSB"), MMX2(0xd9, "PSUBUSW"), MMX2(0xda, "PMINUB"), MMX2(0xdb, "PAND"),
    MMX2(0xdc, "PADDUSB"), MMX2(0xdd, "PADDUSW"), MMX2(0xde, "PMAXUB"), MMX2(0xdf, "PANDN"),
    MMX2(0xe0, "PAVGB"), MMX2(0xe1, "PSRAW"), MMX2(0xe2, "PSRAD"), MMX2(0xe3, "PAVGW"),
    MMX2(0xe4, "PMULHUW"), MMX2(0xe5, "PMULHW"),
    F(0xe6, 66, "CVTTPD2DQ", "Vx,Wpd", SSE2), F(0xe6, F3, "CVTDQ2PD", "Vx,Wpd", SSE2),
    F(0xe6, F2, "CVTPD2DQ", "Vx,Wpd", SSE2),
    F(0xe7, NP, "MOVNTQ", "Mq,Pq", SSE), F(0xe7, 66, "MOVNTDQ", "Mx,Vx", SSE2),
    MMX2(0xe8, "PSUBSB"), MMX2(0xe9, "PSUBSW"), MMX2(0xea, "PMINSW"), MMX2(0xeb, "POR"),
    MMX2(0xec, "PADDSB"), MMX2(0xed, "PADDSW"), MMX2(0xee, "PMAXSW"), MMX2(0xef, "PXOR"),
    F(0xf0, F2, "LDDQU", "Vx,Mx", SSE3),
    MMX2(0xf1, "PSLLW"), MMX2(0xf2, "PSLLD"), MMX2(0xf3, "PSLLQ"), MMX2(0xf4, "PMULUDQ"),
    MMX2(0xf5, "PMADDWD"), MMX2(0xf6, "PSADBW"),
    F(0xf7, NP, "MASKMOVQ", "Pq,Nq", SSE), F(0xf7, 66, "MASKMOVDQU", "Vdq,Udq", SSE2),
    MMX2(0xf8, "PSUBB"), MMX2(0xf9, "PSUBW"), MMX2(0xfa, "PSUBD"), MMX2(0xfb, "PSUBQ"),
    MMX2(0xfc, "PADDB"), MMX2(0xfd, "PADDW"), MMX2(0xfe, "PADDD"), FB(0xff, "UD0", "Gv,Ev", 0),

    /* Table A-4: three-byte opcodes 0F 38 xx. */
    SSSE3(0x00, "PSHUFB"), SSSE3(0x01, "PHADDW"), SSSE3(0x02, "PHADDD"),
    SSSE3(0x03, "PHADDSW"), SSSE3(0x04, "PMADDUBSW"), SSSE3(0x05, "PHSUBW"),
    SSSE3(0x06, "PHSUBD"), SSSE3(0x07, "PHSUBSW"), SSSE3(0x08, "PSIGNB"),
    SSSE3(0x09, "PSIGNW"), SSSE3(0x0a, "PSIGND"), SSSE3(0x0b, "PMULHRSW"),
    T8(0x10, 66, "PBLENDVB", "Vdq,Wdq", SSE41), T8(0x14, 66, "BLENDVPS", "Vdq,Wdq", SSE41),
    T8(0x15, 66, "BLENDVPD", "Vdq,Wdq", SSE41), T8(0x17, 66, "PTEST", "Vdq,Wdq", SSE41),
    SSSE3(0x1c, "PABSB"), SSSE3(0x1d, "PABSW"), SSSE3(0x1e, "PABSD"),
    T8(0x20, 66, "PMOVSXBW", "Vdq,Wq", SSE41), T8(0x21, 66, "PMOVSXBD", "Vdq,Wd", SSE41),
    T8(0x22, 66, "PMOVSXBQ", "Vdq,Ww", SSE41), T8(0x23, 66, "PMOVSXWD", "Vdq,Wq", SSE41),
    T8(0x24, 66, "PMOVSXWQ", "Vdq,Wd", SSE41), T8(0x25, 66, "PMOVSXDQ", "Vdq,Wq", SSE41),
    T8(0x28, 66, "PMULDQ", "Vdq,Wdq", SSE41), T8(0x29, 66, "PCMPEQQ", "Vdq,Wdq", SSE41),
    T8(0x2a, 66, "MOVNTDQA", "Vdq,Mdq", SSE41), T8(0x2b, 66, "PACKUSDW", "Vdq,Wdq", SSE41),
    T8(0x30, 66, "PMOVZXBW", "Vdq,Wq", SSE41), T8(0x31, 66, "PMOVZXBD", "Vdq,Wd", SSE41),
    T8(0x32, 66, "PMOVZXBQ", "Vdq,Ww", SSE41), T8(0x33, 66, "PMOVZXWD", "Vdq,Wq", SSE41),
    T8(0x34, 66, "PMOVZXWQ", "Vdq,Wd", SSE41), T8(0x35, 66, "PMOVZXDQ", "Vdq,Wq", SSE41),
    T8(0x37, 66, "PCMPGTQ", "Vdq,Wdq", SSE42), T8(0x38, 66, "PMINSB", "Vdq,Wdq", SSE41),
    T8(0x39, 66, "PMINSD", "Vdq,Wdq", SSE41), T8(0x3a, 66, "PMINUW", "Vdq,Wdq", SSE41),
    T8(0x3b, 66, "PMINUD", "Vdq,Wdq", SSE41), T8(0x3c, 66, "PMAXSB", "Vdq,Wdq", SSE41),
    T8(0x3d, 66, "PMAXSD", "Vdq,Wdq", SSE41), T8(0x3e, 66, "PMAXUW", "Vdq,Wdq", SSE41),
    T8(0x3f, 66, "PMAXUD", "Vdq,Wdq", SSE41), T8(0x40, 66, "PMULLD", "Vdq,Wdq", SSE41),
    T8(0x41, 66, "PHMINPOSUW", "Vdq,Wdq", SSE41),
    T8(0x80, 66, "INVEPT", "Gy,Mdq", BASE), T8(0x81, 66, "INVVPID", "Gy,Mdq", BASE),
    T8(0x82, 66, "INVPCID", "Gy,Mdq", BASE),
    T8(0xc8, NP, "SHA1NEXTE", "Vdq,Wdq", SHA), T8(0xc9, NP, "SHA1MSG1", "Vdq,Wdq", SHA),
    T8(0xca, NP, "SHA1MSG2", "Vdq,Wdq", SHA), T8(0xcb, NP, "SHA256RNDS2", "Vdq,Wdq", SHA),
    T8(0xcc, NP, "SHA256MSG1", "Vdq,Wdq", SHA), T8(0xcd, NP, "SHA256MSG2", "Vdq,Wdq", SHA),
    T8(0xdb, 66, "AESIMC", "Vdq,Wdq", AES), T8(0xdc, 66, "AESENC", "Vdq,Wdq", AES),
    T8(0xdd, 66, "AESENCLAST", "Vdq,Wdq", AES), T8(0xde, 66, "AESDEC", "Vdq,Wdq", AES),
    T8(0xdf, 66, "AESDECLAST", "Vdq,Wdq", AES),
    T8(0xf0, NP, "MOVBE", "Gv,Mv", MOVBE), T8(0xf0, 66, "MOVBE", "Gv,Mv", MOVBE),
    T8(0xf0, F2, "CRC32", "Gd,Eb", SSE42),
    T8(0xf1, NP, "MOVBE", "Mv,Gv", MOVBE), T8(0xf1, 66, "MOVBE", "Mv,Gv", MOVBE),
    T8(0xf1, F2, "CRC32", "Gd,Ey", SSE42),
    T8(0xf6, 66, "ADCX", "Gy,Ey", ADX), T8(0xf6, F3, "ADOX", "Gy,Ey", ADX),

    /* Table A-5: three-byte opcodes 0F 3A xx; all take an imm8. */
    TA(0x0f, NP, "PALIGNR", "Pq,Qq,Ib", SSSE3), TA(0x0f, 66, "PALIGNR", "Vdq,Wdq,Ib", SSSE3),
    TA(0x08, 66, "ROUNDPS", "Vx,Wx,Ib", SSE41), TA(0x09, 66, "ROUNDPD", "Vx,Wx,Ib", SSE41),
    TA(0x0a, 66, "ROUNDSS", "Vss,Wss,Ib", SSE41), TA(0x0b, 66, "ROUNDSD", "Vsd,Wsd,Ib", SSE41),
    TA(0x0c, 66, "BLENDPS", "Vx,Wx,Ib", SSE41), TA(0x0d, 66, "BLENDPD", "Vx,Wx,Ib", SSE41),
    TA(0x0e, 66, "PBLENDW", "Vx,Wx,Ib", SSE41),
    TA(0x14, 66, "PEXTRB", "Rd/Mb,Vdq,Ib", SSE41), TA(0x15, 66, "PEXTRW", "Rd/Mw,Vdq,Ib", SSE41),
    TA(0x16, 66, "PEXTRD", "Ey,Vdq,Ib", SSE41), TA(0x17, 66, "EXTRACTPS", "Ed,Vdq,Ib", SSE41),
    TA(0x20, 66, "PINSRB", "Vdq,Ry/Mb,Ib", SSE41), TA(0x21, 66, "INSERTPS", "Vdq,Udq/Md,Ib", SSE41),
    TA(0x22, 66, "PINSRD", "Vdq,Ey,Ib", SSE41),
    TA(0x40, 66, "DPPS", "Vx,Wx,Ib", SSE41), TA(0x41, 66, "DPPD", "Vdq,Wdq,Ib", SSE41),
    TA(0x42, 66, "MPSADBW", "Vdq,Wdq,Ib", SSE41), TA(0x44, 66, "PCLMULQDQ", "Vdq,Wdq,Ib", PCLMUL),
    TA(0x60, 66, "PCMPESTRM", "Vdq,Wdq,Ib", SSE42), TA(0x61, 66, "PCMPESTRI", "Vdq,Wdq,Ib", SSE42),
    TA(0x62, 66, "PCMPISTRM", "Vdq,Wdq,Ib", SSE42), TA(0x63, 66, "PCMPISTRI", "Vdq,Wdq,Ib", SSE42),
    TA(0xcc, NP, "SHA1RNDS4", "Vdq,Wdq,Ib", SHA),
    TA(0xdf, 66, "AESKEYGENASSIST", "Vdq,Wdq,Ib", AES),
};
const size_t x86_opcode_row_count = sizeof(x86_opcode_rows) / sizeof(x86_opcode_rows[0]);

#define GR(grp, reg, pfx, rm, mn, ops, fl, ft) \
    {(grp), (reg), X86_PFX_##pfx, (rm), (mn), (ops), (fl), X86_FEAT_##ft, 0, 0, 0, 0, 0}
#define G(grp, reg, mn, ops, fl) GR(grp, reg, ANY, -1, mn, ops, fl, BASE)
#define GM(grp, reg, mn, ops, fl) GR(grp, reg, ANY, -1, mn, ops, (fl) | X86_MOD_MEM, BASE)
#define GX(grp, reg, rm, mn, fl, ft) GR(grp, reg, ANY, rm, mn, "", (fl) | X86_MOD_REG, ft)
/* groups 12-14: an MMX shift by imm8 and its SSE2 twin */
#define SHIFT(grp, reg, mn)                                       \
    GR(grp, reg, NP, -1, mn, "Nq", X86_MOD_REG, MMX),             \
        GR(grp, reg, 66, -1, mn, "Udq", X86_MOD_REG, SSE2)

/* Table A-6: opcode extensions by ModRM.reg (group 0x1a is the SDM's group 1A). */
struct x86_group_row x86_group_rows[] = {
    G(1, 0, "ADD", "", 0), G(1, 1, "OR", "", 0), G(1, 2, "ADC", "", 0), G(1, 3, "SBB", "", 0),
    G(1, 4, "AND", "", 0), G(1, 5, "SUB", "", 0), G(1, 6, "XOR", "", 0), G(1, 7, "CMP", "", 0),
    G(0x1a, 0, "POP", "", 0),
    G(2, 0, "ROL", "", 0), G(2, 1, "ROR", "", 0), G(2, 2, "RCL", "", 0), G(2, 3, "RCR", "", 0),
    G(2, 4, "SHL", "", 0), G(2, 5, "SHR", "", 0), G(2, 7, "SAR", "", 0),
    /* Table A-6 leaves group 2 /6 and group 3 /1 blank; Intel and AMD processors (the host,
     * our oracle) execute them as SHL and TEST. */
    G(2, 6, "SAL", "", 0), G(3, 1, "TEST", "", 0),
    /* TEST's and MOV's immediate is Ib or Iz by the opcode (F6/F7, C6/C7): decode.c */
    G(3, 0, "TEST", "", 0), G(3, 2, "NOT", "", 0), G(3, 3, "NEG", "", 0),
    G(3, 4, "MUL", "", 0), G(3, 5, "IMUL", "", 0), G(3, 6, "DIV", "", 0), G(3, 7, "IDIV", "", 0),
    G(4, 0, "INC", "Eb", 0), G(4, 1, "DEC", "Eb", 0),
    G(5, 0, "INC", "Ev", 0), G(5, 1, "DEC", "Ev", 0), G(5, 2, "CALL", "Ev", X86_F64),
    GM(5, 3, "CALLF", "Mp", 0), G(5, 4, "JMP", "Ev", X86_F64), GM(5, 5, "JMPF", "Mp", 0),
    G(5, 6, "PUSH", "Ev", X86_D64),
    G(6, 0, "SLDT", "Rv/Mw", 0), G(6, 1, "STR", "Rv/Mw", 0), G(6, 2, "LLDT", "Ew", 0),
    G(6, 3, "LTR", "Ew", 0), G(6, 4, "VERR", "Ew", 0), G(6, 5, "VERW", "Ew", 0),
    GM(7, 0, "SGDT", "Ms", 0), GM(7, 1, "SIDT", "Ms", 0), GM(7, 2, "LGDT", "Ms", 0),
    GM(7, 3, "LIDT", "Ms", 0), G(7, 4, "SMSW", "Mw/Rv", 0), G(7, 6, "LMSW", "Ew", 0),
    GM(7, 7, "INVLPG", "Mb", 0),
    GX(7, 0, 1, "VMCALL", 0, BASE), GX(7, 0, 2, "VMLAUNCH", 0, BASE),
    GX(7, 0, 3, "VMRESUME", 0, BASE), GX(7, 0, 4, "VMXOFF", 0, BASE),
    GX(7, 1, 0, "MONITOR", 0, SSE3), GX(7, 1, 1, "MWAIT", 0, SSE3),
    GX(7, 1, 2, "CLAC", 0, BASE), GX(7, 1, 3, "STAC", 0, BASE),
    GX(7, 2, 0, "XGETBV", 0, XSAVE), GX(7, 2, 1, "XSETBV", 0, XSAVE),
    GX(7, 2, 4, "VMFUNC", 0, BASE), GX(7, 2, 5, "XEND", 0, RTM), GX(7, 2, 6, "XTEST", 0, RTM),
    GX(7, 7, 0, "SWAPGS", X86_O64, BASE), GX(7, 7, 1, "RDTSCP", 0, RDTSCP),
    G(8, 4, "BT", "", 0), G(8, 5, "BTS", "", 0), G(8, 6, "BTR", "", 0), G(8, 7, "BTC", "", 0),
    GM(9, 1, "CMPXCHG8B", "Mq", 0),
    GR(9, 3, NP, -1, "XRSTORS", "M", X86_MOD_MEM, XSAVE),
    GR(9, 4, NP, -1, "XSAVEC", "M", X86_MOD_MEM, XSAVE),
    GR(9, 5, NP, -1, "XSAVES", "M", X86_MOD_MEM, XSAVE),
    GR(9, 6, NP, -1, "VMPTRLD", "Mq", X86_MOD_MEM, BASE),
    GR(9, 6, 66, -1, "VMCLEAR", "Mq", X86_MOD_MEM, BASE),
    GR(9, 6, F3, -1, "VMXON", "Mq", X86_MOD_MEM, BASE),
    GR(9, 7, NP, -1, "VMPTRST", "Mq", X86_MOD_MEM, BASE),
    GR(9, 6, NP, -1, "RDRAND", "Rv", X86_MOD_REG, RDRAND),
    GR(9, 6, 66, -1, "RDRAND", "Rv", X86_MOD_REG, RDRAND),
    GR(9, 7, NP, -1, "RDSEED", "Rv", X86_MOD_REG, RDSEED),
    GR(9, 7, 66, -1, "RDSEED", "Rv", X86_MOD_REG, RDSEED),
    GR(9, 7, F3, -1, "RDPID", "Rd", X86_MOD_REG, RDPID),
    G(11, 0, "MOV", "", 0),
    GX(11, 7, 0, "XABORT", 0, RTM), /* C6 F8 ib / C7 F8 cw|cd */
    SHIFT(12, 2, "PSRLW"),
    SHIFT(12, 4, "PSRAW"),
    SHIFT(12, 6, "PSLLW"),
    SHIFT(13, 2, "PSRLD"),
    SHIFT(13, 4, "PSRAD"),
    SHIFT(13, 6, "PSLLD"),
    SHIFT(14, 2, "PSRLQ"),
    GR(14, 3, 66, -1, "PSRLDQ", "Udq", X86_MOD_REG, SSE2),
    SHIFT(14, 6, "PSLLQ"),
    GR(14, 7, 66, -1, "PSLLDQ", "Udq", X86_MOD_REG, SSE2),
    GR(15, 0, NP, -1, "FXSAVE", "M", X86_MOD_MEM, SSE),
    GR(15, 1, NP, -1, "FXRSTOR", "M", X86_MOD_MEM, SSE),
    GR(15, 2, NP, -1, "LDMXCSR", "Md", X86_MOD_MEM, SSE),
    GR(15, 3, NP, -1, "STMXCSR", "Md", X86_MOD_MEM, SSE),
    GR(15, 4, NP, -1, "XSAVE", "M", X86_MOD_MEM, XSAVE),
    GR(15, 5, NP, -1, "XRSTOR", "M", X86_MOD_MEM, XSAVE),
    GR(15, 6, NP, -1, "XSAVEOPT", "M", X86_MOD_MEM, XSAVE),
    GR(15, 7, NP, -1, "CLFLUSH", "Mb", X86_MOD_MEM, SSE2),
    GR(15, 6, 66, -1, "CLWB", "Mb", X86_MOD_MEM, CLWB),
    GR(15, 7, 66, -1, "CLFLUSHOPT", "Mb", X86_MOD_MEM, CLFLUSHOPT),
    GR(15, 5, NP, -1, "LFENCE", "", X86_MOD_REG, SSE2),
    GR(15, 6, NP, -1, "MFENCE", "", X86_MOD_REG, SSE2),
    GR(15, 7, NP, -1, "SFENCE", "", X86_MOD_REG, SSE),
    GR(15, 0, F3, -1, "RDFSBASE", "Ry", X86_MOD_REG | X86_O64, FSGSBASE),
    GR(15, 1, F3, -1, "RDGSBASE", "Ry", X86_MOD_REG | X86_O64, FSGSBASE),
    GR(15, 2, F3, -1, "WRFSBASE", "Ry", X86_MOD_REG | X86_O64, FSGSBASE),
    GR(15, 3, F3, -1, "WRGSBASE", "Ry", X86_MOD_REG | X86_O64, FSGSBASE),
    GM(16, 0, "PREFETCHNTA", "Mb", 0), GM(16, 1, "PREFETCHT0", "Mb", 0),
    GM(16, 2, "PREFETCHT1", "Mb", 0), GM(16, 3, "PREFETCHT2", "Mb", 0),
    /* the rest of 0F 18 is reserved-NOP space */
    GR(16, 0, ANY, -1, "NOP", "Ev", X86_MOD_REG, BASE),
    GR(16, 1, ANY, -1, "NOP", "Ev", X86_MOD_REG, BASE),
    GR(16, 2, ANY, -1, "NOP", "Ev", X86_MOD_REG, BASE),
    GR(16, 3, ANY, -1, "NOP", "Ev", X86_MOD_REG, BASE),
    G(16, 4, "NOP", "Ev", 0),
    G(16, 5, "NOP", "Ev", 0), G(16, 6, "NOP", "Ev", 0), G(16, 7, "NOP", "Ev", 0),
};
const size_t x86_group_row_count = sizeof(x86_group_rows) / sizeof(x86_group_rows[0]);
