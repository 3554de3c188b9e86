/*
 * The generator of the x86_64 differential tester (README.md): from a seed and a sequence
 * number, a random sequence of user-mode instructions encoded as bytes, the random register
 * and memory state it starts from, and for every instruction the flags the SDM leaves
 * undefined at that point.
 *
 * Sequence I of a seed is the same whatever else is generated (its random stream is derived
 * from the seed and I alone), so any mismatch can be replayed alone with --first I --count 1.
 *
 * The rules every template obeys, so that both sides must agree bit for bit:
 *   - Memory is addressed only through values the generator knows: two "pointer registers"
 *     per sequence (random among RBX, RBP, R8-R15) hold addresses in the data pages and are
 *     never written; RSP is tracked through every push and pop; an index register is loaded
 *     with a MOV right before the instruction that uses it; RIP-relative and absolute
 *     (disp32, moffs64) forms are computed from the code address. So every access lands where
 *     the generator chose: mostly anywhere in the data pages (misaligned freely), some
 *     crossing from one data page into the next, and about 2% touching a guard page (#PF).
 *   - Implicit operands are set up by MOVs the generator emits (CL for shift counts, RSI/RDI/
 *     RCX for string instructions, RDX for DIV, bit offsets of BT with memory), so counts and
 *     ranges are known: that is how flag effects that depend on the count are known too.
 *   - No instruction reads a flag that is undefined at that point (a template or condition
 *     code that would is not chosen), so undefined flags never reach a register or memory.
 *   - No result the SDM leaves undefined or implementation-specific: no 16-bit SHLD/SHRD
 *     count above 16, no BSWAP of 16 bits, no RCPPS/RSQRTPS, no x87 transcendentals or FPREM
 *     (their precision or partial-remainder step is the implementation's), no CPUID, RDTSC,
 *     RDRAND, no privileged instruction, and only instructions the host CPU supports.
 *     BSF/BSR of zero keep the destination (as both AMD and Intel CPUs do; the SDM says
 *     undefined), and that is compared.
 *
 * 32- and 16-bit code (--mode): no REX prefix, so eight registers (AL..BL and AH..BH for
 * bytes); the pointer registers are EBX and EBP; the default operand size is 32 or 16 bits and
 * 66 selects the other; 16-bit code addresses memory with 16-bit ModRM forms ([BX+SI],
 * [BP+DI], [SI], disp16...; SI or DI is the index register) and, behind 67, 32-bit ones, as
 * offsets in its data segment (DT_DATA16_BASE); 32-bit code uses 32-bit forms only (a 67
 * there would address the first 64 KiB, which are not mapped), absolute disp32 where 64-bit
 * code has RIP-relative. Their own instructions come in: INC/DEC 40+r/48+r, PUSHA/POPA, the
 * BCD adjustments, BOUND (#BR when out of range) and ARPL (where 64-bit code has MOVSXD).
 */
/* difftest.c reports UNSUPPORTED on other hosts; nothing here builds there. */
#if defined(__x86_64__) && defined(__linux__)

#include <asm/hwcap2.h>
#include <cpuid.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <stdlib.h>
#include <string.h>

#include "difftest-x86.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
/* Byte registers: 0..15 as encoded with a REX prefix (SPL..DIL for 4..7), and these four
 * for AH, CH, DH, BH (encoded 4..7 with no REX prefix at all). */
enum { AH = 16, CH, DH, BH };
#define RIP_BASE 16
#define NO_REG   (-1)

struct gen {
    uint64_t rng;
    enum dt_mode mode;
    uint64_t seg_base;  /* the data segment's base: registers hold linear address - seg_base */
    uint64_t stack_top; /* DT_STACK_TOP as the stack pointer holds it */
    const struct dt_gen_config *cfg;
    struct dt_seq *seq;
    uint32_t undef;    /* DT_* flags undefined now */
    uint16_t fixed;    /* registers never written: the pointer registers and RSP */
    int ptr[2];        /* the pointer registers */
    uint64_t rsp;      /* RSP now (tracked through pushes and pops) */
    bool df;           /* DF now */
    bool full;         /* out of code room or instruction slots: stop adding */
    bool faulting;     /* a deliberately faulting access was emitted: nothing after it runs */
    uint16_t busy;     /* registers the current template has loaded: not to be index registers */
    uint8_t may_fault; /* DT_MAY_* of the current template */
    bool x87_unmasked; /* the initial FCW unmasks an x87 exception: #MF possible */
    bool sse_unmasked; /* the initial MXCSR unmasks an SIMD exception: #XM possible */
};

/* ---- randomness ---------------------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd64(struct gen *g)
{
    g->rng += 0x9e3779b97f4a7c15ull;
    return mix64(g->rng);
}

static unsigned rnd(struct gen *g, unsigned n)
{
    return (unsigned)((rnd64(g) >> 32) * n >> 32);
}

/* True with probability per_mille / 1000. */
static bool chance(struct gen *g, unsigned per_mille)
{
    return rnd(g, 1000) < per_mille;
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* A value of `size` bytes biased towards the edge cases of arithmetic. */
static uint64_t interesting(struct gen *g, unsigned size)
{
    uint64_t sign = 1ull << (size * 8 - 1);
    uint64_t v;
    switch (rnd(g, 12)) {
    case 0:
        v = 0;
        break;
    case 1:
        v = ~0ull;
        break;
    case 2:
        v = sign;
        break;
    case 3:
        v = sign - 1;
        break;
    case 4:
        v = rnd(g, 40);
        break;
    case 5:
        v = -(uint64_t)rnd(g, 40);
        break;
    case 6:
        v = 1ull << rnd(g, 64);
        break;
    case 7:
        v = rnd64(g) & rnd64(g) & rnd64(g);
        break;
    case 8:
        v = rnd64(g) | rnd64(g) | rnd64(g);
        break;
    default:
        v = rnd64(g);
        break;
    }
    return v & size_mask(size);
}

/* ---- encoding -------------------------------------------------------------------------------- */

struct mem {
    int base;  /* NO_REG, RIP_BASE, or a GPR */
    int index; /* NO_REG or a GPR other than RSP */
    int scale; /* log2 */
    int64_t disp;
    bool addr32; /* 67 prefix */
    bool disp32; /* use a 32-bit displacement even when 8 bits would do */
    uint8_t seg; /* a segment override prefix, or 0 */
    uint64_t target;
};

struct operand {
    bool is_mem;
    int reg;
    struct mem m;
};

struct enc {
    uint8_t legacy[4];
    int nlegacy;
    bool rex_w;
    bool byte_regs; /* reg, rm and opreg are byte registers (AH..BH possible) */
    bool maybe_rex; /* an empty REX prefix if nothing forbids one */
    uint8_t op[4];
    int nop;
    int opreg; /* NO_REG, or the register in the low bits of the last opcode byte */
    bool has_modrm;
    int reg; /* ModRM.reg: a register, or the opcode extension */
    struct operand rm;
    uint64_t imm;
    int immsz;
};

/* The mode of the sequence being generated (dt_generate sets it; the generator runs on the
 * driver's thread alone): the encoder's default operand and address sizes. */
static enum dt_mode gen_mode;

static struct enc enc_new(void)
{
    struct enc e;
    memset(&e, 0, sizeof(e));
    e.opreg = NO_REG;
    return e;
}

static void enc_prefix(struct enc *e, uint8_t p)
{
    e->legacy[e->nlegacy++] = p;
}

static void enc_op1(struct enc *e, uint8_t a)
{
    e->op[e->nop++] = a;
}

static void enc_op2(struct enc *e, uint8_t a, uint8_t b)
{
    enc_op1(e, a);
    enc_op1(e, b);
}

static void enc_op3(struct enc *e, uint8_t a, uint8_t b, uint8_t c)
{
    enc_op2(e, a, b);
    enc_op1(e, c);
}

/* Operand size: 66 for the size that is not the default (16 bits, or 32 in 16-bit code),
 * REX.W for 64; byte operands use the other opcode. */
static void enc_size(struct enc *e, unsigned size)
{
    bool code16 = gen_mode == DT_MODE_16;
    if ((size == 2 && !code16) || (size == 4 && code16)) {
        enc_prefix(e, 0x66);
    } else if (size == 8) {
        e->rex_w = true;
    } else if (size == 1) {
        e->byte_regs = true;
    }
}

static void enc_modrm_reg(struct enc *e, int reg, struct operand rm)
{
    e->has_modrm = true;
    e->reg = reg;
    e->rm = rm;
}

/* Byte register code -> (encoding, needs REX, forbids REX). */
static int reg_code(const struct enc *e, int r, bool *need, bool *forbid)
{
    if (!e->byte_regs) {
        return r;
    }
    if (r >= AH) {
        *forbid = true;
        return r - AH + 4;
    }
    if (r >= 4 && r < 8) {
        *need = true;
    }
    return r;
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

/* The stack operand size of PUSH/POP/PUSHF/POPF (8 or 2 in 64-bit code, 4 or 2 otherwise). */
static void enc_stack_size(struct enc *e, unsigned size)
{
    if (gen_mode == DT_MODE_64 ? size == 2 : size != (gen_mode == DT_MODE_16 ? 2u : 4u)) {
        enc_prefix(e, 0x66);
    }
}

/* The address size of a memory operand: 67 (addr32) selects the other one. */
static unsigned address_size(bool prefix67)
{
    switch (gen_mode) {
    case DT_MODE_16:
        return prefix67 ? 4 : 2;
    case DT_MODE_32:
        return prefix67 ? 2 : 4;
    default:
        return prefix67 ? 4 : 8;
    }
}

/* 16-bit ModRM: r/m for a base (BX, BP or none) and an index (SI, DI or none); -1 if there
 * is no such form (BP alone is r/m 6 with a displacement, none at all is disp16). */
static int modrm16_rm(int base, int index)
{
    static const struct {
        int base, index;
    } forms[8] = {{RBX, RSI},    {RBX, RDI},    {RBP, RSI},    {RBP, RDI},
                  {NO_REG, RSI}, {NO_REG, RDI}, {RBP, NO_REG}, {RBX, NO_REG}};
    for (int i = 0; i < 8; i++) {
        if (forms[i].base == base && forms[i].index == index) {
            return i;
        }
    }
    return -1;
}

/* Writes the instruction at the end of the code and returns its length, or 0 (the sequence
 * unchanged) when it cannot be encoded (AH..BH with a REX prefix) or does not fit. */
static unsigned encode(struct gen *g, const struct enc *e)
{
    uint8_t b[24];
    int n = 0;
    bool need_rex = false, forbid_rex = false;
    int rex = e->rex_w ? 8 : 0;
    int reg = 0, rm = 0, opreg = 0;
    const struct mem *m = &e->rm.m;

    if (e->has_modrm) {
        reg = reg_code(e, e->reg, &need_rex, &forbid_rex);
        if (reg & 8) {
            rex |= 4;
        }
        if (e->rm.is_mem) {
            if (m->base >= 0 && m->base < 16 && (m->base & 8)) {
                rex |= 1;
            }
            if (m->index >= 0 && (m->index & 8)) {
                rex |= 2;
            }
        } else {
            rm = reg_code(e, e->rm.reg, &need_rex, &forbid_rex);
            if (rm & 8) {
                rex |= 1;
            }
        }
    }
    if (e->opreg != NO_REG) {
        opreg = reg_code(e, e->opreg, &need_rex, &forbid_rex);
        if (opreg & 8) {
            rex |= 1;
        }
    }
    if (rex) {
        need_rex = true;
    }
    if (need_rex && forbid_rex) {
        return 0;
    }
    if (e->maybe_rex && !forbid_rex && gen_mode == DT_MODE_64) {
        need_rex = true;
    }
    if (need_rex && gen_mode != DT_MODE_64) {
        return 0; /* 40..4F are INC and DEC outside 64-bit code */
    }
    if (e->has_modrm && e->rm.is_mem && m->seg) {
        b[n++] = m->seg;
    }
    for (int i = 0; i < e->nlegacy; i++) {
        b[n++] = e->legacy[i];
    }
    if (e->has_modrm && e->rm.is_mem && m->addr32) {
        b[n++] = 0x67;
    }
    if (need_rex) {
        b[n++] = (uint8_t)(0x40 | rex);
    }
    for (int i = 0; i < e->nop; i++) {
        b[n++] = e->op[i];
    }
    if (e->opreg != NO_REG) {
        b[n - 1] = (uint8_t)(b[n - 1] + (opreg & 7));
    }
    int rel_at = -1;
    if (e->has_modrm) {
        uint8_t r3 = (uint8_t)((reg & 7) << 3);
        if (!e->rm.is_mem) {
            b[n++] = (uint8_t)(0xc0 | r3 | (rm & 7));
        } else if (address_size(m->addr32) == 2) {
            int rm16 = modrm16_rm(m->base, m->index);
            int16_t d = (int16_t)(uint16_t)m->disp;
            int mod;
            if (m->base == NO_REG && m->index == NO_REG) {
                rm16 = 6;
                mod = 0;
            } else if (rm16 < 0) {
                return 0;
            } else if (d == 0 && rm16 != 6 && !m->disp32) {
                mod = 0;
            } else if (fits8(d) && !m->disp32) {
                mod = 1;
            } else {
                mod = 2;
            }
            b[n++] = (uint8_t)(mod << 6 | r3 | rm16);
            if (mod == 1) {
                b[n++] = (uint8_t)d;
            } else if (mod == 2 || (mod == 0 && rm16 == 6)) {
                memcpy(&b[n], &d, 2);
                n += 2;
            }
        } else if (m->base == RIP_BASE && gen_mode != DT_MODE_64) {
            /* outside 64-bit code, mod 00 r/m 101 is an absolute disp32 */
            b[n++] = (uint8_t)(0x05 | r3);
            int32_t d = (int32_t)m->disp;
            memcpy(&b[n], &d, 4);
            n += 4;
        } else if (m->base == RIP_BASE) {
            b[n++] = (uint8_t)(0x05 | r3);
            rel_at = n;
            n += 4;
        } else {
            int idx = m->index == NO_REG ? 4 : (m->index & 7);
            uint8_t sib_ss = (uint8_t)(m->scale << 6);
            if (m->base == NO_REG) {
                b[n++] = (uint8_t)(0x04 | r3);
                b[n++] = (uint8_t)(sib_ss | idx << 3 | 5);
                int32_t d = (int32_t)m->disp;
                memcpy(&b[n], &d, 4);
                n += 4;
            } else {
                int mod;
                if (m->disp == 0 && (m->base & 7) != 5 && !m->disp32) {
                    mod = 0;
                } else if (fits8(m->disp) && !m->disp32) {
                    mod = 1;
                } else {
                    mod = 2;
                }
                if (m->index != NO_REG || (m->base & 7) == 4) {
                    b[n++] = (uint8_t)(mod << 6 | r3 | 4);
                    b[n++] = (uint8_t)(sib_ss | idx << 3 | (m->base & 7));
                } else {
                    b[n++] = (uint8_t)(mod << 6 | r3 | (m->base & 7));
                }
                if (mod == 1) {
                    b[n++] = (uint8_t)(int8_t)m->disp;
                } else if (mod == 2) {
                    int32_t d = (int32_t)m->disp;
                    memcpy(&b[n], &d, 4);
                    n += 4;
                }
            }
        }
    }
    if (e->immsz) {
        memcpy(&b[n], &e->imm, (size_t)e->immsz);
        n += e->immsz;
    }
    if (n > 15) {
        return 0;
    }
    struct dt_seq *s = g->seq;
    /* Keep room for the native side's 14-byte jump back. */
    if (s->len + (unsigned)n + 14 > DT_CODE_MAX || s->ninsns >= DT_MAX_INSNS) {
        g->full = true;
        return 0;
    }
    if (rel_at >= 0) {
        int64_t d = (int64_t)(m->target - (dt_seq_end(s) + (unsigned)n));
        int32_t d32 = (int32_t)d;
        memcpy(&b[rel_at], &d32, 4);
    }
    memcpy(&s->code[s->len], b, (size_t)n);
    return (unsigned)n;
}

/* Appends one instruction and accounts for its flag effects. written: the DT_* flags it sets
 * (to anything); undefined: those of them the SDM leaves undefined. */
static bool emit(struct gen *g, const struct enc *e, uint32_t written, uint32_t undefined)
{
    struct dt_seq *s = g->seq;
    if (g->full) {
        return false;
    }
    unsigned n = encode(g, e);
    if (n == 0) {
        return false;
    }
    s->insn_off[s->ninsns] = (uint16_t)s->len;
    s->undef[s->ninsns] = g->undef;
    s->may_fault[s->ninsns] = g->may_fault;
    s->len += n;
    s->ninsns++;
    g->undef = (g->undef & ~written) | undefined;
    return true;
}

/* ---- registers and operands ------------------------------------------------------------ */

static int gpr_of(int byte_reg, unsigned size)
{
    return size == 1 && byte_reg >= AH ? byte_reg - AH : byte_reg;
}

static bool writable(const struct gen *g, int gpr)
{
    return !(g->fixed & (1u << gpr));
}

/* A random register of `size` bytes (for size 1 possibly AH..BH); a destination if dest. */
static int pick_reg(struct gen *g, unsigned size, bool dest)
{
    for (;;) {
        int r;
        if (g->mode != DT_MODE_64) {
            /* AL..BL, AH..BH; or EAX..EDI */
            r = (int)rnd(g, 8);
            if (size == 1 && r >= 4) {
                r += AH - 4;
            }
        } else {
            r = (int)rnd(g, size == 1 ? 20 : 16);
        }
        if (!dest || writable(g, gpr_of(r, size))) {
            return r;
        }
    }
}

static struct operand reg_operand(int r)
{
    struct operand o;
    memset(&o, 0, sizeof(o));
    o.reg = r;
    return o;
}

/* MOV r32, imm32 (B8+r), MOV r64, simm32 (C7 /0 with REX.W) or MOV r64, imm64 (REX.W B8+r):
 * loads a known value without touching the flags. */
static bool emit_mov_imm(struct gen *g, int gpr, uint64_t value)
{
    struct enc e = enc_new();
    if (g->mode != DT_MODE_64) {
        /* MOV r32, imm32 (66 B8+r in 16-bit code): the whole register, modulo 2^32 */
        enc_size(&e, 4);
        enc_op1(&e, 0xb8);
        e.opreg = gpr;
        e.imm = value & 0xffffffffull;
        e.immsz = 4;
    } else if (value <= 0xffffffffull) {
        enc_op1(&e, 0xb8);
        e.opreg = gpr;
        e.imm = value;
        e.immsz = 4;
    } else if ((uint64_t)(int64_t)(int32_t)value == value) {
        enc_size(&e, 8);
        enc_op1(&e, 0xc7);
        enc_modrm_reg(&e, 0, reg_operand(gpr));
        e.imm = value & 0xffffffffull;
        e.immsz = 4;
    } else {
        enc_size(&e, 8);
        enc_op1(&e, 0xb8);
        e.opreg = gpr;
        e.imm = value;
        e.immsz = 8;
    }
    return emit(g, &e, 0, 0);
}

/* Where an access of `size` bytes goes: mostly inside the data pages (align: a power of two
 * the address must usually be a multiple of, or 1), sometimes across a boundary between two
 * data pages, rarely (unless no_fault) into a guard page. */
static uint64_t pick_target(struct gen *g, unsigned size, unsigned align, bool no_fault)
{
    unsigned r = rnd(g, 1000);
    if (!no_fault && r < 20) {
        g->faulting = true;
        /* A misaligned 16-byte SSE operand raises #GP before any #PF. */
        g->may_fault |= DT_MAY_PF | (align > 1 ? DT_MAY_GP : 0);
        switch (rnd(g, 3)) {
        case 0: /* starts in the last data page, ends in the guard page */
            return size > 1 ? DT_DATA_END - 1 - rnd(g, size - 1) : DT_DATA_END;
        case 1:
            return DT_DATA_END + rnd(g, DT_PAGE - size);
        default:
            return DT_DATA_BASE - 1 - rnd(g, size + 16);
        }
    }
    if (r < 100 && size > 1 && align <= 1) {
        uint64_t boundary = DT_DATA_BASE + DT_PAGE * (1 + rnd(g, DT_DATA_PAGES - 1));
        return boundary - 1 - rnd(g, size - 1);
    }
    uint64_t a = DT_DATA_BASE + rnd(g, DT_DATA_SIZE - size + 1);
    if (align > 1) {
        if (chance(g, 30)) {
            g->may_fault |= DT_MAY_GP;
        } else {
            a &= ~(uint64_t)(align - 1);
        }
    }
    return a;
}

static int64_t known_value(const struct gen *g, int gpr)
{
    return gpr == RSP ? (int64_t)g->rsp : (int64_t)g->seq->init.gpr[gpr];
}

/* A memory operand addressing target, in one of the addressing forms; may emit the MOV that
 * loads its index register first. Pointer registers and RSP are the only bases (their value is
 * known); rsp_bias is what RSP will have moved by when the address is computed (POP m computes
 * an RSP-based address after its increment). */
/* A writable register for an index, other than ESP and the busy ones (SI or DI only with
 * 16-bit addressing), or NO_REG. */
static int pick_index(struct gen *g, bool si_di_only)
{
    for (int tries = 0; tries < 32; tries++) {
        int idx = si_di_only ? (chance(g, 500) ? RSI : RDI) : pick_reg(g, 8, true);
        if (idx != RSP && !(g->busy & (1u << idx)) && writable(g, idx)) {
            return idx;
        }
    }
    return NO_REG;
}

/* A memory operand at offset t of the data segment in 32- or 16-bit code (registers hold
 * offsets); a32: 32-bit addressing even in 16-bit code. */
static struct operand mem_at_offset(struct gen *g, int64_t t, unsigned rsp_bias, bool a32)
{
    struct operand o;
    struct mem *m = &o.m;
    memset(&o, 0, sizeof(o));
    o.is_mem = true;
    m->target = g->seg_base + (uint64_t)t;
    m->index = NO_REG;
    m->base = NO_REG;
    m->disp32 = chance(g, 100);
    if (g->mode == DT_MODE_16 && !a32 && !chance(g, 200)) {
        /* 16-bit addressing: BX or BP (the pointer registers), SI or DI, disp16 */
        unsigned form = rnd(g, 8);
        int64_t iv = 0;
        if (form < 6) {
            m->base = chance(g, 500) ? RBX : RBP;
        }
        if (form >= 2 && form < 7) {
            m->index = pick_index(g, true);
            if (m->index != NO_REG) {
                iv = chance(g, 700) ? (int64_t)rnd(g, 64) - 32 : (int64_t)rnd64(g);
                emit_mov_imm(g, m->index, (uint64_t)iv);
            }
        }
        if (m->base == RBP && m->index == NO_REG && chance(g, 500)) {
            m->base = RBX;
        }
        int64_t bv = m->base == NO_REG ? 0 : known_value(g, m->base);
        m->disp = (int64_t)(int16_t)(uint16_t)(t - bv - iv);
    } else {
        /* 32-bit addressing (behind 67 in 16-bit code) */
        m->addr32 = g->mode == DT_MODE_16;
        unsigned form = rnd(g, 100);
        if (form < 65) {
            m->base = chance(g, 150) ? RSP : g->ptr[rnd(g, 2)];
            int64_t iv = 0;
            if (form >= 35) {
                m->index = pick_index(g, false);
                if (m->index != NO_REG) {
                    iv = chance(g, 700) ? (int64_t)rnd(g, 64) - 32 : (int64_t)rnd(g, 4096) - 2048;
                    emit_mov_imm(g, m->index, (uint64_t)iv);
                    m->scale = (int)rnd(g, 4);
                }
            }
            m->disp = (int32_t)(t - known_value(g, m->base) - iv * (1 << m->scale) -
                                (m->base == RSP ? rsp_bias : 0));
        } else if (form < 85) {
            m->base = RIP_BASE; /* the absolute disp32 form */
            m->disp = (int32_t)t;
        } else {
            m->index = pick_index(g, false);
            int64_t iv = 0;
            if (m->index != NO_REG) {
                iv = (int64_t)rnd(g, 256);
                emit_mov_imm(g, m->index, (uint64_t)iv);
                m->scale = (int)rnd(g, 4);
            }
            m->disp = (int32_t)(t - iv * (1 << m->scale));
        }
    }
    if (chance(g, 40)) {
        /* ES, SS, DS: the same segment here (a CS override would fault on a write) */
        static const uint8_t segs[3] = {0x26, 0x36, 0x3e};
        m->seg = segs[rnd(g, 3)];
    }
    return o;
}

/* mem_at for 32- and 16-bit code: target is linear. */
static struct operand mem_at_compat(struct gen *g, uint64_t target, unsigned rsp_bias)
{
    return mem_at_offset(g, (int64_t)(target - g->seg_base), rsp_bias, false);
}

/* 16-bit code: an operand beyond the data segment's limit (DT_SEG16_LIMIT), wholly or by its
 * last bytes: #GP(0), or #SS(0) when the segment is SS (by default through EBP or ESP, or by
 * an override). Wholly beyond takes 32-bit addressing; straddling the limit, any. */
static struct operand limit_operand(struct gen *g, unsigned size, unsigned align)
{
    uint64_t off;
    bool a32 = true;
    unsigned kind = rnd(g, 3);
    if (kind == 0 && size == 10) {
        /* An m80 operand straddling the limit is two faults at once when its first 8 bytes'
         * page is absent (here it is), and which one comes first is the CPU's: AMD accesses
         * m80 as 8 + 2 bytes and reports the #PF of the first part, coremu the #GP of the whole
         * (the SDM orders neither). Wholly beyond the limit, it is #GP or #SS everywhere. */
        kind = 1;
    }
    switch (kind) {
    case 0:
        off = DT_SEG16_LIMIT + 1 - (size > 1 ? 1 + rnd(g, size - 1) : 0);
        a32 = size == 1 || chance(g, 300);
        break;
    case 1:
        off = DT_SEG16_LIMIT + 1 + rnd(g, 0x10000);
        break;
    default:
        off = DT_SEG16_LIMIT + 1 + rnd(g, 0xfffe0000u);
        break;
    }
    if (align > 1) {
        /* misaligned too, it is #GP either way (or #SS, as the CPU checks first) */
        off &= ~(uint64_t)(align - 1);
        if (off <= DT_SEG16_LIMIT - size + 1) {
            off += align;
        }
    }
    a32 |= off > DT_SEG16_LIMIT; /* 16-bit addressing wraps at 64 KiB */
    g->faulting = true;
    g->may_fault |= DT_MAY_GP | DT_MAY_SS;
    return mem_at_offset(g, (int64_t)off, 0, a32);
}

static struct operand mem_at(struct gen *g, uint64_t target, unsigned rsp_bias)
{
    if (g->mode != DT_MODE_64) {
        return mem_at_compat(g, target, rsp_bias);
    }
    struct operand o;
    struct mem *m = &o.m;
    memset(&o, 0, sizeof(o));
    o.is_mem = true;
    m->target = target;
    m->index = NO_REG;
    m->disp32 = chance(g, 100);
    unsigned form = rnd(g, 100);
    if (form < 40 || (form < 65 && g->full)) {
        m->base = chance(g, 150) ? RSP : g->ptr[rnd(g, 2)];
        m->disp = (int64_t)target - known_value(g, m->base) - (m->base == RSP ? rsp_bias : 0);
        m->addr32 = chance(g, 100);
    } else if (form < 65) {
        int idx;
        do {
            idx = pick_reg(g, 8, true);
        } while (idx == RSP || (g->busy & (1u << idx)));
        int64_t iv = chance(g, 700) ? (int64_t)rnd(g, 64) - 32 : (int64_t)rnd(g, 4096) - 2048;
        emit_mov_imm(g, idx, (uint64_t)iv);
        m->base = chance(g, 150) ? RSP : g->ptr[rnd(g, 2)];
        m->index = idx;
        m->scale = (int)rnd(g, 4);
        m->disp = (int64_t)target - known_value(g, m->base) - iv * (1 << m->scale) -
                  (m->base == RSP ? rsp_bias : 0);
        m->addr32 = chance(g, 100);
    } else if (form < 85) {
        m->base = RIP_BASE;
    } else if (form < 93) {
        m->base = NO_REG;
        m->disp = (int64_t)target;
    } else {
        int idx;
        do {
            idx = pick_reg(g, 8, true);
        } while (idx == RSP || (g->busy & (1u << idx)));
        int64_t iv = (int64_t)rnd(g, 256);
        emit_mov_imm(g, idx, (uint64_t)iv);
        m->base = NO_REG;
        m->index = idx;
        m->scale = (int)rnd(g, 4);
        m->disp = (int64_t)target - iv * (1 << m->scale);
    }
    if (chance(g, 40)) {
        /* ES, CS, SS, DS: ignored in 64-bit mode */
        static const uint8_t null_segs[4] = {0x26, 0x2e, 0x36, 0x3e};
        m->seg = null_segs[rnd(g, 4)];
    }
    return o;
}

/* A GS-relative memory operand addressing target: the index register holds
 * target - GS base - base register - displacement (any 64-bit value, loaded with MOV). */
static struct operand gs_operand(struct gen *g, uint64_t target)
{
    struct operand o;
    memset(&o, 0, sizeof(o));
    o.is_mem = true;
    int idx;
    do {
        idx = pick_reg(g, 8, true);
    } while (idx == RSP || (g->busy & (1u << idx)));
    o.m.base = chance(g, 300) ? NO_REG : g->ptr[rnd(g, 2)];
    o.m.index = idx;
    o.m.disp = (int64_t)rnd(g, 256) - 128;
    o.m.seg = 0x65;
    o.m.target = target;
    uint64_t base = o.m.base == NO_REG ? 0 : (uint64_t)known_value(g, o.m.base);
    emit_mov_imm(g, idx, target - g->seq->init.gs_base - base - (uint64_t)o.m.disp);
    return o;
}

/* A memory operand whose address is not canonical (bits 63..47 not all equal): #GP(0), or
 * #SS(0) when the base is RSP or RBP. The index register holds the bulk of the address. */
static struct operand noncanonical_operand(struct gen *g, unsigned align)
{
    struct operand o;
    memset(&o, 0, sizeof(o));
    o.is_mem = true;
    int idx;
    do {
        idx = pick_reg(g, 8, true);
    } while (idx == RSP || (g->busy & (1u << idx)));
    uint64_t address = chance(g, 500) ? 0x0000800000000000ull + (rnd64(g) & 0x7fffffffffffull)
                                      : 0xffff7fffffff0000ull - (rnd64(g) & 0x7fffffffffffull);
    if (align > 1) {
        /* Misaligned too, it would be #GP or #SS as the implementation checks first. */
        address &= ~(uint64_t)(align - 1);
    }
    o.m.base = chance(g, 200) ? RSP : g->ptr[rnd(g, 2)];
    o.m.index = idx;
    o.m.disp = (int64_t)rnd(g, 256) - 128;
    emit_mov_imm(g, idx, address - (uint64_t)known_value(g, o.m.base) - (uint64_t)o.m.disp);
    g->faulting = true;
    g->may_fault |= DT_MAY_GP | DT_MAY_SS;
    return o;
}

static struct operand mem_operand(struct gen *g, unsigned size, unsigned align)
{
    if (g->mode == DT_MODE_16 && chance(g, 8)) {
        return limit_operand(g, size, align);
    }
    if (g->mode != DT_MODE_64) {
        return mem_at(g, pick_target(g, size, align, false), 0);
    }
    if (chance(g, 5)) {
        return noncanonical_operand(g, align);
    }
    if (g->cfg->host.fsgsbase && chance(g, 40)) {
        return gs_operand(g, pick_target(g, size, align, false));
    }
    return mem_at(g, pick_target(g, size, align, false), 0);
}

/* A register or (about 40%) a memory operand of `size` bytes; dest: it is written. */
static struct operand rm_operand(struct gen *g, unsigned size, bool dest)
{
    if (chance(g, 400)) {
        return mem_operand(g, size, 1);
    }
    return reg_operand(pick_reg(g, size, dest));
}

static unsigned pick_size(struct gen *g, bool bytes_too)
{
    static const unsigned sizes[4] = {1, 2, 4, 8};
    if (g->mode != DT_MODE_64) {
        return bytes_too ? sizes[rnd(g, 3)] : sizes[1 + rnd(g, 2)];
    }
    return bytes_too ? sizes[rnd(g, 4)] : sizes[1 + rnd(g, 3)];
}

/* Immediate of imm_size bytes for an operand of op_size bytes. */
static uint64_t pick_imm(struct gen *g, unsigned imm_size)
{
    return interesting(g, imm_size);
}

/* ---- condition codes ------------------------------------------------------------------- */

static uint32_t cc_reads(unsigned cc)
{
    static const uint32_t reads[8] = {
        DT_OF, DT_CF, DT_ZF, DT_CF | DT_ZF, DT_SF, DT_PF, DT_SF | DT_OF, DT_ZF | DT_SF | DT_OF,
    };
    return reads[cc >> 1];
}

/* A condition code whose flags are all defined now, or -1. */
static int pick_cc(struct gen *g)
{
    unsigned start = rnd(g, 16);
    for (unsigned i = 0; i < 16; i++) {
        unsigned cc = (start + i) & 15;
        if (!(cc_reads(cc) & g->undef)) {
            return (int)cc;
        }
    }
    return -1;
}

/* ---- general-purpose templates ---------------------------------------------------------- */

/* Group-1 arithmetic, in their /digit (and opcode-row) order. */
static const struct {
    const char *name;
    uint32_t reads, undefined;
    bool writes_dest;
} alu_ops[8] = {
    {"add", 0, 0, true},     {"or", 0, DT_AF, true},  {"adc", DT_CF, 0, true},
    {"sbb", DT_CF, 0, true}, {"and", 0, DT_AF, true}, {"sub", 0, 0, true},
    {"xor", 0, DT_AF, true}, {"cmp", 0, 0, false},
};

static void maybe_lock(struct gen *g, struct enc *e, const struct operand *dest)
{
    if (dest->is_mem && chance(g, 200)) {
        enc_prefix(e, 0xf0);
    }
}

static void t_alu(struct gen *g)
{
    unsigned op = rnd(g, 8);
    if (alu_ops[op].reads & g->undef) {
        return;
    }
    bool w = alu_ops[op].writes_dest;
    unsigned size = pick_size(g, true);
    struct enc e = enc_new();
    unsigned form = rnd(g, 5);
    uint8_t byte_op = size == 1 ? 0 : 1;
    struct operand dest;
    switch (form) {
    case 0: /* r/m, reg */
        dest = rm_operand(g, size, w);
        enc_size(&e, size);
        if (w) {
            maybe_lock(g, &e, &dest);
        }
        enc_op1(&e, (uint8_t)(op * 8 + byte_op));
        enc_modrm_reg(&e, pick_reg(g, size, false), dest);
        break;
    case 1: /* reg, r/m */
        dest = rm_operand(g, size, false);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(op * 8 + 2 + byte_op));
        enc_modrm_reg(&e, pick_reg(g, size, w), dest);
        break;
    case 2: /* accumulator, imm */
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(op * 8 + 4 + byte_op));
        e.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        e.imm = pick_imm(g, (unsigned)e.immsz);
        break;
    default: /* 80/81/83 /op */
        dest = rm_operand(g, size, w);
        enc_size(&e, size);
        if (w) {
            maybe_lock(g, &e, &dest);
        }
        if (size == 1) {
            enc_op1(&e, 0x80);
            e.immsz = 1;
        } else if (form == 3) {
            enc_op1(&e, 0x83);
            e.immsz = 1;
        } else {
            enc_op1(&e, 0x81);
            e.immsz = size == 2 ? 2 : 4;
        }
        e.imm = pick_imm(g, (unsigned)e.immsz);
        enc_modrm_reg(&e, (int)op, dest);
        break;
    }
    e.maybe_rex = chance(g, 100);
    emit(g, &e, DT_ARITH, alu_ops[op].undefined);
}

static void t_test(struct gen *g)
{
    unsigned size = pick_size(g, true);
    struct enc e = enc_new();
    enc_size(&e, size);
    uint8_t byte_op = size == 1 ? 0 : 1;
    switch (rnd(g, 3)) {
    case 0:
        enc_op1(&e, (uint8_t)(0x84 + byte_op));
        enc_modrm_reg(&e, pick_reg(g, size, false), rm_operand(g, size, false));
        break;
    case 1:
        enc_op1(&e, (uint8_t)(0xa8 + byte_op));
        e.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        e.imm = pick_imm(g, (unsigned)e.immsz);
        break;
    default:
        enc_op1(&e, (uint8_t)(0xf6 + byte_op));
        enc_modrm_reg(&e, 0, rm_operand(g, size, false));
        e.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        e.imm = pick_imm(g, (unsigned)e.immsz);
        break;
    }
    emit(g, &e, DT_ARITH, DT_AF);
}

/* INC, DEC (FE/FF /0 /1), NOT, NEG (F6/F7 /2 /3). */
static void t_unary(struct gen *g)
{
    static const struct {
        uint8_t op, ext;
        uint32_t written;
    } ops[4] = {
        {0xfe, 0, DT_ARITH & ~DT_CF},
        {0xfe, 1, DT_ARITH & ~DT_CF},
        {0xf6, 2, 0},
        {0xf6, 3, DT_ARITH},
    };
    unsigned k = rnd(g, 4);
    unsigned size = pick_size(g, true);
    struct operand dest = rm_operand(g, size, true);
    struct enc e = enc_new();
    enc_size(&e, size);
    maybe_lock(g, &e, &dest);
    enc_op1(&e, (uint8_t)(ops[k].op + (size == 1 ? 0 : 1)));
    enc_modrm_reg(&e, ops[k].ext, dest);
    emit(g, &e, ops[k].written, 0);
}

/* Group 2: ROL ROR RCL RCR SHL SHR - SAR (/6 is not in the SDM's map). The count is known:
 * 1 (D0/D1), an imm8 (C0/C1) or CL loaded right before (D2/D3). */
static void t_shift(struct gen *g)
{
    static const unsigned exts[7] = {0, 1, 2, 3, 4, 5, 7};
    unsigned ext = exts[rnd(g, 7)];
    bool rotate_through_cf = ext == 2 || ext == 3;
    if (rotate_through_cf && (g->undef & DT_CF)) {
        return;
    }
    unsigned size = pick_size(g, true);
    unsigned width = size * 8;
    unsigned count;
    switch (rnd(g, 6)) {
    case 0:
        count = 0;
        break;
    case 1:
        count = 1;
        break;
    case 2:
        count = width + rnd(g, 256 - width);
        break;
    case 3:
        count = width;
        break;
    default:
        count = rnd(g, width);
        break;
    }
    unsigned form = rnd(g, 3);
    if (form == 0) {
        count = 1;
    }
    if (form == 2 && !writable(g, RCX)) {
        return;
    }
    if (form == 2) {
        /* MOV CL, imm8: the count in CL, the rest of RCX random. */
        struct enc m = enc_new();
        enc_op1(&m, 0xb1);
        m.imm = count & 0xff;
        m.immsz = 1;
        emit(g, &m, 0, 0);
        g->busy |= 1u << RCX;
    }
    struct operand dest = rm_operand(g, size, true);
    struct enc e = enc_new();
    enc_size(&e, size);
    uint8_t byte_op = size == 1 ? 0 : 1;
    if (form == 0) {
        enc_op1(&e, (uint8_t)(0xd0 + byte_op));
    } else if (form == 1) {
        enc_op1(&e, (uint8_t)(0xc0 + byte_op));
        e.imm = count & 0xff;
        e.immsz = 1;
    } else {
        enc_op1(&e, (uint8_t)(0xd2 + byte_op));
    }
    enc_modrm_reg(&e, (int)ext, dest);

    unsigned masked = count & (size == 8 ? 63 : 31);
    uint32_t written = 0, undefined = 0;
    if (masked != 0) {
        if (ext <= 3) {
            written = DT_CF | DT_OF;
            undefined = masked == 1 ? 0 : DT_OF;
        } else {
            written = DT_ARITH;
            undefined = DT_AF | (masked == 1 ? 0 : DT_OF);
            if (ext != 7 && masked >= width) {
                undefined |= DT_CF;
            }
        }
    }
    emit(g, &e, written, undefined);
}

/* MUL, IMUL, DIV, IDIV (F6/F7 /4../7). DIV and IDIV get their dividend's high half set up
 * most of the time (and their divisor a value that may be zero); without, most of them raise
 * #DE, which is tested too. */
static void t_muldiv(struct gen *g)
{
    unsigned ext = 4 + rnd(g, 4);
    unsigned size = pick_size(g, true);
    if (ext >= 6 && chance(g, 900)) {
        struct enc s = enc_new();
        if (size == 1) {
            if (ext == 6) {
                enc_op1(&s, 0xb4); /* MOV AH, 0 */
                s.imm = 0;
                s.immsz = 1;
            } else {
                enc_size(&s, 2);
                enc_op1(&s, 0x98); /* CBW */
            }
        } else if (ext == 6) {
            enc_size(&s, 4);
            enc_op1(&s, 0xba); /* MOV EDX, 0 */
            s.imm = 0;
            s.immsz = 4;
        } else {
            enc_size(&s, size);
            enc_op1(&s, 0x99); /* CWD/CDQ/CQO */
        }
        emit(g, &s, 0, 0);
    }
    g->busy |= 1u << RAX | 1u << RDX;
    if (ext >= 6) {
        g->may_fault |= DT_MAY_DE;
    }
    struct operand src = rm_operand(g, size, false);
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, (uint8_t)(size == 1 ? 0xf6 : 0xf7));
    enc_modrm_reg(&e, (int)ext, src);
    if (ext >= 6) {
        emit(g, &e, DT_ARITH, DT_ARITH);
    } else {
        emit(g, &e, DT_ARITH, DT_SF | DT_ZF | DT_AF | DT_PF);
    }
}

/* IMUL r, r/m (0F AF); IMUL r, r/m, imm8 (6B) / imm16/32 (69). */
static void t_imul(struct gen *g)
{
    unsigned size = pick_size(g, false);
    struct operand src = rm_operand(g, size, false);
    struct enc e = enc_new();
    enc_size(&e, size);
    switch (rnd(g, 3)) {
    case 0:
        enc_op2(&e, 0x0f, 0xaf);
        break;
    case 1:
        enc_op1(&e, 0x6b);
        e.immsz = 1;
        break;
    default:
        enc_op1(&e, 0x69);
        e.immsz = size == 2 ? 2 : 4;
        break;
    }
    if (e.immsz) {
        e.imm = pick_imm(g, (unsigned)e.immsz);
    }
    enc_modrm_reg(&e, pick_reg(g, size, true), src);
    emit(g, &e, DT_ARITH, DT_SF | DT_ZF | DT_AF | DT_PF);
}

static void t_mov(struct gen *g)
{
    unsigned size = pick_size(g, true);
    struct enc e = enc_new();
    uint8_t byte_op = size == 1 ? 0 : 1;
    switch (rnd(g, 6)) {
    case 0: { /* 88/89: r/m <- reg */
        struct operand dest = rm_operand(g, size, true);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(0x88 + byte_op));
        enc_modrm_reg(&e, pick_reg(g, size, false), dest);
        break;
    }
    case 1: { /* 8A/8B: reg <- r/m */
        struct operand src = rm_operand(g, size, false);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(0x8a + byte_op));
        enc_modrm_reg(&e, pick_reg(g, size, true), src);
        break;
    }
    case 2: { /* C6/C7 /0: r/m <- imm */
        struct operand dest = rm_operand(g, size, true);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(0xc6 + byte_op));
        enc_modrm_reg(&e, 0, dest);
        e.immsz = size == 1 ? 1 : size == 2 ? 2 : 4;
        e.imm = pick_imm(g, (unsigned)e.immsz);
        break;
    }
    case 3: /* B0+r / B8+r: reg <- imm (imm64 with REX.W) */
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(size == 1 ? 0xb0 : 0xb8));
        e.opreg = pick_reg(g, size, true);
        e.immsz = (int)size;
        e.imm = pick_imm(g, size);
        break;
    case 4: { /* A0..A3: accumulator <-> moffs64 (moffs32, moffs16 in 16-bit code) */
        uint64_t target = pick_target(g, size, 1, false);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(0xa0 + byte_op + (chance(g, 500) ? 2 : 0)));
        e.imm = target - g->seg_base;
        e.immsz = (int)address_size(false);
        break;
    }
    default: { /* MOVZX/MOVSX 0F B6/B7/BE/BF, MOVSXD 63 */
        unsigned kind = rnd(g, 5);
        unsigned dsize = pick_size(g, false);
        unsigned ssize;
        if (kind == 4 && g->mode != DT_MODE_64) {
            /* 63 is ARPL r/m16, r16 outside 64-bit code: the destination's RPL raised to the
             * source's, ZF says whether it was */
            struct operand dest = rm_operand(g, 2, true);
            enc_op1(&e, 0x63);
            enc_modrm_reg(&e, pick_reg(g, 2, false), dest);
            emit(g, &e, DT_ZF, 0);
            return;
        }
        if (kind == 4) {
            dsize = chance(g, 800) ? 8 : 4;
            ssize = 4;
            enc_size(&e, dsize);
            enc_op1(&e, 0x63);
        } else {
            ssize = kind & 1 ? 2 : 1;
            if (ssize == 2 && dsize == 2) {
                dsize = 4;
            }
            enc_size(&e, dsize);
            enc_op2(&e, 0x0f, (uint8_t)((kind & 2 ? 0xbe : 0xb6) + (kind & 1)));
        }
        struct operand src = ssize == 1 && chance(g, 600) ? reg_operand(pick_reg(g, 1, false))
                                                          : rm_operand(g, ssize, false);
        int dest = pick_reg(g, dsize, true);
        /* The source is a byte register: the encoder must treat rm as such, reg not. */
        if (ssize == 1 && !src.is_mem) {
            if (src.reg >= AH && (dest >= 8 || dsize == 8)) {
                return;
            }
            if (src.reg >= AH) {
                src.reg -= AH - 4; /* AH..BH: 4..7 with no REX */
            } else if (src.reg >= 4 && src.reg < 8) {
                e.maybe_rex = true; /* SPL..DIL need a REX prefix */
            }
        }
        enc_modrm_reg(&e, dest, src);
        break;
    }
    }
    emit(g, &e, 0, 0);
}

static void t_lea(struct gen *g)
{
    unsigned size = pick_size(g, false);
    struct operand o;
    memset(&o, 0, sizeof(o));
    o.is_mem = true;
    struct mem *m = &o.m;
    /* No access happens: any registers will do. */
    if (g->mode != DT_MODE_64) {
        m->addr32 = chance(g, 200);
        m->index = NO_REG;
        m->base = NO_REG;
        if (address_size(m->addr32) == 2) {
            static const int bases[3] = {RBX, RBP, NO_REG}, indexes[3] = {RSI, RDI, NO_REG};
            m->base = bases[rnd(g, 3)];
            m->index = indexes[rnd(g, 3)];
            m->disp = (int64_t)rnd(g, 65536) - 32768;
        } else if (chance(g, 150)) {
            m->base = RIP_BASE; /* absolute disp32 */
            m->disp = (int32_t)rnd64(g);
        } else {
            m->base = chance(g, 100) ? NO_REG : (int)rnd(g, 8);
            m->index = chance(g, 400) ? NO_REG : (int)rnd(g, 8);
            if (m->index == RSP) {
                m->index = NO_REG;
            }
            m->scale = (int)rnd(g, 4);
            m->disp = chance(g, 500) ? (int64_t)rnd(g, 256) - 128 : (int32_t)rnd64(g);
        }
        if (chance(g, 100)) {
            static const uint8_t segs[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
            m->seg = segs[rnd(g, 6)];
        }
        struct enc e = enc_new();
        enc_size(&e, size);
        enc_op1(&e, 0x8d);
        enc_modrm_reg(&e, pick_reg(g, size, true), o);
        emit(g, &e, 0, 0);
        return;
    }
    switch (rnd(g, 4)) {
    case 0:
        m->base = RIP_BASE;
        m->target = rnd64(g) & 0x7fffffff;
        m->index = NO_REG;
        break;
    case 1:
        m->base = NO_REG;
        m->index = chance(g, 500) ? NO_REG : (int)rnd(g, 16);
        if (m->index == RSP) {
            m->index = NO_REG;
        }
        m->disp = (int32_t)rnd64(g);
        break;
    default:
        m->base = (int)rnd(g, 16);
        m->index = chance(g, 400) ? NO_REG : (int)rnd(g, 16);
        if (m->index == RSP) {
            m->index = NO_REG;
        }
        m->disp = chance(g, 500) ? (int64_t)rnd(g, 256) - 128 : (int32_t)rnd64(g);
        m->addr32 = chance(g, 200);
        break;
    }
    m->scale = (int)rnd(g, 4);
    if (chance(g, 100)) {
        /* LEA computes the offset: no segment base is added, not even FS's or GS's */
        static const uint8_t segs[6] = {0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65};
        m->seg = segs[rnd(g, 6)];
    }
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, 0x8d);
    enc_modrm_reg(&e, pick_reg(g, size, true), o);
    emit(g, &e, 0, 0);
}

/* XCHG (86/87, 90+r), CMPXCHG (0F B0/B1), XADD (0F C0/C1). */
static void t_xchg(struct gen *g)
{
    unsigned kind = rnd(g, 4);
    unsigned size = pick_size(g, kind != 1);
    uint8_t byte_op = size == 1 ? 0 : 1;
    struct enc e = enc_new();
    uint32_t written = 0;
    if (kind == 1) {
        int r = pick_reg(g, size, true);
        if (!writable(g, RAX)) {
            return;
        }
        enc_size(&e, size);
        enc_op1(&e, 0x90);
        e.opreg = r;
        if (r == RAX && (size != 8 || g->mode != DT_MODE_64) && !chance(g, 100)) {
            return; /* 90 is NOP, 66 90 too: rarely worth a slot */
        }
    } else {
        if (kind == 2) {
            g->busy |= 1u << RAX; /* not an index register: the accumulator may be loaded */
        }
        struct operand dest = rm_operand(g, size, true);
        if (kind == 2 && chance(g, 500)) {
            /* the accumulator loaded from the destination: CMPXCHG's equal path */
            struct enc m = enc_new();
            enc_size(&m, size);
            enc_op1(&m, (uint8_t)(0x8a + byte_op));
            enc_modrm_reg(&m, RAX, dest);
            emit(g, &m, 0, 0);
        }
        enc_size(&e, size);
        if (kind == 0) {
            enc_op1(&e, (uint8_t)(0x86 + byte_op));
        } else {
            maybe_lock(g, &e, &dest);
            enc_op2(&e, 0x0f, (uint8_t)((kind == 2 ? 0xb0 : 0xc0) + byte_op));
            written = DT_ARITH;
        }
        enc_modrm_reg(&e, pick_reg(g, size, kind != 2), dest);
    }
    emit(g, &e, written, 0);
}

/* CMPXCHG8B, CMPXCHG16B (0F C7 /1; the latter 16-byte aligned or #GP): half of them with
 * EDX:EAX / RDX:RAX loaded from the operand first, for the equal path. */
static void t_cmpxchg8b(struct gen *g)
{
    bool wide = g->cfg->host.cx16 && chance(g, 500) && g->mode == DT_MODE_64;
    unsigned size = wide ? 16 : 8, half = size / 2;
    g->busy |= 1u << RAX | 1u << RDX;
    struct operand dest;
    if (chance(g, 500)) {
        uint64_t target = pick_target(g, size, wide ? 16 : 1, true);
        for (unsigned i = 0; i < 2; i++) {
            struct enc m = enc_new();
            enc_size(&m, half);
            enc_op1(&m, 0x8b);
            enc_modrm_reg(&m, i ? RDX : RAX, mem_at(g, target + i * half, 0));
            emit(g, &m, 0, 0);
        }
        dest = mem_at(g, target, 0);
    } else {
        dest = mem_operand(g, size, wide ? 16 : 1);
    }
    struct enc e = enc_new();
    e.rex_w = wide;
    maybe_lock(g, &e, &dest);
    enc_op2(&e, 0x0f, 0xc7);
    enc_modrm_reg(&e, 1, dest);
    emit(g, &e, DT_ZF, 0);
}

/* PUSHF (9C) when every arithmetic flag is defined, and POPF (9D) of a value pushed right
 * before: the arithmetic flags and DF, with IF, IOPL and reserved bits set at random, which
 * POPF at CPL 3 must leave alone. 64 and 16 bits. Never skipped by a branch (DF is tracked). */
static void t_flags(struct gen *g)
{
    unsigned size = chance(g, 800) ? (g->mode == DT_MODE_64 ? 8 : 4) : 2;
    if (g->rsp - size < g->stack_top - 1024) {
        return;
    }
    struct enc e = enc_new();
    enc_stack_size(&e, size);
    if (chance(g, 500)) {
        if (g->undef & DT_ARITH) {
            return;
        }
        enc_op1(&e, 0x9c);
        if (emit(g, &e, 0, 0)) {
            g->rsp -= size;
        }
        return;
    }
    bool df = chance(g, 300);
    uint64_t value = (rnd64(g) & (DT_ARITH | 0x3228)) | (df ? DT_DF : 0) | 0x2;
    struct enc p = enc_new();
    enc_stack_size(&p, size);
    enc_op1(&p, 0x68);
    p.imm = value;
    p.immsz = size == 2 ? 2 : 4;
    if (!emit(g, &p, 0, 0)) {
        return;
    }
    g->rsp -= size;
    enc_op1(&e, 0x9d);
    if (emit(g, &e, DT_ARITH | DT_DF, 0)) {
        g->rsp += size;
        g->df = df;
    }
}

/* UD2, and LOCK on an instruction with a register destination: both #UD. Rare. */
static void t_ud(struct gen *g)
{
    if (!chance(g, 250)) {
        return; /* it ends the sequence: keep it to a sequence in a hundred or so */
    }
    struct enc e = enc_new();
    if (chance(g, 500)) {
        enc_op2(&e, 0x0f, 0x0b);
    } else {
        unsigned size = pick_size(g, true);
        enc_prefix(&e, 0xf0);
        enc_size(&e, size);
        enc_op1(&e, (uint8_t)(size == 1 ? 0x00 : 0x01)); /* ADD r/m, r */
        enc_modrm_reg(&e, pick_reg(g, size, false), reg_operand(pick_reg(g, size, true)));
    }
    g->may_fault |= DT_MAY_UD;
    g->faulting = true;
    emit(g, &e, 0, 0);
}

static void t_bswap(struct gen *g)
{
    struct enc e = enc_new();
    enc_size(&e, chance(g, 500) && g->mode == DT_MODE_64 ? 8 : 4);
    enc_op2(&e, 0x0f, 0xc8);
    e.opreg = pick_reg(g, 8, true);
    emit(g, &e, 0, 0);
}

/* BT BTS BTR BTC: r/m, reg (0F A3/AB/B3/BB) and r/m, imm8 (0F BA /4../7). With memory and a
 * register offset the bit offset is signed and reaches outside the operand: the offset
 * register is loaded with a known value and the displacement corrects for it so that the word
 * touched is the one chosen. */
static void t_bt(struct gen *g)
{
    static const uint8_t reg_ops[4] = {0xa3, 0xab, 0xb3, 0xbb};
    unsigned k = rnd(g, 4);
    unsigned size = pick_size(g, false);
    unsigned bits = size * 8;
    struct enc e = enc_new();
    struct operand dest;
    if (chance(g, 500)) {
        int off_reg;
        do {
            off_reg = pick_reg(g, 8, true);
        } while (off_reg == RSP);
        if (chance(g, 500)) {
            /* memory, with a bit offset anywhere from -4 to +4 operands away */
            int64_t off = (int64_t)rnd(g, bits * 9) - 4 * (int64_t)bits;
            /* the word touched: floor(off / bits) operands from the address */
            int64_t word = off >= 0 ? off / bits : -((-off + bits - 1) / bits);
            uint64_t target;
            do {
                target = pick_target(g, size, 1, true);
            } while (target + size + 4 > DT_DATA_END);
            emit_mov_imm(g, off_reg, (uint64_t)off);
            g->busy |= 1u << off_reg;
            dest = mem_at(g, target - (uint64_t)(word * (int64_t)size), 0);
        } else {
            dest = reg_operand(pick_reg(g, size, k != 0));
        }
        enc_size(&e, size);
        if (k != 0) {
            maybe_lock(g, &e, &dest);
        }
        enc_op2(&e, 0x0f, reg_ops[k]);
        enc_modrm_reg(&e, off_reg, dest);
    } else {
        dest = rm_operand(g, size, k != 0);
        enc_size(&e, size);
        if (k != 0) {
            maybe_lock(g, &e, &dest);
        }
        enc_op2(&e, 0x0f, 0xba);
        enc_modrm_reg(&e, (int)(4 + k), dest);
        e.imm = rnd(g, 256);
        e.immsz = 1;
    }
    emit(g, &e, DT_CF | DT_OF | DT_SF | DT_AF | DT_PF, DT_OF | DT_SF | DT_AF | DT_PF);
}

/* BSF BSR (0F BC/BD), TZCNT LZCNT (F3 0F BC/BD), POPCNT (F3 0F B8). */
static void t_bitscan(struct gen *g)
{
    unsigned k = rnd(g, 5);
    const struct dt_host_features *h = &g->cfg->host;
    if ((k == 2 && !h->bmi1) || (k == 3 && !h->lzcnt) || (k == 4 && !h->popcnt)) {
        return;
    }
    unsigned size = pick_size(g, false);
    struct operand src = rm_operand(g, size, false);
    struct enc e = enc_new();
    if (k >= 2) {
        enc_prefix(&e, 0xf3);
    }
    enc_size(&e, size);
    static const uint8_t ops[5] = {0xbc, 0xbd, 0xbc, 0xbd, 0xb8};
    enc_op2(&e, 0x0f, ops[k]);
    enc_modrm_reg(&e, pick_reg(g, size, true), src);
    if (k < 2) {
        emit(g, &e, DT_ARITH, DT_ARITH & ~DT_ZF);
    } else if (k < 4) {
        emit(g, &e, DT_ARITH, DT_OF | DT_SF | DT_PF | DT_AF);
    } else {
        emit(g, &e, DT_ARITH, 0);
    }
}

/* SHLD SHRD with imm8 (0F A4/AC) or CL (0F A5/AD). */
static void t_shd(struct gen *g)
{
    unsigned size = pick_size(g, false);
    unsigned mask = size == 8 ? 63 : 31;
    unsigned count = rnd(g, 256);
    if (size == 2 && (count & mask) > 16) {
        count &= 15; /* above 16 the 16-bit result is undefined */
    }
    bool right = chance(g, 500);
    bool by_cl = chance(g, 500);
    int src = pick_reg(g, size, false);
    if (by_cl) {
        if (!writable(g, RCX) || !emit_mov_imm(g, RCX, count)) {
            return;
        }
        g->busy |= 1u << RCX;
    }
    struct operand dest = rm_operand(g, size, true);
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op2(&e, 0x0f, (uint8_t)((right ? 0xac : 0xa4) + (by_cl ? 1 : 0)));
    enc_modrm_reg(&e, src, dest);
    if (!by_cl) {
        e.imm = count;
        e.immsz = 1;
    }
    unsigned masked = count & mask;
    if (masked == 0) {
        emit(g, &e, 0, 0);
    } else {
        emit(g, &e, DT_ARITH, DT_AF | (masked == 1 ? 0 : DT_OF));
    }
}

static void t_cmov_setcc(struct gen *g)
{
    int cc = pick_cc(g);
    if (cc < 0) {
        return;
    }
    struct enc e = enc_new();
    if (chance(g, 500)) {
        unsigned size = pick_size(g, false);
        struct operand src = rm_operand(g, size, false);
        enc_size(&e, size);
        enc_op2(&e, 0x0f, (uint8_t)(0x40 + cc));
        enc_modrm_reg(&e, pick_reg(g, size, true), src);
    } else {
        struct operand dest = rm_operand(g, 1, true);
        e.byte_regs = true;
        enc_op2(&e, 0x0f, (uint8_t)(0x90 + cc));
        enc_modrm_reg(&e, 0, dest);
    }
    emit(g, &e, 0, 0);
}

/* LAHF SAHF, CBW/CWDE/CDQE, CWD/CDQ/CQO, CLC STC CMC. */
static void t_misc(struct gen *g)
{
    struct enc e = enc_new();
    switch (rnd(g, 7)) {
    case 0:
        if (g->undef & (DT_SF | DT_ZF | DT_AF | DT_PF | DT_CF)) {
            return;
        }
        enc_op1(&e, 0x9f);
        emit(g, &e, 0, 0);
        break;
    case 1:
        enc_op1(&e, 0x9e);
        emit(g, &e, DT_SF | DT_ZF | DT_AF | DT_PF | DT_CF, 0);
        break;
    case 2:
    case 3:
        enc_size(&e, pick_size(g, false));
        enc_op1(&e, (uint8_t)(rnd(g, 2) ? 0x98 : 0x99));
        emit(g, &e, 0, 0);
        break;
    case 4:
        enc_op1(&e, 0xf8);
        emit(g, &e, DT_CF, 0);
        break;
    case 5:
        enc_op1(&e, 0xf9);
        emit(g, &e, DT_CF, 0);
        break;
    default:
        if (g->undef & DT_CF) {
            return;
        }
        enc_op1(&e, 0xf5);
        emit(g, &e, DT_CF, 0);
        break;
    }
}

static void t_movbe(struct gen *g)
{
    if (!g->cfg->host.movbe) {
        return;
    }
    unsigned size = pick_size(g, false);
    bool store = chance(g, 500);
    struct operand m = mem_operand(g, size, 1);
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op3(&e, 0x0f, 0x38, (uint8_t)(store ? 0xf1 : 0xf0));
    enc_modrm_reg(&e, pick_reg(g, size, !store), m);
    emit(g, &e, 0, 0);
}

/* PUSH/POP of registers (50+r, 58+r), memory (FF /6, 8F /0) and immediates (6A, 68), in 64
 * and 16 bits. RSP stays within a KiB of where it started. */
static void t_pushpop(struct gen *g)
{
    unsigned size = chance(g, 800) ? (g->mode == DT_MODE_64 ? 8 : 4) : 2;
    bool pop = chance(g, 500);
    if (pop && g->rsp + size > g->stack_top + 1024) {
        pop = false;
    }
    if (!pop && g->rsp - size < g->stack_top - 1024) {
        pop = true;
    }
    struct enc e = enc_new();
    enc_stack_size(&e, size);
    unsigned form = rnd(g, 3);
    if (pop) {
        if (form == 0) {
            struct operand dest = mem_at(g, pick_target(g, size, 1, false), size);
            enc_op1(&e, 0x8f);
            enc_modrm_reg(&e, 0, dest);
        } else {
            enc_op1(&e, 0x58);
            e.opreg = pick_reg(g, 8, true);
        }
    } else {
        if (form == 0) {
            struct operand src = rm_operand(g, size, false);
            enc_op1(&e, 0xff);
            enc_modrm_reg(&e, 6, src);
        } else if (form == 1) {
            enc_op1(&e, 0x50);
            e.opreg = (int)rnd(g, g->mode == DT_MODE_64 ? 16 : 8);
        } else if (chance(g, 500)) {
            enc_op1(&e, 0x6a);
            e.imm = rnd(g, 256);
            e.immsz = 1;
        } else {
            enc_op1(&e, 0x68);
            e.immsz = size == 2 ? 2 : 4;
            e.imm = pick_imm(g, (unsigned)e.immsz);
        }
    }
    e.maybe_rex = chance(g, 100);
    if (emit(g, &e, 0, 0)) {
        g->rsp = pop ? g->rsp + size : g->rsp - size;
    }
}

/* ---- 32- and 16-bit code only ------------------------------------------------------------ */

/* INC, DEC r16/r32 (40+r, 48+r): REX prefixes in 64-bit code. */
static void t_incdec_short(struct gen *g)
{
    unsigned size = pick_size(g, false);
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, chance(g, 500) ? 0x40 : 0x48);
    e.opreg = pick_reg(g, size, true);
    emit(g, &e, DT_ARITH & ~DT_CF, 0);
}

/* PUSHA (60), alone or followed by POPA (61) of the same size, which restores every register
 * but the stack pointer from what PUSHA stored (so the pointer registers keep their values);
 * before the POPA one of the stored registers other than those may be overwritten. */
static void t_pusha(struct gen *g)
{
    unsigned size = chance(g, 500) ? 2 : 4;
    if (g->rsp - 8 * size < g->stack_top - 1024) {
        return;
    }
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, 0x60);
    if (!emit(g, &e, 0, 0)) {
        return;
    }
    g->rsp -= 8 * size;
    if (chance(g, 300)) {
        return;
    }
    if (chance(g, 500)) {
        /* MOV [ESP + slot], imm: EDI ESI - - - EDX ECX EAX from the lowest address up */
        static const unsigned slots[5] = {0, 1, 5, 6, 7};
        uint64_t sp = g->mode == DT_MODE_16 ? g->rsp & 0xffff : g->rsp; /* SS.B = 0: SP */
        uint64_t target = g->seg_base + sp + slots[rnd(g, 5)] * size;
        struct enc m = enc_new();
        enc_size(&m, size);
        enc_op1(&m, 0xc7);
        enc_modrm_reg(&m, 0, mem_at(g, target, 0));
        m.immsz = (int)size;
        m.imm = pick_imm(g, size);
        emit(g, &m, 0, 0);
    }
    struct enc p = enc_new();
    enc_size(&p, size);
    enc_op1(&p, 0x61);
    if (emit(g, &p, 0, 0)) {
        g->rsp += 8 * size;
    }
}

/* DAA DAS AAA AAS (27 2F 37 3F), AAM and AAD with an immediate base (D4/D5 ib; AAM 0 is #DE).
 * The SDM: DAA/DAS leave OF undefined; AAA/AAS OF SF ZF PF; AAM/AAD OF AF CF. DAA/DAS read CF
 * and AF, AAA/AAS AF. */
static void t_bcd(struct gen *g)
{
    struct enc e = enc_new();
    unsigned k = rnd(g, 6);
    static const uint8_t ops[6] = {0x27, 0x2f, 0x37, 0x3f, 0xd4, 0xd5};
    static const uint32_t reads[6] = {DT_CF | DT_AF, DT_CF | DT_AF, DT_AF, DT_AF, 0, 0};
    static const uint32_t undefined[6] = {DT_OF,
                                          DT_OF,
                                          DT_OF | DT_SF | DT_ZF | DT_PF,
                                          DT_OF | DT_SF | DT_ZF | DT_PF,
                                          DT_OF | DT_AF | DT_CF,
                                          DT_OF | DT_AF | DT_CF};
    if (g->undef & reads[k]) {
        return;
    }
    enc_op1(&e, ops[k]);
    if (k >= 4) {
        e.immsz = 1;
        e.imm = chance(g, 500) ? 10 : chance(g, 50) ? 0 : rnd(g, 256);
        if (k == 4 && e.imm == 0) {
            g->may_fault |= DT_MAY_DE;
            g->faulting = true;
        }
    }
    emit(g, &e, DT_ARITH, undefined[k]);
}

/* BOUND r, m16&16 / m32&32 (62): the register loaded with a known value, the pair stored by two
 * MOVs right before; mostly in range, sometimes not (#BR). */
static void t_bound(struct gen *g)
{
    unsigned size = pick_size(g, false);
    int r;
    do {
        r = pick_reg(g, size, true);
    } while (r == RSP);
    uint64_t target = pick_target(g, 2 * size, 1, true);
    int64_t lower = (int64_t)rnd(g, 200) - 100, upper = lower + (int64_t)rnd(g, 100);
    bool out = chance(g, 100);
    int64_t value = out ? (chance(g, 500) ? lower - 1 - rnd(g, 5) : upper + 1 + rnd(g, 5))
                        : lower + (int64_t)rnd(g, (unsigned)(upper - lower + 1));
    if (!emit_mov_imm(g, r, (uint64_t)value)) {
        return;
    }
    g->busy |= 1u << r;
    for (unsigned i = 0; i < 2; i++) {
        struct enc m = enc_new();
        enc_size(&m, size);
        enc_op1(&m, 0xc7);
        enc_modrm_reg(&m, 0, mem_at(g, target + i * size, 0));
        m.immsz = (int)size;
        m.imm = (uint64_t)(i ? upper : lower) & size_mask(size);
        emit(g, &m, 0, 0);
    }
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, 0x62);
    enc_modrm_reg(&e, r, mem_at(g, target, 0));
    if (out) {
        g->may_fault |= DT_MAY_BR;
        g->faulting = true;
    }
    emit(g, &e, 0, 0);
}

/* A return: opcode imm16 (C2 near, CA far) releasing extra bytes, sometimes with extra 0, or
 * the plain form (opcode + 1) when extra is 0; with 66 when opsize. */
static struct enc enc_return(struct gen *g, bool opsize, unsigned extra, uint8_t opcode)
{
    struct enc ret = enc_new();
    if (opsize) {
        enc_prefix(&ret, 0x66);
    }
    if (extra || chance(g, 200)) {
        enc_op1(&ret, opcode);
        ret.imm = extra;
        ret.immsz = 2;
    } else {
        enc_op1(&ret, (uint8_t)(opcode + 1));
    }
    return ret;
}

/* CALL over a short JMP to a RET (or RET imm16) right after it: CALL, RET, JMP, on. In 16-bit
 * code sometimes all with 66 (EIP pushed and popped as 32 bits); never in 32-bit code, where
 * 66 would truncate EIP to 16 bits. The JMP and the RET are marked skippable: a run that stops
 * before either is not a prefix of the sequence. */
static void t_call_ret(struct gen *g)
{
    struct dt_seq *s = g->seq;
    bool wide = g->mode == DT_MODE_16 && chance(g, 300);
    unsigned size = g->mode == DT_MODE_16 && !wide ? 2 : 4;
    unsigned extra = chance(g, 300) ? 2 * rnd(g, 4) : 0; /* RET imm16 releases this much */
    if (g->full || s->len + 16 + 14 > DT_CODE_MAX || s->ninsns + 3 > DT_MAX_INSNS ||
        g->rsp - size < g->stack_top - 1024 || g->rsp + extra > g->stack_top + 1024) {
        return;
    }
    struct enc ret = enc_return(g, wide, extra, 0xc2);
    unsigned ret_len = (wide ? 1u : 0u) + 1 + (unsigned)ret.immsz;
    struct enc call = enc_new();
    if (wide) {
        enc_prefix(&call, 0x66);
    }
    enc_op1(&call, 0xe8);
    call.immsz = (int)size;
    call.imm = 2; /* over the JMP */
    struct enc jmp = enc_new();
    enc_op1(&jmp, 0xeb);
    jmp.immsz = 1;
    jmp.imm = ret_len;
    if (!emit(g, &call, 0, 0)) {
        return;
    }
    g->rsp -= size; /* (the RET brings it back before anything else runs) */
    emit(g, &jmp, 0, 0);
    s->skippable[s->ninsns - 1] = 1;
    emit(g, &ret, 0, 0);
    s->skippable[s->ninsns - 1] = 1;
    g->rsp += size + extra;
}

/* ENTER alloc, level (0 or 1) and LEAVE of the same operand size: EBP and ESP come back, the
 * frame stays in memory. With a 16-bit stack, ENTER and LEAVE move SP and BP alone. */
static void t_enter_leave(struct gen *g)
{
    unsigned def = g->mode == DT_MODE_16 ? 2 : 4;
    unsigned size = chance(g, 250) ? 6 - def : def;
    unsigned level = rnd(g, 2), alloc = rnd(g, 64);
    if (g->full || g->rsp - size * (1 + level) - alloc < g->stack_top - 1024) {
        return;
    }
    struct enc e = enc_new();
    enc_size(&e, size);
    enc_op1(&e, 0xc8);
    e.imm = alloc | (uint64_t)level << 16;
    e.immsz = 3;
    struct enc l = enc_new();
    enc_size(&l, size);
    enc_op1(&l, 0xc9);
    if (g->seq->len + 12 + 14 > DT_CODE_MAX || !emit(g, &e, 0, 0)) {
        return;
    }
    emit(g, &l, 0, 0);
}

/* PUSH ES/CS/SS/DS (06 0E 16 1E) and MOV r/m, Sreg (8C) of those four: the selectors the
 * sequence runs with. A 32-bit PUSH of a selector writes either 4 bytes (zero-extended) or
 * only the low 2 (the SDM allows both; recent Intel CPUs do the latter), so its slot is zeroed
 * by a MOV first and both leave the same memory. */
static void t_sreg(struct gen *g)
{
    static const uint8_t push_ops[4] = {0x06, 0x0e, 0x16, 0x1e};
    unsigned sreg = rnd(g, 4); /* ES CS SS DS, as ModRM.reg encodes them */
    if (chance(g, 500)) {
        unsigned size = pick_size(g, false);
        struct operand dest =
            chance(g, 400) ? mem_operand(g, 2, 1) : reg_operand(pick_reg(g, size, true));
        struct enc e = enc_new();
        enc_size(&e, size); /* a memory destination takes 16 bits whatever the size */
        enc_op1(&e, 0x8c);
        enc_modrm_reg(&e, (int)sreg, dest);
        emit(g, &e, 0, 0);
        return;
    }
    unsigned def = g->mode == DT_MODE_16 ? 2 : 4;
    unsigned size = chance(g, 300) ? 6 - def : def;
    if (g->rsp - size < g->stack_top - 1024) {
        return;
    }
    if (size == 4) {
        uint64_t sp = g->mode == DT_MODE_16 ? g->rsp & 0xffff : g->rsp;
        struct enc z = enc_new();
        enc_size(&z, 4);
        enc_op1(&z, 0xc7);
        enc_modrm_reg(&z, 0, mem_at(g, g->seg_base + sp - 4, 0));
        z.imm = 0;
        z.immsz = 4;
        if (!emit(g, &z, 0, 0)) {
            return;
        }
    }
    struct enc e = enc_new();
    enc_stack_size(&e, size);
    enc_op1(&e, push_ops[sreg]);
    if (emit(g, &e, 0, 0)) {
        g->rsp -= size;
    }
}

/* Loads of DS, ES or SS (MOV Sreg, r16 (8E), or POP DS/ES (1F 07) of a pushed immediate) with
 * selectors of Linux's GDT (user.h) and of the LDT (dt_ldt): valid ones, RPLs that do or do not
 * fit, kernel (DPL 0) and system descriptors, null selectors, selectors past the GDT's and the
 * LDT's limits. Whether the load faults (#GP(selector), #GP(0) for a null SS) is the SDM's rule
 * for MOV Sreg, worked out here; a load that succeeds is read back now and then (MOV r, Sreg)
 * and undone at once with the selector the sequence runs with. */
static void t_segload(struct gen *g)
{
    static const struct {
        uint16_t sel;
        bool data_ok, ss_ok, ldt; /* loads into DS/ES, into SS; an LDT selector */
    } sels[] = {
        {0x2b, true, true, false},
        {0x28, true, false, false},
        {0x2a, true, false, false},
        {0x23, true, false, false},
        {0x20, true, false, false},
        {0x33, true, false, false},
        {0x00, true, false, false},
        {0x03, true, false, false},
        {0x01, true, false, false},
        {0x18, false, false, false},
        {0x1b, false, false, false},
        {0x10, false, false, false},
        {0x0b, false, false, false},
        {0x40, false, false, false},
        {0x43, false, false, false},
        {0x83, false, false, false},
        {0xfffb, false, false, false},
        {DT_SEL_CODE16, true, false, true},
        {DT_SEL_TRAMP16, true, false, true},
        {DT_SEL_DATA16, true, true, true},
        {DT_SEL_DATA16 & ~3u, true, false, true},
        {0x1f, false, false, true},
        {0x1c, false, false, true},
    };
    unsigned k = rnd(g, ARRAY_SIZE(sels));
    if (sels[k].ldt && !g->cfg->host.ldt) {
        return;
    }
    static const int sregs[3] = {0, 2, 3}; /* ES, SS, DS */
    int sreg = sregs[rnd(g, 3)];
    bool pop = sreg != 2 && chance(g, 300);
    uint16_t sel = sels[k].sel;
    uint16_t home = g->mode == DT_MODE_16 ? DT_SEL_DATA16 : DT_SEL_USER_DS;
    bool ok = sreg == 2 ? sels[k].ss_ok : sels[k].data_ok;
    if (pop && g->rsp - 4 < g->stack_top - 1024) {
        return;
    }
    int r = pick_reg(g, 2, true);
    if (!ok) {
        g->may_fault |= DT_MAY_GP;
    }
    if (pop) {
        unsigned size = g->mode == DT_MODE_16 ? 2 : 4;
        struct enc p = enc_new();
        enc_op1(&p, 0x68);
        p.immsz = (int)size;
        p.imm = sel;
        if (!emit(g, &p, 0, 0)) {
            return;
        }
        g->rsp -= size;
        struct enc e = enc_new();
        enc_op1(&e, sreg == 3 ? 0x1f : 0x07);
        if (!emit(g, &e, 0, 0)) {
            return;
        }
        g->rsp += size;
    } else {
        if (!emit_mov_imm(g, r, sel)) {
            return;
        }
        struct enc e = enc_new();
        if (chance(g, 200)) {
            enc_size(&e, 4); /* ignored: the selector is 16 bits */
        }
        enc_op1(&e, 0x8e);
        enc_modrm_reg(&e, sreg, reg_operand(r));
        if (!emit(g, &e, 0, 0)) {
            return;
        }
    }
    if (!ok) {
        g->faulting = true;
        return;
    }
    if (chance(g, 500)) {
        struct enc m = enc_new();
        enc_size(&m, pick_size(g, false));
        enc_op1(&m, 0x8c);
        enc_modrm_reg(&m, sreg, reg_operand(pick_reg(g, 2, true)));
        emit(g, &m, 0, 0);
    }
    if (sel != home) {
        emit_mov_imm(g, r, home);
        struct enc e = enc_new();
        enc_op1(&e, 0x8e);
        enc_modrm_reg(&e, sreg, reg_operand(r));
        emit(g, &e, 0, 0);
    }
}

/* Far transfers in the sequence's own code segment: JMP FAR ptr (EA) to the next instruction,
 * or CALL FAR ptr (9A) over a short JMP to a RETF (RETF imm16 now and then), with the code
 * selector's RPL 3 or 0 (a non-conforming segment takes RPL <= CPL, and CS's RPL becomes the
 * CPL); or a JMP FAR to a selector it must refuse (#GP(selector): data, DPL 0, null, past the
 * GDT's limit, the TSS). 16-bit code sometimes uses 66 (ptr16:32, EIP and CS pushed as 32 bits);
 * 32-bit code never does (its offsets do not fit 16 bits). A 32-bit push of CS writes 2 or 4
 * bytes as the CPU likes: its slot is zeroed first. */
static void t_far(struct gen *g)
{
    struct dt_seq *s = g->seq;
    uint16_t cs = g->mode == DT_MODE_16 ? DT_SEL_CODE16 : DT_SEL_USER32_CS;
    bool wide = g->mode == DT_MODE_32 || chance(g, 300);
    unsigned size = wide ? 4 : 2;
    unsigned kind = rnd(g, 5);
    if (g->full || s->len + 24 + 14 > DT_CODE_MAX || s->ninsns + 4 > DT_MAX_INSNS) {
        return;
    }
    uint16_t sel = chance(g, 300) ? (uint16_t)(cs & ~3u) : cs;
    if (kind == 0) {
        static const uint16_t bad[6] = {0x2b, 0x10, 0x00, 0x83, 0x40, 0x18};
        sel = bad[rnd(g, 6)];
    }
    struct enc e = enc_new();
    if (wide && g->mode == DT_MODE_16) {
        enc_prefix(&e, 0x66);
    }
    unsigned pfx = wide && g->mode == DT_MODE_16 ? 1 : 0;
    e.immsz = (int)size + 2;
    if (kind <= 2) {
        /* JMP FAR to the next instruction */
        enc_op1(&e, 0xea);
        uint64_t next = dt_ip_of(s, s->code_off + s->len + pfx + 1 + (unsigned)e.immsz);
        e.imm = (next & size_mask(size)) | (uint64_t)sel << (8 * size);
        if (kind == 0) {
            g->may_fault |= DT_MAY_GP;
            g->faulting = true;
        }
        emit(g, &e, 0, 0);
        return;
    }
    unsigned extra = chance(g, 300) ? 2 * rnd(g, 4) : 0;
    if (g->rsp - 2 * size < g->stack_top - 1024 || g->rsp + extra > g->stack_top + 1024) {
        return;
    }
    if (wide) {
        uint64_t sp = g->mode == DT_MODE_16 ? g->rsp & 0xffff : g->rsp;
        struct enc z = enc_new();
        enc_size(&z, 4);
        enc_op1(&z, 0xc7);
        enc_modrm_reg(&z, 0, mem_at(g, g->seg_base + sp - 4, 0));
        z.imm = 0;
        z.immsz = 4;
        if (!emit(g, &z, 0, 0)) {
            return;
        }
    }
    struct enc ret = enc_return(g, pfx, extra, 0xca);
    unsigned ret_len = pfx + 1 + (unsigned)ret.immsz;
    enc_op1(&e, 0x9a);
    uint64_t target = dt_ip_of(s, s->code_off + s->len + pfx + 1 + (unsigned)e.immsz + 2);
    e.imm = (target & size_mask(size)) | (uint64_t)sel << (8 * size);
    struct enc jmp = enc_new();
    enc_op1(&jmp, 0xeb);
    jmp.immsz = 1;
    jmp.imm = ret_len;
    if (!emit(g, &e, 0, 0)) {
        return;
    }
    g->rsp -= 2 * size; /* (the RETF brings it back before anything else runs) */
    emit(g, &jmp, 0, 0);
    s->skippable[s->ninsns - 1] = 1;
    emit(g, &ret, 0, 0);
    s->skippable[s->ninsns - 1] = 1;
    g->rsp += 2 * size + extra;
}

/* XLAT (D7): AL <- [EBX + AL] (BX with 16-bit addressing), AL loaded first so that the byte is
 * in the data; a segment override sometimes. 67 only in 16-bit code (BX in 32-bit code would
 * address the first 64 KiB). */
static void t_xlat(struct gen *g)
{
    uint64_t table = g->seg_base + (uint64_t)known_value(g, RBX);
    uint64_t room = DT_DATA_END - table;
    struct enc m = enc_new();
    enc_op1(&m, 0xb0); /* MOV AL, imm8 */
    m.immsz = 1;
    m.imm = rnd(g, room < 256 ? (unsigned)room : 256);
    if (!emit(g, &m, 0, 0)) {
        return;
    }
    struct enc e = enc_new();
    if (chance(g, 200)) {
        static const uint8_t segs[3] = {0x26, 0x36, 0x3e};
        enc_prefix(&e, segs[rnd(g, 3)]);
    }
    if (g->mode == DT_MODE_16 && chance(g, 300)) {
        enc_prefix(&e, 0x67);
    }
    enc_op1(&e, 0xd7);
    emit(g, &e, 0, 0);
}

/* ---- string instructions --------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t op;
    bool src, dst, compares;
} string_ops[5] = {
    {"movs", 0xa4, true, true, false},  {"cmps", 0xa6, true, true, true},
    {"stos", 0xaa, false, true, false}, {"lods", 0xac, true, false, false},
    {"scas", 0xae, false, true, true},
};

/* A start address for `count` elements of `size` bytes walked in the DF direction: inside the
 * data, or (rarely, if *may_fault, which it then clears) running into a guard page part way. */
static uint64_t string_start(struct gen *g, unsigned count, unsigned size, bool *may_fault)
{
    uint64_t span = (uint64_t)(count ? count : 1) * size;
    if (*may_fault && chance(g, 30)) {
        *may_fault = false;
        g->faulting = true;
        g->may_fault |= DT_MAY_PF;
        uint64_t part = rnd(g, (unsigned)span);
        return g->df ? DT_DATA_BASE + part - size : DT_DATA_END - part;
    }
    if (g->df) {
        return DT_DATA_BASE + span - size + rnd(g, (unsigned)(DT_DATA_SIZE - span + 1));
    }
    return DT_DATA_BASE + rnd(g, (unsigned)(DT_DATA_SIZE - span + 1));
}

static void t_string(struct gen *g)
{
    unsigned k = rnd(g, 5);
    unsigned size = pick_size(g, true);
    unsigned rep = rnd(g, 3); /* 0 none, 1 F3, 2 F2 (only where it means REPNE) */
    if (rep == 2 && !string_ops[k].compares) {
        rep = 1;
    }
    unsigned count = rnd(g, 4) == 0 ? 0 : rnd(g, 18);
    if (chance(g, 400)) {
        struct enc d = enc_new();
        g->df = chance(g, 500);
        enc_op1(&d, g->df ? 0xfd : 0xfc);
        emit(g, &d, DT_DF, 0);
    }
    if (!writable(g, RSI) || !writable(g, RDI) || !writable(g, RCX)) {
        return;
    }
    /* At most one of the two operands reaches a guard page: which of two faulting accesses
     * an instruction reports is the implementation's choice. */
    bool may_fault = true;
    uint64_t rsi, rdi;
    if (chance(g, 500)) {
        rsi = string_start(g, rep ? count : 1, size, &may_fault);
        rdi = string_start(g, rep ? count : 1, size, &may_fault);
    } else {
        rdi = string_start(g, rep ? count : 1, size, &may_fault);
        rsi = string_start(g, rep ? count : 1, size, &may_fault);
    }
    emit_mov_imm(g, RSI, rsi - g->seg_base);
    emit_mov_imm(g, RDI, rdi - g->seg_base);
    emit_mov_imm(g, RCX, count);
    struct enc e = enc_new();
    if (rep) {
        enc_prefix(&e, rep == 1 ? 0xf3 : 0xf2);
    }
    /* 67: ESI, EDI, ECX in 64- and 16-bit code (SI, DI, CX in 32-bit code: not mapped) */
    if (chance(g, 100) && g->mode != DT_MODE_32) {
        enc_prefix(&e, 0x67);
    }
    enc_size(&e, size);
    enc_op1(&e, (uint8_t)(string_ops[k].op + (size == 1 ? 0 : 1)));
    uint32_t written = string_ops[k].compares && (count || !rep) ? DT_ARITH : 0;
    emit(g, &e, written, 0);
}

/* ---- x87 --------------------------------------------------------------------------------- */

/* How an x87 instruction treats C0..C3 (the SDM's "FPU Flags Affected"). */
enum {
    FC_ARITH,  /* C1 defined (rounding up, stack fault), C0 C2 C3 undefined */
    FC_CMP,    /* all four defined */
    FC_UNDEF,  /* all four undefined */
    FC_C1,     /* C1 cleared, the others not affected (FCOMI and friends) */
    FC_STORESW /* FNSTSW: reads all four, leaves them undefined */
};

enum { X_MEM, X_REG, X_FIXED };

static const struct x87_op {
    const char *name;
    uint8_t op;
    uint8_t form; /* X_MEM: ModRM.reg = arg; X_REG: ModRM = arg + i; X_FIXED: ModRM = arg */
    uint8_t arg;
    uint8_t memsize;
    uint8_t cc;   /* FC_* */
    bool eflags;  /* writes ZF PF CF, clears OF SF AF (FCOMI...) */
    int8_t fcmov; /* reads this EFLAGS condition (an x86 cc number), or -1 */
    bool sse3;
} x87_ops[] = {
    /* memory forms */
    {"fadd m32", 0xd8, X_MEM, 0, 4, FC_ARITH, false, -1, false},
    {"fmul m32", 0xd8, X_MEM, 1, 4, FC_ARITH, false, -1, false},
    {"fcom m32", 0xd8, X_MEM, 2, 4, FC_CMP, false, -1, false},
    {"fcomp m32", 0xd8, X_MEM, 3, 4, FC_CMP, false, -1, false},
    {"fsub m32", 0xd8, X_MEM, 4, 4, FC_ARITH, false, -1, false},
    {"fsubr m32", 0xd8, X_MEM, 5, 4, FC_ARITH, false, -1, false},
    {"fdiv m32", 0xd8, X_MEM, 6, 4, FC_ARITH, false, -1, false},
    {"fdivr m32", 0xd8, X_MEM, 7, 4, FC_ARITH, false, -1, false},
    {"fadd m64", 0xdc, X_MEM, 0, 8, FC_ARITH, false, -1, false},
    {"fmul m64", 0xdc, X_MEM, 1, 8, FC_ARITH, false, -1, false},
    {"fcom m64", 0xdc, X_MEM, 2, 8, FC_CMP, false, -1, false},
    {"fcomp m64", 0xdc, X_MEM, 3, 8, FC_CMP, false, -1, false},
    {"fsub m64", 0xdc, X_MEM, 4, 8, FC_ARITH, false, -1, false},
    {"fsubr m64", 0xdc, X_MEM, 5, 8, FC_ARITH, false, -1, false},
    {"fdiv m64", 0xdc, X_MEM, 6, 8, FC_ARITH, false, -1, false},
    {"fdivr m64", 0xdc, X_MEM, 7, 8, FC_ARITH, false, -1, false},
    {"fiadd m32", 0xda, X_MEM, 0, 4, FC_ARITH, false, -1, false},
    {"fimul m32", 0xda, X_MEM, 1, 4, FC_ARITH, false, -1, false},
    {"ficom m32", 0xda, X_MEM, 2, 4, FC_CMP, false, -1, false},
    {"fisub m32", 0xda, X_MEM, 4, 4, FC_ARITH, false, -1, false},
    {"fidivr m32", 0xda, X_MEM, 7, 4, FC_ARITH, false, -1, false},
    {"fiadd m16", 0xde, X_MEM, 0, 2, FC_ARITH, false, -1, false},
    {"ficomp m16", 0xde, X_MEM, 3, 2, FC_CMP, false, -1, false},
    {"fisubr m16", 0xde, X_MEM, 5, 2, FC_ARITH, false, -1, false},
    {"fidiv m16", 0xde, X_MEM, 6, 2, FC_ARITH, false, -1, false},
    {"fld m32", 0xd9, X_MEM, 0, 4, FC_ARITH, false, -1, false},
    {"fst m32", 0xd9, X_MEM, 2, 4, FC_ARITH, false, -1, false},
    {"fstp m32", 0xd9, X_MEM, 3, 4, FC_ARITH, false, -1, false},
    {"fnstcw m16", 0xd9, X_MEM, 7, 2, FC_UNDEF, false, -1, false},
    {"fld m64", 0xdd, X_MEM, 0, 8, FC_ARITH, false, -1, false},
    {"fisttp m64", 0xdd, X_MEM, 1, 8, FC_ARITH, false, -1, true},
    {"fst m64", 0xdd, X_MEM, 2, 8, FC_ARITH, false, -1, false},
    {"fstp m64", 0xdd, X_MEM, 3, 8, FC_ARITH, false, -1, false},
    {"fnstsw m16", 0xdd, X_MEM, 7, 2, FC_STORESW, false, -1, false},
    {"fild m32", 0xdb, X_MEM, 0, 4, FC_ARITH, false, -1, false},
    {"fisttp m32", 0xdb, X_MEM, 1, 4, FC_ARITH, false, -1, true},
    {"fist m32", 0xdb, X_MEM, 2, 4, FC_ARITH, false, -1, false},
    {"fistp m32", 0xdb, X_MEM, 3, 4, FC_ARITH, false, -1, false},
    {"fld m80", 0xdb, X_MEM, 5, 10, FC_ARITH, false, -1, false},
    {"fstp m80", 0xdb, X_MEM, 7, 10, FC_ARITH, false, -1, false},
    {"fild m16", 0xdf, X_MEM, 0, 2, FC_ARITH, false, -1, false},
    {"fisttp m16", 0xdf, X_MEM, 1, 2, FC_ARITH, false, -1, true},
    {"fist m16", 0xdf, X_MEM, 2, 2, FC_ARITH, false, -1, false},
    {"fistp m16", 0xdf, X_MEM, 3, 2, FC_ARITH, false, -1, false},
    {"fild m64", 0xdf, X_MEM, 5, 8, FC_ARITH, false, -1, false},
    {"fistp m64", 0xdf, X_MEM, 7, 8, FC_ARITH, false, -1, false},
    /* register forms */
    {"fadd st,st(i)", 0xd8, X_REG, 0xc0, 0, FC_ARITH, false, -1, false},
    {"fmul st,st(i)", 0xd8, X_REG, 0xc8, 0, FC_ARITH, false, -1, false},
    {"fcom st(i)", 0xd8, X_REG, 0xd0, 0, FC_CMP, false, -1, false},
    {"fcomp st(i)", 0xd8, X_REG, 0xd8, 0, FC_CMP, false, -1, false},
    {"fsub st,st(i)", 0xd8, X_REG, 0xe0, 0, FC_ARITH, false, -1, false},
    {"fsubr st,st(i)", 0xd8, X_REG, 0xe8, 0, FC_ARITH, false, -1, false},
    {"fdiv st,st(i)", 0xd8, X_REG, 0xf0, 0, FC_ARITH, false, -1, false},
    {"fdivr st,st(i)", 0xd8, X_REG, 0xf8, 0, FC_ARITH, false, -1, false},
    {"fadd st(i),st", 0xdc, X_REG, 0xc0, 0, FC_ARITH, false, -1, false},
    {"fmul st(i),st", 0xdc, X_REG, 0xc8, 0, FC_ARITH, false, -1, false},
    {"fsubr st(i),st", 0xdc, X_REG, 0xe0, 0, FC_ARITH, false, -1, false},
    {"fsub st(i),st", 0xdc, X_REG, 0xe8, 0, FC_ARITH, false, -1, false},
    {"fdivr st(i),st", 0xdc, X_REG, 0xf0, 0, FC_ARITH, false, -1, false},
    {"fdiv st(i),st", 0xdc, X_REG, 0xf8, 0, FC_ARITH, false, -1, false},
    {"faddp", 0xde, X_REG, 0xc0, 0, FC_ARITH, false, -1, false},
    {"fmulp", 0xde, X_REG, 0xc8, 0, FC_ARITH, false, -1, false},
    {"fsubrp", 0xde, X_REG, 0xe0, 0, FC_ARITH, false, -1, false},
    {"fsubp", 0xde, X_REG, 0xe8, 0, FC_ARITH, false, -1, false},
    {"fdivrp", 0xde, X_REG, 0xf0, 0, FC_ARITH, false, -1, false},
    {"fdivp", 0xde, X_REG, 0xf8, 0, FC_ARITH, false, -1, false},
    {"fcompp", 0xde, X_FIXED, 0xd9, 0, FC_CMP, false, -1, false},
    {"fld st(i)", 0xd9, X_REG, 0xc0, 0, FC_ARITH, false, -1, false},
    {"fxch", 0xd9, X_REG, 0xc8, 0, FC_ARITH, false, -1, false},
    {"fst st(i)", 0xdd, X_REG, 0xd0, 0, FC_ARITH, false, -1, false},
    {"fstp st(i)", 0xdd, X_REG, 0xd8, 0, FC_ARITH, false, -1, false},
    {"ffree", 0xdd, X_REG, 0xc0, 0, FC_UNDEF, false, -1, false},
    {"fucom", 0xdd, X_REG, 0xe0, 0, FC_CMP, false, -1, false},
    {"fucomp", 0xdd, X_REG, 0xe8, 0, FC_CMP, false, -1, false},
    {"fucompp", 0xda, X_FIXED, 0xe9, 0, FC_CMP, false, -1, false},
    {"fucomi", 0xdb, X_REG, 0xe8, 0, FC_C1, true, -1, false},
    {"fcomi", 0xdb, X_REG, 0xf0, 0, FC_C1, true, -1, false},
    {"fucomip", 0xdf, X_REG, 0xe8, 0, FC_C1, true, -1, false},
    {"fcomip", 0xdf, X_REG, 0xf0, 0, FC_C1, true, -1, false},
    {"fcmovb", 0xda, X_REG, 0xc0, 0, FC_ARITH, false, 2, false},
    {"fcmove", 0xda, X_REG, 0xc8, 0, FC_ARITH, false, 4, false},
    {"fcmovbe", 0xda, X_REG, 0xd0, 0, FC_ARITH, false, 6, false},
    {"fcmovu", 0xda, X_REG, 0xd8, 0, FC_ARITH, false, 10, false},
    {"fcmovnb", 0xdb, X_REG, 0xc0, 0, FC_ARITH, false, 3, false},
    {"fcmovne", 0xdb, X_REG, 0xc8, 0, FC_ARITH, false, 5, false},
    {"fcmovnbe", 0xdb, X_REG, 0xd0, 0, FC_ARITH, false, 7, false},
    {"fcmovnu", 0xdb, X_REG, 0xd8, 0, FC_ARITH, false, 11, false},
    /* no operand */
    {"fchs", 0xd9, X_FIXED, 0xe0, 0, FC_ARITH, false, -1, false},
    {"fabs", 0xd9, X_FIXED, 0xe1, 0, FC_ARITH, false, -1, false},
    {"ftst", 0xd9, X_FIXED, 0xe4, 0, FC_CMP, false, -1, false},
    {"fxam", 0xd9, X_FIXED, 0xe5, 0, FC_CMP, false, -1, false},
    {"fld1", 0xd9, X_FIXED, 0xe8, 0, FC_ARITH, false, -1, false},
    {"fldl2t", 0xd9, X_FIXED, 0xe9, 0, FC_ARITH, false, -1, false},
    {"fldl2e", 0xd9, X_FIXED, 0xea, 0, FC_ARITH, false, -1, false},
    {"fldpi", 0xd9, X_FIXED, 0xeb, 0, FC_ARITH, false, -1, false},
    {"fldlg2", 0xd9, X_FIXED, 0xec, 0, FC_ARITH, false, -1, false},
    {"fldln2", 0xd9, X_FIXED, 0xed, 0, FC_ARITH, false, -1, false},
    {"fldz", 0xd9, X_FIXED, 0xee, 0, FC_ARITH, false, -1, false},
    {"fxtract", 0xd9, X_FIXED, 0xf4, 0, FC_ARITH, false, -1, false},
    {"fdecstp", 0xd9, X_FIXED, 0xf6, 0, FC_ARITH, false, -1, false},
    {"fincstp", 0xd9, X_FIXED, 0xf7, 0, FC_ARITH, false, -1, false},
    {"fsqrt", 0xd9, X_FIXED, 0xfa, 0, FC_ARITH, false, -1, false},
    {"frndint", 0xd9, X_FIXED, 0xfc, 0, FC_ARITH, false, -1, false},
    {"fscale", 0xd9, X_FIXED, 0xfd, 0, FC_ARITH, false, -1, false},
    {"fnclex", 0xdb, X_FIXED, 0xe2, 0, FC_UNDEF, false, -1, false},
    {"fninit", 0xdb, X_FIXED, 0xe3, 0, FC_CMP, false, -1, false},
    {"fnstsw ax", 0xdf, X_FIXED, 0xe0, 0, FC_STORESW, false, -1, false},
};

/* An x87 control word with every exception masked (an unmasked one would turn the next x87
 * instruction into #MF), and random precision and rounding control. */
static uint16_t x87_control_word(struct gen *g)
{
    /* precision control 1 is reserved: what a CPU does with it is its own business */
    static const unsigned precision[3] = {0, 2, 3};
    return (uint16_t)(0x007f | precision[rnd(g, 3)] << 8 | rnd(g, 4) << 10 |
                      (chance(g, 100) ? 0x1000 : 0));
}

static void t_x87(struct gen *g)
{
    if (g->x87_unmasked) {
        g->may_fault |= DT_MAY_MF;
    }
    if (chance(g, 40)) {
        /* FLDCW: store a control word with MOV, load it. */
        uint64_t target = pick_target(g, 2, 1, true);
        struct enc s = enc_new();
        enc_size(&s, 2);
        enc_op1(&s, 0xc7);
        enc_modrm_reg(&s, 0, mem_at(g, target, 0));
        s.imm = x87_control_word(g);
        s.immsz = 2;
        emit(g, &s, 0, 0);
        struct enc e = enc_new();
        enc_op1(&e, 0xd9);
        enc_modrm_reg(&e, 5, mem_at(g, target, 0));
        emit(g, &e, DT_FPU_CC, DT_FPU_CC);
        return;
    }
    if (g->x87_unmasked) {
        if (chance(g, 50)) {
            struct enc w = enc_new();
            enc_op1(&w, 0x9b); /* FWAIT: where a pending exception is taken */
            emit(g, &w, 0, 0);
            return;
        }
    }
    const struct x87_op *x = &x87_ops[rnd(g, ARRAY_SIZE(x87_ops))];
    if (x->sse3 && !g->cfg->host.sse3) {
        return;
    }
    if (x->cc == FC_STORESW && (g->undef & DT_FPU_CC)) {
        return;
    }
    if (x->fcmov >= 0 && (cc_reads((unsigned)x->fcmov) & g->undef)) {
        return;
    }
    if (x->cc == FC_STORESW && x->form == X_FIXED && !writable(g, RAX)) {
        return;
    }
    struct enc e = enc_new();
    enc_op1(&e, x->op);
    if (x->form == X_MEM) {
        enc_modrm_reg(&e, x->arg, mem_operand(g, x->memsize, 1));
    } else {
        enc_op1(&e, (uint8_t)(x->arg + (x->form == X_REG ? rnd(g, 8) : 0)));
    }
    uint32_t written = 0, undefined = 0;
    switch (x->cc) {
    case FC_ARITH:
        written = DT_FPU_CC;
        undefined = DT_C0 | DT_C2 | DT_C3;
        break;
    case FC_CMP:
        written = DT_FPU_CC;
        break;
    case FC_UNDEF:
    case FC_STORESW:
        written = undefined = DT_FPU_CC;
        break;
    case FC_C1:
        written = DT_C1;
        break;
    }
    if (x->eflags) {
        written |= DT_ARITH;
    }
    emit(g, &e, written, undefined);
}

/* ---- SSE ... SSE4.2 and MMX ---------------------------------------------------------------- */

enum { F_SSE2, F_SSE3, F_SSSE3, F_SSE41, F_SSE42 };
enum {
    K_XX,     /* xmm, xmm/m */
    K_XSTORE, /* xmm/m, xmm */
    K_XG,     /* xmm, r/m (a GPR or memory) */
    K_GX,     /* GPR, xmm/m */
    K_GSTORE, /* r/m, xmm */
    K_SHIFTI, /* xmm (ModRM.rm), imm8 with ModRM.reg = ext */
    K_GG,     /* GPR, r/m (CRC32) */
    K_NONE,   /* EMMS */
};
enum {
    S_ALIGN = 1,   /* a 16-byte memory operand must be aligned (#GP otherwise) */
    S_IMM = 2,     /* an imm8 follows */
    S_MMX = 4,     /* also exists without 66 on MMX registers */
    S_MEMONLY = 8, /* the r/m operand must be memory */
    S_REGONLY = 16,
    S_W = 32,     /* REX.W selects a 64-bit GPR operand */
    S_FLAGS = 64, /* writes the six arithmetic flags (all defined) */
    S_XMM0 = 128, /* reads XMM0 implicitly (BLENDV) */
};

static const struct sse_op {
    const char *name;
    uint8_t pfx; /* 0, 0x66, 0xf2, 0xf3 */
    uint8_t map; /* 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t op;
    uint8_t feat;
    uint8_t kind;
    uint8_t memsize;
    uint8_t ext;
    uint16_t flags;
} sse_ops[] = {
#define P(pfx, op, name, feat, mem, fl)          \
    {                                            \
        name, pfx, 1, op, feat, K_XX, mem, 0, fl \
    }
#define FP4(op, name)                                                                      \
    P(0, op, name "ps", F_SSE2, 16, S_ALIGN), P(0x66, op, name "pd", F_SSE2, 16, S_ALIGN), \
        P(0xf3, op, name "ss", F_SSE2, 4, 0), P(0xf2, op, name "sd", F_SSE2, 8, 0)
#define INT(op, name)  P(0x66, op, name, F_SSE2, 16, S_ALIGN | S_MMX)
#define INTX(op, name) P(0x66, op, name, F_SSE2, 16, S_ALIGN)
#define S38(op, name, feat, fl)                              \
    {                                                        \
        name, 0x66, 2, op, feat, K_XX, 16, 0, S_ALIGN | (fl) \
    }
#define S38M(op, name, mem)                         \
    {                                               \
        name, 0x66, 2, op, F_SSE41, K_XX, mem, 0, 0 \
    }
#define S3A(op, name, feat, mem, fl)                                                      \
    {                                                                                     \
        name, 0x66, 3, op, feat, K_XX, mem, 0, S_IMM | ((mem) == 16 ? S_ALIGN : 0) | (fl) \
    }
    FP4(0x58, "add"),
    FP4(0x59, "mul"),
    FP4(0x5c, "sub"),
    FP4(0x5d, "min"),
    FP4(0x5e, "div"),
    FP4(0x5f, "max"),
    FP4(0x51, "sqrt"),
    {"cmpps", 0, 1, 0xc2, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"cmppd", 0x66, 1, 0xc2, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"cmpss", 0xf3, 1, 0xc2, F_SSE2, K_XX, 4, 0, S_IMM},
    {"cmpsd", 0xf2, 1, 0xc2, F_SSE2, K_XX, 8, 0, S_IMM},
    P(0, 0x54, "andps", F_SSE2, 16, S_ALIGN),
    P(0x66, 0x54, "andpd", F_SSE2, 16, S_ALIGN),
    P(0, 0x55, "andnps", F_SSE2, 16, S_ALIGN),
    P(0, 0x56, "orps", F_SSE2, 16, S_ALIGN),
    P(0x66, 0x57, "xorpd", F_SSE2, 16, S_ALIGN),
    {"shufps", 0, 1, 0xc6, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"shufpd", 0x66, 1, 0xc6, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    P(0, 0x14, "unpcklps", F_SSE2, 16, S_ALIGN),
    P(0x66, 0x15, "unpckhpd", F_SSE2, 16, S_ALIGN),
    P(0, 0x28, "movaps", F_SSE2, 16, S_ALIGN),
    P(0, 0x10, "movups", F_SSE2, 16, 0),
    P(0xf3, 0x10, "movss", F_SSE2, 4, 0),
    P(0xf2, 0x10, "movsd", F_SSE2, 8, 0),
    P(0x66, 0x6f, "movdqa", F_SSE2, 16, S_ALIGN),
    P(0xf3, 0x6f, "movdqu", F_SSE2, 16, 0),
    P(0, 0x12, "movlps/movhlps", F_SSE2, 8, 0),
    P(0, 0x16, "movhps/movlhps", F_SSE2, 8, 0),
    P(0xf3, 0x7e, "movq", F_SSE2, 8, 0),
    {"movaps", 0, 1, 0x29, F_SSE2, K_XSTORE, 16, 0, S_ALIGN},
    {"movups", 0, 1, 0x11, F_SSE2, K_XSTORE, 16, 0, 0},
    {"movss", 0xf3, 1, 0x11, F_SSE2, K_XSTORE, 4, 0, 0},
    {"movsd", 0xf2, 1, 0x11, F_SSE2, K_XSTORE, 8, 0, 0},
    {"movdqu", 0xf3, 1, 0x7f, F_SSE2, K_XSTORE, 16, 0, 0},
    {"movq", 0x66, 1, 0xd6, F_SSE2, K_XSTORE, 8, 0, 0},
    P(0, 0x5a, "cvtps2pd", F_SSE2, 8, 0),
    P(0x66, 0x5a, "cvtpd2ps", F_SSE2, 16, S_ALIGN),
    P(0xf3, 0x5a, "cvtss2sd", F_SSE2, 4, 0),
    P(0xf2, 0x5a, "cvtsd2ss", F_SSE2, 8, 0),
    P(0, 0x5b, "cvtdq2ps", F_SSE2, 16, S_ALIGN),
    P(0x66, 0x5b, "cvtps2dq", F_SSE2, 16, S_ALIGN),
    P(0xf3, 0x5b, "cvttps2dq", F_SSE2, 16, S_ALIGN),
    P(0xf3, 0xe6, "cvtdq2pd", F_SSE2, 8, 0),
    P(0xf2, 0xe6, "cvtpd2dq", F_SSE2, 16, S_ALIGN),
    P(0x66, 0xe6, "cvttpd2dq", F_SSE2, 16, S_ALIGN),
    {"cvtsi2ss", 0xf3, 1, 0x2a, F_SSE2, K_XG, 4, 0, S_W},
    {"cvtsi2sd", 0xf2, 1, 0x2a, F_SSE2, K_XG, 4, 0, S_W},
    {"cvttss2si", 0xf3, 1, 0x2c, F_SSE2, K_GX, 4, 0, S_W},
    {"cvtss2si", 0xf3, 1, 0x2d, F_SSE2, K_GX, 4, 0, S_W},
    {"cvttsd2si", 0xf2, 1, 0x2c, F_SSE2, K_GX, 8, 0, S_W},
    {"cvtsd2si", 0xf2, 1, 0x2d, F_SSE2, K_GX, 8, 0, S_W},
    {"ucomiss", 0, 1, 0x2e, F_SSE2, K_XX, 4, 0, S_FLAGS},
    {"comiss", 0, 1, 0x2f, F_SSE2, K_XX, 4, 0, S_FLAGS},
    {"ucomisd", 0x66, 1, 0x2e, F_SSE2, K_XX, 8, 0, S_FLAGS},
    {"comisd", 0x66, 1, 0x2f, F_SSE2, K_XX, 8, 0, S_FLAGS},
    {"movmskps", 0, 1, 0x50, F_SSE2, K_GX, 16, 0, S_REGONLY},
    {"movmskpd", 0x66, 1, 0x50, F_SSE2, K_GX, 16, 0, S_REGONLY},
    {"pmovmskb", 0x66, 1, 0xd7, F_SSE2, K_GX, 16, 0, S_REGONLY},
    {"movd/q", 0x66, 1, 0x6e, F_SSE2, K_XG, 4, 0, S_W},
    {"movd/q", 0x66, 1, 0x7e, F_SSE2, K_GSTORE, 4, 0, S_W},
    {"pinsrw", 0x66, 1, 0xc4, F_SSE2, K_XG, 2, 0, S_IMM},
    {"pextrw", 0x66, 1, 0xc5, F_SSE2, K_GX, 16, 0, S_IMM | S_REGONLY},
    INT(0xfc, "paddb"),
    INT(0xfd, "paddw"),
    INT(0xfe, "paddd"),
    INT(0xd4, "paddq"),
    INT(0xf8, "psubb"),
    INT(0xf9, "psubw"),
    INT(0xfa, "psubd"),
    INT(0xfb, "psubq"),
    INT(0xec, "paddsb"),
    INT(0xed, "paddsw"),
    INT(0xdc, "paddusb"),
    INT(0xdd, "paddusw"),
    INT(0xe8, "psubsb"),
    INT(0xe9, "psubsw"),
    INT(0xd8, "psubusb"),
    INT(0xd9, "psubusw"),
    INT(0xd5, "pmullw"),
    INT(0xe5, "pmulhw"),
    INT(0xe4, "pmulhuw"),
    INT(0xf4, "pmuludq"),
    INT(0xf5, "pmaddwd"),
    INT(0xf6, "psadbw"),
    INT(0xe0, "pavgb"),
    INT(0xe3, "pavgw"),
    INT(0xda, "pminub"),
    INT(0xde, "pmaxub"),
    INT(0xea, "pminsw"),
    INT(0xee, "pmaxsw"),
    INT(0xdb, "pand"),
    INT(0xdf, "pandn"),
    INT(0xeb, "por"),
    INT(0xef, "pxor"),
    INT(0x74, "pcmpeqb"),
    INT(0x75, "pcmpeqw"),
    INT(0x76, "pcmpeqd"),
    INT(0x64, "pcmpgtb"),
    INT(0x65, "pcmpgtw"),
    INT(0x66, "pcmpgtd"),
    INT(0x60, "punpcklbw"),
    INT(0x61, "punpcklwd"),
    INT(0x62, "punpckldq"),
    INT(0x63, "packsswb"),
    INT(0x67, "packuswb"),
    INT(0x68, "punpckhbw"),
    INT(0x69, "punpckhwd"),
    INT(0x6a, "punpckhdq"),
    INT(0x6b, "packssdw"),
    INTX(0x6c, "punpcklqdq"),
    INTX(0x6d, "punpckhqdq"),
    INT(0xd1, "psrlw"),
    INT(0xd2, "psrld"),
    INT(0xd3, "psrlq"),
    INT(0xe1, "psraw"),
    INT(0xe2, "psrad"),
    INT(0xf1, "psllw"),
    INT(0xf2, "pslld"),
    INT(0xf3, "psllq"),
    {"psrlw", 0x66, 1, 0x71, F_SSE2, K_SHIFTI, 0, 2, S_IMM | S_MMX},
    {"psraw", 0x66, 1, 0x71, F_SSE2, K_SHIFTI, 0, 4, S_IMM | S_MMX},
    {"psllw", 0x66, 1, 0x71, F_SSE2, K_SHIFTI, 0, 6, S_IMM | S_MMX},
    {"psrld", 0x66, 1, 0x72, F_SSE2, K_SHIFTI, 0, 2, S_IMM | S_MMX},
    {"psrad", 0x66, 1, 0x72, F_SSE2, K_SHIFTI, 0, 4, S_IMM | S_MMX},
    {"pslld", 0x66, 1, 0x72, F_SSE2, K_SHIFTI, 0, 6, S_IMM | S_MMX},
    {"psrlq", 0x66, 1, 0x73, F_SSE2, K_SHIFTI, 0, 2, S_IMM | S_MMX},
    {"psrldq", 0x66, 1, 0x73, F_SSE2, K_SHIFTI, 0, 3, S_IMM},
    {"psllq", 0x66, 1, 0x73, F_SSE2, K_SHIFTI, 0, 6, S_IMM | S_MMX},
    {"pslldq", 0x66, 1, 0x73, F_SSE2, K_SHIFTI, 0, 7, S_IMM},
    {"pshufd", 0x66, 1, 0x70, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"pshufhw", 0xf3, 1, 0x70, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"pshuflw", 0xf2, 1, 0x70, F_SSE2, K_XX, 16, 0, S_ALIGN | S_IMM},
    {"emms", 0, 1, 0x77, F_SSE2, K_NONE, 0, 0, 0},
    P(0xf2, 0xd0, "addsubps", F_SSE3, 16, S_ALIGN),
    P(0x66, 0xd0, "addsubpd", F_SSE3, 16, S_ALIGN),
    P(0xf2, 0x7c, "haddps", F_SSE3, 16, S_ALIGN),
    P(0x66, 0x7d, "hsubpd", F_SSE3, 16, S_ALIGN),
    P(0xf3, 0x12, "movsldup", F_SSE3, 16, S_ALIGN),
    P(0xf3, 0x16, "movshdup", F_SSE3, 16, S_ALIGN),
    P(0xf2, 0x12, "movddup", F_SSE3, 8, 0),
    {"lddqu", 0xf2, 1, 0xf0, F_SSE3, K_XX, 16, 0, S_MEMONLY},
    S38(0x00, "pshufb", F_SSSE3, S_MMX),
    S38(0x01, "phaddw", F_SSSE3, S_MMX),
    S38(0x02, "phaddd", F_SSSE3, S_MMX),
    S38(0x03, "phaddsw", F_SSSE3, S_MMX),
    S38(0x04, "pmaddubsw", F_SSSE3, S_MMX),
    S38(0x05, "phsubw", F_SSSE3, S_MMX),
    S38(0x07, "phsubsw", F_SSSE3, S_MMX),
    S38(0x08, "psignb", F_SSSE3, S_MMX),
    S38(0x0a, "psignd", F_SSSE3, S_MMX),
    S38(0x0b, "pmulhrsw", F_SSSE3, S_MMX),
    S38(0x1c, "pabsb", F_SSSE3, S_MMX),
    S38(0x1e, "pabsd", F_SSSE3, S_MMX),
    S3A(0x0f, "palignr", F_SSSE3, 16, S_MMX),
    S38(0x10, "pblendvb", F_SSE41, S_XMM0),
    S38(0x14, "blendvps", F_SSE41, S_XMM0),
    S38(0x15, "blendvpd", F_SSE41, S_XMM0),
    S38(0x17, "ptest", F_SSE41, S_FLAGS),
    S38M(0x20, "pmovsxbw", 8),
    S38M(0x21, "pmovsxbd", 4),
    S38M(0x22, "pmovsxbq", 2),
    S38M(0x23, "pmovsxwd", 8),
    S38M(0x25, "pmovsxdq", 8),
    S38M(0x30, "pmovzxbw", 8),
    S38M(0x32, "pmovzxbq", 2),
    S38M(0x34, "pmovzxwq", 4),
    S38M(0x35, "pmovzxdq", 8),
    S38(0x28, "pmuldq", F_SSE41, 0),
    S38(0x29, "pcmpeqq", F_SSE41, 0),
    S38(0x2b, "packusdw", F_SSE41, 0),
    S38(0x38, "pminsb", F_SSE41, 0),
    S38(0x39, "pminsd", F_SSE41, 0),
    S38(0x3a, "pminuw", F_SSE41, 0),
    S38(0x3b, "pminud", F_SSE41, 0),
    S38(0x3c, "pmaxsb", F_SSE41, 0),
    S38(0x3f, "pmaxud", F_SSE41, 0),
    S38(0x40, "pmulld", F_SSE41, 0),
    S38(0x41, "phminposuw", F_SSE41, 0),
    S3A(0x08, "roundps", F_SSE41, 16, 0),
    S3A(0x09, "roundpd", F_SSE41, 16, 0),
    S3A(0x0a, "roundss", F_SSE41, 4, 0),
    S3A(0x0b, "roundsd", F_SSE41, 8, 0),
    S3A(0x0c, "blendps", F_SSE41, 16, 0),
    S3A(0x0d, "blendpd", F_SSE41, 16, 0),
    S3A(0x0e, "pblendw", F_SSE41, 16, 0),
    S3A(0x40, "dpps", F_SSE41, 16, 0),
    S3A(0x41, "dppd", F_SSE41, 16, 0),
    S3A(0x42, "mpsadbw", F_SSE41, 16, 0),
    S3A(0x21, "insertps", F_SSE41, 4, 0),
    {"pextrb", 0x66, 3, 0x14, F_SSE41, K_GSTORE, 1, 0, S_IMM},
    {"pextrw", 0x66, 3, 0x15, F_SSE41, K_GSTORE, 2, 0, S_IMM},
    {"pextrd/q", 0x66, 3, 0x16, F_SSE41, K_GSTORE, 4, 0, S_IMM | S_W},
    {"extractps", 0x66, 3, 0x17, F_SSE41, K_GSTORE, 4, 0, S_IMM},
    {"pinsrb", 0x66, 3, 0x20, F_SSE41, K_XG, 1, 0, S_IMM},
    {"pinsrd/q", 0x66, 3, 0x22, F_SSE41, K_XG, 4, 0, S_IMM | S_W},
    S38(0x37, "pcmpgtq", F_SSE42, 0),
    {"pcmpestrm", 0x66, 3, 0x60, F_SSE42, K_XX, 16, 0, S_IMM | S_FLAGS | S_W},
    {"pcmpestri", 0x66, 3, 0x61, F_SSE42, K_XX, 16, 0, S_IMM | S_FLAGS | S_W},
    {"pcmpistrm", 0x66, 3, 0x62, F_SSE42, K_XX, 16, 0, S_IMM | S_FLAGS},
    {"pcmpistri", 0x66, 3, 0x63, F_SSE42, K_XX, 16, 0, S_IMM | S_FLAGS},
    {"crc32 r/m8", 0xf2, 2, 0xf0, F_SSE42, K_GG, 1, 0, S_W},
    {"crc32", 0xf2, 2, 0xf1, F_SSE42, K_GG, 4, 0, S_W},
#undef P
#undef FP4
#undef INT
#undef INTX
#undef S38
#undef S38M
#undef S3A
};

static bool sse_supported(const struct gen *g, unsigned feat)
{
    const struct dt_host_features *h = &g->cfg->host;
    switch (feat) {
    case F_SSE3:
        return h->sse3;
    case F_SSSE3:
        return h->ssse3;
    case F_SSE41:
        return h->sse41;
    case F_SSE42:
        return h->sse42;
    default:
        return true;
    }
}

static void t_sse(struct gen *g)
{
    const struct sse_op *x = &sse_ops[rnd(g, ARRAY_SIZE(sse_ops))];
    if (!sse_supported(g, x->feat)) {
        return;
    }
    /* MMX instructions take a pending x87 exception (#MF) first */
    g->may_fault |= (g->sse_unmasked ? DT_MAY_XM : 0) | (g->x87_unmasked ? DT_MAY_MF : 0);
    bool mmx = (x->flags & S_MMX) && chance(g, 250);
    bool wide = (x->flags & S_W) && chance(g, 500) && g->mode == DT_MODE_64;
    unsigned memsize = x->memsize;
    if (x->kind == K_GG && x->op == 0xf1 && chance(g, 300)) {
        memsize = 2;
        wide = false;
    }
    /* REX.W widens the GPR operand, or the r/m one that may be a GPR; CVTxx2SI read a scalar
     * of their own size whatever the destination's. */
    if (wide && memsize == 4 && x->kind != K_GX) {
        memsize = 8;
    }
    if (mmx && memsize > 8) {
        /* the MMX forms read 8 bytes, PUNPCKLBW/WD/DQ mm, mm/m32 only 4 (the planned faults
         * depend on it: an operand straddling the 16-bit limit by its last 4 bytes) */
        memsize = x->map == 1 && x->op >= 0x60 && x->op <= 0x62 ? 4 : 8;
    }
    /* PCMPxSTRx need no alignment; the other 16-byte operands mostly do. */
    unsigned align = (x->flags & S_ALIGN) && !mmx ? 16 : 1;
    int nregs = mmx || g->mode != DT_MODE_64 ? 8 : 16; /* XMM8-15 need REX */
    struct enc e = enc_new();
    if (x->pfx && !mmx) {
        enc_prefix(&e, x->pfx);
    }
    if (x->kind == K_GG && memsize > 1) {
        enc_size(&e, memsize == 8 ? 4 : memsize); /* CRC32 r/m16 and r/m32: 66 as the mode says */
    }
    e.rex_w = wide;
    if (x->map == 1) {
        enc_op2(&e, 0x0f, x->op);
    } else {
        enc_op3(&e, 0x0f, x->map == 2 ? 0x38 : 0x3a, x->op);
    }
    if (x->flags & S_IMM) {
        e.imm = rnd(g, 256);
        if (x->op == 0xc2) {
            e.imm &= 7; /* CMPxx predicates 8..31 are AVX only */
        }
        e.immsz = 1;
    }
    bool mem = !(x->flags & S_REGONLY) && ((x->flags & S_MEMONLY) || chance(g, 350));
    int xreg = (int)rnd(g, (unsigned)nregs);
    struct operand rm;
    uint32_t written = (x->flags & S_FLAGS) ? DT_ARITH : 0;
    switch (x->kind) {
    case K_XX:
    case K_XSTORE:
        rm = mem ? mem_operand(g, memsize, align) : reg_operand((int)rnd(g, (unsigned)nregs));
        enc_modrm_reg(&e, xreg, rm);
        break;
    case K_XG:
        rm = mem ? mem_operand(g, memsize, 1) : reg_operand(pick_reg(g, 8, false));
        enc_modrm_reg(&e, xreg, rm);
        break;
    case K_GX:
        rm = mem ? mem_operand(g, memsize, align) : reg_operand(xreg);
        enc_modrm_reg(&e, pick_reg(g, 8, true), rm);
        break;
    case K_GSTORE:
        rm = mem ? mem_operand(g, memsize, 1) : reg_operand(pick_reg(g, 8, true));
        enc_modrm_reg(&e, xreg, rm);
        break;
    case K_SHIFTI:
        enc_modrm_reg(&e, x->ext, reg_operand(xreg));
        break;
    case K_GG:
        rm = mem ? mem_operand(g, wide && memsize == 4 ? 8 : memsize, 1)
                 : reg_operand(pick_reg(g, memsize, false));
        if (!rm.is_mem && memsize == 1) {
            e.byte_regs = true; /* the destination is then one of 0..15 as well */
        }
        enc_modrm_reg(&e, pick_reg(g, 8, true), rm);
        break;
    default:
        break;
    }
    emit(g, &e, written, 0);
}

/* ---- forward branches -------------------------------------------------------------------- */

/* A branch over the next template: Jcc (rel8, rel32), JMP (rel8, rel32), JRCXZ/JECXZ, LOOP,
 * LOOPE, LOOPNE, taken or not as the flags and RCX say. Its displacement is patched once the
 * template is there; the flags undefined after it are those of either path. */
struct skip {
    bool active;
    unsigned disp_at, disp_size, end; /* where the displacement is, its size, the branch's end */
    unsigned first_insn;              /* the first instruction that may be skipped */
    uint32_t undef_before;
};

static void skip_begin(struct gen *g, struct skip *k)
{
    struct enc e = enc_new();
    int cc = -1;
    unsigned form = rnd(g, 6);
    switch (form) {
    case 0:
    case 1:
        cc = pick_cc(g);
        if (cc < 0) {
            return;
        }
        if (form == 0) {
            enc_op1(&e, (uint8_t)(0x70 + cc));
            e.immsz = 1;
        } else {
            enc_op2(&e, 0x0f, (uint8_t)(0x80 + cc));
            e.immsz = g->mode == DT_MODE_16 ? 2 : 4; /* rel16 in 16-bit code */
            if (g->mode == DT_MODE_16 && chance(g, 300)) {
                enc_prefix(&e, 0x66); /* rel32, EIP not truncated */
                e.immsz = 4;
            }
        }
        break;
    case 2:
        enc_op1(&e, 0xeb);
        e.immsz = 1;
        break;
    case 3:
        enc_op1(&e, 0xe9);
        e.immsz = g->mode == DT_MODE_16 ? 2 : 4;
        if (g->mode == DT_MODE_16 && chance(g, 300)) {
            enc_prefix(&e, 0x66);
            e.immsz = 4;
        }
        break;
    case 4:
        if (chance(g, 300)) {
            enc_prefix(&e, 0x67); /* JECXZ */
        }
        enc_op1(&e, 0xe3);
        e.immsz = 1;
        break;
    default: {
        /* LOOP, LOOPE, LOOPNE: RCX counts down; the last two read ZF */
        unsigned op = rnd(g, 3);
        if (op < 2 && (g->undef & DT_ZF)) {
            op = 2;
        }
        if (!writable(g, RCX)) {
            return;
        }
        if (g->mode != DT_MODE_64 && chance(g, 300)) {
            enc_prefix(&e, 0x67); /* the other counter: ECX in 16-bit code, CX in 32-bit */
        }
        enc_op1(&e, (uint8_t)(0xe0 + op));
        e.immsz = 1;
        break;
    }
    }
    struct dt_seq *s = g->seq;
    if (!emit(g, &e, 0, 0)) {
        return;
    }
    k->active = true;
    k->end = s->len;
    k->disp_size = (unsigned)e.immsz;
    k->disp_at = s->len - k->disp_size;
    k->first_insn = s->ninsns;
    k->undef_before = g->undef;
}

static void skip_end(struct gen *g, struct skip *k)
{
    struct dt_seq *s = g->seq;
    if (!k->active) {
        return;
    }
    int64_t distance = (int64_t)s->len - (int64_t)k->end;
    if (k->disp_size == 1 && distance > 127) {
        distance = 0; /* too far for rel8: branch to the next instruction, either way */
    }
    if (k->disp_size == 1) {
        s->code[k->disp_at] = (uint8_t)(int8_t)distance;
    } else if (k->disp_size == 2) {
        int16_t d = (int16_t)distance;
        memcpy(&s->code[k->disp_at], &d, 2);
    } else {
        int32_t d = (int32_t)distance;
        memcpy(&s->code[k->disp_at], &d, 4);
    }
    if (distance > 0) {
        for (unsigned i = k->first_insn; i < s->ninsns; i++) {
            s->skippable[i] = 1;
        }
    }
    g->undef |= k->undef_before;
}

/* ---- templates, initial state, sequences --------------------------------------------------- */

enum { M64 = 1u << DT_MODE_64, M32 = 1u << DT_MODE_32, M16 = 1u << DT_MODE_16 };
#define MALL (M64 | M32 | M16)

static const struct {
    void (*emit)(struct gen *g);
    unsigned group;
    unsigned weight;
    unsigned modes; /* the modes it is generated in (defaults to every mode) */
} templates[] = {
    {t_alu, DT_GROUP_GP, 14},
    {t_test, DT_GROUP_GP, 3},
    {t_unary, DT_GROUP_GP, 4},
    {t_shift, DT_GROUP_GP, 10},
    {t_muldiv, DT_GROUP_GP, 5},
    {t_imul, DT_GROUP_GP, 3},
    {t_mov, DT_GROUP_GP, 8},
    {t_lea, DT_GROUP_GP, 3},
    {t_xchg, DT_GROUP_GP, 4},
    {t_bswap, DT_GROUP_GP, 1},
    {t_bt, DT_GROUP_GP, 5},
    {t_bitscan, DT_GROUP_GP, 4},
    {t_shd, DT_GROUP_GP, 4},
    {t_cmov_setcc, DT_GROUP_GP, 5},
    {t_misc, DT_GROUP_GP, 4},
    {t_movbe, DT_GROUP_GP, 1},
    {t_pushpop, DT_GROUP_GP, 4},
    {t_string, DT_GROUP_STRING, 12},
    {t_cmpxchg8b, DT_GROUP_GP, 2},
    {t_flags, DT_GROUP_GP, 2},
    {t_ud, DT_GROUP_GP, 1},
    {t_x87, DT_GROUP_X87, 40},
    {t_sse, DT_GROUP_SSE, 40},
    {t_incdec_short, DT_GROUP_GP, 3, M32 | M16},
    {t_pusha, DT_GROUP_GP, 2, M32 | M16},
    {t_bcd, DT_GROUP_GP, 4, M32 | M16},
    {t_bound, DT_GROUP_GP, 2, M32 | M16},
    {t_call_ret, DT_GROUP_GP, 2, M32 | M16},
    {t_enter_leave, DT_GROUP_GP, 2, M32 | M16},
    {t_sreg, DT_GROUP_GP, 2, M32 | M16},
    {t_xlat, DT_GROUP_GP, 1, M32 | M16},
    {t_segload, DT_GROUP_GP, 2, M32 | M16},
    {t_far, DT_GROUP_GP, 2, M32 | M16},
};

static bool template_in(unsigned i, const struct dt_gen_config *config)
{
    unsigned modes = templates[i].modes ? templates[i].modes : MALL;
    return (config->groups & templates[i].group) && (modes & (1u << config->mode));
}

static void random_float_bits(struct gen *g, uint8_t *out, unsigned size)
{
    uint64_t v;
    switch (rnd(g, 8)) {
    case 0: { /* a float */
        float f = (float)((double)(int64_t)rnd64(g) / (double)(1ull << rnd(g, 64)));
        uint32_t u;
        memcpy(&u, &f, 4);
        v = u | (uint64_t)u << 32;
        break;
    }
    case 1:
    case 2: { /* a double */
        double d = (double)(int64_t)rnd64(g) / (double)(1ull << rnd(g, 64));
        memcpy(&v, &d, 8);
        break;
    }
    default:
        v = interesting(g, 8);
        break;
    }
    for (unsigned i = 0; i < size; i++) {
        out[i] = (uint8_t)(v >> (8 * (i % 8)));
    }
}

/* The FXSAVE image: random x87 stack, tags and TOP, control words with all exceptions masked,
 * random XMM registers. */
static void init_fpu(struct gen *g, uint8_t *fx, bool random)
{
    memset(fx, 0, 512);
    uint16_t fcw = 0x037f, fsw = 0;
    uint32_t mxcsr = 0x1f80;
    uint8_t ftw = 0;
    if (random) {
        fcw = chance(g, 500) ? 0x037f : x87_control_word(g);
        if (chance(g, 60)) {
            /* unmask one exception, or several: an x87 instruction raising it leaves it
             * pending, and the next waiting one takes #MF */
            fcw &= (uint16_t) ~(chance(g, 500) ? 1u << rnd(g, 6) : rnd(g, 64));
            g->x87_unmasked = (fcw & 0x3f) != 0x3f;
        }
        fsw = (uint16_t)(rnd(g, 8) << 11 | (rnd64(g) & 0x4700));
        if (chance(g, 200)) {
            fsw |= (uint16_t)(rnd64(g) & 0x3f) & fcw; /* sticky flags of masked exceptions */
        }
        ftw = (uint8_t)rnd64(g);
        mxcsr = 0x1f80 | rnd(g, 4) << 13 | (chance(g, 200) ? 0x8000 : 0) |
                (chance(g, 200) ? 0x40 : 0) | (chance(g, 200) ? (rnd(g, 64)) : 0);
        if (chance(g, 60)) {
            /* unmasked SIMD exceptions: #XM at the instruction, its destination unchanged */
            mxcsr &= ~((chance(g, 500) ? 1u << rnd(g, 6) : rnd(g, 64)) << 7);
            g->sse_unmasked = (mxcsr & 0x1f80) != 0x1f80;
        }
        for (int i = 0; i < 8; i++) {
            uint8_t *st = fx + 32 + 16 * i;
            if (chance(g, 500)) {
                double d = (double)(int64_t)rnd64(g) / (double)(1ull << rnd(g, 64));
                /* as an 80-bit extended value: sign, 15-bit exponent, explicit integer bit */
                uint64_t bits;
                memcpy(&bits, &d, 8);
                unsigned exp = (unsigned)(bits >> 52) & 0x7ff;
                uint64_t mant = (bits & ((1ull << 52) - 1)) << 11;
                uint16_t se = (uint16_t)(bits >> 63 << 15);
                if (exp != 0) {
                    mant |= 1ull << 63;
                    se |= (uint16_t)(exp - 1023 + 16383);
                }
                memcpy(st, &mant, 8);
                memcpy(st + 8, &se, 2);
            } else {
                random_float_bits(g, st, 8);
                uint16_t se = (uint16_t)interesting(g, 2);
                memcpy(st + 8, &se, 2);
            }
        }
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j += 8) {
                random_float_bits(g, fx + 160 + 16 * i + j, 8);
            }
        }
    }
    memcpy(fx + 0, &fcw, 2);
    memcpy(fx + 2, &fsw, 2);
    fx[4] = ftw;
    memcpy(fx + 24, &mxcsr, 4);
    uint32_t mxcsr_mask = 0xffff;
    memcpy(fx + 28, &mxcsr_mask, 4);
}

void dt_generate(const struct dt_gen_config *config, uint64_t index, struct dt_seq *seq)
{
    struct gen g;
    memset(&g, 0, sizeof(g));
    memset(seq, 0, offsetof(struct dt_seq, init));
    g.rng = mix64(config->seed ^ mix64(index + 0x5eed));
    g.cfg = config;
    g.seq = seq;
    seq->index = index;
    seq->mode = config->mode;
    gen_mode = config->mode;
    g.mode = config->mode;
    g.seg_base = config->mode == DT_MODE_16 ? DT_DATA16_BASE : 0;
    g.stack_top = DT_STACK_TOP - g.seg_base;
    if (g.mode == DT_MODE_16 && chance(&g, 500)) {
        /* a 16-bit stack segment: pushes and pops move SP alone, ESP's upper half stays */
        g.stack_top += (uint64_t)rnd(&g, 0x10000) << 16;
    }

    struct x86_user_state *st = &seq->init;
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < 16; i++) {
        st->gpr[i] = interesting(&g, 8);
        if (g.mode != DT_MODE_64) {
            /* 32- and 16-bit code have EAX..EDI only */
            st->gpr[i] = i < 8 ? st->gpr[i] & 0xffffffffull : 0;
        }
    }
    if (g.mode != DT_MODE_64) {
        /* EBX and EBP: the bases of 16-bit addressing */
        g.ptr[0] = RBX;
        g.ptr[1] = RBP;
    } else {
        /* Two pointer registers among RBX, RBP, R8..R15. */
        static const int ptr_candidates[] = {RBX, RBP, R8, R9, R10, R11, R12, R13, R14, R15};
        g.ptr[0] = ptr_candidates[rnd(&g, ARRAY_SIZE(ptr_candidates))];
        do {
            g.ptr[1] = ptr_candidates[rnd(&g, ARRAY_SIZE(ptr_candidates))];
        } while (g.ptr[1] == g.ptr[0]);
    }
    for (int i = 0; i < 2; i++) {
        st->gpr[g.ptr[i]] = DT_DATA_BASE + rnd(&g, DT_DATA_SIZE) - g.seg_base;
    }
    g.fixed = (uint16_t)(1u << RSP | 1u << g.ptr[0] | 1u << g.ptr[1]);
    g.rsp = g.stack_top - rnd(&g, 256);
    if (!chance(&g, 250)) {
        g.rsp &= ~7ull;
    }
    st->gpr[RSP] = g.rsp;
    /* A third of the sequences start shortly before the end of the first code page, so that
     * one instruction straddles the two pages; for a fifth of those the second page is
     * absent (#PF on the fetch). */
    if (chance(&g, 330)) {
        seq->code_off = DT_PAGE - 1 - rnd(&g, 96);
        seq->second_page_absent = chance(&g, 200);
    }
    st->rip = dt_seq_start(seq);
    if (config->host.fsgsbase && g.mode == DT_MODE_64 && chance(&g, 500)) {
        /* a canonical user address, anywhere: GS-relative operands correct for it */
        st->gs_base = rnd64(&g) & 0x00007ffffffff000ull;
    }
    g.df = chance(&g, 250);
    st->rflags = 0x202 | (rnd64(&g) & DT_ARITH) | (g.df ? DT_DF : 0);
    init_fpu(&g, st->fxsave, (config->groups & (DT_GROUP_X87 | DT_GROUP_SSE)) != 0);

    for (unsigned i = 0; i < DT_DATA_SIZE; i += 8) {
        if (chance(&g, 300)) {
            random_float_bits(&g, &seq->data[i], 8);
        } else {
            uint64_t v = interesting(&g, 8);
            memcpy(&seq->data[i], &v, 8);
        }
    }
    /* Some equal runs, so that REPE CMPS and REPNE SCAS stop at interesting places. */
    for (int k = 0; k < 8; k++) {
        unsigned n = rnd(&g, 64), from = rnd(&g, DT_DATA_SIZE - n), to = rnd(&g, DT_DATA_SIZE - n);
        memmove(&seq->data[to], &seq->data[from], n);
    }

    unsigned total = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(templates); i++) {
        if (template_in(i, config)) {
            total += templates[i].weight;
        }
    }
    unsigned units = 1 + rnd(&g, config->max_units);
    for (unsigned u = 0; u < units && !g.full && !g.faulting && total; u++) {
        unsigned pick = rnd(&g, total);
        for (unsigned i = 0; i < ARRAY_SIZE(templates); i++) {
            if (!template_in(i, config)) {
                continue;
            }
            if (pick < templates[i].weight) {
                /* PUSH/POP, PUSHF/POPF and string templates change what the generator
                 * tracks (RSP, DF): they are never skipped. */
                bool skippable = templates[i].emit != t_pushpop && templates[i].emit != t_string &&
                                 templates[i].emit != t_flags && templates[i].emit != t_pusha &&
                                 templates[i].emit != t_call_ret &&
                                 templates[i].emit != t_enter_leave &&
                                 templates[i].emit != t_sreg && templates[i].emit != t_segload &&
                                 templates[i].emit != t_far;
                struct skip skip = {0};
                if (skippable && (config->groups & DT_GROUP_GP) && chance(&g, 80)) {
                    skip_begin(&g, &skip);
                }
                g.busy = 0;
                g.may_fault = 0;
                templates[i].emit(&g);
                skip_end(&g, &skip);
                break;
            }
            pick -= templates[i].weight;
        }
    }
    if (seq->second_page_absent) {
        /* Make sure the fetch runs into the absent page (NOPs up to it and one more, so that
         * a branch over the last template lands on an instruction, not at the end), and plan
         * its #PF on every instruction that reaches it. */
        bool one_more = true;
        while ((DT_CODE_BASE + seq->code_off + seq->len <= DT_CODE_BASE + DT_PAGE || one_more) &&
               !g.full) {
            one_more = false;
            struct enc nop = enc_new();
            enc_op1(&nop, 0x90);
            emit(&g, &nop, 0, 0);
        }
        for (unsigned i = 0; i < seq->ninsns; i++) {
            uint64_t end = DT_CODE_BASE + seq->code_off +
                           (i + 1 < seq->ninsns ? seq->insn_off[i + 1] : seq->len);
            if (end > DT_CODE_BASE + DT_PAGE) {
                seq->may_fault[i] |= DT_MAY_PF;
            }
        }
    }
    seq->undef[seq->ninsns] = g.undef;
}

int dt_insn_at(const struct dt_seq *seq, uint64_t rip)
{
    for (unsigned i = 0; i < seq->ninsns; i++) {
        if (dt_seq_start(seq) + seq->insn_off[i] == rip) {
            return (int)i;
        }
    }
    return -1;
}

void dt_host_features_detect(struct dt_host_features *host)
{
    unsigned a, b, c, d;
    memset(host, 0, sizeof(*host));
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        host->sse3 = c & (1u << 0);
        host->ssse3 = c & (1u << 9);
        host->sse41 = c & (1u << 19);
        host->sse42 = c & (1u << 20);
        host->movbe = c & (1u << 22);
        host->cx16 = c & (1u << 13);
        host->popcnt = c & (1u << 23);
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        host->bmi1 = b & (1u << 3);
    }
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) {
        host->lzcnt = c & (1u << 5); /* ABM/LZCNT */
    }
    /* RDGSBASE/WRGSBASE in user mode: the CPU has them and the kernel turned them on */
    host->fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
}

#endif /* __x86_64__ && __linux__ */
