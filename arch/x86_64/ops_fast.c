/*
 * coremu x86_64 — specialised threaded forms of the most frequent instructions.
 *
 * The general handlers read their operands through x86_opnd_read, a switch on each operand's
 * kind; the block builder calls x86_specialise on every micro-op, which gives the commonest
 * shapes (MOV and ALU operations between general registers, immediates and simple memory
 * operands, PUSH/POP of registers) a threaded handler of their own that knows its operand
 * kinds, and runs the next micro-op itself. A form that cannot fault does not record cur_op;
 * one that accesses memory does, before the access, exactly as the general path.
 *
 * Every form here computes what the general handler computes (ops_int.c, ops_branch.c); the
 * differential tester runs both (the general ones where a specialised form does not apply).
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

#define NEXT(cpu, op) return (op)[1].tfn((cpu), (op) + 1)
/* After a store: the block ends here if the store reached translated code. */
#define NEXT_AFTER_STORE(cpu, op)                                                                 \
    do {                                                                                          \
        if (__builtin_expect((cpu)->code_written, 0)) {                                           \
            return x86_code_written_exit((cpu), (op));                                            \
        }                                                                                         \
        NEXT(cpu, op);                                                                            \
    } while (0)

/* ---- MOV ------------------------------------------------------------------------------------ */

static const struct x86_uop *thr_mov_rr64(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->gpr[op->opnd[0].reg] = cpu->gpr[op->opnd[1].reg];
    NEXT(cpu, op);
}

static const struct x86_uop *thr_mov_rr32(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->gpr[op->opnd[0].reg] = (uint32_t)cpu->gpr[op->opnd[1].reg];
    NEXT(cpu, op);
}

static const struct x86_uop *thr_mov_ri(struct x86_cpu *cpu, const struct x86_uop *op)
{
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size,
                  op->imm & x86_size_mask(op->opnd[0].size));
    NEXT(cpu, op);
}

static const struct x86_uop *thr_mov_rm(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size;
    cpu->cur_op = op;
    uint64_t v = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    x86_reg_write(cpu, op->opnd[0].reg, size, v);
    NEXT(cpu, op);
}

static const struct x86_uop *thr_mov_mr(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size;
    cpu->cur_op = op;
    x86_store_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE), size,
                   x86_reg_read(cpu, op->opnd[1].reg, size));
    NEXT_AFTER_STORE(cpu, op);
}

static const struct x86_uop *thr_mov_mi(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size;
    cpu->cur_op = op;
    x86_store_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE), size,
                   op->imm & x86_size_mask(size));
    NEXT_AFTER_STORE(cpu, op);
}

/* ---- ALU between registers and immediates --------------------------------------------------- */

static inline bool alu_writes(unsigned sub)
{
    return sub != X86_ALU_CMP && sub != X86_ALU_TEST;
}

static const struct x86_uop *thr_alu_rr(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size, d = op->opnd[0].reg;
    uint64_t m = x86_size_mask(size);
    uint64_t r = x86_alu_compute(cpu, op->sub, size, cpu->gpr[d] & m,
                                 cpu->gpr[op->opnd[1].reg] & m, false);
    if (alu_writes(op->sub)) {
        x86_reg_write(cpu, d, size, r);
    }
    NEXT(cpu, op);
}

static const struct x86_uop *thr_alu_ri(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size, d = op->opnd[0].reg;
    uint64_t m = x86_size_mask(size);
    uint64_t r = x86_alu_compute(cpu, op->sub, size, cpu->gpr[d] & m, op->imm & m, false);
    if (alu_writes(op->sub)) {
        x86_reg_write(cpu, d, size, r);
    }
    NEXT(cpu, op);
}

/* r, m: the register is the destination (or CMP/TEST's first operand). */
static const struct x86_uop *thr_alu_rm(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size, d = op->opnd[0].reg;
    uint64_t m = x86_size_mask(size);
    cpu->cur_op = op;
    uint64_t b = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    uint64_t r = x86_alu_compute(cpu, op->sub, size, cpu->gpr[d] & m, b, false);
    if (alu_writes(op->sub)) {
        x86_reg_write(cpu, d, size, r);
    }
    NEXT(cpu, op);
}

/* CMP/TEST m, r and CMP m, imm: memory read only. */
static const struct x86_uop *thr_cmp_m(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size;
    uint64_t m = x86_size_mask(size);
    cpu->cur_op = op;
    uint64_t a = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    uint64_t b = op->opnd[1].kind == X86_OPND_GPR ? cpu->gpr[op->opnd[1].reg] & m : op->imm & m;
    x86_alu_compute(cpu, op->sub, size, a, b, false);
    NEXT(cpu, op);
}

/* ---- PUSH and POP of a register ------------------------------------------------------------- */

static const struct x86_uop *thr_push_r64(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->cur_op = op;
    uint64_t v = cpu->gpr[op->opnd[0].reg];
    uint64_t sp = cpu->gpr[X86_RSP] - 8;
    x86_store_fast(cpu, x86_linear(cpu, X86_SS, sp, 8, X86_ACC_WRITE), 8, v);
    cpu->gpr[X86_RSP] = sp;
    NEXT_AFTER_STORE(cpu, op);
}

static const struct x86_uop *thr_pop_r64(struct x86_cpu *cpu, const struct x86_uop *op)
{
    cpu->cur_op = op;
    uint64_t sp = cpu->gpr[X86_RSP];
    uint64_t v = x86_load_fast(cpu, x86_linear(cpu, X86_SS, sp, 8, X86_ACC_READ), 8);
    cpu->gpr[X86_RSP] = sp + 8;
    cpu->gpr[op->opnd[0].reg] = v;
    NEXT(cpu, op);
}

/* ---- shifts of a register by an immediate, MOVZX/MOVSX -------------------------------------- */

/* SHL/SHR/SAR r, imm8 (and by 1): every flag written, lazily, as x86_op_shift does. */
static const struct x86_uop *thr_shift_ri(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[0].size, bits = size * 8, d = op->opnd[0].reg;
    uint64_t m = x86_size_mask(size), sign = x86_sign_bit(size);
    unsigned count = (unsigned)op->imm2 & (size == 8 ? 63 : 31);
    uint64_t a = cpu->gpr[d] & m, r;
    bool cf, of;

    if (count == 0) {
        x86_reg_write(cpu, d, size, a);
        NEXT(cpu, op);
    }
    if (op->sub == X86_SH_SHR) {
        r = count >= bits ? 0 : a >> count;
        cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
        of = (a & sign) != 0;
    } else if (op->sub == X86_SH_SAR) {
        int64_t sa = x86_sext(a, size);
        r = (uint64_t)(sa >> (count >= bits ? bits - 1 : count)) & m;
        cf = ((uint64_t)(sa >> (count >= bits ? bits - 1 : count - 1))) & 1;
        of = false;
    } else {
        r = count >= bits ? 0 : (a << count) & m;
        cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
        of = ((r & sign) != 0) != cf;
    }
    x86_flags_lazy(cpu, X86_CC_SHIFT, size, r, 0, 0);
    cpu->cc_aux = (cf ? 1u : 0u) | (of ? 2u : 0u);
    x86_reg_write(cpu, d, size, r);
    NEXT(cpu, op);
}

static const struct x86_uop *thr_movzx_rr(struct x86_cpu *cpu, const struct x86_uop *op)
{
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size,
                  x86_reg_read(cpu, op->opnd[1].reg, op->opnd[1].size));
    NEXT(cpu, op);
}

static const struct x86_uop *thr_movzx_rm(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[1].size;
    cpu->cur_op = op;
    uint64_t v = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, v);
    NEXT(cpu, op);
}

static const struct x86_uop *thr_movsx_rr(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[1].size;
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size,
                  (uint64_t)x86_sext(x86_reg_read(cpu, op->opnd[1].reg, size), size));
    NEXT(cpu, op);
}

static const struct x86_uop *thr_movsx_rm(struct x86_cpu *cpu, const struct x86_uop *op)
{
    unsigned size = op->opnd[1].size;
    cpu->cur_op = op;
    uint64_t v = x86_load_fast(cpu, x86_op_linear(cpu, op, 0, size, X86_ACC_READ), size);
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, (uint64_t)x86_sext(v, size));
    NEXT(cpu, op);
}

static const struct x86_uop *thr_lea(struct x86_cpu *cpu, const struct x86_uop *op)
{
    x86_reg_write(cpu, op->opnd[0].reg, op->opnd[0].size, x86_ea(cpu, op));
    NEXT(cpu, op);
}

/* ---- choosing ------------------------------------------------------------------------------- */

static bool plain_gpr(const struct x86_operand *o)
{
    return o->kind == X86_OPND_GPR && o->reg < X86_REG_AH;
}

bool x86_specialise(struct x86_uop *op, uint32_t ctx)
{
    const struct x86_operand *a = &op->opnd[0], *b = &op->opnd[1];
    bool in64 = (ctx & X86_CTX_CODE_MASK) == X86_CTX_CODE64;

    if (op->nopnd < 1 || (op->flags & X86_UOP_LOCK)) {
        return false;
    }
    if (op->fn == x86_op_mov_any && op->nopnd == 2) {
        if (plain_gpr(a) && plain_gpr(b) && a->size == 8) {
            op->tfn = thr_mov_rr64;
        } else if (plain_gpr(a) && plain_gpr(b) && a->size == 4) {
            op->tfn = thr_mov_rr32;
        } else if (plain_gpr(a) && b->kind == X86_OPND_IMM) {
            op->tfn = thr_mov_ri;
        } else if (plain_gpr(a) && b->kind == X86_OPND_MEM && a->size >= 2) {
            op->tfn = thr_mov_rm;
        } else if (a->kind == X86_OPND_MEM && plain_gpr(b) && a->size >= 2) {
            op->tfn = thr_mov_mr;
        } else if (a->kind == X86_OPND_MEM && b->kind == X86_OPND_IMM) {
            op->tfn = thr_mov_mi;
        } else {
            return false;
        }
        return true;
    }
    if (op->fn == x86_op_alu && op->nopnd == 2 && op->sub != X86_ALU_ADC &&
        op->sub != X86_ALU_SBB) {
        if (plain_gpr(a) && plain_gpr(b) && a->size >= 4) {
            op->tfn = thr_alu_rr;
        } else if (plain_gpr(a) && b->kind == X86_OPND_IMM && a->size >= 4) {
            op->tfn = thr_alu_ri;
        } else if (plain_gpr(a) && b->kind == X86_OPND_MEM && a->size >= 4) {
            op->tfn = thr_alu_rm;
        } else if (a->kind == X86_OPND_MEM && !alu_writes(op->sub) &&
                   (plain_gpr(b) || b->kind == X86_OPND_IMM)) {
            op->tfn = thr_cmp_m;
        } else {
            return false;
        }
        return true;
    }
    if (op->fn == x86_op_shift && op->nopnd == 2 && plain_gpr(a) && a->size >= 4 &&
        (op->sub == X86_SH_SHL || op->sub == X86_SH_SAL || op->sub == X86_SH_SHR ||
         op->sub == X86_SH_SAR) &&
        (b->kind == X86_OPND_IMM || b->kind == X86_OPND_ONE)) {
        /* the count goes to imm2, which these forms do not otherwise use */
        op->imm2 = b->kind == X86_OPND_ONE ? 1 : op->imm;
        op->tfn = thr_shift_ri;
        return true;
    }
    if ((op->fn == x86_op_movzx || op->fn == x86_op_movsx) && op->nopnd == 2 && plain_gpr(a)) {
        bool zx = op->fn == x86_op_movzx;
        if (plain_gpr(b)) {
            op->tfn = zx ? thr_movzx_rr : thr_movsx_rr;
            return true;
        }
        if (b->kind == X86_OPND_MEM) {
            op->tfn = zx ? thr_movzx_rm : thr_movsx_rm;
            return true;
        }
        return false;
    }
    if (op->fn == x86_op_lea && op->nopnd == 2 && plain_gpr(a) && b->kind == X86_OPND_MEM) {
        op->tfn = thr_lea;
        return true;
    }
    if (in64 && op->opsize == 8 && plain_gpr(a) && op->nopnd == 1) {
        if (op->fn == x86_op_push_any) {
            op->tfn = thr_push_r64;
            return true;
        }
        if (op->fn == x86_op_pop_any) {
            op->tfn = thr_pop_r64;
            return true;
        }
    }
    return false;
}
