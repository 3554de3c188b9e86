/*
 * coremu — ARM PrimeCell UART (PL011) r1p5. Written from the PL011 Technical Reference Manual
 * (ARM DDI 0183G); the threading rules are in pl011.h.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/chardev.h>
#include <coremu/clock.h>
#include <coremu/log.h>
#include <coremu/util.h>

#include "pl011.h"
#include "serial_line.h"

#define PL011_FIFO_DEPTH 16u

/* UARTDR read: received data and the error bits that came with it. */
#define DR_FE (1u << 8)
#define DR_PE (1u << 9)
#define DR_BE (1u << 10)
#define DR_OE (1u << 11)

/* UARTFR. */
#define FR_CTS (1u << 0)
#define FR_DSR (1u << 1)
#define FR_DCD (1u << 2)
#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_RXFF (1u << 6)
#define FR_TXFE (1u << 7)

/* UARTLCR_H. */
#define LCRH_PEN (1u << 1)
#define LCRH_STP2 (1u << 3)
#define LCRH_FEN (1u << 4)
#define LCRH_WLEN_SHIFT 5

/* UARTCLK, which the baud rate divisors divide: the virt board's device tree gives the UART
 * its 24 MHz apb-pclk. */
#define PL011_UARTCLK_HZ 24000000u
/* The line rate of a UART whose divisor was never programmed (zero is not a valid divisor). */
#define PL011_DEFAULT_BAUD 115200u

/* UARTCR. */
#define CR_UARTEN (1u << 0)
#define CR_LBE (1u << 7)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)

/* Interrupt bits, shared by UARTIMSC, UARTRIS, UARTMIS and UARTICR. */
#define INT_RI (1u << 0)
#define INT_CTS (1u << 1)
#define INT_DCD (1u << 2)
#define INT_DSR (1u << 3)
#define INT_RX (1u << 4)
#define INT_TX (1u << 5)
#define INT_RT (1u << 6)
#define INT_FE (1u << 7)
#define INT_PE (1u << 8)
#define INT_BE (1u << 9)
#define INT_OE (1u << 10)
#define INT_ALL 0x7ffu

/* What an access to a register does beyond plain storage. */
enum pl011_kind {
    K_STORE,  /* read/write storage, masked */
    K_DR,     /* data: pops the receive FIFO / transmits */
    K_RSR,    /* receive status on read, error clear (UARTECR) on write */
    K_FR,     /* flags, computed */
    K_RIS,    /* raw interrupt status */
    K_MIS,    /* masked interrupt status */
    K_ICR,    /* interrupt clear, write-only */
    K_ID,     /* PrimeCell identification, read-only constant */
};

/* Storage slots of the K_STORE registers. */
enum pl011_slot { S_ILPR, S_IBRD, S_FBRD, S_LCR_H, S_CR, S_IFLS, S_IMSC, S_DMACR, S_NSLOTS };

struct pl011_reg {
    uint16_t offset;
    const char *name;
    enum pl011_kind kind;
    uint8_t slot;       /* K_STORE: storage slot */
    uint32_t mask;      /* K_STORE: implemented bits; K_ID: the value */
    uint32_t reset;     /* K_STORE: reset value */
};

/* The register map (TRM table 3-1). Offsets not listed are reserved: they read as zero and
 * ignore writes, which -d guest_errors reports. */
static const struct pl011_reg pl011_regs[] = {
    {0x000, "UARTDR", K_DR, 0, 0, 0},
    {0x004, "UARTRSR/ECR", K_RSR, 0, 0, 0},
    {0x018, "UARTFR", K_FR, 0, 0, 0},
    {0x020, "UARTILPR", K_STORE, S_ILPR, 0xff, 0},
    {0x024, "UARTIBRD", K_STORE, S_IBRD, 0xffff, 0},
    {0x028, "UARTFBRD", K_STORE, S_FBRD, 0x3f, 0},
    {0x02c, "UARTLCR_H", K_STORE, S_LCR_H, 0xff, 0},
    {0x030, "UARTCR", K_STORE, S_CR, 0xff87, 0x0300},
    {0x034, "UARTIFLS", K_STORE, S_IFLS, 0x3f, 0x12},
    {0x038, "UARTIMSC", K_STORE, S_IMSC, INT_ALL, 0},
    {0x03c, "UARTRIS", K_RIS, 0, 0, 0},
    {0x040, "UARTMIS", K_MIS, 0, 0, 0},
    {0x044, "UARTICR", K_ICR, 0, 0, 0},
    {0x048, "UARTDMACR", K_STORE, S_DMACR, 0x7, 0},
    /* r1p5: part number 0x011, designer 0x41 (ARM), revision 3, configuration 0. */
    {0xfe0, "UARTPeriphID0", K_ID, 0, 0x11, 0},
    {0xfe4, "UARTPeriphID1", K_ID, 0, 0x10, 0},
    {0xfe8, "UARTPeriphID2", K_ID, 0, 0x34, 0},
    {0xfec, "UARTPeriphID3", K_ID, 0, 0x00, 0},
    {0xff0, "UARTPCellID0", K_ID, 0, 0x0d, 0},
    {0xff4, "UARTPCellID1", K_ID, 0, 0xf0, 0},
    {0xff8, "UARTPCellID2", K_ID, 0, 0x05, 0},
    {0xffc, "UARTPCellID3", K_ID, 0, 0xb1, 0},
};

#define PL011_NREGS COREMU_ARRAY_SIZE(pl011_regs)

/* Receive FIFO trigger levels by UARTIFLS.RXIFLSEL (entries, of 16): 1/8, 1/4, 1/2, 3/4, 7/8.
 * The reserved encodings behave as 1/2 (the reset value). */
static const uint8_t pl011_rx_trigger[8] = {2, 4, 8, 12, 14, 8, 8, 8};

struct pl011 {
    const char *name;           /* immutable */
    struct coremu_irq_line irq; /* immutable after pl011_new */

    /* Everything below is under lock (see pl011.h for who takes it). */
    pthread_mutex_t lock;
    struct coremu_chardev *chr; /* written by pl011_attach before the guest runs */
    uint32_t regs[S_NSLOTS];
    uint32_t ris;               /* raw interrupt status */
    uint32_t rsr;               /* UARTRSR: FE, PE, BE, OE of the last character read */
    uint16_t rx_fifo[PL011_FIFO_DEPTH]; /* 8 data bits + 4 error bits, as UARTDR reads them */
    unsigned rx_head;           /* index of the oldest entry */
    unsigned rx_count;          /* entries held; may exceed the depth just after FEN is cleared */
    bool input_held;            /* can_receive told the back end to hold its input */
    struct serial_line line;    /* the receiver's line rate (serial_line.h) */
    bool irq_level;             /* last level given to irq */
};

/* ---- helpers (all with uart->lock held) ------------------------------------------------- */

static unsigned pl011_depth(const struct pl011 *uart)
{
    return (uart->regs[S_LCR_H] & LCRH_FEN) ? PL011_FIFO_DEPTH : 1u;
}

static unsigned pl011_rx_level(const struct pl011 *uart)
{
    if (!(uart->regs[S_LCR_H] & LCRH_FEN)) {
        return 1; /* character mode: any received character interrupts */
    }
    return pl011_rx_trigger[(uart->regs[S_IFLS] >> 3) & 7];
}

/* Nanoseconds one character takes on the line at the programmed baud rate and frame: a start
 * bit, 5 to 8 data bits, the parity bit, one or two stop bits. */
static int64_t pl011_char_ns(const struct pl011 *uart)
{
    uint32_t lcr = uart->regs[S_LCR_H];
    uint64_t bits = 1 + 5 + ((lcr >> LCRH_WLEN_SHIFT) & 3) + ((lcr & LCRH_PEN) ? 1 : 0) +
                    ((lcr & LCRH_STP2) ? 2 : 1);
    /* The divisor in 64ths: baud = UARTCLK / (16 * divisor) = UARTCLK * 4 / divisor_64. */
    uint64_t divisor_64 = (uint64_t)uart->regs[S_IBRD] * 64 + uart->regs[S_FBRD];
    if (uart->regs[S_IBRD] == 0) {
        return (int64_t)(bits * COREMU_NS_PER_SEC / PL011_DEFAULT_BAUD);
    }
    return (int64_t)(bits * divisor_64 * COREMU_NS_PER_SEC / (PL011_UARTCLK_HZ * 4ull));
}

static void pl011_update_irq(struct pl011 *uart)
{
    bool level = (uart->ris & uart->regs[S_IMSC]) != 0;
    if (level != uart->irq_level) {
        uart->irq_level = level;
        coremu_irq_set(&uart->irq, level);
    }
}

/* Puts one received character (with its error bits) into the FIFO. A full FIFO keeps its
 * contents and the character is lost: an overrun, reported in UARTRSR and UARTRIS. */
static void pl011_rx_push(struct pl011 *uart, uint16_t entry)
{
    if (uart->rx_count >= pl011_depth(uart)) {
        uart->rsr |= DR_OE >> 8;
        uart->ris |= INT_OE;
        return;
    }
    uart->rx_fifo[(uart->rx_head + uart->rx_count) % PL011_FIFO_DEPTH] = entry;
    uart->rx_count++;
    if (uart->rx_count >= pl011_rx_level(uart)) {
        uart->ris |= INT_RX;
    }
}

/* Whether the back end was holding input that the FIFO now has room for; clears the hold so
 * that exactly one caller tells the back end (after dropping the lock). */
static bool pl011_take_input_hold(struct pl011 *uart)
{
    if (uart->input_held && uart->chr != NULL && uart->rx_count < pl011_depth(uart)) {
        uart->input_held = false;
        return true;
    }
    return false;
}

static const struct pl011_reg *pl011_find(uint64_t offset)
{
    for (size_t i = 0; i < PL011_NREGS; i++) {
        if (pl011_regs[i].offset == offset) {
            return &pl011_regs[i];
        }
    }
    return NULL;
}

/* UARTDR read: the oldest received character with its error bits. */
static uint32_t pl011_read_dr(struct pl011 *uart)
{
    if (uart->rx_count == 0) {
        return 0; /* what a real UART returns here is not defined; drivers check RXFE first */
    }
    uint16_t entry = uart->rx_fifo[uart->rx_head];
    uart->rx_head = (uart->rx_head + 1) % PL011_FIFO_DEPTH;
    uart->rx_count--;
    uart->rsr = (entry >> 8) & 0xf;
    if (uart->rx_count < pl011_rx_level(uart)) {
        uart->ris &= ~INT_RX;
    }
    if (uart->rx_count == 0) {
        uart->ris &= ~INT_RT;
    }
    pl011_update_irq(uart);
    return entry;
}

/* UARTDR write: transmit one character. Transmission ignores UARTEN and TXE: on real boards
 * the firmware enables the UART before the kernel's early console writes to it, and there is
 * no firmware here, so a guest that writes before enabling must still be heard. */
static void pl011_write_dr(struct pl011 *uart, uint32_t value)
{
    uint8_t byte = (uint8_t)value;
    if (uart->regs[S_CR] & CR_LBE) {
        pl011_rx_push(uart, byte);
        uart->ris |= INT_RT;
    } else if (uart->chr != NULL) {
        coremu_chardev_write(uart->chr, &byte, 1);
    }
    /* The character left at once, so the transmit FIFO has just gone below any trigger
     * level: the transmit interrupt's condition (a transition through the level). */
    uart->ris |= INT_TX;
    pl011_update_irq(uart);
}

static uint32_t pl011_read_fr(const struct pl011 *uart)
{
    /* The modem inputs show a peer that is present and ready; nothing is ever in flight. */
    uint32_t fr = FR_CTS | FR_DSR | FR_DCD | FR_TXFE;
    if (uart->rx_count == 0) {
        fr |= FR_RXFE;
    }
    if (uart->rx_count >= pl011_depth(uart)) {
        fr |= FR_RXFF;
    }
    return fr;
}

/* ---- MMIO --------------------------------------------------------------------------------- */

static int pl011_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct pl011 *uart = opaque;
    uint64_t reg_off = offset & ~(uint64_t)3;
    const struct pl011_reg *reg = pl011_find(reg_off);
    uint32_t v = 0;
    bool notify = false;

    pthread_mutex_lock(&uart->lock);
    if (reg == NULL) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of reserved offset 0x%03x", uart->name,
                   (unsigned)offset);
    } else {
        switch (reg->kind) {
        case K_STORE:
            v = uart->regs[reg->slot];
            break;
        case K_DR:
            v = pl011_read_dr(uart);
            notify = pl011_take_input_hold(uart);
            break;
        case K_RSR:
            v = uart->rsr;
            break;
        case K_FR:
            v = pl011_read_fr(uart);
            break;
        case K_RIS:
            v = uart->ris;
            break;
        case K_MIS:
            v = uart->ris & uart->regs[S_IMSC];
            break;
        case K_ICR:
            COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: read of write-only %s", uart->name,
                       reg->name);
            break;
        case K_ID:
            v = reg->mask;
            break;
        }
        COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: read %s = 0x%x", uart->name, reg->name, v);
    }
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);

    if (notify) {
        coremu_chardev_accept_input(chr);
    }
    /* A narrow access reads its bytes of the 32-bit register. */
    *value = (v >> ((offset & 3) * 8)) & (size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1);
    return COREMU_MEM_OK;
}

static int pl011_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pl011 *uart = opaque;
    const struct pl011_reg *reg = pl011_find(offset & ~(uint64_t)3);
    uint32_t v = (uint32_t)value;
    bool notify = false;

    if (reg == NULL || (offset & 3) != 0) {
        /* Reserved, or a narrow write to the upper bytes of a register: registers are written
         * from bit 0, so only accesses at the register's own offset take effect. */
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%x to %s offset 0x%03x ignored",
                   uart->name, v, reg == NULL ? "reserved" : "the middle of a register at",
                   (unsigned)offset);
        return COREMU_MEM_OK;
    }

    pthread_mutex_lock(&uart->lock);
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write %s = 0x%x", uart->name, reg->name, v);
    switch (reg->kind) {
    case K_STORE:
        if (size < 4) {
            /* A narrow write replaces the low bytes and keeps the rest of the register. */
            uint32_t keep = ~((1u << (size * 8)) - 1);
            v = (uart->regs[reg->slot] & keep) | (v & ~keep);
        }
        uart->regs[reg->slot] = v & reg->mask;
        if (reg->slot == S_LCR_H || reg->slot == S_IFLS) {
            /* The FIFO depth or the trigger level changed: re-evaluate the receive
             * interrupt against the new level. */
            if (uart->rx_count >= pl011_rx_level(uart)) {
                uart->ris |= INT_RX;
            } else {
                uart->ris &= ~INT_RX;
            }
            notify = pl011_take_input_hold(uart);
        } else if (reg->slot == S_DMACR && v != 0) {
            COREMU_LOG(COREMU_LOG_UNIMP, "%s: DMA (UARTDMACR = 0x%x) is not implemented",
                       uart->name, v);
        }
        pl011_update_irq(uart);
        break;
    case K_DR:
        pl011_write_dr(uart, v);
        break;
    case K_RSR:
        uart->rsr = 0; /* UARTECR: any write clears the error flags */
        break;
    case K_ICR:
        uart->ris &= ~(v & INT_ALL);
        pl011_update_irq(uart);
        break;
    case K_FR:
    case K_RIS:
    case K_MIS:
    case K_ID:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%x to read-only %s ignored",
                   uart->name, v, reg->name);
        break;
    }
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);

    if (notify) {
        coremu_chardev_accept_input(chr);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops pl011_mmio_ops = {
    .read = pl011_read,
    .write = pl011_write,
    .sizes = 1u | 2u | 4u,
    .allow_unaligned = false,
};

/* ---- input from the character device (I/O thread) --------------------------------------- */

/*
 * Input is paced twice, as on a real serial line. The FIFO: the back end is asked only for what
 * it has room for, and a full FIFO holds the input until the guest's read makes room. The line
 * rate: characters arrive no faster than the programmed baud rate carries them (see
 * serial_line.h); when the line is behind, the back end is asked again once it could fill
 * the FIFO. So a flood (stdin from /dev/zero) costs the guest what a flood on real
 * hardware costs, rather than refilling the FIFO as fast as a core empties it and keeping that
 * core in its interrupt handler for ever.
 */
size_t pl011_can_receive(void *opaque)
{
    struct pl011 *uart = opaque;
    int64_t now = coremu_clock_ns(), resume_at = 0;
    pthread_mutex_lock(&uart->lock);
    unsigned depth = pl011_depth(uart);
    size_t room = uart->rx_count < depth ? depth - uart->rx_count : 0;
    if (room == 0) {
        uart->input_held = true;
    } else {
        int64_t char_ns = pl011_char_ns(uart);
        unsigned credit = serial_line_credit(&uart->line, PL011_FIFO_DEPTH, now, char_ns);
        if (credit == 0) {
            /* Wake when the line could fill the whole FIFO: one hand-over per FIFO, not per
             * character, however the guest reads. */
            resume_at = serial_line_full_at(&uart->line, PL011_FIFO_DEPTH, char_ns);
        }
        room = credit < room ? credit : room;
    }
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);
    if (resume_at != 0 && chr != NULL) {
        coremu_chardev_accept_input_at(chr, resume_at);
    }
    return room;
}

void pl011_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct pl011 *uart = opaque;
    int64_t now = coremu_clock_ns();
    pthread_mutex_lock(&uart->lock);
    for (size_t i = 0; i < len; i++) {
        pl011_rx_push(uart, buf[i]);
    }
    /* These characters used up that much of the line's credit. */
    serial_line_consume(&uart->line, PL011_FIFO_DEPTH, now, pl011_char_ns(uart), len);
    /* The burst is over and the line is idle: a real UART's receive timeout would fire 32 bit
     * periods from now for whatever the FIFO still holds. */
    if (uart->rx_count > 0) {
        uart->ris |= INT_RT;
    }
    pl011_update_irq(uart);
    pthread_mutex_unlock(&uart->lock);
}

static const struct coremu_chardev_handlers pl011_chr_handlers = {
    .can_read = pl011_can_receive,
    .read = pl011_receive,
};

/* ---- life cycle --------------------------------------------------------------------------- */

/* Registers to their reset values, both FIFOs empty, no interrupt raised. The interrupt line
 * itself is the caller's to update. */
static void pl011_reset_locked(struct pl011 *uart)
{
    for (size_t i = 0; i < PL011_NREGS; i++) {
        if (pl011_regs[i].kind == K_STORE) {
            uart->regs[pl011_regs[i].slot] = pl011_regs[i].reset;
        }
    }
    uart->ris = 0;
    uart->rsr = 0;
    uart->rx_head = 0;
    uart->rx_count = 0;
    serial_line_reset(&uart->line);
}

struct pl011 *pl011_new(const char *name, struct coremu_chardev *chr,
                        const struct coremu_irq_line *irq)
{
    struct pl011 *uart = calloc(1, sizeof(*uart));
    if (uart == NULL) {
        return NULL;
    }
    uart->name = name;
    if (irq != NULL) {
        uart->irq = *irq;
    }
    if (pthread_mutex_init(&uart->lock, NULL) != 0) {
        free(uart);
        return NULL;
    }
    pl011_reset_locked(uart);
    if (chr != NULL) {
        pl011_attach(uart, chr);
    }
    return uart;
}

void pl011_reset(struct pl011 *uart)
{
    pthread_mutex_lock(&uart->lock);
    pl011_reset_locked(uart);
    pl011_update_irq(uart);
    bool notify = pl011_take_input_hold(uart);
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);
    if (notify) {
        coremu_chardev_accept_input(chr);
    }
}

void pl011_attach(struct pl011 *uart, struct coremu_chardev *chr)
{
    pthread_mutex_lock(&uart->lock);
    uart->chr = chr;
    uart->input_held = false;
    pthread_mutex_unlock(&uart->lock);
    coremu_chardev_set_handlers(chr, &pl011_chr_handlers, uart);
}

int pl011_map(struct pl011 *uart, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, uart->name, base, PL011_MMIO_SIZE, &pl011_mmio_ops, uart,
                              COREMU_MMIO_LOCKLESS);
}

void pl011_free(struct pl011 *uart)
{
    if (uart == NULL) {
        return;
    }
    pthread_mutex_destroy(&uart->lock);
    free(uart);
}
