/*
 * coremu x86_64 — operands: from the SDM's operand codes (Appendix A.2) of a decoded row to the
 * micro-op's operand list, once at translation; and reading and writing them at execution.
 *
 * An operand code is an addressing method (upper case) followed by a size (lower case), or a
 * fixed register. The methods kept here:
 *   E  ModRM.rm: a general register or memory      G  ModRM.reg: a general register
 *   M  ModRM.rm, memory only                        R  ModRM.rm, register only
 *   I  immediate   J  relative branch target        O  memory at an absolute offset (moffs)
 *   Z  register in the opcode's low bits (+REX.B)  S  ModRM.reg: a segment register
 *   C  control register  D  debug register          A  far pointer immediate
 *   V/U/W  XMM by ModRM.reg / rm / rm-or-memory     P/N/Q  MMX likewise
 *   X/Y  string operands (DS:rSI / ES:rDI): handled by the string handlers themselves
 *   F  RFLAGS (PUSHF/POPF): implicit
 * Sizes: b 1, w 2, d 4, q 8, v the operand size, z 2 or 4 (4 for 8), y 4 or 8, dq/x/ps/pd 16,
 * ss/sd 4/8, p a far pointer (2 + z... as the SDM gives it), s 6 or 10 (descriptor tables).
 */
#include "config.h"

#include <string.h>

#include <coremu/log.h>

#include "cpu.h"
#include "decode.h"
#include "ops.h"

/* The size an SDM size code gives under operand size opsize (bytes). */
static unsigned size_of_code(const char *s, size_t n, unsigned opsize, bool in64)
{
    if (n == 0) {
        return opsize;
    }
    if (n == 1) {
        switch (s[0]) {
        case 'b':
            return 1;
        case 'w':
            return 2;
        case 'd':
            return 4;
        case 'q':
            return 8;
        case 'v':
            return opsize;
        case 'z':
            return opsize == 2 ? 2 : 4;
        case 'y':
            return opsize == 8 ? 8 : 4;
        case 'x':
            return 16;
        case 'p':
            return (uint8_t)(2 + (opsize == 2 ? 2 : opsize));
        case 's':
            return in64 ? 10 : 6;
        case 'a':
            return (uint8_t)(opsize * 2);
        default:
            return opsize;
        }
    }
    if ((n == 2 && memcmp(s, "dq", 2) == 0) || (n == 2 && (memcmp(s, "ps", 2) == 0 ||
                                                          memcmp(s, "pd", 2) == 0))) {
        return 16;
    }
    if (n == 2 && memcmp(s, "ss", 2) == 0) {
        return 4;
    }
    if (n == 2 && memcmp(s, "sd", 2) == 0) {
        return 8;
    }
    if (n == 2 && memcmp(s, "pi", 2) == 0) {
        return 8;
    }
    return opsize;
}

/* ModRM's memory form into op's base/index/scale/disp/seg (addressing per address size). */
static void decode_memory(const struct x86_insn *in, bool in64, uint64_t next_pc,
                          struct x86_uop *op)
{
    unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
    unsigned rex_b = (in->rex & 1) ? 8 : 0, rex_x = (in->rex & 2) ? 8 : 0;
    unsigned seg = X86_DS;

    op->base = op->sib_index = X86_REG_NONE;
    op->scale = 0;
    op->disp = in->disp;
    op->flags |= X86_UOP_MEM;
    if (in->addrsize == 16) {
        static const uint8_t base16[8] = {X86_RBX, X86_RBX, X86_RBP, X86_RBP,
                                          X86_REG_NONE, X86_REG_NONE, X86_RBP, X86_RBX};
        static const uint8_t index16[8] = {X86_RSI, X86_RDI, X86_RSI, X86_RDI,
                                           X86_RSI, X86_RDI, X86_REG_NONE, X86_REG_NONE};
        op->base = base16[rm];
        op->sib_index = index16[rm];
        if (mod == 0 && rm == 6) {
            op->base = X86_REG_NONE;
        }
        if (op->base == X86_RBP) {
            seg = X86_SS;
        }
        if (op->base == X86_REG_NONE && op->sib_index != X86_REG_NONE) {
            op->base = op->sib_index;
            op->sib_index = X86_REG_NONE;
        }
    } else if (rm == 4) {
        unsigned sib = in->sib, base = (sib & 7) | rex_b, index = ((sib >> 3) & 7) | rex_x;
        op->scale = (uint8_t)(sib >> 6);
        op->sib_index = index == 4 ? X86_REG_NONE : (uint8_t)index;
        if ((sib & 7) == 5 && mod == 0) {
            op->base = X86_REG_NONE;
        } else {
            op->base = (uint8_t)base;
            if (base == X86_RSP || base == X86_RBP) {
                seg = X86_SS;
            }
        }
    } else if (rm == 5 && mod == 0) {
        if (in64) {
            /* RIP-relative: fold in the address of the next instruction now */
            op->disp = (int64_t)(next_pc + (uint64_t)in->disp);
        }
    } else {
        op->base = (uint8_t)(rm | rex_b);
        if (op->base == X86_RBP) {
            seg = X86_SS;
        }
    }
    op->seg = (uint8_t)seg;
}

/* A general register number for ModRM field value r (with REX extension) of size bytes. */
static uint8_t gpr_of(unsigned r, unsigned size, bool rex)
{
    if (size == 1 && !rex && r >= 4 && r < 8) {
        return (uint8_t)(X86_REG_AH + (r - 4));
    }
    return (uint8_t)r;
}

static const struct {
    const char *name;
    uint8_t kind, reg, size; /* size 0: the operand size; 0xfe: eAX (2 or 4) */
} fixed_operands[] = {
    {"AL", X86_OPND_GPR, X86_RAX, 1}, {"CL", X86_OPND_GPR, X86_RCX, 1},
    {"DX", X86_OPND_GPR, X86_RDX, 2}, {"rAX", X86_OPND_GPR, X86_RAX, 0},
    {"eAX", X86_OPND_GPR, X86_RAX, 0xfe}, {"1", X86_OPND_ONE, 0, 1},
    {"ES", X86_OPND_SEG, X86_ES, 2}, {"CS", X86_OPND_SEG, X86_CS, 2},
    {"SS", X86_OPND_SEG, X86_SS, 2}, {"DS", X86_OPND_SEG, X86_DS, 2},
    {"FS", X86_OPND_SEG, X86_FS, 2}, {"GS", X86_OPND_SEG, X86_GS, 2},
};

bool x86_build_operands(const struct x86_insn *in, bool in64, uint64_t pc, struct x86_uop *op)
{
    const char *codes = in->operands ? in->operands : "";
    bool rex = in->rex != 0;
    unsigned reg = ((in->modrm >> 3) & 7) | ((in->rex & 4) ? 8 : 0);
    unsigned rm = (in->modrm & 7) | ((in->rex & 1) ? 8 : 0);
    bool mem = in->has_modrm && (in->modrm >> 6) != 3;
    uint64_t next_pc = pc + in->length;
    unsigned nimm = 0;
    bool imm_seen = false;

    if (in->group_row && in->group_row->operands && in->group_row->operands[0]) {
        codes = in->group_row->operands;
    }
    op->nopnd = 0;
    op->base = op->sib_index = X86_REG_NONE;
    op->seg = X86_DS;
    if (mem) {
        decode_memory(in, in64, next_pc, op);
    }
    if (in->seg) {
        static const uint8_t seg_of_prefix[8] = {X86_ES, X86_CS, X86_SS, X86_DS,
                                                 X86_FS, X86_GS, 0, 0};
        unsigned s = in->seg == 0x26 ? 0 : in->seg == 0x2e ? 1 : in->seg == 0x36 ? 2
                   : in->seg == 0x3e ? 3 : in->seg == 0x64 ? 4 : 5;
        op->seg = seg_of_prefix[s];
    }

    for (const char *p = codes; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *next = end ? end + 1 : p + n; /* past the whole "Rd/Mb" code */
        struct x86_operand *o = &op->opnd[op->nopnd];
        char m = p[0];
        /* "Rd/Mb" style: the register form's code when ModRM says register, else memory */
        const char *slash = memchr(p, '/', n);
        if (slash) {
            if (mem) {
                n -= (size_t)(slash + 1 - p);
                p = slash + 1;
            } else {
                n = (size_t)(slash - p);
            }
            m = p[0];
        }
        o->kind = X86_OPND_NONE;
        bool fixed = false;
        for (size_t i = 0; i < sizeof(fixed_operands) / sizeof(fixed_operands[0]); i++) {
            if (strlen(fixed_operands[i].name) == n && memcmp(fixed_operands[i].name, p, n) == 0) {
                o->kind = fixed_operands[i].kind;
                o->reg = fixed_operands[i].reg;
                o->size = fixed_operands[i].size == 0      ? op->opsize
                          : fixed_operands[i].size == 0xfe ? (op->opsize == 2 ? 2 : 4)
                                                           : fixed_operands[i].size;
                fixed = true;
                break;
            }
        }
        if (!fixed) {
            unsigned size = size_of_code(p + 1, n - 1, op->opsize, in64);
            o->size = (uint8_t)(size > 255 ? 255 : size);
            switch (m) {
            case 'E':
            case 'M':
            case 'R':
                if (mem) {
                    o->kind = X86_OPND_MEM;
                } else {
                    o->kind = X86_OPND_GPR;
                    o->reg = gpr_of(rm, size, rex);
                    if (m == 'R' && in->map == X86_MAP_0F && (in->opcode & 0xfc) == 0x20) {
                        /* MOV to/from CR/DR: 64-bit in 64-bit mode, 32-bit elsewhere */
                        o->size = in64 ? 8 : 4;
                    }
                }
                break;
            case 'G':
                o->kind = X86_OPND_GPR;
                o->reg = gpr_of(reg, size, rex);
                break;
            case 'Z':
                o->kind = X86_OPND_GPR;
                o->reg = gpr_of((in->opcode & 7) | ((in->rex & 1) ? 8 : 0), size, rex);
                break;
            case 'I':
            case 'J':
            case 'A': {
                uint64_t v = nimm == 0 ? in->imm : in->imm2;
                unsigned isz = nimm == 0 ? in->imm_size : in->imm2_size;
                if (m == 'A') {
                    /* ptr16:16 / ptr16:32: the offset, then the selector */
                    unsigned off_bytes = in->imm_size - 2;
                    op->imm = in->imm & x86_size_mask(off_bytes);
                    op->imm2 = (in->imm >> (8 * off_bytes)) & 0xffff;
                    o->kind = X86_OPND_IMM;
                    imm_seen = true;
                    nimm = 2;
                    break;
                }
                /* Immediates the SDM sign-extends: b and z ones in operations of a wider size,
                 * and branch displacements. Iw (RET, ENTER) and Iv are taken as they are. */
                if ((p[1] == 'b' || p[1] == 'z') && isz > 0) {
                    v = (uint64_t)x86_sext(v, isz);
                }
                if (m == 'J') {
                    v = next_pc + v;
                }
                /* an immediate operand of an operation takes the destination's size (83 /0:
                 * ADD r/m32, imm8 adds a sign-extended imm8 as 32 bits) */
                if (op->nopnd > 0 && (p[1] == 'b' || p[1] == 'z') &&
                    op->opnd[0].kind != X86_OPND_IMM) {
                    o->size = op->opnd[0].size;
                }
                if (nimm == 0) {
                    op->imm = v;
                    o->kind = X86_OPND_IMM;
                } else {
                    op->imm2 = v;
                    o->kind = X86_OPND_IMM2;
                }
                nimm++;
                imm_seen = true;
                break;
            }
            case 'O':
                o->kind = X86_OPND_MEM;
                op->base = op->sib_index = X86_REG_NONE;
                op->disp = (int64_t)in->imm;
                op->flags |= X86_UOP_MEM;
                break;
            case 'S':
                o->kind = X86_OPND_SEG;
                o->reg = (uint8_t)((in->modrm >> 3) & 7);
                o->size = 2;
                break;
            case 'C':
                o->kind = X86_OPND_CR;
                o->reg = (uint8_t)reg;
                o->size = in64 ? 8 : 4;
                break;
            case 'D':
                o->kind = X86_OPND_DR;
                o->reg = (uint8_t)reg;
                o->size = in64 ? 8 : 4;
                break;
            case 'V':
                o->kind = X86_OPND_XMM;
                o->reg = (uint8_t)reg;
                break;
            case 'U':
                o->kind = X86_OPND_XMM;
                o->reg = (uint8_t)rm;
                break;
            case 'W':
                o->kind = mem ? X86_OPND_MEM : X86_OPND_XMM;
                o->reg = (uint8_t)rm;
                break;
            case 'P':
                o->kind = X86_OPND_MMX;
                o->reg = (uint8_t)((in->modrm >> 3) & 7);
                break;
            case 'N':
                o->kind = X86_OPND_MMX;
                o->reg = (uint8_t)(in->modrm & 7);
                break;
            case 'Q':
                o->kind = mem ? X86_OPND_MEM : X86_OPND_MMX;
                o->reg = (uint8_t)(in->modrm & 7);
                break;
            case 'X':
            case 'Y':
            case 'F':
                /* implicit: the handler knows them */
                break;
            default:
                return false;
            }
        }
        if (o->kind != X86_OPND_NONE) {
            op->nopnd++;
            if (op->nopnd == 3) {
                break;
            }
        }
        p = next;
    }
    /* Immediates a group's row implies without naming them (TEST F6/F7 /0, MOV C6/C7 /0). */
    if (!imm_seen && in->imm_size > 0 && op->nopnd < 3) {
        struct x86_operand *o = &op->opnd[op->nopnd++];
        op->imm = (uint64_t)x86_sext(in->imm, in->imm_size);
        o->kind = X86_OPND_IMM;
        o->size = op->opsize;
    }
    return true;
}

uint64_t x86_opnd_read(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i)
{
    const struct x86_operand *o = &op->opnd[i];

    switch (o->kind) {
    case X86_OPND_GPR:
        return x86_reg_read(cpu, o->reg, o->size);
    case X86_OPND_MEM:
        if (__builtin_expect(o->size > 8, 0)) {
            break; /* a handler that should read its wide operand itself: #UD, not a crash */
        }
        return x86_load_fast(cpu, x86_op_linear(cpu, op, 0, o->size, X86_ACC_READ), o->size);
    case X86_OPND_IMM:
        return op->imm & x86_size_mask(o->size);
    case X86_OPND_IMM2:
        return op->imm2 & x86_size_mask(o->size);
    case X86_OPND_ONE:
        return 1;
    case X86_OPND_SEG:
        return cpu->seg[o->reg].selector;
    default:
        break;
    }
    COREMU_LOG(COREMU_LOG_UNIMP, "x86: %016llx: operand %u (kind %u, %u bytes) not readable "
               "here: #UD\n", (unsigned long long)op->pc, i, o->kind, o->size);
    x86_raise_noerr(cpu, X86_EXC_UD);
}

void x86_opnd_write(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i, uint64_t v)
{
    const struct x86_operand *o = &op->opnd[i];

    switch (o->kind) {
    case X86_OPND_GPR:
        x86_reg_write(cpu, o->reg, o->size, v);
        return;
    case X86_OPND_MEM:
        if (__builtin_expect(o->size > 8, 0)) {
            break;
        }
        x86_store_fast(cpu, x86_op_linear(cpu, op, 0, o->size, X86_ACC_WRITE), o->size, v);
        return;
    default:
        break;
    }
    COREMU_LOG(COREMU_LOG_UNIMP, "x86: %016llx: operand %u (kind %u, %u bytes) not writable "
               "here: #UD\n", (unsigned long long)op->pc, i, o->kind, o->size);
    x86_raise_noerr(cpu, X86_EXC_UD);
}
