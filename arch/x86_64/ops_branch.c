/*
 * coremu x86_64 — the stack and near control transfers: PUSH/POP (registers, memory,
 * immediates, RFLAGS), ENTER/LEAVE, JMP/Jcc/CALL/RET near, LOOPcc and JrCXZ.
 *
 * Targets are truncated to the operand size (16-bit IP, 32-bit EIP); outside 64-bit mode a
 * target beyond CS's limit, and in 64-bit mode a non-canonical one, raises #GP(0) on the
 * branch itself, before anything (the return address of a CALL included) is written.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

unsigned x86_stack_size(const struct x86_cpu *cpu)
{
    if (x86_code64(cpu)) {
        return 8;
    }
    return (cpu->seg[X86_SS].attr & X86_SEG_DB) ? 4 : 2;
}

void x86_push(struct x86_cpu *cpu, unsigned size, uint64_t value)
{
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = (cpu->gpr[X86_RSP] - size) & m;
    x86_store_fast(cpu, x86_linear(cpu, X86_SS, sp, size, X86_ACC_WRITE), size, value);
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
}

uint64_t x86_pop(struct x86_cpu *cpu, unsigned size)
{
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RSP] & m;
    uint64_t v = x86_load_fast(cpu, x86_linear(cpu, X86_SS, sp, size, X86_ACC_READ), size);
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | ((sp + size) & m);
    return v;
}

/* Checks a near branch target and sets next_rip. */
static enum x86_result branch_to(struct x86_cpu *cpu, uint64_t target, unsigned size)
{
    if (x86_code64(cpu)) {
        if (size == 2) {
            target &= 0xffff;
        } else if ((uint64_t)((int64_t)(target << 16) >> 16) != target) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
    } else {
        target &= x86_size_mask(size);
        if (target > cpu->seg[X86_CS].limit) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
    }
    cpu->next_rip = target;
    return X86_BRANCH;
}

/* The size of a near branch's target: 8 in 64-bit mode unless 66 says 2. */
static unsigned branch_size(const struct x86_cpu *cpu, const struct x86_uop *op)
{
    (void)cpu;
    return op->opsize;
}

X86_OP(jmp)
{
    return branch_to(cpu, op->imm, branch_size(cpu, op));
}

X86_OP(jcc)
{
    if (x86_cond(cpu, op->opcode & 15)) {
        return branch_to(cpu, op->imm, branch_size(cpu, op));
    }
    cpu->next_rip = op->pc + op->len;
    return X86_BRANCH;
}

X86_OP(jmp_ind)
{
    return branch_to(cpu, x86_opnd_read(cpu, op, 0), branch_size(cpu, op));
}

static enum x86_result call_to(struct x86_cpu *cpu, const struct x86_uop *op, uint64_t target)
{
    unsigned size = branch_size(cpu, op);
    uint64_t saved_rsp = cpu->gpr[X86_RSP];
    enum x86_result r = branch_to(cpu, target, size);
    (void)saved_rsp;
    x86_push(cpu, size, op->pc + op->len);
    return r;
}

X86_OP(call)
{
    return call_to(cpu, op, op->imm);
}

X86_OP(call_ind)
{
    return call_to(cpu, op, x86_opnd_read(cpu, op, 0));
}

X86_OP(ret)
{
    unsigned size = branch_size(cpu, op);
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RSP] & m;
    uint64_t target = x86_load_fast(cpu, x86_linear(cpu, X86_SS, sp, size, X86_ACC_READ), size);
    uint64_t release = op->nopnd ? (op->imm & 0xffff) : 0;
    enum x86_result r = branch_to(cpu, target, size);
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | ((sp + size + release) & m);
    return r;
}

/* LOOP, LOOPE, LOOPNE (sub 0, 1, 2): the count register has the address size. */
X86_OP(loop)
{
    unsigned as = op->addrsize;
    uint64_t c = (cpu->gpr[X86_RCX] - 1) & x86_size_mask(as);
    bool take = c != 0;
    if (op->sub == 1) {
        take = take && (x86_flags_compute(cpu) & X86_ZF);
    } else if (op->sub == 2) {
        take = take && !(x86_flags_compute(cpu) & X86_ZF);
    }
    enum x86_result r = X86_BRANCH;
    if (take) {
        r = branch_to(cpu, op->imm, branch_size(cpu, op));
    } else {
        cpu->next_rip = op->pc + op->len;
    }
    x86_reg_write(cpu, X86_RCX, as, c);
    return r;
}

X86_OP(jrcxz)
{
    if ((cpu->gpr[X86_RCX] & x86_size_mask(op->addrsize)) == 0) {
        return branch_to(cpu, op->imm, branch_size(cpu, op));
    }
    cpu->next_rip = op->pc + op->len;
    return X86_BRANCH;
}

/* ---- push and pop --------------------------------------------------------------------------- */

X86_OP(push)
{
    unsigned size = op->opsize;
    uint64_t v = x86_opnd_read(cpu, op, 0);
    if (op->opnd[0].kind == X86_OPND_IMM) {
        v = op->imm; /* sign-extended to the operand size */
    }
    x86_push(cpu, size, v);
    return X86_NEXT;
}

/* POP r/m: a memory destination addressed through rSP uses rSP's value after the pop. */
X86_OP(pop)
{
    unsigned size = op->opsize;
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t old = cpu->gpr[X86_RSP];
    uint64_t sp = old & m;
    uint64_t v = x86_load_fast(cpu, x86_linear(cpu, X86_SS, sp, size, X86_ACC_READ), size);
    cpu->gpr[X86_RSP] = (old & ~m) | ((sp + size) & m);
    if (op->opnd[0].kind == X86_OPND_MEM) {
        /* a fault on the store must leave rSP as it was */
        uint64_t lin;
        {
            lin = x86_op_linear(cpu, op, 0, size, X86_ACC_WRITE);
        }
        uint64_t after = cpu->gpr[X86_RSP];
        cpu->gpr[X86_RSP] = old;
        x86_probe_write_lin(cpu, lin, size, X86_ACC_WRITE);
        x86_store_lin(cpu, lin, size, v, X86_ACC_WRITE);
        cpu->gpr[X86_RSP] = after;
        return X86_NEXT;
    }
    x86_reg_write(cpu, op->opnd[0].reg, size, v);
    return X86_NEXT;
}

X86_OP(pushf)
{
    uint64_t f = x86_rflags_read(cpu) & ~(uint64_t)(X86_VM | X86_RF);
    x86_push(cpu, op->opsize, f);
    return X86_NEXT;
}

X86_OP(popf)
{
    unsigned size = op->opsize;
    uint64_t v = x86_pop(cpu, size);
    uint64_t m = X86_ARITH_FLAGS | X86_TF | X86_DF | X86_NT | X86_AC | X86_ID;
    unsigned iopl = (unsigned)(cpu->rflags >> 12) & 3;
    if (cpu->cpl == 0) {
        m |= X86_IOPL;
    }
    if (cpu->cpl <= iopl) {
        m |= X86_IF;
    }
    if (size == 2) {
        m &= 0xffff;
    }
    x86_rflags_write(cpu, (x86_rflags_read(cpu) & ~m & ~(uint64_t)X86_RF) | (v & m));
    cpu->next_rip = op->pc + op->len;
    return X86_BRANCH; /* IF or TF may have changed */
}

X86_OP(leave)
{
    unsigned size = op->opsize;
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t sp = cpu->gpr[X86_RBP] & m;
    uint64_t v = x86_load_fast(cpu, x86_linear(cpu, X86_SS, sp, size, X86_ACC_READ), size);
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | ((sp + size) & m);
    x86_reg_write(cpu, X86_RBP, size, v);
    return X86_NEXT;
}

X86_OP(enter)
{
    unsigned size = op->opsize;
    unsigned ss = x86_stack_size(cpu);
    uint64_t m = x86_size_mask(ss);
    uint64_t alloc = op->imm & 0xffff;
    unsigned level = (unsigned)op->imm2 & 31;
    uint64_t rsp0 = cpu->gpr[X86_RSP], rbp0 = cpu->gpr[X86_RBP];

    x86_push(cpu, size, rbp0);
    /* FrameTemp is RSP, ESP or SP by the operand size, not the stack's (the SDM's ENTER): a
     * 32-bit ENTER on a 16-bit stack takes ESP's upper half along */
    uint64_t frame = cpu->gpr[X86_RSP] & x86_size_mask(size);
    if (level > 0) {
        uint64_t bp = rbp0 & m;
        for (unsigned i = 1; i < level; i++) {
            bp = (bp - size) & m;
            uint64_t v = x86_load_fast(cpu, x86_linear(cpu, X86_SS, bp, size, X86_ACC_READ),
                                       size);
            x86_push(cpu, size, v);
        }
        x86_push(cpu, size, frame);
    }
    uint64_t sp = (cpu->gpr[X86_RSP] - alloc) & m;
    /* the final stack pointer must be writable (#SS/#PF before anything is committed) */
    x86_probe_write_lin(cpu, x86_linear(cpu, X86_SS, sp, 1, X86_ACC_WRITE), 1, X86_ACC_WRITE);
    (void)rsp0;
    x86_reg_write(cpu, X86_RBP, size, frame);
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~m) | sp;
    return X86_NEXT;
}

/* The mnemonics that name both a relative and an indirect form, or a general and a segment
 * register form. */
X86_OP(jmp_any)
{
    return op->opnd[0].kind == X86_OPND_IMM ? x86_op_jmp(cpu, op) : x86_op_jmp_ind(cpu, op);
}

X86_OP(call_any)
{
    return op->opnd[0].kind == X86_OPND_IMM ? x86_op_call(cpu, op) : x86_op_call_ind(cpu, op);
}

X86_OP(push_any)
{
    return op->opnd[0].kind == X86_OPND_SEG ? x86_op_push_seg(cpu, op) : x86_op_push(cpu, op);
}

X86_OP(pop_any)
{
    return op->opnd[0].kind == X86_OPND_SEG ? x86_op_pop_seg(cpu, op) : x86_op_pop(cpu, op);
}
