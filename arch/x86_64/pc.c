/*
 * coremu x86_64 — the PC board (pc.h): memory map, port-I/O devices, firmware tables, -kernel,
 * the cores. The APICs and the interrupt wiring are pc_apic.c's.
 *
 * Ports. The board's port-I/O space is a struct coremu_as of its own, 64 KiB of ports, that the
 * cores' IN/OUT reach (cpu->io). A port no device claims reads as all ones and ignores writes,
 * as on a PC's ISA bus.
 *
 * Memory map (QEMU's pc machine is the model, so that kernels and command lines written for it
 * work): RAM from 0 (the e820 map leaves out 640 KiB - 1 MiB), the ACPI tables in the last
 * 128 KiB of RAM (e820 type 3) with the RSDP also at 0xF0000, the PCI host's 32-bit memory
 * window from 3 GiB, its ECAM window (MCFG) at 0xE0000000, the I/O APIC at 0xFEC00000, the
 * HPET at 0xFED00000, the local APICs at 0xFEE00000.
 *
 * PCI. The host bridge is 00:00.0; the command line's virtio devices are virtio-pci functions
 * from 00:02.0 on (-M q35: 00:01.0), in the order QEMU's machines number them with -nodefaults
 * (QEMU's pc has its PIIX3 at 00:01.0, which stays empty here), or at their addr=. Linux assigns
 * their BARs in the 32-bit window (there is no firmware to do it). Their MSI-X messages go straight
 * to the local APICs (pc_msi_send); INTA# of slot s is I/O APIC input 16 + s % 4, as the DSDT's
 * _PRT says, shared by the slots on it and active low.
 *
 * Cores. Every core is a thread from the start (the runtime's), each with a struct x86_cpu;
 * core 0 is powered on at -kernel's entry state (boot.c) and the others stay off until an INIT
 * and a STARTUP IPI start them (pc_apic.c).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/board.h>
#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/physmem.h>
#include <coremu/tb.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "boot.h"
#include "cpu.h"
#include "hpet.h"
#include "i8042.h"
#include "i8254.h"
#include "i8259.h"
#include "mc146818.h"
#include "pc.h"
#include "pc_internal.h"
#include "pci_host.h"
#include "uart16550.h"
#include "virtio_cmdline.h"
#include "virtio_pci.h"
#include "x86_lapic.h"

/* The legacy hole: the EBDA's last KiB below 640 KiB, VGA memory, option ROMs and the BIOS. */
#define PC_LOW_RAM_END   0x9fc00ull
#define PC_HIGH_RAM_BASE 0x100000ull
#define PC_BIOS_BASE     0xf0000ull
/* RAM up to PC_LOW_RAM_MAX sits below the PCI hole; the rest goes on at 4 GiB, as on QEMU's pc
 * machine with more than 3.5 GiB (its gigabyte-aligned split: the hole starts at 3 GiB). */
#define PC_LOW_RAM_MAX (3ull << 30)
#define PC_ABOVE_4G    (4ull << 30)
/* The ACPI tables: the last PC_ACPI_SIZE bytes of the RAM below the hole. */
#define PC_ACPI_SIZE (128ull << 10)
/* The PCI host's windows (see the header comment). */
#define PC_PCI_MEM32_BASE 0xc0000000u
#define PC_PCI_MEM32_SIZE 0x20000000u
#define PC_ECAM_BASE      0xe0000000ull

/* QEMU's isa-debug-exit: a write of v makes the emulator exit with status (v << 1) | 1. */
#define PC_DEBUG_EXIT_PORT 0xf4u
#define PC_POST_PORT       0x80u
#define PC_SYSCTL_PORT     0x92u /* "port 92": bit 0 fast reset, bit 1 A20 */

static int pc_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int pc_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- machine reset -------------------------------------------------------------------------- */

/* With the world stopped and every core off: devices and images back to their boot state. */
static void pc_reset_machine(void *opaque)
{
    struct pc_board *pc = opaque;
    coremu_board_reset(pc->board);
    atomic_store(&pc->sysctl, 0);
    for (unsigned i = 0; i < pc->ncpus; i++) {
        pc->sipi[i] = (struct pc_sipi){PC_SIPI_IDLE, -1};
    }
}

void pc_system_reset(struct pc_board *pc)
{
    if (pc->cfg.no_reboot) {
        coremu_machine_exit(pc->machine, 0);
        return;
    }
    COREMU_LOG(COREMU_LOG_INT, "machine reset\n");
    coremu_machine_reset(pc->machine, 0, 0, 0, pc_reset_machine, pc);
}

void pc_power_off(struct pc_board *pc)
{
    COREMU_LOG(COREMU_LOG_INT, "machine power-off (ACPI S5)\n");
    coremu_machine_exit(pc->machine, 0);
}

static void pc_cpu_shutdown(void *opaque, struct x86_cpu *cpu)
{
    (void)cpu;
    pc_system_reset(opaque);
}

static void pc_pm_power_off(void *opaque)
{
    pc_power_off(opaque);
}

static void pc_reset_line(void *opaque)
{
    pc_system_reset(opaque);
}

/* ---- port devices --------------------------------------------------------------------------- */

static int debug_exit_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    *value = 0;
    return COREMU_MEM_OK;
}

static int debug_exit_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pc_board *pc = opaque;
    (void)offset;
    (void)size;
    coremu_machine_exit(pc->machine, (int)(((value << 1) | 1) & 0xff));
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops debug_exit_ops = {
    .read = debug_exit_read,
    .write = debug_exit_write,
    .sizes = 1 | 2 | 4,
    .allow_unaligned = true,
};

static int post_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)opaque;
    (void)offset;
    *value = x86_size_mask(size);
    return COREMU_MEM_OK;
}

static int post_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "pc: POST code %#llx\n", (unsigned long long)value);
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops post_ops = {
    .read = post_read,
    .write = post_write,
    .sizes = 1 | 2 | 4,
};

static int sysctl_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct pc_board *pc = opaque;
    (void)offset;
    (void)size;
    *value = atomic_load(&pc->sysctl) | 2u; /* A20 reads enabled: it always is */
    return COREMU_MEM_OK;
}

static int sysctl_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pc_board *pc = opaque;
    (void)offset;
    (void)size;
    atomic_store(&pc->sysctl, (uint8_t)(value & 2));
    if (value & 1) {
        pc_system_reset(pc);
    }
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops sysctl_ops = {
    .read = sysctl_read,
    .write = sysctl_write,
    .sizes = 1,
};

/* The PIC's INTR output: the boot core's LINT0 (ExtINT), as on a PC. Called with the PIC's
 * lock held; the LAPIC takes the level without a lock. */
static void pc_pic_intr(void *opaque, bool level)
{
    struct pc_board *pc = opaque;
    if (pc->lapics && pc->lapics[0]) {
        x86_lapic_set_extint(pc->lapics[0], level);
    }
}

static void pc_pic_reset(void *opaque)
{
    i8259_reset(opaque);
}

static void pc_pic_free(void *opaque)
{
    i8259_free(opaque);
}

static void pc_pit_reset(void *opaque)
{
    i8254_reset(opaque);
}

static void pc_pit_free(void *opaque)
{
    i8254_free(opaque);
}

static void pc_rtc_reset(void *opaque)
{
    mc146818_reset(opaque);
}

static void pc_rtc_free(void *opaque)
{
    mc146818_free(opaque);
}

/* The part of -m below the PCI hole (the rest is above 4 GiB). */
static uint64_t pc_ram_low(uint64_t ram_size)
{
    return ram_size < PC_LOW_RAM_MAX ? ram_size : PC_LOW_RAM_MAX;
}

/* The CMOS RAM's memory sizes, as a PC BIOS leaves them: KiB from 1 MiB to 64 MiB (0x30/0x31,
 * and 0x17/0x18), 64 KiB units from 16 MiB to the PCI hole (0x34/0x35) and above 4 GiB
 * (0x5b-0x5d, the firmware convention QEMU's pc follows). Linux reads the e820 map instead;
 * older loaders and DOS-era software read these. */
static void pc_cmos_memory(struct mc146818 *rtc, uint64_t ram_size)
{
    uint64_t ram_low = pc_ram_low(ram_size), ram_high = ram_size - ram_low;
    uint64_t ext_kib = ram_low > (1u << 20) ? (ram_low - (1u << 20)) >> 10 : 0;
    uint64_t above16 = ram_low > (16u << 20) ? (ram_low - (16u << 20)) >> 16 : 0;
    uint64_t above4g = ram_high >> 16;
    if (ext_kib > 0xffff) {
        ext_kib = 0xffff;
    }
    if (above16 > 0xffff) {
        above16 = 0xffff;
    }
    mc146818_nvram_write(rtc, 0x17, (uint8_t)ext_kib);
    mc146818_nvram_write(rtc, 0x18, (uint8_t)(ext_kib >> 8));
    mc146818_nvram_write(rtc, 0x30, (uint8_t)ext_kib);
    mc146818_nvram_write(rtc, 0x31, (uint8_t)(ext_kib >> 8));
    mc146818_nvram_write(rtc, 0x34, (uint8_t)above16);
    mc146818_nvram_write(rtc, 0x35, (uint8_t)(above16 >> 8));
    mc146818_nvram_write(rtc, 0x5b, (uint8_t)above4g);
    mc146818_nvram_write(rtc, 0x5c, (uint8_t)(above4g >> 8));
    mc146818_nvram_write(rtc, 0x5d, (uint8_t)(above4g >> 16));
}

static void pc_uart_reset(void *opaque)
{
    uart16550_reset(opaque);
}

static void pc_uart_free(void *opaque)
{
    uart16550_free(opaque);
}

static void pc_hpet_reset(void *opaque)
{
    hpet_reset(opaque);
}

static void pc_hpet_free(void *opaque)
{
    hpet_free(opaque);
}

static void pc_pm_reset(void *opaque)
{
    acpi_pm_reset(opaque);
}

static void pc_pm_free(void *opaque)
{
    acpi_pm_free(opaque);
}

static void pc_kbc_reset(void *opaque)
{
    i8042_reset(opaque);
}

static void pc_kbc_free(void *opaque)
{
    i8042_free(opaque);
}

/* A machine reset clears what the guest programmed (BARs, command registers, MSI-X): the
 * next boot finds the bus as the first one did, with nothing assigned. */
static void pc_pci_reset(void *opaque)
{
    pci_host_reset(opaque);
}

static void pc_pci_free(void *opaque)
{
    pci_host_free(opaque);
}

/* ---- PCI devices ---------------------------------------------------------------------------- */

/* One virtio-pci function of the command line, as a board device. */
struct pc_pci_device {
    struct pc_board *pc;   /* immutable */
    struct virtio_pci *vp; /* immutable once created */
    unsigned line;         /* immutable: its INTA#'s line (0-3: GSI pci_intx_gsi_base + line) */
    bool asserted;         /* under pc->pci_intx_lock */
    char name[40];         /* immutable */
};

/* A device's INTA#: the line is a wired-OR of the devices on it, and active low (high while
 * none asserts it). Called with the device's lock held. */
static void pc_pci_intx_set(void *opaque, bool level)
{
    struct pc_pci_device *d = opaque;
    struct pc_board *pc = d->pc;
    pthread_mutex_lock(&pc->pci_intx_lock);
    if (level != d->asserted) {
        d->asserted = level;
        unsigned *count = &pc->pci_intx_count[d->line];
        bool before = *count != 0;
        *count = level ? *count + 1 : *count - 1;
        if (before != (*count != 0)) {
            struct coremu_irq_line gsi = pc_gsi_line(pc, pc->pci_intx_gsi_base + d->line);
            coremu_irq_set(&gsi, *count == 0);
        }
    }
    pthread_mutex_unlock(&pc->pci_intx_lock);
}

/* An MSI: a write of data at address 0xFEExxxxx (Intel SDM Vol. 3A 11.11): destination in
 * address bits 19:12, logical destination mode in bit 2; vector in data bits 7:0, delivery
 * mode in 10:8. MSIs are edges: the trigger-mode bit is not modelled. Called with the device's
 * lock held; the local APICs take no lock. */
static void pc_msi_send(void *opaque, uint64_t address, uint32_t data)
{
    struct pc_board *pc = opaque;
    if ((address >> 20) != 0xfee) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
                   "pc: MSI 0x%x to 0x%llx, outside the local APICs' 0xFEExxxxx: dropped\n", data,
                   (unsigned long long)address);
        return;
    }
    pc_apic_deliver(pc, (uint8_t)(address >> 12), (address & 4) != 0, (data >> 8) & 7,
                    (uint8_t)data, false);
}

static void pc_pci_device_reset(void *opaque)
{
    struct pc_pci_device *d = opaque;
    virtio_pci_reset(d->vp);
}

static void pc_pci_device_free(void *opaque)
{
    struct pc_pci_device *d = opaque;
    virtio_pci_free(d->vp);
    free(d);
}

/* -device ...,addr=SLOT[.FN], both hexadecimal as QEMU reads them ("4", "0x4", "04.0"). */
static bool pc_parse_pci_addr(const char *text, unsigned *slot, unsigned *fn)
{
    char *end;
    unsigned long s = strtoul(text, &end, 16), f = 0;
    if (end == text || s > 31) {
        return false;
    }
    if (*end == '.') {
        const char *fs = end + 1;
        f = strtoul(fs, &end, 16);
        if (end == fs || f > 7) {
            return false;
        }
    }
    if (*end != '\0') {
        return false;
    }
    *slot = (unsigned)s;
    *fn = (unsigned)f;
    return true;
}

/* The PCI INTx lines, idle (high), and the command line's virtio devices on the PCI bus. */
static int pc_create_pci_devices(struct pc_board *pc, unsigned intx_gsi_base, char *err,
                                 size_t errlen)
{
    if (pthread_mutex_init(&pc->pci_intx_lock, NULL) != 0) {
        return pc_error(err, errlen, "out of memory");
    }
    pc->pci_intx_lock_ready = true;
    pc->pci_intx_gsi_base = intx_gsi_base;
    for (unsigned line = 0; line < PC_PCI_INTX_LINES; line++) {
        struct coremu_irq_line gsi = pc_gsi_line(pc, intx_gsi_base + line);
        coremu_irq_set(&gsi, true);
    }
    const struct virtio_cmdline *plan = pc->cfg.virtio;
    bool used[32] = {[0] = true}; /* the host bridge */
    unsigned next = pc->cfg.first_pci_slot != 0 ? pc->cfg.first_pci_slot : 2;
    for (unsigned i = 0; plan != NULL && i < plan->n; i++) {
        const struct virtio_cmdline_dev *vd = &plan->dev[i];
        unsigned slot, fn = 0;
        if (vd->addr != NULL) {
            if (!pc_parse_pci_addr(vd->addr, &slot, &fn)) {
                return pc_error(err, errlen,
                                "-device addr=%s: expected a PCI slot 0-1f, optionally with a "
                                "function 0-7 (addr=4 or addr=04.1)",
                                vd->addr);
            }
        } else {
            while (next < 32 && used[next]) {
                next++;
            }
            if (next == 32) {
                return pc_error(err, errlen, "too many PCI devices: the bus has 32 slots");
            }
            slot = next;
        }
        used[slot] = true;
        struct coremu_virtio_device *dev =
            virtio_cmdline_create(plan, vd, pc->as, coremu_board_xmon(pc->board), err, errlen);
        if (dev == NULL) {
            return -1;
        }
        struct pc_pci_device *d = calloc(1, sizeof(*d));
        if (d == NULL) {
            dev->ops->free(dev);
            return pc_error(err, errlen, "out of memory");
        }
        d->pc = pc;
        d->line = slot % PC_PCI_INTX_LINES; /* INTA# (pin 0) of slot: the _PRT's (slot + 0) % 4 */
        snprintf(d->name, sizeof(d->name), "%s-pci@%02x.%x", dev->ops->name, slot, fn);
        const struct virtio_pci_config vc = {
            .name = d->name,
            .host = pc->pci,
            .bus = 0,
            .slot = slot,
            .fn = fn,
            .mem = pc->as,
            .intx = {pc_pci_intx_set, d},
            .msi = {pc_msi_send, pc},
        };
        d->vp = virtio_pci_new(&vc, dev, err, errlen);
        if (d->vp == NULL) {
            free(d);
            return -1;
        }
        if (coremu_board_add_device(pc->board, d->name, d, pc_pci_device_reset,
                                    pc_pci_device_free) != 0) {
            return pc_error(err, errlen, "out of memory"); /* the board freed d */
        }
    }
    return 0;
}

/* ---- cores ---------------------------------------------------------------------------------- */

/* Puts core 0 in the state the boot protocol promises the kernel. */
static void apply_boot_state(struct x86_cpu *cpu, const struct x86_boot_state *s)
{
    uint64_t code[2] = {s->cs_descriptor, 0}, data[2] = {s->data_descriptor, 0};
    const uint16_t data_sel[] = {
        [X86_ES] = s->es, [X86_SS] = s->ss, [X86_DS] = s->ds, [X86_FS] = s->fs, [X86_GS] = s->gs};

    cpu->gpr[X86_RAX] = s->rax;
    cpu->gpr[X86_RBX] = s->rbx;
    cpu->gpr[X86_RCX] = s->rcx;
    cpu->gpr[X86_RDX] = s->rdx;
    cpu->gpr[X86_RSI] = s->rsi;
    cpu->gpr[X86_RDI] = s->rdi;
    cpu->gpr[X86_RBP] = s->rbp;
    cpu->gpr[X86_RSP] = s->rsp;
    cpu->rip = s->rip;
    x86_rflags_write(cpu, s->rflags);
    cpu->cr0 = s->cr0;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    cpu->efer = s->efer;
    cpu->gdtr.base = s->gdtr_base;
    cpu->gdtr.limit = s->gdtr_limit;
    cpu->idtr.base = 0;
    cpu->idtr.limit = 0;
    x86_descriptor_to_cache(code, s->cs, &cpu->seg[X86_CS]);
    for (unsigned i = 0; i < X86_LDTR; i++) {
        if (i != X86_CS) {
            x86_descriptor_to_cache(data, data_sel[i], &cpu->seg[i]);
        }
    }
    cpu->cpl = 0;
    x86_tlb_flush_all(cpu);
}

static void pc_cpu_run(struct coremu_cpu *rt)
{
    struct x86_cpu *cpu = rt->arch;
    struct pc_board *pc = cpu->board.opaque;

    x86_cpu_reset(cpu);
    coremu_tb_power_on(&cpu->tb);
    cpu->leave = false;
    pc_apic_power_on(pc, cpu);
    if (rt->index == 0) {
        apply_boot_state(cpu, &pc->boot.state);
    }
    COREMU_LOG(COREMU_LOG_INT, "cpu%u: power on at %016llx\n", rt->index,
               (unsigned long long)cpu->rip);
    x86_run_loop(cpu);
}

static void pc_cpu_tlb_flush(struct coremu_cpu *rt)
{
    x86_tlb_flush_all(rt->arch);
}

static void pc_cpu_timer_expired(struct coremu_cpu *rt)
{
    struct x86_cpu *cpu = rt->arch;
    pc_apic_timer_expired(cpu->board.opaque, rt->index);
}

static const struct coremu_cpu_ops pc_cpu_ops = {
    .run = pc_cpu_run,
    .timer_expired = pc_cpu_timer_expired,
    .tlb_flush_all = pc_cpu_tlb_flush,
};

static int pc_create_cpus(struct pc_board *pc, char *err, size_t errlen)
{
    unsigned n = pc->cfg.ncpus;
    pc->machine = coremu_machine_new(n, &pc_cpu_ops);
    pc->engine = coremu_tb_engine_new(&x86_tb_ops, n);
    pc->cpus = calloc(n, sizeof(*pc->cpus));
    pc->apic_ids = calloc(n, sizeof(*pc->apic_ids));
    if (!pc->machine || !pc->engine || !pc->cpus || !pc->apic_ids) {
        return pc_error(err, errlen, "cannot create %u cores: out of memory", n);
    }
    pc->machine->pin_threads = pc->cfg.pin_threads;
    for (unsigned i = 0; i < n; i++) {
        struct x86_cpu *cpu = calloc(1, sizeof(*cpu));
        if (!cpu) {
            return pc_error(err, errlen, "cannot create core %u: out of memory", i);
        }
        pc->cpus[i] = cpu;
        cpu->board.opaque = pc;
        cpu->board.shutdown = pc_cpu_shutdown;
        if (x86_cpu_init(cpu, pc->engine, pc->machine->cpus[i], pc->as, pc->io, i) != 0) {
            free(cpu);
            pc->cpus[i] = NULL;
            return pc_error(err, errlen, "cannot create core %u: out of memory", i);
        }
        /* -smp's sockets, cores and threads in the APIC ID, as CPUID leaves 1, 4, 0xB and 0x1F
         * describe them: thread, then core, then socket, each in a power-of-two field */
        unsigned threads = pc->cfg.threads_per_core ? pc->cfg.threads_per_core : 1;
        unsigned cores = pc->cfg.cores_per_socket ? pc->cfg.cores_per_socket : n;
        unsigned smt_bits = 0, core_bits = 0;
        while ((1u << smt_bits) < threads) {
            smt_bits++;
        }
        while ((1u << core_bits) < cores) {
            core_bits++;
        }
        cpu->threads_per_core = threads;
        cpu->cores_per_socket = cores;
        cpu->apic_id = ((i / (threads * cores)) << (smt_bits + core_bits)) |
                       (((i / threads) % cores) << smt_bits) | (i % threads);
        pc->apic_ids[i] = cpu->apic_id;
        pc->ncpus = i + 1;
        pc->machine->cpus[i]->arch = cpu;
    }
    return 0;
}

/* ---- the board ------------------------------------------------------------------------------ */

/* The ISA devices on the port-I/O space, each on its ISA interrupt line. */
static int pc_create_isa(struct pc_board *pc, char *err, size_t errlen)
{
    /* the PIC first: the devices' interrupt lines lead to it */
    struct coremu_irq_line intr = {pc_pic_intr, pc};
    pc->pic = i8259_new("pic", &intr);
    if (!pc->pic ||
        coremu_board_add_device(pc->board, "pic", pc->pic, pc_pic_reset, pc_pic_free) != 0 ||
        i8259_map(pc->pic, pc->io) != 0) {
        return pc_error(err, errlen, "cannot create the interrupt controllers");
    }
    struct coremu_irq_line irq0 = pc_isa_irq(pc, 0, PC_ISA_DEVICE);
    struct coremu_irq_line irq8 = pc_isa_irq(pc, 8, PC_ISA_DEVICE);
    pc->pit = i8254_new("pit", NULL, &irq0);
    if (!pc->pit ||
        coremu_board_add_device(pc->board, "pit", pc->pit, pc_pit_reset, pc_pit_free) != 0 ||
        i8254_map(pc->pit, pc->io) != 0) {
        return pc_error(err, errlen, "cannot create the PIT");
    }
    pc->rtc = mc146818_new("rtc", NULL, &irq8);
    if (!pc->rtc ||
        coremu_board_add_device(pc->board, "rtc", pc->rtc, pc_rtc_reset, pc_rtc_free) != 0 ||
        mc146818_map(pc->rtc, pc->io) != 0) {
        return pc_error(err, errlen, "cannot create the RTC");
    }
    mc146818_set_offset(pc->rtc, pc->cfg.rtc_offset);
    pc_cmos_memory(pc->rtc, pc->cfg.ram_size);
    /* COM1 always (the console Linux is told about); COM2-COM4 for further -serial options,
     * at the ports and ISA lines a PC BIOS gives them */
    static const struct {
        const char *name;
        uint16_t base;
        uint8_t irq;
    } com_ports[4] = {
        {"com1", UART16550_COM1_BASE, UART16550_COM1_IRQ},
        {"com2", UART16550_COM2_BASE, UART16550_COM2_IRQ},
        {"com3", UART16550_COM3_BASE, UART16550_COM3_IRQ},
        {"com4", UART16550_COM4_BASE, UART16550_COM4_IRQ},
    };
    unsigned ncom = pc->cfg.nserial_ports < 1 ? 1 : pc->cfg.nserial_ports;
    for (unsigned i = 0; i < ncom && i < 4; i++) {
        struct coremu_irq_line irq =
            pc_isa_irq(pc, com_ports[i].irq, i < 2 ? PC_ISA_DEVICE : PC_ISA_SHARED);
        pc->com[i] = uart16550_new(com_ports[i].name, NULL, &irq);
        if (!pc->com[i] ||
            coremu_board_add_device(pc->board, com_ports[i].name, pc->com[i], pc_uart_reset,
                                    pc_uart_free) != 0 ||
            uart16550_map(pc->com[i], pc->io, com_ports[i].base) != 0) {
            return pc_error(err, errlen, "cannot create %s", com_ports[i].name);
        }
    }
    struct i8042_board kbc_board = {
        .reset = pc_reset_line,
        .opaque = pc,
        .irq1 = pc_isa_irq(pc, 1, PC_ISA_DEVICE),
        .irq12 = pc_isa_irq(pc, 12, PC_ISA_DEVICE),
    };
    pc->kbc = i8042_new(&kbc_board);
    if (!pc->kbc ||
        coremu_board_add_device(pc->board, "i8042", pc->kbc, pc_kbc_reset, pc_kbc_free) != 0 ||
        i8042_map(pc->kbc, pc->io) != 0) {
        return pc_error(err, errlen, "cannot create the keyboard controller");
    }
    if (coremu_as_add_mmio(pc->io, "isa-debug-exit", PC_DEBUG_EXIT_PORT, 4, &debug_exit_ops, pc,
                           COREMU_MMIO_LOCKLESS) != 0 ||
        coremu_as_add_mmio(pc->io, "post", PC_POST_PORT, 1, &post_ops, pc, COREMU_MMIO_LOCKLESS) !=
            0 ||
        coremu_as_add_mmio(pc->io, "sysctl", PC_SYSCTL_PORT, 1, &sysctl_ops, pc,
                           COREMU_MMIO_LOCKLESS) != 0) {
        return pc_error(err, errlen, "cannot map the port devices");
    }
    return 0;
}

/* The chipset's other devices: HPET, ACPI power management, PCI host bridge. */
static int pc_create_chipset(struct pc_board *pc, const struct x86_acpi_config *acfg, char *err,
                             size_t errlen)
{
    struct coremu_irq_line hpet_irqs[HPET_NUM_IRQS] = {0};
    hpet_irqs[2] = pc_isa_irq(pc, 0, PC_ISA_HPET); /* legacy replacement: IRQ0 */
    hpet_irqs[8] = pc_isa_irq(pc, 8, PC_ISA_HPET); /* and IRQ8 */
    for (unsigned gsi = 20; gsi < 24; gsi++) {     /* the routes INT_ROUTE_CAP offers */
        hpet_irqs[gsi] = pc_gsi_line(pc, gsi);
    }
    pc->hpet = hpet_new("hpet", NULL, hpet_irqs);
    if (!pc->hpet ||
        coremu_board_add_device(pc->board, "hpet", pc->hpet, pc_hpet_reset, pc_hpet_free) != 0 ||
        hpet_map(pc->hpet, pc->as, acfg->hpet_addr) != 0) {
        return pc_error(err, errlen, "cannot create the HPET");
    }
    struct acpi_pm_board pm_board = {
        .power_off = pc_pm_power_off,
        .reset = pc_reset_line,
        .opaque = pc,
        .sci = pc_isa_irq(pc, acfg->sci_irq, PC_ISA_DEVICE),
    };
    pc->pm = acpi_pm_new(&pm_board);
    if (!pc->pm ||
        coremu_board_add_device(pc->board, "acpi-pm", pc->pm, pc_pm_reset, pc_pm_free) != 0 ||
        acpi_pm_map(pc->pm, pc->io, ACPI_PM_DEFAULT_BASE, 0) != 0) {
        return pc_error(err, errlen, "cannot create the ACPI power management block");
    }
    pc->pci = pci_host_new(acfg->ecam_bus_start, acfg->ecam_bus_end);
    if (!pc->pci ||
        coremu_board_add_device(pc->board, "pci-host", pc->pci, pc_pci_reset, pc_pci_free) != 0) {
        return pc_error(err, errlen, "cannot create the PCI host bridge");
    }
    /* 0xCF9, inside the configuration ports, is the chipset's reset control register */
    pci_host_set_cf9(pc->pci, &acpi_pm_reset_ops, pc->pm);
    if (pci_host_map(pc->pci, pc->io, pc->as, acfg->ecam_base) != 0) {
        return pc_error(err, errlen, "cannot map the PCI host bridge");
    }
    return 0;
}

struct pc_board *pc_new(const struct pc_config *cfg, char *err, size_t errlen)
{
    if (cfg->ram_size < (2ull << 20) || cfg->ram_size > PC_MAX_RAM) {
        pc_error(err, errlen, "-m: the PC takes 2 MiB to %llu MiB of RAM",
                 (unsigned long long)(PC_MAX_RAM >> 20));
        return NULL;
    }
    uint64_t ram_low = pc_ram_low(cfg->ram_size);
    uint64_t ram_high = cfg->ram_size - ram_low;
    struct pc_board *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        pc_error(err, errlen, "out of memory");
        return NULL;
    }
    pc->cfg = *cfg;
    pc->board = coremu_board_new(NULL);
    pc->io = coremu_as_new();
    if (!pc->board || !pc->io) {
        pc_error(err, errlen, "out of memory");
        goto fail;
    }
    pc->as = coremu_board_as(pc->board);
    /* x86 has no load-exclusive: the monitor only covers RAM as the board API wants, and the
     * RAM above 4 GiB needs none (it is a plain second RAM region of the address space) */
    if (coremu_board_add_ram(pc->board, "ram", 0, ram_low, COREMU_XMON_VALUE, NULL, NULL, err,
                             errlen) != 0) {
        goto fail;
    }
    if (ram_high != 0 && coremu_as_add_ram(pc->as, "ram-above-4g", PC_ABOVE_4G, ram_high) == NULL) {
        pc_error(err, errlen, "cannot allocate %llu MiB of guest RAM above 4 GiB: %s",
                 (unsigned long long)(ram_high >> 20), strerror(errno));
        goto fail;
    }
    /* the cores first: their APIC IDs go into the ACPI description the devices follow */
    if (pc_create_cpus(pc, err, errlen) != 0) {
        goto fail;
    }
    struct x86_acpi_config acfg;
    x86_acpi_config_default(&acfg, pc->ncpus, pc->apic_ids);
    acfg.ecam_base = PC_ECAM_BASE;
    acfg.ecam_bus_start = 0;
    acfg.ecam_bus_end = 255;
    acfg.pci_mem32_base = PC_PCI_MEM32_BASE;
    acfg.pci_mem32_size = PC_PCI_MEM32_SIZE;
    /* Devices are freed in the reverse order: the timers' devices go before the APICs their
     * interrupts reach. */
    if (pc_apic_create_ioapic(pc, acfg.ioapic_id & 0x0f, err, errlen) != 0 ||
        pc_apic_create_lapics(pc, err, errlen) != 0 || pc_create_isa(pc, err, errlen) != 0 ||
        pc_create_chipset(pc, &acfg, err, errlen) != 0 ||
        pc_create_pci_devices(pc, acfg.pci_intx_gsi_base, err, errlen) != 0) {
        goto fail;
    }

    /* the ACPI tables at the top of RAM, the RSDP also where a BIOS leaves it */
    uint64_t acpi_base = ram_low - PC_ACPI_SIZE;
    if (x86_acpi_build(&acfg, acpi_base, &pc->acpi, err, errlen) != 0) {
        goto fail;
    }
    if (pc->acpi.size > PC_ACPI_SIZE) {
        pc_error(err, errlen, "the ACPI tables (%zu bytes) do not fit in %llu KiB", pc->acpi.size,
                 (unsigned long long)(PC_ACPI_SIZE >> 10));
        goto fail;
    }
    if (x86_acpi_install(pc->as, &pc->acpi, PC_BIOS_BASE, err, errlen) != 0 ||
        coremu_board_keep_image(pc->board, acpi_base, pc->acpi.size, err, errlen) != 0 ||
        coremu_board_keep_image(pc->board, PC_BIOS_BASE, X86_ACPI_RSDP_SIZE, err, errlen) != 0) {
        goto fail;
    }

    struct x86_e820_range map[6] = {
        {0, PC_LOW_RAM_END, X86_E820_RAM},
        {PC_LOW_RAM_END, 0xa0000 - PC_LOW_RAM_END, X86_E820_RESERVED},
        {PC_BIOS_BASE, 0x10000, X86_E820_RESERVED},
        {PC_HIGH_RAM_BASE, acpi_base - PC_HIGH_RAM_BASE, X86_E820_RAM},
        {acpi_base, PC_ACPI_SIZE, X86_E820_ACPI},
        {PC_ABOVE_4G, ram_high, X86_E820_RAM},
    };
    struct x86_boot_config bc = {
        .kernel = cfg->kernel,
        .initrd = cfg->initrd,
        .append = cfg->append,
        .mem_map = map,
        .mem_map_len = ram_high != 0 ? 6 : 5,
        .acpi_rsdp_addr = pc->acpi.rsdp_addr,
    };
    if (x86_boot_load(pc->as, &bc, &pc->boot, err, errlen) != 0 ||
        x86_boot_keep_images(pc->board, &pc->boot, err, errlen) != 0) {
        goto fail;
    }
    return pc;

fail:
    pc_free(pc);
    return NULL;
}

void pc_attach_serial(struct pc_board *pc, unsigned index, struct coremu_chardev *chr)
{
    if (index < 4 && pc->com[index]) {
        uart16550_attach(pc->com[index], chr);
    }
}

int pc_run(struct pc_board *pc, char *err, size_t errlen)
{
    struct coremu_machine *m = pc->machine;
    int r = coremu_machine_start(m);
    if (r != 0) {
        return pc_error(err, errlen, "cannot start the core threads: %s", strerror(-r));
    }
    r = coremu_cpu_power_on(m->cpus[0], 0, 0);
    if (r != 0) {
        coremu_machine_exit(m, 1);
        coremu_machine_wait(m);
        return pc_error(err, errlen, "cannot power on core 0: %s", strerror(-r));
    }
    return coremu_machine_wait(m);
}

void pc_request_exit(struct pc_board *pc, int status)
{
    coremu_machine_exit(pc->machine, status);
}

void pc_free(struct pc_board *pc)
{
    if (!pc) {
        return;
    }
    for (unsigned i = 0; i < pc->ncpus; i++) {
        if (pc->cpus[i]) {
            x86_cpu_destroy(pc->cpus[i]);
            free(pc->cpus[i]);
        }
    }
    free(pc->cpus);
    free(pc->apic_ids);
    x86_acpi_tables_free(&pc->acpi);
    if (pc->engine) {
        coremu_tb_engine_free(pc->engine);
    }
    if (pc->machine) {
        coremu_machine_free(pc->machine);
    }
    /* the ports first (their devices are the board's to free), then the board */
    coremu_as_free(pc->io);
    coremu_board_free(pc->board);
    pc_apic_free(pc); /* after every device that could still raise a line */
    if (pc->pci_intx_lock_ready) {
        pthread_mutex_destroy(&pc->pci_intx_lock);
    }
    free(pc);
}
