/*
 * The guest physical address space: RAM, ROM and MMIO regions, access sizes and alignment,
 * region-end and 64-bit wrap-around checks, and lock-free lookups while regions come and go.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <coremu/physmem.h>

#include "unit.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE 0x10000ull

/* A device that records its last access and answers reads with a pattern of the offset. */
struct rec_dev {
    uint64_t last_off, last_val;
    unsigned last_size, reads, writes;
    int answer; /* what the callbacks return */
};

static int rec_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct rec_dev *d = opaque;
    d->last_off = offset;
    d->last_size = size;
    d->reads++;
    /* Deliberately garbage above size bytes: the address space must mask it. */
    *value = 0xdead000000000000ull | (offset * 0x01010101u) | 0xff00000000ull;
    return d->answer;
}

static int rec_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct rec_dev *d = opaque;
    d->last_off = offset;
    d->last_size = size;
    d->last_val = value;
    d->writes++;
    return d->answer;
}

static const struct coremu_mmio_ops ops_w4 = {.read = rec_read, .write = rec_write, .sizes = 4};
static const struct coremu_mmio_ops ops_any = {
    .read = rec_read, .write = rec_write, .sizes = 0, .allow_unaligned = true};
static const struct coremu_mmio_ops ops_w12 = {.read = rec_read, .write = rec_write, .sizes = 3};
static const struct coremu_mmio_ops ops_wo = {.write = rec_write};

static void test_ram(void)
{
    struct coremu_as *as = coremu_as_new();
    UNIT_REQUIRE(as != NULL, "ram: new", "coremu_as_new failed");
    uint8_t *host = coremu_as_add_ram(as, "ram", RAM_BASE, RAM_SIZE);
    UNIT_REQUIRE(host != NULL, "ram: add", "add_ram failed: %s", strerror(errno));

    bool zero = true;
    for (uint64_t i = 0; i < RAM_SIZE; i += 512) {
        zero &= host[i] == 0;
    }
    UNIT_CHECK(zero, "ram: starts zeroed", "fresh RAM is not zero");

    static const unsigned sizes[] = {1, 2, 4, 8};
    bool ok = true;
    char why[200] = "";
    for (unsigned s = 0; s < 4 && ok; s++) {
        unsigned size = sizes[s];
        for (unsigned align = 0; align < 16 && ok; align++) {
            uint64_t addr = RAM_BASE + 0x100 + align;
            uint64_t val = 0x8877665544332211ull ^ ((uint64_t)align << 40) ^ size;
            uint64_t mask = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
            memset(host + 0x100, 0xee, 32);
            int w = coremu_as_write(as, addr, size, val);
            uint64_t got = 0;
            int r = coremu_as_read(as, addr, size, &got);
            uint64_t raw = 0;
            memcpy(&raw, host + 0x100 + align, size);
            /* The byte after the access must be untouched. */
            bool neighbour = host[0x100 + align + size] == 0xee &&
                             (align == 0 || host[0x100 + align - 1] == 0xee);
            if (w != COREMU_MEM_OK || r != COREMU_MEM_OK || got != (val & mask) ||
                raw != (val & mask) || !neighbour) {
                snprintf(why, sizeof(why),
                         "size %u align %u: w=%d r=%d got %#" PRIx64 " raw %#" PRIx64
                         " want %#" PRIx64 " neighbours %s",
                         size, align, w, r, got, raw, val & mask, neighbour ? "ok" : "clobbered");
                ok = false;
            }
        }
    }
    UNIT_CHECK(ok, "ram: every size and alignment round-trips, little-endian", "%s", why);

    host[0x200] = 0x11;
    host[0x201] = 0x22;
    host[0x202] = 0x33;
    host[0x203] = 0x44;
    uint64_t v = 0;
    UNIT_CHECK(coremu_as_read(as, RAM_BASE + 0x200, 4, &v) == COREMU_MEM_OK && v == 0x44332211,
               "ram: reads see host-pointer writes (little-endian)", "got %#" PRIx64, v);

    UNIT_CHECK(coremu_as_read(as, RAM_BASE, 3, &v) == COREMU_MEM_BAD_SIZE &&
                   coremu_as_write(as, RAM_BASE, 16, 0) == COREMU_MEM_BAD_SIZE &&
                   coremu_as_read(as, RAM_BASE, 0, &v) == COREMU_MEM_BAD_SIZE,
               "ram: sizes other than 1/2/4/8 are BAD_SIZE", "accepted");

    UNIT_CHECK(coremu_as_read(as, RAM_BASE + RAM_SIZE - 8, 8, &v) == COREMU_MEM_OK,
               "ram: last 8 bytes readable", "failed");
    UNIT_CHECK(coremu_as_read(as, RAM_BASE + RAM_SIZE - 4, 8, &v) == COREMU_MEM_UNMAPPED &&
                   coremu_as_write(as, RAM_BASE + RAM_SIZE - 1, 2, 0) == COREMU_MEM_UNMAPPED,
               "ram: access crossing the region end is UNMAPPED", "accepted");
    UNIT_CHECK(coremu_as_read(as, RAM_BASE - 1, 1, &v) == COREMU_MEM_UNMAPPED &&
                   coremu_as_read(as, RAM_BASE + RAM_SIZE, 4, &v) == COREMU_MEM_UNMAPPED &&
                   coremu_as_write(as, 0, 4, 0) == COREMU_MEM_UNMAPPED,
               "ram: addresses outside every region are UNMAPPED", "accepted");

    /* A second RAM region right after the first: an access across the seam still crosses a
     * region end. */
    uint8_t *host2 = coremu_as_add_ram(as, "ram2", RAM_BASE + RAM_SIZE, 0x1000);
    UNIT_REQUIRE(host2 != NULL, "ram: add adjacent", "failed: %s", strerror(errno));
    UNIT_CHECK(coremu_as_read(as, RAM_BASE + RAM_SIZE - 2, 4, &v) == COREMU_MEM_UNMAPPED,
               "ram: access across two adjacent regions is UNMAPPED", "accepted");
    UNIT_CHECK(coremu_as_write(as, RAM_BASE + RAM_SIZE, 4, 0xcafe) == COREMU_MEM_OK &&
                   host2[0] == 0xfe && host2[1] == 0xca,
               "ram: second region writable through its own mapping", "wrong bytes");

    /* copy_to/from may span adjacent RAM regions, but not a hole. */
    uint8_t buf[64], back[64];
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 7 + 1);
    }
    int c1 = coremu_as_copy_to(as, RAM_BASE + RAM_SIZE - 32, buf, sizeof(buf));
    int c2 = coremu_as_copy_from(as, RAM_BASE + RAM_SIZE - 32, back, sizeof(back));
    UNIT_CHECK(c1 == COREMU_MEM_OK && c2 == COREMU_MEM_OK && memcmp(buf, back, 64) == 0 &&
                   memcmp(host + RAM_SIZE - 32, buf, 32) == 0 && memcmp(host2, buf + 32, 32) == 0,
               "ram: copies span adjacent regions", "c1=%d c2=%d", c1, c2);
    UNIT_CHECK(coremu_as_copy_to(as, RAM_BASE + RAM_SIZE + 0x1000 - 8, buf, 16) ==
                       COREMU_MEM_UNMAPPED &&
                   coremu_as_copy_from(as, RAM_BASE - 4, back, 8) == COREMU_MEM_UNMAPPED,
               "ram: copies into a hole are UNMAPPED", "accepted");
    UNIT_CHECK(coremu_as_copy_to(as, 0x1234, buf, 0) == COREMU_MEM_OK,
               "ram: a zero-length copy succeeds anywhere", "failed");

    /* ram_ptr */
    UNIT_CHECK(coremu_as_ram_ptr(as, RAM_BASE + 0x10, 0x100, true) == host + 0x10,
               "ram_ptr: inside RAM", "wrong pointer");
    UNIT_CHECK(coremu_as_ram_ptr(as, RAM_BASE + RAM_SIZE - 8, 16, false) == NULL,
               "ram_ptr: range across a region end is NULL", "non-NULL");
    UNIT_CHECK(coremu_as_ram_ptr(as, RAM_BASE + RAM_SIZE - 1, 0, true) == host + RAM_SIZE - 1,
               "ram_ptr: len 0 checks one byte", "wrong");
    UNIT_CHECK(coremu_as_ram_ptr(as, 0x10, 1, false) == NULL, "ram_ptr: unmapped is NULL",
               "non-NULL");

    /* Overlaps, in every arrangement. */
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "dup", RAM_BASE, 0x1000) == NULL && errno == EEXIST,
               "overlap: same base rejected", "errno %d", errno);
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "in", RAM_BASE + 0x1000, 0x1000) == NULL && errno == EEXIST,
               "overlap: inside rejected", "errno %d", errno);
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "tail", RAM_BASE - 0x1000, 0x1001) == NULL &&
                   errno == EEXIST,
               "overlap: tail into a region rejected", "errno %d", errno);
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "cover", RAM_BASE - 0x1000, 0x100000) == NULL &&
                   errno == EEXIST,
               "overlap: covering rejected", "errno %d", errno);
    struct rec_dev d = {0};
    UNIT_CHECK(coremu_as_add_mmio(as, "mm", RAM_BASE + RAM_SIZE + 0xfff, 0x10, &ops_any, &d, 0) ==
                   -EEXIST,
               "overlap: MMIO over RAM's last byte rejected", "accepted");
    UNIT_CHECK(coremu_as_add_mmio(as, "mm", 0x1000, 0, &ops_any, &d, 0) == -EINVAL,
               "add: zero size is EINVAL", "accepted");
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "z", 0x1000, 0) == NULL && errno == EINVAL,
               "add: zero-size RAM is EINVAL", "errno %d", errno);
    UNIT_CHECK(coremu_as_add_ram(as, "adj", RAM_BASE - 0x1000, 0x1000) != NULL,
               "add: region ending right before another is fine", "rejected: %s",
               strerror(errno));

    coremu_as_free(as);
}

static void test_rom(void)
{
    struct coremu_as *as = coremu_as_new();
    uint8_t *rom = coremu_as_add_rom(as, "rom", 0, 0x1000);
    UNIT_REQUIRE(rom != NULL, "rom: add", "failed: %s", strerror(errno));
    memcpy(rom, "\x78\x56\x34\x12", 4);
    uint64_t v = 0;
    UNIT_CHECK(coremu_as_read(as, 0, 4, &v) == COREMU_MEM_OK && v == 0x12345678,
               "rom: readable", "got %#" PRIx64, v);
    UNIT_CHECK(coremu_as_write(as, 0, 4, 0) == COREMU_MEM_DEVICE_ERROR && rom[0] == 0x78,
               "rom: guest write is DEVICE_ERROR and changes nothing", "write went through");
    UNIT_CHECK(coremu_as_copy_to(as, 8, "abcd", 4) == COREMU_MEM_OK &&
                   memcmp(rom + 8, "abcd", 4) == 0,
               "rom: loaders may copy into it", "copy failed");
    UNIT_CHECK(coremu_as_ram_ptr(as, 0, 16, true) == NULL &&
                   coremu_as_ram_ptr(as, 0, 16, false) == rom,
               "rom: ram_ptr for reading only", "wrong");
    const struct coremu_region *r = coremu_as_lookup(as, 0x800);
    UNIT_CHECK(r != NULL && r->kind == COREMU_REGION_ROM && strcmp(r->name, "rom") == 0,
               "rom: lookup", "wrong region");
    coremu_as_free(as);
}

struct seen {
    uint64_t bases[8];
    unsigned n;
};

static void collect(const struct coremu_region *reg, void *opaque)
{
    struct seen *seen = opaque;
    if (seen->n < 8) {
        seen->bases[seen->n++] = reg->base;
    }
}

static void test_mmio(void)
{
    struct coremu_as *as = coremu_as_new();
    struct rec_dev d4 = {0}, dany = {0}, d12 = {0}, dwo = {0}, derr = {.answer = 3};
    UNIT_REQUIRE(coremu_as_add_mmio(as, "w4", 0x9000000, 0x1000, &ops_w4, &d4, 0) == 0 &&
                     coremu_as_add_mmio(as, "any", 0x9001000, 0x100, &ops_any, &dany, 0) == 0 &&
                     coremu_as_add_mmio(as, "w12", 0x9002000, 0x100, &ops_w12, &d12, 0) == 0 &&
                     coremu_as_add_mmio(as, "wo", 0x9003000, 0x100, &ops_wo, &dwo, 0) == 0 &&
                     coremu_as_add_mmio(as, "err", 0x9004000, 0x100, &ops_any, &derr, 0) == 0,
                 "mmio: add", "add_mmio failed");

    uint64_t v = 0;
    int r = coremu_as_read(as, 0x9000010, 4, &v);
    UNIT_CHECK(r == COREMU_MEM_OK && d4.last_off == 0x10 && d4.last_size == 4 &&
                   v == (0x10 * 0x01010101u & 0xffffffffu),
               "mmio: read dispatches with offset and size, value masked",
               "r=%d off=%#" PRIx64 " size=%u v=%#" PRIx64, r, d4.last_off, d4.last_size, v);
    r = coremu_as_write(as, 0x9000ffc, 4, 0xaabbccdd11223344ull);
    UNIT_CHECK(r == COREMU_MEM_OK && d4.last_off == 0xffc && d4.last_val == 0x11223344,
               "mmio: write dispatches with offset, value masked to size",
               "r=%d off=%#" PRIx64 " val=%#" PRIx64, r, d4.last_off, d4.last_val);
    unsigned before = d4.reads + d4.writes;
    UNIT_CHECK(coremu_as_read(as, 0x9000010, 1, &v) == COREMU_MEM_BAD_SIZE &&
                   coremu_as_write(as, 0x9000010, 8, 0) == COREMU_MEM_BAD_SIZE &&
                   coremu_as_read(as, 0x9000012, 4, &v) == COREMU_MEM_BAD_SIZE &&
                   d4.reads + d4.writes == before,
               "mmio: rejected size or alignment is BAD_SIZE without a callback", "accepted");
    UNIT_CHECK(coremu_as_read(as, 0x9000ffc, 8, &v) == COREMU_MEM_UNMAPPED ||
                   coremu_as_read(as, 0x9000ffc, 8, &v) == COREMU_MEM_BAD_SIZE,
               "mmio: access past the region end is an error", "accepted");
    UNIT_CHECK(coremu_as_read(as, 0x90000fc, 3, &v) == COREMU_MEM_BAD_SIZE,
               "mmio: size 3 is BAD_SIZE", "accepted");

    bool all = true;
    for (unsigned size = 1; size <= 8; size *= 2) {
        r = coremu_as_read(as, 0x9001003, size, &v);
        all &= r == COREMU_MEM_OK && dany.last_off == 3 && dany.last_size == size;
        r = coremu_as_write(as, 0x9001005, size, 0x0102030405060708ull);
        uint64_t mask = size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
        all &= r == COREMU_MEM_OK && dany.last_val == (0x0102030405060708ull & mask);
    }
    UNIT_CHECK(all, "mmio: sizes 0 means all, allow_unaligned passes odd offsets", "failed");
    UNIT_CHECK(coremu_as_read(as, 0x90010fc, 8, &v) == COREMU_MEM_UNMAPPED,
               "mmio: unaligned access crossing the region end is UNMAPPED", "accepted");

    UNIT_CHECK(coremu_as_read(as, 0x9002000, 1, &v) == COREMU_MEM_OK &&
                   coremu_as_read(as, 0x9002002, 2, &v) == COREMU_MEM_OK &&
                   coremu_as_read(as, 0x9002000, 4, &v) == COREMU_MEM_BAD_SIZE,
               "mmio: size mask 1|2", "wrong");
    UNIT_CHECK(coremu_as_write(as, 0x9003000, 4, 1) == COREMU_MEM_OK &&
                   coremu_as_read(as, 0x9003000, 4, &v) == COREMU_MEM_DEVICE_ERROR,
               "mmio: missing read callback is DEVICE_ERROR", "wrong");
    UNIT_CHECK(coremu_as_read(as, 0x9004000, 4, &v) == COREMU_MEM_DEVICE_ERROR &&
                   coremu_as_write(as, 0x9004000, 4, 0) == COREMU_MEM_DEVICE_ERROR,
               "mmio: device error is passed through", "wrong");
    UNIT_CHECK(coremu_as_read(as, 0x9005000, 4, &v) == COREMU_MEM_UNMAPPED,
               "mmio: hole between devices is UNMAPPED", "wrong");
    UNIT_CHECK(coremu_as_ram_ptr(as, 0x9000000, 4, false) == NULL &&
                   coremu_as_copy_to(as, 0x9000000, "x", 1) == COREMU_MEM_UNMAPPED,
               "mmio: no host pointer, no byte copies", "wrong");

    /* Remove, then the address is unmapped; removing twice fails; re-adding works. */
    UNIT_CHECK(coremu_as_remove(as, 0x9002000) == 0 &&
                   coremu_as_read(as, 0x9002000, 1, &v) == COREMU_MEM_UNMAPPED,
               "remove: region gone", "still mapped");
    UNIT_CHECK(coremu_as_remove(as, 0x9002000) == -ENOENT &&
                   coremu_as_remove(as, 0x9000004) == -ENOENT,
               "remove: unknown base is ENOENT", "wrong");
    UNIT_CHECK(coremu_as_add_mmio(as, "w12b", 0x9002000, 0x100, &ops_w12, &d12, 0) == 0 &&
                   coremu_as_read(as, 0x9002000, 1, &v) == COREMU_MEM_OK,
               "remove: the space can be reused", "failed");

    /* Regions come out in address order. */
    struct seen seen = {{0}, 0};
    coremu_as_foreach(as, collect, &seen);
    bool sorted = seen.n == 5;
    for (unsigned i = 1; i < seen.n; i++) {
        sorted &= seen.bases[i - 1] < seen.bases[i];
    }
    UNIT_CHECK(sorted, "foreach: every region, in address order", "n=%u", seen.n);
    coremu_as_free(as);
}

static void test_wrap(void)
{
    struct coremu_as *as = coremu_as_new();
    const uint64_t top = 0xffffffffffff0000ull;
    uint8_t *host = coremu_as_add_ram(as, "top", top, 0x10000);
    UNIT_REQUIRE(host != NULL, "wrap: RAM ending at 2^64", "failed: %s", strerror(errno));
    uint8_t *low = coremu_as_add_ram(as, "low", 0, 0x1000);
    UNIT_REQUIRE(low != NULL, "wrap: RAM at 0", "failed");

    uint64_t v = 0;
    UNIT_CHECK(coremu_as_write(as, 0xfffffffffffffff8ull, 8, 0x1122334455667788ull) ==
                       COREMU_MEM_OK &&
                   coremu_as_read(as, 0xfffffffffffffff8ull, 8, &v) == COREMU_MEM_OK &&
                   v == 0x1122334455667788ull,
               "wrap: last 8 bytes of the address space", "failed");
    UNIT_CHECK(coremu_as_read(as, 0xfffffffffffffffcull, 8, &v) == COREMU_MEM_UNMAPPED &&
                   coremu_as_write(as, 0xffffffffffffffffull, 2, 0) == COREMU_MEM_UNMAPPED,
               "wrap: access wrapping past 2^64 is UNMAPPED", "accepted");
    UNIT_CHECK(coremu_as_ram_ptr(as, 0xffffffffffffffffull, 2, false) == NULL &&
                   coremu_as_ram_ptr(as, 0xffffffffffffffffull, 1, false) == host + 0xffff,
               "wrap: ram_ptr refuses a wrapping range", "wrong");
    uint8_t buf[16] = {1, 2, 3};
    UNIT_CHECK(coremu_as_copy_to(as, 0xfffffffffffffff8ull, buf, 16) == COREMU_MEM_UNMAPPED &&
                   low[0] == 0,
               "wrap: a copy does not wrap into address 0", "wrapped");
    errno = 0;
    UNIT_CHECK(coremu_as_add_ram(as, "wraps", 0xfffffffffffff000ull, 0x2000) == NULL &&
                   errno == EINVAL,
               "wrap: region wrapping past 2^64 is EINVAL", "errno %d", errno);
    UNIT_CHECK(coremu_as_add_mmio(as, "wraps", 0xffffffffffffff00ull, 0x200, &ops_any, NULL, 0) ==
                   -EINVAL,
               "wrap: MMIO wrapping past 2^64 is EINVAL", "accepted");
    const struct coremu_region *r = coremu_as_lookup(as, UINT64_MAX);
    UNIT_CHECK(r != NULL && r->base == top, "wrap: lookup of 2^64-1", "wrong region");

    /* A big RAM region is backed lazily (MAP_NORESERVE): adding 1 GiB costs nothing. */
    uint8_t *big = coremu_as_add_ram(as, "big", 0x100000000ull, 1ull << 30);
    UNIT_CHECK(big != NULL && coremu_as_write(as, 0x100000000ull + (1ull << 30) - 8, 8, 42) == 0,
               "ram: 1 GiB region", "failed: %s", strerror(errno));
    coremu_as_free(as);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

#define SLOTS 8
#define SLOT_BASE 0x10000000ull
#define SLOT_STRIDE 0x1000ull

struct slot_dev {
    uint64_t base;
};

static int slot_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    const struct slot_dev *d = opaque;
    *value = (uint32_t)(d->base >> 12) + (uint32_t)offset;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops slot_ops = {.read = slot_read, .sizes = 4};
static struct slot_dev slot_devs[SLOTS];

struct churn {
    struct coremu_as *as;
    _Atomic bool stop;
    _Atomic unsigned bad;
    _Atomic unsigned long hits, misses;
};

static void *reader(void *arg)
{
    struct churn *c = arg;
    unsigned long hits = 0, misses = 0, iter = 0;
    while (!atomic_load_explicit(&c->stop, memory_order_acquire)) {
        iter++;
        /* RAM never moves: it must always be found, and its bytes readable. */
        const struct coremu_region *r = coremu_as_lookup(c->as, RAM_BASE + (iter & 0xff0));
        uint64_t v;
        if (r == NULL || r->kind != COREMU_REGION_RAM ||
            coremu_as_read(c->as, RAM_BASE + 8, 8, &v) != COREMU_MEM_OK) {
            atomic_fetch_add(&c->bad, 1);
        }
        unsigned s = iter % SLOTS;
        uint64_t addr = SLOT_BASE + s * SLOT_STRIDE + 4 * (iter & 7);
        r = coremu_as_lookup(c->as, addr);
        if (r != NULL) {
            if (r->base != SLOT_BASE + s * SLOT_STRIDE || r->kind != COREMU_REGION_MMIO ||
                r->opaque != &slot_devs[s]) {
                atomic_fetch_add(&c->bad, 1);
            }
        }
        int ret = coremu_as_read(c->as, addr, 4, &v);
        if (ret == COREMU_MEM_OK) {
            hits++;
            if (v != (uint32_t)((SLOT_BASE + s * SLOT_STRIDE) >> 12) + 4 * (iter & 7)) {
                atomic_fetch_add(&c->bad, 1);
            }
        } else if (ret == COREMU_MEM_UNMAPPED) {
            misses++;
        } else {
            atomic_fetch_add(&c->bad, 1);
        }
    }
    atomic_fetch_add(&c->hits, hits);
    atomic_fetch_add(&c->misses, misses);
    return NULL;
}

static void test_concurrent_lookup(void)
{
    struct churn c = {.as = coremu_as_new()};
    UNIT_REQUIRE(coremu_as_add_ram(c.as, "ram", RAM_BASE, RAM_SIZE) != NULL, "churn: ram",
                 "failed");
    for (unsigned s = 0; s < SLOTS; s++) {
        slot_devs[s].base = SLOT_BASE + s * SLOT_STRIDE;
    }
    pthread_t th[4];
    for (unsigned i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, reader, &c);
    }
    unsigned errors = 0;
    /* Paced so that readers overlap both states of every slot, and the retired tables (kept
     * until coremu_as_free) stay a few megabytes. */
    for (unsigned round = 0; round < 16000; round++) {
        if (round % 8 == 4) {
            /* Here half the slots are mapped: 0-3 or 4-7, alternately. */
            nanosleep(&(struct timespec){0, 50000}, NULL);
        }
        unsigned s = round % SLOTS;
        uint64_t base = SLOT_BASE + s * SLOT_STRIDE;
        if (coremu_as_lookup(c.as, base) == NULL) {
            errors +=
                coremu_as_add_mmio(c.as, "slot", base, 0x100, &slot_ops, &slot_devs[s], 0) != 0;
        } else {
            errors += coremu_as_remove(c.as, base) != 0;
        }
    }
    atomic_store_explicit(&c.stop, true, memory_order_release);
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    UNIT_CHECK(atomic_load(&c.hits) > 0 && atomic_load(&c.misses) > 0,
               "churn: readers saw slots both mapped and unmapped", "hits %lu misses %lu",
               atomic_load(&c.hits), atomic_load(&c.misses));
    UNIT_CHECK(errors == 0 && atomic_load(&c.bad) == 0,
               "churn: 4 readers see consistent regions while MMIO is added and removed",
               "writer errors %u, inconsistent reads %u", errors, atomic_load(&c.bad));
    printf("# churn: %lu mapped reads, %lu unmapped\n", atomic_load(&c.hits),
           atomic_load(&c.misses));
    coremu_as_free(c.as);
}

/* A device whose register update is a plain read-modify-write: only the per-device lock keeps
 * two threads from losing increments. */
struct counter_dev {
    uint64_t count;
};

static int counter_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct counter_dev *d = opaque;
    uint64_t v = d->count;
    /* Widen the window between the load and the store. */
    for (volatile int i = 0; i < 20; i++) {
    }
    d->count = v + value;
    return COREMU_MEM_OK;
}

static int counter_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    *value = ((struct counter_dev *)opaque)->count;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops counter_ops = {.read = counter_read, .write = counter_write};

#define HAMMER 100000

static pthread_barrier_t hammer_start;

static void *hammer(void *arg)
{
    struct coremu_as *as = arg;
    pthread_barrier_wait(&hammer_start);
    for (unsigned i = 0; i < HAMMER; i++) {
        coremu_as_write(as, 0x20000000, 4, 1);
    }
    return NULL;
}

static void test_device_lock(void)
{
    struct coremu_as *as = coremu_as_new();
    struct counter_dev d = {0};
    UNIT_REQUIRE(coremu_as_add_mmio(as, "counter", 0x20000000, 0x10, &counter_ops, &d, 0) == 0,
                 "lock: add", "failed");
    pthread_t a, b;
    pthread_barrier_init(&hammer_start, NULL, 2);
    pthread_create(&a, NULL, hammer, as);
    pthread_create(&b, NULL, hammer, as);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_barrier_destroy(&hammer_start);
    uint64_t v = 0;
    coremu_as_read(as, 0x20000000, 8, &v);
    UNIT_CHECK(v == 2ull * HAMMER, "lock: two threads on one device lose no update",
               "count %" PRIu64 ", want %u", v, 2 * HAMMER);
    coremu_as_free(as);
}

int main(void)
{
    test_ram();
    test_rom();
    test_mmio();
    test_wrap();
    test_concurrent_lookup();
    test_device_lock();
    return unit_done();
}
