/*
 * coremu x86_64 — decoder front end: prefixes, map escapes, table lookup (opcode_maps.c),
 * ModRM/SIB/displacement and immediates. The sizes follow the SDM Vol. 2 chapter 2 and
 * Appendix A.2 operand codes.
 */
#include "decode.h"

#include <pthread.h>
#include <string.h>

#define X86_MAX_LENGTH 15

/* [map][opcode][column][in 64-bit mode] */
static const struct x86_opcode_row *opcode_index[X86_MAP_COUNT][256][5][2];
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

/*
 * x87 (D8-DF, SDM Table ): which ModRM.reg values are defined in the memory forms,
 * and for the register forms which ModRM.rm values are defined per reg.
 */
/*
 * Beyond the SDM's tables, two register forms every x86 since the 387 executes and the host
 * (our oracle) accepts: DB E0/E1/E4 (FENI, FDISI, FSETPM: no-ops) and DF C0-C7 (FFREEP).
 */
static const uint8_t x87_mem_regs[8] = {0xff, 0xfd, 0xff, 0xaf, 0xff, 0xdf, 0xff, 0xff};
static const uint8_t x87_reg_rms[8][8] = {
    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    {0xff, 0xff, 0x01, 0x00, 0x33, 0x7f, 0xff, 0xff},
    {0xff, 0xff, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00},
    {0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x00},
    {0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff},
    {0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00},
    {0xff, 0xff, 0x00, 0x02, 0xff, 0xff, 0xff, 0xff},
    {0xff, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00},
};

struct operand_facts {
    uint8_t has_modrm, imm1, imm2, mem_only, reg_only, mod_ignored;
};

static enum x86_imm immediate_of(const char *op, size_t len)
{
    if (len < 2) {
        return X86_IMM_NONE;
    }
    switch (op[0]) {
    case 'I':
        return op[1] == 'b'   ? X86_IMM_B
               : op[1] == 'w' ? X86_IMM_W
               : op[1] == 'z' ? X86_IMM_Z
               : op[1] == 'v' ? X86_IMM_V
                              : X86_IMM_NONE;
    case 'J':
        return op[1] == 'b' ? X86_IMM_JB : X86_IMM_JZ;
    case 'O':
        return X86_IMM_MOFFS;
    case 'A':
        return op[1] == 'p' ? X86_IMM_FAR : X86_IMM_NONE; /* "AL" is a register */
    default:
        return X86_IMM_NONE;
    }
}

/* What the SDM operand codes say about the encoding's shape. */
static struct operand_facts parse_operands(const char *ops)
{
    struct operand_facts f = {0, 0, 0, 0, 0, 0};
    while (*ops) {
        size_t len = strcspn(ops, ",");
        int alternatives = memchr(ops, '/', len) != NULL; /* "Rd/Mb": either form */
        if (len >= 2 && strchr("EGMRSCDNPQUVW", ops[0]) && ops[1] >= 'a' && ops[1] <= 'z') {
            f.has_modrm = 1;
            f.mem_only |= ops[0] == 'M' && !alternatives;
            f.reg_only |= (ops[0] == 'U' || ops[0] == 'N') && !alternatives;
            /* MOV to/from CRn/DRn: the mod field is ignored, the form is always a register */
            f.mod_ignored |= ops[0] == 'C' || ops[0] == 'D';
        } else if (len == 1 && ops[0] == 'M') {
            f.has_modrm = 1;
            f.mem_only = 1;
        }
        enum x86_imm imm = immediate_of(ops, len);
        if (imm != X86_IMM_NONE) {
            if (f.imm1 == X86_IMM_NONE) {
                f.imm1 = imm;
            } else {
                f.imm2 = imm;
            }
        }
        ops += len;
        ops += *ops == ',';
    }
    return f;
}

static void build_index(void)
{
    for (size_t i = 0; i < x86_opcode_row_count; i++) {
        struct x86_opcode_row *row = &x86_opcode_rows[i];
        struct operand_facts f = parse_operands(row->operands);
        row->has_modrm = f.has_modrm || row->group != 0;
        row->imm1 = f.imm1;
        row->imm2 = f.imm2;
        row->mem_only = f.mem_only;
        row->reg_only = f.reg_only;
        if (f.mod_ignored) {
            row->flags |= X86_MOD_REG;
        }
        for (int in64 = 0; in64 < 2; in64++) {
            if ((in64 && (row->flags & X86_I64)) || (!in64 && (row->flags & X86_O64))) {
                continue;
            }
            opcode_index[row->map][row->opcode][row->prefix][in64] = row;
        }
    }
    for (size_t i = 0; i < x86_group_row_count; i++) {
        struct x86_group_row *row = &x86_group_rows[i];
        struct operand_facts f = parse_operands(row->operands);
        row->mem_only = f.mem_only || (row->flags & X86_MOD_MEM);
        row->reg_only = f.reg_only || (row->flags & X86_MOD_REG);
    }
}

/* The group row for ModRM and the mandatory-prefix column; the rm-specific rows first. */
static const struct x86_group_row *find_group_row(unsigned group, uint8_t modrm, unsigned column)
{
    unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    const struct x86_group_row *best = NULL;
    int best_score = -1;
    for (size_t i = 0; i < x86_group_row_count; i++) {
        const struct x86_group_row *row = &x86_group_rows[i];
        if (row->group != group || row->reg != reg) {
            continue;
        }
        if ((row->mem_only && mod == 3) || (row->reg_only && mod != 3)) {
            continue;
        }
        if (row->rm >= 0 && (mod != 3 || row->rm != (int)rm)) {
            continue;
        }
        if (row->prefix != X86_PFX_ANY && row->prefix != column) {
            continue;
        }
        int score = (row->rm >= 0) * 2 + (row->prefix != X86_PFX_ANY);
        if (score > best_score) {
            best = row;
            best_score = score;
        }
    }
    return best;
}

static unsigned immediate_bytes(enum x86_imm imm, const struct x86_insn *in, enum x86_mode mode)
{
    switch (imm) {
    case X86_IMM_B:
    case X86_IMM_JB:
        return 1;
    case X86_IMM_W:
        return 2;
    case X86_IMM_Z:
        return in->opsize == 16 ? 2 : 4;
    case X86_IMM_V:
        return in->opsize / 8;
    case X86_IMM_JZ:
        /* 64-bit mode: near branches are 64-bit, their displacement 32 (Intel ignores 66) */
        return mode == X86_MODE_64 ? 4 : (in->opsize == 16 ? 2 : 4);
    case X86_IMM_MOFFS:
        return in->addrsize / 8;
    case X86_IMM_FAR:
        return 2 + (in->opsize == 16 ? 2 : 4);
    default:
        return 0;
    }
}

static uint64_t read_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static enum x86_decode_status finish(struct x86_insn *out, enum x86_decode_status st,
                                     unsigned length)
{
    out->status = st;
    out->length = (uint8_t)length;
    return st;
}

static enum x86_decode_status undefined(struct x86_insn *out, enum x86_ud_reason why,
                                        unsigned length)
{
    out->ud_reason = (uint8_t)why;
    out->mnemonic = NULL;
    return finish(out, X86_DECODE_UD, length);
}

/* Whether n bytes can be read: the 15-byte rule first, then what the caller has. */
#define NEED(n)                                                      \
    do {                                                             \
        if ((n) > X86_MAX_LENGTH) {                                  \
            return finish(out, X86_DECODE_GP, X86_MAX_LENGTH);       \
        }                                                            \
        if ((n) > avail) {                                           \
            return finish(out, X86_DECODE_NEED_MORE, (unsigned)(n)); \
        }                                                            \
    } while (0)

enum x86_decode_status x86_decode(const uint8_t *bytes, size_t avail, enum x86_mode mode,
                                  struct x86_insn *out)
{
    pthread_once(&index_once, build_index);
    memset(out, 0, sizeof(*out));
    const int in64 = mode == X86_MODE_64;
    size_t pos = 0;

    for (;;) {
        NEED(pos + 1);
        uint8_t b = bytes[pos];
        if (in64 && (b & 0xf0) == 0x40) {
            out->rex = b;
        } else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65) {
            out->seg = b;
            out->rex = 0; /* a REX not directly before the opcode is ignored */
        } else if (b == 0x66) {
            out->opsize_prefix = 1;
            out->rex = 0;
        } else if (b == 0x67) {
            out->addrsize_prefix = 1;
            out->rex = 0;
        } else if (b == 0xf0) {
            out->lock = 1;
            out->rex = 0;
        } else if (b == 0xf2 || b == 0xf3) {
            out->rep = b;
            out->rex = 0;
        } else {
            break;
        }
        pos++;
        out->prefix_count++;
    }

    uint8_t op = bytes[pos++];
    unsigned map = X86_MAP_1BYTE;
    if ((op == 0xc4 || op == 0xc5 || op == 0x62) && !in64) {
        NEED(pos + 1); /* outside 64-bit mode, ModRM.mod == 3 makes LES/LDS/BOUND a VEX/EVEX */
    }
    if ((op == 0xc4 || op == 0xc5 || op == 0x62) && (in64 || (bytes[pos] >> 6) == 3)) {
        out->vex = op;
        return undefined(out, X86_UD_VEX, (unsigned)pos);
    }
    if (op == 0x0f) {
        NEED(pos + 1);
        op = bytes[pos++];
        map = X86_MAP_0F;
        if (op == 0x38 || op == 0x3a) {
            map = op == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            NEED(pos + 1);
            op = bytes[pos++];
        }
    }
    out->map = (uint8_t)map;
    out->opcode = op;

    unsigned column = out->rep == 0xf3     ? X86_PFX_F3
                      : out->rep == 0xf2   ? X86_PFX_F2
                      : out->opsize_prefix ? X86_PFX_66
                                           : X86_PFX_NP;
    const struct x86_opcode_row *row = opcode_index[map][op][column][in64];
    if (row == NULL) {
        row = opcode_index[map][op][X86_PFX_ANY][in64];
    }
    if (row == NULL) {
        const int other =
            opcode_index[map][op][column][!in64] || opcode_index[map][op][X86_PFX_ANY][!in64];
        return undefined(out, other ? X86_UD_MODE : X86_UD_OPCODE, (unsigned)pos);
    }
    /* A mandatory prefix is not an operand-size prefix, except on the general-purpose rows
     * that the table lists under 66 only to tell them from their F2/F3 columns (BSF, BSR),
     * and MOVBE's, where 66 is the operand-size prefix (16 bits, or 32 in 16-bit code). */
    const int opsize_prefix =
        out->opsize_prefix && (row->prefix != X86_PFX_66 || row->feature == X86_FEAT_BASE ||
                               row->feature == X86_FEAT_MOVBE);

    if (mode == X86_MODE_16) {
        out->opsize = opsize_prefix ? 32 : 16;
        out->addrsize = out->addrsize_prefix ? 32 : 16;
    } else if (mode == X86_MODE_32) {
        out->opsize = opsize_prefix ? 16 : 32;
        out->addrsize = out->addrsize_prefix ? 16 : 32;
    } else {
        out->addrsize = out->addrsize_prefix ? 32 : 64;
        if (out->rex & 8) {
            out->opsize = 64;
        } else if (row->flags & X86_F64) {
            out->opsize = 64;
        } else if (row->flags & X86_D64) {
            out->opsize = opsize_prefix ? 16 : 64;
        } else {
            out->opsize = opsize_prefix ? 16 : 32;
        }
    }

    out->mnemonic = row->mnemonic;
    out->operands = row->operands;
    out->row = row;
    out->feature = row->feature;
    enum x86_imm imm1 = row->imm1, imm2 = row->imm2;
    int lockable = (row->flags & X86_LOCKABLE) != 0;
    enum x86_ud_reason ud = X86_UD_NONE;

    if (row->has_modrm) {
        NEED(pos + 1);
        uint8_t modrm = bytes[pos++];
        unsigned mod = modrm >> 6, rm = modrm & 7;
        out->has_modrm = 1;
        out->modrm = modrm;
        if (row->flags & X86_MOD_REG) {
            /* no memory form: no SIB, no displacement */
        } else if (out->addrsize == 16) {
            out->disp_size = mod == 1 ? 1 : (mod == 2 || (mod == 0 && rm == 6)) ? 2 : 0;
        } else if (mod != 3) {
            if (rm == 4) {
                NEED(pos + 1);
                out->has_sib = 1;
                out->sib = bytes[pos++];
            }
            out->disp_size = mod == 1 ? 1
                             : (mod == 2 || (mod == 0 && rm == 5) ||
                                (mod == 0 && out->has_sib && (out->sib & 7) == 5))
                                 ? 4
                                 : 0;
        }
        if ((row->mem_only && mod == 3) || (row->reg_only && mod != 3)) {
            ud = X86_UD_MODRM;
        }
        if (row->group != 0) {
            const struct x86_group_row *g = find_group_row(row->group, modrm, column);
            unsigned reg = (modrm >> 3) & 7;
            if (row->group == 11 && reg == 7 && modrm == 0xf8) {
                /* C6 F8 XABORT ib, C7 F8 XBEGIN rel16/32: 66 selects rel16 in every mode,
                 * unlike the near branches */
                out->mnemonic = op == 0xc6 ? "XABORT" : "XBEGIN";
                imm1 = op == 0xc6 ? X86_IMM_B : X86_IMM_Z;
            } else if (g == NULL) {
                ud = ud ? ud : X86_UD_MODRM;
            } else if ((in64 && (g->flags & X86_I64)) || (!in64 && (g->flags & X86_O64))) {
                ud = ud ? ud : X86_UD_MODE;
            } else {
                out->mnemonic = g->mnemonic;
                out->group_row = g;
                if (g->feature != X86_FEAT_BASE) {
                    out->feature = g->feature;
                }
                if ((row->group == 3 && reg <= 1) || (row->group == 11 && reg == 0)) {
                    imm1 = (op & 1) ? X86_IMM_Z : X86_IMM_B;
                }
                if (in64 && (g->flags & X86_F64) && !(out->rex & 8)) {
                    out->opsize = 64;
                } else if (in64 && (g->flags & X86_D64) && !(out->rex & 8)) {
                    out->opsize = opsize_prefix ? 16 : 64;
                }
                if (row->group == 2 || row->group == 3) {
                    lockable = row->group == 3 && (reg == 2 || reg == 3);
                } else if (row->group == 1) {
                    lockable = reg != 7;
                } else if (row->group == 8) {
                    lockable = reg != 4;
                } else if (row->group == 4 || row->group == 5) {
                    lockable = reg <= 1;
                } else if (row->group == 9) {
                    lockable = reg == 1;
                } else {
                    lockable = 0;
                }
            }
        }
        if (map == X86_MAP_1BYTE && op >= 0xd8 && op <= 0xdf) {
            unsigned reg = (modrm >> 3) & 7;
            int ok = mod == 3 ? (x87_reg_rms[op - 0xd8][reg] >> rm) & 1
                              : (x87_mem_regs[op - 0xd8] >> reg) & 1;
            if (!ok) {
                ud = X86_UD_X87;
            }
        }
        if (out->lock && mod == 3) {
            lockable = 0;
        }
    } else {
        lockable = 0;
    }

    NEED(pos + out->disp_size);
    out->disp = (int64_t)read_le(bytes + pos, out->disp_size);
    if (out->disp_size == 1) {
        out->disp = (int8_t)out->disp;
    } else if (out->disp_size == 2) {
        out->disp = (int16_t)out->disp;
    } else if (out->disp_size == 4) {
        out->disp = (int32_t)out->disp;
    }
    pos += out->disp_size;

    out->imm_size = (uint8_t)immediate_bytes(imm1, out, mode);
    out->imm2_size = (uint8_t)immediate_bytes(imm2, out, mode);
    NEED(pos + out->imm_size + out->imm2_size);
    out->imm = read_le(bytes + pos, out->imm_size);
    pos += out->imm_size;
    out->imm2 = read_le(bytes + pos, out->imm2_size);
    pos += out->imm2_size;

    if (ud != X86_UD_NONE) {
        return undefined(out, ud, (unsigned)pos);
    }
    if (out->lock && !lockable) {
        return undefined(out, X86_UD_LOCK, (unsigned)pos);
    }
    return finish(out, X86_DECODE_OK, (unsigned)pos);
}
