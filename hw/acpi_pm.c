/*
 * coremu — the ACPI fixed hardware (acpi_pm.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/clock.h>

#include "acpi_pm.h"

/* PM1 status bits that raise the SCI when their enable bit is set. */
#define PM1_SCI_BITS \
    (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define PM1_CNT_RW        (ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)
#define TIMER_CARRY_SHIFT 23

struct acpi_pm {
    pthread_mutex_t lock;
    struct acpi_pm_board board;
    /* Under lock: */
    uint16_t pm1_sts; /* without TMR_STS, which timer_period_acked gives */
    uint16_t pm1_en;
    uint16_t pm1_cnt;
    uint16_t gpe0_sts;
    uint16_t gpe0_en;
    uint8_t reset_cnt;
    /* TMR_STS: set while the counter's bit 23 has toggled since the guest last cleared it. */
    uint64_t timer_period_acked;
    bool sci_level;
};

/* Ticks of the 3.579545 MHz clock since virtual time 0. */
static uint64_t timer_ticks(int64_t ns)
{
    if (ns < 0) {
        ns = 0;
    }
    return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / COREMU_NS_PER_SEC);
}

uint32_t acpi_pm_timer_at(int64_t ns)
{
    return (uint32_t)(timer_ticks(ns) & 0xffffff);
}

static uint16_t pm1_status(const struct acpi_pm *pm, uint64_t ticks)
{
    uint16_t sts = pm->pm1_sts;
    if ((ticks >> TIMER_CARRY_SHIFT) != pm->timer_period_acked) {
        sts |= ACPI_PM1_TMR;
    }
    return sts;
}

static void update_sci(struct acpi_pm *pm, uint64_t ticks)
{
    bool level =
        (pm->pm1_cnt & ACPI_PM1_SCI_EN) &&
        ((pm1_status(pm, ticks) & pm->pm1_en & PM1_SCI_BITS) || (pm->gpe0_sts & pm->gpe0_en));
    if (level != pm->sci_level) {
        pm->sci_level = level;
        coremu_irq_set(&pm->board.sci, level);
    }
}

static void reset_locked(struct acpi_pm *pm)
{
    pm->pm1_sts = 0;
    pm->pm1_en = 0;
    pm->pm1_cnt = ACPI_PM1_SCI_EN;
    pm->gpe0_sts = 0;
    pm->gpe0_en = 0;
    pm->reset_cnt = 0;
    pm->timer_period_acked = timer_ticks(coremu_clock_ns()) >> TIMER_CARRY_SHIFT;
    update_sci(pm, timer_ticks(coremu_clock_ns()));
}

struct acpi_pm *acpi_pm_new(const struct acpi_pm_board *board)
{
    struct acpi_pm *pm = calloc(1, sizeof(*pm));
    if (pm == NULL) {
        return NULL;
    }
    pthread_mutex_init(&pm->lock, NULL);
    if (board != NULL) {
        pm->board = *board;
    }
    pthread_mutex_lock(&pm->lock);
    reset_locked(pm);
    pthread_mutex_unlock(&pm->lock);
    return pm;
}

void acpi_pm_free(struct acpi_pm *pm)
{
    if (pm != NULL) {
        pthread_mutex_destroy(&pm->lock);
        free(pm);
    }
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    pthread_mutex_lock(&pm->lock);
    reset_locked(pm);
    pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
    pthread_mutex_lock(&pm->lock);
    pm->pm1_sts |= ACPI_PM1_PWRBTN;
    update_sci(pm, timer_ticks(coremu_clock_ns()));
    pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_raise_gpe(struct acpi_pm *pm, unsigned bit)
{
    if (bit >= 16) {
        return;
    }
    pthread_mutex_lock(&pm->lock);
    pm->gpe0_sts |= (uint16_t)(1u << bit);
    update_sci(pm, timer_ticks(coremu_clock_ns()));
    pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_poll(struct acpi_pm *pm)
{
    pthread_mutex_lock(&pm->lock);
    update_sci(pm, timer_ticks(coremu_clock_ns()));
    pthread_mutex_unlock(&pm->lock);
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned off, uint64_t ticks)
{
    uint32_t word;
    switch (off & ~1u) {
    case ACPI_PM_EVT_OFFSET:
        word = pm1_status(pm, ticks);
        break;
    case ACPI_PM_EVT_OFFSET + 2:
        word = pm->pm1_en;
        break;
    case ACPI_PM_CNT_OFFSET:
        word = pm->pm1_cnt; /* GBL_RLS and SLP_EN are write-only and never stored */
        break;
    case ACPI_PM_TMR_OFFSET:
    case ACPI_PM_TMR_OFFSET + 2: {
        uint32_t tmr = (uint32_t)(ticks & 0xffffff);
        return (uint8_t)(tmr >> (8 * (off - ACPI_PM_TMR_OFFSET)));
    }
    case ACPI_PM_GPE0_OFFSET:
        word = pm->gpe0_sts;
        break;
    case ACPI_PM_GPE0_OFFSET + 2:
        word = pm->gpe0_en;
        break;
    default:
        return 0;
    }
    return (uint8_t)(word >> (8 * (off & 1)));
}

struct pm_actions {
    bool power_off;
};

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t v, uint64_t ticks,
                       struct pm_actions *act)
{
    unsigned shift = 8 * (off & 1);
    uint16_t bits = (uint16_t)(v << shift);
    uint16_t mask = (uint16_t)(0xffu << shift);
    switch (off & ~1u) {
    case ACPI_PM_EVT_OFFSET:
        if (bits & ACPI_PM1_TMR) {
            pm->timer_period_acked = ticks >> TIMER_CARRY_SHIFT;
        }
        pm->pm1_sts &= (uint16_t) ~(bits & ~ACPI_PM1_TMR);
        break;
    case ACPI_PM_EVT_OFFSET + 2:
        pm->pm1_en = (uint16_t)((pm->pm1_en & ~mask) | (bits & PM1_SCI_BITS));
        break;
    case ACPI_PM_CNT_OFFSET: {
        pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & ~(mask & PM1_CNT_RW)) | (bits & PM1_CNT_RW));
        if (bits & ACPI_PM1_GBL_RLS) {
            pm->pm1_sts |= ACPI_PM1_GBL;
        }
        unsigned slp_typ = (pm->pm1_cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
        if ((bits & ACPI_PM1_SLP_EN) && slp_typ == ACPI_PM_S5_SLP_TYP) {
            act->power_off = true;
        }
        break;
    }
    case ACPI_PM_GPE0_OFFSET:
        pm->gpe0_sts &= (uint16_t)~bits;
        break;
    case ACPI_PM_GPE0_OFFSET + 2:
        pm->gpe0_en = (uint16_t)((pm->gpe0_en & ~mask) | bits);
        break;
    default:
        break; /* PM_TMR and the reserved word ignore writes */
    }
}

static int pm_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct acpi_pm *pm = opaque;
    pthread_mutex_lock(&pm->lock);
    uint64_t ticks = timer_ticks(coremu_clock_ns());
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned off = (unsigned)offset + i;
        if (off < ACPI_PM_BLOCK_SIZE) {
            v |= (uint64_t)read_byte(pm, off, ticks) << (8 * i);
        }
    }
    update_sci(pm, ticks);
    pthread_mutex_unlock(&pm->lock);
    *value = v;
    return COREMU_MEM_OK;
}

static int pm_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct acpi_pm *pm = opaque;
    struct pm_actions act = {0};
    pthread_mutex_lock(&pm->lock);
    uint64_t ticks = timer_ticks(coremu_clock_ns());
    for (unsigned i = 0; i < size; i++) {
        unsigned off = (unsigned)offset + i;
        if (off < ACPI_PM_BLOCK_SIZE) {
            write_byte(pm, off, (uint8_t)(value >> (8 * i)), ticks, &act);
        }
    }
    update_sci(pm, ticks);
    pthread_mutex_unlock(&pm->lock);
    if (act.power_off && pm->board.power_off != NULL) {
        pm->board.power_off(pm->board.opaque);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops acpi_pm_ops = {
    .read = pm_read,
    .write = pm_write,
    .sizes = 1 | 2 | 4,
    .allow_unaligned = true,
};

static int reset_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct acpi_pm *pm = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&pm->lock);
    *value = pm->reset_cnt;
    pthread_mutex_unlock(&pm->lock);
    return COREMU_MEM_OK;
}

static int reset_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct acpi_pm *pm = opaque;
    (void)offset;
    (void)size;
    /* RST_CPU (bit 2) starts the reset; SYS_RST (1) and FULL_RST (3) only choose its kind,
     * which the board does not distinguish. */
    bool reset = (value & 0x04) != 0;
    pthread_mutex_lock(&pm->lock);
    pm->reset_cnt = (uint8_t)(value & 0x0a);
    pthread_mutex_unlock(&pm->lock);
    if (reset && pm->board.reset != NULL) {
        pm->board.reset(pm->board.opaque);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops acpi_pm_reset_ops = {
    .read = reset_read,
    .write = reset_write,
    .sizes = 1,
};

int acpi_pm_map(struct acpi_pm *pm, struct coremu_as *io, uint16_t base, uint16_t reset_port)
{
    int rc = coremu_as_add_mmio(io, "acpi-pm", base, ACPI_PM_BLOCK_SIZE, &acpi_pm_ops, pm,
                                COREMU_MMIO_LOCKLESS);
    if (rc != 0 || reset_port == 0) {
        return rc;
    }
    rc = coremu_as_add_mmio(io, "acpi-reset", reset_port, 1, &acpi_pm_reset_ops, pm,
                            COREMU_MMIO_LOCKLESS);
    if (rc != 0) {
        coremu_as_remove(io, base);
    }
    return rc;
}
