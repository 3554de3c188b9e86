/*
 * coremu ARM — taking exceptions and returning from them (ARM ARM B1.8, B1.9), and the
 * instructions that wait or call firmware: WFI, WFE, SEV, HVC, SMC.
 *
 * Synchronous exceptions raised inside an instruction (UNDEFINED, aborts) are taken at once
 * and then escape to the block loop through cpu->fault_jmp; the loop resumes at next_pc,
 * which is the vector.
 */
#include "config.h"

#include <stdatomic.h>

#include <coremu/cpu.h>
#include <coremu/log.h>

#include "board.h"
#include "cpu.h"

/* SCTLR bits used here. */
#define SCTLR_V (1u << 13)
#define SCTLR_EE (1u << 25)
#define SCTLR_TE (1u << 30)

/* Per exception (B1.8.3, table B1-7, and B1.8.4 for the masks without the Security
 * Extensions): target mode, LR offset from the preferred return address in ARM and in Thumb
 * state, and whether F and A are set on entry (I always is). */
struct exc_info {
    enum arm_mode mode;
    uint8_t lr_arm, lr_thumb;
    bool set_f, set_a;
    const char *name;
};

static const struct exc_info *exc_info(enum arm_exception exc)
{
    static const struct exc_info reset = {ARM_MODE_SVC, 0, 0, true, true, "reset"};
    static const struct exc_info undef = {ARM_MODE_UND, 4, 2, false, false, "undef"};
    static const struct exc_info svc = {ARM_MODE_SVC, 0, 0, false, false, "svc"};
    static const struct exc_info pabt = {ARM_MODE_ABT, 4, 4, false, true, "prefetch abort"};
    static const struct exc_info dabt = {ARM_MODE_ABT, 8, 8, false, true, "data abort"};
    static const struct exc_info irq = {ARM_MODE_IRQ, 4, 4, false, true, "irq"};
    static const struct exc_info fiq = {ARM_MODE_FIQ, 4, 4, true, true, "fiq"};

    switch (exc) {
    case ARM_EXC_RESET:
        return &reset;
    case ARM_EXC_UNDEF:
        return &undef;
    case ARM_EXC_SVC:
        return &svc;
    case ARM_EXC_PREFETCH_ABORT:
        return &pabt;
    case ARM_EXC_DATA_ABORT:
        return &dabt;
    case ARM_EXC_IRQ:
        return &irq;
    case ARM_EXC_FIQ:
    default:
        return &fiq;
    }
}

static unsigned cpu_index(const struct arm_cpu *cpu)
{
    return cpu->rt ? cpu->rt->index : 0;
}

void arm_take_exception(struct arm_cpu *cpu, enum arm_exception exc, uint32_t return_addr)
{
    const struct exc_info *info = exc_info(exc);
    bool thumb = (cpu->cpsr_rest & ARM_CPSR_T) != 0;
    uint32_t sctlr = cpu->cp15.sctlr;

    /* The saved IT state is the one of the instruction at the return address: the faulting
     * instruction for UNDEF and aborts (cpu->cpsr_it already holds the advanced state while an
     * instruction executes), the next one for SVC and interrupts. */
    if ((exc == ARM_EXC_UNDEF || exc == ARM_EXC_PREFETCH_ABORT || exc == ARM_EXC_DATA_ABORT) &&
        cpu->cur_op) {
        cpu->cpsr_it = cpu->cur_op->itstate;
    }
    uint32_t spsr = arm_cpsr_read(cpu);
    uint32_t lr = return_addr + (thumb ? info->lr_thumb : info->lr_arm);

    arm_switch_mode(cpu, info->mode);
    cpu->banked_spsr[arm_mode_bank(info->mode)] = spsr;
    cpu->r[14] = lr;

    uint32_t rest = cpu->cpsr_rest & ~(ARM_CPSR_T | ARM_CPSR_E);
    rest |= ARM_CPSR_I;
    if (info->set_f) {
        rest |= ARM_CPSR_F;
    }
    if (info->set_a) {
        rest |= ARM_CPSR_A;
    }
    if (sctlr & SCTLR_TE) {
        rest |= ARM_CPSR_T;
    }
    if (sctlr & SCTLR_EE) {
        rest |= ARM_CPSR_E;
    }
    cpu->cpsr_rest = rest;
    cpu->cpsr_it = 0;

    /* Without the Security Extensions VBAR does not exist architecturally; coremu keeps it
     * (bare-metal programs and firmware expect it on a Cortex-A15) and SCTLR.V selects the
     * high vectors over it. */
    uint32_t base = (sctlr & SCTLR_V) ? 0xffff0000u : (cpu->cp15.vbar & ~0x1fu);
    cpu->next_pc = base + (uint32_t)exc;
    coremu_xmon_clear(&cpu->xmon);

    COREMU_LOG(COREMU_LOG_INT,
               "cpu%u: %s: return %08x lr %08x spsr %08x -> %08x (dfsr %08x dfar %08x "
               "ifsr %08x ifar %08x)\n",
               cpu_index(cpu), info->name, return_addr, lr, spsr, cpu->next_pc, cpu->cp15.dfsr,
               cpu->cp15.dfar, cpu->cp15.ifsr, cpu->cp15.ifar);
}

/* The address of the instruction being executed (or whose fetch faulted). */
static uint32_t current_pc(const struct arm_cpu *cpu)
{
    return cpu->cur_op ? cpu->cur_op->pc : cpu->r[15];
}

_Noreturn void arm_undefined(struct arm_cpu *cpu, const struct arm_uop *op)
{
    if (op) {
        cpu->cur_op = op;
        cpu->r[15] = op->pc;
    }
    COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "cpu%u: UNDEFINED instruction %08x at %08x\n",
               cpu_index(cpu), op ? op->insn : 0u, current_pc(cpu));
    arm_take_exception(cpu, ARM_EXC_UNDEF, current_pc(cpu));
    siglongjmp(cpu->fault_jmp, 1);
}

_Noreturn void arm_data_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t fsr, bool write)
{
    cpu->cp15.dfsr = fsr | (write ? (1u << 11) : 0u);
    cpu->cp15.dfar = vaddr;
    COREMU_LOG(COREMU_LOG_MMU, "cpu%u: data abort at %08x: %s %08x fsr %08x\n", cpu_index(cpu),
               current_pc(cpu), write ? "write" : "read", vaddr, fsr);
    arm_take_exception(cpu, ARM_EXC_DATA_ABORT, current_pc(cpu));
    siglongjmp(cpu->fault_jmp, 1);
}

_Noreturn void arm_prefetch_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t fsr)
{
    /* IFSR has no domain field and no WnR. */
    cpu->cp15.ifsr = fsr & ~0x8f0u;
    cpu->cp15.ifar = vaddr;
    COREMU_LOG(COREMU_LOG_MMU, "cpu%u: prefetch abort at %08x (address %08x) fsr %08x\n",
               cpu_index(cpu), current_pc(cpu), vaddr, fsr);
    arm_take_exception(cpu, ARM_EXC_PREFETCH_ABORT, current_pc(cpu));
    siglongjmp(cpu->fault_jmp, 1);
}

void arm_exception_return(struct arm_cpu *cpu, uint32_t addr, uint32_t spsr)
{
    arm_cpsr_write(cpu, spsr, 0xffffffffu);
    cpu->next_pc = addr & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
    coremu_xmon_clear(&cpu->xmon);
}

/* ---- waiting ------------------------------------------------------------------------------ */

/* Moves a pending SEV into the event register. */
static void absorb_sev(struct arm_cpu *cpu, uint32_t pending)
{
    if (pending & ARM_PENDING_SEV) {
        coremu_cpu_clear_pending(cpu->rt, ARM_PENDING_SEV);
        cpu->event_register = true;
    }
}

/* Bits of pending that the runtime itself must handle. */
static bool runtime_work(uint32_t pending)
{
    return (pending & (COREMU_PENDING_ARCH0 - 1u)) != 0;
}

/* Serves the runtime inside a waiting instruction; false when the core must leave. */
static bool serve_runtime(struct arm_cpu *cpu)
{
    if (coremu_cpu_process_pending(cpu->rt) == COREMU_CPU_LEAVE) {
        arm_request_leave(cpu);
        return false;
    }
    return !cpu->leave;
}

void arm_wfi(struct arm_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;

    /* A WFI wake-up event is any pending interrupt, masked or not (B1.8.13). Runtime work
     * (events: TLB maintenance, code invalidation; stop requests; the timer) is served here
     * and the core goes back to sleep, so that it does not look like a wake-up to the guest,
     * unless the timer just raised an interrupt. */
    for (;;) {
        uint32_t p = atomic_load_explicit(&rt->pending, memory_order_acquire);
        if (p & (ARM_PENDING_IRQ | ARM_PENDING_FIQ)) {
            return;
        }
        absorb_sev(cpu, p);
        if (p & ARM_PENDING_MAINT) {
            arm_maint_process(cpu);
        }
        if (runtime_work(p)) {
            if (!serve_runtime(cpu)) {
                return;
            }
            continue;
        }
        coremu_cpu_wait(rt, ARM_PENDING_IRQ | ARM_PENDING_FIQ);
    }
}

/* The WFE wake-up events this core can see now: SEV, and interrupts not masked by the CPSR. */
static uint32_t wfe_mask(const struct arm_cpu *cpu)
{
    uint32_t mask = ARM_PENDING_SEV;

    if (!(cpu->cpsr_rest & ARM_CPSR_I)) {
        mask |= ARM_PENDING_IRQ;
    }
    if (!(cpu->cpsr_rest & ARM_CPSR_F)) {
        mask |= ARM_PENDING_FIQ;
    }
    return mask;
}

void arm_wfe(struct arm_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;
    uint32_t p = atomic_load_explicit(&rt->pending, memory_order_acquire);

    absorb_sev(cpu, p);
    if (cpu->event_register) {
        cpu->event_register = false;
        return;
    }
    /* Lock holders usually release within microseconds: spin briefly (relax also yields the
     * host CPU, so an over-subscribed host still runs the holder), then sleep until SEV, an
     * unmasked interrupt, the timer deadline or runtime work. WFE may complete early for
     * other reasons, so returning on runtime work is allowed. */
    uint32_t mask = wfe_mask(cpu);
    for (unsigned i = 0; i < 64; i++) {
        p = atomic_load_explicit(&rt->pending, memory_order_acquire);
        if (p & (mask | (COREMU_PENDING_ARCH0 - 1u))) {
            break;
        }
        coremu_cpu_relax(rt, cpu->insns_executed);
    }
    p = atomic_load_explicit(&rt->pending, memory_order_acquire);
    if (p & ARM_PENDING_MAINT) {
        arm_maint_process(cpu);
    }
    if (!(p & (mask | (COREMU_PENDING_ARCH0 - 1u)))) {
        coremu_cpu_wait(rt, mask);
    }
    p = atomic_load_explicit(&rt->pending, memory_order_acquire);
    absorb_sev(cpu, p);
    /* The event that woke us is consumed by this WFE. */
    cpu->event_register = false;
}

void arm_sev(struct arm_cpu *cpu)
{
    struct arm_board *board = cpu->board;

    /* Release: a core woken by the event must see the stores before the SEV (Linux's unlock
     * is DSB; SEV, and the DSB already fenced, but be safe for guests that omit it). */
    atomic_thread_fence(memory_order_seq_cst);
    cpu->event_register = true;
    for (unsigned i = 0; i < board->ncpus; i++) {
        struct arm_cpu *other = board->cpus[i];
        if (other && other != cpu && other->rt &&
            atomic_load_explicit(&other->rt->power, memory_order_acquire) == COREMU_CPU_ON) {
            coremu_cpu_kick(other->rt, ARM_PENDING_SEV);
        }
    }
}

/* ---- firmware calls ----------------------------------------------------------------------- */

static void firmware_call(struct arm_cpu *cpu, const struct arm_uop *op, bool is_smc,
                          uint32_t imm)
{
    struct arm_board *board = cpu->board;

    /* HVC and SMC are UNDEFINED at PL0 and, without the Virtualization and Security
     * extensions, UNDEFINED altogether; the board's firmware (PSCI) stands in for them. */
    if (!arm_cpu_privileged(cpu) || !board->firmware_call) {
        arm_undefined(cpu, op);
    }
    COREMU_LOG(COREMU_LOG_PCALL, "cpu%u: %s #%u r0 %08x r1 %08x r2 %08x r3 %08x\n",
               cpu_index(cpu), is_smc ? "smc" : "hvc", imm, cpu->r[0], cpu->r[1], cpu->r[2],
               cpu->r[3]);
    if (!board->firmware_call(board, cpu, is_smc, imm)) {
        arm_undefined(cpu, op);
    }
    /* CPU_OFF (or a suspend that powered the core down) ends this run of the core. */
    if (cpu->rt && atomic_load_explicit(&cpu->rt->power, memory_order_acquire) != COREMU_CPU_ON) {
        arm_request_leave(cpu);
    }
}

void arm_hvc(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t imm16)
{
    firmware_call(cpu, op, false, imm16);
}

void arm_smc(struct arm_cpu *cpu, const struct arm_uop *op)
{
    firmware_call(cpu, op, true, op ? (op->imm & 0xfu) : 0u);
}
