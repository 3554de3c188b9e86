/*
 * coremu x86_64 — the PC board's state, shared by its two halves: pc.c (memory map, port
 * devices, firmware tables, cores) and pc_apic.c (the APICs, interrupt routing, INIT/SIPI).
 */
#ifndef COREMU_X86_64_PC_INTERNAL_H
#define COREMU_X86_64_PC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/irq.h>

#include "acpi.h"
#include "boot.h"
#include "pc.h"

struct coremu_as;
struct coremu_board;
struct coremu_machine;
struct coremu_tb_engine;
struct x86_cpu;
struct x86_lapic;
struct ioapic;
struct i8259;
struct i8254;
struct mc146818;
struct hpet;
struct acpi_pm;
struct i8042;
struct pci_host;
struct uart16550;

/* ISA interrupt lines: 16, each a wired-OR of up to three sources (see pc_apic.c). */
#define PC_ISA_IRQS 16u
enum pc_isa_source {
    PC_ISA_DEVICE = 0, /* the line's own device (PIT, RTC, UART, ...) */
    PC_ISA_HPET = 1,   /* the HPET's legacy replacement route (IRQ0 and IRQ8) */
    PC_ISA_SHARED = 2, /* a second device on the line: COM3 on COM1's, COM4 on COM2's */
    PC_ISA_SOURCES = 3,
};

/* PCI interrupt lines INTA#-INTD# of the host bridge's bus (pc.c). */
#define PC_PCI_INTX_LINES 4u

struct pc_isa_input {
    struct pc_board *pc;
    uint8_t irq;
    uint8_t source;
};

enum pc_sipi_state {
    PC_SIPI_IDLE = 0,         /* running, or never INITed: a STARTUP is ignored */
    PC_SIPI_INIT_PENDING = 1, /* INIT sent to a running core; its event has not stopped it */
    PC_SIPI_WAIT = 2,         /* stopped by INIT: the next STARTUP starts it */
};

struct pc_sipi {
    enum pc_sipi_state state;
    int latched; /* a STARTUP's vector that came while INIT_PENDING, or -1 */
};

struct pc_board {
    /* Everything here is written by pc_new before the machine starts and immutable after,
     * except where a field says otherwise. */
    struct pc_config cfg;
    struct coremu_board *board;
    struct coremu_as *as; /* the board's memory space */
    struct coremu_as *io; /* ports */
    struct coremu_machine *machine;
    struct coremu_tb_engine *engine;
    struct x86_cpu **cpus;
    uint32_t *apic_ids; /* the cores' APIC IDs, by index (the ACPI tables keep a reference) */
    unsigned ncpus;
    struct x86_lapic **lapics; /* one per core, index as cpus */
    struct ioapic *ioapic;
    struct i8259 *pic;
    struct i8254 *pit;
    struct mc146818 *rtc;
    struct hpet *hpet;
    struct acpi_pm *pm;
    struct i8042 *kbc;
    struct pci_host *pci;
    struct uart16550 *com[4];
    struct x86_acpi_tables acpi;
    struct x86_boot_info boot;

    /* The ISA lines' wired-OR of their sources, and the level last driven into the PIC and
     * the I/O APIC. Under isa_lock, taken by the sources' threads with their own device lock
     * held (lock order: device -> isa_lock -> PIC / I/O APIC). */
    pthread_mutex_t isa_lock;
    bool isa_lock_ready;
    uint8_t isa_sources[PC_ISA_IRQS]; /* bit per enum pc_isa_source */
    bool isa_level[PC_ISA_IRQS];
    struct pc_isa_input isa_inputs[PC_ISA_IRQS][PC_ISA_SOURCES]; /* immutable */

    /* Per core: where its INIT / STARTUP sequence is (pc_apic.c). Under sipi_lock, taken by
     * the IPIs' senders and by the INIT's event on the target; never with world_lock held. */
    pthread_mutex_t sipi_lock;
    struct pc_sipi *sipi;

    /* PCI INTx: the devices asserting each of the four lines (GSIs pci_intx_gsi_base + 0-3, each
     * a wired-OR, active low as the DSDT's _PRT describes them). Under pci_intx_lock, taken by
     * the devices' threads with their own lock held (lock order: device -> pci_intx_lock -> I/O
     * APIC). */
    pthread_mutex_t pci_intx_lock;
    bool pci_intx_lock_ready;
    unsigned pci_intx_gsi_base; /* immutable */
    unsigned pci_intx_count[PC_PCI_INTX_LINES];

    /* Port 92's A20 bit as last written (the gate itself is always open: A20 masking is not
     * modelled). Written by core threads under no lock: a byte the guest reads back. */
    _Atomic uint8_t sysctl;
};

/* The power-on argument that tells pc_cpu_run a STARTUP IPI started the core (arg 0: vector). */
#define PC_POWER_ON_SIPI 1u

/* pc.c */
void pc_system_reset(struct pc_board *pc);
void pc_power_off(struct pc_board *pc);

/* pc_apic.c: the I/O APIC with IOAPICID id (0-15; before any device that drives an ISA
 * line), then the local APICs once the cores exist. 0, or -1 with a one-line reason in err. */
int pc_apic_create_ioapic(struct pc_board *pc, uint8_t id, char *err, size_t errlen);
int pc_apic_create_lapics(struct pc_board *pc, char *err, size_t errlen);
/* The line for ISA IRQ irq (< 16) as driven by source: it reaches the 8259 pair and the I/O
 * APIC (IRQ0 at input 2, as the MADT's override says; the others at their own number). */
struct coremu_irq_line pc_isa_irq(struct pc_board *pc, unsigned irq, enum pc_isa_source source);
/* The I/O APIC input gsi directly (PCI INTx, GSIs 16-23). */
struct coremu_irq_line pc_gsi_line(struct pc_board *pc, unsigned gsi);
/* An interrupt message to the local APICs it addresses (dest: an APIC ID, or a logical
 * destination; mode: enum x86_apic_delivery), as the I/O APIC and MSIs send them. Any thread,
 * no lock needed; the caller's locks must not be ones a local APIC takes (it takes none). */
void pc_apic_deliver(struct pc_board *pc, uint8_t dest, bool dest_logical, unsigned mode,
                     uint8_t vector, bool level_triggered);
/* The core's power-on state beyond RESET: the boot core's -kernel entry is pc.c's; an
 * application processor started by a STARTUP IPI begins in real mode at vector << 12. On
 * the core's thread. */
void pc_apic_power_on(struct pc_board *pc, struct x86_cpu *cpu);
/* The core's timer deadline passed (coremu_cpu_ops.timer_expired). */
void pc_apic_timer_expired(struct pc_board *pc, unsigned index);
void pc_apic_free(struct pc_board *pc);

#endif /* COREMU_X86_64_PC_INTERNAL_H */
