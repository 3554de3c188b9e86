/*
 * coremu x86_64 — the instruction decoder's front end: prefixes, opcode maps (one-byte, 0F,
 * 0F 38, 0F 3A, written from the Intel SDM Vol. 2 Appendix A), ModRM/SIB/displacement and
 * immediate sizes. It finds an instruction's length, its table row and whether it is defined
 * in the mode; execution is not here yet.
 */
#ifndef COREMU_X86_64_DECODE_H
#define COREMU_X86_64_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum x86_mode { X86_MODE_16 = 16, X86_MODE_32 = 32, X86_MODE_64 = 64 };

enum x86_map { X86_MAP_1BYTE, X86_MAP_0F, X86_MAP_0F38, X86_MAP_0F3A, X86_MAP_COUNT };

/* The mandatory prefix column of an SSE row; X86_PFX_ANY for rows prefixes do not select. */
enum x86_mandatory { X86_PFX_NP, X86_PFX_66, X86_PFX_F3, X86_PFX_F2, X86_PFX_ANY };

enum x86_feature {
    X86_FEAT_BASE,
    X86_FEAT_X87,
    X86_FEAT_CMOV,
    X86_FEAT_MMX,
    X86_FEAT_SSE,
    X86_FEAT_SSE2,
    X86_FEAT_SSE3,
    X86_FEAT_SSSE3,
    X86_FEAT_SSE41,
    X86_FEAT_SSE42,
    X86_FEAT_POPCNT,
    X86_FEAT_MOVBE,
    X86_FEAT_LZCNT,
    X86_FEAT_BMI1,
    X86_FEAT_RDRAND,
    X86_FEAT_RDSEED,
    X86_FEAT_RTM,
    X86_FEAT_FSGSBASE,
    X86_FEAT_RDPID,
    X86_FEAT_CX16,
    X86_FEAT_AES,
    X86_FEAT_PCLMUL,
    X86_FEAT_SHA,
    X86_FEAT_ADX,
    X86_FEAT_XSAVE,
    X86_FEAT_SYSCALL,
    X86_FEAT_RDTSCP,
    X86_FEAT_CLFLUSHOPT,
    X86_FEAT_CLWB,
};

/* Row flags (SDM superscripts and operand-size rules). */
#define X86_I64      0x0001u /* invalid in 64-bit mode */
#define X86_O64      0x0002u /* valid only in 64-bit mode */
#define X86_D64      0x0004u /* 64-bit mode: default operand size 64 (66 gives 16) */
#define X86_F64      0x0008u /* 64-bit mode: operand size forced to 64 */
#define X86_LOCKABLE 0x0010u /* LOCK allowed with a memory destination */
#define X86_MOD_MEM  0x0020u /* group row: only ModRM.mod != 3 */
#define X86_MOD_REG  0x0040u /* group row: only ModRM.mod == 3 */

/* Immediate kinds, from the operand codes. */
enum x86_imm {
    X86_IMM_NONE,
    X86_IMM_B,
    X86_IMM_W,
    X86_IMM_Z,
    X86_IMM_V,
    X86_IMM_JB,
    X86_IMM_JZ,
    X86_IMM_MOFFS,
    X86_IMM_FAR
};

struct x86_opcode_row {
    uint8_t map, opcode, prefix; /* prefix: enum x86_mandatory */
    uint8_t group;               /* nonzero: ModRM.reg selects a row of this group */
    const char *mnemonic;        /* as the SDM names it */
    const char *operands;        /* SDM operand codes, comma-separated: "Ev,Gv" */
    uint16_t flags;
    uint8_t feature; /* enum x86_feature */
    /* derived from operands at start-up */
    uint8_t has_modrm, imm1, imm2, mem_only, reg_only;
};

struct x86_group_row {
    uint8_t group, reg, prefix;
    int16_t rm; /* -1: any; else the row applies to mod == 3 and this ModRM.rm only */
    const char *mnemonic, *operands;
    uint16_t flags;
    uint8_t feature;
    uint8_t has_modrm, imm1, imm2, mem_only, reg_only;
};

enum x86_decode_status {
    X86_DECODE_OK,
    X86_DECODE_NEED_MORE, /* avail ended before the instruction did; length: bytes needed */
    X86_DECODE_UD,        /* undefined in this mode (#UD); length: the bytes read to know it */
    X86_DECODE_GP,        /* longer than 15 bytes (#GP) */
};

/* Why an encoding is #UD: tests compare classes of disagreement with other decoders. */
enum x86_ud_reason {
    X86_UD_NONE,
    X86_UD_OPCODE, /* no row for the opcode (with this mandatory prefix) */
    X86_UD_MODE,   /* the row is invalid in this mode (i64 / o64) */
    X86_UD_MODRM,  /* the row needs a memory (or register) ModRM form, or no group row */
    X86_UD_X87,    /* an undefined x87 register form */
    X86_UD_LOCK,   /* LOCK on an instruction that is not a locked read-modify-write */
    X86_UD_VEX,    /* VEX/EVEX encoding: no AVX advertised */
};

struct x86_insn {
    enum x86_decode_status status;
    uint8_t length;
    uint8_t map, opcode;
    uint8_t prefix_count; /* legacy prefixes and REX bytes before the opcode */
    uint8_t seg;          /* 0 none, else the override byte (26, 2E, 36, 3E, 64, 65) */
    uint8_t rep;          /* 0, 0xF2 or 0xF3: the last of them */
    uint8_t lock, opsize_prefix, addrsize_prefix;
    uint8_t rex;              /* 0 or the REX byte in effect */
    uint8_t vex;              /* the C4/C5/62 escape when status is UD because of it */
    uint8_t ud_reason;        /* enum x86_ud_reason when status is X86_DECODE_UD */
    uint8_t opsize, addrsize; /* in bits */
    uint8_t has_modrm, modrm, has_sib, sib;
    uint8_t disp_size, imm_size, imm2_size;
    int64_t disp;
    uint64_t imm, imm2;
    const char *mnemonic; /* NULL when undefined */
    const char *operands;
    uint8_t feature;
    /* The rows that defined it (group_row NULL outside groups): the executor keys its handler
     * and operand codes on them. */
    const struct x86_opcode_row *row;
    const struct x86_group_row *group_row;
};

/*
 * Decodes the instruction at bytes, reading at most avail bytes (and never past 15), into
 * out; returns out->status. The CPUID features of rows are reported, not checked: the
 * executor gates them.
 */
enum x86_decode_status x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode,
                                  struct x86_insn *out);

/* The tables (opcode_maps.c). */
extern struct x86_opcode_row x86_opcode_rows[];
extern const size_t x86_opcode_row_count;
extern struct x86_group_row x86_group_rows[];
extern const size_t x86_group_row_count;

#endif
