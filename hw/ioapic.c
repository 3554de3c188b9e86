/*
 * coremu — Intel 82093AA I/O APIC. Written from the 82093AA data sheet; what is modelled and the
 * threading rules are in ioapic.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/log.h>

#include "ioapic.h"

/* The bits of a redirection entry's low half that the guest writes; the rest is read-only
 * (delivery status, remote IRR) or reserved. */
#define RTE_LOW_WRITABLE                                                      \
    (IOAPIC_RTE_VECTOR | IOAPIC_RTE_DELIVERY_MASK | IOAPIC_RTE_DEST_LOGICAL | \
     IOAPIC_RTE_ACTIVE_LOW | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED)
#define ID_SHIFT 24
#define ID_MASK  0x0f000000u

/* A device's line into one pin: what ioapic_irq_line hands out. */
struct ioapic_pin {
    struct ioapic *ioapic;
    unsigned pin;
};

/* One delivery collected under the lock and made after it. */
struct ioapic_msg {
    uint8_t dest;
    bool dest_logical;
    unsigned delivery_mode;
    uint8_t vector;
    bool level_triggered;
};

/* At most one delivery per pin per operation: an EOI re-delivers each pin once, a set_irq or a
 * register write delivers one pin once. */
struct ioapic_outbox {
    struct ioapic_msg msg[IOAPIC_NUM_PINS];
    unsigned count;
};

struct ioapic {
    const char *name;                        /* immutable */
    uint8_t reset_id;                        /* immutable */
    ioapic_deliver_fn deliver;               /* immutable */
    void *deliver_opaque;                    /* immutable */
    struct ioapic_pin pins[IOAPIC_NUM_PINS]; /* immutable */

    /* Everything below is under lock (see ioapic.h). */
    pthread_mutex_t lock;
    uint32_t id;     /* IOAPICID as read: ID in bits 27-24 */
    uint32_t arb;    /* IOAPICARB as read */
    uint32_t regsel; /* IOREGSEL: bits 7-0 */
    uint64_t rte[IOAPIC_NUM_PINS];
    uint32_t input; /* input levels as the devices drive them, bit per pin */
};

/* ---- helpers (all with ioapic->lock held) ---------------------------------------------------- */

static unsigned rte_delivery_mode(uint64_t rte)
{
    return (unsigned)((rte & IOAPIC_RTE_DELIVERY_MASK) >> IOAPIC_RTE_DELIVERY_SHIFT);
}

/* SMI, NMI and INIT are edge-triggered whatever the trigger mode bit says. */
static bool rte_level(uint64_t rte)
{
    unsigned mode = rte_delivery_mode(rte);
    if (mode == IOAPIC_DELIVERY_SMI || mode == IOAPIC_DELIVERY_NMI ||
        mode == IOAPIC_DELIVERY_INIT) {
        return false;
    }
    return (rte & IOAPIC_RTE_LEVEL) != 0;
}

/* The pin as the entry's polarity makes it: active or not. */
static bool pin_active(const struct ioapic *ioapic, unsigned pin)
{
    bool level = (ioapic->input >> pin) & 1u;
    return (ioapic->rte[pin] & IOAPIC_RTE_ACTIVE_LOW) ? !level : level;
}

static void post(struct ioapic *ioapic, struct ioapic_outbox *out, unsigned pin)
{
    uint64_t rte = ioapic->rte[pin];
    bool level = rte_level(rte);
    if (level) {
        ioapic->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
    }
    COREMU_LOG(COREMU_LOG_INT, "%s: pin %u delivers vector 0x%02x (mode %u, %s)", ioapic->name, pin,
               (unsigned)(rte & IOAPIC_RTE_VECTOR), rte_delivery_mode(rte),
               level ? "level" : "edge");
    out->msg[out->count++] = (struct ioapic_msg){
        .dest = (uint8_t)(rte >> IOAPIC_RTE_DEST_SHIFT),
        .dest_logical = (rte & IOAPIC_RTE_DEST_LOGICAL) != 0,
        .delivery_mode = rte_delivery_mode(rte),
        .vector = (uint8_t)(rte & IOAPIC_RTE_VECTOR),
        .level_triggered = level,
    };
}

/* A level-triggered pin delivers whenever it is active, unmasked and not awaiting its EOI. */
static void service_level(struct ioapic *ioapic, struct ioapic_outbox *out, unsigned pin)
{
    uint64_t rte = ioapic->rte[pin];
    if (rte_level(rte) && !(rte & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) &&
        pin_active(ioapic, pin)) {
        post(ioapic, out, pin);
    }
}

/* Makes the deliveries collected under the lock, which the caller has just released. */
static void flush(struct ioapic *ioapic, const struct ioapic_outbox *out)
{
    for (unsigned i = 0; i < out->count; i++) {
        const struct ioapic_msg *m = &out->msg[i];
        ioapic->deliver(ioapic->deliver_opaque, m->dest, m->dest_logical, m->delivery_mode,
                        m->vector, m->level_triggered);
    }
}

static uint32_t read_reg(struct ioapic *ioapic, unsigned reg)
{
    switch (reg) {
    case IOAPIC_REG_ID:
        return ioapic->id;
    case IOAPIC_REG_VER:
        return IOAPIC_VERSION_VALUE;
    case IOAPIC_REG_ARB:
        return ioapic->arb;
    default:
        break;
    }
    if (reg >= IOAPIC_REG_REDTBL && reg < IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        uint64_t rte = ioapic->rte[(reg - IOAPIC_REG_REDTBL) / 2];
        return (reg & 1u) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
    }
    COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of undefined register 0x%02x", ioapic->name, reg);
    return 0;
}

static void write_reg(struct ioapic *ioapic, struct ioapic_outbox *out, unsigned reg,
                      uint32_t value)
{
    switch (reg) {
    case IOAPIC_REG_ID:
        ioapic->id = value & ID_MASK;
        ioapic->arb = ioapic->id; /* the data sheet: ARB is loaded whenever ID is */
        return;
    case IOAPIC_REG_VER:
    case IOAPIC_REG_ARB:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%08x to read-only register 0x%02x",
                   ioapic->name, value, reg);
        return;
    default:
        break;
    }
    if (reg < IOAPIC_REG_REDTBL || reg >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NUM_PINS) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%08x to undefined register 0x%02x",
                   ioapic->name, value, reg);
        return;
    }
    unsigned pin = (reg - IOAPIC_REG_REDTBL) / 2;
    uint64_t rte = ioapic->rte[pin];
    if (reg & 1u) {
        rte = (rte & 0xffffffffull) | ((uint64_t)(value & 0xff000000u) << 32);
    } else {
        uint64_t kept = rte & ~(uint64_t)RTE_LOW_WRITABLE;
        rte = kept | (value & RTE_LOW_WRITABLE);
        unsigned mode = rte_delivery_mode(rte);
        if (mode == 3 || mode == 6) {
            COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: pin %u: reserved delivery mode %u",
                       ioapic->name, pin, mode);
        }
    }
    /* An entry that is (now) edge-triggered has nothing awaiting an EOI. */
    if (!rte_level(rte)) {
        rte &= ~(uint64_t)IOAPIC_RTE_REMOTE_IRR;
    }
    ioapic->rte[pin] = rte;
    /* Unmasking (or switching to level) an active level-triggered pin delivers it. */
    service_level(ioapic, out, pin);
}

/* ---- register access ------------------------------------------------------------------------- */

static int ioapic_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct ioapic *ioapic = opaque;
    (void)size; /* 4: the ops say so */
    uint32_t v = 0;

    pthread_mutex_lock(&ioapic->lock);
    if (offset == IOAPIC_IOREGSEL) {
        v = ioapic->regsel;
    } else if (offset == IOAPIC_IOWIN) {
        v = read_reg(ioapic, ioapic->regsel);
    }
    /* The EOI register is write-only; other offsets are not decoded. */
    pthread_mutex_unlock(&ioapic->lock);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: read 0x%02llx = 0x%08x", ioapic->name,
               (unsigned long long)offset, v);
    *value = v;
    return COREMU_MEM_OK;
}

static int ioapic_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct ioapic *ioapic = opaque;
    (void)size;
    struct ioapic_outbox out = {.count = 0};

    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write 0x%02llx = 0x%08x", ioapic->name,
               (unsigned long long)offset, (uint32_t)value);
    if (offset == IOAPIC_EOI) {
        ioapic_eoi(ioapic, (uint8_t)value);
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&ioapic->lock);
    if (offset == IOAPIC_IOREGSEL) {
        ioapic->regsel = (uint32_t)value & 0xffu;
    } else if (offset == IOAPIC_IOWIN) {
        write_reg(ioapic, &out, ioapic->regsel, (uint32_t)value);
    }
    pthread_mutex_unlock(&ioapic->lock);
    flush(ioapic, &out);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops ioapic_mmio_ops = {
    .read = ioapic_read,
    .write = ioapic_write,
    .sizes = 4u,
    .allow_unaligned = false,
};

/* ---- inputs ---------------------------------------------------------------------------------- */

void ioapic_set_irq(struct ioapic *ioapic, unsigned pin, bool level)
{
    if (pin >= IOAPIC_NUM_PINS) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: set_irq on pin %u of %u", ioapic->name, pin,
                   IOAPIC_NUM_PINS);
        return;
    }
    struct ioapic_outbox out = {.count = 0};

    pthread_mutex_lock(&ioapic->lock);
    bool was_active = pin_active(ioapic, pin);
    if (level) {
        ioapic->input |= 1u << pin;
    } else {
        ioapic->input &= ~(1u << pin);
    }
    bool active = pin_active(ioapic, pin);
    uint64_t rte = ioapic->rte[pin];
    if (rte_level(rte)) {
        service_level(ioapic, &out, pin);
    } else if (active && !was_active && !(rte & IOAPIC_RTE_MASKED)) {
        post(ioapic, &out, pin);
    }
    pthread_mutex_unlock(&ioapic->lock);
    flush(ioapic, &out);
}

void ioapic_eoi(struct ioapic *ioapic, uint8_t vector)
{
    struct ioapic_outbox out = {.count = 0};

    pthread_mutex_lock(&ioapic->lock);
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        uint64_t rte = ioapic->rte[pin];
        if ((rte & IOAPIC_RTE_VECTOR) == vector && rte_level(rte) &&
            (rte & IOAPIC_RTE_REMOTE_IRR)) {
            ioapic->rte[pin] = rte & ~(uint64_t)IOAPIC_RTE_REMOTE_IRR;
            service_level(ioapic, &out, pin);
        }
    }
    pthread_mutex_unlock(&ioapic->lock);
    flush(ioapic, &out);
}

static void ioapic_line_set(void *opaque, bool level)
{
    struct ioapic_pin *p = opaque;
    ioapic_set_irq(p->ioapic, p->pin, level);
}

struct coremu_irq_line ioapic_irq_line(struct ioapic *ioapic, unsigned pin)
{
    if (pin >= IOAPIC_NUM_PINS) {
        return (struct coremu_irq_line){NULL, NULL};
    }
    return (struct coremu_irq_line){ioapic_line_set, &ioapic->pins[pin]};
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void ioapic_reset_locked(struct ioapic *ioapic)
{
    ioapic->id = (uint32_t)(ioapic->reset_id & 0x0fu) << ID_SHIFT;
    ioapic->arb = ioapic->id;
    ioapic->regsel = 0;
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        ioapic->rte[pin] = IOAPIC_RTE_MASKED;
    }
}

struct ioapic *ioapic_new(const char *name, uint8_t id, ioapic_deliver_fn deliver, void *opaque)
{
    if (deliver == NULL) {
        return NULL;
    }
    struct ioapic *ioapic = calloc(1, sizeof(*ioapic));
    if (ioapic == NULL) {
        return NULL;
    }
    ioapic->name = name;
    ioapic->reset_id = id;
    ioapic->deliver = deliver;
    ioapic->deliver_opaque = opaque;
    for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
        ioapic->pins[pin] = (struct ioapic_pin){ioapic, pin};
    }
    if (pthread_mutex_init(&ioapic->lock, NULL) != 0) {
        free(ioapic);
        return NULL;
    }
    ioapic_reset_locked(ioapic);
    return ioapic;
}

void ioapic_reset(struct ioapic *ioapic)
{
    pthread_mutex_lock(&ioapic->lock);
    ioapic_reset_locked(ioapic);
    pthread_mutex_unlock(&ioapic->lock);
}

int ioapic_map(struct ioapic *ioapic, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, ioapic->name, base, IOAPIC_MMIO_SIZE, &ioapic_mmio_ops, ioapic,
                              COREMU_MMIO_LOCKLESS);
}

void ioapic_free(struct ioapic *ioapic)
{
    if (ioapic == NULL) {
        return;
    }
    pthread_mutex_destroy(&ioapic->lock);
    free(ioapic);
}
