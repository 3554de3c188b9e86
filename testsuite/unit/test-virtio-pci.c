/*
 * The virtio-pci transport (hw/virtio_pci.c) as a driver finds it through a PCI host: the
 * function's identity and capability list (QEMU's layout), BAR sizing and mapping, a driver's
 * initialisation through the common configuration, a request on an entropy device's queue
 * completed by an MSI-X message (vector mapping, NO_VECTOR for a vector the table lacks, per-
 * vector and function masking with the pending bits), INTA# with MSI-X off (ISR read-to-clear,
 * the command register's INTx-disable bit), the PCI_CFG access window, device reset and
 * machine reset.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <coremu/physmem.h>
#include <coremu/virtio.h>

#include "pci_host.h"
#include "unit.h"
#include "virtio_pci.h"
#include "virtio_rng.h"

#define RAM_SIZE  (1u << 20)
#define SLOT      3u
#define BAR1_ADDR 0xc0010000ull
#define BAR4_ADDR 0xc0020000ull
#define COMMON    (BAR4_ADDR + VIRTIO_PCI_COMMON_OFFSET)
#define ISR       (BAR4_ADDR + VIRTIO_PCI_ISR_OFFSET)
#define NOTIFY    (BAR4_ADDR + VIRTIO_PCI_NOTIFY_OFFSET)
#define DESC_GPA  0x1000u
#define AVAIL_GPA 0x2000u
#define USED_GPA  0x3000u
#define BUF_GPA   0x8000u

static struct coremu_as *mem;
static struct pci_host *host;
static uint8_t *ram;
static unsigned msi_count;
static uint64_t msi_addr;
static uint32_t msi_data;
static bool intx;

static void msi_send(void *opaque, uint64_t address, uint32_t data)
{
    (void)opaque;
    msi_count++;
    msi_addr = address;
    msi_data = data;
}

static void intx_set(void *opaque, bool level)
{
    (void)opaque;
    intx = level;
}

static uint32_t cfg_read(unsigned off, unsigned size)
{
    return pci_host_config_read(host, 0, SLOT, 0, off, size);
}

static void cfg_write(unsigned off, unsigned size, uint32_t value)
{
    pci_host_config_write(host, 0, SLOT, 0, off, size, value);
}

static uint64_t rd(uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    if (coremu_as_read(mem, addr, size, &v) != COREMU_MEM_OK) {
        return 0xdeadbeefdeadbeefull;
    }
    return v;
}

static void wr(uint64_t addr, unsigned size, uint64_t value)
{
    (void)coremu_as_write(mem, addr, size, value);
}

static uint16_t ram16(uint32_t gpa)
{
    return (uint16_t)(ram[gpa] | ram[gpa + 1] << 8);
}

static void put16(uint32_t gpa, uint16_t v)
{
    ram[gpa] = (uint8_t)v;
    ram[gpa + 1] = (uint8_t)(v >> 8);
}

/* Offers one 16-byte writable buffer (descriptor n) on the queue and kicks it. */
static void offer_and_kick(uint16_t n)
{
    struct coremu_virtq_desc d = {BUF_GPA + 16u * n, 16, COREMU_VIRTQ_DESC_F_WRITE, 0};
    memcpy(ram + DESC_GPA + 16u * n, &d, sizeof(d));
    uint16_t idx = ram16(AVAIL_GPA + 2);
    put16(AVAIL_GPA + 4 + 2 * (idx % 8), n);
    put16(AVAIL_GPA + 2, (uint16_t)(idx + 1));
    wr(NOTIFY + VIRTIO_PCI_NOTIFY_MULTIPLIER * 0, 2, 0);
}

static void check_identity(void)
{
    UNIT_CHECK(cfg_read(0x00, 2) == VIRTIO_PCI_VENDOR_ID && cfg_read(0x02, 2) == 0x1044,
               "identity: vendor 1af4, device 1040 + 4 (entropy)", "%04x:%04x", cfg_read(0x00, 2),
               cfg_read(0x02, 2));
    UNIT_CHECK(cfg_read(0x08, 1) == 1 && cfg_read(0x08, 4) >> 8 == 0x00ff00,
               "identity: revision 1, class 0x00ff00", "%08x", cfg_read(0x08, 4));
    UNIT_CHECK(cfg_read(0x2c, 4) == 0x11001af4u, "identity: subsystem 1af4:1100", "%08x",
               cfg_read(0x2c, 4));
    UNIT_CHECK(cfg_read(0x3d, 1) == 1 && (cfg_read(0x06, 2) & 0x10) != 0 &&
                   cfg_read(0x34, 1) == VIRTIO_PCI_CAP_MSIX_AT,
               "identity: INTA#, capability list from 0x98", "pin %u status %04x cap %02x",
               cfg_read(0x3d, 1), cfg_read(0x06, 2), cfg_read(0x34, 1));
}

static void check_capabilities(void)
{
    unsigned at = cfg_read(0x34, 1);
    bool ok = cfg_read(at, 1) == 0x11 && cfg_read(at + 2, 2) == 1 && cfg_read(at + 4, 4) == 1 &&
              cfg_read(at + 8, 4) == (VIRTIO_PCI_MSIX_PBA_OFFSET | 1);
    UNIT_CHECK(ok, "capabilities: MSI-X with 2 vectors, table and PBA in BAR1",
               "%02x %04x %08x %08x", cfg_read(at, 1), cfg_read(at + 2, 2), cfg_read(at + 4, 4),
               cfg_read(at + 8, 4));
    static const struct {
        unsigned at, type, len;
        uint32_t offset;
    } want[] = {
        {0x84, VIRTIO_PCI_CAP_PCI_CFG, 20, 0},
        {0x70, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFFSET},
        {0x60, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVICE_OFFSET},
        {0x50, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFFSET},
        {0x40, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFFSET},
    };
    ok = true;
    at = cfg_read(at + 1, 1);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        bool pcicfg = want[i].type == VIRTIO_PCI_CAP_PCI_CFG;
        if (at != want[i].at || cfg_read(at, 1) != 0x09 || cfg_read(at + 2, 1) != want[i].len ||
            cfg_read(at + 3, 1) != want[i].type ||
            cfg_read(at + 4, 1) != (pcicfg ? 0 : VIRTIO_PCI_MEM_BAR) ||
            cfg_read(at + 8, 4) != want[i].offset ||
            cfg_read(at + 12, 4) != (pcicfg ? 0 : VIRTIO_PCI_REGION_SIZE)) {
            unit_fail("capabilities: the virtio structures in QEMU's order and places",
                      "capability %zu at 0x%x: %08x %08x %08x", i, at, cfg_read(at, 4),
                      cfg_read(at + 8, 4), cfg_read(at + 12, 4));
            ok = false;
            break;
        }
        at = cfg_read(at + 1, 1);
    }
    if (ok) {
        UNIT_CHECK(at == 0 && cfg_read(0x70 + 16, 4) == VIRTIO_PCI_NOTIFY_MULTIPLIER,
                   "capabilities: the virtio structures in QEMU's order and places",
                   "list end %02x, multiplier %u", at, cfg_read(0x70 + 16, 4));
    }
}

static void check_bars(void)
{
    cfg_write(0x14, 4, 0xffffffffu);
    cfg_write(0x20, 4, 0xffffffffu);
    cfg_write(0x24, 4, 0xffffffffu);
    UNIT_CHECK(cfg_read(0x14, 4) == 0xfffff000u && cfg_read(0x20, 4) == 0xffffc00cu &&
                   cfg_read(0x24, 4) == 0xffffffffu && cfg_read(0x10, 4) == 0,
               "BARs: BAR1 4 KiB memory, BAR4 16 KiB 64-bit prefetchable", "%08x %08x %08x",
               cfg_read(0x14, 4), cfg_read(0x20, 4), cfg_read(0x24, 4));
    cfg_write(0x14, 4, (uint32_t)BAR1_ADDR);
    cfg_write(0x20, 4, (uint32_t)BAR4_ADDR);
    cfg_write(0x24, 4, 0);
    UNIT_CHECK(coremu_as_lookup(mem, BAR4_ADDR) == NULL, "BARs: unmapped while decoding is off",
               "a region at BAR4");
    cfg_write(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    UNIT_CHECK(coremu_as_lookup(mem, BAR4_ADDR) != NULL &&
                   coremu_as_lookup(mem, BAR1_ADDR) != NULL && rd(COMMON + 0x12, 2) == 1,
               "BARs: mapped with the memory bit; num_queues reads 1", "num_queues %llx",
               (unsigned long long)rd(COMMON + 0x12, 2));
}

static void check_driver_init(void)
{
    wr(COMMON + 0x14, 1, 0);
    wr(COMMON + 0x14, 1, COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER);
    wr(COMMON + 0x00, 4, 1);
    uint32_t high = (uint32_t)rd(COMMON + 0x04, 4);
    wr(COMMON + 0x08, 4, 1);
    wr(COMMON + 0x0c, 4, 1); /* VERSION_1 */
    wr(COMMON + 0x08, 4, 0);
    wr(COMMON + 0x0c, 4, 0);
    wr(COMMON + 0x14, 1,
       COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER |
           COREMU_VIRTIO_STATUS_FEATURES_OK);
    UNIT_CHECK((high & 1) != 0 && (rd(COMMON + 0x14, 1) & COREMU_VIRTIO_STATUS_FEATURES_OK) != 0,
               "common: VERSION_1 offered and accepted (FEATURES_OK)", "features %08x status %llx",
               high, (unsigned long long)rd(COMMON + 0x14, 1));
    wr(COMMON + 0x16, 2, 0);
    uint16_t max = (uint16_t)rd(COMMON + 0x18, 2);
    wr(COMMON + 0x18, 2, 8);
    wr(COMMON + 0x20, 4, DESC_GPA); /* 64-bit fields as two halves, as Linux writes them */
    wr(COMMON + 0x24, 4, 0);
    wr(COMMON + 0x28, 8, AVAIL_GPA);
    wr(COMMON + 0x30, 4, USED_GPA);
    wr(COMMON + 0x34, 4, 0);
    wr(COMMON + 0x1c, 2, 1);
    UNIT_CHECK(max >= 8 && rd(COMMON + 0x18, 2) == 8 && rd(COMMON + 0x1e, 2) == 0 &&
                   rd(COMMON + 0x1c, 2) == 1 && rd(COMMON + 0x20, 8) == DESC_GPA &&
                   rd(COMMON + 0x30, 8) == USED_GPA,
               "common: queue 0 set up (size, rings, notify_off 0) and enabled",
               "max %u size %llx enable %llx desc %llx", max,
               (unsigned long long)rd(COMMON + 0x18, 2), (unsigned long long)rd(COMMON + 0x1c, 2),
               (unsigned long long)rd(COMMON + 0x20, 8));
}

static void check_msix(void)
{
    cfg_write(VIRTIO_PCI_CAP_MSIX_AT + 2, 2, 0x8000);
    wr(BAR1_ADDR + 16 + 0, 4, 0xfee01000u); /* vector 1: APIC 1, vector 0x41 */
    wr(BAR1_ADDR + 16 + 4, 4, 0);
    wr(BAR1_ADDR + 16 + 8, 4, 0x4041);
    UNIT_CHECK(rd(BAR1_ADDR + 12, 4) == 1 && rd(BAR1_ADDR + 16 + 12, 4) == 1,
               "MSI-X: vectors masked after reset", "%llx %llx",
               (unsigned long long)rd(BAR1_ADDR + 12, 4),
               (unsigned long long)rd(BAR1_ADDR + 16 + 12, 4));
    wr(BAR1_ADDR + 16 + 12, 4, 0);
    wr(COMMON + 0x10, 2, 0);
    wr(COMMON + 0x1a, 2, 5);
    uint16_t bad = (uint16_t)rd(COMMON + 0x1a, 2);
    wr(COMMON + 0x1a, 2, 1);
    UNIT_CHECK(bad == VIRTIO_PCI_NO_VECTOR && rd(COMMON + 0x1a, 2) == 1 &&
                   rd(COMMON + 0x10, 2) == 0,
               "MSI-X: a vector past the table reads back NO_VECTOR", "bad %04x queue %llx", bad,
               (unsigned long long)rd(COMMON + 0x1a, 2));
    wr(COMMON + 0x14, 1,
       COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER |
           COREMU_VIRTIO_STATUS_FEATURES_OK | COREMU_VIRTIO_STATUS_DRIVER_OK);
    msi_count = 0;
    offer_and_kick(0);
    UNIT_CHECK(ram16(USED_GPA + 2) == 1 && ram[USED_GPA + 8] == 16 && msi_count == 1 &&
                   msi_addr == 0xfee01000u && msi_data == 0x4041 && !intx && rd(ISR, 1) == 0,
               "MSI-X: a used buffer sends the queue's vector's message, no ISR or INTx",
               "used %u len %u msi %u %llx %x intx %d", ram16(USED_GPA + 2), ram[USED_GPA + 8],
               msi_count, (unsigned long long)msi_addr, msi_data, intx);

    wr(BAR1_ADDR + 16 + 12, 4, 1);
    offer_and_kick(1);
    bool pending = msi_count == 1 && rd(BAR1_ADDR + VIRTIO_PCI_MSIX_PBA_OFFSET, 4) == 2;
    wr(BAR1_ADDR + 16 + 12, 4, 0);
    UNIT_CHECK(pending && msi_count == 2 && rd(BAR1_ADDR + VIRTIO_PCI_MSIX_PBA_OFFSET, 4) == 0,
               "MSI-X: a masked vector is pending, sent when unmasked", "pending %d count %u",
               pending, msi_count);

    cfg_write(VIRTIO_PCI_CAP_MSIX_AT + 2, 2, 0xc000);
    offer_and_kick(2);
    pending = msi_count == 2 && rd(BAR1_ADDR + VIRTIO_PCI_MSIX_PBA_OFFSET, 4) == 2;
    cfg_write(VIRTIO_PCI_CAP_MSIX_AT + 2, 2, 0x8000);
    UNIT_CHECK(pending && msi_count == 3 && cfg_read(VIRTIO_PCI_CAP_MSIX_AT + 2, 2) == 0x8001,
               "MSI-X: the function mask holds messages until cleared", "pending %d count %u",
               pending, msi_count);
}

static void check_intx(void)
{
    cfg_write(VIRTIO_PCI_CAP_MSIX_AT + 2, 2, 0);
    unsigned before = msi_count;
    offer_and_kick(3);
    bool raised = intx && msi_count == before;
    uint64_t isr = rd(ISR, 1);
    UNIT_CHECK(raised && isr == COREMU_VIRTIO_ISR_QUEUE && !intx && rd(ISR, 1) == 0,
               "INTx: MSI-X off, INTA# rises; reading the ISR returns and clears it",
               "raised %d isr %llx intx %d", raised, (unsigned long long)isr, intx);
    cfg_write(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | 0x400);
    offer_and_kick(4);
    bool held = !intx;
    cfg_write(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    bool released = intx;
    (void)rd(ISR, 1);
    UNIT_CHECK(held && released && !intx,
               "INTx: the command register's INTx-disable bit holds the line low",
               "held %d released %d intx %d", held, released, intx);
}

static void check_pci_cfg_window(void)
{
    unsigned cap = VIRTIO_PCI_CAP_PCICFG_AT;
    cfg_write(cap + 4, 1, VIRTIO_PCI_MEM_BAR);
    cfg_write(cap + 8, 4, VIRTIO_PCI_COMMON_OFFSET + 0x12);
    cfg_write(cap + 12, 4, 2);
    uint32_t nq = cfg_read(cap + 16, 4);
    cfg_write(cap + 8, 4, VIRTIO_PCI_COMMON_OFFSET + 0x16);
    cfg_write(cap + 16, 4, 7); /* queue_select 7 through the window */
    uint64_t sel = rd(COMMON + 0x16, 2);
    wr(COMMON + 0x16, 2, 0);
    UNIT_CHECK((nq & 0xffff) == 1 && sel == 7, "PCI_CFG: reads and writes reach BAR4",
               "num_queues %x queue_select %llx", nq, (unsigned long long)sel);
}

static void check_resets(struct virtio_pci *p)
{
    wr(COMMON + 0x14, 1, 0);
    UNIT_CHECK(rd(COMMON + 0x14, 1) == 0 && rd(COMMON + 0x1c, 2) == 0 &&
                   rd(COMMON + 0x10, 2) == VIRTIO_PCI_NO_VECTOR,
               "reset: status 0 disables the queue and unmaps the vectors", "%llx %llx %llx",
               (unsigned long long)rd(COMMON + 0x14, 1), (unsigned long long)rd(COMMON + 0x1c, 2),
               (unsigned long long)rd(COMMON + 0x10, 2));
    cfg_write(VIRTIO_PCI_CAP_MSIX_AT + 2, 2, 0x8000);
    wr(BAR1_ADDR + 12, 4, 0);
    virtio_pci_reset(p);
    UNIT_CHECK(cfg_read(VIRTIO_PCI_CAP_MSIX_AT + 2, 2) == 1 && rd(BAR1_ADDR + 12, 4) == 1,
               "reset: a machine reset disables MSI-X and masks the vectors", "%04x %llx",
               cfg_read(VIRTIO_PCI_CAP_MSIX_AT + 2, 2), (unsigned long long)rd(BAR1_ADDR + 12, 4));
    cfg_write(0x20, 4, (uint32_t)(BAR4_ADDR + 0x10000));
    UNIT_CHECK(coremu_as_lookup(mem, BAR4_ADDR) == NULL && rd(BAR4_ADDR + 0x10000 + 0x12, 2) == 1,
               "BARs: a moved BAR is mapped at its new address only", "old region still there");
}

int main(void)
{
    char err[256];
    mem = coremu_as_new();
    UNIT_REQUIRE(mem != NULL, "setup", "no address space");
    ram = coremu_as_add_ram(mem, "ram", 0, RAM_SIZE);
    host = pci_host_new(0, 0);
    UNIT_REQUIRE(ram != NULL && host != NULL, "setup", "no RAM or host");
    struct coremu_virtio_device *dev = virtio_rng_new(mem, NULL, "/dev/urandom", err, sizeof(err));
    UNIT_REQUIRE(dev != NULL, "setup", "virtio-rng: %s", err);
    const struct virtio_pci_config cfg = {
        .name = "rng",
        .host = host,
        .bus = 0,
        .slot = SLOT,
        .fn = 0,
        .mem = mem,
        .intx = {intx_set, NULL},
        .msi = {msi_send, NULL},
    };
    struct virtio_pci *p = virtio_pci_new(&cfg, dev, err, sizeof(err));
    UNIT_REQUIRE(p != NULL, "setup", "virtio_pci_new: %s", err);
    struct coremu_virtio_device *dev2 = virtio_rng_new(mem, NULL, "/dev/urandom", err, sizeof(err));
    UNIT_REQUIRE(dev2 != NULL, "setup", "virtio-rng: %s", err);
    struct virtio_pci *p2 = virtio_pci_new(&cfg, dev2, err, sizeof(err));
    UNIT_CHECK(p2 == NULL && strstr(err, "already in use") != NULL,
               "setup: a second function at a taken address is refused", "%s", err);

    check_identity();
    check_capabilities();
    check_bars();
    check_driver_init();
    check_msix();
    check_intx();
    check_pci_cfg_window();
    check_resets(p);

    virtio_pci_free(p);
    pci_host_free(host);
    coremu_as_free(mem);
    return unit_done();
}
