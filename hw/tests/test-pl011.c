/*
 * Host-side tests of the PL011 model: the register file driven through its MMIO callbacks, as
 * a core would, with input injected through the character-device handlers, and output checked
 * through a file: character device. Expected values come from the PL011 TRM (DDI 0183G).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coremu/coremu.h>

#include "pl011.h"
#include "../../testsuite/unit/unit.h"

enum {
    DR = 0x000, RSR = 0x004, FR = 0x018, ILPR = 0x020, IBRD = 0x024, FBRD = 0x028,
    LCR_H = 0x02c, CR = 0x030, IFLS = 0x034, IMSC = 0x038, RIS = 0x03c, MIS = 0x040,
    ICR = 0x044, DMACR = 0x048,
};
#define FR_RXFE 0x10u
#define FR_RXFF 0x40u
#define FR_TXFE 0x80u
#define FR_TXFF 0x20u
#define FR_BUSY 0x08u
#define INT_RX 0x10u
#define INT_TX 0x20u
#define INT_RT 0x40u
#define INT_OE 0x400u
#define LCRH_FEN 0x10u

struct irq_probe {
    int level;
    unsigned changes;
};

static void probe_set(void *opaque, bool level)
{
    struct irq_probe *p = opaque;
    p->level = level;
    p->changes++;
}

static uint32_t rd(struct pl011 *u, uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    int r = pl011_mmio_ops.read(u, off, 4, &v);
    if (r != COREMU_MEM_OK) {
        unit_fail("read", "offset 0x%03x: result %d", (unsigned)off, r);
    }
    return (uint32_t)v;
}

static uint32_t rdn(struct pl011 *u, uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeef;
    pl011_mmio_ops.read(u, off, size, &v);
    return (uint32_t)v;
}

static void wr(struct pl011 *u, uint64_t off, uint32_t v)
{
    int r = pl011_mmio_ops.write(u, off, 4, v);
    if (r != COREMU_MEM_OK) {
        unit_fail("write", "offset 0x%03x: result %d", (unsigned)off, r);
    }
}

static void rx(struct pl011 *u, const char *s)
{
    pl011_receive(u, (const uint8_t *)s, strlen(s));
}

static void test_ids_and_reset(void)
{
    struct pl011 *u = pl011_new("uart", NULL, NULL);
    UNIT_REQUIRE(u != NULL, "pl011_new", "NULL");
    static const uint8_t ids[8] = {0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    bool ok = true;
    for (unsigned i = 0; i < 8; i++) {
        uint32_t v = rd(u, 0xfe0 + 4 * i);
        if (v != ids[i]) {
            unit_fail("PrimeCell ID registers", "0x%03x reads 0x%x, expected 0x%x", 0xfe0 + 4 * i,
                      v, ids[i]);
            ok = false;
        }
    }
    if (ok) {
        unit_pass("PrimeCell ID registers (periph 0x00341011, cell 0xb105f00d)");
    }
    uint32_t fr = rd(u, FR);
    UNIT_CHECK((fr & (FR_RXFE | FR_TXFE | FR_RXFF | FR_TXFF | FR_BUSY)) == (FR_RXFE | FR_TXFE),
               "UARTFR at reset: TXFE and RXFE", "0x%x", fr);
    UNIT_CHECK(rd(u, CR) == 0x300, "UARTCR resets to 0x300 (TXE, RXE)", "0x%x", rd(u, CR));
    UNIT_CHECK(rd(u, IFLS) == 0x12, "UARTIFLS resets to 0x12 (1/2, 1/2)", "0x%x", rd(u, IFLS));
    UNIT_CHECK(rd(u, LCR_H) == 0 && rd(u, IMSC) == 0 && rd(u, RIS) == 0 && rd(u, MIS) == 0 &&
                   rd(u, RSR) == 0 && rd(u, DMACR) == 0 && rd(u, IBRD) == 0,
               "other registers reset to 0", "LCR_H 0x%x IMSC 0x%x RIS 0x%x", rd(u, LCR_H),
               rd(u, IMSC), rd(u, RIS));
    UNIT_CHECK(rd(u, 0x008) == 0 && rd(u, 0x800) == 0 && rd(u, 0xfd0) == 0,
               "reserved offsets read as zero", "0x%x", rd(u, 0x008));
    pl011_free(u);
}

static void test_register_widths(void)
{
    struct pl011 *u = pl011_new("uart", NULL, NULL);
    static const struct {
        unsigned off;
        uint32_t write, expect;
        const char *name;
    } regs[] = {
        {ILPR, 0xffffffff, 0xff, "UARTILPR is 8 bits"},
        {IBRD, 0xffffffff, 0xffff, "UARTIBRD is 16 bits"},
        {FBRD, 0xffffffff, 0x3f, "UARTFBRD is 6 bits"},
        {LCR_H, 0xffffffff, 0xff, "UARTLCR_H is 8 bits"},
        {CR, 0xffffffff, 0xff87, "UARTCR implements bits 15-7, 2-0"},
        {IFLS, 0xffffffff, 0x3f, "UARTIFLS is 6 bits"},
        {IMSC, 0xffffffff, 0x7ff, "UARTIMSC is 11 bits"},
        {DMACR, 0xffffffff, 0x7, "UARTDMACR is 3 bits"},
    };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        wr(u, regs[i].off, regs[i].write);
        uint32_t v = rd(u, regs[i].off);
        UNIT_CHECK(v == regs[i].expect, regs[i].name, "reads 0x%x, expected 0x%x", v,
                   regs[i].expect);
    }
    wr(u, FR, 0);
    wr(u, RIS, 0xffff);
    UNIT_CHECK((rd(u, FR) & FR_TXFE) && rd(u, RIS) == 0, "writes to read-only registers ignored",
               "FR 0x%x RIS 0x%x", rd(u, FR), rd(u, RIS));

    /* Narrow accesses, as Linux's driver makes (16-bit) and bare-metal code may (8-bit). */
    wr(u, CR, 0x0301);
    UNIT_CHECK(rdn(u, CR, 2) == 0x0301 && rdn(u, CR, 1) == 0x01 && rdn(u, CR + 1, 1) == 0x03,
               "8- and 16-bit reads", "16: 0x%x 8: 0x%x", rdn(u, CR, 2), rdn(u, CR, 1));
    pl011_mmio_ops.write(u, IBRD, 2, 0xabcd);
    pl011_mmio_ops.write(u, IBRD, 1, 0x12);
    UNIT_CHECK(rd(u, IBRD) == 0xab12, "narrow writes keep the upper bytes", "0x%x",
               rd(u, IBRD));
    pl011_free(u);
}

static void test_rx_character_mode(void)
{
    struct irq_probe probe = {0, 0};
    const struct coremu_irq_line irq = {probe_set, &probe};
    struct pl011 *u = pl011_new("uart", NULL, &irq);

    UNIT_CHECK(pl011_can_receive(u) == 1, "FIFOs off: room for one character", "%zu",
               pl011_can_receive(u));
    wr(u, IMSC, INT_RX);
    rx(u, "a");
    uint32_t fr = rd(u, FR);
    UNIT_CHECK(!(fr & FR_RXFE) && (fr & FR_RXFF), "FIFOs off: one character fills it",
               "FR 0x%x", fr);
    UNIT_CHECK((rd(u, RIS) & (INT_RX | INT_RT)) == (INT_RX | INT_RT),
               "FIFOs off: a character raises RX (and RT)", "RIS 0x%x", rd(u, RIS));
    UNIT_CHECK(rd(u, MIS) == INT_RX && probe.level == 1 && probe.changes == 1,
               "masked RX interrupt drives the line", "MIS 0x%x level %d changes %u", rd(u, MIS),
               probe.level, probe.changes);
    UNIT_CHECK(pl011_can_receive(u) == 0, "FIFOs off: full after one", "%zu",
               pl011_can_receive(u));
    uint32_t dr = rd(u, DR);
    UNIT_CHECK(dr == 'a', "UARTDR returns the character", "0x%x", dr);
    UNIT_CHECK((rd(u, FR) & FR_RXFE) && (rd(u, RIS) & (INT_RX | INT_RT)) == 0,
               "reading it empties the FIFO and clears RX and RT", "FR 0x%x RIS 0x%x",
               rd(u, FR), rd(u, RIS));
    UNIT_CHECK(probe.level == 0 && probe.changes == 2, "the line drops", "level %d changes %u",
               probe.level, probe.changes);

    rx(u, "b");
    wr(u, ICR, INT_RX | INT_RT);
    UNIT_CHECK(rd(u, RIS) == 0 && probe.level == 0 && rd(u, DR) == 'b',
               "UARTICR clears without losing data", "RIS 0x%x level %d", rd(u, RIS),
               probe.level);
    pl011_free(u);
}

static void test_rx_fifo(void)
{
    struct pl011 *u = pl011_new("uart", NULL, NULL);
    wr(u, LCR_H, LCRH_FEN | 0x60); /* FIFOs on, 8 bits */
    UNIT_CHECK(pl011_can_receive(u) == 16, "FIFOs on: room for 16", "%zu", pl011_can_receive(u));

    /* Default trigger level 1/2: RX is raised when the 8th character arrives. */
    rx(u, "0123456");
    UNIT_CHECK(!(rd(u, RIS) & INT_RX) && (rd(u, RIS) & INT_RT),
               "below the trigger level: RT, not RX", "RIS 0x%x", rd(u, RIS));
    rx(u, "7");
    UNIT_CHECK(rd(u, RIS) & INT_RX, "at the trigger level (8 of 16): RX", "RIS 0x%x",
               rd(u, RIS));
    UNIT_CHECK(rd(u, DR) == '0' && !(rd(u, RIS) & INT_RX), "one read below the level clears RX",
               "RIS 0x%x", rd(u, RIS));
    rx(u, "89abcdefg");
    UNIT_CHECK(rd(u, FR) & FR_RXFF, "16 characters fill the FIFO", "FR 0x%x", rd(u, FR));
    UNIT_CHECK(pl011_can_receive(u) == 0, "a full FIFO takes no more", "%zu",
               pl011_can_receive(u));
    char got[17] = {0};
    unsigned n = 0;
    while (!(rd(u, FR) & FR_RXFE) && n < 16) {
        got[n++] = (char)rd(u, DR);
    }
    UNIT_CHECK(strcmp(got, "123456789abcdefg") == 0, "FIFO order", "'%s'", got);
    UNIT_CHECK((rd(u, RIS) & (INT_RX | INT_RT)) == 0, "empty FIFO: RX and RT clear", "RIS 0x%x",
               rd(u, RIS));

    /* Trigger level 1/8 (2 characters). */
    wr(u, IFLS, 0x00);
    rx(u, "xy");
    UNIT_CHECK(rd(u, RIS) & INT_RX, "trigger level 1/8: RX at 2 characters", "RIS 0x%x",
               rd(u, RIS));
    rd(u, DR);
    rd(u, DR);

    /* Overrun: a 17th character is lost, OE is reported, the FIFO keeps its contents. */
    rx(u, "ABCDEFGHIJKLMNOPQ");
    UNIT_CHECK((rd(u, RIS) & INT_OE) && (rd(u, RSR) & 0x8), "overrun sets OE in RIS and RSR",
               "RIS 0x%x RSR 0x%x", rd(u, RIS), rd(u, RSR));
    wr(u, RSR, 0); /* UARTECR */
    wr(u, ICR, INT_OE);
    UNIT_CHECK(rd(u, RSR) == 0 && !(rd(u, RIS) & INT_OE), "UARTECR and UARTICR clear OE",
               "RSR 0x%x RIS 0x%x", rd(u, RSR), rd(u, RIS));
    n = 0;
    while (!(rd(u, FR) & FR_RXFE) && n < 17) {
        got[n++] = (char)rd(u, DR);
    }
    got[n] = 0;
    UNIT_CHECK(strcmp(got, "ABCDEFGHIJKLMNOP") == 0, "overrun keeps the first 16", "'%s'", got);

    /* Clearing FEN keeps what the FIFO holds; it is read out before new input is taken. */
    rx(u, "xyz");
    wr(u, LCR_H, 0x60);
    UNIT_CHECK(pl011_can_receive(u) == 0 && rd(u, DR) == 'x', "FEN cleared: contents kept",
               "can_receive %zu", pl011_can_receive(u));
    pl011_free(u);
}

/* pl011_reset (the board's machine reset): registers, FIFOs and the line back to power-on. */
static void test_device_reset(void)
{
    struct irq_probe probe = {0};
    const struct coremu_irq_line irq = {probe_set, &probe};
    struct pl011 *u = pl011_new("uart", NULL, &irq);
    wr(u, LCR_H, LCRH_FEN | 0x60);
    wr(u, IFLS, 0x00);
    wr(u, IBRD, 13);
    wr(u, IMSC, INT_RX | INT_RT);
    rx(u, "abc");
    UNIT_CHECK(probe.level == 1 && pl011_can_receive(u) == 13,
               "before reset: line high, 3 characters held", "level %d, room %zu", probe.level,
               pl011_can_receive(u));
    pl011_reset(u);
    UNIT_CHECK(probe.level == 0, "reset lowers the interrupt line", "level %d", probe.level);
    UNIT_CHECK(rd(u, LCR_H) == 0 && rd(u, IMSC) == 0 && rd(u, RIS) == 0 && rd(u, IBRD) == 0 &&
                   rd(u, IFLS) == 0x12 && rd(u, CR) == 0x300,
               "reset restores every register", "LCR_H 0x%x IMSC 0x%x RIS 0x%x IFLS 0x%x",
               rd(u, LCR_H), rd(u, IMSC), rd(u, RIS), rd(u, IFLS));
    UNIT_CHECK((rd(u, FR) & FR_RXFE) && pl011_can_receive(u) == 1, "reset empties the FIFOs",
               "FR 0x%x, room %zu", rd(u, FR), pl011_can_receive(u));
    pl011_free(u);
}

static void test_tx_and_loopback(void)
{
    struct irq_probe probe = {0, 0};
    const struct coremu_irq_line irq = {probe_set, &probe};
    struct pl011 *u = pl011_new("uart", NULL, &irq);
    wr(u, IMSC, INT_TX);
    UNIT_CHECK(probe.level == 0, "TX interrupt not raised before anything was sent", "level %d",
               probe.level);
    wr(u, DR, 'x');
    UNIT_CHECK((rd(u, RIS) & INT_TX) && probe.level == 1, "sending raises TX",
               "RIS 0x%x level %d", rd(u, RIS), probe.level);
    uint32_t fr = rd(u, FR);
    UNIT_CHECK((fr & FR_TXFE) && !(fr & (FR_TXFF | FR_BUSY)), "transmission is instantaneous",
               "FR 0x%x", fr);
    wr(u, ICR, INT_TX);
    UNIT_CHECK(!(rd(u, RIS) & INT_TX) && probe.level == 0, "UARTICR clears TX",
               "RIS 0x%x level %d", rd(u, RIS), probe.level);

    wr(u, CR, 0x0381); /* UARTEN, TXE, RXE, LBE */
    wr(u, LCR_H, LCRH_FEN);
    wr(u, DR, 'L');
    wr(u, DR, 'B');
    UNIT_CHECK(rd(u, DR) == 'L' && rd(u, DR) == 'B' && (rd(u, FR) & FR_RXFE),
               "loopback (LBE) returns sent characters", "FR 0x%x", rd(u, FR));
    pl011_free(u);
}

static void test_address_space(void)
{
    struct coremu_as *as = coremu_as_new();
    struct pl011 *u = pl011_new("uart", NULL, NULL);
    UNIT_REQUIRE(as != NULL && u != NULL, "address space", "setup failed");
    UNIT_CHECK(pl011_map(u, as, 0x09000000) == 0, "pl011_map", "failed");
    uint64_t v = 0;
    int r = coremu_as_read(as, 0x09000fe0, 4, &v);
    UNIT_CHECK(r == COREMU_MEM_OK && v == 0x11, "ID register through the address space",
               "result %d value 0x%llx", r, (unsigned long long)v);
    r = coremu_as_read(as, 0x09000018, 8, &v);
    UNIT_CHECK(r == COREMU_MEM_BAD_SIZE, "64-bit accesses are rejected", "result %d", r);
    r = coremu_as_read(as, 0x09000032, 4, &v);
    UNIT_CHECK(r == COREMU_MEM_BAD_SIZE, "unaligned accesses are rejected", "result %d", r);
    coremu_as_free(as);
    pl011_free(u);
}

/* Output to a character device, and input held back while the FIFO is full. */
static void test_chardev(void)
{
    char path[] = "/tmp/coremu-test-pl011-XXXXXX";
    int fd = mkstemp(path);
    UNIT_REQUIRE(fd >= 0, "chardev: temporary file", "mkstemp failed");
    close(fd);
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "chardev: I/O thread", "failed");
    char spec[64], err[256];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct coremu_chardev *chr = coremu_chardev_open(io, spec, err, sizeof(err));
    UNIT_REQUIRE(chr != NULL, "chardev: open file back end", "%s", err);

    struct pl011 *u = pl011_new("uart", chr, NULL);
    const char *msg = "Hello from coremu\r\n";
    for (const char *p = msg; *p != '\0'; p++) {
        wr(u, DR, (uint8_t)*p);
    }
    /* Input held while full is released by the read that makes room (no deadlock: the read
     * calls coremu_chardev_accept_input without the device lock). */
    rx(u, "q");
    UNIT_CHECK(pl011_can_receive(u) == 0, "chardev: full FIFO holds input", "room");
    UNIT_CHECK(rd(u, DR) == 'q', "chardev: read after hold", "wrong data");
    coremu_chardev_close(chr);
    pl011_free(u);
    coremu_iothread_free(io);

    char buf[64] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    unlink(path);
    UNIT_CHECK(n == strlen(msg) && memcmp(buf, msg, n) == 0, "chardev: transmitted bytes arrive",
               "got %zu bytes '%s'", n, buf);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* The line rate: at 600 baud (UARTCLK 24 MHz / (16 * 2500)), 8N1, a character takes 16.7 ms.
 * A burst of a FIFO's worth uses the line's credit up; it comes back one character per
 * character time, and whole after 16 of them. */
static void test_line_rate(void)
{
    struct pl011 *u = pl011_new("uart", NULL, NULL);
    wr(u, IBRD, 2500);
    wr(u, FBRD, 0);
    wr(u, LCR_H, LCRH_FEN | 0x60);
    UNIT_CHECK(pl011_can_receive(u) == 16, "line rate: an idle line takes a FIFO's worth",
               "%zu", pl011_can_receive(u));
    int64_t t0 = coremu_clock_ns();
    rx(u, "0123456789abcdef");
    for (int i = 0; i < 16; i++) {
        rd(u, DR);
    }
    size_t now = pl011_can_receive(u);
    /* At most what the line carried meanwhile: nothing, unless this thread was held up. */
    int64_t carried = (coremu_clock_ns() - t0) / 16666666; /* ns per character at 600 8N1 */
    UNIT_CHECK(now <= (size_t)carried, "line rate: after a full burst, nothing more at once",
               "room %zu after %lld character times", now, (long long)carried);
    sleep_ms(16 * 17 + 40);
    UNIT_CHECK(pl011_can_receive(u) == 16, "line rate: 16 character times later, a FIFO's worth",
               "room %zu", pl011_can_receive(u));
    rx(u, "0123");
    UNIT_CHECK(pl011_can_receive(u) == 12, "line rate: a short burst leaves the rest of the credit",
               "room %zu", pl011_can_receive(u));
    pl011_free(u);
}

/* An endless writer on the far end of a pty (the host side of a serial console). */
struct flood {
    int fd;
    atomic_bool stop;
};

static void *flood_writer(void *opaque)
{
    struct flood *f = opaque;
    static const uint8_t zeros[4096];
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {.fd = f->fd, .events = POLLOUT};
        if (poll(&p, 1, 10) > 0 && write(f->fd, zeros, sizeof(zeros)) < 0 && errno != EAGAIN) {
            break;
        }
    }
    return NULL;
}

static double host_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A flood on the serial line (stdin from /dev/zero) with a guest that reads as fast as it can:
 * what it gets is what 9600 baud carries, never more than the FIFO holds (no overrun: the
 * back end is asked only for the room there is), and input keeps flowing. Without the pacing the
 * FIFO is refilled as fast as a core empties it, which keeps a real guest's core in its
 * interrupt handler for ever.
 */
static void test_flood(const char *spec)
{
    char name[128], err[256];
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "flood: I/O thread", "failed");
    struct coremu_chardev *chr = coremu_chardev_open(io, spec, err, sizeof(err));
    UNIT_REQUIRE(chr != NULL, "flood: open a pty", "%s", err);
    struct flood f = {open(coremu_chardev_pty_path(chr), O_RDWR | O_NOCTTY | O_NONBLOCK), false};
    UNIT_REQUIRE(f.fd >= 0, "flood: open the pty's slave", "%s", strerror(errno));

    struct pl011 *u = pl011_new("uart", chr, NULL);
    wr(u, IBRD, 156); /* 24 MHz / (16 * (156 + 16/64)) = 9600 baud */
    wr(u, FBRD, 16);
    wr(u, LCR_H, LCRH_FEN | 0x60);
    wr(u, IMSC, INT_RX | INT_RT);
    wr(u, CR, 0x301);
    pthread_t writer;
    UNIT_REQUIRE(pthread_create(&writer, NULL, flood_writer, &f) == 0, "flood: writer", "failed");

    const double seconds = 0.5;
    unsigned long got = 0, errors = 0, polls = 0, empty = 0;
    double t0 = host_s(), dt;
    while ((dt = host_s() - t0) < seconds) {
        polls++;
        if (rd(u, FR) & FR_RXFE) {
            empty++;
            continue;
        }
        uint32_t dr = rd(u, DR);
        errors += (dr & 0xf00) != 0;
        got++;
    }
    uint32_t ris = rd(u, RIS);
    atomic_store(&f.stop, true);
    pthread_join(writer, NULL);

    printf("# flood (%s): %lu characters in %.2f s, %lu of %lu polls found the FIFO empty\n",
           spec, got, dt, empty, polls);
    /* 9600 baud, 10 bits a character, plus the first burst and timer slack. */
    double most = dt * 960 * 1.2 + 32;
    snprintf(name, sizeof(name), "flood (%s): input flows", spec);
    UNIT_CHECK(got >= 16, name, "%lu characters in %.2f s", got, dt);
    snprintf(name, sizeof(name), "flood (%s): no faster than 9600 baud", spec);
    UNIT_CHECK(got <= most, name, "%lu characters in %.2f s (at most %.0f)", got, dt, most);
    snprintf(name, sizeof(name), "flood (%s): never more than the FIFO holds (no overrun)", spec);
    UNIT_CHECK(errors == 0 && !(ris & INT_OE), name, "%lu characters with errors, RIS 0x%x",
               errors, ris);

    coremu_chardev_close(chr);
    pl011_free(u);
    close(f.fd);
    coremu_iothread_free(io);
}

int main(void)
{
    test_ids_and_reset();
    test_register_widths();
    test_rx_character_mode();
    test_rx_fifo();
    test_device_reset();
    test_tx_and_loopback();
    test_address_space();
    test_chardev();
    test_line_rate();
    test_flood("pty");
    test_flood("pty,mux=on");
    return unit_done();
}
