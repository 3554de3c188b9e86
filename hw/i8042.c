/*
 * coremu — the 8042 keyboard controller and its PS/2 keyboard (i8042.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "i8042.h"

#define QUEUE_SIZE    16u
#define CTR_RESET     (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE)
#define OUTPORT_RESET 0x01u /* bit 0: not in reset */
#define OUTPORT_A20   0x02u

enum pending {
    PENDING_NONE,
    PENDING_WRITE_CTR,
    PENDING_WRITE_OUTPORT,
    PENDING_WRITE_KBD_OBUF,
    PENDING_WRITE_AUX_OBUF,
    PENDING_WRITE_AUX,
};

struct i8042 {
    pthread_mutex_t lock;
    struct i8042_board board;
    /* Under lock: */
    uint8_t ctr;
    uint8_t outport;
    bool last_write_cmd;
    enum pending pending;
    uint8_t kbd_arg_cmd; /* keyboard command waiting for its argument byte, or 0 */
    uint8_t queue[QUEUE_SIZE];
    bool queue_aux[QUEUE_SIZE];
    unsigned head, count;
    bool irq1, irq12;
};

static void update_irqs(struct i8042 *k)
{
    bool aux = k->count && k->queue_aux[k->head];
    bool irq1 = k->count && !aux && (k->ctr & I8042_CTR_KBDINT);
    bool irq12 = k->count && aux && (k->ctr & I8042_CTR_AUXINT);
    if (irq1 != k->irq1) {
        k->irq1 = irq1;
        coremu_irq_set(&k->board.irq1, irq1);
    }
    if (irq12 != k->irq12) {
        k->irq12 = irq12;
        coremu_irq_set(&k->board.irq12, irq12);
    }
}

static void push(struct i8042 *k, uint8_t v, bool aux)
{
    if (k->count == QUEUE_SIZE) {
        return; /* overrun: the byte is lost, as a full controller would lose it */
    }
    unsigned tail = (k->head + k->count) % QUEUE_SIZE;
    k->queue[tail] = v;
    k->queue_aux[tail] = aux;
    k->count++;
}

static void reset_locked(struct i8042 *k)
{
    k->ctr = CTR_RESET;
    k->outport = OUTPORT_RESET | OUTPORT_A20;
    k->last_write_cmd = false;
    k->pending = PENDING_NONE;
    k->kbd_arg_cmd = 0;
    k->head = 0;
    k->count = 0;
    update_irqs(k);
}

struct i8042 *i8042_new(const struct i8042_board *board)
{
    struct i8042 *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    pthread_mutex_init(&k->lock, NULL);
    if (board != NULL) {
        k->board = *board;
    }
    pthread_mutex_lock(&k->lock);
    reset_locked(k);
    pthread_mutex_unlock(&k->lock);
    return k;
}

void i8042_free(struct i8042 *kbc)
{
    if (kbc != NULL) {
        pthread_mutex_destroy(&kbc->lock);
        free(kbc);
    }
}

void i8042_reset(struct i8042 *kbc)
{
    pthread_mutex_lock(&kbc->lock);
    reset_locked(kbc);
    pthread_mutex_unlock(&kbc->lock);
}

bool i8042_a20(struct i8042 *kbc)
{
    pthread_mutex_lock(&kbc->lock);
    bool a20 = (kbc->outport & OUTPORT_A20) != 0;
    pthread_mutex_unlock(&kbc->lock);
    return a20;
}

/* A byte for the keyboard. */
static void keyboard_write(struct i8042 *k, uint8_t v)
{
    if (k->kbd_arg_cmd != 0) {
        uint8_t cmd = k->kbd_arg_cmd;
        k->kbd_arg_cmd = 0;
        push(k, 0xfa, false);
        if (cmd == 0xf0 && v == 0) {
            push(k, 0x02, false); /* the current scan code set */
        }
        return;
    }
    switch (v) {
    case 0xff: /* reset and self-test */
        push(k, 0xfa, false);
        push(k, 0xaa, false);
        break;
    case 0xf2: /* identify: an MF2 keyboard */
        push(k, 0xfa, false);
        push(k, 0xab, false);
        push(k, (k->ctr & I8042_CTR_XLATE) ? 0x41 : 0x83, false);
        break;
    case 0xee: /* echo */
        push(k, 0xee, false);
        break;
    case 0xed: /* set LEDs */
    case 0xf3: /* set typematic rate */
    case 0xf0: /* get/set scan code set */
        k->kbd_arg_cmd = v;
        push(k, 0xfa, false);
        break;
    default: /* enable/disable scanning, defaults, set-3 key types, resend: acknowledged */
        push(k, 0xfa, false);
        break;
    }
}

/* Returns true when the write asks for a system reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
    if (cmd == 0x20) {
        push(k, k->ctr, false);
    } else if (cmd > 0x20 && cmd < 0x40) {
        push(k, 0, false);
    } else if (cmd == 0x60) {
        k->pending = PENDING_WRITE_CTR;
    } else if ((cmd & 0xf0) == 0xf0) {
        /* Pulse the output port bits whose bit in the low nibble is 0: bit 0 is reset. */
        return (cmd & 0x01) == 0;
    } else {
        switch (cmd) {
        case 0xa7:
            k->ctr |= I8042_CTR_AUXDIS;
            break;
        case 0xa8:
            k->ctr &= (uint8_t)~I8042_CTR_AUXDIS;
            break;
        case 0xa9: /* aux interface test: no error */
        case 0xab: /* keyboard interface test: no error */
            push(k, 0x00, false);
            break;
        case 0xaa: /* self-test passed */
            push(k, 0x55, false);
            break;
        case 0xad:
            k->ctr |= I8042_CTR_KBDDIS;
            break;
        case 0xae:
            k->ctr &= (uint8_t)~I8042_CTR_KBDDIS;
            break;
        case 0xc0: /* input port: keyboard not inhibited, colour display */
            push(k, 0x80, false);
            break;
        case 0xd0: {
            uint8_t v = k->outport;
            if (k->count && !k->queue_aux[k->head]) {
                v |= 0x10;
            }
            if (k->count && k->queue_aux[k->head]) {
                v |= 0x20;
            }
            push(k, v, false);
            break;
        }
        case 0xd1:
            k->pending = PENDING_WRITE_OUTPORT;
            break;
        case 0xd2:
            k->pending = PENDING_WRITE_KBD_OBUF;
            break;
        case 0xd3:
            k->pending = PENDING_WRITE_AUX_OBUF;
            break;
        case 0xd4:
            k->pending = PENDING_WRITE_AUX;
            break;
        case 0xdd:
            k->outport &= (uint8_t)~OUTPORT_A20;
            break;
        case 0xdf:
            k->outport |= OUTPORT_A20;
            break;
        default:
            break;
        }
    }
    return false;
}

/* A byte written to 0x60; returns true when it asks for a system reset. */
static bool data_write(struct i8042 *k, uint8_t v)
{
    enum pending p = k->pending;
    k->pending = PENDING_NONE;
    switch (p) {
    case PENDING_WRITE_CTR:
        k->ctr = v;
        break;
    case PENDING_WRITE_OUTPORT:
        k->outport = v;
        return (v & OUTPORT_RESET) == 0;
    case PENDING_WRITE_KBD_OBUF:
        push(k, v, false);
        break;
    case PENDING_WRITE_AUX_OBUF:
        push(k, v, true);
        break;
    case PENDING_WRITE_AUX:
        break; /* no mouse */
    case PENDING_NONE:
        keyboard_write(k, v);
        break;
    }
    return false;
}

static int data_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    if (k->count == 0) {
        *value = k->queue[(k->head + QUEUE_SIZE - 1) % QUEUE_SIZE]; /* the last byte again */
    } else {
        *value = k->queue[k->head];
        k->head = (k->head + 1) % QUEUE_SIZE;
        k->count--;
        /* The buffer is empty for a moment before the next byte: a fresh edge per byte. */
        if (k->irq1 || k->irq12) {
            bool had1 = k->irq1, had12 = k->irq12;
            k->irq1 = k->irq12 = false;
            if (had1) {
                coremu_irq_set(&k->board.irq1, false);
            }
            if (had12) {
                coremu_irq_set(&k->board.irq12, false);
            }
        }
        update_irqs(k);
    }
    pthread_mutex_unlock(&k->lock);
    return COREMU_MEM_OK;
}

static void finish_write(struct i8042 *k, bool reset)
{
    update_irqs(k);
    pthread_mutex_unlock(&k->lock);
    if (reset && k->board.reset != NULL) {
        k->board.reset(k->board.opaque);
    }
}

static int data_write_op(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    k->last_write_cmd = false;
    bool reset = data_write(k, (uint8_t)value);
    finish_write(k, reset);
    return COREMU_MEM_OK;
}

static int status_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    uint8_t st = I8042_STR_KEYLOCK;
    if (k->count) {
        st |= I8042_STR_OBF;
        if (k->queue_aux[k->head]) {
            st |= I8042_STR_AUXDATA;
        }
    }
    if (k->ctr & I8042_CTR_SYS) {
        st |= I8042_STR_SYS;
    }
    if (k->last_write_cmd) {
        st |= I8042_STR_CMD;
    }
    pthread_mutex_unlock(&k->lock);
    *value = st;
    return COREMU_MEM_OK;
}

static int command_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct i8042 *k = opaque;
    (void)offset;
    (void)size;
    pthread_mutex_lock(&k->lock);
    k->last_write_cmd = true;
    k->pending = PENDING_NONE; /* a command abandons an unfinished one */
    bool reset = command(k, (uint8_t)value);
    finish_write(k, reset);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops i8042_data_ops = {
    .read = data_read,
    .write = data_write_op,
    .sizes = 1,
};

const struct coremu_mmio_ops i8042_cmd_ops = {
    .read = status_read,
    .write = command_write,
    .sizes = 1,
};

int i8042_map(struct i8042 *kbc, struct coremu_as *io)
{
    int rc = coremu_as_add_mmio(io, "i8042-data", I8042_DATA_PORT, 1, &i8042_data_ops, kbc,
                                COREMU_MMIO_LOCKLESS);
    if (rc != 0) {
        return rc;
    }
    rc = coremu_as_add_mmio(io, "i8042-cmd", I8042_CMD_PORT, 1, &i8042_cmd_ops, kbc,
                            COREMU_MMIO_LOCKLESS);
    if (rc != 0) {
        coremu_as_remove(io, I8042_DATA_PORT);
    }
    return rc;
}
