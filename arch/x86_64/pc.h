/*
 * coremu x86_64 — the PC board: what coremu-system-x86_64 builds around its cores.
 *
 * A PC as Linux drives it with its ordinary drivers, QEMU's pc machine being the model for
 * addresses and interrupt routing: RAM with the PC's memory map, a local APIC per core, the
 * I/O APIC and the 8259 pair, the 8254 PIT, the CMOS RTC, the HPET, the ACPI PM block (S5
 * power-off, the 0xCF9 reset register), the 8042 keyboard controller (reset line), COM1 (a
 * 16550 at 0x3f8), the PCI host bridge (mechanism #1 and ECAM) with the command line's virtio
 * devices as virtio-pci functions (MSI-X to the local APICs, INTx to I/O APIC inputs 16-19),
 * QEMU's isa-debug-exit at 0xf4
 * (which bare-metal tests use to end with a status), POST code 0x80 and port 0x92; ACPI tables
 * (RSDP, XSDT, FADT, DSDT, MADT, HPET, MCFG) and -kernel loading through boot.c (a bzImage by
 * Linux's 64-bit boot protocol, or a multiboot kernel). The boot core starts at -kernel's
 * entry; the others wait for INIT and STARTUP IPIs (pc_apic.c).
 */
#ifndef COREMU_X86_64_PC_H
#define COREMU_X86_64_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_chardev;
struct pc_board;
struct virtio_cmdline;

struct pc_config {
    unsigned ncpus;
    unsigned threads_per_core, cores_per_socket; /* -smp's topology */
    uint64_t ram_size;
    unsigned nserial_ports; /* COM1..COMn (1-4; 0 means 1) */
    bool pin_threads;
    bool no_reboot;
    int64_t rtc_offset; /* -rtc base: seconds added to the host's UTC time */
    const char *kernel;
    const char *initrd;
    const char *append;
    /* The command line's virtio devices (virtio_cmdline_check with suffix "pci"; NULL: none),
     * each a virtio-pci function from 00:02.0 on in the plan's order, or at its addr=. */
    const struct virtio_cmdline *virtio;
    unsigned first_pci_slot; /* the first slot those devices take without addr= (0: 2) */
};

/* The most RAM the board maps: 3 GiB below the PCI hole and the rest from 4 GiB up to the
 * guest's 40 physical address bits (CPUID 0x80000008). Guest RAM is reserved lazily (mmap
 * MAP_NORESERVE): what the host allows is what the guest touches. */
#define PC_MAX_RAM ((1ull << 40) - (1ull << 30))

struct pc_board *pc_new(const struct pc_config *cfg, char *err, size_t errlen);
void pc_attach_serial(struct pc_board *pc, unsigned index, struct coremu_chardev *chr);
int pc_run(struct pc_board *pc, char *err, size_t errlen);
void pc_request_exit(struct pc_board *pc, int status);
void pc_free(struct pc_board *pc);

#endif /* COREMU_X86_64_PC_H */
