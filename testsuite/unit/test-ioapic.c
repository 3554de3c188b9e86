/*
 * Host-side tests of the 82093AA I/O APIC model (hw/ioapic.c): registers driven through the
 * device's register callbacks as Linux's io_apic.c drives them (IOREGSEL then IOWIN, 32-bit),
 * inputs through ioapic_set_irq and the devices' irq lines, EOIs through ioapic_eoi and the EOI
 * register, deliveries recorded by a board callback. Expected values come from the data sheet.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <coremu/coremu.h>

#include "ioapic.h"
#include "unit.h"

/* ---- the board side: a log of deliveries ----------------------------------------------------- */

struct msg {
    uint8_t dest;
    bool logical;
    unsigned mode;
    uint8_t vector;
    bool level;
};

#define LOG_MAX 64

struct board {
    pthread_mutex_t lock;
    struct msg log[LOG_MAX];
    unsigned count;              /* deliveries logged (up to LOG_MAX are kept) */
    atomic_uint per_vector[256]; /* every delivery, for the threaded tests */
};

static void deliver(void *opaque, uint8_t dest, bool logical, unsigned mode, uint8_t vector,
                    bool level)
{
    struct board *b = opaque;
    atomic_fetch_add(&b->per_vector[vector], 1);
    pthread_mutex_lock(&b->lock);
    if (b->count < LOG_MAX) {
        b->log[b->count] = (struct msg){dest, logical, mode, vector, level};
    }
    b->count++;
    pthread_mutex_unlock(&b->lock);
}

static unsigned delivered(struct board *b)
{
    pthread_mutex_lock(&b->lock);
    unsigned n = b->count;
    pthread_mutex_unlock(&b->lock);
    return n;
}

static struct msg last(struct board *b)
{
    pthread_mutex_lock(&b->lock);
    struct msg m = b->count > 0 && b->count <= LOG_MAX ? b->log[b->count - 1] : (struct msg){0};
    pthread_mutex_unlock(&b->lock);
    return m;
}

static struct ioapic *new_ioapic(struct board *b)
{
    memset(b, 0, sizeof(*b));
    pthread_mutex_init(&b->lock, NULL);
    struct ioapic *io = ioapic_new("ioapic", 2, deliver, b);
    UNIT_REQUIRE(io != NULL, "ioapic_new", "NULL");
    return io;
}

static void free_ioapic(struct ioapic *io, struct board *b)
{
    ioapic_free(io);
    pthread_mutex_destroy(&b->lock);
}

static uint32_t mmio_read(struct ioapic *io, unsigned offset)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    int r = ioapic_mmio_ops.read(io, offset, 4, &v);
    if (r != COREMU_MEM_OK || v > 0xffffffffull) {
        unit_fail("mmio read", "offset 0x%x: result %d value 0x%llx", offset, r,
                  (unsigned long long)v);
    }
    return (uint32_t)v;
}

static void mmio_write(struct ioapic *io, unsigned offset, uint32_t v)
{
    int r = ioapic_mmio_ops.write(io, offset, 4, v);
    if (r != COREMU_MEM_OK) {
        unit_fail("mmio write", "offset 0x%x: result %d", offset, r);
    }
}

/* Linux's io_apic_read / io_apic_write. */
static uint32_t reg_read(struct ioapic *io, unsigned reg)
{
    mmio_write(io, IOAPIC_IOREGSEL, reg);
    return mmio_read(io, IOAPIC_IOWIN);
}

static void reg_write(struct ioapic *io, unsigned reg, uint32_t v)
{
    mmio_write(io, IOAPIC_IOREGSEL, reg);
    mmio_write(io, IOAPIC_IOWIN, v);
}

/* Linux's ioapic_write_entry: high half first, then the low half (which may unmask). */
static void set_rte(struct ioapic *io, unsigned pin, uint32_t low, uint8_t dest)
{
    reg_write(io, IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)dest << 24);
    reg_write(io, IOAPIC_REG_REDTBL + 2 * pin, low);
}

static uint32_t rte_low(struct ioapic *io, unsigned pin)
{
    return reg_read(io, IOAPIC_REG_REDTBL + 2 * pin);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_registers(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);

    UNIT_CHECK(reg_read(io, IOAPIC_REG_ID) == 0x02000000u, "registers: ID from ioapic_new",
               "0x%08x", reg_read(io, IOAPIC_REG_ID));
    UNIT_CHECK(reg_read(io, IOAPIC_REG_VER) == 0x00170020u,
               "registers: version 0x00170020 (24 pins, version 0x20)", "0x%08x",
               reg_read(io, IOAPIC_REG_VER));
    UNIT_CHECK(reg_read(io, IOAPIC_REG_ARB) == 0x02000000u, "registers: ARB holds the ID", "0x%08x",
               reg_read(io, IOAPIC_REG_ARB));
    reg_write(io, IOAPIC_REG_ID, 0xf5ffffffu);
    UNIT_CHECK(reg_read(io, IOAPIC_REG_ID) == 0x05000000u, "registers: ID keeps bits 27-24 only",
               "0x%08x", reg_read(io, IOAPIC_REG_ID));
    UNIT_CHECK(reg_read(io, IOAPIC_REG_ARB) == 0x05000000u, "registers: writing the ID loads ARB",
               "0x%08x", reg_read(io, IOAPIC_REG_ARB));
    reg_write(io, IOAPIC_REG_VER, 0);
    reg_write(io, IOAPIC_REG_ARB, 0);
    UNIT_CHECK(reg_read(io, IOAPIC_REG_VER) == 0x00170020u &&
                   reg_read(io, IOAPIC_REG_ARB) == 0x05000000u,
               "registers: VER and ARB are read-only", "VER 0x%08x ARB 0x%08x",
               reg_read(io, IOAPIC_REG_VER), reg_read(io, IOAPIC_REG_ARB));

    mmio_write(io, IOAPIC_IOREGSEL, 0x12345611u);
    UNIT_CHECK(mmio_read(io, IOAPIC_IOREGSEL) == 0x11u, "registers: IOREGSEL keeps bits 7-0",
               "0x%08x", mmio_read(io, IOAPIC_IOREGSEL));
    UNIT_CHECK(reg_read(io, 0x03) == 0 && reg_read(io, 0x40) == 0,
               "registers: undefined registers read 0", "0x03: 0x%08x", reg_read(io, 0x03));

    bool all_masked = true;
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        all_masked &= rte_low(io, pin) == IOAPIC_RTE_MASKED &&
                      reg_read(io, IOAPIC_REG_REDTBL + 2 * pin + 1) == 0;
    }
    UNIT_CHECK(all_masked, "registers: every entry masked at reset", "pin 0 0x%08x",
               rte_low(io, 0));

    /* Sizes other than 4 and misalignment are refused by the ops (the address space checks). */
    UNIT_CHECK(ioapic_mmio_ops.sizes == 4u && !ioapic_mmio_ops.allow_unaligned,
               "registers: 32-bit aligned accesses only", "sizes 0x%x", ioapic_mmio_ops.sizes);
    free_ioapic(io, &b);
}

/* The window mapped in an address space, as the board does. */
static void test_mapped(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);
    struct coremu_as *as = coremu_as_new();
    UNIT_REQUIRE(as != NULL, "coremu_as_new", "NULL");
    UNIT_CHECK(ioapic_map(io, as, IOAPIC_DEFAULT_BASE) == 0, "mapped: ioapic_map", "failed");
    uint64_t v = 0;
    int r = coremu_as_write(as, IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL, 4, IOAPIC_REG_VER);
    r |= coremu_as_read(as, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, 4, &v);
    UNIT_CHECK(r == COREMU_MEM_OK && v == IOAPIC_VERSION_VALUE,
               "mapped: version through the address space", "result %d value 0x%llx", r,
               (unsigned long long)v);
    r = coremu_as_read(as, IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN, 1, &v);
    UNIT_CHECK(r == COREMU_MEM_BAD_SIZE, "mapped: a byte access is refused", "result %d", r);
    coremu_as_free(as);
    free_ioapic(io, &b);
}

static void test_rte_programming(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);

    /* Every writable field, and the read-only ones (delivery status, remote IRR) set. */
    uint32_t low = 0xffffffffu; /* masked, so the active-low level pin does not deliver */
    set_rte(io, 5, low, 0xab);
    uint32_t want = 0x0001afffu; /* bits 12, 14 and 31-17 cleared */
    UNIT_CHECK(rte_low(io, 5) == want, "rte: writable low bits kept, RO and reserved bits 0",
               "0x%08x, want 0x%08x", rte_low(io, 5), want);
    reg_write(io, IOAPIC_REG_REDTBL + 2 * 5 + 1, 0xab00ffffu);
    UNIT_CHECK(reg_read(io, IOAPIC_REG_REDTBL + 2 * 5 + 1) == 0xab000000u,
               "rte: high half keeps the destination only", "0x%08x",
               reg_read(io, IOAPIC_REG_REDTBL + 2 * 5 + 1));
    UNIT_CHECK(rte_low(io, 4) == IOAPIC_RTE_MASKED && rte_low(io, 6) == IOAPIC_RTE_MASKED,
               "rte: neighbours untouched", "4: 0x%08x 6: 0x%08x", rte_low(io, 4), rte_low(io, 6));
    reg_write(io, IOAPIC_REG_REDTBL + 2 * 23 + 1, 0x77000000u);
    UNIT_CHECK(reg_read(io, IOAPIC_REG_REDTBL + 2 * 23 + 1) == 0x77000000u &&
                   reg_read(io, IOAPIC_REG_REDTBL + 2 * 24) == 0,
               "rte: pin 23 is the last", "0x%08x", reg_read(io, IOAPIC_REG_REDTBL + 47));

    /* The fields reach the delivery: logical destination 0xab, lowest priority, vector 0x31. */
    set_rte(io, 5, 0x31u | (IOAPIC_DELIVERY_LOWEST << 8) | IOAPIC_RTE_DEST_LOGICAL, 0xab);
    ioapic_set_irq(io, 5, true);
    struct msg m = last(&b);
    UNIT_CHECK(delivered(&b) == 1 && m.dest == 0xab && m.logical &&
                   m.mode == IOAPIC_DELIVERY_LOWEST && m.vector == 0x31 && !m.level,
               "rte: delivery carries destination, modes and vector",
               "%u deliveries, dest 0x%x logical %d mode %u vector 0x%x level %d", delivered(&b),
               m.dest, m.logical, m.mode, m.vector, m.level);

    /* Reset masks everything again and restores the ID. */
    reg_write(io, IOAPIC_REG_ID, 0x09000000u);
    ioapic_reset(io);
    UNIT_CHECK(rte_low(io, 5) == IOAPIC_RTE_MASKED && reg_read(io, IOAPIC_REG_ID) == 0x02000000u,
               "rte: reset masks entries, restores the ID", "0x%08x", rte_low(io, 5));
    free_ioapic(io, &b);
}

static void test_edge(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);
    set_rte(io, 1, 0x41, 0x01);

    ioapic_set_irq(io, 1, true);
    UNIT_CHECK(delivered(&b) == 1 && last(&b).vector == 0x41 && !last(&b).level,
               "edge: rising edge delivers once", "%u", delivered(&b));
    ioapic_set_irq(io, 1, true);
    UNIT_CHECK(delivered(&b) == 1, "edge: a steady high does not deliver again", "%u",
               delivered(&b));
    ioapic_set_irq(io, 1, false);
    UNIT_CHECK(delivered(&b) == 1, "edge: the falling edge delivers nothing", "%u", delivered(&b));
    ioapic_set_irq(io, 1, true);
    UNIT_CHECK(delivered(&b) == 2, "edge: the next rising edge delivers", "%u", delivered(&b));
    UNIT_CHECK(!(rte_low(io, 1) & IOAPIC_RTE_REMOTE_IRR), "edge: remote IRR stays clear", "0x%08x",
               rte_low(io, 1));
    ioapic_set_irq(io, 1, false);

    /* An edge while masked is lost; unmasking does not deliver it. */
    set_rte(io, 1, 0x41 | IOAPIC_RTE_MASKED, 0x01);
    ioapic_set_irq(io, 1, true);
    set_rte(io, 1, 0x41, 0x01);
    UNIT_CHECK(delivered(&b) == 2, "edge: an edge while masked is lost", "%u", delivered(&b));

    /* Through a device's irq line. */
    ioapic_set_irq(io, 1, false);
    struct coremu_irq_line line = ioapic_irq_line(io, 1);
    coremu_irq_set(&line, true);
    UNIT_CHECK(delivered(&b) == 3, "edge: a device's irq line reaches the pin", "%u",
               delivered(&b));
    struct coremu_irq_line none = ioapic_irq_line(io, 24);
    UNIT_CHECK(none.set == NULL, "edge: no line for pin 24", "set %p", (void *)none.set);
    ioapic_set_irq(io, 24, true); /* logged and ignored */

    /* NMI is edge-triggered even with the level bit set. */
    set_rte(io, 2, 0x02 | (IOAPIC_DELIVERY_NMI << 8) | IOAPIC_RTE_LEVEL, 0x00);
    ioapic_set_irq(io, 2, true);
    struct msg m = last(&b);
    UNIT_CHECK(delivered(&b) == 4 && m.mode == IOAPIC_DELIVERY_NMI && !m.level &&
                   !(rte_low(io, 2) & IOAPIC_RTE_REMOTE_IRR),
               "edge: NMI is edge-triggered whatever the trigger bit", "%u, level %d",
               delivered(&b), m.level);
    free_ioapic(io, &b);
}

static void test_level_and_eoi(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);
    set_rte(io, 9, 0x59 | IOAPIC_RTE_LEVEL, 0x03);

    ioapic_set_irq(io, 9, true);
    UNIT_CHECK(delivered(&b) == 1 && last(&b).level && last(&b).vector == 0x59,
               "level: an asserted pin delivers, level-triggered", "%u", delivered(&b));
    UNIT_CHECK(rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR, "level: remote IRR set on delivery",
               "0x%08x", rte_low(io, 9));
    ioapic_set_irq(io, 9, false);
    ioapic_set_irq(io, 9, true);
    UNIT_CHECK(delivered(&b) == 1, "level: nothing more while remote IRR is set", "%u",
               delivered(&b));

    ioapic_eoi(io, 0x58); /* another vector */
    UNIT_CHECK(delivered(&b) == 1 && (rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: an EOI for another vector changes nothing", "%u", delivered(&b));
    ioapic_eoi(io, 0x59);
    UNIT_CHECK(delivered(&b) == 2 && (rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: EOI re-delivers a pin still asserted", "%u, 0x%08x", delivered(&b),
               rte_low(io, 9));

    ioapic_set_irq(io, 9, false);
    ioapic_eoi(io, 0x59);
    UNIT_CHECK(delivered(&b) == 2 && !(rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: EOI of a released pin clears remote IRR only", "%u, 0x%08x", delivered(&b),
               rte_low(io, 9));
    ioapic_set_irq(io, 9, true);
    UNIT_CHECK(delivered(&b) == 3, "level: asserting again delivers", "%u", delivered(&b));

    /* The EOI register of version 0x20 does the same as the local APIC's broadcast. */
    mmio_write(io, IOAPIC_EOI, 0x59);
    UNIT_CHECK(delivered(&b) == 4, "level: the EOI register re-delivers", "%u", delivered(&b));

    /* Linux's EOI for I/O APICs without the EOI register (__eoi_ioapic_pin): the entry made
     * edge-triggered and masked, then restored, which clears remote IRR; the restore delivers
     * again if the pin is still asserted. */
    ioapic_eoi(io, 0x59);
    UNIT_CHECK(delivered(&b) == 5 && (rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: pending again before the trigger-mode EOI", "%u", delivered(&b));
    set_rte(io, 9, 0x59 | IOAPIC_RTE_MASKED, 0x03);
    UNIT_CHECK(!(rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: switching to edge clears remote IRR", "0x%08x", rte_low(io, 9));
    set_rte(io, 9, 0x59 | IOAPIC_RTE_LEVEL, 0x03);
    UNIT_CHECK(delivered(&b) == 6 && (rte_low(io, 9) & IOAPIC_RTE_REMOTE_IRR),
               "level: restoring the level entry re-delivers the asserted pin", "%u",
               delivered(&b));
    ioapic_set_irq(io, 9, false);
    ioapic_eoi(io, 0x59);

    /* Two pins sharing a vector: one EOI serves both. */
    set_rte(io, 10, 0x59 | IOAPIC_RTE_LEVEL, 0x03);
    ioapic_set_irq(io, 9, true);
    ioapic_set_irq(io, 10, true);
    UNIT_CHECK(delivered(&b) == 8, "level: a second pin with the vector delivers", "%u",
               delivered(&b));
    ioapic_eoi(io, 0x59);
    UNIT_CHECK(delivered(&b) == 10, "level: one EOI re-delivers every pin of the vector", "%u",
               delivered(&b));
    free_ioapic(io, &b);
}

static void test_masking(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED, 0x00);

    ioapic_set_irq(io, 11, true);
    UNIT_CHECK(delivered(&b) == 0 && !(rte_low(io, 11) & IOAPIC_RTE_REMOTE_IRR),
               "mask: a masked level pin does not deliver", "%u", delivered(&b));
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL, 0x00);
    UNIT_CHECK(delivered(&b) == 1 && last(&b).vector == 0x61,
               "mask: unmasking delivers the still-asserted pin", "%u", delivered(&b));

    /* Masked while remote IRR is set: the EOI clears it but does not deliver; the unmask does. */
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED, 0x00);
    ioapic_eoi(io, 0x61);
    UNIT_CHECK(delivered(&b) == 1 && !(rte_low(io, 11) & IOAPIC_RTE_REMOTE_IRR),
               "mask: EOI while masked clears remote IRR, no delivery", "%u", delivered(&b));
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL, 0x00);
    UNIT_CHECK(delivered(&b) == 2, "mask: unmasking after the EOI delivers", "%u", delivered(&b));

    /* A pin released while masked is not delivered on unmask. */
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED, 0x00);
    ioapic_eoi(io, 0x61);
    ioapic_set_irq(io, 11, false);
    set_rte(io, 11, 0x61 | IOAPIC_RTE_LEVEL, 0x00);
    UNIT_CHECK(delivered(&b) == 2, "mask: a released pin is not delivered on unmask", "%u",
               delivered(&b));
    free_ioapic(io, &b);
}

static void test_polarity(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);

    /* Active-low level (PCI INTx as the MP table describes it): low input is the request. */
    set_rte(io, 16, 0x71 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_MASKED, 0x00);
    ioapic_set_irq(io, 16, true); /* idle: high */
    set_rte(io, 16, 0x71 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_ACTIVE_LOW, 0x00);
    UNIT_CHECK(delivered(&b) == 0, "polarity: active-low pin idle when high", "%u", delivered(&b));
    ioapic_set_irq(io, 16, false);
    UNIT_CHECK(delivered(&b) == 1 && last(&b).vector == 0x71,
               "polarity: active-low pin delivers when low", "%u", delivered(&b));
    ioapic_set_irq(io, 16, true);
    ioapic_eoi(io, 0x71);
    UNIT_CHECK(delivered(&b) == 1 && !(rte_low(io, 16) & IOAPIC_RTE_REMOTE_IRR),
               "polarity: released (high) at EOI, no re-delivery", "%u", delivered(&b));

    /* Active-low edge: the falling input edge is the request. */
    set_rte(io, 17, 0x72 | IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_MASKED, 0x00);
    ioapic_set_irq(io, 17, true);
    set_rte(io, 17, 0x72 | IOAPIC_RTE_ACTIVE_LOW, 0x00);
    ioapic_set_irq(io, 17, true);
    unsigned before = delivered(&b);
    ioapic_set_irq(io, 17, false);
    UNIT_CHECK(delivered(&b) == before + 1 && last(&b).vector == 0x72,
               "polarity: active-low edge delivers on the falling input", "%u",
               delivered(&b) - before);
    ioapic_set_irq(io, 17, true);
    UNIT_CHECK(delivered(&b) == before + 1, "polarity: the rising input is the inactive edge", "%u",
               delivered(&b) - before);
    free_ioapic(io, &b);
}

/* ---- threads ----------------------------------------------------------------------------------
 */

#define EDGE_THREADS 4
#define EDGES        20000

struct edge_arg {
    struct ioapic *io;
    unsigned pin;
    atomic_int *go;
};

static void *edge_thread(void *opaque)
{
    struct edge_arg *a = opaque;
    while (!atomic_load(a->go)) {
    }
    for (unsigned i = 0; i < EDGES; i++) {
        ioapic_set_irq(a->io, a->pin, true);
        ioapic_set_irq(a->io, a->pin, false);
    }
    return NULL;
}

/* Level pins raised by device threads while an "APIC" thread EOIs whatever was delivered. */
struct level_arg {
    struct ioapic *io;
    struct board *b;
    atomic_int *go;
    atomic_int *stop;
};

static void *eoi_thread(void *opaque)
{
    struct level_arg *a = opaque;
    unsigned eoied = 0;
    while (!atomic_load(a->stop)) {
        unsigned now = atomic_load(&a->b->per_vector[0x90]);
        if (now > eoied) {
            eoied = now;
            ioapic_eoi(a->io, 0x90);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    struct board b;
    struct ioapic *io = new_ioapic(&b);
    atomic_int go = 0;
    pthread_t t[EDGE_THREADS];
    struct edge_arg args[EDGE_THREADS];

    for (unsigned i = 0; i < EDGE_THREADS; i++) {
        set_rte(io, i, 0x80 + i, 0x00);
        args[i] = (struct edge_arg){io, i, &go};
        UNIT_REQUIRE(pthread_create(&t[i], NULL, edge_thread, &args[i]) == 0, "pthread_create",
                     "failed");
    }
    /* Meanwhile the guest rewrites other entries through the registers. */
    atomic_store(&go, 1);
    for (unsigned i = 0; i < 2000; i++) {
        set_rte(io, 20, 0x20 | ((i & 1) ? IOAPIC_RTE_MASKED : 0), (uint8_t)i);
    }
    for (unsigned i = 0; i < EDGE_THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    bool exact = true;
    for (unsigned i = 0; i < EDGE_THREADS; i++) {
        unsigned n = atomic_load(&b.per_vector[0x80 + i]);
        if (n != EDGES) {
            unit_fail("threads: every edge of every pin delivered", "pin %u: %u of %u", i, n,
                      EDGES);
            exact = false;
        }
    }
    if (exact) {
        unit_pass("threads: every edge of every pin delivered");
    }

    /* Level: four device threads hold pins 12-15 (one vector) up and down while another
     * thread EOIs; at the end all are released and one last EOI leaves no remote IRR. */
    for (unsigned pin = 12; pin < 16; pin++) {
        set_rte(io, pin, 0x90 | IOAPIC_RTE_LEVEL, 0x00);
    }
    atomic_int stop = 0;
    atomic_store(&go, 0);
    struct level_arg la = {io, &b, &go, &stop};
    pthread_t eoi;
    UNIT_REQUIRE(pthread_create(&eoi, NULL, eoi_thread, &la) == 0, "pthread_create", "failed");
    for (unsigned i = 0; i < EDGE_THREADS; i++) {
        args[i] = (struct edge_arg){io, 12 + i, &go};
        UNIT_REQUIRE(pthread_create(&t[i], NULL, edge_thread, &args[i]) == 0, "pthread_create",
                     "failed");
    }
    atomic_store(&go, 1);
    for (unsigned i = 0; i < EDGE_THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    atomic_store(&stop, 1);
    pthread_join(eoi, NULL);
    unsigned before = atomic_load(&b.per_vector[0x90]);
    ioapic_eoi(io, 0x90);
    bool clear = true;
    for (unsigned pin = 12; pin < 16; pin++) {
        clear &= !(rte_low(io, pin) & IOAPIC_RTE_REMOTE_IRR);
    }
    UNIT_CHECK(clear && before > 0 && atomic_load(&b.per_vector[0x90]) == before,
               "threads: level pins with concurrent EOIs settle with no remote IRR",
               "clear %d, %u deliveries", clear, before);
    free_ioapic(io, &b);
}

int main(void)
{
    test_registers();
    test_mapped();
    test_rte_programming();
    test_edge();
    test_level_and_eoi();
    test_masking();
    test_polarity();
    test_threads();
    return unit_done();
}
