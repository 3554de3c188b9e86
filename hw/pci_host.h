/*
 * coremu — a PCI host: configuration space through mechanism #1 (the address register at port
 * 0xCF8, the data window at 0xCFC-0xCFF) and through ECAM (the PCI Express memory-mapped window
 * that the ACPI MCFG table describes), over a list of functions that devices register.
 *
 * The host bridge itself is function 00:00.0 (by default vendor 0x8086, device 0x29C0, class
 * 0x060000; a board may give its own identity).
 * Reads of a function nobody registered return all ones, writes to it are dropped (a master
 * abort), which is how an operating system finds the bus empty.
 *
 * Registered functions (type 0 headers). The host keeps the standard header (offsets 0x00-0x3F):
 * identity registers read-only, command (I/O, memory, bus master, parity, SERR, INTx disable
 * bits writable), status 0 but for the capabilities-list bit when the device gives a capability
 * pointer, cache line size, latency timer and interrupt line writable, no expansion ROM, and up
 * to six BARs. A BAR has a power-of-two size (memory: 16 bytes or more; I/O: 4 or more) and
 * answers the sizing protocol: its address bits below the size read as 0, its type bits are
 * fixed, so writing all ones and reading back gives the size mask. A 64-bit memory BAR takes the
 * next BAR slot for its upper half. Offsets 0x40-0xFFF (0x40-0xFF through 0xCF8, which cannot
 * address more) go to the device's config_read/config_write callbacks; without them they read 0
 * and ignore writes. After a write that touched the command register or a BAR the device's
 * header_written callback runs, so that it can (un)map its BARs (pci_function_bar_addr).
 *
 * Mechanism #1 accesses: a dword at 0xCF8 is the address register (bit 31 enable, bus 23:16,
 * device 15:11, function 10:8, register 7:2); 0xCFC-0xCFF carry 1-, 2- or 4-byte accesses at
 * register + (port & 3) while the enable bit is set (all ones / dropped otherwise). A byte at
 * 0xCF9 is not PCI's: on the PC it is the reset control register, which the host forwards to
 * the ops given to pci_host_set_cf9 (hw/acpi_pm.h's acpi_pm_reset_ops); other byte and word
 * accesses to 0xCF8-0xCFB read all ones and are dropped.
 *
 * ECAM accesses: bus (from the window's first bus) << 20 | device << 15 | function << 12 |
 * register, 1, 2 or 4 bytes, naturally aligned.
 *
 * Threads: one recursive mutex guards the configuration space; both mechanisms' regions are
 * registered COREMU_MMIO_LOCKLESS and take it. The device callbacks run under it, so they may
 * call pci_function_bar_addr and pci_function_command but must not wait for another thread that
 * accesses configuration space. The 0xCF9 forward runs without it.
 */
#ifndef COREMU_HW_PCI_HOST_H
#define COREMU_HW_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/physmem.h>

#define PCI_HOST_CONFIG_PORT  0xcf8u
#define PCI_HOST_CONFIG_PORTS 8u

#define PCI_BAR_IO       0x1u /* an I/O BAR (else memory) */
#define PCI_BAR_MEM64    0x4u /* a 64-bit memory BAR (takes the next slot too) */
#define PCI_BAR_PREFETCH 0x8u /* prefetchable memory */
#define PCI_BAR_UNMAPPED UINT64_MAX

#define PCI_COMMAND_IO     0x1u
#define PCI_COMMAND_MEMORY 0x2u
#define PCI_COMMAND_MASTER 0x4u

struct pci_host;
struct pci_function;

struct pci_bar_desc {
    uint64_t size;  /* 0: no BAR here */
    unsigned flags; /* PCI_BAR_* */
};

struct pci_function_desc {
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint32_t class_code; /* base class << 16 | subclass << 8 | programming interface */
    uint8_t revision;
    uint8_t interrupt_pin; /* 0 none, 1-4 INTA#-INTD# */
    uint8_t capabilities;  /* offset of the first capability (>= 0x40), or 0 */
    struct pci_bar_desc bars[6];
    /* Device-specific registers, offset >= 0x40; size 1, 2 or 4, never crossing a dword. */
    uint32_t (*config_read)(void *opaque, unsigned offset, unsigned size);
    void (*config_write)(void *opaque, unsigned offset, unsigned size, uint32_t value);
    /* The command register or a BAR was written (offset, size of the access). */
    void (*header_written)(void *opaque, unsigned offset, unsigned size);
    void *opaque;
};

extern const struct coremu_mmio_ops pci_host_config_ops; /* ports 0xCF8-0xCFF */
extern const struct coremu_mmio_ops pci_host_ecam_ops;   /* the ECAM window */

/* A host whose ECAM window covers buses bus_start..bus_end, with the PC's host bridge (Q35's
 * 8086:29c0) as 00:00.0; NULL on a bad range or no memory. */
struct pci_host *pci_host_new(uint8_t bus_start, uint8_t bus_end);
/* The same with the host bridge function described by bridge (e.g. the generic PCIe host's
 * identity on the ARM virt board). */
struct pci_host *pci_host_new_bridge(uint8_t bus_start, uint8_t bus_end,
                                     const struct pci_function_desc *bridge);
void pci_host_free(struct pci_host *host);
/* Bytes of the ECAM window: (bus_end - bus_start + 1) MiB. */
uint64_t pci_host_ecam_size(const struct pci_host *host);
/* Maps 0xCF8-0xCFF in io (unless io is NULL: a host with ECAM only, as on ARM) and, when mem is
 * not NULL, the ECAM window at ecam_base in mem. */
int pci_host_map(struct pci_host *host, struct coremu_as *io, struct coremu_as *mem,
                 uint64_t ecam_base);
/* Machine reset: every function's header as pci_host_add_function made it (command 0, BARs at
 * address 0, cache line size, latency timer and interrupt line 0) and mechanism #1's address
 * register 0; header_written runs for each function that decoded anything, so that its device
 * unmaps its BARs. Nothing else may access configuration space meanwhile. */
void pci_host_reset(struct pci_host *host);
/* Byte accesses at 0xCF9 go to ops/opaque (the reset control register). Before the cores run. */
void pci_host_set_cf9(struct pci_host *host, const struct coremu_mmio_ops *ops, void *opaque);

/* Registers a function (desc is copied). 0 with *out set (out may be NULL), or -EINVAL for a bad
 * address or BAR, -EEXIST when taken, -ENOMEM. Before the guest enumerates the bus. */
int pci_host_add_function(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                          const struct pci_function_desc *desc, struct pci_function **out);
/* The address BAR bar decodes (64-bit BARs whole), or PCI_BAR_UNMAPPED when it has none or its
 * decoding (the command register's I/O or memory bit) is off. */
uint64_t pci_function_bar_addr(struct pci_host *host, const struct pci_function *f, unsigned bar);
uint16_t pci_function_command(struct pci_host *host, const struct pci_function *f);

/* Configuration access without a mechanism (for the board and tests): size 1, 2 or 4. */
uint32_t pci_host_config_read(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                              unsigned offset, unsigned size);
void pci_host_config_write(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                           unsigned offset, unsigned size, uint32_t value);

#endif /* COREMU_HW_PCI_HOST_H */
