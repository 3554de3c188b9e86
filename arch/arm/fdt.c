/*
 * coremu ARM — the virt board's device tree, built with libfdt.
 *
 * The tree follows the bindings in Linux's Documentation/devicetree/bindings (arm/cpus,
 * arm/psci, timer/arm,arch_timer, interrupt-controller/arm,gic (with its arm,gic-v2m-frame
 * child), serial/pl011, rtc/pl031, virtio/mmio, clock/fixed-clock, pci/host-generic-pci with
 * pci/pci-msi's msi-map) and the shape Linux expects of a "linux,dummy-virt" machine.
 * Every address and interrupt comes from the memory map the board passes in as data (rows of
 * struct arm_map_row: virt.c's), so this file calls nothing of the board's; a device the board
 * does not model yet is left out, because a kernel that probes a described but absent device
 * takes an external abort. The interrupt controller and the generic timer are the exception:
 * no kernel boots without them, so they are always described.
 *
 * /chosen gets stdout-path here; boot.c adds bootargs and the initrd range once it has placed
 * everything, for this tree and for a -dtb alike.
 *
 * Without libfdt the functions only report that the build cannot make a tree.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>

#ifdef HAVE_LIBFDT
#include <libfdt.h>
#endif

#include "board.h"
#include "cpu.h"

static int fdt_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fdt_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int arm_fdt_dump(struct arm_board *board, const struct arm_boot_info *info, const char *path,
                 char *err, size_t errlen)
{
    if (info->dtb_size == 0) {
        return fdt_error(err, errlen, "dumpdtb=%s: there is no device tree to dump", path);
    }
    uint8_t *buf = malloc(info->dtb_size);
    if (buf == NULL) {
        return fdt_error(err, errlen, "dumpdtb=%s: out of memory", path);
    }
    if (coremu_as_copy_from(board->as, info->dtb_addr, buf, info->dtb_size) != COREMU_MEM_OK) {
        free(buf);
        return fdt_error(err, errlen, "dumpdtb=%s: cannot read the device tree back", path);
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        free(buf);
        return fdt_error(err, errlen, "dumpdtb=%s: %s", path, strerror(errno));
    }
    bool ok = fwrite(buf, 1, info->dtb_size, f) == info->dtb_size;
    ok = fclose(f) == 0 && ok;
    free(buf);
    if (!ok) {
        return fdt_error(err, errlen, "dumpdtb=%s: write error: %s", path, strerror(errno));
    }
    return 0;
}

#ifdef HAVE_LIBFDT

/* Phandles: the interrupt parent of the whole tree, the 24 MHz APB clock, the MSI frame. */
#define PHANDLE_GIC 1u
#define PHANDLE_APB_PCLK 2u
#define PHANDLE_V2M 3u

#define APB_PCLK_HZ 24000000u

/* The three cells of an interrupt specifier in the GIC binding (arm,gic.yaml). */
#define GIC_SPI 0u
#define GIC_PPI 1u
#define IRQ_TYPE_LEVEL_HIGH 0x4u
#define GIC_PPI_CPU_MASK_SHIFT 8 /* bits [15:8]: the cores a PPI is wired to */

/* Generic timer PPIs, in the order the arm,armv7-timer binding lists them. */
static const unsigned timer_ppis[] = {
    VIRT_PPI_TIMER_SEC_PHYS,
    VIRT_PPI_TIMER_NS_PHYS,
    VIRT_PPI_TIMER_VIRT,
    VIRT_PPI_TIMER_HYP,
};

/* PSCI function ids (SMC32) for the legacy "arm,psci" binding: the same ones psci.c answers for
 * PSCI 0.2 and later. */
#define PSCI_CPU_SUSPEND 0x84000001u
#define PSCI_CPU_OFF 0x84000002u
#define PSCI_CPU_ON 0x84000003u

/* A string list property: the strings with their NULs, as one literal. */
#define STRLIST(s) s, sizeof(s)

struct fdt_builder {
    void *fdt;
    int err; /* the first libfdt error, sticky: every call after it does nothing */
};

static void b_check(struct fdt_builder *b, int r)
{
    if (b->err == 0 && r < 0) {
        b->err = r;
    }
}

static void b_begin(struct fdt_builder *b, const char *name)
{
    if (b->err == 0) {
        b_check(b, fdt_begin_node(b->fdt, name));
    }
}

/* Begins node name@unit (the unit address in lower-case hex without leading zeros). */
static void b_begin_at(struct fdt_builder *b, const char *name, uint64_t unit)
{
    char full[64];
    snprintf(full, sizeof(full), "%s@%llx", name, (unsigned long long)unit);
    b_begin(b, full);
}

static void b_end(struct fdt_builder *b)
{
    if (b->err == 0) {
        b_check(b, fdt_end_node(b->fdt));
    }
}

static void b_prop(struct fdt_builder *b, const char *name, const void *val, size_t len)
{
    if (b->err == 0) {
        b_check(b, fdt_property(b->fdt, name, val, (int)len));
    }
}

static void b_u32(struct fdt_builder *b, const char *name, uint32_t val)
{
    if (b->err == 0) {
        b_check(b, fdt_property_u32(b->fdt, name, val));
    }
}

static void b_string(struct fdt_builder *b, const char *name, const char *val)
{
    b_prop(b, name, val, strlen(val) + 1);
}

/* The largest property b_cells writes: a PCI interrupt map (16 entries of 10 cells). */
#define B_CELLS_MAX 160u

/* A property of n (at most B_CELLS_MAX) 32-bit cells. */
static void b_cells(struct fdt_builder *b, const char *name, const uint32_t *cells, unsigned n)
{
    fdt32_t be[B_CELLS_MAX];
    if (n > B_CELLS_MAX) {
        b_check(b, -FDT_ERR_INTERNAL);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        be[i] = cpu_to_fdt32(cells[i]);
    }
    b_prop(b, name, be, n * sizeof(be[0]));
}

/* reg = <base size> with the root's two address and two size cells. */
static void b_reg(struct fdt_builder *b, uint64_t base, uint64_t size)
{
    const uint32_t cells[4] = {(uint32_t)(base >> 32), (uint32_t)base, (uint32_t)(size >> 32),
                               (uint32_t)size};
    b_cells(b, "reg", cells, 4);
}

static void b_spi(struct fdt_builder *b, unsigned spi)
{
    const uint32_t cells[3] = {GIC_SPI, spi, IRQ_TYPE_LEVEL_HIGH};
    b_cells(b, "interrupts", cells, 3);
}

static void fdt_cpus(struct fdt_builder *b, unsigned ncpus)
{
    b_begin(b, "cpus");
    b_u32(b, "#address-cells", 1);
    b_u32(b, "#size-cells", 0);
    for (unsigned i = 0; i < ncpus; i++) {
        /* reg is MPIDR's affinity fields: the core index in Aff0, all in cluster 0 (cpu.c). */
        b_begin_at(b, "cpu", i);
        b_string(b, "device_type", "cpu");
        b_string(b, "compatible", "arm,cortex-a15");
        b_u32(b, "reg", i);
        b_string(b, "enable-method", "psci");
        b_end(b);
    }
    b_end(b);
}

static void fdt_psci(struct fdt_builder *b)
{
    b_begin(b, "psci");
    b_prop(b, "compatible", STRLIST("arm,psci-1.0\0arm,psci-0.2\0arm,psci"));
    /* HVC: the CPU has no Security Extensions to take an SMC to. psci.c answers both. */
    b_string(b, "method", "hvc");
    b_u32(b, "cpu_suspend", PSCI_CPU_SUSPEND);
    b_u32(b, "cpu_off", PSCI_CPU_OFF);
    b_u32(b, "cpu_on", PSCI_CPU_ON);
    b_end(b);
}

static void fdt_timer(struct fdt_builder *b, unsigned ncpus)
{
    /* The timer's outputs are active-high levels (timer.c: asserted while the condition
     * holds), wired to every core's own PPI. */
    uint32_t flags = (((1u << ncpus) - 1) << GIC_PPI_CPU_MASK_SHIFT) | IRQ_TYPE_LEVEL_HIGH;
    uint32_t cells[3 * 4];
    for (unsigned i = 0; i < 4; i++) {
        cells[3 * i] = GIC_PPI;
        cells[3 * i + 1] = timer_ppis[i];
        cells[3 * i + 2] = flags;
    }
    b_begin(b, "timer");
    b_string(b, "compatible", "arm,armv7-timer");
    b_cells(b, "interrupts", cells, 12);
    /* The counter's rate is fixed (timer.c); CNTFRQ reads the same number. */
    b_u32(b, "clock-frequency", ARM_CNT_HZ);
    /* The virtual clock does not stop when a core idles in WFI. */
    b_prop(b, "always-on", NULL, 0);
    b_end(b);
}

static void fdt_gic(struct fdt_builder *b, const struct arm_map_row *dist,
                    const struct arm_map_row *cpu, const struct arm_map_row *v2m)
{
    b_begin_at(b, "intc", dist->base);
    b_string(b, "compatible", "arm,cortex-a15-gic");
    b_u32(b, "#interrupt-cells", 3);
    /* The MSI frame is a child in the root's address space (as on QEMU's virt); interrupt-map
     * users then give two cells of parent unit address, which the GIC ignores. */
    b_u32(b, "#address-cells", 2);
    b_u32(b, "#size-cells", 2);
    b_prop(b, "ranges", NULL, 0);
    b_prop(b, "interrupt-controller", NULL, 0);
    /* Distributor and CPU interface; no virtualization extension regions. */
    const uint32_t reg[8] = {
        (uint32_t)(dist->base >> 32), (uint32_t)dist->base, (uint32_t)(dist->size >> 32),
        (uint32_t)dist->size,         (uint32_t)(cpu->base >> 32), (uint32_t)cpu->base,
        (uint32_t)(cpu->size >> 32),  (uint32_t)cpu->size,
    };
    b_cells(b, "reg", reg, 8);
    b_u32(b, "phandle", PHANDLE_GIC);
    if (v2m != NULL) {
        /* The frame's SPI range is read from its MSI_TYPER register. */
        b_begin_at(b, "v2m", v2m->base);
        b_string(b, "compatible", "arm,gic-v2m-frame");
        b_prop(b, "msi-controller", NULL, 0);
        b_reg(b, v2m->base, v2m->size);
        b_u32(b, "phandle", PHANDLE_V2M);
        b_end(b);
    }
    b_end(b);
}

static void fdt_apb_pclk(struct fdt_builder *b)
{
    b_begin(b, "apb-pclk");
    b_string(b, "compatible", "fixed-clock");
    b_u32(b, "#clock-cells", 0);
    b_u32(b, "clock-frequency", APB_PCLK_HZ);
    b_string(b, "clock-output-names", "clk24mhz");
    b_u32(b, "phandle", PHANDLE_APB_PCLK);
    b_end(b);
}

static void fdt_pl011(struct fdt_builder *b, const struct arm_map_row *r, const char *path)
{
    b_begin(b, path + 1);
    b_prop(b, "compatible", STRLIST("arm,pl011\0arm,primecell"));
    b_reg(b, r->base, r->size);
    b_spi(b, (unsigned)r->spi);
    /* The UART's reference clock and its bus clock are the same 24 MHz clock. */
    const uint32_t clocks[2] = {PHANDLE_APB_PCLK, PHANDLE_APB_PCLK};
    b_cells(b, "clocks", clocks, 2);
    b_prop(b, "clock-names", STRLIST("uartclk\0apb_pclk"));
    b_end(b);
}

static void fdt_pl031(struct fdt_builder *b, const struct arm_map_row *r)
{
    b_begin_at(b, "pl031", r->base);
    b_prop(b, "compatible", STRLIST("arm,pl031\0arm,primecell"));
    b_reg(b, r->base, r->size);
    b_spi(b, (unsigned)r->spi);
    b_u32(b, "clocks", PHANDLE_APB_PCLK);
    b_string(b, "clock-names", "apb_pclk");
    b_end(b);
}

static void fdt_virtio(struct fdt_builder *b, const struct arm_map_row *r)
{
    /* Lowest address first: Linux probes in tree order, so the first device found (vda,
     * eth0) is the one in the lowest slot, as on other virt implementations. */
    for (unsigned i = 0; i < r->count; i++) {
        uint64_t base = r->base + (uint64_t)i * r->size;
        b_begin_at(b, "virtio_mmio", base);
        b_string(b, "compatible", "virtio,mmio");
        b_reg(b, base, r->size);
        b_spi(b, (unsigned)r->spi + i);
        b_prop(b, "dma-coherent", NULL, 0);
        b_end(b);
    }
}

/* PCI address cells (pci/pci-bus binding): phys.hi's space code. */
#define PCI_SPACE_IO 0x01000000u
#define PCI_SPACE_MEM32 0x02000000u
#define PCI_DEVFN_SHIFT 8 /* phys.hi bits [15:8]: device << 3 | function */
#define PCI_INTX_SLOTS 4u /* the interrupt map covers 4 slots; the mask repeats it for the rest */

/* The generic PCIe host: configuration through ECAM, a port window and a 32-bit memory window
 * (each at the same address on the bus as in the CPU's space, the port window from port 0),
 * INTA-D of device d, pin p (1-4) on SPI intx + (d + p - 1) % 4 (the usual swizzle), MSI through
 * the GICv2m frame for every requester ID (when there is one). */
static void fdt_pcie(struct fdt_builder *b, const struct arm_map_row *ecam,
                     const struct arm_map_row *mmio, const struct arm_map_row *pio,
                     const struct arm_map_row *v2m)
{
    b_begin_at(b, "pcie", mmio->base);
    b_string(b, "compatible", "pci-host-ecam-generic");
    b_string(b, "device_type", "pci");
    b_u32(b, "#address-cells", 3);
    b_u32(b, "#size-cells", 2);
    b_u32(b, "linux,pci-domain", 0);
    const uint32_t bus_range[2] = {0, (uint32_t)(ecam->size >> 20) - 1};
    b_cells(b, "bus-range", bus_range, 2);
    b_prop(b, "dma-coherent", NULL, 0);
    b_reg(b, ecam->base, ecam->size);
    const uint32_t ranges[14] = {
        PCI_SPACE_IO,    0, 0, (uint32_t)(pio->base >> 32), (uint32_t)pio->base,
        (uint32_t)(pio->size >> 32), (uint32_t)pio->size,
        PCI_SPACE_MEM32, (uint32_t)(mmio->base >> 32), (uint32_t)mmio->base,
        (uint32_t)(mmio->base >> 32), (uint32_t)mmio->base, (uint32_t)(mmio->size >> 32),
        (uint32_t)mmio->size,
    };
    b_cells(b, "ranges", ranges, 14);
    if (v2m != NULL) {
        /* rid-base, msi-controller, msi-base, length: requester ID r is MSI source r. */
        const uint32_t msi_map[4] = {0, PHANDLE_V2M, 0, 0x10000};
        b_cells(b, "msi-map", msi_map, 4);
    }
    b_u32(b, "#interrupt-cells", 1);
    /* Child unit address (3 cells) and pin, the GIC's phandle, its unit address (2 cells), the
     * SPI's 3 cells. */
    uint32_t map[PCI_INTX_SLOTS * 4 * 10];
    unsigned n = 0;
    for (unsigned dev = 0; dev < PCI_INTX_SLOTS; dev++) {
        for (unsigned pin = 1; pin <= 4; pin++) {
            const uint32_t entry[10] = {
                dev << 3 << PCI_DEVFN_SHIFT, 0, 0, pin, PHANDLE_GIC, 0, 0, GIC_SPI,
                (uint32_t)ecam->spi + (dev + pin - 1) % 4, IRQ_TYPE_LEVEL_HIGH,
            };
            memcpy(&map[n], entry, sizeof(entry));
            n += 10;
        }
    }
    b_cells(b, "interrupt-map", map, n);
    const uint32_t map_mask[4] = {(PCI_INTX_SLOTS - 1) << 3 << PCI_DEVFN_SHIFT, 0, 0, 7};
    b_cells(b, "interrupt-map-mask", map_mask, 4);
    b_end(b);
}

/* The map's row named name, or NULL. */
static const struct arm_map_row *map_find(const struct arm_map_row *map, unsigned nrows,
                                          const char *name)
{
    for (unsigned i = 0; i < nrows; i++) {
        if (strcmp(map[i].name, name) == 0) {
            return &map[i];
        }
    }
    return NULL;
}

/* The row of a device to describe: present in the map, modelled, with an interrupt. */
static const struct arm_map_row *map_device(const struct arm_map_row *map, unsigned nrows,
                                            const char *name)
{
    const struct arm_map_row *row = map_find(map, nrows, name);
    return row != NULL && row->present && row->spi >= 0 ? row : NULL;
}

/* The whole tree into buf. 0, or a libfdt error (-FDT_ERR_NOSPACE: buf is too small). */
static int fdt_build(const struct arm_map_row *map, unsigned nrows, unsigned ncpus, void *buf,
                     int size)
{
    const struct arm_map_row *ram = map_find(map, nrows, "ram");
    const struct arm_map_row *dist = map_find(map, nrows, "gic-dist");
    const struct arm_map_row *cpu = map_find(map, nrows, "gic-cpu");
    if (ram == NULL || dist == NULL || cpu == NULL) {
        return -FDT_ERR_INTERNAL;
    }
    const struct arm_map_row *uart = map_device(map, nrows, "pl011");
    const struct arm_map_row *rtc = map_device(map, nrows, "pl031");
    const struct arm_map_row *virtio = map_device(map, nrows, "virtio-mmio");
    const struct arm_map_row *v2m = map_find(map, nrows, "gic-v2m");
    v2m = v2m != NULL && v2m->present ? v2m : NULL;
    const struct arm_map_row *ecam = map_device(map, nrows, "pcie-ecam");
    const struct arm_map_row *pcie_mmio = map_find(map, nrows, "pcie-mmio");
    const struct arm_map_row *pcie_pio = map_find(map, nrows, "pcie-pio");
    bool pcie = ecam != NULL && pcie_mmio != NULL && pcie_mmio->present && pcie_pio != NULL &&
                pcie_pio->present;
    char uart_path[64] = "";
    if (uart != NULL) {
        snprintf(uart_path, sizeof(uart_path), "/pl011@%llx", (unsigned long long)uart->base);
    }

    struct fdt_builder b = {buf, 0};
    b_check(&b, fdt_create(buf, size));
    if (b.err == 0) {
        b_check(&b, fdt_finish_reservemap(buf));
    }
    b_begin(&b, "");
    b_string(&b, "compatible", "linux,dummy-virt");
    b_string(&b, "model", "coremu virt");
    b_u32(&b, "#address-cells", 2);
    b_u32(&b, "#size-cells", 2);
    b_u32(&b, "interrupt-parent", PHANDLE_GIC);

    b_begin(&b, "chosen");
    if (uart != NULL) {
        b_string(&b, "stdout-path", uart_path);
    }
    b_end(&b);
    if (uart != NULL) {
        b_begin(&b, "aliases");
        b_string(&b, "serial0", uart_path);
        b_end(&b);
    }

    b_begin_at(&b, "memory", ram->base);
    b_string(&b, "device_type", "memory");
    b_reg(&b, ram->base, ram->size);
    b_end(&b);

    fdt_cpus(&b, ncpus);
    fdt_psci(&b);
    fdt_timer(&b, ncpus);
    fdt_gic(&b, dist, cpu, v2m);
    fdt_apb_pclk(&b);
    if (uart != NULL) {
        fdt_pl011(&b, uart, uart_path);
    }
    if (rtc != NULL) {
        fdt_pl031(&b, rtc);
    }
    if (virtio != NULL) {
        fdt_virtio(&b, virtio);
    }
    if (pcie) {
        fdt_pcie(&b, ecam, pcie_mmio, pcie_pio, v2m);
    }
    b_end(&b);
    if (b.err == 0) {
        b_check(&b, fdt_finish(buf));
    }
    return b.err;
}

int arm_fdt_generate(const struct arm_map_row *map, unsigned nrows, unsigned ncpus, uint8_t **dtb,
                     size_t *size, char *err, size_t errlen)
{
    /* A few KiB in practice; grow on the off chance. */
    for (int cap = 16 << 10; cap <= (1 << 20); cap *= 2) {
        uint8_t *buf = calloc(1, (size_t)cap);
        if (buf == NULL) {
            return fdt_error(err, errlen, "cannot build the device tree: out of memory");
        }
        int r = fdt_build(map, nrows, ncpus, buf, cap);
        if (r == 0) {
            *dtb = buf;
            *size = fdt_totalsize(buf);
            return 0;
        }
        free(buf);
        if (r != -FDT_ERR_NOSPACE) {
            return fdt_error(err, errlen, "cannot build the device tree: %s", fdt_strerror(r));
        }
    }
    return fdt_error(err, errlen, "cannot build the device tree: it does not fit in 1 MiB");
}

#else /* !HAVE_LIBFDT */

int arm_fdt_generate(const struct arm_map_row *map, unsigned nrows, unsigned ncpus, uint8_t **dtb,
                     size_t *size, char *err, size_t errlen)
{
    (void)map;
    (void)nrows;
    (void)ncpus;
    *dtb = NULL;
    *size = 0;
    return fdt_error(err, errlen, "this build has no libfdt: use -dtb FILE");
}

#endif /* HAVE_LIBFDT */
