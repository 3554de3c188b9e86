/*
 * The 8042 keyboard controller (hw/i8042.c), driven through ports 0x60/0x64 the way Linux's
 * drivers/input/serio/i8042.c probes it (flush, self-test, stable CTR read, CTR write, AUX
 * loopback and its IRQ12 test, AUX disable/enable bit check, keyboard port test) and atkbd then
 * talks to the keyboard (reset, identify, set LEDs, enable scanning); and the reset and A20
 * commands.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <coremu/physmem.h>

#include "i8042.h"
#include "unit.h"

static atomic_int resets, irq1_level, irq12_level, irq1_edges, irq12_edges;
static struct coremu_as *io;

static void on_reset(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&resets, 1);
}

static void on_irq(void *opaque, bool level)
{
    bool aux = opaque != NULL;
    atomic_int *lv = aux ? &irq12_level : &irq1_level;
    if (level && !atomic_load(lv)) {
        atomic_fetch_add(aux ? &irq12_edges : &irq1_edges, 1);
    }
    atomic_store(lv, level);
}

static uint8_t in(uint16_t port)
{
    uint64_t v = 0;
    if (coremu_as_read(io, port, 1, &v) != COREMU_MEM_OK) {
        unit_fail("inb", "port 0x%x refused", port);
    }
    return (uint8_t)v;
}

static void out(uint16_t port, uint8_t v)
{
    if (coremu_as_write(io, port, 1, v) != COREMU_MEM_OK) {
        unit_fail("outb", "port 0x%x refused", port);
    }
}

/* i8042_wait_write then the command, parameters, results, as __i8042_command does; -1 on a
 * timeout (no OBF) or an AUX loop answer without AUXDATA. */
static int kbc_command(uint8_t cmd, const uint8_t *params, unsigned nparams, uint8_t *results,
                       unsigned nresults)
{
    if (in(0x64) & I8042_STR_IBF) {
        return -1;
    }
    out(0x64, cmd);
    for (unsigned i = 0; i < nparams; i++) {
        if (in(0x64) & I8042_STR_IBF) {
            return -1;
        }
        out(0x60, params[i]);
    }
    for (unsigned i = 0; i < nresults; i++) {
        uint8_t st = in(0x64);
        if (!(st & I8042_STR_OBF)) {
            return -1;
        }
        if (cmd == 0xd3 && !(st & I8042_STR_AUXDATA)) {
            return -1;
        }
        results[i] = in(0x60);
    }
    return 0;
}

static unsigned flush(void)
{
    unsigned n = 0;
    while ((in(0x64) & I8042_STR_OBF) && n < 64) {
        in(0x60);
        n++;
    }
    return n;
}

/* A byte to the keyboard and its answers. */
static int kbd_command(uint8_t byte, uint8_t *answers, unsigned n)
{
    out(0x60, byte);
    for (unsigned i = 0; i < n; i++) {
        if (!(in(0x64) & I8042_STR_OBF) || (in(0x64) & I8042_STR_AUXDATA)) {
            return -1;
        }
        answers[i] = in(0x60);
    }
    return (in(0x64) & I8042_STR_OBF) ? -2 : 0;
}

static void test_linux_probe(void)
{
    uint8_t st = in(0x64);
    UNIT_CHECK(st != 0xff && (st & I8042_STR_KEYLOCK) && !(st & I8042_STR_IBF),
               "status: a controller, keylock off, input buffer empty", "status 0x%x", st);
    UNIT_CHECK(flush() == 0, "flush: nothing pending after reset", "bytes pending");

    uint8_t r[4] = {0};
    UNIT_CHECK(kbc_command(0xaa, NULL, 0, r, 1) == 0 && r[0] == 0x55, "self-test 0xAA -> 0x55",
               "got 0x%x", r[0]);

    uint8_t ctr[2];
    bool ok = kbc_command(0x20, NULL, 0, &ctr[0], 1) == 0 &&
              kbc_command(0x20, NULL, 0, &ctr[1], 1) == 0 && ctr[0] == ctr[1];
    UNIT_CHECK(ok && ctr[0] == (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE),
               "stable CTR read 0x45 (as a BIOS leaves it)", "0x%x 0x%x", ctr[0], ctr[1]);
    UNIT_CHECK(in(0x64) & I8042_STR_SYS, "status SYS flag from the CTR", "clear");
    uint8_t newctr = (uint8_t)((ctr[0] | I8042_CTR_KBDDIS) & ~I8042_CTR_KBDINT);
    kbc_command(0x60, &newctr, 1, NULL, 0);
    UNIT_CHECK(kbc_command(0x20, NULL, 0, r, 1) == 0 && r[0] == newctr && flush() == 0,
               "CTR write 0x60 reads back", "0x%x", r[0]);
    UNIT_CHECK(in(0x64) & I8042_STR_CMD, "status A2: last write was a command", "clear");

    /* i8042_check_aux: loopback, then the AUX disable/enable bit test. */
    uint8_t param = 0x5a;
    int rc = kbc_command(0xd3, &param, 1, &param, 1);
    UNIT_CHECK(rc == 0 && param == 0x5a, "AUX loopback 0xD3 0x5a -> 0x5a with AUXDATA",
               "rc %d param 0x%x", rc, param);
    kbc_command(0xa7, NULL, 0, NULL, 0);
    kbc_command(0x20, NULL, 0, r, 1);
    bool dis = r[0] & I8042_CTR_AUXDIS;
    kbc_command(0xa8, NULL, 0, NULL, 0);
    kbc_command(0x20, NULL, 0, r, 1);
    UNIT_CHECK(dis && !(r[0] & I8042_CTR_AUXDIS), "AUX disable 0xA7 / enable 0xA8 toggle CTR bit 5",
               "bits wrong");
    UNIT_CHECK(kbc_command(0xa9, NULL, 0, r, 1) == 0 && r[0] == 0x00, "AUX test 0xA9 -> 0x00",
               "0x%x", r[0]);

    /* The AUX IRQ test: AUXINT on, a looped-back byte must raise IRQ12 (and not IRQ1). */
    uint8_t irqctr = (uint8_t)((newctr & ~I8042_CTR_AUXDIS) | I8042_CTR_AUXINT);
    kbc_command(0x60, &irqctr, 1, NULL, 0);
    atomic_store(&irq12_edges, 0);
    atomic_store(&irq1_edges, 0);
    param = 0xa5;
    out(0x64, 0xd3);
    out(0x60, param);
    UNIT_CHECK(atomic_load(&irq12_edges) == 1 && atomic_load(&irq1_edges) == 0 &&
                   atomic_load(&irq12_level),
               "AUX loopback raises IRQ12", "irq12 edges %d irq1 edges %d",
               atomic_load(&irq12_edges), atomic_load(&irq1_edges));
    UNIT_CHECK(in(0x60) == 0xa5 && !atomic_load(&irq12_level), "reading the byte drops IRQ12",
               "still high");
    kbc_command(0x60, &newctr, 1, NULL, 0);

    UNIT_CHECK(kbc_command(0xab, NULL, 0, r, 1) == 0 && r[0] == 0x00,
               "keyboard interface test 0xAB -> 0x00", "0x%x", r[0]);

    /* Keyboard port on, interrupts on; atkbd's conversation. */
    uint8_t kctr = (uint8_t)((newctr & ~I8042_CTR_KBDDIS) | I8042_CTR_KBDINT);
    kbc_command(0x60, &kctr, 1, NULL, 0);
    kbc_command(0xae, NULL, 0, NULL, 0);
    atomic_store(&irq1_edges, 0);
    uint8_t a[3] = {0};
    rc = kbd_command(0xf2, a, 3);
    UNIT_CHECK(rc == 0 && a[0] == 0xfa && a[1] == 0xab && a[2] == 0x41 &&
                   atomic_load(&irq1_edges) == 3 && !atomic_load(&irq1_level),
               "keyboard identify 0xF2 -> FA AB 41 (translated), one IRQ1 edge per byte",
               "rc %d %02x %02x %02x edges %d", rc, a[0], a[1], a[2], atomic_load(&irq1_edges));
    rc = kbd_command(0xff, a, 2);
    UNIT_CHECK(rc == 0 && a[0] == 0xfa && a[1] == 0xaa, "keyboard reset 0xFF -> FA AA",
               "rc %d %02x %02x", rc, a[0], a[1]);
    rc = kbd_command(0xed, a, 1);
    int rc2 = kbd_command(0x00, a + 1, 1);
    UNIT_CHECK(rc == 0 && rc2 == 0 && a[0] == 0xfa && a[1] == 0xfa, "set LEDs 0xED xx -> FA, FA",
               "rc %d/%d", rc, rc2);
    rc = kbd_command(0xf0, a, 1);
    rc2 = kbd_command(0x00, a + 1, 2);
    UNIT_CHECK(rc == 0 && rc2 == 0 && a[1] == 0xfa && a[2] == 0x02,
               "get scan code set 0xF0 0 -> FA, FA 02", "rc %d/%d %02x", rc, rc2, a[2]);
    rc = kbd_command(0xf4, a, 1);
    UNIT_CHECK(rc == 0 && a[0] == 0xfa, "enable scanning 0xF4 -> FA", "rc %d", rc);
    rc = kbd_command(0xee, a, 1);
    UNIT_CHECK(rc == 0 && a[0] == 0xee, "echo 0xEE -> EE", "rc %d", rc);

    uint8_t untrans = (uint8_t)(kctr & ~I8042_CTR_XLATE);
    kbc_command(0x60, &untrans, 1, NULL, 0);
    rc = kbd_command(0xf2, a, 3);
    UNIT_CHECK(rc == 0 && a[2] == 0x83, "identify untranslated -> FA AB 83", "%02x", a[2]);

    /* With KBDINT clear, keyboard bytes raise nothing. */
    uint8_t noint = (uint8_t)(kctr & ~I8042_CTR_KBDINT);
    kbc_command(0x60, &noint, 1, NULL, 0);
    atomic_store(&irq1_edges, 0);
    kbd_command(0xf4, a, 1);
    UNIT_CHECK(atomic_load(&irq1_edges) == 0, "no IRQ1 while CTR.KBDINT is clear", "raised");
    kbc_command(0x60, &kctr, 1, NULL, 0);

    /* AUX device writes go nowhere: no mouse answers. */
    out(0x64, 0xd4);
    out(0x60, 0xf2);
    UNIT_CHECK(!(in(0x64) & I8042_STR_OBF), "0xD4 to the absent mouse: no answer", "answered");
}

static void test_reset_a20(struct i8042 *k)
{
    atomic_store(&resets, 0);
    uint8_t v;
    kbc_command(0xd0, NULL, 0, &v, 1);
    UNIT_CHECK((v & 0x03) == 0x03, "output port: A20 on, not in reset", "0x%x", v);
    uint8_t p = 0xdd;
    kbc_command(0xd1, &p, 1, NULL, 0);
    UNIT_CHECK(!i8042_a20(k) && atomic_load(&resets) == 0, "0xD1 0xDD: A20 off, no reset",
               "a20 %d resets %d", i8042_a20(k), atomic_load(&resets));
    p = 0xdf;
    kbc_command(0xd1, &p, 1, NULL, 0);
    UNIT_CHECK(i8042_a20(k) && atomic_load(&resets) == 0, "0xD1 0xDF: A20 on", "a20 %d",
               i8042_a20(k));
    kbc_command(0xdd, NULL, 0, NULL, 0);
    bool off = !i8042_a20(k);
    kbc_command(0xdf, NULL, 0, NULL, 0);
    UNIT_CHECK(off && i8042_a20(k), "0xDD/0xDF: A20 off and on", "wrong");
    p = 0xde;
    kbc_command(0xd1, &p, 1, NULL, 0);
    UNIT_CHECK(atomic_load(&resets) == 1, "0xD1 with bit 0 clear resets the system", "resets %d",
               atomic_load(&resets));
    out(0x64, 0xff);
    UNIT_CHECK(atomic_load(&resets) == 1, "0xFF pulses nothing", "reset");
    out(0x64, 0xfe);
    UNIT_CHECK(atomic_load(&resets) == 2, "pulse reset 0xFE calls the reset callback", "resets %d",
               atomic_load(&resets));

    out(0x64, 0x20);
    i8042_reset(k);
    UNIT_CHECK(!(in(0x64) & I8042_STR_OBF) && !atomic_load(&irq1_level) && i8042_a20(k),
               "i8042_reset empties the buffer", "status 0x%x", in(0x64));
}

int main(void)
{
    io = coremu_as_new();
    UNIT_REQUIRE(io != NULL, "setup", "no address space");
    static int aux_tag;
    struct i8042_board board = {
        .reset = on_reset,
        .irq1 = {.set = on_irq, .opaque = NULL},
        .irq12 = {.set = on_irq, .opaque = &aux_tag},
    };
    struct i8042 *k = i8042_new(&board);
    UNIT_REQUIRE(k != NULL && i8042_map(k, io) == 0, "setup", "i8042 not mapped");
    uint64_t v;
    UNIT_CHECK(coremu_as_read(io, 0x61, 1, &v) == COREMU_MEM_UNMAPPED,
               "ports 0x60 and 0x64 only (0x61 is the board's)", "0x61 claimed");
    test_linux_probe();
    test_reset_a20(k);
    coremu_as_free(io);
    i8042_free(k);
    return unit_done();
}
