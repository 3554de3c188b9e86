/*
 * coremu x86_64 — exceptions and interrupts: raising them from inside an instruction, and
 * delivering them through the real-mode IVT or the protected-mode / long-mode IDT (Intel SDM
 * Vol. 3A ch. 6), with the double-fault rules; and IRET, their inverse.
 *
 * Raising. x86_raise records the vector, error code and the address of the instruction, and
 * escapes to the block loop (cpu->fault_jmp), which calls x86_deliver_exception. The faulting
 * instruction has changed nothing (ops.h's rule), so delivery sees the state before it.
 *
 * Delivery is itself a sequence of memory accesses (IDT, GDT, TSS, the new stack) that may
 * fault. A fault during delivery escapes to the loop again, which delivers the new exception
 * with the double-fault rules of SDM Table 6-5: contributory after contributory, or a page
 * fault or contributory after a page fault, becomes #DF; anything during #DF is a triple fault,
 * which shuts the core down (the board resets the machine). State is committed only once every
 * push has succeeded, so a failed delivery leaves the registers as they were.
 */
#include "config.h"

#include <coremu/log.h>

#include "cpu.h"
#include "ops.h"

bool x86_vector_has_error(unsigned vector)
{
    switch (vector) {
    case X86_EXC_DF:
    case X86_EXC_TS:
    case X86_EXC_NP:
    case X86_EXC_SS:
    case X86_EXC_GP:
    case X86_EXC_PF:
    case X86_EXC_AC:
    case 21: /* #CP */
        return true;
    default:
        return false;
    }
}

_Noreturn static void escape(struct x86_cpu *cpu)
{
    siglongjmp(cpu->fault_jmp, 1);
}

static uint64_t insn_rip(const struct x86_cpu *cpu)
{
    return cpu->cur_op ? cpu->cur_op->pc : cpu->rip;
}

_Noreturn void x86_raise(struct x86_cpu *cpu, unsigned vector, uint32_t error_code)
{
    cpu->exc_vector = vector;
    cpu->exc_error = error_code;
    cpu->exc_has_error = x86_vector_has_error(vector);
    cpu->exc_return_rip = insn_rip(cpu);
    cpu->exc_software = false;
    cpu->rip = cpu->exc_return_rip;
    escape(cpu);
}

_Noreturn void x86_raise_noerr(struct x86_cpu *cpu, unsigned vector)
{
    x86_raise(cpu, vector, 0);
}

_Noreturn void x86_raise_trap(struct x86_cpu *cpu, unsigned vector, uint64_t return_rip,
                              bool software)
{
    cpu->exc_vector = vector;
    cpu->exc_error = 0;
    cpu->exc_has_error = false;
    cpu->exc_return_rip = return_rip;
    cpu->exc_software = software;
    /* A fault while delivering restarts the instruction itself. */
    cpu->rip = insn_rip(cpu);
    escape(cpu);
}

/* ---- delivery ------------------------------------------------------------------------------- */

struct delivery {
    unsigned vector;
    uint32_t error;
    bool has_error;
    bool software; /* INT n, INT3, INTO: the gate's DPL is checked */
    bool external; /* an interrupt or an exception during delivery: EXT in error codes */
    uint64_t return_rip;
};

/* Error code naming an IDT entry (bit 1: IDT; bit 0: EXT). */
static uint32_t idt_error(const struct delivery *d)
{
    return (d->vector << 3) | 2u | (d->external ? 1u : 0u);
}

static uint32_t selector_error(const struct delivery *d, uint16_t selector)
{
    return (selector & 0xfffcu) | (d->external ? 1u : 0u);
}

static void deliver_real(struct x86_cpu *cpu, const struct delivery *d)
{
    uint64_t entry = cpu->idtr.base + d->vector * 4u;
    if (d->vector * 4u + 3 > cpu->idtr.limit) {
        x86_raise(cpu, X86_EXC_GP, idt_error(d));
    }
    uint32_t vec = (uint32_t)x86_load_lin(cpu, entry, 4, X86_ACC_READ | X86_ACC_SUPER);
    uint16_t flags = (uint16_t)x86_rflags_read(cpu);
    uint64_t sp = cpu->gpr[X86_RSP];
    uint64_t mask = (cpu->seg[X86_SS].attr & X86_SEG_DB) ? 0xffffffffull : 0xffffull;
    uint64_t ss = cpu->seg[X86_SS].base;
    uint16_t vals[3] = {flags, cpu->seg[X86_CS].selector, (uint16_t)d->return_rip};
    for (unsigned i = 0; i < 3; i++) {
        sp = (sp - 2) & mask;
        x86_store_lin(cpu, (ss + sp) & 0xffffffffull, 2, vals[i], X86_ACC_WRITE);
    }
    cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~mask) | sp;
    cpu->rflags &= ~(uint64_t)(X86_IF | X86_TF | X86_AC | X86_RF);
    x86_load_seg_real(cpu, X86_CS, (uint16_t)(vec >> 16));
    cpu->rip = vec & 0xffff;
}

/* Reads the gate of d->vector and the code segment it names, with their checks. */
static void read_gate(struct x86_cpu *cpu, const struct delivery *d, bool long_mode,
                      uint64_t gate[2], uint64_t code[2], struct x86_segment *cs)
{
    unsigned esize = long_mode ? 16 : 8;
    if ((uint64_t)d->vector * esize + esize - 1 > cpu->idtr.limit) {
        x86_raise(cpu, X86_EXC_GP, idt_error(d));
    }
    uint64_t addr = cpu->idtr.base + (uint64_t)d->vector * esize;
    gate[0] = x86_load_lin(cpu, addr, 8, X86_ACC_READ | X86_ACC_SUPER);
    gate[1] = long_mode ? x86_load_lin(cpu, addr + 8, 8, X86_ACC_READ | X86_ACC_SUPER) : 0;
    unsigned type = (unsigned)(gate[0] >> 40) & 0xf;
    unsigned dpl = (unsigned)(gate[0] >> 45) & 3;
    bool ok_type = long_mode ? (type == 0xe || type == 0xf)
                             : (type == 0xe || type == 0xf || type == 0x6 || type == 0x7);
    if (!ok_type) {
        x86_raise(cpu, X86_EXC_GP, idt_error(d));
    }
    if (d->software && dpl < cpu->cpl) {
        x86_raise(cpu, X86_EXC_GP, idt_error(d));
    }
    if (!((gate[0] >> 47) & 1)) {
        x86_raise(cpu, X86_EXC_NP, idt_error(d));
    }
    uint16_t sel = (uint16_t)(gate[0] >> 16);
    if ((sel & 0xfffc) == 0) {
        x86_raise(cpu, X86_EXC_GP, selector_error(d, 0));
    }
    if (!x86_read_descriptor(cpu, sel, code, false)) {
        x86_raise(cpu, X86_EXC_GP, selector_error(d, sel));
    }
    x86_descriptor_to_cache(code, sel, cs);
    if (!(cs->attr & X86_SEG_S) || !(X86_SEG_TYPE(cs->attr) & 8) ||
        X86_SEG_DPL(cs->attr) > cpu->cpl ||
        (long_mode && (!(cs->attr & X86_SEG_L) || (cs->attr & X86_SEG_DB)))) {
        x86_raise(cpu, X86_EXC_GP, selector_error(d, sel));
    }
    if (!(cs->attr & X86_SEG_P)) {
        x86_raise(cpu, X86_EXC_NP, selector_error(d, sel));
    }
}

static void deliver_long(struct x86_cpu *cpu, const struct delivery *d)
{
    uint64_t gate[2], code[2];
    struct x86_segment cs;

    read_gate(cpu, d, true, gate, code, &cs);
    unsigned type = (unsigned)(gate[0] >> 40) & 0xf;
    unsigned ist = (unsigned)(gate[0] >> 32) & 7;
    uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull) | (gate[1] << 32);
    unsigned new_cpl = (X86_SEG_TYPE(cs.attr) & 4) ? cpu->cpl : X86_SEG_DPL(cs.attr);
    uint64_t rsp = cpu->gpr[X86_RSP];
    bool switch_stack = new_cpl < cpu->cpl;

    if (ist || switch_stack) {
        unsigned off = ist ? 0x24 + (ist - 1) * 8 : 4 + new_cpl * 8;
        if (off + 7 > cpu->seg[X86_TR].limit) {
            x86_raise(cpu, X86_EXC_TS, selector_error(d, cpu->seg[X86_TR].selector));
        }
        rsp = x86_load_lin(cpu, cpu->seg[X86_TR].base + off, 8, X86_ACC_READ | X86_ACC_SUPER);
    }
    rsp &= ~0xfull;
    uint64_t frame[6];
    unsigned n = 0;
    frame[n++] = cpu->seg[X86_SS].selector;
    frame[n++] = cpu->gpr[X86_RSP];
    frame[n++] = x86_rflags_read(cpu);
    frame[n++] = cpu->seg[X86_CS].selector;
    frame[n++] = d->return_rip;
    if (d->has_error) {
        frame[n++] = d->error;
    }
    /* The pushes are supervisor accesses at the new privilege. */
    unsigned old_cpl = cpu->cpl;
    cpu->cpl = new_cpl;
    uint64_t sp = rsp;
    for (unsigned i = 0; i < n; i++) {
        sp -= 8;
        uint64_t lin = sp;
        if ((uint64_t)((int64_t)(lin << 16) >> 16) != lin) {
            cpu->cpl = old_cpl;
            x86_raise(cpu, X86_EXC_SS, 0);
        }
        /* a fault here is reported with the old CPL restored by the nested delivery */
        x86_store_lin(cpu, lin, 8, frame[i], X86_ACC_WRITE | X86_ACC_SUPER);
    }
    /* committed */
    cs.selector = (uint16_t)((cs.selector & 0xfffc) | new_cpl);
    cpu->seg[X86_CS] = cs;
    if (new_cpl != old_cpl) {
        cpu->seg[X86_SS].selector = (uint16_t)new_cpl;
        cpu->seg[X86_SS].base = 0;
        cpu->seg[X86_SS].limit = 0xffffffff;
        cpu->seg[X86_SS].attr = X86_SEG_S | X86_SEG_P | 0x3 | (uint16_t)(new_cpl << 5) |
                                X86_SEG_G | X86_SEG_DB;
    }
    cpu->gpr[X86_RSP] = sp;
    cpu->rflags &= ~(uint64_t)(X86_TF | X86_NT | X86_RF | X86_VM);
    if (type == 0xe) {
        cpu->rflags &= ~(uint64_t)X86_IF;
    }
    cpu->rip = target;
}

static void deliver_protected(struct x86_cpu *cpu, const struct delivery *d)
{
    uint64_t gate[2], code[2];
    struct x86_segment cs;

    read_gate(cpu, d, false, gate, code, &cs);
    unsigned type = (unsigned)(gate[0] >> 40) & 0xf;
    bool gate32 = (type & 8) != 0;
    unsigned psize = gate32 ? 4 : 2;
    uint64_t target = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ull);
    unsigned new_cpl = (X86_SEG_TYPE(cs.attr) & 4) ? cpu->cpl : X86_SEG_DPL(cs.attr);
    struct x86_segment ss = cpu->seg[X86_SS];
    uint64_t esp = cpu->gpr[X86_RSP];
    bool switch_stack = new_cpl < cpu->cpl;

    if (cpu->rflags & X86_VM) {
        coremu_log(COREMU_LOG_UNIMP, "x86: interrupt from virtual-8086 mode: not modelled\n");
        x86_raise(cpu, X86_EXC_GP, selector_error(d, cs.selector));
    }
    if (!gate32 && target > cs.limit) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (switch_stack) {
        /* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n */
        unsigned off = 4 + new_cpl * 8;
        if (off + 5 > cpu->seg[X86_TR].limit) {
            x86_raise(cpu, X86_EXC_TS, selector_error(d, cpu->seg[X86_TR].selector));
        }
        uint64_t tss = cpu->seg[X86_TR].base;
        esp = x86_load_lin(cpu, tss + off, 4, X86_ACC_READ | X86_ACC_SUPER);
        uint16_t ss_sel = (uint16_t)x86_load_lin(cpu, tss + off + 4, 2,
                                                 X86_ACC_READ | X86_ACC_SUPER);
        uint64_t sd[2];
        if ((ss_sel & 0xfffc) == 0 || !x86_read_descriptor(cpu, ss_sel, sd, false)) {
            x86_raise(cpu, X86_EXC_TS, selector_error(d, ss_sel));
        }
        x86_descriptor_to_cache(sd, ss_sel, &ss);
        if ((ss_sel & 3) != new_cpl || X86_SEG_DPL(ss.attr) != new_cpl ||
            !(ss.attr & X86_SEG_S) || (X86_SEG_TYPE(ss.attr) & 0xa) != 0x2) {
            x86_raise(cpu, X86_EXC_TS, selector_error(d, ss_sel));
        }
        if (!(ss.attr & X86_SEG_P)) {
            x86_raise(cpu, X86_EXC_SS, selector_error(d, ss_sel));
        }
    }
    uint64_t frame[6];
    unsigned n = 0;
    if (switch_stack) {
        frame[n++] = cpu->seg[X86_SS].selector;
        frame[n++] = cpu->gpr[X86_RSP];
    }
    frame[n++] = x86_rflags_read(cpu);
    frame[n++] = cpu->seg[X86_CS].selector;
    frame[n++] = d->return_rip;
    if (d->has_error) {
        frame[n++] = d->error;
    }
    uint64_t mask = (ss.attr & X86_SEG_DB) ? 0xffffffffull : 0xffffull;
    uint64_t sp = esp;
    unsigned old_cpl = cpu->cpl;
    cpu->cpl = new_cpl;
    for (unsigned i = 0; i < n; i++) {
        sp = (sp - psize) & mask;
        if (sp > ss.limit && !(X86_SEG_TYPE(ss.attr) & 4)) {
            cpu->cpl = old_cpl;
            x86_raise(cpu, X86_EXC_SS, 0);
        }
        x86_store_lin(cpu, (ss.base + sp) & 0xffffffffull, psize, frame[i],
                      X86_ACC_WRITE | X86_ACC_SUPER);
    }
    cs.selector = (uint16_t)((cs.selector & 0xfffc) | new_cpl);
    cpu->seg[X86_CS] = cs;
    cpu->seg[X86_SS] = ss;
    cpu->gpr[X86_RSP] = (esp & ~mask) | sp;
    if (!(ss.attr & X86_SEG_DB)) {
        cpu->gpr[X86_RSP] = (cpu->gpr[X86_RSP] & ~0xffffull) | sp;
    }
    cpu->rflags &= ~(uint64_t)(X86_TF | X86_NT | X86_RF | X86_VM);
    if ((type & 7) == 6) {
        cpu->rflags &= ~(uint64_t)X86_IF;
    }
    cpu->rip = gate32 ? target : (target & 0xffff);
}

static bool contributory(unsigned v)
{
    return v == X86_EXC_DE || v == X86_EXC_TS || v == X86_EXC_NP || v == X86_EXC_SS ||
           v == X86_EXC_GP;
}

static void deliver(struct x86_cpu *cpu, struct delivery *d)
{
    if (cpu->exc_depth > 0) {
        unsigned prev = cpu->exc_delivering;
        if (prev == X86_EXC_DF) {
            coremu_log(COREMU_LOG_GUEST_ERRORS,
                       "x86: triple fault (vector %u while delivering #DF) at %016llx\n",
                       d->vector, (unsigned long long)cpu->rip);
            cpu->exc_depth = 0;
            if (cpu->board.shutdown) {
                cpu->board.shutdown(cpu->board.opaque, cpu);
            }
            cpu->leave = true;
            cpu->halted = true;
            return;
        }
        if ((contributory(prev) && contributory(d->vector)) ||
            (prev == X86_EXC_PF && (d->vector == X86_EXC_PF || contributory(d->vector)))) {
            d->vector = X86_EXC_DF;
            d->error = 0;
            d->has_error = true;
            d->software = false;
        }
        d->external = true;
    }
    cpu->exc_depth++;
    cpu->exc_delivering = d->vector;
    COREMU_LOG(COREMU_LOG_INT, "cpu%u: vector %u err %x at %016llx cpl %u\n",
               cpu->rt ? cpu->rt->index : 0, d->vector, d->error,
               (unsigned long long)d->return_rip, cpu->cpl);
    if (!(cpu->cr0 & X86_CR0_PE)) {
        deliver_real(cpu, d);
    } else if (cpu->efer & X86_EFER_LMA) {
        deliver_long(cpu, d);
    } else {
        deliver_protected(cpu, d);
    }
    cpu->exc_depth = 0;
    cpu->intr_shadow = false;
    cpu->halted = false;
}

void x86_deliver_exception(struct x86_cpu *cpu)
{
    struct delivery d = {
        .vector = cpu->exc_vector,
        .error = cpu->exc_error,
        .has_error = cpu->exc_has_error && (cpu->cr0 & X86_CR0_PE),
        .software = cpu->exc_software,
        .external = false,
        .return_rip = cpu->exc_return_rip,
    };
    deliver(cpu, &d);
}

void x86_deliver_interrupt(struct x86_cpu *cpu, unsigned vector)
{
    struct delivery d = {
        .vector = vector,
        .external = true,
        .return_rip = cpu->rip,
    };
    deliver(cpu, &d);
}

/* ---- INT n, INT3, INTO, INT1 ---------------------------------------------------------------- */

X86_OP(int)
{
    x86_raise_trap(cpu, (unsigned)(op->imm & 0xff), op->pc + op->len, true);
}

X86_OP(int3)
{
    x86_raise_trap(cpu, X86_EXC_BP, op->pc + op->len, true);
}

X86_OP(into)
{
    if (x86_flags_compute(cpu) & X86_OF) {
        x86_raise_trap(cpu, X86_EXC_OF, op->pc + op->len, true);
    }
    return X86_NEXT;
}

/* ---- IRET ----------------------------------------------------------------------------------- */

static uint64_t pop_at(struct x86_cpu *cpu, uint64_t *sp, unsigned size, unsigned stack_size)
{
    uint64_t mask = x86_size_mask(stack_size);
    uint64_t v = x86_load_lin(cpu, x86_linear(cpu, X86_SS, *sp & mask, size, X86_ACC_READ),
                              size, X86_ACC_READ);
    *sp = (*sp & ~mask) | ((*sp + size) & mask);
    return v;
}

/* The RFLAGS bits IRET/POPF may change at this privilege. */
static uint64_t flags_writable(const struct x86_cpu *cpu, unsigned size)
{
    uint64_t m = X86_ARITH_FLAGS | X86_TF | X86_DF | X86_NT | X86_AC | X86_ID | X86_RF;
    unsigned iopl = (unsigned)(cpu->rflags >> 12) & 3;
    if (cpu->cpl == 0) {
        m |= X86_IOPL | X86_VIF | X86_VIP;
    }
    if (cpu->cpl <= iopl) {
        m |= X86_IF;
    }
    if (size == 2) {
        m &= 0xffff;
    }
    return m;
}

static void load_return_cs(struct x86_cpu *cpu, uint16_t sel, struct x86_segment *cs)
{
    uint64_t desc[2];
    if ((sel & 0xfffc) == 0) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (!x86_read_descriptor(cpu, sel, desc, false)) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    x86_descriptor_to_cache(desc, sel, cs);
    unsigned rpl = sel & 3;
    if (!(cs->attr & X86_SEG_S) || !(X86_SEG_TYPE(cs->attr) & 8) || rpl < cpu->cpl ||
        ((X86_SEG_TYPE(cs->attr) & 4) ? X86_SEG_DPL(cs->attr) > rpl
                                       : X86_SEG_DPL(cs->attr) != rpl)) {
        x86_raise(cpu, X86_EXC_GP, sel & 0xfffc);
    }
    if (!(cs->attr & X86_SEG_P)) {
        x86_raise(cpu, X86_EXC_NP, sel & 0xfffc);
    }
}

X86_OP(iret)
{
    unsigned size = op->opsize;
    unsigned ssize = x86_stack_size(cpu);
    uint64_t sp = cpu->gpr[X86_RSP];

    if (!(cpu->cr0 & X86_CR0_PE)) {
        uint64_t ip = pop_at(cpu, &sp, size, ssize);
        uint16_t cs = (uint16_t)pop_at(cpu, &sp, size, ssize);
        uint64_t fl = pop_at(cpu, &sp, size, ssize);
        if (ip > cpu->seg[X86_CS].limit) {
            x86_raise(cpu, X86_EXC_GP, 0);
        }
        uint64_t m = flags_writable(cpu, size) & ~(uint64_t)(X86_VIF | X86_VIP);
        x86_rflags_write(cpu, (x86_rflags_read(cpu) & ~m) | (fl & m));
        x86_load_seg_real(cpu, X86_CS, cs);
        cpu->gpr[X86_RSP] = sp;
        cpu->next_rip = ip;
        return X86_BRANCH;
    }
    if (cpu->rflags & X86_NT) {
        coremu_log(COREMU_LOG_UNIMP, "x86: IRET with NT (task return): not modelled\n");
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    bool lm = (cpu->efer & X86_EFER_LMA) != 0;
    uint64_t ip = pop_at(cpu, &sp, size, ssize);
    uint16_t cs_sel = (uint16_t)pop_at(cpu, &sp, size, ssize);
    uint64_t fl = pop_at(cpu, &sp, size, ssize);
    struct x86_segment cs;
    load_return_cs(cpu, cs_sel, &cs);
    unsigned new_cpl = cs_sel & 3;
    bool code64 = lm && (cs.attr & X86_SEG_L);
    bool stack_too = new_cpl != cpu->cpl || x86_code64(cpu);
    struct x86_segment ss = cpu->seg[X86_SS];
    uint64_t new_sp = sp;

    if ((fl & X86_VM) && cpu->cpl == 0 && !lm) {
        coremu_log(COREMU_LOG_UNIMP, "x86: IRET to virtual-8086 mode: not modelled\n");
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    if (stack_too) {
        new_sp = pop_at(cpu, &sp, size, ssize);
        uint16_t ss_sel = (uint16_t)pop_at(cpu, &sp, size, ssize);
        if ((ss_sel & 0xfffc) == 0) {
            /* a null SS is allowed in 64-bit mode below CPL 3 */
            if (!(code64 && new_cpl != 3)) {
                x86_raise(cpu, X86_EXC_GP, 0);
            }
            ss.selector = ss_sel;
            ss.base = 0;
            ss.limit = 0xffffffff;
            ss.attr = X86_SEG_S | X86_SEG_P | 0x3 | (uint16_t)(new_cpl << 5) | X86_SEG_DB |
                      X86_SEG_G;
        } else {
            uint64_t sd[2];
            if (!x86_read_descriptor(cpu, ss_sel, sd, false)) {
                x86_raise(cpu, X86_EXC_GP, ss_sel & 0xfffc);
            }
            x86_descriptor_to_cache(sd, ss_sel, &ss);
            if ((ss_sel & 3) != new_cpl || X86_SEG_DPL(ss.attr) != new_cpl ||
                !(ss.attr & X86_SEG_S) || (X86_SEG_TYPE(ss.attr) & 0xa) != 0x2) {
                x86_raise(cpu, X86_EXC_GP, ss_sel & 0xfffc);
            }
            if (!(ss.attr & X86_SEG_P)) {
                x86_raise(cpu, X86_EXC_SS, ss_sel & 0xfffc);
            }
        }
    }
    if (!code64 && ip > cs.limit) {
        x86_raise(cpu, X86_EXC_GP, 0);
    }
    /* committed: flags with the old privilege's rules */
    uint64_t m = flags_writable(cpu, size);
    unsigned old_cpl = cpu->cpl;
    x86_rflags_write(cpu, (x86_rflags_read(cpu) & ~m) | (fl & m));
    cpu->seg[X86_CS] = cs;
    cpu->cpl = new_cpl;
    if (stack_too) {
        cpu->seg[X86_SS] = ss;
        cpu->gpr[X86_RSP] = (ss.attr & X86_SEG_DB) || code64 ? new_sp
                            : (cpu->gpr[X86_RSP] & ~0xffffull) | (new_sp & 0xffff);
        if (!code64 && (ss.attr & X86_SEG_DB)) {
            cpu->gpr[X86_RSP] = (uint32_t)new_sp;
        }
    } else {
        cpu->gpr[X86_RSP] = sp;
    }
    /* Returning outwards: data segments the new privilege may not use become null. */
    if (new_cpl > old_cpl) {
        x86_null_outer_data_segs(cpu, new_cpl);
    }
    cpu->next_rip = code64 ? ip : (uint32_t)ip;
    cpu->intr_shadow = false;
    return X86_BRANCH;
}

/* INT1 (F1, ICEBP): a #DB trap that is not a software interrupt (no DPL check). */
X86_OP(int1)
{
    x86_raise_trap(cpu, X86_EXC_DB, op->pc + op->len, false);
}
