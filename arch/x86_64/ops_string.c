/*
 * coremu x86_64 — the string instructions MOVS, STOS, LODS, SCAS, CMPS, INS, OUTS, with and
 * without REP / REPE / REPNE.
 *
 * Each iteration reads, then writes, then advances rSI / rDI / rCX (in the address size), so a
 * fault in an iteration leaves the registers as they were after the previous one, with rIP at
 * the instruction: the handler restarts it, as hardware does. A repeated instruction runs at
 * most X86_STRING_BURST iterations per execution and then restarts itself, so that interrupts
 * and other cores' requests are served during a long copy.
 *
 * MOVS and STOS forwards in RAM take a page at a time through host addresses (one translation
 * per page instead of one per element); each element is still one single-copy-atomic access.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

#define X86_STRING_BURST 4096u

struct string_regs {
    unsigned as;     /* address size in bytes */
    uint64_t amask;
    int64_t step;    /* +size or -size by DF */
    bool rep;
};

static void string_setup(const struct x86_cpu *cpu, const struct x86_uop *op, unsigned size,
                         struct string_regs *s)
{
    s->as = op->addrsize;
    s->amask = x86_size_mask(op->addrsize);
    s->step = (cpu->rflags & X86_DF) ? -(int64_t)size : (int64_t)size;
    s->rep = (op->flags & (X86_UOP_REP | X86_UOP_REPNE)) != 0;
}

static void advance(struct x86_cpu *cpu, const struct string_regs *s, unsigned reg, int64_t n)
{
    x86_reg_write(cpu, reg, s->as, (cpu->gpr[reg] + (uint64_t)(s->step * n)) & s->amask);
}

/* The operand size of a string instruction: 1 for the byte forms (A4, AA...), else opsize. */
static unsigned string_size(const struct x86_uop *op)
{
    return (op->opcode & 1) ? op->opsize : 1;
}

/* Ends an execution: done, or restart the instruction for the next burst. */
static enum x86_result string_end(struct x86_cpu *cpu, const struct x86_uop *op, bool more)
{
    cpu->next_rip = more ? op->pc : op->pc + op->len;
    return X86_BRANCH;
}

/* Elements of size bytes from lin (step > 0) before the page ends. */
static uint64_t left_in_page(uint64_t lin, unsigned size)
{
    return (4096 - (lin & 0xfff)) / size;
}

X86_OP(movs)
{
    unsigned size = string_size(op);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t done = 0;

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t src = x86_linear(cpu, op->seg, cpu->gpr[X86_RSI] & s.amask, size, X86_ACC_READ);
        uint64_t dst = x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, size,
                                  X86_ACC_WRITE);
        uint64_t n = 0;
        if (s.step > 0 && count > 1) {
            const uint8_t *hs = x86_host_ptr(cpu, src, size, X86_ACC_READ);
            uint8_t *hd = hs ? x86_host_ptr(cpu, dst, size, X86_ACC_WRITE) : NULL;
            if (hd) {
                n = left_in_page(src, size);
                uint64_t nd = left_in_page(dst, size);
                n = n < nd ? n : nd;
                n = n < count ? n : count;
                n = n < X86_STRING_BURST - done ? n : X86_STRING_BURST - done;
                /* the segment limits of the whole run (no-ops in 64-bit mode) */
                (void)x86_linear(cpu, op->seg, cpu->gpr[X86_RSI] & s.amask, (unsigned)(n * size),
                                 X86_ACC_READ);
                (void)x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, (unsigned)(n * size),
                                 X86_ACC_WRITE);
                for (uint64_t i = 0; i < n; i++) {
                    x86_mem_store(hd + i * size, size, x86_mem_load(hs + i * size, size));
                }
            }
        }
        if (n == 0) {
            n = 1;
            uint64_t v = x86_load_fast(cpu, src, size);
            x86_store_fast(cpu, dst, size, v);
        }
        advance(cpu, &s, X86_RSI, (int64_t)n);
        advance(cpu, &s, X86_RDI, (int64_t)n);
        count -= n;
        done += n;
        if (s.rep) {
            x86_reg_write(cpu, X86_RCX, s.as, count);
        }
    }
    return string_end(cpu, op, s.rep && count > 0);
}

X86_OP(stos)
{
    unsigned size = string_size(op);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t v = cpu->gpr[X86_RAX] & x86_size_mask(size);
    uint64_t done = 0;

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t dst = x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, size,
                                  X86_ACC_WRITE);
        uint64_t n = 1;
        uint8_t *hd = (s.step > 0 && count > 1) ? x86_host_ptr(cpu, dst, size, X86_ACC_WRITE)
                                                : NULL;
        if (hd) {
            n = left_in_page(dst, size);
            n = n < count ? n : count;
            n = n < X86_STRING_BURST - done ? n : X86_STRING_BURST - done;
            (void)x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, (unsigned)(n * size),
                             X86_ACC_WRITE);
            for (uint64_t i = 0; i < n; i++) {
                x86_mem_store(hd + i * size, size, v);
            }
        } else {
            x86_store_fast(cpu, dst, size, v);
        }
        advance(cpu, &s, X86_RDI, (int64_t)n);
        count -= n;
        done += n;
        if (s.rep) {
            x86_reg_write(cpu, X86_RCX, s.as, count);
        }
    }
    return string_end(cpu, op, s.rep && count > 0);
}

X86_OP(lods)
{
    unsigned size = string_size(op);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t done = 0;

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t src = x86_linear(cpu, op->seg, cpu->gpr[X86_RSI] & s.amask, size, X86_ACC_READ);
        x86_reg_write(cpu, X86_RAX, size, x86_load_fast(cpu, src, size));
        advance(cpu, &s, X86_RSI, 1);
        count--;
        done++;
        if (s.rep) {
            x86_reg_write(cpu, X86_RCX, s.as, count);
        }
    }
    return string_end(cpu, op, s.rep && count > 0);
}

/* SCAS and CMPS: REPE (F3) repeats while equal, REPNE (F2) while not. */
static enum x86_result compare_string(struct x86_cpu *cpu, const struct x86_uop *op, bool cmps)
{
    unsigned size = string_size(op);
    uint64_t m = x86_size_mask(size);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t done = 0;
    bool more = false;

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t a, b;
        uint64_t dst = x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, size, X86_ACC_READ);
        if (cmps) {
            uint64_t src = x86_linear(cpu, op->seg, cpu->gpr[X86_RSI] & s.amask, size,
                                      X86_ACC_READ);
            a = x86_load_fast(cpu, src, size);
            b = x86_load_fast(cpu, dst, size);
        } else {
            a = cpu->gpr[X86_RAX] & m;
            b = x86_load_fast(cpu, dst, size);
        }
        x86_flags_lazy(cpu, X86_CC_SUB, size, (a - b) & m, a, b);
        if (cmps) {
            advance(cpu, &s, X86_RSI, 1);
        }
        advance(cpu, &s, X86_RDI, 1);
        count--;
        done++;
        if (!s.rep) {
            break;
        }
        x86_reg_write(cpu, X86_RCX, s.as, count);
        bool equal = a == b;
        if ((op->flags & X86_UOP_REP) ? !equal : equal) {
            break;
        }
        more = count > 0;
    }
    if (s.rep && count > 0 && done >= X86_STRING_BURST) {
        more = true;
    } else if (done < X86_STRING_BURST) {
        more = false;
    }
    return string_end(cpu, op, more);
}

X86_OP(scas)
{
    return compare_string(cpu, op, false);
}

X86_OP(cmps)
{
    return compare_string(cpu, op, true);
}

X86_OP(ins)
{
    unsigned size = string_size(op);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t done = 0;
    uint16_t port = (uint16_t)cpu->gpr[X86_RDX];

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t dst = x86_linear(cpu, X86_ES, cpu->gpr[X86_RDI] & s.amask, size,
                                  X86_ACC_WRITE);
        x86_probe_write_lin(cpu, dst, size, X86_ACC_WRITE);
        uint64_t v = x86_port_in(cpu, port, size);
        x86_store_fast(cpu, dst, size, v);
        advance(cpu, &s, X86_RDI, 1);
        count--;
        done++;
        if (s.rep) {
            x86_reg_write(cpu, X86_RCX, s.as, count);
        }
    }
    return string_end(cpu, op, s.rep && count > 0);
}

X86_OP(outs)
{
    unsigned size = string_size(op);
    struct string_regs s;
    string_setup(cpu, op, size, &s);
    uint64_t count = s.rep ? cpu->gpr[X86_RCX] & s.amask : 1;
    uint64_t done = 0;
    uint16_t port = (uint16_t)cpu->gpr[X86_RDX];

    while (count > 0 && done < X86_STRING_BURST) {
        uint64_t src = x86_linear(cpu, op->seg, cpu->gpr[X86_RSI] & s.amask, size, X86_ACC_READ);
        x86_port_out(cpu, port, size, x86_load_fast(cpu, src, size));
        advance(cpu, &s, X86_RSI, 1);
        count--;
        done++;
        if (s.rep) {
            x86_reg_write(cpu, X86_RCX, s.as, count);
        }
    }
    return string_end(cpu, op, s.rep && count > 0);
}
