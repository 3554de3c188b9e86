/*
 * coremu — the PC's 8259A pair with the PIIX ELCR. Written from the Intel 8259A and PIIX data
 * sheets; what is modelled and the threading rules are in i8259.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/log.h>

#include "i8259.h"

#define CASCADE_BIT (1u << I8259_CASCADE_IRQ)

/* Command words written to port A0=0: bit 4 marks ICW1, else bit 3 marks OCW3, else OCW2. */
#define ICW1_IC4    0x01u
#define ICW1_SNGL   0x02u
#define ICW1_LTIM   0x08u
#define ICW1_SELECT 0x10u
#define OCW3_SELECT 0x08u
#define OCW3_RIS    0x01u
#define OCW3_RR     0x02u
#define OCW3_POLL   0x04u
#define OCW3_SMM    0x20u
#define OCW3_ESMM   0x40u
#define ICW4_UPM    0x01u
#define ICW4_AEOI   0x02u
#define ICW4_SFNM   0x10u

/* OCW2 commands (bits 7-5: R, SL, EOI). */
enum {
    OCW2_ROTATE_AEOI_CLEAR = 0,
    OCW2_EOI = 1,
    OCW2_NOP = 2,
    OCW2_SPECIFIC_EOI = 3,
    OCW2_ROTATE_AEOI_SET = 4,
    OCW2_ROTATE_EOI = 5,
    OCW2_SET_PRIORITY = 6,
    OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* Where the chip is in its initialization sequence: the ICW that port A0=1 takes next. */
enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

/* The PIIX's ELCR bits that can be set: IRQ0, 1, 2, 8 and 13 are always edge-triggered. */
static const uint8_t elcr_writable[2] = {0xf8, 0xde};

struct pic_chip {
    bool master;
    uint8_t input; /* the IR pins' levels */
    uint8_t irr;   /* edges latched since the last acknowledge (see requests()) */
    uint8_t isr;
    uint8_t imr;
    uint8_t elcr; /* level-triggered inputs */
    uint8_t base; /* ICW2 bits 7-3 */
    uint8_t icw3;
    uint8_t icw4;
    uint8_t lowest; /* the level of lowest priority (7 after ICW1) */
    enum init_step init;
    bool need_icw4, single, ltim;
    bool rotate_on_aeoi;
    bool read_isr; /* OCW3: port A0=0 reads the ISR rather than the IRR */
    bool poll;     /* OCW3: the next read of port A0=0 is a poll */
    bool special_mask;
};

/* A device's line into one input: what i8259_irq_line hands out. */
struct pic_input {
    struct i8259 *pic;
    unsigned irq;
};

struct i8259 {
    const char *name;                        /* immutable */
    struct coremu_irq_line intr;             /* immutable after i8259_new */
    struct pic_input inputs[I8259_NUM_IRQS]; /* immutable */

    /* Everything below is under lock (see i8259.h). */
    pthread_mutex_t lock;
    struct pic_chip chip[2]; /* master, slave */
    bool intr_level;         /* last level given to intr */
};

/* ---- priority (all with the lock held) ------------------------------------------------------- */

/* The requests as the IRR shows them: a latched edge or a level-triggered input, in both cases
 * only while the input is still high (the data sheet's rule, see i8259.h). The master's cascade
 * input is level-sensed whatever the ELCR says. */
static uint8_t requests(const struct pic_chip *c)
{
    uint8_t level_sensed = c->elcr | (c->master ? CASCADE_BIT : 0);
    return (uint8_t)((c->irr | (c->input & level_sensed)) & c->input);
}

/* The level of highest priority in bits, in the rotated order, or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned level = (c->lowest + 1 + i) & 7u;
        if (bits & (1u << level)) {
            return (int)level;
        }
    }
    return -1;
}

/* 0 for the highest priority level, 7 for the lowest. */
static unsigned priority(const struct pic_chip *c, unsigned level)
{
    return (level - c->lowest - 1) & 7u;
}

/* The level this chip would present to the CPU now, or -1. */
static int chip_pending(const struct pic_chip *c)
{
    uint8_t req = requests(c) & (uint8_t)~c->imr;
    if (c->special_mask) {
        /* Every unmasked level not in service is enabled, higher or lower. */
        return highest(c, req & (uint8_t)~c->isr);
    }
    int level = highest(c, req);
    if (level < 0) {
        return -1;
    }
    int in_service = highest(c, c->isr);
    if (in_service < 0 || priority(c, (unsigned)level) < priority(c, (unsigned)in_service)) {
        return level;
    }
    /* Special fully nested mode: the slave may interrupt the master's IR2 in service again. */
    bool sfnm = c->master && (c->icw4 & ICW4_SFNM);
    if (sfnm && level == (int)I8259_CASCADE_IRQ && in_service == (int)I8259_CASCADE_IRQ) {
        return level;
    }
    return -1;
}

/* The acknowledge of level on one chip: the request goes in service, or in auto-EOI mode is
 * done at once (and then made lowest priority if rotation was asked for). */
static void chip_ack(struct pic_chip *c, unsigned level)
{
    c->irr &= (uint8_t) ~(1u << level);
    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_on_aeoi) {
            c->lowest = (uint8_t)level;
        }
    } else {
        c->isr |= (uint8_t)(1u << level);
    }
}

/* The slave's INT output onto the master's IR2, then the master's INT onto intr. */
static void update(struct i8259 *pic)
{
    struct pic_chip *m = &pic->chip[0];
    if (chip_pending(&pic->chip[1]) >= 0) {
        m->input |= CASCADE_BIT;
    } else {
        m->input &= (uint8_t)~CASCADE_BIT;
    }
    bool level = chip_pending(m) >= 0;
    if (level != pic->intr_level) {
        pic->intr_level = level;
        coremu_irq_set(&pic->intr, level);
    }
}

static void chip_set_input(struct pic_chip *c, unsigned level, bool high)
{
    uint8_t bit = (uint8_t)(1u << level);
    if (high) {
        if (!(c->input & bit)) {
            c->irr |= bit; /* the rising edge */
        }
        c->input |= bit;
    } else {
        c->input &= (uint8_t)~bit;
        c->irr &= (uint8_t)~bit; /* a request that goes away is gone */
    }
}

/* ---- ports (all with the lock held) ---------------------------------------------------------- */

static void write_icw1(struct i8259 *pic, struct pic_chip *c, uint8_t v)
{
    c->init = INIT_ICW2;
    c->need_icw4 = (v & ICW1_IC4) != 0;
    c->single = (v & ICW1_SNGL) != 0;
    c->ltim = (v & ICW1_LTIM) != 0;
    /* The data sheet's list: edge sense reset (so an input must rise again), IMR cleared, IR7
     * lowest priority, special mask mode off, reads return the IRR; ICW4's functions cleared
     * when no ICW4 follows. The ISR is cleared too, so a re-initialised chip starts clean. */
    c->irr = 0;
    c->isr = 0;
    c->imr = 0;
    c->lowest = 7;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_on_aeoi = false;
    if (!c->need_icw4) {
        c->icw4 = 0;
    }
    if (c->ltim) {
        COREMU_LOG(COREMU_LOG_UNIMP, "%s: ICW1.LTIM ignored: the ELCR selects level sensing",
                   pic->name);
    }
}

static void write_ocw2(struct pic_chip *c, uint8_t v)
{
    unsigned level = v & 7u;
    int top = highest(c, c->isr);
    switch (v >> 5) {
    case OCW2_ROTATE_AEOI_CLEAR:
        c->rotate_on_aeoi = false;
        break;
    case OCW2_ROTATE_AEOI_SET:
        c->rotate_on_aeoi = true;
        break;
    case OCW2_EOI:
    case OCW2_ROTATE_EOI:
        if (top >= 0) {
            c->isr &= (uint8_t) ~(1u << top);
            if ((v >> 5) == OCW2_ROTATE_EOI) {
                c->lowest = (uint8_t)top;
            }
        }
        break;
    case OCW2_SPECIFIC_EOI:
    case OCW2_ROTATE_SPECIFIC_EOI:
        c->isr &= (uint8_t) ~(1u << level);
        if ((v >> 5) == OCW2_ROTATE_SPECIFIC_EOI) {
            c->lowest = (uint8_t)level;
        }
        break;
    case OCW2_SET_PRIORITY:
        c->lowest = (uint8_t)level;
        break;
    case OCW2_NOP:
        break;
    }
}

static void write_ocw3(struct pic_chip *c, uint8_t v)
{
    if (v & OCW3_POLL) {
        c->poll = true;
    }
    if (v & OCW3_RR) {
        c->read_isr = (v & OCW3_RIS) != 0;
    }
    if (v & OCW3_ESMM) {
        c->special_mask = (v & OCW3_SMM) != 0;
    }
}

static void write_data(struct i8259 *pic, struct pic_chip *c, uint8_t v)
{
    switch (c->init) {
    case INIT_ICW2:
        c->base = v & 0xf8u;
        c->init = !c->single ? INIT_ICW3 : c->need_icw4 ? INIT_ICW4 : INIT_DONE;
        break;
    case INIT_ICW3:
        c->icw3 = v;
        c->init = c->need_icw4 ? INIT_ICW4 : INIT_DONE;
        break;
    case INIT_ICW4:
        c->icw4 = v;
        c->init = INIT_DONE;
        if (!(v & ICW4_UPM)) {
            COREMU_LOG(COREMU_LOG_UNIMP, "%s: MCS-80/85 mode not implemented, 8086 mode used",
                       pic->name);
        }
        break;
    case INIT_DONE:
        c->imr = v; /* OCW1 */
        break;
    }
}

/* The poll command's read: an acknowledge without INTA, its result as the data sheet's word. */
static uint8_t read_poll(struct pic_chip *c)
{
    c->poll = false;
    int level = chip_pending(c);
    if (level < 0) {
        return 0;
    }
    chip_ack(c, (unsigned)level);
    return (uint8_t)(0x80u | (unsigned)level);
}

static uint8_t port_read(struct i8259 *pic, struct pic_chip *c, unsigned port)
{
    uint8_t v;
    if (port == 1) {
        v = c->imr;
    } else if (c->poll) {
        v = read_poll(c);
    } else {
        v = c->read_isr ? c->isr : requests(c);
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: %s read port %u = 0x%02x", pic->name,
               c->master ? "master" : "slave", port, v);
    return v;
}

static void port_write(struct i8259 *pic, struct pic_chip *c, unsigned port, uint8_t v)
{
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: %s write port %u = 0x%02x", pic->name,
               c->master ? "master" : "slave", port, v);
    if (port == 1) {
        write_data(pic, c, v);
    } else if (v & ICW1_SELECT) {
        write_icw1(pic, c, v);
    } else if (v & OCW3_SELECT) {
        write_ocw3(c, v);
    } else {
        write_ocw2(c, v);
    }
}

/* ---- port callbacks -------------------------------------------------------------------------- */

/* Which register set a region is: the two chips, or the ELCR pair. */
enum pic_region { REGION_MASTER, REGION_SLAVE, REGION_ELCR };

static uint8_t region_read(struct i8259 *pic, enum pic_region region, unsigned port)
{
    if (region == REGION_ELCR) {
        return pic->chip[port].elcr;
    }
    return port_read(pic, &pic->chip[region], port);
}

static void region_write(struct i8259 *pic, enum pic_region region, unsigned port, uint8_t v)
{
    if (region == REGION_ELCR) {
        pic->chip[port].elcr = v & elcr_writable[port];
        return;
    }
    port_write(pic, &pic->chip[region], port, v);
}

/* A 16-bit access is two byte accesses to consecutive ports, under one hold of the lock. */
static int pic_read(struct i8259 *pic, enum pic_region region, uint64_t offset, unsigned size,
                    uint64_t *value)
{
    uint64_t v = 0;
    pthread_mutex_lock(&pic->lock);
    for (unsigned i = 0; i < size && offset + i < I8259_IO_SIZE; i++) {
        v |= (uint64_t)region_read(pic, region, (unsigned)offset + i) << (8 * i);
    }
    update(pic);
    pthread_mutex_unlock(&pic->lock);
    *value = v;
    return COREMU_MEM_OK;
}

static int pic_write(struct i8259 *pic, enum pic_region region, uint64_t offset, unsigned size,
                     uint64_t value)
{
    pthread_mutex_lock(&pic->lock);
    for (unsigned i = 0; i < size && offset + i < I8259_IO_SIZE; i++) {
        region_write(pic, region, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
    }
    update(pic);
    pthread_mutex_unlock(&pic->lock);
    return COREMU_MEM_OK;
}

static int master_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    return pic_read(opaque, REGION_MASTER, offset, size, value);
}

static int master_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    return pic_write(opaque, REGION_MASTER, offset, size, value);
}

static int slave_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    return pic_read(opaque, REGION_SLAVE, offset, size, value);
}

static int slave_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    return pic_write(opaque, REGION_SLAVE, offset, size, value);
}

static int elcr_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    return pic_read(opaque, REGION_ELCR, offset, size, value);
}

static int elcr_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    return pic_write(opaque, REGION_ELCR, offset, size, value);
}

const struct coremu_mmio_ops i8259_master_ops = {
    .read = master_read,
    .write = master_write,
    .sizes = 1u | 2u,
    .allow_unaligned = true,
};

const struct coremu_mmio_ops i8259_slave_ops = {
    .read = slave_read,
    .write = slave_write,
    .sizes = 1u | 2u,
    .allow_unaligned = true,
};

const struct coremu_mmio_ops i8259_elcr_ops = {
    .read = elcr_read,
    .write = elcr_write,
    .sizes = 1u | 2u,
    .allow_unaligned = true,
};

/* ---- inputs and acknowledge ------------------------------------------------------------------ */

void i8259_set_irq(struct i8259 *pic, unsigned irq, bool level)
{
    if (irq >= I8259_NUM_IRQS || irq == I8259_CASCADE_IRQ) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: set_irq on irq %u ignored", pic->name, irq);
        return;
    }
    pthread_mutex_lock(&pic->lock);
    chip_set_input(&pic->chip[irq / 8], irq % 8, level);
    update(pic);
    pthread_mutex_unlock(&pic->lock);
}

static void pic_line_set(void *opaque, bool level)
{
    struct pic_input *in = opaque;
    i8259_set_irq(in->pic, in->irq, level);
}

struct coremu_irq_line i8259_irq_line(struct i8259 *pic, unsigned irq)
{
    if (irq >= I8259_NUM_IRQS) {
        return (struct coremu_irq_line){NULL, NULL};
    }
    return (struct coremu_irq_line){pic_line_set, &pic->inputs[irq]};
}

uint8_t i8259_ack(struct i8259 *pic)
{
    struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
    uint8_t vector;

    pthread_mutex_lock(&pic->lock);
    int level = chip_pending(m);
    if (level < 0) {
        /* The request went away before the acknowledge: the chip answers with IR7 and sets no
         * in-service bit (the spurious IRQ7). */
        vector = m->base | 7u;
        COREMU_LOG(COREMU_LOG_INT, "%s: spurious IRQ7", pic->name);
    } else {
        chip_ack(m, (unsigned)level);
        if (level == (int)I8259_CASCADE_IRQ) {
            int slave_level = chip_pending(s);
            if (slave_level < 0) {
                vector = s->base | 7u; /* the slave's spurious IRQ15 */
                COREMU_LOG(COREMU_LOG_INT, "%s: spurious IRQ15", pic->name);
            } else {
                chip_ack(s, (unsigned)slave_level);
                vector = (uint8_t)(s->base + (unsigned)slave_level);
            }
        } else {
            vector = (uint8_t)(m->base + (unsigned)level);
        }
    }
    update(pic);
    pthread_mutex_unlock(&pic->lock);
    return vector;
}

bool i8259_intr_level(struct i8259 *pic)
{
    pthread_mutex_lock(&pic->lock);
    bool level = pic->intr_level;
    pthread_mutex_unlock(&pic->lock);
    return level;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void chip_reset(struct pic_chip *c, bool master)
{
    uint8_t input = c->input; /* still driven by the devices */
    *c = (struct pic_chip){
        .master = master,
        .input = input,
        .imr = 0xff,
        .lowest = 7,
        .init = INIT_DONE,
    };
}

struct i8259 *i8259_new(const char *name, const struct coremu_irq_line *intr)
{
    struct i8259 *pic = calloc(1, sizeof(*pic));
    if (pic == NULL) {
        return NULL;
    }
    pic->name = name;
    if (intr != NULL) {
        pic->intr = *intr;
    }
    for (unsigned irq = 0; irq < I8259_NUM_IRQS; irq++) {
        pic->inputs[irq] = (struct pic_input){pic, irq};
    }
    if (pthread_mutex_init(&pic->lock, NULL) != 0) {
        free(pic);
        return NULL;
    }
    chip_reset(&pic->chip[0], true);
    chip_reset(&pic->chip[1], false);
    return pic;
}

void i8259_reset(struct i8259 *pic)
{
    pthread_mutex_lock(&pic->lock);
    chip_reset(&pic->chip[0], true);
    chip_reset(&pic->chip[1], false);
    update(pic);
    pthread_mutex_unlock(&pic->lock);
}

int i8259_map(struct i8259 *pic, struct coremu_as *as)
{
    int r = coremu_as_add_mmio(as, "i8259-master", I8259_MASTER_BASE, I8259_IO_SIZE,
                               &i8259_master_ops, pic, COREMU_MMIO_LOCKLESS);
    if (r == 0) {
        r = coremu_as_add_mmio(as, "i8259-slave", I8259_SLAVE_BASE, I8259_IO_SIZE, &i8259_slave_ops,
                               pic, COREMU_MMIO_LOCKLESS);
    }
    if (r == 0) {
        r = coremu_as_add_mmio(as, "elcr", I8259_ELCR_BASE, I8259_IO_SIZE, &i8259_elcr_ops, pic,
                               COREMU_MMIO_LOCKLESS);
    }
    return r;
}

void i8259_free(struct i8259 *pic)
{
    if (pic == NULL) {
        return;
    }
    pthread_mutex_destroy(&pic->lock);
    free(pic);
}
