/*
 * Unit test of a board's generic plumbing (lib/board.c): the device list (reset in the order the
 * devices were added, free in the reverse order, after the address space; ownership on a failed
 * add), kept boot images put back by a reset, and guest RAM with its exclusive monitor and the
 * sweep timer that unwatches idle pages, through set-up and teardown.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <coremu/board.h>
#include <coremu/clock.h>
#include <coremu/iothread.h>
#include <coremu/irq.h>
#include <coremu/physmem.h>

#include "unit.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE (1u << 20)
#define PAGE_SIZE 4096u

/* What the fake devices did, in order: "r<id>" for a reset, "f<id>" for a free. */
static char journal[256];

static void journal_add(char what, int id)
{
    size_t n = strlen(journal);
    if (n + 3 < sizeof(journal)) {
        journal[n] = what;
        journal[n + 1] = (char)('0' + id);
        journal[n + 2] = '\0';
    }
}

struct fake_device {
    int id;
};

static void fake_reset(void *opaque)
{
    const struct fake_device *d = opaque;
    journal_add('r', d->id);
}

static void fake_free(void *opaque)
{
    const struct fake_device *d = opaque;
    journal_add('f', d->id);
}

static void test_device_order(void)
{
    struct coremu_board *b = coremu_board_new(NULL);
    UNIT_REQUIRE(b != NULL, "board: new", "coremu_board_new failed");
    struct fake_device devs[4] = {{1}, {2}, {3}, {4}};
    journal[0] = '\0';
    int r = 0;
    r |= coremu_board_add_device(b, "one", &devs[0], fake_reset, fake_free);
    r |= coremu_board_add_device(b, "two", &devs[1], fake_reset, fake_free);
    /* A device with nothing to reset is still freed, and one with nothing to free still reset. */
    r |= coremu_board_add_device(b, "three", &devs[2], NULL, fake_free);
    r |= coremu_board_add_device(b, "four", &devs[3], fake_reset, NULL);
    UNIT_CHECK(r == 0, "board: devices added", "coremu_board_add_device failed");
    UNIT_CHECK(journal[0] == '\0', "board: adding a device runs no hook", "journal \"%s\"",
               journal);

    UNIT_CHECK(coremu_board_reset(b) == 0, "board: reset without images succeeds",
               "coremu_board_reset failed");
    UNIT_CHECK(strcmp(journal, "r1r2r4") == 0, "board: reset in the order devices were added",
               "journal \"%s\", expected r1r2r4", journal);
    journal[0] = '\0';
    coremu_board_reset(b);
    UNIT_CHECK(strcmp(journal, "r1r2r4") == 0, "board: every reset resets every device again",
               "journal \"%s\"", journal);

    journal[0] = '\0';
    coremu_board_free(b);
    UNIT_CHECK(strcmp(journal, "f3f2f1") == 0, "board: free in the reverse order",
               "journal \"%s\", expected f3f2f1", journal);
    coremu_board_free(NULL); /* allowed, does nothing */
}

/* A device mapped in the board's own address space, as a board's devices are: the board frees
 * both (under ASan, with no use after free). */
static int mmio_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)offset;
    (void)size;
    const struct fake_device *d = opaque;
    *value = (uint64_t)d->id;
    return COREMU_MEM_OK;
}

static int mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    (void)value;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops fake_mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .sizes = 4,
};

static void test_device_mmio(void)
{
    struct coremu_board *b = coremu_board_new(NULL);
    UNIT_REQUIRE(b != NULL, "board: new (mmio)", "coremu_board_new failed");
    struct coremu_as *as = coremu_board_as(b);
    UNIT_CHECK(as != NULL, "board: has an address space", "coremu_board_as is NULL");
    static struct fake_device dev = {7};
    journal[0] = '\0';
    UNIT_REQUIRE(coremu_board_add_device(b, "seven", &dev, fake_reset, fake_free) == 0,
                 "board: add mmio device", "coremu_board_add_device failed");
    UNIT_REQUIRE(coremu_as_add_mmio(as, "seven", 0x09000000, 0x1000, &fake_mmio_ops, &dev,
                                    COREMU_MMIO_LOCKLESS) == 0,
                 "board: map mmio device", "coremu_as_add_mmio failed");
    uint64_t v = 0;
    UNIT_CHECK(coremu_as_read(as, 0x09000000, 4, &v) == COREMU_MEM_OK && v == 7,
               "board: its address space dispatches to the device", "read %llu",
               (unsigned long long)v);
    coremu_board_free(b);
    UNIT_CHECK(strcmp(journal, "f7") == 0, "board: a mapped device is freed with the board",
               "journal \"%s\"", journal);
}

static void test_images(void)
{
    char err[256] = "";
    struct coremu_board *b = coremu_board_new(NULL);
    UNIT_REQUIRE(b != NULL, "board: new (images)", "coremu_board_new failed");
    UNIT_REQUIRE(coremu_board_add_ram(b, "ram", RAM_BASE, RAM_SIZE, COREMU_XMON_VALUE, NULL, NULL,
                                      err, sizeof(err)) == 0,
                 "board: RAM for images", "%s", err);
    struct coremu_as *as = coremu_board_as(b);

    /* Two "images": a kernel at the bottom of RAM and a device tree near the top, an odd size
     * that is not a whole page. */
    static uint8_t kernel[3 * PAGE_SIZE + 17], dtb[999];
    for (size_t i = 0; i < sizeof(kernel); i++) {
        kernel[i] = (uint8_t)(i * 7 + 1);
    }
    for (size_t i = 0; i < sizeof(dtb); i++) {
        dtb[i] = (uint8_t)(0xd0 ^ i);
    }
    const uint64_t kaddr = RAM_BASE + 0x8000, daddr = RAM_BASE + RAM_SIZE - 2 * PAGE_SIZE + 3;
    UNIT_REQUIRE(coremu_as_copy_to(as, kaddr, kernel, sizeof(kernel)) == COREMU_MEM_OK &&
                     coremu_as_copy_to(as, daddr, dtb, sizeof(dtb)) == COREMU_MEM_OK,
                 "board: load images", "coremu_as_copy_to failed");
    int r = coremu_board_keep_image(b, kaddr, sizeof(kernel), err, sizeof(err));
    r |= coremu_board_keep_image(b, daddr, sizeof(dtb), err, sizeof(err));
    r |= coremu_board_keep_image(b, RAM_BASE, 0, err, sizeof(err)); /* nothing loaded */
    UNIT_CHECK(r == 0, "board: images kept", "%s", err);

    /* What the guest does before it reboots: overwrites both images and some other RAM. */
    static uint8_t junk[4 * PAGE_SIZE];
    memset(junk, 0x5a, sizeof(junk));
    coremu_as_copy_to(as, kaddr, junk, sizeof(kernel));
    coremu_as_copy_to(as, daddr, junk, sizeof(dtb));
    coremu_as_copy_to(as, RAM_BASE + 0x80000, junk, 64);

    UNIT_CHECK(coremu_board_reset(b) == 0, "board: reset restores images",
               "coremu_board_reset failed");
    static uint8_t back[sizeof(kernel)];
    coremu_as_copy_from(as, kaddr, back, sizeof(kernel));
    UNIT_CHECK(memcmp(back, kernel, sizeof(kernel)) == 0, "board: kernel bytes back after reset",
               "the kernel image differs");
    coremu_as_copy_from(as, daddr, back, sizeof(dtb));
    UNIT_CHECK(memcmp(back, dtb, sizeof(dtb)) == 0, "board: dtb bytes back after reset",
               "the dtb image differs");
    uint8_t after[sizeof(dtb) + 2]; /* the byte before the dtb, the dtb, the byte after */
    coremu_as_copy_from(as, daddr - 1, after, sizeof(after));
    UNIT_CHECK(after[0] == 0 && after[sizeof(after) - 1] == 0,
               "board: reset writes only the images' bytes", "neighbours %02x %02x", after[0],
               after[sizeof(after) - 1]);
    coremu_as_copy_from(as, RAM_BASE + 0x80000, back, 64);
    UNIT_CHECK(back[0] == 0x5a && back[63] == 0x5a, "board: the rest of RAM keeps its contents",
               "RAM outside the images changed: %02x", back[0]);

    /* The copy was taken at keep time: a later change of the loaded bytes is not kept. */
    coremu_as_copy_to(as, kaddr, junk, 16);
    coremu_board_reset(b);
    coremu_as_copy_from(as, kaddr, back, 16);
    UNIT_CHECK(memcmp(back, kernel, 16) == 0, "board: a second reset restores again",
               "the kernel image differs after a second reset");

    UNIT_CHECK(coremu_board_keep_image(b, RAM_BASE + RAM_SIZE - 8, 64, err, sizeof(err)) == -1 &&
                   strstr(err, "0x") != NULL,
               "board: an image outside RAM is refused with a message", "err \"%s\"", err);
    coremu_board_free(b);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static unsigned watch_calls;

static void count_watch(void *opaque, uint64_t page_pa)
{
    (void)page_pa;
    unsigned *n = opaque;
    (*n)++;
}

static void test_ram_and_monitor(void)
{
    char err[256] = "";
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "board: I/O thread",
                 "cannot start an I/O thread");

    struct coremu_board *b = coremu_board_new(io);
    UNIT_REQUIRE(b != NULL, "board: new (ram)", "coremu_board_new failed");
    UNIT_CHECK(coremu_board_xmon(b) == NULL, "board: no monitor before RAM",
               "coremu_board_xmon is not NULL");
    UNIT_REQUIRE(coremu_board_add_ram(b, "ram", RAM_BASE, RAM_SIZE, COREMU_XMON_EXACT,
                                      count_watch, &watch_calls, err, sizeof(err)) == 0,
                 "board: RAM added", "%s", err);
    struct coremu_xmon *x = coremu_board_xmon(b);
    UNIT_CHECK(x != NULL && coremu_xmon_mode(x) == COREMU_XMON_EXACT,
               "board: RAM has an exact exclusive monitor", "monitor %p", (void *)x);
    uint8_t *host = coremu_as_ram_ptr(coremu_board_as(b), RAM_BASE, RAM_SIZE, true);
    UNIT_CHECK(host != NULL, "board: RAM mapped at its base for its whole size",
               "coremu_as_ram_ptr failed");
    UNIT_CHECK(coremu_as_ram_ptr(coremu_board_as(b), RAM_BASE + RAM_SIZE, 1, false) == NULL,
               "board: nothing mapped past RAM", "RAM is larger than asked");
    UNIT_CHECK(coremu_board_add_ram(b, "ram2", RAM_BASE + RAM_SIZE, PAGE_SIZE,
                                    COREMU_XMON_EXACT, NULL, NULL, err, sizeof(err)) == -1 &&
                   err[0] != '\0',
               "board: a second RAM is refused with a message", "err \"%s\"", err);

    /* A load-exclusive watches its page; the sweep timer, with no further load-exclusive there,
     * unwatches it within a few periods. */
    if (host != NULL && x != NULL) {
        struct coremu_xmon_local mon = {0};
        uint64_t pa = RAM_BASE + 5 * PAGE_SIZE;
        uint64_t hi;
        coremu_xmon_load_exclusive(x, &mon, host + (pa - RAM_BASE), pa, 4, &hi);
        UNIT_CHECK(coremu_xmon_page_watched(x, pa) && watch_calls == 1,
                   "board: load-exclusive watches its page", "watched %d, watch calls %u",
                   coremu_xmon_page_watched(x, pa), watch_calls);
        coremu_xmon_clear(&mon);
        int64_t deadline = coremu_clock_ns() + 6 * COREMU_BOARD_XMON_SWEEP_NS;
        while (coremu_xmon_page_watched(x, pa) && coremu_clock_ns() < deadline) {
            sleep_ms(50);
        }
        UNIT_CHECK(!coremu_xmon_page_watched(x, pa), "board: the sweep timer unwatches idle pages",
                   "page still watched after 6 sweep periods");
    }
    coremu_board_free(b);
    unit_pass("board: RAM, monitor and sweep timer torn down");

    /* Value mode needs no sweep: the board still has RAM and a monitor. */
    b = coremu_board_new(io);
    UNIT_REQUIRE(b != NULL, "board: new (value)", "coremu_board_new failed");
    UNIT_CHECK(coremu_board_add_ram(b, "ram", RAM_BASE, RAM_SIZE, COREMU_XMON_VALUE, NULL, NULL,
                                    err, sizeof(err)) == 0 &&
                   coremu_xmon_mode(coremu_board_xmon(b)) == COREMU_XMON_VALUE,
               "board: value-mode RAM", "%s", err);
    coremu_board_free(b);
    coremu_iothread_free(io);
}

static void test_refused_ram(void)
{
    char err[256] = "";
    struct coremu_board *b = coremu_board_new(NULL);
    UNIT_REQUIRE(b != NULL, "board: new (refused)", "coremu_board_new failed");
    /* RAM that overlaps a region already there cannot be added; the message says why. */
    UNIT_REQUIRE(coremu_as_add_ram(coremu_board_as(b), "low", RAM_BASE, PAGE_SIZE) != NULL,
                 "board: a region first", "coremu_as_add_ram failed");
    UNIT_CHECK(coremu_board_add_ram(b, "ram", RAM_BASE, RAM_SIZE, COREMU_XMON_VALUE, NULL, NULL,
                                    err, sizeof(err)) == -1 &&
                   strstr(err, "guest RAM") != NULL && coremu_board_xmon(b) == NULL,
               "board: RAM that cannot be mapped is refused with a message", "err \"%s\"", err);
    coremu_board_free(b);
}

/* The interrupt line every device drives (coremu/irq.h). */
static void record_level(void *opaque, bool level)
{
    int *seen = opaque;
    *seen = level ? 1 : 0;
}

static void test_irq_line(void)
{
    int seen = -1;
    const struct coremu_irq_line line = {record_level, &seen};
    coremu_irq_set(&line, true);
    UNIT_CHECK(seen == 1, "irq: a connected line carries a raised level", "seen %d", seen);
    coremu_irq_set(&line, false);
    UNIT_CHECK(seen == 0, "irq: a connected line carries a lowered level", "seen %d", seen);
    const struct coremu_irq_line unconnected = {NULL, &seen};
    seen = -1;
    coremu_irq_set(&unconnected, true);
    coremu_irq_set(NULL, true);
    UNIT_CHECK(seen == -1, "irq: an unconnected or absent line goes nowhere", "seen %d", seen);
}

int main(void)
{
    test_irq_line();
    test_device_order();
    test_device_mmio();
    test_images();
    test_ram_and_monitor();
    test_refused_ram();
    return unit_done();
}
