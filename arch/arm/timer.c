/*
 * coremu ARM — the generic timer (ARM ARM B8): the system counter, and each core's physical
 * and virtual timers.
 *
 * The counter is the virtual clock scaled to ARM_CNT_HZ (62.5 MHz, what the virt board's
 * device tree announces); CNTFRQ only tells software that number and does not change it.
 * CNTVOFF is zero (it is only writable from Hyp mode, which this core does not have). Each
 * timer's output is level-sensitive: asserted while ENABLE && ISTATUS && !IMASK, reported to
 * the board (which wires it to the interrupt controller) whenever it changes. The core's
 * runtime deadline is the earliest instant at which an enabled, unmasked timer's condition will
 * become true; its expiry (ops->timer_expired) re-evaluates the outputs.
 */
#include "config.h"

#include <stdint.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>

#include "board.h"
#include "cpu.h"

#define CTL_ENABLE (1u << 0)
#define CTL_IMASK (1u << 1)
#define CTL_ISTATUS (1u << 2)

/* CNTKCTL bits. */
#define KCTL_PL0PCTEN (1u << 0)
#define KCTL_PL0VCTEN (1u << 1)
#define KCTL_PL0VTEN (1u << 8)
#define KCTL_PL0PTEN (1u << 9)
#define KCTL_WMASK 0x3ffu

uint64_t arm_timer_count(void)
{
    int64_t ns = coremu_clock_ns();

    if (ns < 0) {
        ns = 0;
    }
    return (uint64_t)((unsigned __int128)(uint64_t)ns * ARM_CNT_HZ / COREMU_NS_PER_SEC);
}

/* The first virtual-clock instant at which the counter reads at least count. */
static int64_t count_to_ns(uint64_t count)
{
    unsigned __int128 ns = ((unsigned __int128)count * COREMU_NS_PER_SEC + ARM_CNT_HZ - 1) /
                           ARM_CNT_HZ;
    return ns > (unsigned __int128)INT64_MAX ? INT64_MAX : (int64_t)ns;
}

bool arm_timer_access_ok(struct arm_cpu *cpu, enum arm_timer_reg reg, bool write)
{
    uint32_t k = cpu->timer.cntkctl;

    if (arm_cpu_privileged(cpu)) {
        return true;
    }
    switch (reg) {
    case ARM_CNTFRQ:
        return !write && (k & (KCTL_PL0PCTEN | KCTL_PL0VCTEN));
    case ARM_CNTPCT:
        return !write && (k & KCTL_PL0PCTEN);
    case ARM_CNTVCT:
        return !write && (k & KCTL_PL0VCTEN);
    case ARM_CNTP_TVAL:
    case ARM_CNTP_CTL:
    case ARM_CNTP_CVAL:
        return (k & KCTL_PL0PTEN) != 0;
    case ARM_CNTV_TVAL:
    case ARM_CNTV_CTL:
    case ARM_CNTV_CVAL:
        return (k & KCTL_PL0VTEN) != 0;
    case ARM_CNTKCTL:
    default:
        return false;
    }
}

/* One timer's view: its control, compare value and counter. */
struct timer_view {
    uint32_t *ctl;
    uint64_t *cval;
    uint64_t offset; /* subtracted from the physical count */
};

static struct timer_view view(struct arm_cpu *cpu, bool virt)
{
    struct timer_view v;

    if (virt) {
        v.ctl = &cpu->timer.cntv_ctl;
        v.cval = &cpu->timer.cntv_cval;
        v.offset = cpu->timer.cntvoff;
    } else {
        v.ctl = &cpu->timer.cntp_ctl;
        v.cval = &cpu->timer.cntp_cval;
        v.offset = 0;
    }
    return v;
}

static bool istatus(const struct timer_view *v, uint64_t phys_count)
{
    return (*v->ctl & CTL_ENABLE) && phys_count - v->offset >= *v->cval;
}

uint64_t arm_timer_read(struct arm_cpu *cpu, enum arm_timer_reg reg)
{
    uint64_t now = arm_timer_count();
    bool virt = reg == ARM_CNTV_TVAL || reg == ARM_CNTV_CTL || reg == ARM_CNTV_CVAL;
    struct timer_view v = view(cpu, virt);

    switch (reg) {
    case ARM_CNTFRQ:
        return cpu->timer.cntfrq;
    case ARM_CNTKCTL:
        return cpu->timer.cntkctl;
    case ARM_CNTPCT:
        return now;
    case ARM_CNTVCT:
        return now - cpu->timer.cntvoff;
    case ARM_CNTP_CTL:
    case ARM_CNTV_CTL:
        return (*v.ctl & (CTL_ENABLE | CTL_IMASK)) | (istatus(&v, now) ? CTL_ISTATUS : 0);
    case ARM_CNTP_CVAL:
    case ARM_CNTV_CVAL:
        return *v.cval;
    case ARM_CNTP_TVAL:
    case ARM_CNTV_TVAL:
        /* A signed 32-bit down-counter: CVAL minus the count, truncated. */
        return (uint32_t)(*v.cval - (now - v.offset));
    }
    return 0;
}

void arm_timer_write(struct arm_cpu *cpu, enum arm_timer_reg reg, uint64_t value)
{
    bool virt = reg == ARM_CNTV_TVAL || reg == ARM_CNTV_CTL || reg == ARM_CNTV_CVAL;
    struct timer_view v = view(cpu, virt);

    switch (reg) {
    case ARM_CNTFRQ:
        cpu->timer.cntfrq = (uint32_t)value;
        return;
    case ARM_CNTKCTL:
        cpu->timer.cntkctl = (uint32_t)value & KCTL_WMASK;
        return;
    case ARM_CNTPCT:
    case ARM_CNTVCT:
        return; /* read-only */
    case ARM_CNTP_CTL:
    case ARM_CNTV_CTL:
        *v.ctl = (uint32_t)value & (CTL_ENABLE | CTL_IMASK);
        break;
    case ARM_CNTP_CVAL:
    case ARM_CNTV_CVAL:
        *v.cval = value;
        break;
    case ARM_CNTP_TVAL:
    case ARM_CNTV_TVAL:
        *v.cval = (arm_timer_count() - v.offset) + (uint64_t)(int64_t)(int32_t)(uint32_t)value;
        break;
    }
    arm_timer_update(cpu);
}

static void set_output(struct arm_cpu *cpu, enum arm_timer_output which, bool level)
{
    bool *cur = which == ARM_TIMER_PHYS ? &cpu->timer.p_out : &cpu->timer.v_out;
    struct arm_board *board = cpu->board;

    if (*cur == level) {
        return;
    }
    *cur = level;
    if (board && board->timer_output) {
        board->timer_output(board, cpu, which, level);
    }
}

void arm_timer_update(struct arm_cpu *cpu)
{
    uint64_t now = arm_timer_count();
    int64_t deadline = INT64_MAX;

    for (int virt = 0; virt < 2; virt++) {
        struct timer_view v = view(cpu, virt);
        bool fired = istatus(&v, now);
        bool masked = (*v.ctl & CTL_IMASK) != 0;

        set_output(cpu, virt ? ARM_TIMER_VIRT : ARM_TIMER_PHYS, fired && !masked);
        if ((*v.ctl & CTL_ENABLE) && !masked && !fired) {
            int64_t t = count_to_ns(*v.cval + v.offset);
            if (t < deadline) {
                deadline = t;
            }
        }
    }
    if (cpu->rt) {
        coremu_cpu_set_deadline(cpu->rt, deadline);
    }
}

void arm_timer_reset(struct arm_cpu *cpu)
{
    cpu->timer.cntp_ctl = 0;
    cpu->timer.cntv_ctl = 0;
    set_output(cpu, ARM_TIMER_PHYS, false);
    set_output(cpu, ARM_TIMER_VIRT, false);
    if (cpu->rt) {
        coremu_cpu_set_deadline(cpu->rt, INT64_MAX);
    }
}
