/*
 * Host-side tests of the PC16550D UART model (hw/uart16550.c): the registers driven through the
 * device's register callbacks in the order Linux's 8250 driver and its early console use them,
 * input injected through the character-device handlers or written into a pty back end, output
 * checked through a file: back end. Expected values come from the PC16550D data sheet.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coremu/coremu.h>

#include "uart16550.h"
#include "unit.h"

enum {
    RBR = 0,
    THR = 0,
    DLL = 0,
    IER = 1,
    DLM = 1,
    IIR = 2,
    FCR = 2,
    LCR = 3,
    MCR = 4,
    LSR = 5,
    MSR = 6,
    SCR = 7
};

#define IER_RDI    0x01u
#define IER_THRI   0x02u
#define IER_RLSI   0x04u
#define IER_MSI    0x08u
#define IIR_NO_INT 0x01u
#define LSR_DR     0x01u
#define LSR_OE     0x02u
#define LSR_THRE   0x20u
#define LSR_TEMT   0x40u
#define MCR_DTR    0x01u
#define MCR_RTS    0x02u
#define MCR_OUT1   0x04u
#define MCR_OUT2   0x08u
#define MCR_LOOP   0x10u
#define LCR_DLAB   0x80u
#define LCR_8N1    0x03u

/* The interrupt line as the board sees it. Set from the I/O thread in the pty tests. */
struct irq_probe {
    atomic_int level;
    atomic_uint changes;
};

static void probe_set(void *opaque, bool level)
{
    struct irq_probe *p = opaque;
    atomic_store(&p->level, level);
    atomic_fetch_add(&p->changes, 1);
}

static struct uart16550 *new_uart(struct irq_probe *probe)
{
    /* The device keeps a copy of the line. */
    const struct coremu_irq_line line = {probe_set, probe};
    struct uart16550 *u = uart16550_new("ttyS0", NULL, probe != NULL ? &line : NULL);
    UNIT_REQUIRE(u != NULL, "uart16550_new", "NULL");
    return u;
}

static uint8_t in8(struct uart16550 *u, unsigned reg)
{
    uint64_t v = 0xdeadbeef;
    int r = uart16550_mmio_ops.read(u, reg, 1, &v);
    if (r != COREMU_MEM_OK || v > 0xff) {
        unit_fail("byte read", "register %u: result %d value 0x%llx", reg, r,
                  (unsigned long long)v);
    }
    return (uint8_t)v;
}

static void out8(struct uart16550 *u, unsigned reg, uint8_t v)
{
    int r = uart16550_mmio_ops.write(u, reg, 1, v);
    if (r != COREMU_MEM_OK) {
        unit_fail("byte write", "register %u: result %d", reg, r);
    }
}

static void rx(struct uart16550 *u, const char *s)
{
    uart16550_receive(u, (const uint8_t *)s, strlen(s));
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Linux's serial8250_set_divisor: DLAB on, DLL and DLM, DLAB off with the frame. */
static void set_divisor(struct uart16550 *u, unsigned divisor, uint8_t lcr)
{
    out8(u, LCR, lcr | LCR_DLAB);
    out8(u, DLL, divisor & 0xff);
    out8(u, DLM, divisor >> 8);
    out8(u, LCR, lcr);
}

static void test_reset_values(void)
{
    struct uart16550 *u = new_uart(NULL);
    UNIT_CHECK(in8(u, IER) == 0 && in8(u, LCR) == 0 && in8(u, MCR) == 0,
               "reset: IER, LCR and MCR are 0", "IER 0x%x LCR 0x%x MCR 0x%x", in8(u, IER),
               in8(u, LCR), in8(u, MCR));
    UNIT_CHECK(in8(u, IIR) == 0x01, "reset: IIR is 0x01 (nothing pending, FIFOs off)", "0x%x",
               in8(u, IIR));
    UNIT_CHECK(in8(u, LSR) == 0x60, "reset: LSR is 0x60 (THRE, TEMT)", "0x%x", in8(u, LSR));
    UNIT_CHECK(in8(u, MSR) == 0xb0, "reset: MSR shows CTS, DSR, DCD of a ready peer, no changes",
               "0x%x", in8(u, MSR));
    uart16550_free(u);
}

/* Linux's autoconfig() and autoconfig_16550a(), step by step. */
static void test_linux_probe(void)
{
    struct uart16550 *u = new_uart(NULL);

    /* The existence test: IER bits 3-0 read back what was written. */
    uint8_t saved_ier = in8(u, IER);
    out8(u, IER, 0);
    uint8_t scratch2 = in8(u, IER) & 0x0f;
    out8(u, IER, 0x0f);
    uint8_t scratch3 = in8(u, IER) & 0x0f;
    out8(u, IER, saved_ier);
    UNIT_CHECK(scratch2 == 0 && scratch3 == 0x0f, "probe: IER existence test", "read 0x%x and 0x%x",
               scratch2, scratch3);
    out8(u, IER, 0xff);
    UNIT_CHECK(in8(u, IER) == 0x0f, "probe: IER bits 7-4 read as 0 (not an XScale UUE bit)", "0x%x",
               in8(u, IER));
    out8(u, IER, 0);

    bool scratch_ok = true;
    for (unsigned v = 0; v < 256; v++) {
        out8(u, SCR, (uint8_t)v);
        scratch_ok = scratch_ok && in8(u, SCR) == v;
    }
    UNIT_CHECK(scratch_ok, "probe: the scratch register holds every value", "mismatch");

    /* The loopback test: RTS and OUT2 come back as CTS and DCD. */
    uint8_t save_mcr = in8(u, MCR), save_lcr = in8(u, LCR);
    out8(u, MCR, MCR_LOOP | 0x0a);
    uint8_t status1 = in8(u, MSR) & 0xf0;
    out8(u, MCR, save_mcr);
    UNIT_CHECK(status1 == 0x90, "probe: loopback with RTS|OUT2 shows CTS|DCD (0x90)", "0x%x",
               status1);

    /* The FIFO test: a 16550A sets both IIR bits 7-6 once FCR.0 is written. */
    out8(u, LCR, 0xbf);
    out8(u, FCR, 0); /* EFR on the chips that have one: the FCR here */
    out8(u, LCR, 0);
    out8(u, FCR, 0x01);
    UNIT_CHECK((in8(u, IIR) >> 6) == 3, "probe: IIR bits 7-6 say 16550A", "IIR 0x%x", in8(u, IIR));

    /* No EFR behind DLAB or LCR 0xbf: the IIR is read there, and is not 0. */
    out8(u, LCR, 0x80);
    uint8_t efr_a = in8(u, IIR);
    out8(u, LCR, 0xbf);
    uint8_t efr_b = in8(u, IIR);
    UNIT_CHECK(efr_a != 0 && efr_b != 0, "probe: no EFR (offset 2 with DLAB reads the IIR)",
               "0x%x 0x%x", efr_a, efr_b);

    /* Not a National SuperIO: IIR bit 4 does not follow MCR.LOOP. */
    out8(u, LCR, 0);
    uint8_t mcr = in8(u, MCR);
    out8(u, LCR, 0xe0);
    uint8_t excr1_a = in8(u, IIR);
    out8(u, LCR, 0);
    out8(u, MCR, mcr ^ MCR_LOOP);
    out8(u, LCR, 0xe0);
    uint8_t excr1_b = in8(u, IIR);
    out8(u, LCR, 0);
    out8(u, MCR, mcr);
    UNIT_CHECK(!(excr1_a & MCR_LOOP) && !(excr1_b & MCR_LOOP),
               "probe: IIR bit 4 stays 0 whatever MCR.LOOP is", "0x%x 0x%x", excr1_a, excr1_b);

    /* Not a 16750: FCR bit 5 does not give a 64-byte FIFO, IIR bit 5 stays 0. */
    out8(u, FCR, 0x21);
    uint8_t s1 = in8(u, IIR) & 0xe0;
    out8(u, FCR, 0);
    out8(u, LCR, 0x80);
    out8(u, FCR, 0x21);
    uint8_t s2 = in8(u, IIR) & 0xe0;
    out8(u, FCR, 0);
    out8(u, LCR, save_lcr);
    UNIT_CHECK(s1 == 0xc0 && s2 == 0xc0, "probe: no 64-byte FIFO (IIR bit 5 stays 0)", "0x%x 0x%x",
               s1, s2);
    UNIT_CHECK(in8(u, MCR) == 0 && in8(u, LCR) == 0 && in8(u, IIR) == 0x01,
               "probe: leaves MCR, LCR and the FIFOs as they were", "MCR 0x%x LCR 0x%x IIR 0x%x",
               in8(u, MCR), in8(u, LCR), in8(u, IIR));
    out8(u, MCR, 0xff);
    UNIT_CHECK(in8(u, MCR) == 0x1f, "MCR bits 7-5 read as 0", "0x%x", in8(u, MCR));
    uart16550_free(u);
}

static void test_divisor_latch(void)
{
    struct uart16550 *u = new_uart(NULL);
    out8(u, IER, 0x05);
    set_divisor(u, 0x1234, LCR_8N1);
    UNIT_CHECK(in8(u, IER) == 0x05 && in8(u, LCR) == LCR_8N1,
               "divisor writes under DLAB leave IER alone", "IER 0x%x LCR 0x%x", in8(u, IER),
               in8(u, LCR));
    out8(u, LCR, LCR_8N1 | LCR_DLAB);
    UNIT_CHECK(in8(u, DLL) == 0x34 && in8(u, DLM) == 0x12, "DLL and DLM read back under DLAB",
               "DLL 0x%x DLM 0x%x", in8(u, DLL), in8(u, DLM));
    /* The ISA bus splits a word access into byte accesses to consecutive ports. */
    uint64_t w = 0;
    uart16550_mmio_ops.read(u, DLL, 2, &w);
    UNIT_CHECK(w == 0x1234, "a 16-bit read of DLL gives DLM:DLL", "0x%llx", (unsigned long long)w);
    uart16550_mmio_ops.write(u, DLL, 2, 0x0c01);
    UNIT_CHECK(in8(u, DLL) == 0x01 && in8(u, DLM) == 0x0c, "a 16-bit write sets DLL and DLM",
               "DLL 0x%x DLM 0x%x", in8(u, DLL), in8(u, DLM));
    out8(u, LCR, LCR_8N1);
    uart16550_mmio_ops.read(u, LCR, 4, &w);
    UNIT_CHECK(w == (0xb0u << 24 | 0x60u << 16 | 0x00u << 8 | LCR_8N1),
               "a 32-bit read at LCR gives MSR:LSR:MCR:LCR", "0x%llx", (unsigned long long)w);
    uart16550_mmio_ops.write(u, MCR, 4, 0x5a000000u | MCR_DTR);
    UNIT_CHECK(in8(u, MCR) == MCR_DTR && in8(u, SCR) == 0x5a,
               "a 32-bit write at MCR reaches MCR and SCR", "MCR 0x%x SCR 0x%x", in8(u, MCR),
               in8(u, SCR));
    uart16550_free(u);
}

/* A file: character device, and what was written to it once it is closed. */
struct file_chr {
    char path[64];
    struct coremu_iothread *io;
    struct coremu_chardev *chr;
};

static void file_chr_open(struct file_chr *f, const char *what)
{
    snprintf(f->path, sizeof(f->path), "/tmp/coremu-test-uart16550-XXXXXX");
    int fd = mkstemp(f->path);
    UNIT_REQUIRE(fd >= 0, what, "mkstemp failed");
    close(fd);
    f->io = coremu_iothread_new();
    UNIT_REQUIRE(f->io != NULL && coremu_iothread_start(f->io) == 0, what, "I/O thread");
    char spec[96], err[256];
    snprintf(spec, sizeof(spec), "file:%s", f->path);
    f->chr = coremu_chardev_open(f->io, spec, err, sizeof(err));
    UNIT_REQUIRE(f->chr != NULL, what, "%s", err);
}

static size_t file_chr_close(struct file_chr *f, char *buf, size_t size)
{
    coremu_chardev_close(f->chr);
    coremu_iothread_free(f->io);
    FILE *fp = fopen(f->path, "rb");
    size_t n = fp != NULL ? fread(buf, 1, size - 1, fp) : 0;
    if (fp != NULL) {
        fclose(fp);
    }
    buf[n] = '\0';
    unlink(f->path);
    return n;
}

/* earlyprintk=serial,ttyS0,115200: arch/x86/boot/early_serial_console.c's set-up and putc, then
 * a loopback test whose characters must not reach the line. */
static void test_early_console(void)
{
    struct file_chr f;
    file_chr_open(&f, "early console: file back end");
    struct uart16550 *u = uart16550_new("ttyS0", f.chr, NULL);
    UNIT_REQUIRE(u != NULL, "early console: uart16550_new", "NULL");

    out8(u, LCR, LCR_8N1);
    out8(u, IER, 0);
    out8(u, FCR, 0);
    out8(u, MCR, MCR_DTR | MCR_RTS);
    set_divisor(u, 1, LCR_8N1);
    const char *msg = "Linux version 6.1.0 (coremu)\n";
    bool waited_out = false;
    for (const char *p = msg; *p != '\0'; p++) {
        unsigned timeout = 0xffff;
        while ((in8(u, LSR) & LSR_THRE) == 0 && --timeout) {
        }
        waited_out = waited_out || timeout == 0;
        out8(u, THR, (uint8_t)*p);
    }
    UNIT_CHECK(!waited_out && (in8(u, LSR) & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT),
               "early console: THRE and TEMT are always set (instant transmission)", "LSR 0x%x",
               in8(u, LSR));

    out8(u, MCR, MCR_LOOP);
    out8(u, THR, 'X');
    uint8_t looped = in8(u, RBR);
    out8(u, MCR, MCR_DTR | MCR_RTS);
    out8(u, THR, '$');
    UNIT_CHECK(looped == 'X', "early console: a loopback character is received", "0x%x", looped);

    char buf[128];
    size_t n = file_chr_close(&f, buf, sizeof(buf));
    uart16550_free(u);
    UNIT_CHECK(n == strlen(msg) + 1 && memcmp(buf, msg, strlen(msg)) == 0 && buf[n - 1] == '$',
               "early console: transmitted bytes reach the back end, loopback ones do not",
               "got %zu bytes '%s'", n, buf);
}

static void test_fifo_and_triggers(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    out8(u, MCR, MCR_OUT2);
    out8(u, IER, IER_RDI);

    /* 16450 mode: one character is data available, no timeout, no FIFO bits. */
    rx(u, "a");
    UNIT_CHECK(in8(u, IIR) == 0x04 && atomic_load(&probe.level) == 1,
               "16450 mode: a character is data available (IIR 0x04), line high", "IIR 0x%x",
               in8(u, IIR));
    UNIT_CHECK(uart16550_can_receive(u) == 0, "16450 mode: the RBR holds one", "room %zu",
               uart16550_can_receive(u));
    UNIT_CHECK(in8(u, RBR) == 'a' && in8(u, IIR) == 0x01 && atomic_load(&probe.level) == 0 &&
                   !(in8(u, LSR) & LSR_DR),
               "16450 mode: reading RBR clears DR and the interrupt", "IIR 0x%x LSR 0x%x",
               in8(u, IIR), in8(u, LSR));
    UNIT_CHECK(in8(u, RBR) == 'a', "an empty RBR still holds the last character", "0x%x",
               in8(u, RBR));

    static const struct {
        uint8_t fcr;
        unsigned level;
    } triggers[] = {{0x01, 1}, {0x41, 4}, {0x81, 8}, {0xc1, 14}};
    for (size_t t = 0; t < sizeof(triggers) / sizeof(triggers[0]); t++) {
        char name[96];
        out8(u, FCR, triggers[t].fcr | 0x06); /* enable, and reset both FIFOs */
        bool ok = true;
        for (unsigned i = 1; i <= 16 && ok; i++) {
            rx(u, "x");
            uint8_t iir = in8(u, IIR);
            uint8_t want = i >= triggers[t].level ? 0xc4 : 0xcc;
            if (iir != want || atomic_load(&probe.level) != 1) {
                snprintf(name, sizeof(name), "trigger level %u", triggers[t].level);
                unit_fail(name, "%u characters: IIR 0x%x, expected 0x%x, line %d", i, iir, want,
                          atomic_load(&probe.level));
                ok = false;
            }
        }
        /* Reading down through the level turns data available into the timeout. */
        for (unsigned i = 16; i > 1 && ok; i--) {
            in8(u, RBR);
            uint8_t want = i - 1 >= triggers[t].level ? 0xc4 : 0xcc;
            if (in8(u, IIR) != want) {
                snprintf(name, sizeof(name), "trigger level %u", triggers[t].level);
                unit_fail(name, "%u left: IIR 0x%x, expected 0x%x", i - 1, in8(u, IIR), want);
                ok = false;
            }
        }
        in8(u, RBR);
        if (ok && in8(u, IIR) == 0xc1 && atomic_load(&probe.level) == 0) {
            snprintf(name, sizeof(name),
                     "trigger level %u: data available (0xc4) at it, timeout (0xcc) below",
                     triggers[t].level);
            unit_pass(name);
        } else if (ok) {
            unit_fail("trigger level", "empty FIFO: IIR 0x%x", in8(u, IIR));
        }
    }

    /* FIFO order and reset. */
    rx(u, "0123456789abcdef");
    char got[17] = {0};
    for (unsigned i = 0; i < 16 && (in8(u, LSR) & LSR_DR); i++) {
        got[i] = (char)in8(u, RBR);
    }
    UNIT_CHECK(strcmp(got, "0123456789abcdef") == 0 && !(in8(u, LSR) & LSR_DR),
               "FIFO mode: 16 characters in order", "'%s'", got);
    rx(u, "xyz");
    out8(u, FCR, 0xc1 | 0x02);
    UNIT_CHECK(!(in8(u, LSR) & LSR_DR) && in8(u, IIR) == 0xc1, "FCR.1 empties the receive FIFO",
               "LSR 0x%x IIR 0x%x", in8(u, LSR), in8(u, IIR));
    rx(u, "xyz");
    out8(u, FCR, 0);
    UNIT_CHECK(!(in8(u, LSR) & LSR_DR) && in8(u, IIR) == 0x01,
               "clearing FCR.0 empties the FIFO and returns to 16450 mode (IIR bits 7-6 clear)",
               "LSR 0x%x IIR 0x%x", in8(u, LSR), in8(u, IIR));
    rx(u, "q");
    out8(u, FCR, 0x81);
    UNIT_CHECK(!(in8(u, LSR) & LSR_DR) && in8(u, IIR) == 0xc1,
               "setting FCR.0 empties the receiver too", "LSR 0x%x IIR 0x%x", in8(u, LSR),
               in8(u, IIR));
    uart16550_free(u);
}

static void test_overrun(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    out8(u, MCR, MCR_OUT2);
    out8(u, FCR, 0xc1);
    out8(u, IER, IER_RDI | IER_RLSI);
    rx(u, "ABCDEFGHIJKLMNOPQ");
    UNIT_CHECK(in8(u, IIR) == 0xc6, "overrun: line status interrupt first (IIR 0xc6)", "IIR 0x%x",
               in8(u, IIR));
    uint8_t lsr = in8(u, LSR);
    UNIT_CHECK((lsr & (LSR_OE | LSR_DR)) == (LSR_OE | LSR_DR) && (lsr & 0x9c) == 0,
               "overrun: LSR shows OE and DR, no PE, FE, BI or FIFO error", "LSR 0x%x", lsr);
    UNIT_CHECK(!(in8(u, LSR) & LSR_OE) && in8(u, IIR) == 0xc4,
               "overrun: reading LSR clears OE and its interrupt", "LSR 0x%x IIR 0x%x", in8(u, LSR),
               in8(u, IIR));
    char got[18] = {0};
    for (unsigned i = 0; i < 17 && (in8(u, LSR) & LSR_DR); i++) {
        got[i] = (char)in8(u, RBR);
    }
    UNIT_CHECK(strcmp(got, "ABCDEFGHIJKLMNOP") == 0, "overrun: the FIFO keeps the first 16", "'%s'",
               got);

    out8(u, FCR, 0);
    rx(u, "12");
    UNIT_CHECK((in8(u, LSR) & LSR_OE) && in8(u, RBR) == '2',
               "overrun in 16450 mode: the new character overwrites the RBR", "RBR 0x%x",
               in8(u, RBR));
    out8(u, IER, IER_RDI);
    rx(u, "34");
    UNIT_CHECK(in8(u, IIR) == 0x04, "overrun without ELSI: no line status interrupt", "IIR 0x%x",
               in8(u, IIR));
    uart16550_free(u);
}

/* All four sources pending at once, acknowledged one by one in the data sheet's order. */
static void test_iir_priority(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    out8(u, FCR, 0x41); /* trigger level 4 */
    out8(u, MCR, MCR_OUT2 | MCR_LOOP);
    /* Entering loopback changed CTS and DSR (modem status); enabling ETBEI raised THRE. */
    out8(u, IER, 0x0f);
    for (int i = 0; i < 17; i++) {
        out8(u, THR, 'a' + i); /* 16 fill the FIFO (data available), the 17th overruns */
    }
    out8(u, MCR, MCR_OUT2); /* out of loopback, so that the line can rise */
    UNIT_CHECK(atomic_load(&probe.level) == 1, "priority: line high with all four pending",
               "level %d", atomic_load(&probe.level));
    uint8_t order[6];
    order[0] = in8(u, IIR);
    in8(u, LSR); /* acknowledges the overrun */
    order[1] = in8(u, IIR);
    for (int i = 0; i < 13; i++) {
        in8(u, RBR); /* down to 3, below the trigger level */
    }
    order[2] = in8(u, IIR);
    while (in8(u, LSR) & LSR_DR) {
        in8(u, RBR);
    }
    order[3] = in8(u, IIR); /* THRE: this read acknowledges it */
    order[4] = in8(u, IIR);
    in8(u, MSR);
    order[5] = in8(u, IIR);
    static const uint8_t want[6] = {0xc6, 0xc4, 0xcc, 0xc2, 0xc0, 0xc1};
    UNIT_CHECK(memcmp(order, want, sizeof(want)) == 0,
               "priority: line status, data available, timeout, THRE, modem status, none",
               "IIR sequence %02x %02x %02x %02x %02x %02x", order[0], order[1], order[2], order[3],
               order[4], order[5]);
    UNIT_CHECK(atomic_load(&probe.level) == 0, "priority: line low once all are acknowledged",
               "level %d", atomic_load(&probe.level));
    uart16550_free(u);
}

/* THRE as Linux's serial8250_do_startup tests it, and as its transmit path uses it. */
static void test_thre(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    out8(u, LCR, LCR_8N1);
    out8(u, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);

    out8(u, IER, IER_THRI);
    uint8_t lsr = in8(u, LSR);
    uint8_t iir = in8(u, IIR);
    out8(u, IER, 0);
    UNIT_CHECK((lsr & LSR_TEMT) && !(iir & IIR_NO_INT) && iir == 0x02,
               "THRE: enabling ETBEI with THR empty raises it (no UART_BUG_TXEN)",
               "LSR 0x%x IIR 0x%x", lsr, iir);

    out8(u, IER, IER_THRI);
    uint8_t iir1 = in8(u, IIR);
    uint8_t iir_after = in8(u, IIR);
    out8(u, IER, 0);
    out8(u, IER, IER_THRI);
    iir = in8(u, IIR);
    out8(u, IER, 0);
    UNIT_CHECK(iir1 == 0x02 && iir_after == 0x01,
               "THRE: reading IIR acknowledges it when it is the source", "0x%x then 0x%x", iir1,
               iir_after);
    UNIT_CHECK(iir == 0x02, "THRE: re-enabling ETBEI raises it again (no UART_BUG_THRE)",
               "IIR 0x%x", iir);

    /* The transmit path: each write to THR empties at once and raises THRE again. */
    out8(u, IER, IER_THRI);
    unsigned before = atomic_load(&probe.changes);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "THRE: the line rises with OUT2 set", "level %d",
               atomic_load(&probe.level));
    in8(u, IIR);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && in8(u, IIR) == 0x01,
               "THRE: acknowledging lowers the line", "level %d", atomic_load(&probe.level));
    out8(u, THR, 'x');
    int level = atomic_load(&probe.level);
    unsigned changes = atomic_load(&probe.changes) - before;
    iir = in8(u, IIR);
    UNIT_CHECK(level == 1 && changes == 2 && iir == 0x02, "THRE: a THR write re-arms it",
               "level %d changes %u IIR 0x%x", level, changes, iir);
    out8(u, IER, 0);
    UNIT_CHECK(atomic_load(&probe.level) == 0, "THRE: clearing ETBEI lowers the line", "level %d",
               atomic_load(&probe.level));
    uart16550_free(u);
}

/* The PC's wiring: INTRPT reaches the interrupt controller only with OUT2 set, never in
 * loopback. */
static void test_out2_gating(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    out8(u, IER, IER_RDI);
    rx(u, "a");
    UNIT_CHECK(in8(u, IIR) == 0x04 && atomic_load(&probe.level) == 0 &&
                   atomic_load(&probe.changes) == 0,
               "OUT2 clear: pending in IIR, the line stays low", "IIR 0x%x level %d", in8(u, IIR),
               atomic_load(&probe.level));
    out8(u, MCR, MCR_OUT2);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "setting OUT2 raises the line", "level %d",
               atomic_load(&probe.level));
    out8(u, MCR, MCR_OUT2 | MCR_LOOP);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && in8(u, IIR) == 0x04,
               "loopback forces OUT2 inactive: the line drops", "level %d IIR 0x%x",
               atomic_load(&probe.level), in8(u, IIR));
    out8(u, MCR, MCR_OUT2);
    UNIT_CHECK(atomic_load(&probe.level) == 1, "leaving loopback raises it again", "level %d",
               atomic_load(&probe.level));
    out8(u, MCR, 0);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && atomic_load(&probe.changes) == 4,
               "clearing OUT2 drops it; the level only changes on changes", "level %d changes %u",
               atomic_load(&probe.level), atomic_load(&probe.changes));
    uart16550_free(u);
}

static void test_loopback_modem(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    static const struct {
        uint8_t mcr, msr;
        const char *name;
    } wires[] = {
        {MCR_LOOP | MCR_DTR, 0x20, "loopback: DTR appears as DSR"},
        {MCR_LOOP | MCR_RTS, 0x10, "loopback: RTS appears as CTS"},
        {MCR_LOOP | MCR_OUT1, 0x40, "loopback: OUT1 appears as RI"},
        {MCR_LOOP | MCR_OUT2, 0x80, "loopback: OUT2 appears as DCD"},
        {MCR_LOOP | 0x0f, 0xf0, "loopback: all four"},
        {MCR_LOOP, 0x00, "loopback: none"},
    };
    for (size_t i = 0; i < sizeof(wires) / sizeof(wires[0]); i++) {
        out8(u, MCR, wires[i].mcr);
        uint8_t msr = in8(u, MSR) & 0xf0;
        UNIT_CHECK(msr == wires[i].msr, wires[i].name, "MSR 0x%x, expected 0x%x", msr,
                   wires[i].msr);
    }
    in8(u, MSR);
    out8(u, MCR, MCR_LOOP | MCR_DTR | MCR_RTS | MCR_OUT1 | MCR_OUT2);
    UNIT_CHECK(in8(u, MSR) == 0xfb, "delta bits: DCTS, DDSR, DDCD on rising edges, no TERI",
               "MSR 0x%x", in8(u, MSR));
    UNIT_CHECK(in8(u, MSR) == 0xf0, "reading MSR clears its delta bits", "MSR 0x%x", in8(u, MSR));
    out8(u, MCR, MCR_LOOP);
    UNIT_CHECK(in8(u, MSR) == 0x0f, "delta bits: falling edges, TERI on RI's trailing edge",
               "MSR 0x%x", in8(u, MSR));

    /* Modem status interrupt. */
    out8(u, IER, IER_MSI);
    UNIT_CHECK(in8(u, IIR) == 0x01, "no modem status change: nothing pending", "IIR 0x%x",
               in8(u, IIR));
    out8(u, MCR, MCR_LOOP | MCR_DTR);
    UNIT_CHECK(in8(u, IIR) == 0x00, "a modem status change interrupts (IIR 0x00)", "IIR 0x%x",
               in8(u, IIR));
    UNIT_CHECK(in8(u, MSR) == 0x22 && in8(u, IIR) == 0x01, "reading MSR acknowledges it",
               "IIR 0x%x", in8(u, IIR));
    out8(u, MCR, 0);
    UNIT_CHECK(in8(u, MSR) == 0xb9, "leaving loopback: the peer's CTS, DSR and DCD, as changes",
               "MSR 0x%x", in8(u, MSR));
    out8(u, IER, 0);

    /* Loopback data in both modes, with the FIFO's order and its overrun. */
    out8(u, MCR, MCR_LOOP);
    out8(u, FCR, 0x01);
    const char *msg = "loopback 16 byte";
    for (const char *p = msg; *p != '\0'; p++) {
        out8(u, THR, (uint8_t)*p);
    }
    out8(u, THR, '!');
    char got[18] = {0};
    for (unsigned i = 0; i < 17 && (in8(u, LSR) & LSR_DR); i++) {
        got[i] = (char)in8(u, RBR);
    }
    UNIT_CHECK(strcmp(got, msg) == 0, "loopback: THR to RBR through the FIFO", "'%s'", got);
    UNIT_CHECK(uart16550_can_receive(u) == 0, "loopback: the serial input is disconnected",
               "room %zu", uart16550_can_receive(u));
    out8(u, MCR, 0);
    UNIT_CHECK(uart16550_can_receive(u) == 16, "leaving loopback reconnects it", "room %zu",
               uart16550_can_receive(u));
    uart16550_free(u);
}

/* The line rate: 115200 / divisor baud, with the frame's bits. */
static void test_line_rate(void)
{
    struct uart16550 *u = new_uart(NULL);
    out8(u, FCR, 0x01);
    set_divisor(u, 192, LCR_8N1); /* 600 baud: 10 bits take 16.7 ms */
    UNIT_CHECK(uart16550_can_receive(u) == 16, "line rate: an idle line takes a FIFO's worth",
               "room %zu", uart16550_can_receive(u));
    int64_t t0 = coremu_clock_ns();
    rx(u, "0123456789abcdef");
    for (int i = 0; i < 16; i++) {
        in8(u, RBR);
    }
    size_t room = uart16550_can_receive(u);
    int64_t carried = (coremu_clock_ns() - t0) / 16666666;
    UNIT_CHECK(room <= (size_t)carried,
               "line rate: after a full burst at 600 baud, no more at once",
               "room %zu after %lld character times", room, (long long)carried);
    sleep_ms(16 * 17 + 40);
    UNIT_CHECK(uart16550_can_receive(u) == 16,
               "line rate: 16 character times later, a FIFO's worth", "room %zu",
               uart16550_can_receive(u));

    /* 7 data bits, parity, 2 stop bits: 11 bits, 18.3 ms a character at 600 baud; 150 ms
     * bring 8 characters where 10-bit ones would bring 9. */
    out8(u, LCR, 0x0e);
    t0 = coremu_clock_ns();
    rx(u, "0123456789abcdef");
    for (int i = 0; i < 16; i++) {
        in8(u, RBR);
    }
    sleep_ms(150);
    room = uart16550_can_receive(u);
    carried = (coremu_clock_ns() - t0) / 18333333;
    UNIT_CHECK(room >= 8 && room <= (size_t)carried,
               "line rate: the frame counts (7E2 is 11 bits a character)",
               "room %zu after %lld character times", room, (long long)carried);

    /* Divisor 0 runs at the fastest rate: a FIFO's worth takes 1.4 ms. */
    set_divisor(u, 0, LCR_8N1);
    rx(u, "0123456789abcdef");
    for (int i = 0; i < 16; i++) {
        in8(u, RBR);
    }
    sleep_ms(20);
    UNIT_CHECK(uart16550_can_receive(u) == 16, "line rate: divisor 0 is 115200 baud", "room %zu",
               uart16550_can_receive(u));
    uart16550_free(u);
}

static void test_address_space(void)
{
    struct coremu_as *io = coremu_as_new();
    struct uart16550 *com1 = new_uart(NULL);
    struct uart16550 *com2 = uart16550_new("ttyS1", NULL, NULL);
    UNIT_REQUIRE(io != NULL && com2 != NULL, "port space", "setup failed");
    UNIT_CHECK(uart16550_map(com1, io, UART16550_COM1_BASE) == 0 &&
                   uart16550_map(com2, io, UART16550_COM2_BASE) == 0,
               "COM1 at 0x3f8 and COM2 at 0x2f8", "map failed");
    UNIT_CHECK(uart16550_map(com2, io, 0x3fc) == -EEXIST, "an overlapping map is refused",
               "accepted");
    coremu_as_write(io, 0x3ff, 1, 0x42);
    coremu_as_write(io, 0x2ff, 1, 0x24);
    uint64_t v1 = 0, v2 = 0;
    coremu_as_read(io, 0x3ff, 1, &v1);
    coremu_as_read(io, 0x2ff, 1, &v2);
    UNIT_CHECK(v1 == 0x42 && v2 == 0x24, "each port's scratch register is its own", "0x%llx 0x%llx",
               (unsigned long long)v1, (unsigned long long)v2);
    uint64_t w = 0;
    int r = coremu_as_read(io, 0x3fd, 2, &w);
    UNIT_CHECK(r == COREMU_MEM_OK && w == 0xb060, "inw 0x3fd reads LSR and MSR", "result %d 0x%llx",
               r, (unsigned long long)w);
    r = coremu_as_read(io, 0x3ff, 2, &w);
    UNIT_CHECK(r == COREMU_MEM_UNMAPPED, "an access past the window's end is refused", "result %d",
               r);
    r = coremu_as_read(io, 0x3f8, 8, &w);
    UNIT_CHECK(r == COREMU_MEM_BAD_SIZE, "8-byte accesses are refused", "result %d", r);
    coremu_as_free(io);
    uart16550_free(com1);
    uart16550_free(com2);
}

static void test_device_reset(void)
{
    struct irq_probe probe = {0};
    struct uart16550 *u = new_uart(&probe);
    set_divisor(u, 12, LCR_8N1);
    out8(u, FCR, 0xc1);
    out8(u, MCR, MCR_OUT2 | MCR_DTR);
    out8(u, IER, 0x0f);
    out8(u, SCR, 0x77);
    rx(u, "abc");
    UNIT_CHECK(atomic_load(&probe.level) == 1 && uart16550_can_receive(u) == 13,
               "before reset: line high, 3 characters held", "level %d room %zu",
               atomic_load(&probe.level), uart16550_can_receive(u));
    uart16550_reset(u);
    UNIT_CHECK(atomic_load(&probe.level) == 0, "reset lowers the interrupt line", "level %d",
               atomic_load(&probe.level));
    UNIT_CHECK(in8(u, IER) == 0 && in8(u, IIR) == 0x01 && in8(u, LCR) == 0 && in8(u, MCR) == 0 &&
                   in8(u, LSR) == 0x60 && in8(u, MSR) == 0xb0 && in8(u, SCR) == 0,
               "reset restores every register", "IER 0x%x IIR 0x%x LSR 0x%x MSR 0x%x", in8(u, IER),
               in8(u, IIR), in8(u, LSR), in8(u, MSR));
    out8(u, LCR, LCR_DLAB);
    UNIT_CHECK(in8(u, DLL) == 0 && in8(u, DLM) == 0, "reset clears the divisor latch", "DLL 0x%x",
               in8(u, DLL));
    UNIT_CHECK(uart16550_can_receive(u) == 1, "reset empties and disables the FIFOs", "room %zu",
               uart16550_can_receive(u));
    uart16550_free(u);
}

/* Waits up to 5 s for cond; true if it held. */
#define WAIT_FOR(cond)                                               \
    ({                                                               \
        bool ok_ = false;                                            \
        for (int ms_ = 0; ms_ < 5000 && !(ok_ = (cond)); ms_ += 2) { \
            sleep_ms(2);                                             \
        }                                                            \
        ok_;                                                         \
    })

/* Input from a real back end (a pty, the host side of a serial console) on the I/O thread, read
 * the way Linux's serial8250_handle_irq does: on the interrupt, IIR, then RBR while LSR.DR. */
static void test_pty_input(void)
{
    char err[256];
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "pty: I/O thread", "failed");
    struct coremu_chardev *chr = coremu_chardev_open(io, "pty", err, sizeof(err));
    UNIT_REQUIRE(chr != NULL, "pty: open", "%s", err);
    int peer = open(coremu_chardev_pty_path(chr), O_RDWR | O_NOCTTY);
    UNIT_REQUIRE(peer >= 0, "pty: open the slave", "%s", strerror(errno));

    struct irq_probe probe = {0};
    const struct coremu_irq_line line = {probe_set, &probe};
    struct uart16550 *u = uart16550_new("ttyS0", NULL, &line);
    UNIT_REQUIRE(u != NULL, "pty: uart16550_new", "NULL");
    uart16550_attach(u, chr);
    out8(u, FCR, 0x81);
    set_divisor(u, 1, LCR_8N1);
    out8(u, MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
    out8(u, IER, IER_RDI | IER_RLSI);

    const char *msg = "root\r";
    UNIT_REQUIRE(write(peer, msg, strlen(msg)) == (ssize_t)strlen(msg), "pty: write", "failed");
    char got[64] = {0};
    size_t n = 0;
    while (n < strlen(msg) && WAIT_FOR(atomic_load(&probe.level) == 1)) {
        uint8_t iir = in8(u, IIR);
        if (iir & IIR_NO_INT) {
            unit_fail("pty: input interrupts", "line high but IIR 0x%x", iir);
            break;
        }
        while ((in8(u, LSR) & LSR_DR) && n < sizeof(got) - 1) {
            got[n++] = (char)in8(u, RBR);
        }
    }
    UNIT_CHECK(strcmp(got, msg) == 0, "pty: input arrives with interrupts", "'%s'", got);
    UNIT_CHECK(atomic_load(&probe.level) == 0 && in8(u, IIR) == 0xc1,
               "pty: the line drops once the FIFO is read", "level %d IIR 0x%x",
               atomic_load(&probe.level), in8(u, IIR));

    /* Loopback disconnects the input; leaving it lets the held bytes in. */
    out8(u, MCR, MCR_LOOP);
    UNIT_REQUIRE(write(peer, "held", 4) == 4, "pty: write", "failed");
    sleep_ms(100);
    UNIT_CHECK(!(in8(u, LSR) & LSR_DR), "pty: no input while in loopback", "LSR 0x%x", in8(u, LSR));
    /* Waiting on the line, not on LSR: leaving loopback itself must let the input in. */
    out8(u, MCR, MCR_OUT2);
    bool arrived = WAIT_FOR(atomic_load(&probe.level) == 1);
    UNIT_CHECK(arrived, "pty: leaving loopback takes the held input (and interrupts)",
               "no interrupt");
    memset(got, 0, sizeof(got));
    n = 0;
    while (arrived && n < 4 && WAIT_FOR((in8(u, LSR) & LSR_DR) != 0)) {
        got[n++] = (char)in8(u, RBR);
    }
    UNIT_CHECK(strcmp(got, "held") == 0, "pty: held input arrives after loopback", "'%s'", got);

    /* 16450 mode: one character at a time, the rest held until RBR is read (the read calls the
     * back end without the device's lock). */
    out8(u, FCR, 0);
    UNIT_REQUIRE(write(peer, "0123456789", 10) == 10, "pty: write", "failed");
    memset(got, 0, sizeof(got));
    n = 0;
    bool overrun = false;
    while (n < 10 && WAIT_FOR((in8(u, LSR) & LSR_DR) != 0)) {
        sleep_ms(1);
        overrun = overrun || (in8(u, LSR) & LSR_OE);
        got[n++] = (char)in8(u, RBR);
    }
    UNIT_CHECK(strcmp(got, "0123456789") == 0 && !overrun,
               "pty: a full receiver holds input, no overrun", "'%s' overrun %d", got, overrun);

    coremu_chardev_close(chr);
    uart16550_free(u);
    close(peer);
    coremu_iothread_free(io);
}

/* A flood on the line (stdin from /dev/zero) at 9600 baud, read by a guest polling LSR as fast
 * as it can: input flows, no faster than the line carries it, and never overruns the FIFO. */
static void test_flood(void)
{
    char err[256];
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io != NULL && coremu_iothread_start(io) == 0, "flood: I/O thread", "failed");
    struct coremu_chardev *chr = coremu_chardev_open(io, "pty", err, sizeof(err));
    UNIT_REQUIRE(chr != NULL, "flood: open a pty", "%s", err);
    int peer = open(coremu_chardev_pty_path(chr), O_RDWR | O_NOCTTY | O_NONBLOCK);
    UNIT_REQUIRE(peer >= 0, "flood: open the pty's slave", "%s", strerror(errno));

    struct uart16550 *u = uart16550_new("ttyS0", chr, NULL);
    UNIT_REQUIRE(u != NULL, "flood: uart16550_new", "NULL");
    set_divisor(u, 12, LCR_8N1); /* 9600 baud */
    out8(u, FCR, 0xc1);
    /* More than half a second of the line's worth, all at once, as fast as the pty takes it. */
    static const uint8_t zeros[2048];
    UNIT_REQUIRE(write(peer, zeros, sizeof(zeros)) >= 1024, "flood: write to the pty",
                 "short write");

    unsigned long got = 0;
    bool overrun = false;
    int64_t t0 = coremu_clock_ns(), dt;
    while ((dt = coremu_clock_ns() - t0) < COREMU_NS_PER_SEC / 2) {
        uint8_t lsr = in8(u, LSR);
        overrun = overrun || (lsr & LSR_OE);
        if (lsr & LSR_DR) {
            in8(u, RBR);
            got++;
        }
    }

    double seconds = (double)dt / COREMU_NS_PER_SEC;
    printf("# flood: %lu characters in %.2f s\n", got, seconds);
    /* 9600 baud, 10 bits a character, plus the first burst and timer slack. */
    double most = seconds * 960 * 1.2 + 32;
    UNIT_CHECK(got >= 16, "flood: input flows", "%lu characters in %.2f s", got, seconds);
    UNIT_CHECK(got <= most, "flood: no faster than 9600 baud",
               "%lu characters in %.2f s (at most %.0f)", got, seconds, most);
    UNIT_CHECK(!overrun, "flood: never more than the FIFO holds (no overrun)", "LSR.OE seen");

    coremu_chardev_close(chr);
    uart16550_free(u);
    close(peer);
    coremu_iothread_free(io);
}

int main(void)
{
    test_reset_values();
    test_linux_probe();
    test_divisor_latch();
    test_early_console();
    test_fifo_and_triggers();
    test_overrun();
    test_iir_priority();
    test_thre();
    test_out2_gating();
    test_loopback_modem();
    test_line_rate();
    test_address_space();
    test_device_reset();
    test_pty_input();
    test_flood();
    return unit_done();
}
