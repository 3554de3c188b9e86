/*
 * coremu — the x86 local APIC (xAPIC and x2APIC), one per core, as a device model.
 *
 * Written from the Intel SDM Vol. 3A chapter 10 (now 11, "Advanced Programmable Interrupt
 * Controller"). What is modelled:
 *   - the register file: ID, version 0x00050014 (version 0x14, six LVT entries: timer, thermal,
 *     performance counters, LINT0, LINT1, error; so there is no CMCI entry and offset 0x2f0 /
 *     MSR 0x82f is an illegal register), TPR, APR, PPR, EOI, RRD (reads 0), LDR, DFR, SVR
 *     (all eight spurious vector bits writable; no EOI-broadcast suppression, version bit 24 is
 *     0), ISR/TMR/IRR, ESR (a write latches the errors seen since the previous write), the LVT,
 *     ICR, the timer's initial/current count and divide configuration;
 *   - xAPIC mode through x86_lapic_mmio_read/write (32-bit accesses at 16-byte aligned
 *     offsets of the 4 KiB page at IA32_APIC_BASE; narrower reads get bytes of the register,
 *     other writes are ignored), x2APIC mode through MSRs 0x800-0x8ff (32-bit x2APIC ID, LDR
 *     derived from it, no DFR/APR/RRD, 64-bit ICR at 0x830, SELF IPI at 0x83f; #GP for absent
 *     registers, reads of write-only ones, writes of read-only ones and set reserved bits in
 *     the high half), IA32_APIC_BASE (0x1b) with the BSP bit (read-only), EN and EXTD and the
 *     SDM's valid mode transitions (xAPIC <-> disabled, x2APIC -> disabled, xAPIC -> x2APIC;
 *     the others and reserved bits are #GP), IA32_TSC_DEADLINE (0x6e0);
 *   - interrupt acceptance with IRR/ISR/TMR, priority classes, TPR/PPR, EOI (the highest ISR
 *     bit; for a level-triggered vector the board's eoi_broadcast is called, for the I/O
 *     APIC's remote IRR), the spurious vector when an interrupt was signalled but its priority
 *     no longer allows it at INTA (the TPR rose between the two, SDM 10.9);
 *   - the timer: one-shot, periodic and TSC-deadline. The timer counts at the bus clock divided
 *     by the divide configuration, and the bus clock is modelled as 1 GHz, the TSC's frequency
 *     (one tick per nanosecond of the virtual clock): divide 1 decrements the count every ns,
 *     divide 128 every 128 ns. A periodic timer that missed periods fires once and continues on
 *     its original grid. A masked timer keeps counting and raises nothing. Changing the divide
 *     value keeps the current count and goes on at the new rate. Switching the LVT timer mode
 *     into or out of TSC-deadline disarms the timer (initial count and deadline 0). Timer mode
 *     3 (reserved) counts as one-shot;
 *   - IPIs through the ICR with every delivery mode: fixed; lowest priority, delivered as fixed
 *     to the one destination that wins the arbitration (x86_lapic_wins_arbitration: the lowest
 *     processor priority, ties to the lowest APIC ID; no focus processor, which the SDM drops
 *     from the Pentium 4 on);
 *     SMI, which is ignored (there is no SMM); NMI (X86_PENDING_NMI); INIT (the board's init
 *     callback); INIT level de-assert (no effect: no arbitration IDs); STARTUP (the board's
 *     startup callback); remote read (obsolete, ignored). Physical and logical destinations
 *     (flat and cluster by the DFR, LDR match; x2APIC: cluster in bits 31:16, a bit mask in
 *     15:0), broadcast 0xff / 0xffffffff, and the shorthands self, all including self and all
 *     excluding self. A fixed vector below 16 is not sent (ESR "send illegal vector") and not
 *     accepted (ESR "receive illegal vector"). INIT and STARTUP to self by shorthand are
 *     ignored, as the SDM allows only fixed (and NMI) there. IPIs are edge-triggered: the
 *     ICR's trigger bit only matters for INIT level de-assert;
 *   - the external interrupt input: a level (x86_lapic_set_extint) that the 8259 drives. It is
 *     taken when LINT0 is unmasked with delivery mode ExtINT, or when the APIC is disabled in
 *     IA32_APIC_BASE (then LINT0 is the core's INTR pin); INTA then asks the board's
 *     extint_ack for the PIC's vector. ExtINT goes ahead of the IRR and touches neither the IRR
 *     nor the ISR.
 * Not modelled: SMM, the thermal and performance-counter sources (their LVT entries are plain
 * registers), LINT pins other than the ExtINT input, the focus processor of lowest-priority
 * delivery, EOI-broadcast suppression, directed EOI.
 *
 * Software-disabled (SVR bit 8 clear, the state after RESET and INIT): every LVT entry is
 * masked and stays masked; INIT, NMI and STARTUP are taken; fixed interrupts are accepted into
 * the IRR and held there until the APIC is enabled again.
 *
 * Threads, without a lock (as hw/gic.c). Every register is its own core's: MMIO and MSR
 * accesses and the CPU's INTA, EOI, CR8 and timer expiry run on the core's own thread (the
 * "owner"), or while that thread runs no guest code (the core off or the world stopped).
 * Other threads reach an APIC only through x86_lapic_deliver*, x86_lapic_set_extint and the
 * IPIs an owner sends: they set bits in the target's IRR (atomic words, fetch_or) and kick the
 * target core (coremu_cpu_kick with X86_PENDING_INTR). Only the target moves IRR -> ISR. The
 * X86_PENDING_INTR bit is the APIC's output: set while an interrupt may be taken, cleared by
 * the owner when its INTA (or any change of its priority) finds none. A sender kicks only when
 * the vector's class beats the priority the owner last published, so a pending interrupt
 * that the PPR masks does not keep the core's slow path busy. x86_lapic.c documents each
 * shared field and its ordering.
 */
#ifndef COREMU_HW_X86_LAPIC_H
#define COREMU_HW_X86_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/cpu.h>

struct x86_lapic;

#define X86_LAPIC_DEFAULT_BASE 0xfee00000u
#define X86_LAPIC_MMIO_SIZE    0x1000u
#define X86_LAPIC_VERSION      0x00050014u

/* MSRs */
#define X86_MSR_APIC_BASE    0x1bu
#define X86_MSR_TSC_DEADLINE 0x6e0u
#define X86_MSR_X2APIC_FIRST 0x800u
#define X86_MSR_X2APIC_LAST  0x8ffu

/* IA32_APIC_BASE bits */
#define X86_APIC_BASE_BSP  (1u << 8)
#define X86_APIC_BASE_EXTD (1u << 10)
#define X86_APIC_BASE_EN   (1u << 11)

/* Delivery modes (ICR and LVT bits 10:8; I/O APIC redirection entries use the same). */
enum x86_apic_delivery {
    X86_APIC_DM_FIXED = 0,
    X86_APIC_DM_LOWEST = 1,
    X86_APIC_DM_SMI = 2,
    X86_APIC_DM_REMOTE_READ = 3,
    X86_APIC_DM_NMI = 4,
    X86_APIC_DM_INIT = 5,
    X86_APIC_DM_STARTUP = 6,
    X86_APIC_DM_EXTINT = 7,
};

/* What the board gives every local APIC. Immutable while the APIC exists; the callbacks are
 * called on the thread noted beside each, never with an APIC-internal lock held (there is
 * none). */
struct x86_lapic_board {
    void *opaque;
    /* The TSC now, in ticks of 1 ns (x86_tsc: the virtual clock plus the core's TSC offset).
     * Called by the owner. NULL: coremu_clock_ns(). */
    uint64_t (*tsc_now)(void *opaque, struct x86_lapic *lapic);
    /* The local APIC of core cpu_index of the machine, or NULL if it has none: the IPI
     * destinations are looked up through it. Any thread. */
    struct x86_lapic *(*lapic_of)(void *opaque, unsigned cpu_index);
    /* EOI of a level-triggered vector (its TMR bit set): the I/O APIC clears its remote IRR.
     * Called by the owner. May be NULL. */
    void (*eoi_broadcast)(void *opaque, struct x86_lapic *lapic, uint8_t vector);
    /* INTA of an external interrupt (ExtINT): the PIC's vector, or -1 when it has none any
     * more. Called by the owner. May be NULL (then ExtINT is never taken). */
    int (*extint_ack)(void *opaque, struct x86_lapic *lapic);
    /* An INIT IPI reached core cpu_index (called on the sender's thread). The board resets the
     * core into wait-for-SIPI, and x86_lapic_init on the target's thread. NULL: the target's
     * X86_PENDING_INIT bit is kicked instead. */
    void (*init)(void *opaque, unsigned cpu_index);
    /* A STARTUP IPI with vector reached core cpu_index (sender's thread): the board powers
     * it on at vector << 12 if it waits for SIPI (coremu_cpu_power_on). NULL: ignored. */
    void (*startup)(void *opaque, unsigned cpu_index, uint8_t vector);
    /* Physical address width (IA32_APIC_BASE bits above it are reserved); 0 means 40, what
     * the x86_64 CPU's CPUID leaf 0x80000008 reports. */
    unsigned phys_bits;
    /* After RESET the boot core's LINT0 is ExtINT and LINT1 NMI, both unmasked, and the APIC
     * software-enabled with spurious vector 0xff: the virtual wire mode that PC firmware leaves
     * behind, so that the 8259 reaches a kernel booted without firmware. */
    bool bsp_virtual_wire;
};

/* A local APIC for core rt (whose arch state it does not touch), in its RESET state: APIC ID
 * apic_id, IA32_APIC_BASE 0xfee00000 | EN (| BSP when bsp), xAPIC mode, software-disabled.
 * board is copied. NULL on allocation failure. Any thread, before the core runs. */
struct x86_lapic *x86_lapic_new(struct coremu_cpu *rt, uint32_t apic_id, bool bsp,
                                const struct x86_lapic_board *board);
/* Frees it; nobody may reach it any more (no IPI sender, no device delivering). */
void x86_lapic_free(struct x86_lapic *lapic);

/* RESET (power-on, machine reset): everything as x86_lapic_new left it, the APIC ID back to
 * the initial one. INIT: the registers back to their RESET values except the APIC ID, LDR
 * in x2APIC mode and IA32_APIC_BASE (whose mode INIT keeps). Owner, or while the owner runs
 * no guest code. Pending interrupts in the IRR are dropped, the core's X86_PENDING_INTR bit
 * is cleared (unless the ExtINT input is high and LINT0 passes it), and the timer is disarmed
 * (a deadline left in the core is harmless: x86_lapic_timer_expired then finds nothing due). */
void x86_lapic_reset(struct x86_lapic *lapic);
void x86_lapic_init(struct x86_lapic *lapic);

/* Register access in xAPIC mode: offset within the page, size 1, 2 or 4. Owner. Always 0 (the
 * coremu_mmio_ops convention: the APIC answers every access of its page). In x2APIC mode or
 * disabled, reads return 0 and writes are ignored. */
int x86_lapic_mmio_read(struct x86_lapic *lapic, uint64_t offset, unsigned size, uint64_t *value);
int x86_lapic_mmio_write(struct x86_lapic *lapic, uint64_t offset, unsigned size, uint64_t value);

/* RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE and 0x800-0x8ff. Owner. False: #GP (also
 * for any MSR that is not the APIC's). */
bool x86_lapic_msr_read(struct x86_lapic *lapic, uint32_t msr, uint64_t *value);
bool x86_lapic_msr_write(struct x86_lapic *lapic, uint32_t msr, uint64_t value);

/* INTA (the core's intr_ack): the vector the core takes now, moved from IRR to ISR (ExtINT:
 * the PIC's vector), the spurious vector (SVR bits 7:0) when an interrupt was pending but its
 * priority class no longer beats the PPR, or -1 when there is nothing to take. Updates the
 * core's X86_PENDING_INTR bit. Owner. */
int x86_lapic_ack(struct x86_lapic *lapic);

/* The core's timer deadline passed (its timer_expired op): raises the timer's interrupt if it
 * is due and re-arms the core's deadline (coremu_cpu_set_deadline) for the next one. Also
 * safe to call at any time: an early call only re-arms. Owner. */
void x86_lapic_timer_expired(struct x86_lapic *lapic);

/* CR8 (TPR bits 7:4). Owner. Writes re-evaluate the core's X86_PENDING_INTR. */
void x86_lapic_tpr_write(struct x86_lapic *lapic, uint64_t cr8);
uint64_t x86_lapic_tpr_read(const struct x86_lapic *lapic);

/* An interrupt message for this APIC: a fixed interrupt (vector 16-255) from the I/O APIC or
 * an MSI, edge- or level-triggered. Any thread. */
void x86_lapic_deliver(struct x86_lapic *lapic, uint8_t vector, bool level_triggered);
/* The same for every delivery mode (enum x86_apic_delivery): NMI, INIT and STARTUP as an IPI
 * would deliver them; ExtINT sets the external input (as x86_lapic_set_extint(true)); SMI and
 * remote read are ignored. Any thread. */
void x86_lapic_deliver_mode(struct x86_lapic *lapic, unsigned mode, uint8_t vector,
                            bool level_triggered);
/* The 8259's INTR output, wired to LINT0: a level. Any thread. */
void x86_lapic_set_extint(struct x86_lapic *lapic, bool level);

/* Whether this APIC is a destination of a message addressed to dest (physical: an APIC ID;
 * logical: matched against its LDR/DFR), with broadcast: 0xff for an xAPIC, 0xffffffff for an
 * x2APIC. False when the APIC is disabled. Any thread (for the I/O APIC and MSIs). */
bool x86_lapic_match_dest(const struct x86_lapic *lapic, uint32_t dest, bool logical);

/* Lowest-priority arbitration (SDM 10.6.2.4) between two destinations of one message: true
 * when a wins over b (or b is NULL). The winner has the lower processor priority (the PPR its
 * owner last published; a software-disabled APIC counts as 0xff, the highest); on a tie, the
 * lower APIC ID (the SDM leaves the choice among equals to the platform). The IPI path and the
 * board's I/O APIC path both pick their one target with it. Any thread. */
bool x86_lapic_wins_arbitration(const struct x86_lapic *a, const struct x86_lapic *b);

/* Identity, for the board. Any thread. */
struct coremu_cpu *x86_lapic_cpu(const struct x86_lapic *lapic);
/* The current IA32_APIC_BASE (the board maps the page at its base). Owner. */
uint64_t x86_lapic_base_msr(const struct x86_lapic *lapic);

#endif /* COREMU_HW_X86_LAPIC_H */
