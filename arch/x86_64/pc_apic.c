/*
 * coremu x86_64 — the PC's interrupt wiring: a local APIC per core, the I/O APIC, the ISA
 * interrupt lines, and the INIT / STARTUP start-up of the application processors.
 *
 * Interrupt paths (Intel SDM Vol. 3A ch. 10 and the MP/ACPI description of a PC):
 *   ISA device --line--> isa_line_set --+--> 8259 pair --INTR--> core 0's LAPIC LINT0 (ExtINT)
 *                                        +--> I/O APIC input --message--> matching LAPICs
 * Every ISA line reaches both controllers, as on a PC: the guest decides which one it uses by
 * masking the other (Linux masks the 8259 once it switches to the I/O APIC). IRQ0 is the I/O
 * APIC's input 2 (the MADT's interrupt source override), every other IRQ its own number. IRQ0
 * and IRQ8 have a second source, the HPET's legacy replacement route; while the HPET is in
 * legacy mode the PIT and the RTC are disconnected from them, as the HPET specification says.
 *
 * A core takes interrupts through its LAPIC only: the core's intr_ack is x86_lapic_ack, which
 * gives the LAPIC's vector or, for ExtINT, the 8259's (extint_ack). The LAPIC's registers are
 * reached from the core's own thread (its MMIO page and MSRs), so the page at 0xFEE00000 is one
 * region whose handlers find the LAPIC of the calling core (coremu_cpu_self).
 *
 * The xAPIC page of each core is where its IA32_APIC_BASE puts it (SDM 10.4.5: each processor
 * may map its APIC registers elsewhere). The address space is one for all cores, so a page
 * that some core's APIC uses is a "window" region there, whose handlers answer for the calling
 * core's APIC only when that APIC is in xAPIC mode at that very page, and otherwise answer as
 * the unassigned memory that the page is for that core (reads all ones, writes dropped): a
 * core reaches only its own APIC, at its own base, as on hardware. The window at 0xFEE00000
 * always exists; others are added when a core moves its base to them and removed when the
 * last core leaves. A base on RAM, ROM or another device cannot have a window (regions do not
 * overlap): the move is logged as unimplemented, and that core's APIC is then reachable
 * through its MSRs only. A globally disabled APIC (IA32_APIC_BASE.EN clear) or one in x2APIC
 * mode has no MMIO at all, as the SDM says (10.4.3, 10.12.2).
 *
 * Start-up. Every core but 0 starts off. An INIT IPI to an application processor resets its
 * LAPIC and makes it wait for a STARTUP IPI (an INIT to core 0, the bootstrap processor, is a
 * machine reset instead: init_bsp says why): at once when the target is off; through an event on
 * the target's thread when it runs (the target then powers itself off at that block boundary, so no
 * guest instruction runs after the INIT). A STARTUP that overtakes that event is kept and starts
 * the core as soon as the event has stopped it (Linux sends STARTUP without the SDM's 10 ms wait
 * after INIT on current processors). A STARTUP IPI to a waiting core powers it on: pc_cpu_run
 * resets it (the state after INIT is the state after RESET but for the LAPIC) and pc_apic_power_on
 * starts it in real mode at CS = vector << 8, IP = 0, as the SDM's MP initialisation protocol
 * describes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/board.h>
#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/physmem.h>

#include "cpu.h"
#include "hpet.h"
#include "i8259.h"
#include "ioapic.h"
#include "pc_internal.h"
#include "x86_lapic.h"

#define PC_IOAPIC_BASE 0xfec00000u

/* ---- ISA lines ------------------------------------------------------------------------------ */

static unsigned isa_gsi(unsigned irq)
{
    return irq == 0 ? 2u : irq;
}

static void isa_line_set(void *opaque, bool level)
{
    struct pc_isa_input *in = opaque;
    struct pc_board *pc = in->pc;
    unsigned irq = in->irq;
    uint8_t bit = (uint8_t)(1u << in->source);

    /* Asked before isa_lock: the HPET drives its lines with its own lock held, so its lock
     * comes before isa_lock and must not be taken inside it. */
    if (level && in->source == PC_ISA_DEVICE && (irq == 0 || irq == 8) && pc->hpet &&
        hpet_legacy_mode(pc->hpet)) {
        level = false;
    }
    pthread_mutex_lock(&pc->isa_lock);
    if (level) {
        pc->isa_sources[irq] |= bit;
    } else {
        pc->isa_sources[irq] &= (uint8_t)~bit;
    }
    bool out = pc->isa_sources[irq] != 0;
    if (out != pc->isa_level[irq]) {
        pc->isa_level[irq] = out;
        i8259_set_irq(pc->pic, irq, out);
        ioapic_set_irq(pc->ioapic, isa_gsi(irq), out);
    }
    pthread_mutex_unlock(&pc->isa_lock);
}

struct coremu_irq_line pc_isa_irq(struct pc_board *pc, unsigned irq, enum pc_isa_source source)
{
    if (irq >= PC_ISA_IRQS || irq == I8259_CASCADE_IRQ || source >= PC_ISA_SOURCES) {
        return (struct coremu_irq_line){NULL, NULL};
    }
    return (struct coremu_irq_line){isa_line_set, &pc->isa_inputs[irq][source]};
}

struct coremu_irq_line pc_gsi_line(struct pc_board *pc, unsigned gsi)
{
    return ioapic_irq_line(pc->ioapic, gsi);
}

/* ---- the I/O APIC --------------------------------------------------------------------------- */

/* An interrupt message (the I/O APIC's, an MSI) to every LAPIC it addresses (lowest priority:
 * to the one that wins the arbitration among them, x86_lapic_wins_arbitration). */
void pc_apic_deliver(struct pc_board *pc, uint8_t dest, bool dest_logical, unsigned mode,
                     uint8_t vector, bool level_triggered)
{
    struct x86_lapic *lowest = NULL;
    for (unsigned i = 0; i < pc->ncpus; i++) {
        struct x86_lapic *lapic = pc->lapics ? pc->lapics[i] : NULL;
        if (!lapic || !x86_lapic_match_dest(lapic, dest, dest_logical)) {
            continue;
        }
        if (mode == X86_APIC_DM_LOWEST) {
            if (x86_lapic_wins_arbitration(lapic, lowest)) {
                lowest = lapic;
            }
        } else if (mode == X86_APIC_DM_FIXED) {
            x86_lapic_deliver(lapic, vector, level_triggered);
        } else {
            x86_lapic_deliver_mode(lapic, mode, vector, level_triggered);
        }
    }
    if (lowest != NULL) {
        x86_lapic_deliver(lowest, vector, level_triggered);
    }
}

/* Called after the I/O APIC dropped its lock. */
static void ioapic_deliver(void *opaque, uint8_t dest, bool dest_logical, unsigned mode,
                           uint8_t vector, bool level_triggered)
{
    pc_apic_deliver(opaque, dest, dest_logical, mode, vector, level_triggered);
}

static void ioapic_reset_hook(void *opaque)
{
    ioapic_reset(opaque);
}

static void ioapic_free_hook(void *opaque)
{
    ioapic_free(opaque);
}

int pc_apic_create_ioapic(struct pc_board *pc, uint8_t id, char *err, size_t errlen)
{
    if (pthread_mutex_init(&pc->isa_lock, NULL) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_mutex_init(&pc->sipi_lock, NULL) != 0) {
        pthread_mutex_destroy(&pc->isa_lock);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    pc->isa_lock_ready = true;
    for (unsigned irq = 0; irq < PC_ISA_IRQS; irq++) {
        for (unsigned s = 0; s < PC_ISA_SOURCES; s++) {
            pc->isa_inputs[irq][s] = (struct pc_isa_input){pc, (uint8_t)irq, (uint8_t)s};
        }
    }
    pc->ioapic = ioapic_new("ioapic", id, ioapic_deliver, pc);
    if (!pc->ioapic || coremu_board_add_device(pc->board, "ioapic", pc->ioapic, ioapic_reset_hook,
                                               ioapic_free_hook) != 0) {
        if (pc->ioapic) {
            ioapic_free(pc->ioapic);
            pc->ioapic = NULL;
        }
        snprintf(err, errlen, "cannot create the I/O APIC: out of memory");
        return -1;
    }
    if (ioapic_map(pc->ioapic, pc->as, PC_IOAPIC_BASE) != 0) {
        snprintf(err, errlen, "cannot map the I/O APIC");
        return -1;
    }
    return 0;
}

/* ---- the local APICs' board ----------------------------------------------------------------- */

static struct x86_cpu *cpu_of_lapic(struct pc_board *pc, struct x86_lapic *lapic)
{
    return pc->cpus[x86_lapic_cpu(lapic)->index];
}

static uint64_t lapic_tsc_now(void *opaque, struct x86_lapic *lapic)
{
    return x86_tsc(cpu_of_lapic(opaque, lapic));
}

static struct x86_lapic *lapic_of(void *opaque, unsigned cpu_index)
{
    struct pc_board *pc = opaque;
    return cpu_index < pc->ncpus ? pc->lapics[cpu_index] : NULL;
}

static void lapic_eoi_broadcast(void *opaque, struct x86_lapic *lapic, uint8_t vector)
{
    struct pc_board *pc = opaque;
    (void)lapic;
    ioapic_eoi(pc->ioapic, vector);
}

/* INTA of ExtINT: the 8259's vector (its spurious IRQ 7 when the request went away). */
static int lapic_extint_ack(void *opaque, struct x86_lapic *lapic)
{
    struct pc_board *pc = opaque;
    (void)lapic;
    return i8259_ack(pc->pic);
}

/* Takes a STARTUP that the core's start-up state accepts (under sipi_lock). -1: none. */
static int take_startup_locked(struct pc_board *pc, unsigned index, int vector)
{
    struct pc_sipi *st = &pc->sipi[index];
    switch (st->state) {
    case PC_SIPI_WAIT:
        st->state = PC_SIPI_IDLE;
        return vector;
    case PC_SIPI_INIT_PENDING:
        /* The INIT has not stopped the core yet: its event starts the core when it has. */
        if (st->latched < 0) {
            st->latched = vector;
        }
        return -1;
    default:
        return -1; /* a STARTUP without an INIT before it is ignored, as by a running core */
    }
}

static void start_core(struct pc_board *pc, unsigned index, int vector)
{
    COREMU_LOG(COREMU_LOG_INT, "cpu%u: STARTUP at %05x\n", index, (unsigned)vector << 12);
    coremu_cpu_power_on(pc->machine->cpus[index], (uint64_t)vector, PC_POWER_ON_SIPI);
}

/* On the INIT's target thread, when it was running: the LAPIC's INIT, no further guest
 * instruction, then the wait for a STARTUP, or the start-up by one that came meanwhile. */
static void init_on_target(struct coremu_cpu *rt, void *arg)
{
    struct pc_board *pc = arg;
    unsigned index = rt->index;
    x86_lapic_init(pc->lapics[index]);
    coremu_cpu_power_off_self(rt);
    pthread_mutex_lock(&pc->sipi_lock);
    struct pc_sipi *st = &pc->sipi[index];
    int vector = st->latched;
    st->latched = -1;
    st->state = vector >= 0 ? PC_SIPI_IDLE : PC_SIPI_WAIT;
    pthread_mutex_unlock(&pc->sipi_lock);
    if (vector >= 0) {
        /* The core is off now (the loop leaves at this boundary): the power-on restarts it. */
        start_core(pc, index, vector);
    }
}

/* An INIT to the bootstrap processor. The SDM (Vol. 3A 8.4.1, "BSP and AP Processors"): the MP
 * initialisation protocol runs only after power-up or RESET; a later INIT makes each processor
 * look at the BSP flag of its IA32_APIC_BASE, and the BSP then runs the firmware's bootstrap
 * code from the reset vector while an AP enters wait-for-SIPI. So the BSP never waits for a
 * STARTUP (it did here, like an AP, until another core's STARTUP restarted it). This PC has no
 * firmware at the reset vector: its bootstrap is the board's reset, which loads and enters the
 * -kernel image again. A PC BIOS entered at the reset vector on a warm machine with no
 * shutdown code in the CMOS (register 0x0F) reboots it, which is what QEMU's SeaBIOS does too;
 * so the INIT is a machine reset here, or the exit with -no-reboot. (The shutdown codes that
 * make a BIOS resume at the real-mode vector at 40:67 are firmware, which this PC lacks.) */
static void init_bsp(struct pc_board *pc)
{
    COREMU_LOG(COREMU_LOG_INT, "cpu0: INIT to the bootstrap processor: its firmware's reset\n");
    pc_system_reset(pc);
}

static void lapic_init(void *opaque, unsigned cpu_index)
{
    struct pc_board *pc = opaque;
    if (cpu_index >= pc->ncpus) {
        return;
    }
    if (cpu_index == 0) {
        init_bsp(pc); /* core 0 is the BSP: its LAPIC has the BSP flag (pc_apic_create_lapics) */
        return;
    }
    struct coremu_cpu *target = pc->machine->cpus[cpu_index];
    COREMU_LOG(COREMU_LOG_INT, "cpu%u: INIT\n", cpu_index);
    pthread_mutex_lock(&pc->sipi_lock);
    struct pc_sipi *st = &pc->sipi[cpu_index];
    if (st->state == PC_SIPI_INIT_PENDING) {
        pthread_mutex_unlock(&pc->sipi_lock); /* the event on its way does it */
        return;
    }
    if (atomic_load_explicit(&target->power, memory_order_acquire) == COREMU_CPU_OFF) {
        /* An application processor that never ran, or was stopped by an earlier INIT: it runs
         * no guest code, and only a STARTUP, which finds it waiting here, could start it. */
        x86_lapic_init(pc->lapics[cpu_index]);
        st->state = PC_SIPI_WAIT;
        pthread_mutex_unlock(&pc->sipi_lock);
        return;
    }
    st->state = PC_SIPI_INIT_PENDING;
    st->latched = -1;
    pthread_mutex_unlock(&pc->sipi_lock);
    if (!coremu_cpu_run_async(target, init_on_target, pc)) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "cpu%u: INIT not delivered (machine exiting)\n",
                   cpu_index);
    }
}

static void lapic_startup(void *opaque, unsigned cpu_index, uint8_t vector)
{
    struct pc_board *pc = opaque;
    if (cpu_index >= pc->ncpus) {
        return;
    }
    pthread_mutex_lock(&pc->sipi_lock);
    int start = take_startup_locked(pc, cpu_index, vector);
    pthread_mutex_unlock(&pc->sipi_lock);
    if (start >= 0) {
        start_core(pc, cpu_index, start);
    }
}

/* ---- the xAPIC pages ------------------------------------------------------------------------ */

/* One page of the address space where some core's xAPIC is, or was (see the top of the file). */
struct lapic_window {
    struct lapic_windows *all; /* immutable */
    uint64_t base;             /* immutable */
    /* The cores whose IA32_APIC_BASE points here, whether enabled or not (under all->lock).
     * The default window is never removed, whatever its count. */
    unsigned users;
    bool mapped;               /* a region of the address space now (under all->lock) */
    struct lapic_window *next; /* all->list, under all->lock */
};

/* Every window of the board, found through the default window's region. */
struct lapic_windows {
    struct pc_board *pc;
    /* Taken by a core that writes IA32_APIC_BASE (its own thread) and by the machine reset
     * (the world stopped); never on the access path, which reads only immutable fields and
     * the calling core's own IA32_APIC_BASE. */
    pthread_mutex_t lock;
    struct lapic_window *list; /* the default window first; entries live until the board's
                                  free, so an access that found a removed region is safe */
    struct lapic_window **at;  /* per core: the window of its base, NULL when it has none
                                  (under lock) */
};

/* The page an IA32_APIC_BASE value names (the LAPIC refuses bits above the physical address
 * width, so bits 12 up are the whole address). */
static uint64_t xapic_page(uint64_t apic_base)
{
    return apic_base & ~0xfffull;
}

/* The LAPIC of the core making the access when it answers at window w: that core's APIC in
 * xAPIC mode with its base at w. NULL for any other core, and for any other thread (nothing
 * but cores reaches the page: there is no DMA into it). */
static struct x86_lapic *lapic_at(const struct lapic_window *w)
{
    struct pc_board *pc = w->all->pc;
    struct coremu_cpu *self = coremu_cpu_self();
    if (!self || self->machine != pc->machine || self->index >= pc->ncpus) {
        return NULL;
    }
    struct x86_lapic *lapic = pc->lapics[self->index];
    /* the owner's own IA32_APIC_BASE: the calling thread is the owner */
    uint64_t base = x86_lapic_base_msr(lapic);
    if ((base & (X86_APIC_BASE_EN | X86_APIC_BASE_EXTD)) != X86_APIC_BASE_EN ||
        xapic_page(base) != w->base) {
        return NULL;
    }
    return lapic;
}

static int xapic_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct x86_lapic *lapic = lapic_at(opaque);
    if (!lapic) {
        *value = 0;
        return COREMU_MEM_UNMAPPED; /* not this core's APIC: unassigned memory for it */
    }
    return x86_lapic_mmio_read(lapic, offset, size, value);
}

static int xapic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct x86_lapic *lapic = lapic_at(opaque);
    if (!lapic) {
        return COREMU_MEM_UNMAPPED;
    }
    return x86_lapic_mmio_write(lapic, offset, size, value);
}

static const struct coremu_mmio_ops xapic_ops = {
    .read = xapic_read,
    .write = xapic_write,
    .sizes = 1 | 2 | 4 | 8,
    .allow_unaligned = true,
};

static void lapic_reset_hook(void *opaque)
{
    x86_lapic_reset(opaque);
}

/* Takes a core off window w (under all->lock): the last one out removes a window other than
 * the default from the address space. */
static void window_leave(struct lapic_windows *all, struct lapic_window *w)
{
    if (w == NULL || --w->users > 0 || w == all->list || !w->mapped) {
        return;
    }
    (void)coremu_as_remove(all->pc->as, w->base);
    w->mapped = false;
}

/* Core index's IA32_APIC_BASE now points at page base (its own thread, or the world stopped):
 * the window there, made if needed. */
static void window_move(struct lapic_windows *all, unsigned index, uint64_t base)
{
    pthread_mutex_lock(&all->lock);
    struct lapic_window *old = all->at[index];
    if (old != NULL && old->base == base) {
        pthread_mutex_unlock(&all->lock);
        return;
    }
    struct lapic_window *w = all->list;
    while (w != NULL && w->base != base) {
        w = w->next;
    }
    if (w == NULL) {
        w = calloc(1, sizeof(*w));
        if (w != NULL) {
            w->all = all;
            w->base = base;
            w->next = all->list->next; /* the default window stays first */
            all->list->next = w;
        }
    }
    if (w != NULL && !w->mapped) {
        w->mapped = coremu_as_add_mmio(all->pc->as, "lapic", base, X86_LAPIC_MMIO_SIZE, &xapic_ops,
                                       w, COREMU_MMIO_LOCKLESS) == 0;
    }
    if (w == NULL || !w->mapped) {
        COREMU_LOG(COREMU_LOG_UNIMP,
                   "cpu%u: the xAPIC page at %#llx overlaps memory or a device: its registers "
                   "are reachable through the MSRs only\n",
                   index, (unsigned long long)base);
        w = NULL;
    } else {
        w->users++;
    }
    window_leave(all, old);
    all->at[index] = w;
    pthread_mutex_unlock(&all->lock);
}

static struct lapic_windows *windows_of(struct pc_board *pc)
{
    const struct coremu_region *r = coremu_as_lookup(pc->as, X86_LAPIC_DEFAULT_BASE);
    return ((const struct lapic_window *)r->opaque)->all;
}

/* Machine reset (nothing runs): every APIC is back at 0xFEE00000. */
static void windows_reset_hook(void *opaque)
{
    struct lapic_windows *all = opaque;
    for (unsigned i = 0; i < all->pc->ncpus; i++) {
        window_move(all, i, X86_LAPIC_DEFAULT_BASE);
    }
}

static void windows_free_hook(void *opaque)
{
    struct lapic_windows *all = opaque;
    while (all->list != NULL) {
        struct lapic_window *next = all->list->next;
        free(all->list);
        all->list = next;
    }
    free(all->at);
    pthread_mutex_destroy(&all->lock);
    free(all);
}

/* The default window, every core on it, as a board device (reset and free hooks). */
static int windows_create(struct pc_board *pc, char *err, size_t errlen)
{
    struct lapic_windows *all = calloc(1, sizeof(*all));
    struct lapic_window *w = calloc(1, sizeof(*w));
    struct lapic_window **at = calloc(pc->ncpus, sizeof(*at));
    if (!all || !w || !at || pthread_mutex_init(&all->lock, NULL) != 0) {
        free(all);
        free(w);
        free(at);
        snprintf(err, errlen, "cannot create the local APICs: out of memory");
        return -1;
    }
    all->pc = pc;
    all->list = w;
    all->at = at;
    *w = (struct lapic_window){.all = all, .base = X86_LAPIC_DEFAULT_BASE, .users = pc->ncpus};
    for (unsigned i = 0; i < pc->ncpus; i++) {
        at[i] = w;
    }
    if (coremu_board_add_device(pc->board, "lapic-windows", all, windows_reset_hook,
                                windows_free_hook) != 0) {
        snprintf(err, errlen, "cannot create the local APICs: out of memory");
        return -1;
    }
    if (coremu_as_add_mmio(pc->as, "lapic", X86_LAPIC_DEFAULT_BASE, X86_LAPIC_MMIO_SIZE, &xapic_ops,
                           w, COREMU_MMIO_LOCKLESS) != 0) {
        snprintf(err, errlen, "cannot map the local APICs");
        return -1;
    }
    w->mapped = true;
    return 0;
}

/* ---- the core's hooks ----------------------------------------------------------------------- */

static int core_intr_ack(void *opaque, struct x86_cpu *cpu)
{
    struct pc_board *pc = opaque;
    return x86_lapic_ack(pc->lapics[cpu->rt->index]);
}

static bool core_msr_read(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t *value)
{
    struct pc_board *pc = opaque;
    return x86_lapic_msr_read(pc->lapics[cpu->rt->index], msr, value);
}

static bool core_msr_write(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t value)
{
    struct pc_board *pc = opaque;
    struct x86_lapic *lapic = pc->lapics[cpu->rt->index];
    if (!x86_lapic_msr_write(lapic, msr, value)) {
        return false;
    }
    if (msr == X86_MSR_APIC_BASE) {
        uint64_t base = x86_lapic_base_msr(lapic);
        cpu->apic_base = base;
        window_move(windows_of(pc), cpu->rt->index, xapic_page(base));
    }
    return true;
}

static void core_tpr_write(void *opaque, struct x86_cpu *cpu, uint64_t cr8)
{
    struct pc_board *pc = opaque;
    x86_lapic_tpr_write(pc->lapics[cpu->rt->index], cr8);
}

static uint64_t core_tpr_read(void *opaque, struct x86_cpu *cpu)
{
    struct pc_board *pc = opaque;
    return x86_lapic_tpr_read(pc->lapics[cpu->rt->index]);
}

static void lapic_free_hook(void *opaque)
{
    x86_lapic_free(opaque);
}

int pc_apic_create_lapics(struct pc_board *pc, char *err, size_t errlen)
{
    unsigned n = pc->ncpus;
    pc->lapics = calloc(n, sizeof(*pc->lapics));
    pc->sipi = calloc(n, sizeof(*pc->sipi));
    if (!pc->lapics || !pc->sipi) {
        snprintf(err, errlen, "cannot create the local APICs: out of memory");
        return -1;
    }
    const struct x86_lapic_board board = {
        .opaque = pc,
        .tsc_now = lapic_tsc_now,
        .lapic_of = lapic_of,
        .eoi_broadcast = lapic_eoi_broadcast,
        .extint_ack = lapic_extint_ack,
        .init = lapic_init,
        .startup = lapic_startup,
        .phys_bits = 0,
        .bsp_virtual_wire = true,
    };
    for (unsigned i = 0; i < n; i++) {
        pc->sipi[i] = (struct pc_sipi){PC_SIPI_IDLE, -1};
    }
    for (unsigned i = 0; i < n; i++) {
        struct x86_cpu *cpu = pc->cpus[i];
        struct x86_lapic *lapic = x86_lapic_new(pc->machine->cpus[i], cpu->apic_id, i == 0, &board);
        if (!lapic) {
            snprintf(err, errlen, "cannot create the local APIC of core %u: out of memory", i);
            return -1;
        }
        if (coremu_board_add_device(pc->board, "lapic", lapic, lapic_reset_hook, lapic_free_hook) !=
            0) {
            /* the board has freed it already */
            snprintf(err, errlen, "cannot create the local APIC of core %u: out of memory", i);
            return -1;
        }
        pc->lapics[i] = lapic;
        cpu->apic_base = x86_lapic_base_msr(lapic);
        cpu->cpuid_apic = true;
        cpu->board.intr_ack = core_intr_ack;
        cpu->board.msr_read = core_msr_read;
        cpu->board.msr_write = core_msr_write;
        cpu->board.tpr_read = core_tpr_read;
        cpu->board.tpr_write = core_tpr_write;
    }
    /* after the LAPICs: the windows' reset hook then runs after theirs, which moved every
     * base back to 0xFEE00000 */
    return windows_create(pc, err, errlen);
}

/* ---- power-on and the timer ----------------------------------------------------------------- */

void pc_apic_power_on(struct pc_board *pc, struct x86_cpu *cpu)
{
    struct coremu_cpu *rt = cpu->rt;
    cpu->apic_base = x86_lapic_base_msr(pc->lapics[rt->index]);
    if (rt->power_on_arg[1] == PC_POWER_ON_SIPI) {
        uint8_t vector = (uint8_t)rt->power_on_arg[0];
        cpu->seg[X86_CS].selector = (uint16_t)(vector << 8);
        cpu->seg[X86_CS].base = (uint64_t)vector << 12;
        cpu->rip = 0;
    }
}

void pc_apic_timer_expired(struct pc_board *pc, unsigned index)
{
    x86_lapic_timer_expired(pc->lapics[index]);
}

void pc_apic_free(struct pc_board *pc)
{
    /* The LAPICs and the I/O APIC are the board's devices (freed with it). */
    free(pc->lapics);
    pc->lapics = NULL;
    free(pc->sipi);
    pc->sipi = NULL;
    if (pc->isa_lock_ready) {
        pthread_mutex_destroy(&pc->isa_lock);
        pthread_mutex_destroy(&pc->sipi_lock);
        pc->isa_lock_ready = false;
    }
}
