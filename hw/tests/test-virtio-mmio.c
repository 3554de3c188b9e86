/*
 * Host-side tests of the virtio-mmio transport with the virtio-blk and virtio-rng models: a
 * driver written from the virtio 1.x specification (4.2.3 initialisation, 5.2.6 block requests,
 * 5.4.6 entropy requests) drives the slot's registers through the address space, with the rings
 * and buffers in guest RAM, the disk a raw image in a temporary file, and the interrupt line a
 * probe.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/block.h>
#include <coremu/physmem.h>
#include <coremu/virtio.h>

#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "virtio_rng.h"
#include "../../testsuite/unit/unit.h"

#define RAM_BASE   0x40000000ull
#define RAM_SIZE   (4ull << 20)
#define SLOT_EMPTY 0x0a000000ull
#define SLOT_BLK   0x0a000200ull
#define SLOT_RNG   0x0a000400ull
#define SLOT_SIZE  0x200u
#define QSIZE      16u
#define DESC       (RAM_BASE + 0x0000)
#define AVAIL      (RAM_BASE + 0x1000)
#define USED       (RAM_BASE + 0x2000)
#define HDR        (RAM_BASE + 0x3000)
#define DATA       (RAM_BASE + 0x10000)
#define STATUS     (RAM_BASE + 0x4000)
#define DISK_BYTES (64u * 1024u)

static struct coremu_as *as;
static uint8_t *ram;

struct irq_probe {
    _Atomic int level;
};

static void probe_set(void *opaque, bool level)
{
    atomic_store(&((struct irq_probe *)opaque)->level, level);
}

static uint32_t rd(uint64_t slot, uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    int r = coremu_as_read(as, slot + off, 4, &v);
    if (r != COREMU_MEM_OK) {
        unit_fail("read", "0x%llx: result %d", (unsigned long long)(slot + off), r);
    }
    return (uint32_t)v;
}

static void wr(uint64_t slot, uint64_t off, uint32_t v)
{
    int r = coremu_as_write(as, slot + off, 4, v);
    if (r != COREMU_MEM_OK) {
        unit_fail("write", "0x%llx: result %d", (unsigned long long)(slot + off), r);
    }
}

static void *gpa(uint64_t a)
{
    return ram + (a - RAM_BASE);
}

/* The driver side of queue 0 of one slot (its rings at the fixed addresses above). */
static uint16_t avail_idx;
static uint16_t used_seen;

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct coremu_virtq_desc d = {addr, len, flags, next};
    memcpy((uint8_t *)gpa(DESC) + 16 * i, &d, sizeof(d));
}

static void publish(uint64_t slot, uint16_t head)
{
    uint16_t *avail = gpa(AVAIL);
    avail[2 + avail_idx % QSIZE] = head;
    avail_idx++;
    __atomic_store_n(&avail[1], avail_idx, __ATOMIC_RELEASE);
    wr(slot, 0x050, 0); /* QueueNotify */
}

/* The next used entry's length, or -1 when the device has not used one. */
static long take_used(void)
{
    uint16_t idx = __atomic_load_n((uint16_t *)((uint8_t *)gpa(USED) + 2), __ATOMIC_ACQUIRE);
    if (idx == used_seen) {
        return -1;
    }
    uint32_t len;
    memcpy(&len, (uint8_t *)gpa(USED) + 4 + 8 * (used_seen % QSIZE) + 4, 4);
    used_seen++;
    return len;
}

/* 4.2.3.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, queue 0, DRIVER_OK. */
static bool bring_up(uint64_t slot, uint32_t features_lo)
{
    memset(ram, 0, 0x5000);
    avail_idx = used_seen = 0;
    wr(slot, 0x070, 0);
    wr(slot, 0x070, 1);
    wr(slot, 0x070, 3);
    wr(slot, 0x024, 0);
    wr(slot, 0x020, features_lo);
    wr(slot, 0x024, 1);
    wr(slot, 0x020, 1); /* VERSION_1 */
    wr(slot, 0x070, 0x0b);
    if (rd(slot, 0x070) != 0x0b) {
        return false;
    }
    wr(slot, 0x030, 0);
    wr(slot, 0x038, QSIZE);
    wr(slot, 0x080, (uint32_t)DESC);
    wr(slot, 0x084, (uint32_t)(DESC >> 32));
    wr(slot, 0x090, (uint32_t)AVAIL);
    wr(slot, 0x094, 0);
    wr(slot, 0x0a0, (uint32_t)USED);
    wr(slot, 0x0a4, 0);
    wr(slot, 0x044, 1);
    wr(slot, 0x070, 0x0f);
    return rd(slot, 0x044) == 1 && rd(slot, 0x070) == 0x0f;
}

/* One block request: header, optional data (writable for IN/GET_ID), status. Returns the
 * status byte, and the used length in *used. */
static int blk_req(uint32_t type, uint64_t sector, uint32_t len, bool data_in, long *used)
{
    uint8_t hdr[16] = {0};
    memcpy(hdr, &type, 4);
    memcpy(hdr + 8, &sector, 8);
    memcpy(gpa(HDR), hdr, 16);
    *(uint8_t *)gpa(STATUS) = 0xee;
    put_desc(0, HDR, 16, COREMU_VIRTQ_DESC_F_NEXT, 1);
    unsigned last = 1;
    if (len > 0) {
        put_desc(1, DATA, len, COREMU_VIRTQ_DESC_F_NEXT | (data_in ? COREMU_VIRTQ_DESC_F_WRITE : 0),
                 2);
        last = 2;
    }
    put_desc(last, STATUS, 1, COREMU_VIRTQ_DESC_F_WRITE, 0);
    publish(SLOT_BLK, 0);
    *used = take_used();
    return *(uint8_t *)gpa(STATUS);
}

static void test_empty_slot(void)
{
    UNIT_CHECK(rd(SLOT_EMPTY, 0) == VIRTIO_MMIO_MAGIC && rd(SLOT_EMPTY, 4) == 2 &&
                   rd(SLOT_EMPTY, 8) == 0,
               "empty slot: magic, version 2, device ID 0", "0x%x %u %u", rd(SLOT_EMPTY, 0),
               rd(SLOT_EMPTY, 4), rd(SLOT_EMPTY, 8));
}

static void test_blk(const uint8_t *disk, const char *path, struct irq_probe *irq)
{
    UNIT_CHECK(rd(SLOT_BLK, 0) == VIRTIO_MMIO_MAGIC && rd(SLOT_BLK, 4) == 2 &&
                   rd(SLOT_BLK, 8) == 2 && rd(SLOT_BLK, 0x00c) == VIRTIO_MMIO_VENDOR,
               "blk: magic, version, device ID 2, vendor", "id %u", rd(SLOT_BLK, 8));
    wr(SLOT_BLK, 0x014, 0);
    uint32_t f0 = rd(SLOT_BLK, 0x010);
    wr(SLOT_BLK, 0x014, 1);
    uint32_t f1 = rd(SLOT_BLK, 0x010);
    /* SEG_MAX, BLK_SIZE, FLUSH, DISCARD; INDIRECT, EVENT_IDX; VERSION_1; not RO. */
    UNIT_CHECK((f0 & 0x30002244u) == 0x30002244u && (f0 & (1u << 5)) == 0 && f1 == 1,
               "blk: offered features", "0x%08x 0x%08x", f0, f1);
    wr(SLOT_BLK, 0x030, 0);
    UNIT_CHECK(rd(SLOT_BLK, 0x034) == 256, "blk: QueueNumMax", "%u", rd(SLOT_BLK, 0x034));
    wr(SLOT_BLK, 0x030, 1);
    UNIT_CHECK(rd(SLOT_BLK, 0x034) == 0, "blk: one queue only", "%u", rd(SLOT_BLK, 0x034));
    uint64_t cap = 0;
    coremu_as_read(as, SLOT_BLK + 0x100, 8, &cap);
    UNIT_CHECK(rd(SLOT_BLK, 0x100) == DISK_BYTES / 512 && rd(SLOT_BLK, 0x104) == 0 &&
                   rd(SLOT_BLK, 0x114) == 512 && rd(SLOT_BLK, 0x10c) == 254,
               "blk: capacity, blk_size, seg_max in config space", "cap %u", rd(SLOT_BLK, 0x100));
    uint64_t byte;
    coremu_as_read(as, SLOT_BLK + 0x114, 2, &byte);
    UNIT_CHECK(byte == 512, "blk: config space read by halves", "%llu", (unsigned long long)byte);

    /* Features not offered are refused: FEATURES_OK does not stick. */
    wr(SLOT_BLK, 0x070, 0);
    wr(SLOT_BLK, 0x070, 3);
    wr(SLOT_BLK, 0x024, 0);
    wr(SLOT_BLK, 0x020, 1u << 5); /* RO, not offered for a writable disk */
    wr(SLOT_BLK, 0x024, 1);
    wr(SLOT_BLK, 0x020, 1);
    wr(SLOT_BLK, 0x070, 0x0b);
    UNIT_CHECK(rd(SLOT_BLK, 0x070) == 3, "blk: FEATURES_OK refused for a feature not offered",
               "status 0x%x", rd(SLOT_BLK, 0x070));

    UNIT_REQUIRE(bring_up(SLOT_BLK, (1u << 9) | (1u << 29)), "blk: bring-up",
                 "status 0x%x ready %u", rd(SLOT_BLK, 0x070), rd(SLOT_BLK, 0x044));
    long used;
    int st = blk_req(0, 3, 1024, true, &used);
    UNIT_CHECK(st == 0 && used == 1025 && memcmp(gpa(DATA), disk + 3 * 512, 1024) == 0,
               "blk: IN reads the image", "status %d used %ld", st, used);
    UNIT_CHECK(atomic_load(&irq->level) == 1 && (rd(SLOT_BLK, 0x060) & 1) != 0,
               "blk: completion raises the interrupt", "line %d isr %u", atomic_load(&irq->level),
               rd(SLOT_BLK, 0x060));
    wr(SLOT_BLK, 0x064, 1);
    UNIT_CHECK(atomic_load(&irq->level) == 0 && rd(SLOT_BLK, 0x060) == 0,
               "blk: InterruptACK lowers it", "line %d", atomic_load(&irq->level));

    memset(gpa(DATA), 0x5a, 512);
    st = blk_req(1, 7, 512, false, &used);
    st |= blk_req(4, 0, 0, false, &used) << 8;
    uint8_t back[512];
    FILE *f = fopen(path, "rb");
    int ok = f != NULL && fseek(f, 7 * 512, SEEK_SET) == 0 && fread(back, 1, 512, f) == 512;
    if (f != NULL) {
        fclose(f);
    }
    UNIT_CHECK(st == 0 && used == 1 && ok && back[0] == 0x5a && back[511] == 0x5a,
               "blk: OUT and FLUSH reach the image", "status 0x%x used %ld", st, used);

    memset(gpa(DATA), 0, 32);
    st = blk_req(8, 0, 20, true, &used);
    UNIT_CHECK(st == 0 && used == 21 && memcmp(gpa(DATA), "serial-7\0", 9) == 0,
               "blk: GET_ID answers the serial", "status %d used %ld '%s'", st, used,
               (char *)gpa(DATA));
    st = blk_req(0, DISK_BYTES / 512 - 1, 1024, true, &used);
    UNIT_CHECK(st == 1 && used == 1, "blk: IN past the end is IOERR", "status %d used %ld", st,
               used);
    st = blk_req(0, 0, 100, true, &used);
    UNIT_CHECK(st == 1, "blk: IN of a partial sector is IOERR", "status %d", st);
    /* DISCARD of sectors 16-23 (the image was opened with discard=unmap): they read 0. */
    uint8_t seg[16] = {16, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0};
    memcpy(gpa(DATA), seg, sizeof(seg));
    st = blk_req(11, 0, 16, false, &used);
    memset(gpa(DATA), 0xff, 4096);
    st |= blk_req(0, 16, 4096, true, &used) << 8;
    static const uint8_t zero[4096];
    UNIT_CHECK(st == 0 && memcmp(gpa(DATA), zero, 4096) == 0, "blk: DISCARD unmaps the sectors",
               "status 0x%x", st);
    seg[0] = 0xff;
    seg[1] = 0xff;
    memcpy(gpa(DATA), seg, sizeof(seg));
    st = blk_req(11, 0, 16, false, &used);
    UNIT_CHECK(st == 1, "blk: DISCARD past the end is IOERR", "status %d", st);
    st = blk_req(99, 0, 0, false, &used);
    UNIT_CHECK(st == 2 && used == 1, "blk: unknown type is UNSUPP", "status %d", st);
    UNIT_CHECK(rd(SLOT_BLK, 0x070) == 0x0f, "blk: request errors do not break the device",
               "status 0x%x", rd(SLOT_BLK, 0x070));

    /* A malicious chain: the device needs a reset and says so with a config interrupt. */
    wr(SLOT_BLK, 0x064, 3);
    put_desc(0, HDR, 16, COREMU_VIRTQ_DESC_F_NEXT, 0);
    publish(SLOT_BLK, 0);
    UNIT_CHECK((rd(SLOT_BLK, 0x070) & 0x40) != 0 && (rd(SLOT_BLK, 0x060) & 2) != 0 &&
                   atomic_load(&irq->level) == 1 && take_used() == -1,
               "blk: a looping chain: NEEDS_RESET, config interrupt, nothing used",
               "status 0x%x isr %u", rd(SLOT_BLK, 0x070), rd(SLOT_BLK, 0x060));
    wr(SLOT_BLK, 0x070, 0);
    UNIT_CHECK(rd(SLOT_BLK, 0x070) == 0 && rd(SLOT_BLK, 0x060) == 0 &&
                   atomic_load(&irq->level) == 0 && rd(SLOT_BLK, 0x044) == 0,
               "blk: reset clears status, interrupt and queue", "status 0x%x", rd(SLOT_BLK, 0x070));
    UNIT_CHECK(bring_up(SLOT_BLK, 1u << 9) && blk_req(0, 0, 512, true, &used) == 0 &&
                   memcmp(gpa(DATA), disk, 512) == 0,
               "blk: works again after the reset", "status 0x%x", rd(SLOT_BLK, 0x070));

    /* Queue registers are the driver's only while the queue is not ready. */
    wr(SLOT_BLK, 0x070, 0);
    UNIT_CHECK(blk_req(0, 0, 512, true, &used) == 0xee && used == -1,
               "blk: a reset device ignores notifies", "used %ld", used);
}

static void test_rng(void)
{
    UNIT_CHECK(rd(SLOT_RNG, 8) == 4, "rng: device ID 4", "%u", rd(SLOT_RNG, 8));
    UNIT_REQUIRE(bring_up(SLOT_RNG, 0), "rng: bring-up", "status 0x%x", rd(SLOT_RNG, 0x070));
    memset(gpa(DATA), 0, 64);
    put_desc(0, DATA, 16, COREMU_VIRTQ_DESC_F_WRITE | COREMU_VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, DATA + 16, 16, COREMU_VIRTQ_DESC_F_WRITE, 0);
    publish(SLOT_RNG, 0);
    long used = take_used();
    UNIT_CHECK(used == 32 && memcmp(gpa(DATA), "0123456789abcdefghijklmnopqrstuv", 32) == 0,
               "rng: a request is filled from the source", "used %ld", used);
    put_desc(0, DATA, 64, COREMU_VIRTQ_DESC_F_WRITE, 0);
    publish(SLOT_RNG, 0);
    used = take_used();
    UNIT_CHECK(used == 8, "rng: a short source gives a short answer", "used %ld", used);
}

int main(void)
{
    as = coremu_as_new();
    UNIT_REQUIRE(as != NULL, "setup", "no address space");
    ram = coremu_as_add_ram(as, "ram", RAM_BASE, RAM_SIZE);
    UNIT_REQUIRE(ram != NULL, "setup", "no RAM");

    char disk_path[] = "/tmp/test-virtio-mmio-disk.XXXXXX";
    int fd = mkstemp(disk_path);
    UNIT_REQUIRE(fd >= 0, "setup", "mkstemp");
    static uint8_t disk[DISK_BYTES];
    for (unsigned i = 0; i < DISK_BYTES; i++) {
        disk[i] = (uint8_t)(i * 7 + i / 512);
    }
    UNIT_REQUIRE(write(fd, disk, DISK_BYTES) == DISK_BYTES, "setup", "write");
    close(fd);
    char rng_path[] = "/tmp/test-virtio-mmio-rng.XXXXXX";
    fd = mkstemp(rng_path);
    UNIT_REQUIRE(fd >= 0 && write(fd, "0123456789abcdefghijklmnopqrstuvwxyz!@#$", 40) == 40,
                 "setup", "rng file");
    close(fd);

    char err[256];
    struct coremu_block_options bo = {.file = disk_path, .format = "raw", .discard = true};
    struct coremu_block *blk = coremu_block_open(&bo, err, sizeof(err));
    UNIT_REQUIRE(blk != NULL, "setup", "block open: %s", err);
    struct coremu_virtio_device *bdev = virtio_blk_new(as, NULL, blk, "serial-7");
    struct coremu_virtio_device *rdev = virtio_rng_new(as, NULL, rng_path, err, sizeof(err));
    UNIT_REQUIRE(bdev != NULL && rdev != NULL, "setup", "devices: %s", err);

    struct irq_probe blk_irq = {0}, rng_irq = {0};
    struct coremu_irq_line blk_line = {probe_set, &blk_irq}, rng_line = {probe_set, &rng_irq};
    struct virtio_mmio *empty = virtio_mmio_new("empty", NULL, NULL);
    struct virtio_mmio *mblk = virtio_mmio_new("virtio-blk", bdev, &blk_line);
    struct virtio_mmio *mrng = virtio_mmio_new("virtio-rng", rdev, &rng_line);
    UNIT_REQUIRE(empty != NULL && mblk != NULL && mrng != NULL &&
                     virtio_mmio_map(empty, as, SLOT_EMPTY, SLOT_SIZE) == 0 &&
                     virtio_mmio_map(mblk, as, SLOT_BLK, SLOT_SIZE) == 0 &&
                     virtio_mmio_map(mrng, as, SLOT_RNG, SLOT_SIZE) == 0,
                 "setup", "transports");

    test_empty_slot();
    test_blk(disk, disk_path, &blk_irq);
    test_rng();

    coremu_as_free(as);
    virtio_mmio_free(empty);
    virtio_mmio_free(mblk);
    virtio_mmio_free(mrng);
    unlink(disk_path);
    unlink(rng_path);
    return unit_done();
}
