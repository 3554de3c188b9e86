/*
 * coremu x86_64 — the general-purpose integer instructions: arithmetic and logic, shifts and
 * rotates, multiply and divide, moves and extensions, exchanges (with their locked forms
 * through the atomic helper table), bit tests and scans, condition-code instructions and the
 * flag instructions. Semantics and flag effects as each instruction's page of the Intel SDM
 * Vol. 2 gives them; where the SDM leaves a flag undefined, the value is what the host CPU
 * produces where that is known, otherwise documented beside the instruction.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

/* ---- read-modify-write of an operand -------------------------------------------------------- */

/* A destination operand being read, then written: for memory, the write is checked before the
 * read (a read-only page faults before anything changes) and both go through one host
 * address when the page allows it. */
struct rmw {
    uint64_t lin;
    void *host;
    unsigned size;
};

static uint64_t rmw_read(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i,
                         struct rmw *r)
{
    const struct x86_operand *o = &op->opnd[i];

    r->size = o->size;
    if (o->kind != X86_OPND_MEM) {
        r->host = NULL;
        return x86_opnd_read(cpu, op, i);
    }
    r->lin = x86_op_linear(cpu, op, 0, o->size, X86_ACC_WRITE);
    r->host = x86_host_ptr(cpu, r->lin, o->size, X86_ACC_WRITE);
    if (r->host) {
        return x86_mem_load(r->host, o->size);
    }
    x86_probe_write_lin(cpu, r->lin, o->size, X86_ACC_WRITE);
    return x86_load_lin(cpu, r->lin, o->size, X86_ACC_READ);
}

static void rmw_write(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i,
                      const struct rmw *r, uint64_t v)
{
    if (op->opnd[i].kind != X86_OPND_MEM) {
        x86_opnd_write(cpu, op, i, v);
    } else if (r->host) {
        x86_mem_store(r->host, r->size, v);
    } else {
        x86_store_lin(cpu, r->lin, r->size, v, X86_ACC_WRITE);
    }
}

/* The linear address of a locked memory destination (operand 0). */
static uint64_t locked_linear(struct x86_cpu *cpu, const struct x86_uop *op)
{
    return x86_op_linear(cpu, op, 0, op->opnd[0].size, X86_ACC_WRITE);
}

/* ---- arithmetic and logic ------------------------------------------------------------------- */

X86_OP(alu)
{
    unsigned size = op->opnd[0].size, sub = op->sub;
    uint64_t b = x86_opnd_read(cpu, op, 1) & x86_size_mask(size);
    bool carry = (sub == X86_ALU_ADC || sub == X86_ALU_SBB) && x86_flag_cf(cpu);

    if (sub == X86_ALU_CMP || sub == X86_ALU_TEST) {
        x86_alu_compute(cpu, sub, size, x86_opnd_read(cpu, op, 0), b, false);
        return X86_NEXT;
    }
    if (op->flags & X86_UOP_LOCK) {
        static const enum coremu_atomic_op atomic_of[] = {
            [X86_ALU_ADD] = COREMU_ATOMIC_ADD, [X86_ALU_OR] = COREMU_ATOMIC_OR,
            [X86_ALU_ADC] = COREMU_ATOMIC_ADD, [X86_ALU_SBB] = COREMU_ATOMIC_SUB,
            [X86_ALU_AND] = COREMU_ATOMIC_AND, [X86_ALU_SUB] = COREMU_ATOMIC_SUB,
            [X86_ALU_XOR] = COREMU_ATOMIC_XOR,
        };
        uint64_t lin = locked_linear(cpu, op);
        uint64_t operand = (sub == X86_ALU_ADC || sub == X86_ALU_SBB) ? b + carry : b;
        uint64_t old = cpu->atomic->fetch_op(cpu, lin, size, atomic_of[sub], operand);
        x86_alu_compute(cpu, sub, size, old, b, carry);
        return X86_NEXT;
    }
    struct rmw r;
    uint64_t a = rmw_read(cpu, op, 0, &r);
    rmw_write(cpu, op, 0, &r, x86_alu_compute(cpu, sub, size, a, b, carry));
    return X86_NEXT;
}

static enum x86_result inc_dec(struct x86_cpu *cpu, const struct x86_uop *op, bool inc)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size), a, r;
    bool cf = x86_flag_cf(cpu);

    if (op->flags & X86_UOP_LOCK) {
        a = cpu->atomic->fetch_op(cpu, locked_linear(cpu, op), size,
                                  inc ? COREMU_ATOMIC_ADD : COREMU_ATOMIC_SUB, 1);
        r = (inc ? a + 1 : a - 1) & m;
    } else {
        struct rmw w;
        a = rmw_read(cpu, op, 0, &w);
        r = (inc ? a + 1 : a - 1) & m;
        rmw_write(cpu, op, 0, &w, r);
    }
    x86_flags_lazy(cpu, inc ? X86_CC_INC : X86_CC_DEC, size, r, a, 1);
    cpu->cc_aux = cf;
    return X86_NEXT;
}

X86_OP(inc)
{
    return inc_dec(cpu, op, true);
}

X86_OP(dec)
{
    return inc_dec(cpu, op, false);
}

X86_OP(not)
{
    unsigned size = op->opnd[0].size;
    if (op->flags & X86_UOP_LOCK) {
        cpu->atomic->fetch_op(cpu, locked_linear(cpu, op), size, COREMU_ATOMIC_XOR,
                              x86_size_mask(size));
        return X86_NEXT;
    }
    struct rmw r;
    uint64_t a = rmw_read(cpu, op, 0, &r);
    rmw_write(cpu, op, 0, &r, ~a & x86_size_mask(size));
    return X86_NEXT;
}

X86_OP(neg)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size), a;

    if (op->flags & X86_UOP_LOCK) {
        /* no fetch-and-op negates: a compare-and-swap loop */
        uint64_t lin = locked_linear(cpu, op);
        x86_probe_write_lin(cpu, lin, size, X86_ACC_WRITE); /* a locked access faults as a write */
        a = x86_load_lin(cpu, lin, size, X86_ACC_READ);
        while (!cpu->atomic->cmpxchg(cpu, lin, size, &a, (0 - a) & m)) {
        }
    } else {
        struct rmw r;
        a = rmw_read(cpu, op, 0, &r);
        rmw_write(cpu, op, 0, &r, (0 - a) & m);
    }
    x86_flags_lazy(cpu, X86_CC_SUB, size, (0 - a) & m, 0, a);
    return X86_NEXT;
}

/* ---- shifts and rotates --------------------------------------------------------------------- */

X86_OP(shift)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size), sign = x86_sign_bit(size);
    unsigned count = (unsigned)x86_opnd_read(cpu, op, 1) & (size == 8 ? 63 : 31);
    struct rmw w;
    uint64_t a = rmw_read(cpu, op, 0, &w) & m, r = a;
    bool rotate = op->sub <= X86_SH_RCR;
    uint32_t f = rotate && count != 0 ? x86_flags_compute(cpu) : 0;
    bool cf = (f & X86_CF) != 0, of = (f & X86_OF) != 0;
    bool arith = false; /* SF ZF PF from the result */

    switch (op->sub) {
    case X86_SH_ROL:
    case X86_SH_ROR:
        if (count == 0) {
            break;
        }
        {
            unsigned c = count % bits;
            r = op->sub == X86_SH_ROL ? ((a << c) | (c ? a >> (bits - c) : 0)) & m
                                      : ((a >> c) | (c ? a << (bits - c) : 0)) & m;
            if (op->sub == X86_SH_ROL) {
                cf = r & 1;
                of = ((r & sign) != 0) != cf;
            } else {
                cf = (r & sign) != 0;
                of = ((r ^ (r << 1)) & sign) != 0;
            }
        }
        break;
    case X86_SH_RCL:
    case X86_SH_RCR: {
        unsigned c = count % (bits + 1);
        if (count == 0) {
            break;
        }
        bool rcr = op->sub == X86_SH_RCR;
        if (rcr) {
            of = ((a & sign) != 0) != cf;
        }
        for (unsigned i = 0; i < c; i++) {
            bool out;
            if (rcr) {
                out = r & 1;
                r = (r >> 1) | (cf ? sign : 0);
            } else {
                out = (r & sign) != 0;
                r = ((r << 1) | cf) & m;
            }
            cf = out;
        }
        if (!rcr) {
            of = ((r & sign) != 0) != cf;
        }
        break;
    }
    case X86_SH_SHL:
    case X86_SH_SAL:
        if (count == 0) {
            break;
        }
        r = count >= bits ? 0 : (a << count) & m;
        cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
        of = ((r & sign) != 0) != cf;
        arith = true;
        break;
    case X86_SH_SHR:
        if (count == 0) {
            break;
        }
        r = count >= bits ? 0 : a >> count;
        cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
        of = (a & sign) != 0;
        arith = true;
        break;
    default: { /* SAR */
        if (count == 0) {
            break;
        }
        int64_t sa = x86_sext(a, size);
        unsigned c = count >= bits ? bits - 1 : count;
        r = (uint64_t)(sa >> c) & m;
        cf = ((uint64_t)(sa >> (count >= bits ? bits - 1 : count - 1))) & 1;
        of = false;
        arith = true;
        break;
    }
    }
    if (count != 0 && arith) {
        /* SHL/SHR/SAR write every flag: lazily */
        x86_flags_lazy(cpu, X86_CC_SHIFT, size, r, 0, 0);
        cpu->cc_aux = (cf ? 1u : 0u) | (of ? 2u : 0u);
    } else if (count != 0) {
        f = (f & ~(uint32_t)(X86_CF | X86_OF)) | (cf ? X86_CF : 0) | (of ? X86_OF : 0);
        x86_flags_set(cpu, f);
    }
    rmw_write(cpu, op, 0, &w, r);
    return X86_NEXT;
}

static enum x86_result shift_double(struct x86_cpu *cpu, const struct x86_uop *op, bool left)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size), sign = x86_sign_bit(size);
    unsigned count = (unsigned)x86_opnd_read(cpu, op, 2) & (size == 8 ? 63 : 31);
    uint64_t b = x86_opnd_read(cpu, op, 1) & m;
    struct rmw w;
    uint64_t a = rmw_read(cpu, op, 0, &w) & m, r = a;

    if (count != 0) {
        /* the 16-bit forms with counts above 16 shift through b and back into a, as the
         * host does: model a 3-operand 48-bit funnel */
        unsigned __int128 cat;
        bool cf;
        if (left) {
            cat = ((unsigned __int128)a << bits) | b;
            if (size == 2) {
                cat = (cat << 16) | a;
                r = (uint64_t)(cat << count >> 32) & m;
                cf = (uint64_t)(cat >> (48 - count)) & 1;
            } else {
                r = (uint64_t)((cat << count) >> bits) & m;
                cf = (uint64_t)(a >> (bits - count)) & 1;
            }
        } else {
            cat = ((unsigned __int128)b << bits) | a;
            if (size == 2) {
                cat |= (unsigned __int128)a << 32;
                r = (uint64_t)(cat >> count) & m;
                cf = (uint64_t)(cat >> (count - 1)) & 1;
            } else {
                r = (uint64_t)(cat >> count) & m;
                cf = (uint64_t)(a >> (count - 1)) & 1;
            }
        }
        uint32_t f = (cf ? X86_CF : 0) | ((((r ^ a) & sign) != 0) ? X86_OF : 0) |
                     (r & sign ? X86_SF : 0) | (r == 0 ? X86_ZF : 0) | x86_parity(r);
        x86_flags_set(cpu, f);
    }
    rmw_write(cpu, op, 0, &w, r);
    return X86_NEXT;
}

X86_OP(shld)
{
    return shift_double(cpu, op, true);
}

X86_OP(shrd)
{
    return shift_double(cpu, op, false);
}

/* ---- multiply and divide -------------------------------------------------------------------- */

/* Writes the double-width result of a one-operand MUL/IMUL/DIV to AX or rDX:rAX. */
static void write_wide(struct x86_cpu *cpu, unsigned size, uint64_t lo, uint64_t hi)
{
    if (size == 1) {
        x86_reg_write(cpu, X86_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
    } else {
        x86_reg_write(cpu, X86_RAX, size, lo);
        x86_reg_write(cpu, X86_RDX, size, hi);
    }
}

static uint64_t wide_high_source(const struct x86_cpu *cpu, unsigned size)
{
    return size == 1 ? (cpu->gpr[X86_RAX] >> 8) & 0xff
                     : cpu->gpr[X86_RDX] & x86_size_mask(size);
}

/* Flags after a multiply: CF = OF = the result does not fit; SF ZF PF from the low half (the
 * SDM leaves them undefined; this is what current Intel cores produce), AF 0. */
static void mul_flags(struct x86_cpu *cpu, unsigned size, uint64_t lo, bool overflow)
{
    uint64_t m = x86_size_mask(size);
    x86_flags_set(cpu, (overflow ? X86_CF | X86_OF : 0) | ((lo & x86_sign_bit(size)) ? X86_SF : 0) |
                           ((lo & m) == 0 ? X86_ZF : 0) | x86_parity(lo));
}

X86_OP(mul1)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size);
    unsigned __int128 p = (unsigned __int128)(cpu->gpr[X86_RAX] & m) * x86_opnd_read(cpu, op, 0);
    uint64_t lo = (uint64_t)p & m, hi = (uint64_t)(p >> bits) & m;
    write_wide(cpu, size, lo, hi);
    mul_flags(cpu, size, lo, hi != 0);
    return X86_NEXT;
}

X86_OP(imul1)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size);
    __int128 p = (__int128)x86_sext(cpu->gpr[X86_RAX] & m, size) *
                 x86_sext(x86_opnd_read(cpu, op, 0), size);
    uint64_t lo = (uint64_t)p & m, hi = (uint64_t)(p >> bits) & m;
    write_wide(cpu, size, lo, hi);
    mul_flags(cpu, size, lo, p != (__int128)x86_sext(lo, size));
    return X86_NEXT;
}

/* IMUL r, r/m and IMUL r, r/m, imm. */
X86_OP(imul2)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size);
    unsigned src = op->nopnd == 3 ? 1 : 0, other = op->nopnd == 3 ? 2 : 1;
    __int128 p = (__int128)x86_sext(x86_opnd_read(cpu, op, src), size) *
                 x86_sext(x86_opnd_read(cpu, op, other), size);
    uint64_t lo = (uint64_t)p & m;
    x86_reg_write(cpu, op->opnd[0].reg, size, lo);
    mul_flags(cpu, size, lo, p != (__int128)x86_sext(lo, size));
    return X86_NEXT;
}

X86_OP(div)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size);
    uint64_t d = x86_opnd_read(cpu, op, 0) & m;
    unsigned __int128 n = ((unsigned __int128)wide_high_source(cpu, size) << bits) |
                          (cpu->gpr[X86_RAX] & m);
    if (size == 1) {
        n = cpu->gpr[X86_RAX] & 0xffff;
    }
    if (d == 0) {
        x86_raise_noerr(cpu, X86_EXC_DE);
    }
    unsigned __int128 q = n / d;
    if (q > m) {
        x86_raise_noerr(cpu, X86_EXC_DE);
    }
    write_wide(cpu, size, (uint64_t)q, (uint64_t)(n % d));
    return X86_NEXT;
}

X86_OP(idiv)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t m = x86_size_mask(size);
    __int128 d = x86_sext(x86_opnd_read(cpu, op, 0) & m, size);
    __int128 n;
    if (size == 1) {
        n = (int16_t)(cpu->gpr[X86_RAX] & 0xffff);
    } else {
        unsigned __int128 u = ((unsigned __int128)wide_high_source(cpu, size) << bits) |
                              (cpu->gpr[X86_RAX] & m);
        unsigned sh = 128 - 2 * bits;
        n = (__int128)(u << sh) >> sh;
    }
    if (d == 0) {
        x86_raise_noerr(cpu, X86_EXC_DE);
    }
    /* the one quotient that overflows 128 bits (-2^127 / -1) cannot occur: n has 2 * bits */
    __int128 q = n / d, rem = n % d;
    __int128 lim = (__int128)1 << (bits - 1);
    if (q >= lim || q < -lim) {
        x86_raise_noerr(cpu, X86_EXC_DE);
    }
    write_wide(cpu, size, (uint64_t)q & m, (uint64_t)rem & m);
    return X86_NEXT;
}

/* ---- moves ---------------------------------------------------------------------------------- */

X86_OP(mov)
{
    x86_opnd_write(cpu, op, 0, x86_opnd_read(cpu, op, 1));
    return X86_NEXT;
}

X86_OP(movzx)
{
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, x86_opnd_read(cpu, op, 1));
    return X86_NEXT;
}

X86_OP(movsx)
{
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size,
                  (uint64_t)x86_sext(x86_opnd_read(cpu, op, 1), op->opnd[1].size));
    return X86_NEXT;
}

/* MOVSXD r, r/m32: with a 32- or 16-bit operand size it is a plain move of the low part. */
X86_OP(movsxd)
{
    uint64_t v = x86_opnd_read(cpu, op, 1);
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, (uint64_t)x86_sext(v, 4));
    return X86_NEXT;
}

X86_OP(lea)
{
    if (op->opnd[1].kind != X86_OPND_MEM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, x86_ea(cpu, op));
    return X86_NEXT;
}

X86_OP(xchg)
{
    unsigned size = op->opnd[0].size;
    uint64_t b = x86_opnd_read(cpu, op, 1);

    if (op->opnd[0].kind == X86_OPND_MEM) {
        /* XCHG with memory is locked whether or not LOCK is written */
        uint64_t old = cpu->atomic->swap(cpu, locked_linear(cpu, op), size, b);
        x86_opnd_write(cpu, op, 1, old);
        return X86_NEXT;
    }
    uint64_t a = x86_opnd_read(cpu, op, 0);
    x86_opnd_write(cpu, op, 0, b);
    x86_opnd_write(cpu, op, 1, a);
    return X86_NEXT;
}

X86_OP(cmpxchg)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size);
    uint64_t acc = cpu->gpr[X86_RAX] & m;
    uint64_t src = x86_opnd_read(cpu, op, 1);
    uint64_t cur;

    if (op->opnd[0].kind == X86_OPND_MEM) {
        /* the locked and the plain form alike: the processor always writes the destination
         * (the old value back on failure), so one atomic compare-and-swap is exact */
        uint64_t lin = locked_linear(cpu, op);
        x86_probe_write_lin(cpu, lin, size, X86_ACC_WRITE);
        cur = acc;
        cpu->atomic->cmpxchg(cpu, lin, size, &cur, src);
    } else {
        cur = x86_opnd_read(cpu, op, 0);
        if (cur == acc) {
            x86_opnd_write(cpu, op, 0, src);
        }
    }
    x86_flags_lazy(cpu, X86_CC_SUB, size, (acc - cur) & m, acc, cur);
    if (cur != acc) {
        x86_reg_write(cpu, X86_RAX, size, cur);
    } else if (size == 4 && op->opnd[0].kind == X86_OPND_GPR) {
        /* success with a 32-bit register destination: only that register is written */
    }
    return X86_NEXT;
}

X86_OP(xadd)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size);
    uint64_t b = x86_opnd_read(cpu, op, 1), a;

    if (op->flags & X86_UOP_LOCK) {
        a = cpu->atomic->fetch_op(cpu, locked_linear(cpu, op), size, COREMU_ATOMIC_ADD, b);
    } else {
        struct rmw r;
        a = rmw_read(cpu, op, 0, &r);
        rmw_write(cpu, op, 0, &r, (a + b) & m);
    }
    x86_opnd_write(cpu, op, 1, a);
    if (op->opnd[0].kind == X86_OPND_GPR) {
        x86_opnd_write(cpu, op, 0, (a + b) & m);
    }
    x86_flags_lazy(cpu, X86_CC_ADD, size, (a + b) & m, a, b);
    return X86_NEXT;
}

X86_OP(bswap)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 0);
    if (size == 8) {
        v = __builtin_bswap64(v);
    } else if (size == 4) {
        v = __builtin_bswap32((uint32_t)v);
    } else {
        v = 0; /* BSWAP r16 is undefined; Intel and AMD cores clear the register */
    }
    x86_reg_write(cpu, op->opnd[0].reg, size, v);
    return X86_NEXT;
}

X86_OP(movbe)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1);
    v = size == 8 ? __builtin_bswap64(v) : size == 4 ? __builtin_bswap32((uint32_t)v)
                                                     : __builtin_bswap16((uint16_t)v);
    x86_opnd_write(cpu, op, 0, v);
    return X86_NEXT;
}

/* CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W). */
X86_OP(cmpxchg8b)
{
    bool wide = (op->rex & 8) != 0;
    unsigned size = wide ? 16 : 8;
    if (op->opnd[0].kind != X86_OPND_MEM) {
        x86_raise_noerr(cpu, X86_EXC_UD);
    }
    uint64_t lin = x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE);
    if (wide && (lin & 15)) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    x86_probe_write_lin(cpu, lin, size, X86_ACC_WRITE);
    uint32_t f = x86_flags_compute(cpu) & ~(uint32_t)X86_ZF;
    if (wide) {
        unsigned __int128 exp = ((unsigned __int128)cpu->gpr[X86_RDX] << 64) | cpu->gpr[X86_RAX];
        unsigned __int128 des = ((unsigned __int128)cpu->gpr[X86_RCX] << 64) | cpu->gpr[X86_RBX];
        if (cpu->atomic->cmpxchg16(cpu, lin, &exp, des)) {
            f |= X86_ZF;
        } else {
            cpu->gpr[X86_RAX] = (uint64_t)exp;
            cpu->gpr[X86_RDX] = (uint64_t)(exp >> 64);
        }
    } else {
        uint64_t exp = (cpu->gpr[X86_RDX] << 32) | (uint32_t)cpu->gpr[X86_RAX];
        uint64_t des = (cpu->gpr[X86_RCX] << 32) | (uint32_t)cpu->gpr[X86_RBX];
        if (cpu->atomic->cmpxchg(cpu, lin, 8, &exp, des)) {
            f |= X86_ZF;
        } else {
            cpu->gpr[X86_RAX] = (uint32_t)exp;
            cpu->gpr[X86_RDX] = exp >> 32;
        }
    }
    x86_flags_set(cpu, f);
    return X86_NEXT;
}

X86_OP(xlat)
{
    uint64_t ea = (cpu->gpr[X86_RBX] + (cpu->gpr[X86_RAX] & 0xff)) & x86_size_mask(op->addrsize);
    uint64_t v = x86_load_fast(cpu, x86_linear(cpu, op->seg, ea, 1, X86_ACC_READ), 1);
    x86_reg_write(cpu, X86_RAX, 1, v);
    return X86_NEXT;
}

/* ---- bits ----------------------------------------------------------------------------------- */

/* BT, BTS, BTR, BTC (sub 0-3). A register bit offset may address memory outside the operand:
 * it is signed, and selects the operand-sized word it falls in. */
X86_OP(bt)
{
    unsigned size = op->opnd[0].size, bits = size * 8;
    uint64_t off = x86_opnd_read(cpu, op, 1);
    uint64_t extra = 0;
    unsigned bit;

    if (op->opnd[0].kind == X86_OPND_MEM && op->opnd[1].kind == X86_OPND_GPR) {
        int64_t s = x86_sext(off, size);
        extra = (uint64_t)((s >> (bits == 64 ? 6 : bits == 32 ? 5 : 4)) * (int64_t)size);
        bit = (unsigned)(s & (bits - 1));
    } else {
        bit = (unsigned)(off & (bits - 1));
    }
    uint64_t mask = (uint64_t)1 << bit, v, nv;
    bool cf;
    if (op->opnd[0].kind == X86_OPND_MEM) {
        uint64_t ea = (x86_ea(cpu, op) + extra) & x86_size_mask(op->addrsize);
        if (op->sub == 0) {
            v = x86_load_fast(cpu, x86_linear(cpu, op->seg, ea, size, X86_ACC_READ), size);
            cf = (v & mask) != 0;
        } else {
            uint64_t lin = x86_linear(cpu, op->seg, ea, size, X86_ACC_WRITE);
            if (op->flags & X86_UOP_LOCK) {
                enum coremu_atomic_op aop = op->sub == 1   ? COREMU_ATOMIC_OR
                                            : op->sub == 2 ? COREMU_ATOMIC_AND
                                                           : COREMU_ATOMIC_XOR;
                uint64_t operand = op->sub == 2 ? ~mask & x86_size_mask(size) : mask;
                v = cpu->atomic->fetch_op(cpu, lin, size, aop, operand);
            } else {
                x86_probe_write_lin(cpu, lin, size, X86_ACC_WRITE);
                v = x86_load_lin(cpu, lin, size, X86_ACC_READ);
                nv = op->sub == 1 ? v | mask : op->sub == 2 ? v & ~mask : v ^ mask;
                x86_store_lin(cpu, lin, size, nv, X86_ACC_WRITE);
            }
            cf = (v & mask) != 0;
        }
    } else {
        v = x86_opnd_read(cpu, op, 0);
        cf = (v & mask) != 0;
        if (op->sub != 0) {
            nv = op->sub == 1 ? v | mask : op->sub == 2 ? v & ~mask : v ^ mask;
            x86_opnd_write(cpu, op, 0, nv);
        }
    }
    x86_flags_set(cpu, (x86_flags_compute(cpu) & ~(uint32_t)X86_CF) | (cf ? X86_CF : 0));
    return X86_NEXT;
}

/* BSF/BSR: a zero source sets ZF and leaves the destination unchanged (as Intel and AMD cores
 * do; the SDM calls it undefined). The other flags: as the host leaves them (CF OF SF AF PF
 * from the source: Intel cores compute them like a logical operation on it). */
static enum x86_result bit_scan(struct x86_cpu *cpu, const struct x86_uop *op, bool reverse)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1) & x86_size_mask(size);
    if (v == 0) {
        /* the whole register is left alone, its upper half too for a 32-bit destination */
        x86_flags_set(cpu, X86_ZF | x86_parity(0));
        return X86_NEXT;
    }
    uint64_t r = reverse ? 63u - (unsigned)__builtin_clzll(v) : (unsigned)__builtin_ctzll(v);
    x86_reg_write(cpu, op->opnd[0].reg, size, r);
    x86_flags_set(cpu, x86_parity(r));
    return X86_NEXT;
}

X86_OP(bsf)
{
    return bit_scan(cpu, op, false);
}

X86_OP(bsr)
{
    return bit_scan(cpu, op, true);
}

X86_OP(tzcnt)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1) & x86_size_mask(size);
    uint64_t r = v ? (unsigned)__builtin_ctzll(v) : size * 8;
    x86_reg_write(cpu, op->opnd[0].reg, size, r);
    x86_flags_set(cpu, (v == 0 ? X86_CF : 0) | (r == 0 ? X86_ZF : 0));
    return X86_NEXT;
}

X86_OP(lzcnt)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1) & x86_size_mask(size);
    uint64_t r = v ? (unsigned)__builtin_clzll(v) - (64 - size * 8) : size * 8;
    x86_reg_write(cpu, op->opnd[0].reg, size, r);
    x86_flags_set(cpu, (v == 0 ? X86_CF : 0) | (r == 0 ? X86_ZF : 0));
    return X86_NEXT;
}

X86_OP(popcnt)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1) & x86_size_mask(size);
    x86_reg_write(cpu, op->opnd[0].reg, size, (uint64_t)__builtin_popcountll(v));
    x86_flags_set(cpu, v == 0 ? X86_ZF : 0);
    return X86_NEXT;
}

/* ---- condition codes and flags -------------------------------------------------------------- */

X86_OP(setcc)
{
    x86_opnd_write(cpu, op, 0, x86_cond(cpu, op->opcode & 15));
    return X86_NEXT;
}

X86_OP(cmovcc)
{
    unsigned size = op->opnd[0].size;
    uint64_t v = x86_opnd_read(cpu, op, 1); /* read (and fault) whatever the condition */
    if (x86_cond(cpu, op->opcode & 15)) {
        x86_reg_write(cpu, op->opnd[0].reg, size, v);
    } else if (size == 4) {
        x86_reg_write(cpu, op->opnd[0].reg, 4, x86_reg_read(cpu, op->opnd[0].reg, 4));
    }
    return X86_NEXT;
}

/* CBW / CWDE / CDQE */
X86_OP(cbw)
{
    unsigned size = op->opsize;
    x86_reg_write(cpu, X86_RAX, size, (uint64_t)x86_sext(cpu->gpr[X86_RAX], size / 2));
    return X86_NEXT;
}

/* CWD / CDQ / CQO */
X86_OP(cwd)
{
    unsigned size = op->opsize;
    bool neg = (cpu->gpr[X86_RAX] & x86_sign_bit(size)) != 0;
    x86_reg_write(cpu, X86_RDX, size, neg ? ~(uint64_t)0 : 0);
    return X86_NEXT;
}

X86_OP(lahf)
{
    uint32_t f = x86_flags_compute(cpu);
    x86_reg_write(cpu, X86_REG_AH, 1, (f & (X86_SF | X86_ZF | X86_AF | X86_PF | X86_CF)) | 2u);
    return X86_NEXT;
}

X86_OP(sahf)
{
    uint32_t ah = (uint32_t)(cpu->gpr[X86_RAX] >> 8) & 0xff;
    uint32_t f = x86_flags_compute(cpu) & X86_OF;
    x86_flags_set(cpu, f | (ah & (X86_SF | X86_ZF | X86_AF | X86_PF | X86_CF)));
    return X86_NEXT;
}

X86_OP(clc)
{
    (void)op;
    x86_flags_set(cpu, x86_flags_compute(cpu) & ~(uint32_t)X86_CF);
    return X86_NEXT;
}

X86_OP(stc)
{
    (void)op;
    x86_flags_set(cpu, x86_flags_compute(cpu) | X86_CF);
    return X86_NEXT;
}

X86_OP(cmc)
{
    (void)op;
    x86_flags_set(cpu, x86_flags_compute(cpu) ^ X86_CF);
    return X86_NEXT;
}

X86_OP(cld)
{
    (void)op;
    cpu->rflags &= ~(uint64_t)X86_DF;
    return X86_NEXT;
}

X86_OP(std)
{
    (void)op;
    cpu->rflags |= X86_DF;
    return X86_NEXT;
}

/* 90: NOP; with REX.B it is XCHG r8, rAX; F3 90 is PAUSE (a spin-wait hint: ops_system.c). */
X86_OP(nop)
{
    if (op->map == X86_MAP_1BYTE && op->opcode == 0x90) {
        if (op->rex & 1) {
            unsigned size = op->opsize;
            uint64_t a = x86_reg_read(cpu, X86_RAX, size), b = x86_reg_read(cpu, X86_R8, size);
            x86_reg_write(cpu, X86_RAX, size, b);
            x86_reg_write(cpu, X86_R8, size, a);
        } else if (op->flags & X86_UOP_REP) {
            return x86_op_pause(cpu, op);
        }
    }
    return X86_NEXT;
}

/* IMUL: the one-operand form (F6/F7 /5) or the two- and three-operand ones. */
X86_OP(imul)
{
    if (op->map == X86_MAP_1BYTE && (op->opcode == 0xf6 || op->opcode == 0xf7)) {
        return x86_op_imul1(cpu, op);
    }
    return x86_op_imul2(cpu, op);
}

/* MOV in all its forms: general registers and memory here; segment, control and debug
 * registers in their own handlers. */
X86_OP(mov_any)
{
    unsigned k0 = op->opnd[0].kind, k1 = op->opnd[1].kind;
    if (k0 == X86_OPND_SEG || k1 == X86_OPND_SEG) {
        return x86_op_mov_seg(cpu, op);
    }
    if (k0 == X86_OPND_CR || k1 == X86_OPND_CR) {
        return x86_op_mov_cr(cpu, op);
    }
    if (k0 == X86_OPND_DR || k1 == X86_OPND_DR) {
        return x86_op_mov_dr(cpu, op);
    }
    return x86_op_mov(cpu, op);
}
