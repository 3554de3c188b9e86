/*
 * The PCI host (hw/pci_host.c): configuration reads and writes through mechanism #1 (ports
 * 0xCF8/0xCFC as a core reaches them) and through ECAM (MMIO), of the host bridge, of absent
 * functions, of a registered function with 32-bit memory, I/O and 64-bit prefetchable BARs (the
 * sizing protocol, programming, decoding), its device-specific registers, multi-function
 * discovery, and the 0xCF9 reset register forward.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <coremu/physmem.h>

#include "pci_host.h"
#include "unit.h"

#define ECAM_BASE 0xb0000000ull

static struct coremu_as *io, *mem;

static uint32_t cf8_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    uint64_t v = 0;
    coremu_as_write(io, 0xcf8, 4, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
    if (coremu_as_read(io, 0xcfc + (reg & 3), size, &v) != COREMU_MEM_OK) {
        unit_fail("cf8 read", "refused");
    }
    return (uint32_t)v;
}

static void cf8_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size,
                      uint32_t v)
{
    coremu_as_write(io, 0xcf8, 4, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
    if (coremu_as_write(io, 0xcfc + (reg & 3), size, v) != COREMU_MEM_OK) {
        unit_fail("cf8 write", "refused");
    }
}

static uint64_t ecam_addr(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    return ECAM_BASE + ((uint64_t)bus << 20 | dev << 15 | fn << 12 | reg);
}

static uint32_t ecam_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size)
{
    uint64_t v = 0;
    if (coremu_as_read(mem, ecam_addr(bus, dev, fn, reg), size, &v) != COREMU_MEM_OK) {
        unit_fail("ecam read", "refused");
    }
    return (uint32_t)v;
}

static void ecam_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, unsigned size,
                       uint32_t v)
{
    if (coremu_as_write(mem, ecam_addr(bus, dev, fn, reg), size, v) != COREMU_MEM_OK) {
        unit_fail("ecam write", "refused");
    }
}

typedef uint32_t (*rd_fn)(unsigned, unsigned, unsigned, unsigned, unsigned);
typedef void (*wr_fn)(unsigned, unsigned, unsigned, unsigned, unsigned, uint32_t);

/* The device's own registers: 0x40 a scratch dword, everything else 0. */
static uint32_t scratch;
static unsigned header_writes, last_header_offset;

static uint32_t dev_config_read(void *opaque, unsigned offset, unsigned size)
{
    (void)opaque;
    if (offset >= 0x40 && offset < 0x44) {
        uint32_t mask = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
        return (scratch >> (8 * (offset - 0x40))) & mask;
    }
    return 0;
}

static void dev_config_write(void *opaque, unsigned offset, unsigned size, uint32_t value)
{
    (void)opaque;
    if (offset >= 0x40 && offset < 0x44) {
        unsigned shift = 8 * (offset - 0x40);
        uint32_t mask = (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1) << shift;
        scratch = (scratch & ~mask) | ((value << shift) & mask);
    }
}

static void dev_header_written(void *opaque, unsigned offset, unsigned size)
{
    (void)opaque;
    (void)size;
    header_writes++;
    last_header_offset = offset;
}

static void test_mechanism(const char *mech, rd_fn rd, wr_fn wr, struct pci_host *host,
                           struct pci_function *f)
{
    char name[128];
#define NAME(...) (snprintf(name, sizeof(name), __VA_ARGS__), name)
    uint32_t id = rd(0, 0, 0, 0, 4);
    UNIT_CHECK(id == 0x29c08086u, NAME("%s: host bridge 00:00.0 vendor/device", mech), "0x%08x",
               id);
    UNIT_CHECK(rd(0, 0, 0, 0, 2) == 0x8086 && rd(0, 0, 0, 2, 2) == 0x29c0 &&
                   rd(0, 0, 0, 1, 1) == 0x80 && rd(0, 0, 0, 3, 1) == 0x29,
               NAME("%s: word and byte reads", mech), "wrong");
    UNIT_CHECK((rd(0, 0, 0, 8, 4) >> 8) == 0x060000 && rd(0, 0, 0, 0x0e, 1) == 0,
               NAME("%s: host bridge class 0x060000, header type 0", mech), "0x%08x",
               rd(0, 0, 0, 8, 4));
    UNIT_CHECK(rd(0, 1, 0, 0, 4) == 0xffffffffu && rd(0, 31, 7, 0, 2) == 0xffff &&
                   rd(5, 0, 0, 0, 1) == 0xff,
               NAME("%s: absent functions read all ones", mech), "0x%08x", rd(0, 1, 0, 0, 4));
    wr(0, 3, 0, 0, 4, 0x12345678);
    UNIT_CHECK(rd(0, 3, 0, 0, 4) == 0x10001af4u, NAME("%s: vendor/device read-only", mech),
               "0x%08x", rd(0, 3, 0, 0, 4));

    /* BAR sizing: all ones in, size mask with the type bits out. */
    wr(0, 3, 0, 0x04, 2, 0);
    for (unsigned i = 0; i < 6; i++) {
        wr(0, 3, 0, 0x10 + 4 * i, 4, 0xffffffffu);
    }
    uint32_t b[6];
    for (unsigned i = 0; i < 6; i++) {
        b[i] = rd(0, 3, 0, 0x10 + 4 * i, 4);
    }
    UNIT_CHECK(b[0] == 0xfffff000u && b[1] == 0xffffffe1u && b[2] == 0xfff0000cu &&
                   b[3] == 0xffffffffu && b[4] == 0 && b[5] == 0,
               NAME("%s: BAR sizing (4 KiB mem, 32-byte I/O, 1 MiB 64-bit prefetchable)", mech),
               "%08x %08x %08x %08x %08x %08x", b[0], b[1], b[2], b[3], b[4], b[5]);
    wr(0, 3, 0, 0x10, 4, 0xfebf1234u);
    wr(0, 3, 0, 0x14, 4, 0xc040u);
    wr(0, 3, 0, 0x18, 4, 0x00100000u);
    wr(0, 3, 0, 0x1c, 4, 0x00000002u);
    UNIT_CHECK(rd(0, 3, 0, 0x10, 4) == 0xfebf1000u && rd(0, 3, 0, 0x14, 4) == 0xc041u &&
                   rd(0, 3, 0, 0x18, 4) == 0x0010000cu && rd(0, 3, 0, 0x1c, 4) == 2,
               NAME("%s: BAR addresses keep only bits above the size", mech), "%08x %08x",
               rd(0, 3, 0, 0x10, 4), rd(0, 3, 0, 0x14, 4));
    UNIT_CHECK(pci_function_bar_addr(host, f, 0) == PCI_BAR_UNMAPPED &&
                   pci_function_bar_addr(host, f, 1) == PCI_BAR_UNMAPPED,
               NAME("%s: no decoding while the command register is 0", mech), "decoding");
    header_writes = 0;
    wr(0, 3, 0, 0x04, 2, 0xffff);
    UNIT_CHECK(rd(0, 3, 0, 0x04, 2) == 0x0547 && header_writes == 1 && last_header_offset == 4,
               NAME("%s: command register writable bits, header_written called", mech),
               "0x%04x, %u calls", rd(0, 3, 0, 0x04, 2), header_writes);
    UNIT_CHECK(pci_function_bar_addr(host, f, 0) == 0xfebf1000u &&
                   pci_function_bar_addr(host, f, 1) == 0xc040u &&
                   pci_function_bar_addr(host, f, 2) == 0x200100000ull &&
                   pci_function_bar_addr(host, f, 3) == PCI_BAR_UNMAPPED,
               NAME("%s: decoded BAR addresses, 64-bit whole", mech), "0x%llx",
               (unsigned long long)pci_function_bar_addr(host, f, 2));
    wr(0, 3, 0, 0x11, 1, 0x20);
    UNIT_CHECK(rd(0, 3, 0, 0x10, 4) == 0xfebf2000u, NAME("%s: byte write inside a BAR", mech),
               "0x%08x", rd(0, 3, 0, 0x10, 4));
    UNIT_CHECK(rd(0, 3, 0, 0x06, 2) == 0x0010 && rd(0, 3, 0, 0x34, 1) == 0x40 &&
                   rd(0, 3, 0, 0x3d, 1) == 1 && rd(0, 3, 0, 0x2c, 4) == 0x00011af4u,
               NAME("%s: status capability bit, capability pointer, pin, subsystem", mech),
               "wrong");
    wr(0, 3, 0, 0x3c, 1, 11);
    UNIT_CHECK(rd(0, 3, 0, 0x3c, 2) == 0x010b, NAME("%s: interrupt line writable", mech), "0x%04x",
               rd(0, 3, 0, 0x3c, 2));
    wr(0, 3, 0, 0x40, 4, 0xa5a55a5au);
    wr(0, 3, 0, 0x42, 1, 0x11);
    UNIT_CHECK(scratch == 0xa5115a5au && rd(0, 3, 0, 0x40, 4) == 0xa5115a5au &&
                   rd(0, 3, 0, 0x42, 2) == 0xa511,
               NAME("%s: device registers through the callbacks", mech), "0x%08x", scratch);
    wr(0, 3, 0, 0x04, 2, 0);
    UNIT_CHECK(rd(0, 3, 0, 0x0e, 1) == 0x80 && rd(0, 3, 1, 0, 4) == 0x10021af4u &&
                   rd(0, 3, 1, 0x0e, 1) == 0,
               NAME("%s: function 0 reports multi-function when 03.1 exists", mech), "0x%x",
               rd(0, 3, 0, 0x0e, 1));
#undef NAME
}

static int cf9_reads, cf9_writes;
static uint64_t cf9_last;

static int cf9_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    cf9_reads++;
    *value = 0x02;
    return COREMU_MEM_OK;
}

static int cf9_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    cf9_writes++;
    cf9_last = value;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops cf9_ops = {.read = cf9_read, .write = cf9_write, .sizes = 1};

int main(void)
{
    io = coremu_as_new();
    mem = coremu_as_new();
    struct pci_host *host = pci_host_new(0, 15);
    UNIT_REQUIRE(io && mem && host, "setup", "allocation failed");
    UNIT_REQUIRE(pci_host_map(host, io, mem, ECAM_BASE) == 0, "setup", "map failed");
    UNIT_CHECK(pci_host_ecam_size(host) == 16u << 20, "ECAM window 1 MiB per bus", "0x%llx",
               (unsigned long long)pci_host_ecam_size(host));

    struct pci_function_desc d = {
        .vendor_id = 0x1af4,
        .device_id = 0x1000,
        .subsystem_vendor_id = 0x1af4,
        .subsystem_id = 1,
        .class_code = 0x020000,
        .interrupt_pin = 1,
        .capabilities = 0x40,
        .bars = {{4096, 0}, {32, PCI_BAR_IO}, {1u << 20, PCI_BAR_MEM64 | PCI_BAR_PREFETCH}},
        .config_read = dev_config_read,
        .config_write = dev_config_write,
        .header_written = dev_header_written,
    };
    struct pci_function *f = NULL;
    UNIT_REQUIRE(pci_host_add_function(host, 0, 3, 0, &d, &f) == 0 && f != NULL, "setup",
                 "add failed");
    struct pci_function_desc d1 = {.vendor_id = 0x1af4, .device_id = 0x1002};
    UNIT_REQUIRE(pci_host_add_function(host, 0, 3, 1, &d1, NULL) == 0, "setup", "add failed");
    UNIT_CHECK(pci_host_add_function(host, 0, 3, 0, &d1, NULL) == -EEXIST,
               "a taken address is refused", "accepted");
    UNIT_CHECK(pci_host_add_function(host, 0, 32, 0, &d1, NULL) == -EINVAL, "device 32 is refused",
               "accepted");
    struct pci_function_desc bad = {.vendor_id = 1, .bars = {{3000, 0}}};
    UNIT_CHECK(pci_host_add_function(host, 0, 4, 0, &bad, NULL) == -EINVAL,
               "a BAR size that is not a power of two is refused", "accepted");
    struct pci_function_desc bad64 = {.vendor_id = 1, .bars = {[5] = {4096, PCI_BAR_MEM64}}};
    UNIT_CHECK(pci_host_add_function(host, 0, 4, 0, &bad64, NULL) == -EINVAL,
               "a 64-bit BAR in the last slot is refused", "accepted");

    test_mechanism("0xCF8", cf8_read, cf8_write, host, f);
    test_mechanism("ECAM", ecam_read, ecam_write, host, f);

    /* The address register and its enable bit. */
    coremu_as_write(io, 0xcf8, 4, 0x80001a07u);
    uint64_t v = 0;
    coremu_as_read(io, 0xcf8, 4, &v);
    UNIT_CHECK(v == 0x80001a04u, "0xCF8 reads back (register bits 1:0 are 0)", "0x%llx",
               (unsigned long long)v);
    coremu_as_write(io, 0xcf8, 4, 0x00000000u);
    coremu_as_read(io, 0xcfc, 4, &v);
    UNIT_CHECK(v == 0xffffffffu, "0xCFC reads all ones while the enable bit is clear", "0x%llx",
               (unsigned long long)v);
    UNIT_CHECK(coremu_as_read(mem, ECAM_BASE + (16ull << 20), 4, &v) == COREMU_MEM_UNMAPPED,
               "ECAM window ends after its last bus", "mapped");

    /* 0xCF9: the reset control register's byte, forwarded. */
    coremu_as_write(io, 0xcf9, 1, 0x06);
    UNIT_CHECK(cf9_writes == 0, "0xCF9 byte dropped with no forward set", "forwarded");
    pci_host_set_cf9(host, &cf9_ops, NULL);
    coremu_as_write(io, 0xcf9, 1, 0x06);
    coremu_as_read(io, 0xcf9, 1, &v);
    UNIT_CHECK(cf9_writes == 1 && cf9_last == 0x06 && cf9_reads == 1 && v == 0x02,
               "0xCF9 byte accesses reach the reset register", "writes %d reads %d", cf9_writes,
               cf9_reads);
    coremu_as_write(io, 0xcf8, 4, 0x80000000u);
    coremu_as_read(io, 0xcf8, 4, &v);
    UNIT_CHECK(cf9_writes == 1 && v == 0x80000000u,
               "a dword at 0xCF8 is the address register, not the reset register", "wrong");

    /* Machine reset: BARs back to address 0 (type bits kept), command 0, the device told. */
    pci_host_config_write(host, 0, 3, 0, 0x10, 4, 0xc0001000u);
    pci_host_config_write(host, 0, 3, 0, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    unsigned writes_before = header_writes;
    pci_host_reset(host);
    UNIT_CHECK(
        pci_host_config_read(host, 0, 3, 0, 0x10, 4) == 0 &&
            pci_host_config_read(host, 0, 3, 0, 0x14, 4) == PCI_BAR_IO &&
            pci_host_config_read(host, 0, 3, 0, 0x18, 4) == (PCI_BAR_MEM64 | PCI_BAR_PREFETCH) &&
            pci_host_config_read(host, 0, 3, 0, 0x04, 2) == 0,
        "reset clears the BARs' addresses and the command register", "BAR0 0x%x cmd 0x%x",
        pci_host_config_read(host, 0, 3, 0, 0x10, 4), pci_host_config_read(host, 0, 3, 0, 0x04, 2));
    UNIT_CHECK(header_writes > writes_before &&
                   pci_function_bar_addr(host, f, 0) == PCI_BAR_UNMAPPED,
               "reset tells the device, whose BAR is unmapped", "%u calls", header_writes);

    /* An ECAM-only host with its own bridge identity (the ARM virt board's): no port space. */
    const struct pci_function_desc gpex = {
        .vendor_id = 0x1b36, .device_id = 0x0008, .class_code = 0x060000};
    struct pci_host *ecam_only = pci_host_new_bridge(0, 15, &gpex);
    UNIT_REQUIRE(ecam_only != NULL, "setup", "allocation failed");
    UNIT_CHECK(pci_host_map(ecam_only, NULL, mem, ECAM_BASE + (64ull << 20)) == 0,
               "a host maps its ECAM without a port space", "map failed");
    coremu_as_read(mem, ECAM_BASE + (64ull << 20), 4, &v);
    uint64_t cls = 0;
    coremu_as_read(mem, ECAM_BASE + (64ull << 20) + 8, 4, &cls);
    UNIT_CHECK(v == 0x00081b36u && cls >> 8 == 0x060000u,
               "the host bridge has the identity the board gave", "0x%llx class 0x%llx",
               (unsigned long long)v, (unsigned long long)(cls >> 8));

    coremu_as_free(io);
    coremu_as_free(mem);
    pci_host_free(host);
    pci_host_free(ecam_only);
    return unit_done();
}
