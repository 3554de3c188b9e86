/*
 * The ACPI fixed hardware (hw/acpi_pm.c) through a port-I/O address space as a core reaches it:
 * the PM timer's rate and value against the virtual clock, PM1 status/enable with
 * write-1-to-clear and the SCI, SLP_TYP/SLP_EN soft-off, GPE0, the reset register and TMR_STS.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <coremu/clock.h>
#include <coremu/physmem.h>

#include "acpi_pm.h"
#include "unit.h"

#define BASE    ACPI_PM_DEFAULT_BASE
#define EVT     (BASE + ACPI_PM_EVT_OFFSET)
#define EN      (BASE + ACPI_PM_EVT_OFFSET + 2)
#define CNT     (BASE + ACPI_PM_CNT_OFFSET)
#define TMR     (BASE + ACPI_PM_TMR_OFFSET)
#define GPE_STS (BASE + ACPI_PM_GPE0_OFFSET)
#define GPE_EN  (BASE + ACPI_PM_GPE0_OFFSET + 2)

static atomic_int power_offs, resets, sci_level, sci_changes;

static void on_power_off(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&power_offs, 1);
}

static void on_reset(void *opaque)
{
    (void)opaque;
    atomic_fetch_add(&resets, 1);
}

static void on_sci(void *opaque, bool level)
{
    (void)opaque;
    atomic_store(&sci_level, level);
    atomic_fetch_add(&sci_changes, 1);
}

static struct coremu_as *io;

static uint64_t in(uint64_t port, unsigned size)
{
    uint64_t v = 0xdead;
    int rc = coremu_as_read(io, port, size, &v);
    if (rc != COREMU_MEM_OK) {
        unit_fail("port read", "port 0x%llx size %u: %d", (unsigned long long)port, size, rc);
    }
    return v;
}

static void out(uint64_t port, unsigned size, uint64_t v)
{
    int rc = coremu_as_write(io, port, size, v);
    if (rc != COREMU_MEM_OK) {
        unit_fail("port write", "port 0x%llx size %u: %d", (unsigned long long)port, size, rc);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint32_t expected_ticks(int64_t ns)
{
    /* 3.579545 MHz: ns * 3579545 / 10^9, in 128-bit arithmetic. */
    return (uint32_t)((unsigned __int128)ns * 3579545u / 1000000000u) & 0xffffff;
}

static void test_timer(void)
{
    coremu_clock_pause();
    int64_t t = coremu_clock_ns();
    uint32_t v = (uint32_t)in(TMR, 4);
    sleep_ms(20);
    uint32_t v2 = (uint32_t)in(TMR, 4);
    uint32_t bytes =
        (uint32_t)(in(TMR, 1) | in(TMR + 1, 1) << 8 | in(TMR + 2, 1) << 16 | in(TMR + 3, 1) << 24);
    coremu_clock_resume();
    UNIT_CHECK(v == expected_ticks(t) && v2 == v && bytes == v,
               "PM timer = virtual ns * 3.579545 MHz, 24 bits, stopped while paused",
               "read 0x%x then 0x%x, bytes 0x%x, want 0x%x", v, v2, bytes, expected_ticks(t));
    UNIT_CHECK(acpi_pm_timer_at(5000000000ll) == (17897725u & 0xffffff),
               "PM timer after 5 s of virtual time", "0x%x", acpi_pm_timer_at(5000000000ll));

    /* The rate against the running clock: each read is bracketed by clock reads. */
    int64_t a0 = coremu_clock_ns();
    uint32_t x0 = (uint32_t)in(TMR, 4);
    int64_t b0 = coremu_clock_ns();
    sleep_ms(200);
    int64_t a1 = coremu_clock_ns();
    uint32_t x1 = (uint32_t)in(TMR, 4);
    int64_t b1 = coremu_clock_ns();
    uint32_t ticks = (x1 - x0) & 0xffffff;
    double lo = (double)(a1 - b0) * 3579545e-9 - 1, hi = (double)(b1 - a0) * 3579545e-9 + 1;
    UNIT_CHECK(ticks >= lo && ticks <= hi && ticks > 600000, "PM timer runs at 3.579545 MHz",
               "%u ticks over [%.0f, %.0f] expected", ticks, lo, hi);
    UNIT_CHECK((in(TMR, 4) >> 24) == 0, "PM timer's upper byte reads 0", "nonzero");
}

static void test_pm1(struct acpi_pm *pm)
{
    UNIT_CHECK(in(CNT, 2) == ACPI_PM1_SCI_EN, "PM1_CNT at reset: SCI_EN (always ACPI mode)",
               "0x%llx", (unsigned long long)in(CNT, 2));
    atomic_store(&sci_changes, 0);
    acpi_pm_press_power_button(pm);
    UNIT_CHECK((in(EVT, 2) & ACPI_PM1_PWRBTN) && !atomic_load(&sci_level),
               "power button sets PWRBTN_STS, no SCI while disabled", "sts 0x%llx sci %d",
               (unsigned long long)in(EVT, 2), atomic_load(&sci_level));
    out(EN, 2, ACPI_PM1_PWRBTN);
    UNIT_CHECK(atomic_load(&sci_level) && in(EN, 2) == ACPI_PM1_PWRBTN, "PWRBTN_EN raises the SCI",
               "sci %d", atomic_load(&sci_level));
    out(CNT, 2, 0);
    UNIT_CHECK(!atomic_load(&sci_level), "SCI_EN clear masks the SCI", "still high");
    out(CNT, 2, ACPI_PM1_SCI_EN);
    UNIT_CHECK(atomic_load(&sci_level), "SCI_EN set again raises it", "low");
    out(EVT, 2, 0);
    UNIT_CHECK(in(EVT, 2) & ACPI_PM1_PWRBTN, "writing 0 to PM1_STS clears nothing", "cleared");
    out(EVT + 1, 1, ACPI_PM1_PWRBTN >> 8);
    UNIT_CHECK(!(in(EVT, 2) & ACPI_PM1_PWRBTN) && !atomic_load(&sci_level),
               "PWRBTN_STS is write-1-to-clear (byte access), SCI drops", "sts 0x%llx sci %d",
               (unsigned long long)in(EVT, 2), atomic_load(&sci_level));
    out(EN, 2, 0);

    out(CNT, 2, ACPI_PM1_SCI_EN | ACPI_PM1_GBL_RLS);
    UNIT_CHECK((in(EVT, 2) & ACPI_PM1_GBL) && !(in(CNT, 2) & ACPI_PM1_GBL_RLS),
               "GBL_RLS sets GBL_STS and reads 0", "wrong");
    out(EVT, 2, ACPI_PM1_GBL);

    /* Sleep states: only S5 with SLP_EN powers off. */
    atomic_store(&power_offs, 0);
    out(CNT, 2, ACPI_PM1_SCI_EN | ACPI_PM_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT);
    UNIT_CHECK(atomic_load(&power_offs) == 0 &&
                   in(CNT, 2) == (ACPI_PM1_SCI_EN | ACPI_PM_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT),
               "SLP_TYP without SLP_EN: stored, no power-off", "power_offs %d cnt 0x%llx",
               atomic_load(&power_offs), (unsigned long long)in(CNT, 2));
    out(CNT, 2, ACPI_PM1_SCI_EN | 1u << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    UNIT_CHECK(atomic_load(&power_offs) == 0, "SLP_EN with another SLP_TYP does not power off",
               "powered off");
    out(CNT, 2, ACPI_PM1_SCI_EN | ACPI_PM_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
    UNIT_CHECK(atomic_load(&power_offs) == 1 && !(in(CNT, 2) & ACPI_PM1_SLP_EN),
               "SLP_EN with the S5 SLP_TYP calls the power-off callback; SLP_EN reads 0",
               "power_offs %d", atomic_load(&power_offs));
    /* As ACPICA writes it: SLP_TYP first, then SLP_EN in a second write of the high byte. */
    out(CNT + 1, 1, (ACPI_PM_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT) >> 8);
    out(CNT + 1, 1, (ACPI_PM_S5_SLP_TYP << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN) >> 8);
    UNIT_CHECK(atomic_load(&power_offs) == 2, "S5 through byte writes of PM1_CNT's high byte",
               "power_offs %d", atomic_load(&power_offs));
}

static void test_gpe(struct acpi_pm *pm)
{
    acpi_pm_raise_gpe(pm, 3);
    UNIT_CHECK(in(GPE_STS, 1) == 0x08 && !atomic_load(&sci_level), "GPE0 status bit set, masked",
               "sts 0x%llx", (unsigned long long)in(GPE_STS, 1));
    out(GPE_EN, 1, 0x08);
    UNIT_CHECK(atomic_load(&sci_level) && in(GPE_EN, 1) == 0x08, "GPE0 enable raises the SCI",
               "low");
    out(GPE_STS, 1, 0x08);
    UNIT_CHECK(in(GPE_STS, 1) == 0 && !atomic_load(&sci_level), "GPE0 status is write-1-to-clear",
               "sts 0x%llx", (unsigned long long)in(GPE_STS, 1));
    acpi_pm_raise_gpe(pm, 12);
    out(GPE_EN + 1, 1, 0x10);
    UNIT_CHECK(in(GPE_STS, 4) == (0x1000u | 0x1008u << 16) && atomic_load(&sci_level),
               "GPE0 high bits, dword read of status and enable", "0x%llx",
               (unsigned long long)in(GPE_STS, 4));
    out(GPE_STS, 2, 0x1000);
    out(GPE_EN, 2, 0);
}

static void test_reset_reg(struct acpi_pm *pm)
{
    atomic_store(&resets, 0);
    out(ACPI_PM_RESET_PORT, 1, 0x02);
    UNIT_CHECK(atomic_load(&resets) == 0 && in(ACPI_PM_RESET_PORT, 1) == 0x02,
               "reset register: SYS_RST alone stores, no reset", "resets %d", atomic_load(&resets));
    out(ACPI_PM_RESET_PORT, 1, 0x06);
    UNIT_CHECK(atomic_load(&resets) == 1, "reset register 0x06 resets", "resets %d",
               atomic_load(&resets));
    out(ACPI_PM_RESET_PORT, 1, 0x0e);
    UNIT_CHECK(atomic_load(&resets) == 2, "reset register 0x0E resets", "resets %d",
               atomic_load(&resets));
    uint64_t v;
    UNIT_CHECK(coremu_as_read(io, ACPI_PM_RESET_PORT, 2, &v) != COREMU_MEM_OK,
               "reset register is byte-wide", "word access accepted");

    out(CNT, 2, 0);
    out(EN, 2, ACPI_PM1_PWRBTN);
    acpi_pm_reset(pm);
    UNIT_CHECK(in(CNT, 2) == ACPI_PM1_SCI_EN && in(EN, 2) == 0 && in(ACPI_PM_RESET_PORT, 1) == 0,
               "acpi_pm_reset restores power-on values", "cnt 0x%llx",
               (unsigned long long)in(CNT, 2));
}

static void test_tmr_sts(struct acpi_pm *pm)
{
    (void)pm;
    UNIT_CHECK(!(in(EVT, 2) & ACPI_PM1_TMR), "TMR_STS clear after reset", "set");
    out(EN, 2, ACPI_PM1_TMR);
    /* Bit 23 toggles every 2^23 ticks, 2.34 s. */
    sleep_ms(2400);
    UNIT_CHECK((in(EVT, 2) & ACPI_PM1_TMR) && atomic_load(&sci_level),
               "TMR_STS set after bit 23 of the timer toggled, SCI with TMR_EN", "sts 0x%llx",
               (unsigned long long)in(EVT, 2));
    out(EVT, 2, ACPI_PM1_TMR);
    UNIT_CHECK(!(in(EVT, 2) & ACPI_PM1_TMR) && !atomic_load(&sci_level), "TMR_STS write-1-to-clear",
               "still set");
    out(EN, 2, 0);
}

int main(void)
{
    io = coremu_as_new();
    UNIT_REQUIRE(io != NULL, "setup", "no address space");
    struct acpi_pm_board board = {
        .power_off = on_power_off,
        .reset = on_reset,
        .sci = {.set = on_sci},
    };
    struct acpi_pm *pm = acpi_pm_new(&board);
    UNIT_REQUIRE(pm != NULL, "setup", "acpi_pm_new failed");
    UNIT_REQUIRE(acpi_pm_map(pm, io, BASE, ACPI_PM_RESET_PORT) == 0, "setup", "map failed");
    UNIT_CHECK(acpi_pm_map(pm, io, BASE, 0) != 0, "mapping twice is refused", "accepted");
    test_timer();
    test_pm1(pm);
    test_gpe(pm);
    test_reset_reg(pm);
    test_tmr_sts(pm);
    coremu_as_free(io);
    acpi_pm_free(pm);
    return unit_done();
}
