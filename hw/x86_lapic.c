/*
 * coremu — the x86 local APIC. Written from the Intel SDM Vol. 3A chapter 10; what is modelled
 * and the threading design are in x86_lapic.h.
 *
 * Field rules. "Owner" fields are plain: only the APIC's core thread reads or writes them
 * (or another thread while that core runs no guest code: x86_lapic_new before the core runs,
 * a reset with the world stopped). The atomic fields are shared as noted beside each; every
 * access to them is sequentially consistent unless a comment says otherwise, because the
 * argument that no interrupt is lost (below) needs one total order across different words.
 *
 * Signalling. A sender sets the vector's IRR bit, then reads the priority the owner published
 * (ppr_pub), and kicks X86_PENDING_INTR when the vector's class beats it. The owner, whenever
 * its priority or the IRR may have changed (INTA, EOI, TPR, SVR, LVT LINT0, mode), publishes
 * the new priority, then reads the IRR: if something may be taken it sets its own
 * X86_PENDING_INTR, else it clears the bit and reads the IRR once more (a sender's kick may
 * have raced with the clear). Either the sender's read of ppr_pub comes after the owner's
 * store of it in the total order and the sender kicks by the new priority, or the sender's IRR
 * write comes before that store and the owner's later IRR read sees it. So an interrupt that
 * may be taken always ends with X86_PENDING_INTR set, and the bit is only spuriously set in the
 * window where the owner just raised its priority (INTA then answers the spurious vector, as
 * hardware does when the TPR rises between INTR and INTA).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>
#include <coremu/log.h>

#include "cpu.h"
#include "x86_lapic.h"

#define NWORDS 8u /* IRR/ISR/TMR: 256 bits */

/* What the rest of the machine sees of the APIC's mode (IA32_APIC_BASE EN/EXTD). */
enum lapic_mode { MODE_DISABLED = 0, MODE_XAPIC = 1, MODE_X2APIC = 2 };

/* Register indexes: xAPIC offset >> 4, x2APIC MSR - 0x800. */
enum {
    REG_ID = 0x02,
    REG_VERSION = 0x03,
    REG_TPR = 0x08,
    REG_APR = 0x09,
    REG_PPR = 0x0a,
    REG_EOI = 0x0b,
    REG_RRD = 0x0c,
    REG_LDR = 0x0d,
    REG_DFR = 0x0e,
    REG_SVR = 0x0f,
    REG_ISR = 0x10,
    REG_TMR = 0x18,
    REG_IRR = 0x20,
    REG_ESR = 0x28,
    REG_CMCI = 0x2f,
    REG_ICR_LO = 0x30,
    REG_ICR_HI = 0x31,
    REG_LVT_FIRST = 0x32,
    REG_LVT_LAST = 0x37,
    REG_TIMER_INIT = 0x38,
    REG_TIMER_CUR = 0x39,
    REG_TIMER_DIV = 0x3e,
    REG_SELF_IPI = 0x3f,
};

/* LVT entries, in register order from 0x320. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, NLVT };

#define LVT_MASKED         (1u << 16)
#define LVT_TIMER_MODE(v)  (((v) >> 17) & 3u)
#define TIMER_ONESHOT      0u
#define TIMER_PERIODIC     1u
#define TIMER_TSC_DEADLINE 2u
/* Writable bits of each LVT entry: vector, delivery mode (not for timer and error), input
 * polarity and trigger mode (LINT only; remote IRR and delivery status read 0), mask, timer
 * mode. */
static const uint32_t lvt_writable[NLVT] = {
    [LVT_TIMER] = 0x000700ffu, [LVT_THERMAL] = 0x000107ffu, [LVT_PERF] = 0x000107ffu,
    [LVT_LINT0] = 0x0001a7ffu, [LVT_LINT1] = 0x0001a7ffu,   [LVT_ERROR] = 0x000100ffu,
};

#define SVR_ENABLE   (1u << 8)
#define SVR_WRITABLE 0x000003ffu /* vector, enable, focus checking (kept, no effect) */

/* ESR bits */
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER    (1u << 7)

/* ICR */
#define ICR_DEST_LOGICAL  (1u << 11)
#define ICR_LEVEL_ASSERT  (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND(v)  (((v) >> 18) & 3u)
#define ICR_LO_WRITABLE   0x000ccfffu /* the same bits are the only non-reserved ones in x2APIC */
enum { SH_NONE, SH_SELF, SH_ALL_INCL, SH_ALL_EXCL };

#define TIMER_NONE UINT64_MAX

struct x86_lapic {
    /* Immutable after x86_lapic_new. */
    struct coremu_cpu *rt;
    struct x86_lapic_board board;
    uint32_t initial_id;
    bool bsp;

    /* Read by senders of any thread to match destinations; written by the owner. mode is enum
     * lapic_mode; id the xAPIC ID (8 bits) or the x2APIC ID; ldr and dfr the registers as read
     * in xAPIC mode (in x2APIC mode the LDR is derived from the ID and these are unused). A
     * sender that races with the owner's change matches either the old or the new value, as an
     * IPI already on the bus would. */
    _Atomic uint32_t mode;
    _Atomic uint32_t id;
    _Atomic uint32_t ldr;
    _Atomic uint32_t dfr;
    /* The priority below which nothing is signalled: the PPR, or 0xff while software-disabled
     * (no class beats 0xf0). The owner stores it, then re-reads the IRR; a sender reads it
     * after setting its IRR bit (see the top of this file). Lowest-priority arbitration reads
     * it too, from any thread, before any IRR bit is set: a value the owner is about to
     * replace only makes the choice that of a moment earlier. */
    _Atomic uint32_t ppr_pub;

    /* Any thread sets bits (fetch_or); only the owner clears them (INTA: fetch_and; reset). */
    _Alignas(64) _Atomic uint32_t irr[NWORDS];
    /* The acceptor of a vector sets (level) or clears (edge) its bit before setting the IRR
     * bit; the owner reads it at EOI. */
    _Atomic uint32_t tmr[NWORDS];
    /* Errors since the last ESR write: any thread sets bits (fetch_or), the owner takes them
     * (exchange) when the guest writes the ESR. */
    _Atomic uint32_t esr_pending;
    /* 1 when another thread recorded an error whose LVT error interrupt the owner still has
     * to raise: set (store) before the kick, taken (exchange) by the owner. */
    _Atomic uint32_t error_unsignalled;
    /* The ExtINT input (the 8259's INTR): any thread stores it, the owner reads it. */
    _Atomic uint32_t extint;

    /* Owner fields. */
    _Alignas(64) uint64_t apic_base;
    uint32_t isr[NWORDS];
    uint32_t tpr;
    uint32_t svr;
    uint32_t esr; /* latched by the last ESR write */
    uint32_t lvt[NLVT];
    uint32_t icr_lo, icr_hi;
    uint32_t timer_initial;
    uint32_t timer_divide; /* the divide configuration register (bits 0, 1, 3) */
    unsigned timer_shift;  /* log2 of the divide value */
    uint64_t timer_start;  /* TSC when the count was last loaded (periodic: its grid) */
    uint64_t timer_next;   /* TSC of the next expiry, TIMER_NONE for none */
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE, 0 when disarmed */
};

/* ---- helpers ------------------------------------------------------------------------------- */

static int highest_bit(const uint32_t *words)
{
    for (int w = NWORDS - 1; w >= 0; w--) {
        if (words[w] != 0) {
            return w * 32 + 31 - __builtin_clz(words[w]);
        }
    }
    return -1;
}

static int highest_irr(struct x86_lapic *l)
{
    uint32_t copy[NWORDS];
    for (unsigned w = 0; w < NWORDS; w++) {
        copy[w] = atomic_load(&l->irr[w]);
    }
    return highest_bit(copy);
}

static enum lapic_mode mode_of(const struct x86_lapic *l)
{
    return (enum lapic_mode)atomic_load(&((struct x86_lapic *)l)->mode);
}

static bool sw_enabled(const struct x86_lapic *l)
{
    return (l->svr & SVR_ENABLE) != 0;
}

static uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xfu));
}

static uint32_t compute_ppr(const struct x86_lapic *l)
{
    int isrv = highest_bit(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0u;
    return (l->tpr & 0xf0u) >= isr_class ? l->tpr : isr_class;
}

static uint32_t compute_apr(struct x86_lapic *l)
{
    int irrv = highest_irr(l), isrv = highest_bit(l->isr);
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0u;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0u;
    uint32_t tpr_class = l->tpr & 0xf0u;
    if (tpr_class >= irr_class && tpr_class > isr_class) {
        return l->tpr;
    }
    uint32_t apr = tpr_class > isr_class ? tpr_class : isr_class;
    return apr > irr_class ? apr : irr_class;
}

/* Owner: whether LINT0 is the core's INTR input now. */
static bool extint_open(const struct x86_lapic *l)
{
    if (mode_of(l) == MODE_DISABLED) {
        return true;
    }
    uint32_t lint0 = l->lvt[LVT_LINT0];
    return !(lint0 & LVT_MASKED) && ((lint0 >> 8) & 7u) == X86_APIC_DM_EXTINT;
}

/* Owner: whether an interrupt may be taken now (given the priority just published). */
static bool can_signal(struct x86_lapic *l, uint32_t ppr_pub)
{
    if (extint_open(l) && atomic_load(&l->extint) && l->board.extint_ack != NULL) {
        return true;
    }
    if (mode_of(l) == MODE_DISABLED) {
        return false;
    }
    int v = highest_irr(l);
    return v >= 0 && ((uint32_t)v & 0xf0u) > (ppr_pub & 0xf0u);
}

/* Accepts a fixed interrupt into l's IRR and signals l's core if its priority allows. Any
 * thread. */
static void accept(struct x86_lapic *l, unsigned vector, bool level)
{
    if (vector < 16) {
        atomic_fetch_or(&l->esr_pending, ESR_RECV_ILLEGAL_VECTOR);
        atomic_store(&l->error_unsignalled, 1);
        coremu_cpu_kick(l->rt, X86_PENDING_INTR);
        return;
    }
    unsigned w = vector / 32;
    uint32_t bit = 1u << (vector % 32);
    if (level) {
        atomic_fetch_or(&l->tmr[w], bit);
    } else {
        atomic_fetch_and(&l->tmr[w], ~bit);
    }
    atomic_fetch_or(&l->irr[w], bit);
    if ((vector & 0xf0u) > (atomic_load(&l->ppr_pub) & 0xf0u)) {
        coremu_cpu_kick(l->rt, X86_PENDING_INTR);
    }
}

/* Owner: the LVT error interrupt, for errors it found itself. */
static void signal_error(struct x86_lapic *l)
{
    uint32_t lvt = l->lvt[LVT_ERROR];
    if (!(lvt & LVT_MASKED) && (lvt & 0xffu) >= 16) {
        accept(l, lvt & 0xffu, false);
    }
}

static void raise_error(struct x86_lapic *l, uint32_t bits)
{
    atomic_fetch_or(&l->esr_pending, bits);
    signal_error(l);
}

/* Owner: publishes the priority and brings X86_PENDING_INTR up to date (see the top). */
static void update_output(struct x86_lapic *l)
{
    struct coremu_cpu *rt = l->rt;

    if (atomic_load_explicit(&l->error_unsignalled, memory_order_relaxed) &&
        atomic_exchange(&l->error_unsignalled, 0)) {
        signal_error(l);
    }
    uint32_t pub = sw_enabled(l) ? compute_ppr(l) : 0xffu;
    atomic_store(&l->ppr_pub, pub);
    if (can_signal(l, pub)) {
        if (!(atomic_load(&rt->pending) & X86_PENDING_INTR)) {
            coremu_cpu_kick(rt, X86_PENDING_INTR);
        }
        return;
    }
    atomic_fetch_and(&rt->pending, ~(uint32_t)X86_PENDING_INTR);
    if (can_signal(l, pub)) {
        coremu_cpu_kick(rt, X86_PENDING_INTR);
    }
}

static uint64_t tsc_now(struct x86_lapic *l)
{
    if (l->board.tsc_now != NULL) {
        return l->board.tsc_now(l->board.opaque, l);
    }
    return (uint64_t)coremu_clock_ns();
}

/* TSC a reaches b (wrapping arithmetic: the timer's grid may start "before 0"). */
static bool tsc_reached(uint64_t now, uint64_t when)
{
    return (int64_t)(now - when) >= 0;
}

/* ---- timer (owner) ------------------------------------------------------------------------- */

static unsigned timer_mode(const struct x86_lapic *l)
{
    return LVT_TIMER_MODE(l->lvt[LVT_TIMER]);
}

static uint64_t timer_period(const struct x86_lapic *l)
{
    return (uint64_t)l->timer_initial << l->timer_shift;
}

/* Sets the core's deadline to the timer's next expiry. */
static void timer_arm(struct x86_lapic *l)
{
    if (l->timer_next == TIMER_NONE) {
        coremu_cpu_set_deadline(l->rt, INT64_MAX);
        return;
    }
    uint64_t now = tsc_now(l);
    int64_t delta = tsc_reached(now, l->timer_next) ? 0 : (int64_t)(l->timer_next - now);
    int64_t ns = coremu_clock_ns();
    coremu_cpu_set_deadline(l->rt, delta > INT64_MAX - ns ? INT64_MAX : ns + delta);
}

static uint32_t timer_current(struct x86_lapic *l)
{
    if (timer_mode(l) == TIMER_TSC_DEADLINE || l->timer_initial == 0) {
        return 0;
    }
    uint64_t elapsed = (tsc_now(l) - l->timer_start) >> l->timer_shift;
    if (timer_mode(l) == TIMER_PERIODIC) {
        return l->timer_initial - (uint32_t)(elapsed % l->timer_initial);
    }
    return elapsed >= l->timer_initial ? 0 : l->timer_initial - (uint32_t)elapsed;
}

static void timer_fire(struct x86_lapic *l)
{
    uint32_t lvt = l->lvt[LVT_TIMER];
    if (!(lvt & LVT_MASKED)) {
        accept(l, lvt & 0xffu, false);
    }
}

void x86_lapic_timer_expired(struct x86_lapic *l)
{
    uint64_t now = tsc_now(l);
    if (l->timer_next != TIMER_NONE && tsc_reached(now, l->timer_next)) {
        timer_fire(l);
        if (timer_mode(l) == TIMER_TSC_DEADLINE) {
            l->tsc_deadline = 0;
            l->timer_next = TIMER_NONE;
        } else if (timer_mode(l) == TIMER_PERIODIC && l->timer_initial != 0) {
            uint64_t period = timer_period(l);
            uint64_t periods = (now - l->timer_start) / period;
            l->timer_next = l->timer_start + (periods + 1) * period;
        } else {
            l->timer_next = TIMER_NONE;
        }
        update_output(l);
    }
    timer_arm(l);
}

static void timer_write_initial(struct x86_lapic *l, uint32_t count)
{
    if (timer_mode(l) == TIMER_TSC_DEADLINE) {
        return; /* ignored in TSC-deadline mode */
    }
    l->timer_initial = count;
    l->timer_start = tsc_now(l);
    l->timer_next = count ? l->timer_start + timer_period(l) : TIMER_NONE;
    timer_arm(l);
}

static void timer_write_divide(struct x86_lapic *l, uint32_t v)
{
    static const unsigned shifts[8] = {1, 2, 3, 4, 5, 6, 7, 0};
    v &= 0xbu;
    unsigned shift = shifts[(v & 3u) | ((v >> 1) & 4u)];
    bool counting =
        timer_mode(l) != TIMER_TSC_DEADLINE && l->timer_initial != 0 && l->timer_next != TIMER_NONE;
    uint32_t current = counting ? timer_current(l) : 0;
    l->timer_divide = v;
    l->timer_shift = shift;
    if (counting) {
        /* keep the current count; count on at the new rate */
        uint64_t now = tsc_now(l);
        l->timer_start = now - ((uint64_t)(l->timer_initial - current) << shift);
        l->timer_next = l->timer_start + timer_period(l);
        timer_arm(l);
    }
}

static void timer_write_lvt(struct x86_lapic *l, uint32_t v)
{
    unsigned old = timer_mode(l), new = LVT_TIMER_MODE(v);
    l->lvt[LVT_TIMER] = v;
    if ((old == TIMER_TSC_DEADLINE) != (new == TIMER_TSC_DEADLINE)) {
        l->timer_initial = 0;
        l->tsc_deadline = 0;
        l->timer_next = TIMER_NONE;
        timer_arm(l);
    } else if (old != new &&new != TIMER_TSC_DEADLINE && l->timer_initial != 0) {
        /* one-shot <-> periodic while counting: periodic goes on along its grid; one-shot
         * expires at the end of the first period or has expired */
        uint64_t now = tsc_now(l), period = timer_period(l);
        uint64_t periods = (now - l->timer_start) / period;
        if (new == TIMER_PERIODIC) {
            l->timer_next = l->timer_start + (periods + 1) * period;
        } else {
            l->timer_next = periods == 0 ? l->timer_start + period : TIMER_NONE;
        }
        timer_arm(l);
    }
}

static void timer_write_deadline(struct x86_lapic *l, uint64_t v)
{
    if (timer_mode(l) != TIMER_TSC_DEADLINE) {
        return; /* ignored outside TSC-deadline mode */
    }
    l->tsc_deadline = v;
    l->timer_next = v ? v : TIMER_NONE;
    timer_arm(l);
}

/* ---- state --------------------------------------------------------------------------------- */

/* Every register back to its RESET value, except the ID, IA32_APIC_BASE and the mode. */
static void reset_registers(struct x86_lapic *l)
{
    for (unsigned w = 0; w < NWORDS; w++) {
        atomic_store(&l->irr[w], 0);
        atomic_store(&l->tmr[w], 0);
        l->isr[w] = 0;
    }
    atomic_store(&l->esr_pending, 0);
    atomic_store(&l->error_unsignalled, 0);
    l->esr = 0;
    l->tpr = 0;
    l->svr = 0xffu;
    for (unsigned i = 0; i < NLVT; i++) {
        l->lvt[i] = LVT_MASKED;
    }
    l->icr_lo = l->icr_hi = 0;
    l->timer_initial = 0;
    l->timer_divide = 0;
    l->timer_shift = 1;
    l->timer_start = 0;
    l->timer_next = TIMER_NONE;
    l->tsc_deadline = 0;
    uint32_t id = atomic_load(&l->id);
    atomic_store(&l->ldr, mode_of(l) == MODE_X2APIC ? x2apic_ldr(id) : 0);
    atomic_store(&l->dfr, 0xffffffffu);
}

static void reset_power_on(struct x86_lapic *l)
{
    l->apic_base = X86_LAPIC_DEFAULT_BASE | X86_APIC_BASE_EN | (l->bsp ? X86_APIC_BASE_BSP : 0);
    atomic_store(&l->mode, MODE_XAPIC);
    atomic_store(&l->id, l->initial_id & 0xffu);
    reset_registers(l);
    if (l->bsp && l->board.bsp_virtual_wire) {
        l->svr = SVR_ENABLE | 0xffu;
        l->lvt[LVT_LINT0] = (uint32_t)X86_APIC_DM_EXTINT << 8;
        l->lvt[LVT_LINT1] = (uint32_t)X86_APIC_DM_NMI << 8;
    }
}

struct x86_lapic *x86_lapic_new(struct coremu_cpu *rt, uint32_t apic_id, bool bsp,
                                const struct x86_lapic_board *board)
{
    struct x86_lapic *l = aligned_alloc(64, sizeof(*l));
    if (l == NULL) {
        return NULL;
    }
    memset(l, 0, sizeof(*l));
    l->rt = rt;
    l->board = *board;
    if (l->board.phys_bits == 0) {
        l->board.phys_bits = 40;
    }
    l->initial_id = apic_id;
    l->bsp = bsp;
    reset_power_on(l);
    atomic_store(&l->ppr_pub, sw_enabled(l) ? compute_ppr(l) : 0xffu);
    return l;
}

void x86_lapic_free(struct x86_lapic *l)
{
    free(l);
}

void x86_lapic_reset(struct x86_lapic *l)
{
    reset_power_on(l);
    update_output(l);
}

void x86_lapic_init(struct x86_lapic *l)
{
    reset_registers(l);
    update_output(l);
}

struct coremu_cpu *x86_lapic_cpu(const struct x86_lapic *l)
{
    return l->rt;
}

uint64_t x86_lapic_base_msr(const struct x86_lapic *l)
{
    return l->apic_base;
}

/* ---- destinations and IPIs ---------------------------------------------------------------- */

bool x86_lapic_match_dest(const struct x86_lapic *cl, uint32_t dest, bool logical)
{
    struct x86_lapic *l = (struct x86_lapic *)cl;
    enum lapic_mode mode = mode_of(l);
    uint32_t id = atomic_load(&l->id);

    if (mode == MODE_DISABLED) {
        return false;
    }
    if (mode == MODE_X2APIC) {
        if (dest == 0xffffffffu) {
            return true;
        }
        if (!logical) {
            return dest == id;
        }
        uint32_t ldr = x2apic_ldr(id);
        return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffffu) != 0;
    }
    dest &= 0xffu;
    if (dest == 0xffu) {
        return true;
    }
    if (!logical) {
        return dest == (id & 0xffu);
    }
    uint32_t ldr = atomic_load(&l->ldr) >> 24;
    if ((atomic_load(&l->dfr) >> 28) == 0xfu) {
        return (dest & ldr) != 0; /* flat: a bit per APIC */
    }
    /* cluster: cluster number in bits 7:4 (15 addresses every cluster), APIC bits in 3:0 */
    return ((dest >> 4) == 0xfu || (dest >> 4) == (ldr >> 4)) && (dest & ldr & 0xfu) != 0;
}

bool x86_lapic_wins_arbitration(const struct x86_lapic *ca, const struct x86_lapic *cb)
{
    struct x86_lapic *a = (struct x86_lapic *)ca, *b = (struct x86_lapic *)cb;
    if (b == NULL) {
        return true;
    }
    /* The priority each owner last published: a sender cannot stop the other cores to read
     * their PPRs, and a message already on the bus sees them as they were too. */
    uint32_t pa = atomic_load(&a->ppr_pub), pb = atomic_load(&b->ppr_pub);
    if (pa != pb) {
        return pa < pb;
    }
    return atomic_load(&a->id) < atomic_load(&b->id);
}

/* A message with delivery mode dm for target t, on the sender's thread (board: the sender's,
 * which every APIC of the machine shares). */
static void deliver_one(const struct x86_lapic_board *board, struct x86_lapic *t, unsigned dm,
                        unsigned vector, bool level)
{
    if (mode_of(t) == MODE_DISABLED) {
        return;
    }
    switch (dm) {
    case X86_APIC_DM_FIXED:
    case X86_APIC_DM_LOWEST:
        accept(t, vector, level);
        break;
    case X86_APIC_DM_NMI:
        coremu_cpu_kick(t->rt, X86_PENDING_NMI);
        break;
    case X86_APIC_DM_INIT:
        if (board->init != NULL) {
            board->init(board->opaque, t->rt->index);
        } else {
            coremu_cpu_kick(t->rt, X86_PENDING_INIT);
        }
        break;
    case X86_APIC_DM_STARTUP:
        if (board->startup != NULL) {
            board->startup(board->opaque, t->rt->index, (uint8_t)vector);
        }
        break;
    case X86_APIC_DM_EXTINT:
        x86_lapic_set_extint(t, true);
        break;
    default:
        break; /* SMI (no SMM), remote read (obsolete) */
    }
}

void x86_lapic_deliver(struct x86_lapic *l, uint8_t vector, bool level_triggered)
{
    deliver_one(&l->board, l, X86_APIC_DM_FIXED, vector, level_triggered);
}

void x86_lapic_deliver_mode(struct x86_lapic *l, unsigned mode, uint8_t vector,
                            bool level_triggered)
{
    deliver_one(&l->board, l, mode & 7u, vector, level_triggered);
}

void x86_lapic_set_extint(struct x86_lapic *l, bool level)
{
    atomic_store(&l->extint, level ? 1u : 0u);
    if (level) {
        coremu_cpu_kick(l->rt, X86_PENDING_INTR);
    }
}

/* Owner: the ICR was written (xAPIC: ICR low; x2APIC: the whole ICR). */
static void send_ipi(struct x86_lapic *l, uint32_t lo, uint32_t dest)
{
    unsigned vector = lo & 0xffu, dm = (lo >> 8) & 7u, shorthand = ICR_SHORTHAND(lo);
    bool logical = (lo & ICR_DEST_LOGICAL) != 0;

    if (dm == X86_APIC_DM_INIT && !(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL)) {
        return; /* INIT level de-assert: only synchronises arbitration IDs, which we lack */
    }
    if (dm == X86_APIC_DM_SMI || dm == X86_APIC_DM_REMOTE_READ || dm == X86_APIC_DM_EXTINT) {
        return;
    }
    if ((dm == X86_APIC_DM_FIXED || dm == X86_APIC_DM_LOWEST) && vector < 16) {
        raise_error(l, ESR_SEND_ILLEGAL_VECTOR);
        update_output(l);
        return;
    }
    if (shorthand == SH_SELF) {
        if (dm == X86_APIC_DM_FIXED || dm == X86_APIC_DM_LOWEST || dm == X86_APIC_DM_NMI) {
            deliver_one(&l->board, l, dm, vector, false);
            update_output(l);
        }
        return;
    }
    if (l->board.lapic_of == NULL) {
        return;
    }
    unsigned ncpus = l->rt->machine->ncpus;
    struct x86_lapic *lowest = NULL;
    for (unsigned i = 0; i < ncpus; i++) {
        struct x86_lapic *t = l->board.lapic_of(l->board.opaque, i);
        if (t == NULL) {
            continue;
        }
        bool target = shorthand == SH_ALL_INCL || (shorthand == SH_ALL_EXCL && t != l) ||
                      (shorthand == SH_NONE && x86_lapic_match_dest(t, dest, logical));
        if (!target) {
            continue;
        }
        if (dm == X86_APIC_DM_LOWEST) {
            if (mode_of(t) != MODE_DISABLED && x86_lapic_wins_arbitration(t, lowest)) {
                lowest = t;
            }
            continue;
        }
        deliver_one(&l->board, t, dm, vector, false);
    }
    if (lowest != NULL) {
        deliver_one(&l->board, lowest, dm, vector, false);
    }
    update_output(l);
}

/* ---- INTA, EOI, TPR ------------------------------------------------------------------------ */

int x86_lapic_ack(struct x86_lapic *l)
{
    if (extint_open(l) && atomic_load(&l->extint) && l->board.extint_ack != NULL) {
        int v = l->board.extint_ack(l->board.opaque, l);
        if (v >= 0) {
            update_output(l);
            return v;
        }
    }
    int v = mode_of(l) == MODE_DISABLED || !sw_enabled(l) ? -1 : highest_irr(l);
    if (v < 0) {
        update_output(l);
        return -1;
    }
    if (((uint32_t)v & 0xf0u) <= (compute_ppr(l) & 0xf0u)) {
        update_output(l);
        return (int)(l->svr & 0xffu);
    }
    atomic_fetch_and(&l->irr[v / 32], ~(1u << (v % 32)));
    l->isr[v / 32] |= 1u << (v % 32);
    update_output(l);
    return v;
}

static void eoi(struct x86_lapic *l)
{
    int v = highest_bit(l->isr);
    if (v < 0) {
        return;
    }
    l->isr[v / 32] &= ~(1u << (v % 32));
    if ((atomic_load(&l->tmr[v / 32]) & (1u << (v % 32))) && l->board.eoi_broadcast != NULL) {
        l->board.eoi_broadcast(l->board.opaque, l, (uint8_t)v);
    }
    update_output(l);
}

void x86_lapic_tpr_write(struct x86_lapic *l, uint64_t cr8)
{
    l->tpr = (uint32_t)(cr8 & 0xfu) << 4;
    update_output(l);
}

uint64_t x86_lapic_tpr_read(const struct x86_lapic *l)
{
    return l->tpr >> 4;
}

/* ---- registers ----------------------------------------------------------------------------- */

static void write_svr(struct x86_lapic *l, uint32_t v)
{
    l->svr = v & SVR_WRITABLE;
    if (!sw_enabled(l)) {
        for (unsigned i = 0; i < NLVT; i++) {
            l->lvt[i] |= LVT_MASKED;
        }
    }
    update_output(l);
}

static void write_lvt(struct x86_lapic *l, unsigned index, uint32_t v)
{
    v &= lvt_writable[index];
    if (!sw_enabled(l)) {
        v |= LVT_MASKED;
    }
    if (index == LVT_TIMER) {
        timer_write_lvt(l, v);
    } else {
        l->lvt[index] = v;
    }
    update_output(l);
}

/* Reads register reg (common to both modes; the mode-specific ones are handled by the
 * callers). False: no such register. */
static bool read_common(struct x86_lapic *l, unsigned reg, uint32_t *v)
{
    if (reg >= REG_ISR && reg < REG_ISR + NWORDS) {
        *v = l->isr[reg - REG_ISR];
    } else if (reg >= REG_TMR && reg < REG_TMR + NWORDS) {
        *v = atomic_load(&l->tmr[reg - REG_TMR]);
    } else if (reg >= REG_IRR && reg < REG_IRR + NWORDS) {
        *v = atomic_load(&l->irr[reg - REG_IRR]);
    } else if (reg >= REG_LVT_FIRST && reg <= REG_LVT_LAST) {
        *v = l->lvt[reg - REG_LVT_FIRST];
    } else {
        switch (reg) {
        case REG_VERSION:
            *v = X86_LAPIC_VERSION;
            break;
        case REG_TPR:
            *v = l->tpr;
            break;
        case REG_PPR:
            *v = compute_ppr(l);
            break;
        case REG_SVR:
            *v = l->svr;
            break;
        case REG_ESR:
            *v = l->esr;
            break;
        case REG_TIMER_INIT:
            *v = l->timer_initial;
            break;
        case REG_TIMER_CUR:
            *v = timer_current(l);
            break;
        case REG_TIMER_DIV:
            *v = l->timer_divide;
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Writes register reg (common to both modes). False: not a writable register of both. */
static bool write_common(struct x86_lapic *l, unsigned reg, uint32_t v)
{
    if (reg >= REG_LVT_FIRST && reg <= REG_LVT_LAST) {
        write_lvt(l, reg - REG_LVT_FIRST, v);
        return true;
    }
    switch (reg) {
    case REG_TPR:
        l->tpr = v & 0xffu;
        update_output(l);
        return true;
    case REG_EOI:
        eoi(l);
        return true;
    case REG_SVR:
        write_svr(l, v);
        return true;
    case REG_ESR:
        l->esr = atomic_exchange(&l->esr_pending, 0);
        return true;
    case REG_TIMER_INIT:
        timer_write_initial(l, v);
        return true;
    case REG_TIMER_DIV:
        timer_write_divide(l, v);
        return true;
    default:
        return false;
    }
}

static bool read_only_common(unsigned reg)
{
    return reg == REG_VERSION || reg == REG_PPR || reg == REG_TIMER_CUR ||
           (reg >= REG_ISR && reg < REG_IRR + NWORDS);
}

static uint32_t xapic_read(struct x86_lapic *l, unsigned reg)
{
    uint32_t v = 0;
    switch (reg) {
    case REG_ID:
        return atomic_load(&l->id) << 24;
    case REG_APR:
        return compute_apr(l);
    case REG_EOI:
    case REG_RRD:
        return 0;
    case REG_LDR:
        return atomic_load(&l->ldr);
    case REG_DFR:
        return atomic_load(&l->dfr);
    case REG_ICR_LO:
        return l->icr_lo;
    case REG_ICR_HI:
        return l->icr_hi;
    default:
        if (!read_common(l, reg, &v)) {
            raise_error(l, ESR_ILLEGAL_REGISTER);
            update_output(l);
        }
        return v;
    }
}

static void xapic_write(struct x86_lapic *l, unsigned reg, uint32_t v)
{
    switch (reg) {
    case REG_ID:
        atomic_store(&l->id, v >> 24);
        return;
    case REG_LDR:
        atomic_store(&l->ldr, v & 0xff000000u);
        return;
    case REG_DFR:
        atomic_store(&l->dfr, (v & 0xf0000000u) | 0x0fffffffu);
        return;
    case REG_ICR_LO:
        l->icr_lo = v & ICR_LO_WRITABLE;
        send_ipi(l, l->icr_lo, l->icr_hi >> 24);
        return;
    case REG_ICR_HI:
        l->icr_hi = v & 0xff000000u;
        return;
    case REG_APR:
    case REG_RRD:
        return;
    default:
        if (read_only_common(reg) || write_common(l, reg, v)) {
            return;
        }
        raise_error(l, ESR_ILLEGAL_REGISTER);
        update_output(l);
    }
}

int x86_lapic_mmio_read(struct x86_lapic *l, uint64_t offset, unsigned size, uint64_t *value)
{
    *value = 0;
    if (mode_of(l) != MODE_XAPIC || offset >= X86_LAPIC_MMIO_SIZE) {
        return 0;
    }
    unsigned within = (unsigned)offset & 0xfu;
    if (within + size > 4) {
        return 0; /* the upper 12 bytes of each 16-byte slot read as 0 */
    }
    uint32_t v = xapic_read(l, (unsigned)offset >> 4);
    *value = (v >> (8 * within)) & (size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
    return 0;
}

int x86_lapic_mmio_write(struct x86_lapic *l, uint64_t offset, unsigned size, uint64_t value)
{
    if (mode_of(l) != MODE_XAPIC || offset >= X86_LAPIC_MMIO_SIZE || size != 4 ||
        (offset & 0xfu) != 0) {
        if (mode_of(l) == MODE_XAPIC) {
            coremu_log(COREMU_LOG_GUEST_ERRORS, "lapic: %u-byte write at offset 0x%llx ignored\n",
                       size, (unsigned long long)offset);
        }
        return 0;
    }
    xapic_write(l, (unsigned)offset >> 4, (uint32_t)value);
    return 0;
}

/* ---- MSRs ---------------------------------------------------------------------------------- */

static bool write_apic_base(struct x86_lapic *l, uint64_t v)
{
    uint64_t reserved = 0xffu | (1u << 9) | ~((1ull << l->board.phys_bits) - 1);
    if (v & reserved) {
        return false;
    }
    bool en = (v & X86_APIC_BASE_EN) != 0, extd = (v & X86_APIC_BASE_EXTD) != 0;
    enum lapic_mode old = mode_of(l);
    enum lapic_mode new = !en ? MODE_DISABLED : extd ? MODE_X2APIC : MODE_XAPIC;
    if ((!en && extd) || (old == MODE_X2APIC && new == MODE_XAPIC) ||
        (old == MODE_DISABLED && new == MODE_X2APIC)) {
        return false; /* invalid state or transition (SDM table 10-5 / figure 10-27) */
    }
    l->apic_base = (v & ~(uint64_t)0xfffu) | (v & (X86_APIC_BASE_EN | X86_APIC_BASE_EXTD)) |
                   (l->bsp ? X86_APIC_BASE_BSP : 0);
    if (new == old) {
        return true;
    }
    if (new == MODE_DISABLED) {
        /* the state is lost: re-enabling finds the power-up state */
        atomic_store(&l->mode, MODE_DISABLED);
        atomic_store(&l->id, l->initial_id & 0xffu);
        reset_registers(l);
        coremu_cpu_set_deadline(l->rt, INT64_MAX);
    } else if (new == MODE_X2APIC) {
        atomic_store(&l->id, l->initial_id);
        atomic_store(&l->ldr, x2apic_ldr(l->initial_id));
        atomic_store(&l->mode, MODE_X2APIC);
    } else {
        atomic_store(&l->mode, MODE_XAPIC);
    }
    update_output(l);
    return true;
}

static bool x2apic_read(struct x86_lapic *l, unsigned reg, uint64_t *value)
{
    uint32_t v = 0;
    switch (reg) {
    case REG_ID:
        *value = atomic_load(&l->id);
        return true;
    case REG_LDR:
        *value = atomic_load(&l->ldr);
        return true;
    case REG_ICR_LO:
        *value = ((uint64_t)l->icr_hi << 32) | l->icr_lo;
        return true;
    default:
        if (!read_common(l, reg, &v)) {
            return false; /* APR, EOI, RRD, DFR, ICR high, SELF IPI, CMCI, reserved */
        }
        *value = v;
        return true;
    }
}

static bool x2apic_write(struct x86_lapic *l, unsigned reg, uint64_t v)
{
    if (reg == REG_ICR_LO) {
        if ((uint32_t)v & ~ICR_LO_WRITABLE) {
            return false;
        }
        l->icr_lo = (uint32_t)v;
        l->icr_hi = (uint32_t)(v >> 32);
        send_ipi(l, l->icr_lo, l->icr_hi);
        return true;
    }
    if (v >> 32) {
        return false;
    }
    switch (reg) {
    case REG_EOI:
    case REG_ESR:
        if (v != 0) {
            return false;
        }
        return write_common(l, reg, (uint32_t)v);
    case REG_SELF_IPI:
        if (v & ~(uint64_t)0xffu) {
            return false;
        }
        accept(l, (unsigned)v, false);
        update_output(l);
        return true;
    default:
        return write_common(l, reg, (uint32_t)v); /* read-only or absent: #GP */
    }
}

bool x86_lapic_msr_read(struct x86_lapic *l, uint32_t msr, uint64_t *value)
{
    if (msr == X86_MSR_APIC_BASE) {
        *value = l->apic_base;
        return true;
    }
    if (msr == X86_MSR_TSC_DEADLINE) {
        *value = timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
        return true;
    }
    if (msr < X86_MSR_X2APIC_FIRST || msr > X86_MSR_X2APIC_LAST || mode_of(l) != MODE_X2APIC) {
        return false;
    }
    return x2apic_read(l, msr - X86_MSR_X2APIC_FIRST, value);
}

bool x86_lapic_msr_write(struct x86_lapic *l, uint32_t msr, uint64_t value)
{
    if (msr == X86_MSR_APIC_BASE) {
        return write_apic_base(l, value);
    }
    if (msr == X86_MSR_TSC_DEADLINE) {
        timer_write_deadline(l, value);
        return true;
    }
    if (msr < X86_MSR_X2APIC_FIRST || msr > X86_MSR_X2APIC_LAST || mode_of(l) != MODE_X2APIC) {
        return false;
    }
    return x2apic_write(l, msr - X86_MSR_X2APIC_FIRST, value);
}
