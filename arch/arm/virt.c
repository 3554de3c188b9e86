/*
 * coremu ARM — the virt board: the memory map that Linux, U-Boot and bare-metal programs know
 * as the ARM "virt" machine, with the devices placed in it, the cores, and PSCI as firmware.
 *
 * This version has RAM, the GICv2 with its GICv2m MSI frame, the PL011 UART, the PL031 RTC,
 * PSCI (with a machine reset that restores the devices and the boot images), virtio-mmio
 * devices and the generic PCIe host (ECAM, a memory window and an I/O port window, INTA-D on
 * four SPIs, MSI through the GICv2m frame), placed where QEMU's virt puts them for a 32-bit
 * guest (no high ECAM or high memory window). The map below is
 * complete so that each device that comes later (GPIO, virtio-mmio, flash) only fills in its
 * row's create function; a row without one is left unmapped, and a guest access there is a bus
 * error that -d guest_errors reports.
 *
 * What is not ARM about a board (address space, RAM and its exclusive monitor, the boot images
 * kept for reset, the device list that resets and frees the devices) is lib/board.c's
 * coremu_board; this file wires the devices, the GIC and the cores, and hands the device tree
 * builder (fdt.c) its memory map as data.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/board.h>
#include <coremu/coremu.h>
#include <coremu/irq.h>
#include <coremu/util.h>

#include "board.h"
#include "cpu.h"
#include "gic.h"
#include "gicv2m.h"
#include "pci_host.h"
#include "pl011.h"
#include "pl031.h"
#include "virtio_cmdline.h"
#include "virtio_mmio.h"
#include "virtio_pci.h"

#define VIRT_RAM_DEFAULT (128ull << 20)
#define VIRT_RAM_TOP (4ull << 30) /* a 32-bit physical address space without LPAE */
#define VIRT_MAX_CPUS 8           /* GICv2 */
#define VIRT_VIRTIO_SLOTS 32
#define VIRT_V2M_SPIS 64          /* the GICv2m frame's SPIs, from its row's spi up */
#define VIRT_PCIE_BUSES 16        /* the ECAM row's size: 1 MiB per bus */
#define VIRT_PCIE_INTX 4          /* INTA-D: four SPIs from the ECAM row's spi up */
#define VIRT_PCI_SLOTS 32

struct virt_board;
struct virt_region;

typedef int (*virt_create_fn)(struct virt_board *vb, const struct virt_region *r, char *err,
                              size_t errlen);

/* One row of the memory map. spi is the GIC shared peripheral interrupt (-1: none); a row with
 * count > 1 is an array of identical devices, each size bytes apart, with consecutive SPIs. */
struct virt_region {
    const char *name;
    uint64_t base;
    uint64_t size;
    int spi;
    unsigned count;
    virt_create_fn create; /* NULL: not modelled yet (left unmapped) */
};

enum virt_region_id {
    VIRT_FLASH,
    VIRT_GIC_DIST,
    VIRT_GIC_CPU,
    VIRT_GIC_V2M,
    VIRT_UART0,
    VIRT_RTC,
    VIRT_FW_CFG,
    VIRT_GPIO,
    VIRT_VIRTIO,
    VIRT_PCIE_MMIO,
    VIRT_PCIE_PIO,
    VIRT_PCIE_ECAM,
    VIRT_RAM,
    VIRT_NREGIONS
};

static int virt_create_gic_dist(struct virt_board *vb, const struct virt_region *r, char *err,
                                size_t errlen);
static int virt_create_gic_cpu(struct virt_board *vb, const struct virt_region *r, char *err,
                               size_t errlen);
static int virt_create_rtc(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen);
static int virt_create_uart(struct virt_board *vb, const struct virt_region *r, char *err,
                            size_t errlen);
static int virt_create_ram(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen);
static int virt_create_virtio_slots(struct virt_board *vb, const struct virt_region *r, char *err,
                                   size_t errlen);
static int virt_create_v2m(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen);
static int virt_create_pcie_mmio(struct virt_board *vb, const struct virt_region *r, char *err,
                                 size_t errlen);
static int virt_create_pcie_pio(struct virt_board *vb, const struct virt_region *r, char *err,
                                size_t errlen);
static int virt_create_pcie_ecam(struct virt_board *vb, const struct virt_region *r, char *err,
                                 size_t errlen);

/* The memory map. RAM's size is the -m value; the row gives its base and the largest size
 * that fits below 4 GiB. The GICv2m row's spi is the first of its VIRT_V2M_SPIS; the ECAM row's
 * is INTA's, INTB-D follow (board.h: arm_map_row). */
static const struct virt_region virt_memmap[VIRT_NREGIONS] = {
    [VIRT_FLASH] = {"flash", 0x00000000, 0x08000000, -1, 1, NULL},
    [VIRT_GIC_DIST] = {"gic-dist", 0x08000000, 0x00010000, -1, 1, virt_create_gic_dist},
    [VIRT_GIC_CPU] = {"gic-cpu", 0x08010000, 0x00010000, -1, 1, virt_create_gic_cpu},
    [VIRT_GIC_V2M] = {"gic-v2m", 0x08020000, GICV2M_SIZE, 48, 1, virt_create_v2m},
    [VIRT_UART0] = {"pl011", 0x09000000, 0x00001000, 1, 1, virt_create_uart},
    [VIRT_RTC] = {"pl031", 0x09010000, 0x00001000, 2, 1, virt_create_rtc},
    [VIRT_FW_CFG] = {"fw-cfg", 0x09020000, 0x00000018, -1, 1, NULL},
    [VIRT_GPIO] = {"pl061", 0x09030000, 0x00001000, 7, 1, NULL},
    [VIRT_VIRTIO] = {"virtio-mmio", 0x0a000000, 0x00000200, 16, VIRT_VIRTIO_SLOTS,
                     virt_create_virtio_slots},
    [VIRT_PCIE_MMIO] = {"pcie-mmio", 0x10000000, 0x2eff0000, -1, 1, virt_create_pcie_mmio},
    [VIRT_PCIE_PIO] = {"pcie-pio", 0x3eff0000, 0x00010000, -1, 1, virt_create_pcie_pio},
    [VIRT_PCIE_ECAM] = {"pcie-ecam", 0x3f000000, VIRT_PCIE_BUSES << 20, 3, 1,
                        virt_create_pcie_ecam},
    [VIRT_RAM] = {"ram", 0x40000000, VIRT_RAM_TOP - 0x40000000, -1, 1, virt_create_ram},
};

/* The generic timer's outputs and the PPIs they drive (board.h: VIRT_PPI_*). A core without
 * the Security Extensions has only the non-secure physical timer, so CNTP goes to PPI 14. */
static const int virt_timer_ppi[] = {
    [ARM_TIMER_PHYS] = VIRT_PPI_TIMER_NS_PHYS,
    [ARM_TIMER_VIRT] = VIRT_PPI_TIMER_VIRT,
};

/* Where a device's interrupt line goes: the GIC's shared peripheral interrupt spi. */
struct virt_spi {
    struct virt_board *vb;
    unsigned spi;
};

struct virt_board {
    struct arm_board arm;           /* first: the CPU and psci.c see only this part */
    struct virt_config cfg;         /* immutable copy of what main asked for */
    struct arm_boot_info boot_info; /* written by boot.c before the machine starts */
    /* Address space, RAM and exclusive monitor, kept boot images and the device list (which
     * owns the devices below). Built before the machine starts. */
    struct coremu_board *board;
    /* The memory map as the device tree describes it (the RAM row holds the RAM given). */
    struct arm_map_row map[VIRT_NREGIONS];
    struct pl011 *uart0;
    struct virt_spi uart0_spi;
    struct gic *gic;                /* created by the gic-dist row, before every device */
    struct pl031 *rtc;
    struct virt_spi rtc_spi;
    struct virt_spi virtio_spi[VIRT_VIRTIO_SLOTS];
    struct gicv2m *v2m;             /* created by the gic-v2m row */
    /* The PCIe host (the ECAM row) and the PCI I/O port space that the PIO window shows (the
     * pcie-pio row): both owned by the device list. */
    struct pci_host *pci;
    struct coremu_as *pci_io;
    /* INTA-D: each line is the wired OR of the INTx# outputs of the functions on it. */
    struct {
        pthread_mutex_t lock; /* makes each count change and the SPI's level one step */
        unsigned asserted;    /* functions asserting the line, under lock */
    } pci_line[VIRT_PCIE_INTX];
    bool pci_lines_ready;     /* the locks are initialised (virt_free destroys them) */
    struct virt_pci_intx {
        struct virt_board *vb;
        unsigned line;
    } pci_fn_intx[VIRTIO_CMDLINE_MAX]; /* one per virtio-*-pci device: its INTA#'s line */
    /* The command line's devices on virtio-mmio (named virtio-*-device), as indexes into
     * cfg.virtio->dev in command-line order; the others (virtio-*-pci) go on the PCIe bus. */
    unsigned mmio_dev[VIRTIO_CMDLINE_MAX];
    unsigned n_mmio;
};

static int virt_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int virt_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A device's interrupt output changed level (called with the device's lock held, on any
 * thread: see pl011.h). The GIC takes no lock, so this adds no lock order. */
static void virt_set_spi(void *opaque, bool level)
{
    const struct virt_spi *line = opaque;
    gic_set_irq(line->vb->gic, (int)(GIC_FIRST_SPI + line->spi), level);
}

/* The interrupt line of a device at row r: to the row's SPI, through *spi (which must live as
 * long as the device). */
static struct coremu_irq_line virt_spi_line(struct virt_board *vb, const struct virt_region *r,
                                            struct virt_spi *spi)
{
    *spi = (struct virt_spi){vb, (unsigned)r->spi};
    return (struct coremu_irq_line){virt_set_spi, spi};
}

/* The devices' hooks for the board's device list. */
static void virt_gic_reset(void *opaque)
{
    gic_reset(opaque);
}

static void virt_gic_free(void *opaque)
{
    gic_free(opaque);
}

static void virt_uart_reset(void *opaque)
{
    pl011_reset(opaque);
}

static void virt_uart_free(void *opaque)
{
    pl011_free(opaque);
}

static void virt_rtc_reset(void *opaque)
{
    pl031_reset(opaque);
}

static void virt_rtc_free(void *opaque)
{
    pl031_free(opaque);
}

static void virt_v2m_free(void *opaque)
{
    gicv2m_free(opaque);
}

static void virt_pci_reset(void *opaque)
{
    pci_host_reset(opaque);
}

static void virt_pci_free(void *opaque)
{
    pci_host_free(opaque);
}

static void virt_pci_io_free(void *opaque)
{
    coremu_as_free(opaque);
}

/* A core's generic timer output changed level (on that core's thread). */
static void virt_timer_output(struct arm_board *board, struct arm_cpu *cpu,
                              enum arm_timer_output which, bool level)
{
    struct virt_board *vb = (struct virt_board *)board;
    if ((unsigned)which < COREMU_ARRAY_SIZE(virt_timer_ppi)) {
        gic_set_ppi(vb->gic, cpu->rt->index, virt_timer_ppi[which], level);
    }
}

static int virt_create_gic_dist(struct virt_board *vb, const struct virt_region *r, char *err,
                                size_t errlen)
{
    vb->gic = gic_new(vb->cfg.ncpus, ARM_PENDING_IRQ, ARM_PENDING_FIQ);
    if (vb->gic == NULL ||
        coremu_board_add_device(vb->board, "gic", vb->gic, virt_gic_reset, virt_gic_free) != 0) {
        vb->gic = NULL;
        return virt_error(err, errlen, "cannot create the GIC: out of memory");
    }
    int r2 = gic_map_dist(vb->gic, vb->arm.as, r->base, r->size);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the GIC distributor: %s", strerror(-r2));
    }
    return 0;
}

static int virt_create_gic_cpu(struct virt_board *vb, const struct virt_region *r, char *err,
                               size_t errlen)
{
    int r2 = gic_map_cpu(vb->gic, vb->arm.as, r->base, r->size);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the GIC CPU interface: %s", strerror(-r2));
    }
    return 0;
}

static int virt_create_v2m(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen)
{
    vb->v2m = gicv2m_new(vb->gic, (unsigned)r->spi, VIRT_V2M_SPIS);
    if (vb->v2m == NULL ||
        coremu_board_add_device(vb->board, "gicv2m", vb->v2m, NULL, virt_v2m_free) != 0) {
        vb->v2m = NULL;
        return virt_error(err, errlen, "cannot create the GICv2m frame: out of memory");
    }
    int r2 = gicv2m_map(vb->v2m, vb->arm.as, r->base);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the GICv2m frame: %s", strerror(-r2));
    }
    return 0;
}

/* The memory window: nothing answers there but the BARs that the guest places in it, which their
 * devices map themselves. */
static int virt_create_pcie_mmio(struct virt_board *vb, const struct virt_region *r, char *err,
                                 size_t errlen)
{
    (void)vb;
    (void)r;
    (void)err;
    (void)errlen;
    return 0;
}

/* The PIO window: 64 KiB of memory through which a core reaches the PCI I/O port space (port p
 * at the window's base + p), where I/O BARs are mapped as on a PC. */
static int virt_pio_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    return coremu_as_read(opaque, offset, size, value);
}

static int virt_pio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    return coremu_as_write(opaque, offset, size, value);
}

/* Lockless: the port space's regions have their own locks. */
static const struct coremu_mmio_ops virt_pio_ops = {
    .read = virt_pio_read,
    .write = virt_pio_write,
    .sizes = 1 | 2 | 4,
};

static int virt_create_pcie_pio(struct virt_board *vb, const struct virt_region *r, char *err,
                                size_t errlen)
{
    vb->pci_io = coremu_as_new();
    if (vb->pci_io == NULL ||
        coremu_board_add_device(vb->board, "pci-io", vb->pci_io, NULL, virt_pci_io_free) != 0) {
        vb->pci_io = NULL;
        return virt_error(err, errlen, "cannot create the PCI I/O space: out of memory");
    }
    int r2 = coremu_as_add_mmio(vb->arm.as, r->name, r->base, r->size, &virt_pio_ops, vb->pci_io,
                                COREMU_MMIO_LOCKLESS);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the PCI I/O window: %s", strerror(-r2));
    }
    return 0;
}

/* The generic PCIe host's own function 00:00.0, with the identity QEMU's virt gives it (Red Hat's
 * PCIe host bridge), so that a guest sees the same bus on both. */
static const struct pci_function_desc virt_pcie_bridge = {
    .vendor_id = 0x1b36,
    .device_id = 0x0008,
    .subsystem_vendor_id = 0x1af4,
    .subsystem_id = 0x1100,
    .class_code = 0x060000,
};

static int virt_create_pcie_ecam(struct virt_board *vb, const struct virt_region *r, char *err,
                                 size_t errlen)
{
    vb->pci = pci_host_new_bridge(0, (uint8_t)((r->size >> 20) - 1), &virt_pcie_bridge);
    if (vb->pci == NULL ||
        coremu_board_add_device(vb->board, "pcie", vb->pci, virt_pci_reset, virt_pci_free) != 0) {
        vb->pci = NULL;
        return virt_error(err, errlen, "cannot create the PCIe host: out of memory");
    }
    for (unsigned i = 0; i < VIRT_PCIE_INTX; i++) {
        pthread_mutex_init(&vb->pci_line[i].lock, NULL);
    }
    vb->pci_lines_ready = true;
    int r2 = pci_host_map(vb->pci, NULL, vb->arm.as, r->base);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the PCIe ECAM window: %s", strerror(-r2));
    }
    return 0;
}

static int virt_create_rtc(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen)
{
    const struct coremu_irq_line irq = virt_spi_line(vb, r, &vb->rtc_spi);
    vb->rtc = pl031_new("rtc", NULL, &irq);
    if (vb->rtc == NULL ||
        coremu_board_add_device(vb->board, "rtc", vb->rtc, virt_rtc_reset, virt_rtc_free) != 0) {
        vb->rtc = NULL;
        return virt_error(err, errlen, "cannot create the PL031 RTC: out of memory");
    }
    pl031_set_offset(vb->rtc, vb->cfg.rtc_offset);
    int r2 = pl031_map(vb->rtc, vb->arm.as, r->base);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the PL031 RTC: %s", strerror(-r2));
    }
    return 0;
}

static int virt_create_ram(struct virt_board *vb, const struct virt_region *r, char *err,
                           size_t errlen)
{
    /* arm_xmon_watch (atomic_arm.c) gets the arm_board: it flushes every core's TLB. */
    if (coremu_board_add_ram(vb->board, r->name, r->base, vb->arm.ram_size, vb->cfg.llsc,
                             arm_xmon_watch, &vb->arm, err, errlen) != 0) {
        return -1;
    }
    vb->arm.xmon = coremu_board_xmon(vb->board);
    return 0;
}

static int virt_create_uart(struct virt_board *vb, const struct virt_region *r, char *err,
                            size_t errlen)
{
    const struct coremu_irq_line irq = virt_spi_line(vb, r, &vb->uart0_spi);
    vb->uart0 = pl011_new("uart0", NULL, &irq);
    if (vb->uart0 == NULL ||
        coremu_board_add_device(vb->board, "uart0", vb->uart0, virt_uart_reset, virt_uart_free) !=
            0) {
        vb->uart0 = NULL;
        return virt_error(err, errlen, "cannot create the PL011 UART: out of memory");
    }
    int r2 = pl011_map(vb->uart0, vb->arm.as, r->base);
    if (r2 != 0) {
        return virt_error(err, errlen, "cannot map the PL011 UART: %s", strerror(-r2));
    }
    return 0;
}

/* An empty virtio-mmio slot (virtio 1.x, 4.2.2): the magic and version of a transport with
 * DeviceID 0, "no device", so that a driver probing every slot the device tree lists skips it.
 * Every other register reads 0 and writes are ignored. A real device takes its slot over
 * later. Stateless, hence lockless and with no opaque. */
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION 2u

static int virt_virtio_empty_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)opaque;
    (void)size;
    *value = offset == 0x000 ? VIRTIO_MMIO_MAGIC : offset == 0x004 ? VIRTIO_MMIO_VERSION : 0;
    return COREMU_MEM_OK;
}

static int virt_virtio_empty_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    (void)value;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops virt_virtio_empty_ops = {
    .read = virt_virtio_empty_read,
    .write = virt_virtio_empty_write,
    .sizes = 4, /* the transport's registers are 32-bit */
};

/* How many virtio devices the command line asked for. */
static unsigned virt_virtio_count(const struct virt_board *vb)
{
    return vb->cfg.virtio != NULL ? vb->cfg.virtio->n : 0;
}

/* Sorts the command line's devices by transport (vb->mmio_dev). */
static void virt_virtio_sort(struct virt_board *vb)
{
    vb->n_mmio = 0;
    for (unsigned d = 0; d < virt_virtio_count(vb); d++) {
        if (!vb->cfg.virtio->dev[d].second_transport) {
            vb->mmio_dev[vb->n_mmio++] = d;
        }
    }
}

/* The device in slot i, as QEMU places them: from the highest address down, so the first
 * virtio-mmio device of the command line is in the last slot. -1: the slot stays empty. */
static int virt_virtio_device_of_slot(const struct virt_board *vb, const struct virt_region *r,
                                      unsigned i)
{
    unsigned k = r->count - 1 - i;
    return k < vb->n_mmio ? (int)vb->mmio_dev[k] : -1;
}

static void virt_virtio_reset(void *opaque)
{
    virtio_mmio_reset(opaque);
}

static void virt_virtio_free(void *opaque)
{
    virtio_mmio_free(opaque);
}

/* The slots with a device: after the RAM row, since devices break its exclusive reservations
 * when they write guest memory. */
static int virt_create_virtio_devices(struct virt_board *vb, char *err, size_t errlen)
{
    const struct virt_region *r = &virt_memmap[VIRT_VIRTIO];
    for (unsigned i = 0; i < r->count; i++) {
        int d = virt_virtio_device_of_slot(vb, r, i);
        if (d < 0) {
            continue;
        }
        struct coremu_virtio_device *dev =
            virtio_cmdline_create(vb->cfg.virtio, &vb->cfg.virtio->dev[d], vb->arm.as,
                                  vb->arm.xmon, err, errlen);
        if (dev == NULL) {
            return -1;
        }
        struct virt_spi *spi = &vb->virtio_spi[i];
        *spi = (struct virt_spi){vb, (unsigned)r->spi + i};
        const struct coremu_irq_line irq = {virt_set_spi, spi};
        struct virtio_mmio *m = virtio_mmio_new(dev->ops->name, dev, &irq);
        if (m == NULL) {
            dev->ops->free(dev);
            return virt_error(err, errlen, "cannot create virtio-mmio: out of memory");
        }
        if (coremu_board_add_device(vb->board, dev->ops->name, m, virt_virtio_reset,
                                    virt_virtio_free) != 0) {
            return virt_error(err, errlen, "cannot create virtio-mmio: out of memory");
        }
        int r2 = virtio_mmio_map(m, vb->arm.as, r->base + (uint64_t)i * r->size, r->size);
        if (r2 != 0) {
            return virt_error(err, errlen, "cannot map virtio-mmio slot %u: %s", i,
                              strerror(-r2));
        }
    }
    return 0;
}

static int virt_create_virtio_slots(struct virt_board *vb, const struct virt_region *r, char *err,
                                   size_t errlen)
{
    if (vb->n_mmio > r->count) {
        return virt_error(err, errlen, "%u virtio-mmio devices: virt has %u virtio-mmio slots",
                          vb->n_mmio, r->count);
    }
    for (unsigned i = 0; i < r->count; i++) {
        if (virt_virtio_device_of_slot(vb, r, i) >= 0) {
            continue; /* virt_create_virtio_devices */
        }
        int r2 = coremu_as_add_mmio(vb->arm.as, r->name, r->base + (uint64_t)i * r->size, r->size,
                                    &virt_virtio_empty_ops, NULL, COREMU_MMIO_LOCKLESS);
        if (r2 != 0) {
            return virt_error(err, errlen, "cannot map virtio-mmio slot %u: %s", i,
                              strerror(-r2));
        }
    }
    return 0;
}

/* A PCI function's MSI-X message (with the device's lock held): a write of data to address,
 * which a guest points at the GICv2m frame's doorbell. Nothing else on the board takes
 * messages; RAM as a target is the guest's error too. */
static void virt_msi_send(void *opaque, uint64_t address, uint32_t data)
{
    struct virt_board *vb = opaque;
    if (address == virt_memmap[VIRT_GIC_V2M].base + GICV2M_SETSPI_NS) {
        gicv2m_setspi(vb->v2m, data);
        return;
    }
    COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
               "virt: MSI 0x%x to 0x%llx, which is not the GICv2m doorbell: dropped\n", data,
               (unsigned long long)address);
}

/* A function's INTx# changed level (virtio_pci.h: only on a change, with the device's lock held).
 * The line's SPI is high while any function asserts it. */
static void virt_pci_set_intx(void *opaque, bool level)
{
    struct virt_pci_intx *x = opaque;
    struct virt_board *vb = x->vb;
    unsigned spi = (unsigned)virt_memmap[VIRT_PCIE_ECAM].spi + x->line;
    pthread_mutex_lock(&vb->pci_line[x->line].lock);
    unsigned before = vb->pci_line[x->line].asserted;
    unsigned after = level ? before + 1 : (before > 0 ? before - 1 : 0);
    vb->pci_line[x->line].asserted = after;
    if ((before == 0) != (after == 0)) {
        gic_set_irq(vb->gic, (int)(GIC_FIRST_SPI + spi), after != 0);
    }
    pthread_mutex_unlock(&vb->pci_line[x->line].lock);
}

static void virt_virtio_pci_reset(void *opaque)
{
    virtio_pci_reset(opaque);
}

static void virt_virtio_pci_free(void *opaque)
{
    virtio_pci_free(opaque);
}

/* addr=SLOT[.FN] of a -device (hexadecimal, as QEMU reads it) into *slot and *fn. */
static int virt_pci_addr(const char *addr, unsigned *slot, unsigned *fn, char *err, size_t errlen)
{
    char *end;
    unsigned long s = strtoul(addr, &end, 16);
    unsigned long f = 0;
    if (end != addr && *end == '.') {
        const char *p = end + 1;
        f = strtoul(p, &end, 16);
        if (end == p) {
            end = (char *)addr; /* refused below */
        }
    }
    if (end == addr || *end != '\0' || s >= VIRT_PCI_SLOTS || f > 7 || (s == 0 && f == 0)) {
        return virt_error(err, errlen,
                          "-device addr=%s: expected SLOT[.FN] with SLOT 0x1-0x1f (00.0 is the "
                          "host bridge) and FN 0-7",
                          addr);
    }
    *slot = (unsigned)s;
    *fn = (unsigned)f;
    return 0;
}

/* The command line's virtio-*-pci devices on bus 0, in command-line order: at their addr=, or in
 * the first slot from 1 up that has no function yet (QEMU's placement); INTA# of slot s on line
 * s % 4 (the interrupt map's swizzle), MSI-X through the GICv2m frame. After the RAM row (their
 * device models write guest memory). */
static int virt_create_pci_devices(struct virt_board *vb, char *err, size_t errlen)
{
    uint8_t used[VIRT_PCI_SLOTS] = {1}; /* functions taken, a bit each; 00.0: the bridge */
    for (unsigned d = 0; d < virt_virtio_count(vb); d++) {
        const struct virtio_cmdline_dev *cd = &vb->cfg.virtio->dev[d];
        if (!cd->second_transport) {
            continue;
        }
        unsigned slot = 1, fn = 0;
        if (cd->addr != NULL) {
            if (virt_pci_addr(cd->addr, &slot, &fn, err, errlen) != 0) {
                return -1;
            }
            if (used[slot] & (1u << fn)) {
                return virt_error(err, errlen, "-device addr=%s: PCI address 00:%02x.%u is taken",
                                  cd->addr, slot, fn);
            }
        } else {
            while (slot < VIRT_PCI_SLOTS && used[slot] != 0) {
                slot++;
            }
            if (slot == VIRT_PCI_SLOTS) {
                return virt_error(err, errlen, "no free PCI slot left on bus 0 (31 devices)");
            }
        }
        used[slot] |= (uint8_t)(1u << fn);
        /* INTA# of slot s: the interrupt map's swizzle (s + pin - 1) % 4 with pin 1. */
        vb->pci_fn_intx[d] = (struct virt_pci_intx){vb, slot % VIRT_PCIE_INTX};
        struct coremu_virtio_device *dev = virtio_cmdline_create(
            vb->cfg.virtio, cd, vb->arm.as, vb->arm.xmon, err, errlen);
        if (dev == NULL) {
            return -1;
        }
        const struct virtio_pci_config pc = {
            .name = dev->ops->name,
            .host = vb->pci,
            .bus = 0,
            .slot = slot,
            .fn = fn,
            .mem = vb->arm.as,
            .intx = {virt_pci_set_intx, &vb->pci_fn_intx[d]},
            .msi = {virt_msi_send, vb},
        };
        struct virtio_pci *p = virtio_pci_new(&pc, dev, err, errlen);
        if (p == NULL) {
            return -1;
        }
        if (coremu_board_add_device(vb->board, pc.name, p, virt_virtio_pci_reset,
                                    virt_virtio_pci_free) != 0) {
            return virt_error(err, errlen, "cannot create %s: out of memory", pc.name);
        }
    }
    return 0;
}

/* Keeps what boot.c loaded, for machine resets. */
static int virt_save_images(struct virt_board *vb, char *err, size_t errlen)
{
    const struct arm_boot_info *bi = &vb->boot_info;
    if (bi->kind == ARM_IMAGE_NONE) {
        return 0;
    }
    if (coremu_board_keep_image(vb->board, bi->image_low, bi->image_high - bi->image_low, err,
                                errlen) != 0 ||
        coremu_board_keep_image(vb->board, bi->initrd_start, bi->initrd_size, err, errlen) != 0 ||
        coremu_board_keep_image(vb->board, bi->dtb_addr, bi->dtb_size, err, errlen) != 0) {
        return -1;
    }
    return 0;
}

/* Runs with the world stopped and every core off (coremu_machine_reset): devices to their reset
 * state (the GIC first, then the devices that drive its inputs), the images back in RAM as they
 * were loaded; core 0 starts again at the boot entry. */
static void virt_reset_machine(void *opaque)
{
    struct virt_board *vb = opaque;
    coremu_board_reset(vb->board); /* warns itself about an image it could not restore */
    vb->arm.cpus[0]->booted = false; /* core 0 takes its registers from board->boot again */
}

void virt_system_reset(struct arm_board *board)
{
    struct virt_board *vb = (struct virt_board *)board;
    COREMU_LOG(COREMU_LOG_INT, "machine reset\n");
    coremu_machine_reset(board->machine, 0, board->boot.entry | (board->boot.thumb ? 1u : 0u),
                         board->boot.r0, virt_reset_machine, vb);
}

static int virt_create_cpus(struct virt_board *vb, char *err, size_t errlen)
{
    unsigned n = vb->cfg.ncpus;
    vb->arm.machine = coremu_machine_new(n, &arm_cpu_ops);
    vb->arm.cpus = calloc(n, sizeof(*vb->arm.cpus));
    if (vb->arm.machine == NULL || vb->arm.cpus == NULL) {
        return virt_error(err, errlen, "cannot create %u cores: out of memory", n);
    }
    vb->arm.ncpus = n;
    vb->arm.machine->pin_threads = vb->cfg.pin_threads;
    for (unsigned i = 0; i < n; i++) {
        vb->arm.cpus[i] = arm_cpu_new(&vb->arm, vb->arm.machine->cpus[i], i);
        if (vb->arm.cpus[i] == NULL) {
            return virt_error(err, errlen, "cannot create core %u: out of memory", i);
        }
    }
    return 0;
}

struct arm_board *virt_new(const struct virt_config *cfg, char *err, size_t errlen)
{
    const struct virt_region *ram = &virt_memmap[VIRT_RAM];
    uint64_t ram_size = cfg->ram_size != 0 ? cfg->ram_size : VIRT_RAM_DEFAULT;
    if (cfg->ncpus == 0 || cfg->ncpus > VIRT_MAX_CPUS) {
        virt_error(err, errlen, "virt supports 1 to %d cores (GICv2), not %u", VIRT_MAX_CPUS,
                   cfg->ncpus);
        return NULL;
    }
    if (ram_size > ram->size) {
        virt_error(err, errlen,
                   "-m %lluM is too much for virt: RAM starts at 0x%08llx and must end below "
                   "4 GiB, so at most %lluM",
                   (unsigned long long)(ram_size >> 20), (unsigned long long)ram->base,
                   (unsigned long long)(ram->size >> 20));
        return NULL;
    }
    if (ram_size < (1u << 20) || (ram_size & 0xfff) != 0) {
        virt_error(err, errlen, "-m: virt needs at least 1 MiB of RAM in whole 4 KiB pages");
        return NULL;
    }

    struct virt_board *vb = calloc(1, sizeof(*vb));
    if (vb == NULL) {
        virt_error(err, errlen, "out of memory");
        return NULL;
    }
    vb->cfg = *cfg;
    vb->arm.ram_base = (uint32_t)ram->base;
    vb->arm.ram_size = ram_size;
    vb->arm.firmware_call = arm_psci_call;
    vb->arm.timer_output = virt_timer_output;
    vb->arm.no_reboot = cfg->no_reboot;
    vb->board = coremu_board_new(NULL);
    if (vb->board == NULL) {
        virt_error(err, errlen, "out of memory");
        goto fail;
    }
    vb->arm.as = coremu_board_as(vb->board);
    virt_virtio_sort(vb);
    for (unsigned i = 0; i < VIRT_NREGIONS; i++) {
        const struct virt_region *r = &virt_memmap[i];
        uint64_t size = i == VIRT_RAM ? ram_size : r->size;
        vb->map[i] = (struct arm_map_row){r->name, r->base, size, r->spi, r->count,
                                          r->create != NULL};
    }
    for (unsigned i = 0; i < VIRT_NREGIONS; i++) {
        if (virt_memmap[i].create != NULL &&
            virt_memmap[i].create(vb, &virt_memmap[i], err, errlen) != 0) {
            goto fail;
        }
    }
    if (virt_create_virtio_devices(vb, err, errlen) != 0 ||
        virt_create_pci_devices(vb, err, errlen) != 0) {
        goto fail;
    }
    /* Images go in before any core exists, so a bad file costs nothing but this board. */
    if (arm_boot_load(&vb->arm, cfg, vb->map, VIRT_NREGIONS, &vb->boot_info, err, errlen) !=
            0 ||
        virt_save_images(vb, err, errlen) != 0) {
        goto fail;
    }
    if (virt_create_cpus(vb, err, errlen) != 0) {
        goto fail;
    }
    gic_attach(vb->gic, vb->arm.machine);
    return &vb->arm;

fail:
    virt_free(&vb->arm);
    return NULL;
}

void virt_attach_serial(struct arm_board *board, struct coremu_chardev *chr)
{
    struct virt_board *vb = (struct virt_board *)board;
    pl011_attach(vb->uart0, chr);
}

int virt_run(struct arm_board *board, char *err, size_t errlen)
{
    struct coremu_machine *m = board->machine;
    int r = coremu_machine_start(m);
    if (r != 0) {
        return virt_error(err, errlen, "cannot start the core threads: %s", strerror(-r));
    }
    /* Core 0 starts at the boot entry (the CPU takes r0-r2 from board->boot on this first
     * power-on); the others stay off until the guest asks PSCI for them. */
    r = coremu_cpu_power_on(m->cpus[0], board->boot.entry | (board->boot.thumb ? 1u : 0u),
                            board->boot.r0);
    if (r != 0) {
        coremu_machine_exit(m, 1);
        coremu_machine_wait(m);
        return virt_error(err, errlen, "cannot power on core 0: %s", strerror(-r));
    }
    return coremu_machine_wait(m);
}

void virt_free(struct arm_board *board)
{
    struct virt_board *vb = (struct virt_board *)board;
    if (vb == NULL) {
        return;
    }
    if (vb->arm.cpus != NULL) {
        for (unsigned i = 0; i < vb->arm.ncpus; i++) {
            if (vb->arm.cpus[i] != NULL) {
                arm_cpu_free(vb->arm.cpus[i]);
            }
        }
        free(vb->arm.cpus);
    }
    if (vb->arm.machine != NULL) {
        coremu_machine_free(vb->arm.machine);
    }
    /* The address space, then the devices (the GIC last), the monitor and the images. */
    coremu_board_free(vb->board);
    for (unsigned i = 0; vb->pci_lines_ready && i < VIRT_PCIE_INTX; i++) {
        pthread_mutex_destroy(&vb->pci_line[i].lock);
    }
    free(vb);
}

int virt_dump_dtb(struct arm_board *board, const char *path, char *err, size_t errlen)
{
    struct virt_board *vb = (struct virt_board *)board;
    return arm_fdt_dump(board, &vb->boot_info, path, err, errlen);
}
