/*
 * coremu ARM — what a board provides to its cores, and what the cores provide to the board.
 *
 * A board (virt.c) owns the address space and the exclusive-monitor engine (through the generic
 * struct coremu_board, coremu/board.h), the interrupt controller and the firmware interface
 * (PSCI over HVC/SMC). The CPU side (cpu.c, exec.c...) reaches the board only through the
 * function pointers below, so that the CPU knows nothing of any particular board.
 */
#ifndef COREMU_ARM_BOARD_H
#define COREMU_ARM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/physmem.h>

struct arm_cpu;

/* Generic timer outputs, as the board wires them to interrupt lines. */
enum arm_timer_output { ARM_TIMER_PHYS = 0, ARM_TIMER_VIRT = 1 };

struct arm_board {
    struct coremu_machine *machine; /* immutable after creation */
    struct coremu_as *as;           /* immutable; lookups are lock-free */
    struct coremu_xmon *xmon;       /* immutable; covers guest RAM */
    struct arm_cpu **cpus;          /* immutable array of machine->ncpus cores */
    unsigned ncpus;
    /* The translation engine the cores share: created with the first core (before any core
     * thread starts), freed with the last (exec.c). */
    struct coremu_tb_engine *tb_engine;
    uint32_t ram_base;
    uint64_t ram_size;

    /* Where core 0 starts, and its registers at reset (the Linux boot protocol: r0 = 0,
     * r1 = ~0 or machine number, r2 = device tree address). Written before the machine starts;
     * read by core 0's thread when it is powered on. */
    struct {
        uint32_t entry;
        bool thumb;
        uint32_t r0, r1, r2;
    } boot;

    /* HVC / SMC from a core (PSCI). Runs on the calling core's thread with its registers in
     * cpu->r[]; writes results to r0... Returns false when the call is not implemented, in
     * which case the CPU treats HVC/SMC as UNDEFINED. */
    bool (*firmware_call)(struct arm_board *board, struct arm_cpu *cpu, bool is_smc,
                          uint32_t imm);
    /* A core's timer output changed level (called on that core's thread). May be NULL. */
    void (*timer_output)(struct arm_board *board, struct arm_cpu *cpu,
                         enum arm_timer_output which, bool level);
    /* The CPU's interface to the interrupt controller's CPU interface when it is accessed as
     * system registers (not used by GICv2, whose CPU interface is MMIO). May be NULL. */
    void *irq_controller;

    /* Exit status to use on PSCI SYSTEM_OFF / SYSTEM_RESET with -no-reboot. */
    bool no_reboot;
};

/* cpu.c: creates core index of board (state allocated and reset; registered as rt->arch). */
struct arm_cpu *arm_cpu_new(struct arm_board *board, struct coremu_cpu *rt, unsigned index);
void arm_cpu_free(struct arm_cpu *cpu);
/* exec.c: the coremu_cpu_ops of an ARM core. run() starts at board->boot for core 0's first
 * power-on, or at the entry point and context id given to coremu_cpu_power_on (PSCI CPU_ON:
 * arg0 = entry address (bit 0: Thumb), arg1 = context id placed in r0), in SVC mode with the
 * MMU and caches off, IRQ/FIQ masked. */
extern const struct coremu_cpu_ops arm_cpu_ops;

/* ---- The board side: the virt machine (virt.c, psci.c, boot.c), driven by main.c ---------- */

struct coremu_chardev;
struct virtio_cmdline;

/* What the command line asks of the virt board (main.c fills it from the options). */
struct virt_config {
    unsigned ncpus;                 /* 1..8 (GICv2) */
    uint64_t ram_size;              /* bytes; 0: the board's default */
    enum coremu_xmon_mode llsc;     /* -accel llsc=exact|value */
    bool pin_threads;               /* -accel pin=on */
    bool no_reboot;                 /* -no-reboot */
    const char *kernel;             /* -kernel (required) */
    const char *initrd;             /* -initrd, or NULL */
    const char *dtb;                /* -dtb, or NULL */
    const char *append;             /* -append, or NULL */
    const char *dumpdtb;            /* -machine virt,dumpdtb=FILE, or NULL */
    int64_t rtc_offset;             /* -rtc base: seconds added to the host's UTC time */
    const struct virtio_cmdline *virtio; /* -drive/-device/-object devices, or NULL */
};

/* What boot.c put where in guest memory (the device tree code reads it). Addresses are guest
 * physical; a size of 0 means "not loaded". */
enum arm_image_kind {
    ARM_IMAGE_NONE,        /* no -kernel (-machine virt,dumpdtb=FILE) */
    ARM_IMAGE_ELF,
    ARM_IMAGE_ZIMAGE,
    ARM_IMAGE_LINUX_IMAGE, /* an uncompressed Linux Image (arch/arm/boot/Image) */
    ARM_IMAGE_RAW,
};
struct arm_boot_info {
    enum arm_image_kind kind;
    uint32_t image_low, image_high; /* the loaded image: [low, high) */
    uint32_t initrd_start, initrd_size;
    uint32_t dtb_addr, dtb_size;
};

/* virt.c: builds the machine (address space, RAM, exclusive monitor, cores, devices) and loads
 * the images. NULL with a one-line message in err on bad input or failure. */
struct arm_board *virt_new(const struct virt_config *cfg, char *err, size_t errlen);
/* virt.c: connects the board's serial port (UART0) to chr; before virt_run. */
void virt_attach_serial(struct arm_board *board, struct coremu_chardev *chr);
/* virt.c: starts the core threads, powers on core 0 at the boot entry, waits until the machine
 * exits; returns the exit status, or -1 with a message in err if it could not start. */
int virt_run(struct arm_board *board, char *err, size_t errlen);
/* virt.c: machine reset (PSCI SYSTEM_RESET without -no-reboot): every core off, devices reset,
 * the boot images restored, core 0 restarted at the boot entry. On a core thread, which then
 * leaves its loop at once; any other thread too. */
void virt_system_reset(struct arm_board *board);
/* virt.c: frees the machine after virt_run (or instead of it); the serial chardev must be
 * closed first. */
void virt_free(struct arm_board *board);

/* One row of a board's memory map, as the board hands it to the device tree builder (fdt.c) so
 * that addresses and interrupts are written in one place (virt.c). A row with count > 1 is an
 * array of count devices, size bytes apart, with consecutive SPIs. The "ram" row's size is the
 * RAM the guest has. The generic PCIe host is three rows: "pcie-ecam" (the ECAM window, 1 MiB a
 * bus from bus 0; spi is INTA's, INTB-D take the next three), "pcie-mmio" (the 32-bit memory
 * window, bus address = CPU address) and "pcie-pio" (the I/O port window, port 0 at its base);
 * "gic-v2m" is the GICv2m MSI frame (its SPI range is in its MSI_TYPER register). */
struct arm_map_row {
    const char *name; /* "gic-dist", "gic-cpu", "gic-v2m", "pl011", "pl031", "virtio-mmio",
                         "pcie-ecam", "pcie-mmio", "pcie-pio", "ram"... */
    uint64_t base, size;
    int spi;          /* GIC shared peripheral interrupt, -1: none */
    unsigned count;
    bool present;     /* the board models it (a device answers there) */
};
/* virt.c: writes the device tree that board passes to the kernel (as boot.c placed it, with
 * /chosen filled in) to path. 0, or -1 with a one-line message. */
int virt_dump_dtb(struct arm_board *board, const char *path, char *err, size_t errlen);

/* fdt.c: builds the device tree of a virt-like board (ncpus cores; the RAM, interrupt
 * controller and devices of the nrows rows of map, which must have "ram", "gic-dist" and
 * "gic-cpu") into a malloc'd buffer; /chosen has stdout-path only (boot.c adds bootargs and the
 * initrd). 0, or -1 with a one-line message (always, in a build without libfdt). */
int arm_fdt_generate(const struct arm_map_row *map, unsigned nrows, unsigned ncpus, uint8_t **dtb,
                     size_t *size, char *err, size_t errlen);
/* fdt.c: writes the device tree that boot.c placed in guest memory (info->dtb_addr/size) to
 * path. 0, or -1 with a one-line message. */
int arm_fdt_dump(struct arm_board *board, const struct arm_boot_info *info, const char *path,
                 char *err, size_t errlen);

/* The virt board's interrupt controller is a GICv2 (hw/gic.h: distributor at the "gic-dist"
 * row, CPU interface at "gic-cpu", no virtualization extensions, 256 SPIs). A device's SPI n
 * is GIC interrupt ID 32 + n. The generic timer's private interrupts, as PPI numbers (interrupt
 * ID 16 + n), in the order of the device tree's timer node (secure physical, non-secure
 * physical, virtual, hypervisor); they are level-sensitive, active high. The core has no
 * Security Extensions, so its physical timer (CNTP) drives the non-secure physical PPI. */
#define VIRT_PPI_TIMER_SEC_PHYS 13
#define VIRT_PPI_TIMER_NS_PHYS 14
#define VIRT_PPI_TIMER_VIRT 11
#define VIRT_PPI_TIMER_HYP 10

/* psci.c: the firmware_call of the virt board: PSCI 1.0 over HVC and SMC. */
bool arm_psci_call(struct arm_board *board, struct arm_cpu *cpu, bool is_smc, uint32_t imm);

/* boot.c: loads cfg->kernel (ELF, zImage or raw, optionally gzip-compressed), cfg->initrd and
 * cfg->dtb into board->as, fills board->boot and *info. Without -dtb the device tree is the one
 * arm_fdt_generate builds from the board's memory map (nrows rows of map). 0, or -1 with a
 * one-line message. */
int arm_boot_load(struct arm_board *board, const struct virt_config *cfg,
                  const struct arm_map_row *map, unsigned nrows, struct arm_boot_info *info,
                  char *err, size_t errlen);

#endif /* COREMU_ARM_BOARD_H */
