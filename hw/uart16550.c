/*
 * coremu — PC16550D UART. Written from the National Semiconductor / TI PC16550D data sheet; what
 * is modelled, the PC's interrupt wiring and the threading rules are in uart16550.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/chardev.h>
#include <coremu/clock.h>
#include <coremu/log.h>

#include "serial_line.h"
#include "uart16550.h"

#define UART_FIFO_DEPTH 16u

/* Register offsets. 0 and 1 are the divisor latch while LCR.DLAB is set; 2 reads the IIR and
 * writes the FCR. */
enum {
    REG_RBR_THR = 0,
    REG_IER = 1,
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

/* IER: the four interrupt enables; bits 7-4 are always 0 on a 16550. */
#define IER_ERBFI 0x01u /* received data available (and character timeout) */
#define IER_ETBEI 0x02u /* transmitter holding register empty */
#define IER_ELSI  0x04u /* receiver line status */
#define IER_EDSSI 0x08u /* modem status */
#define IER_MASK  0x0fu

/* IIR: bit 0 clear while an interrupt is pending, bits 3-1 its identification, bits 7-6 set
 * while the FIFOs are enabled; bits 5-4 are always 0. */
#define IIR_NONE          0x01u
#define IIR_ID_LINE       0x06u
#define IIR_ID_RX_DATA    0x04u
#define IIR_ID_TIMEOUT    0x0cu
#define IIR_ID_THRE       0x02u
#define IIR_ID_MODEM      0x00u
#define IIR_FIFOS_ENABLED 0xc0u

/* FCR. */
#define FCR_ENABLE        0x01u
#define FCR_RX_RESET      0x02u
#define FCR_TX_RESET      0x04u
#define FCR_DMA_MODE      0x08u
#define FCR_TRIGGER_SHIFT 6
/* What the FCR keeps of a write (bits 2-1 reset the FIFOs and clear themselves; 5-4 are
 * reserved). */
#define FCR_STORED (FCR_ENABLE | FCR_DMA_MODE | (3u << FCR_TRIGGER_SHIFT))

/* LCR. */
#define LCR_WLS_MASK 0x03u /* word length: 5 + this many bits */
#define LCR_STB      0x04u /* 2 stop bits (1.5 with 5-bit words) */
#define LCR_PEN      0x08u
#define LCR_DLAB     0x80u

/* MCR: bits 7-5 are always 0 on a 16550. */
#define MCR_DTR  0x01u
#define MCR_RTS  0x02u
#define MCR_OUT1 0x04u
#define MCR_OUT2 0x08u
#define MCR_LOOP 0x10u
#define MCR_MASK 0x1fu

/* LSR. */
#define LSR_DR   0x01u
#define LSR_OE   0x02u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u
/* The error bits that raise the receiver line status interrupt and that a read of the LSR
 * clears: OE, PE, FE, BI. Only OE ever sets here (see uart16550.h). */
#define LSR_ERRORS 0x1eu

/* MSR: bits 3-0 record changes since the last read, bits 7-4 are the modem inputs. */
#define MSR_DCTS 0x01u
#define MSR_DDSR 0x02u
#define MSR_TERI 0x04u
#define MSR_DDCD 0x08u
#define MSR_CTS  0x10u
#define MSR_DSR  0x20u
#define MSR_RI   0x40u
#define MSR_DCD  0x80u
/* The inputs outside loopback: a peer that is present and ready, its phone not ringing. */
#define MSR_PEER_INPUTS (MSR_CTS | MSR_DSR | MSR_DCD)

/* The PC's UART clock: 1.8432 MHz, sampled 16 times a bit, so divisor 1 is 115200 baud. */
#define UART_CLOCK_HZ 1843200u

/* Receiver FIFO trigger levels by FCR bits 7-6. */
static const uint8_t uart_rx_trigger[4] = {1, 4, 8, 14};

struct uart16550 {
    const char *name;           /* immutable */
    struct coremu_irq_line irq; /* immutable after uart16550_new */

    /* Everything below is under lock (see uart16550.h for who takes it). */
    pthread_mutex_t lock;
    struct coremu_chardev *chr; /* written by uart16550_attach before the guest runs */
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;        /* FCR_STORED bits as last programmed */
    uint8_t lsr_errors; /* LSR_ERRORS bits latched until the LSR is read */
    uint8_t msr_delta;  /* MSR bits 3-0, until the MSR is read */
    bool thre_pending;  /* the THRE interrupt's condition, until cleared */
    uint8_t rx_fifo[UART_FIFO_DEPTH];
    unsigned rx_head;        /* index of the oldest entry */
    unsigned rx_count;       /* entries held, at most uart_rx_depth */
    uint8_t rbr;             /* the last character read, which an empty RBR still holds */
    bool input_held;         /* can_receive told the back end to hold its input */
    struct serial_line line; /* the receiver's line rate (serial_line.h) */
    bool irq_level;          /* last level given to irq */
};

/* ---- helpers (all with uart->lock held) ------------------------------------------------- */

static bool uart_fifos_enabled(const struct uart16550 *uart)
{
    return (uart->fcr & FCR_ENABLE) != 0;
}

/* The receiver holds 16 characters in FIFO mode, one (the RBR) in 16450 mode. */
static unsigned uart_rx_depth(const struct uart16550 *uart)
{
    return uart_fifos_enabled(uart) ? UART_FIFO_DEPTH : 1u;
}

static unsigned uart_rx_level(const struct uart16550 *uart)
{
    return uart_fifos_enabled(uart) ? uart_rx_trigger[uart->fcr >> FCR_TRIGGER_SHIFT] : 1u;
}

static bool uart_loopback(const struct uart16550 *uart)
{
    return (uart->mcr & MCR_LOOP) != 0;
}

/* MSR bits 7-4: in loopback the modem control outputs, wired RTS to CTS, DTR to DSR, OUT1 to RI
 * and OUT2 to DCD; otherwise the (constant) inputs from the peer. */
static uint8_t uart_modem_inputs(const struct uart16550 *uart)
{
    if (!uart_loopback(uart)) {
        return MSR_PEER_INPUTS;
    }
    uint8_t in = 0;
    in |= (uart->mcr & MCR_RTS) ? MSR_CTS : 0;
    in |= (uart->mcr & MCR_DTR) ? MSR_DSR : 0;
    in |= (uart->mcr & MCR_OUT1) ? MSR_RI : 0;
    in |= (uart->mcr & MCR_OUT2) ? MSR_DCD : 0;
    return in;
}

/* Records the changes of the modem inputs from before to now in the MSR's delta bits; RI's only
 * on its trailing edge (asserted to not asserted). */
static void uart_note_modem_change(struct uart16550 *uart, uint8_t before, uint8_t now)
{
    uint8_t changed = before ^ now;
    uart->msr_delta |= (changed & MSR_CTS) ? MSR_DCTS : 0;
    uart->msr_delta |= (changed & MSR_DSR) ? MSR_DDSR : 0;
    uart->msr_delta |= ((before & MSR_RI) && !(now & MSR_RI)) ? MSR_TERI : 0;
    uart->msr_delta |= (changed & MSR_DCD) ? MSR_DDCD : 0;
}

/* The identification of the highest-priority pending interrupt (IIR bits 3-0): line status,
 * then received data or character timeout, then THRE, then modem status. */
static uint8_t uart_pending(const struct uart16550 *uart)
{
    if ((uart->ier & IER_ELSI) && (uart->lsr_errors & LSR_ERRORS)) {
        return IIR_ID_LINE;
    }
    if (uart->ier & IER_ERBFI) {
        if (uart->rx_count >= uart_rx_level(uart)) {
            return IIR_ID_RX_DATA;
        }
        /* Below the trigger level with characters left and the line quiet: the timeout (see
         * uart16550.h for how quiet). 16450 mode has no timeout: one character is the level. */
        if (uart->rx_count > 0 && uart_fifos_enabled(uart)) {
            return IIR_ID_TIMEOUT;
        }
    }
    if ((uart->ier & IER_ETBEI) && uart->thre_pending) {
        return IIR_ID_THRE;
    }
    if ((uart->ier & IER_EDSSI) && uart->msr_delta != 0) {
        return IIR_ID_MODEM;
    }
    return IIR_NONE;
}

/* The board-side line: INTRPT through the buffer that OUT2 enables, which loopback turns off. */
static void uart_update_irq(struct uart16550 *uart)
{
    bool level = uart_pending(uart) != IIR_NONE && (uart->mcr & MCR_OUT2) && !uart_loopback(uart);
    if (level != uart->irq_level) {
        uart->irq_level = level;
        coremu_irq_set(&uart->irq, level);
    }
}

/* Nanoseconds one character takes on the line: a start bit, 5 to 8 data bits, the parity bit,
 * and 1, 1.5 (5-bit words) or 2 stop bits, at UART_CLOCK_HZ / (16 * divisor) bits a second. */
static int64_t uart_char_ns(const struct uart16550 *uart)
{
    unsigned data_bits = 5 + (uart->lcr & LCR_WLS_MASK);
    unsigned half_bits = 2 * (1 + data_bits + ((uart->lcr & LCR_PEN) ? 1 : 0));
    if (!(uart->lcr & LCR_STB)) {
        half_bits += 2;
    } else {
        half_bits += data_bits == 5 ? 3 : 4;
    }
    uint64_t divisor = (uint64_t)uart->dll | ((uint64_t)uart->dlm << 8);
    if (divisor == 0) {
        divisor = 1; /* undefined on the chip; here the fastest rate */
    }
    return (int64_t)(half_bits * divisor * 16 * (uint64_t)COREMU_NS_PER_SEC /
                     (2ull * UART_CLOCK_HZ));
}

static void uart_rx_clear(struct uart16550 *uart)
{
    uart->rx_head = 0;
    uart->rx_count = 0;
}

/* One character arrives at the receiver. With the receiver full it is an overrun: in FIFO mode
 * the character is lost and the FIFO keeps its contents; in 16450 mode it overwrites the
 * unread RBR. */
static void uart_rx_push(struct uart16550 *uart, uint8_t byte)
{
    if (uart->rx_count >= uart_rx_depth(uart)) {
        uart->lsr_errors |= LSR_OE;
        if (!uart_fifos_enabled(uart)) {
            uart->rx_fifo[uart->rx_head] = byte;
        }
        return;
    }
    uart->rx_fifo[(uart->rx_head + uart->rx_count) % UART_FIFO_DEPTH] = byte;
    uart->rx_count++;
}

/* Whether the back end was holding input that the receiver now takes; clears the hold so that
 * exactly one caller tells the back end (after dropping the lock). */
static bool uart_take_input_hold(struct uart16550 *uart)
{
    if (uart->input_held && uart->chr != NULL && !uart_loopback(uart) &&
        uart->rx_count < uart_rx_depth(uart)) {
        uart->input_held = false;
        return true;
    }
    return false;
}

static uint8_t uart_read_rbr(struct uart16550 *uart)
{
    if (uart->rx_count > 0) {
        uart->rbr = uart->rx_fifo[uart->rx_head];
        uart->rx_head = (uart->rx_head + 1) % UART_FIFO_DEPTH;
        uart->rx_count--;
    }
    return uart->rbr;
}

static uint8_t uart_read_lsr(struct uart16550 *uart)
{
    /* The transmitter is always empty: see uart16550.h. */
    uint8_t lsr = LSR_THRE | LSR_TEMT | uart->lsr_errors;
    if (uart->rx_count > 0) {
        lsr |= LSR_DR;
    }
    uart->lsr_errors = 0;
    return lsr;
}

static uint8_t uart_read_iir(struct uart16550 *uart)
{
    uint8_t id = uart_pending(uart);
    /* Reading the IIR is how the THRE interrupt is acknowledged when it is the one shown. */
    if (id == IIR_ID_THRE) {
        uart->thre_pending = false;
    }
    return id | (uart_fifos_enabled(uart) ? IIR_FIFOS_ENABLED : 0);
}

static void uart_write_thr(struct uart16550 *uart, uint8_t byte)
{
    if (uart_loopback(uart)) {
        uart_rx_push(uart, byte); /* nothing reaches the line in loopback */
    } else if (uart->chr != NULL) {
        coremu_chardev_write(uart->chr, &byte, 1);
    }
    /* The write acknowledged THRE and the character left at once: THR is empty again. */
    uart->thre_pending = true;
}

static void uart_write_ier(struct uart16550 *uart, uint8_t value)
{
    uint8_t before = uart->ier;
    uart->ier = value & IER_MASK;
    /* Enabling the THRE interrupt while THR is empty (here always) raises it; Linux's 8250
     * startup checks that a UART does so again after the interrupt was acknowledged. */
    if (!(before & IER_ETBEI) && (uart->ier & IER_ETBEI)) {
        uart->thre_pending = true;
    }
}

static void uart_write_fcr(struct uart16550 *uart, uint8_t value)
{
    bool enable = (value & FCR_ENABLE) != 0;
    if (enable != uart_fifos_enabled(uart)) {
        uart_rx_clear(uart); /* changing mode empties both FIFOs */
    }
    if (!enable) {
        /* The other bits are programmed only together with FCR.0. */
        uart->fcr &= (uint8_t)~FCR_ENABLE;
        return;
    }
    if (value & FCR_RX_RESET) {
        uart_rx_clear(uart);
    }
    /* FCR_TX_RESET: the transmit FIFO is always empty already. */
    uart->fcr = value & FCR_STORED;
}

static void uart_write_mcr(struct uart16550 *uart, uint8_t value)
{
    uint8_t before = uart_modem_inputs(uart);
    uart->mcr = value & MCR_MASK;
    uart_note_modem_change(uart, before, uart_modem_inputs(uart));
}

static const char *uart_reg_name(const struct uart16550 *uart, unsigned reg, bool write)
{
    static const char *const read_names[8] = {"RBR", "IER", "IIR", "LCR",
                                              "MCR", "LSR", "MSR", "SCR"};
    static const char *const write_names[8] = {"THR", "IER", "FCR", "LCR",
                                               "MCR", "LSR", "MSR", "SCR"};
    if ((uart->lcr & LCR_DLAB) && reg <= REG_IER) {
        return reg == 0 ? "DLL" : "DLM";
    }
    return write ? write_names[reg] : read_names[reg];
}

static uint8_t uart_read_reg(struct uart16550 *uart, unsigned reg)
{
    bool dlab = (uart->lcr & LCR_DLAB) != 0;
    uint8_t v = 0;
    switch (reg) {
    case REG_RBR_THR:
        v = dlab ? uart->dll : uart_read_rbr(uart);
        break;
    case REG_IER:
        v = dlab ? uart->dlm : uart->ier;
        break;
    case REG_IIR_FCR:
        v = uart_read_iir(uart);
        break;
    case REG_LCR:
        v = uart->lcr;
        break;
    case REG_MCR:
        v = uart->mcr;
        break;
    case REG_LSR:
        v = uart_read_lsr(uart);
        break;
    case REG_MSR:
        v = uart->msr_delta | uart_modem_inputs(uart);
        uart->msr_delta = 0;
        break;
    case REG_SCR:
        v = uart->scr;
        break;
    }
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: read %s = 0x%02x", uart->name,
               uart_reg_name(uart, reg, false), v);
    return v;
}

static void uart_write_reg(struct uart16550 *uart, unsigned reg, uint8_t v)
{
    bool dlab = (uart->lcr & LCR_DLAB) != 0;
    COREMU_LOG(COREMU_LOG_TRACE_DEV, "%s: write %s = 0x%02x", uart->name,
               uart_reg_name(uart, reg, true), v);
    switch (reg) {
    case REG_RBR_THR:
        if (dlab) {
            uart->dll = v;
        } else {
            uart_write_thr(uart, v);
        }
        break;
    case REG_IER:
        if (dlab) {
            uart->dlm = v;
        } else {
            uart_write_ier(uart, v);
        }
        break;
    case REG_IIR_FCR:
        uart_write_fcr(uart, v);
        if (v & FCR_DMA_MODE) {
            COREMU_LOG(COREMU_LOG_UNIMP, "%s: FCR DMA mode has no effect (RXRDY/TXRDY unwired)",
                       uart->name);
        }
        break;
    case REG_LCR:
        uart->lcr = v;
        break;
    case REG_MCR:
        uart_write_mcr(uart, v);
        break;
    case REG_LSR:
    case REG_MSR:
        /* The data sheet reserves writes to the status registers for factory testing. */
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write of 0x%02x to read-only %s ignored",
                   uart->name, v, reg == REG_LSR ? "LSR" : "MSR");
        break;
    case REG_SCR:
        uart->scr = v;
        break;
    }
}

/* ---- register access ---------------------------------------------------------------------- */

/* A wider access is the ISA bus's sequence of byte accesses to consecutive registers, performed
 * here under one hold of the lock (see uart16550.h). */
static int uart_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct uart16550 *uart = opaque;
    uint64_t v = 0;

    pthread_mutex_lock(&uart->lock);
    for (unsigned i = 0; i < size && offset + i < UART16550_IO_SIZE; i++) {
        v |= (uint64_t)uart_read_reg(uart, (unsigned)offset + i) << (8 * i);
    }
    uart_update_irq(uart);
    bool notify = uart_take_input_hold(uart);
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);

    if (notify) {
        coremu_chardev_accept_input(chr);
    }
    *value = v;
    return COREMU_MEM_OK;
}

static int uart_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart16550 *uart = opaque;

    pthread_mutex_lock(&uart->lock);
    for (unsigned i = 0; i < size && offset + i < UART16550_IO_SIZE; i++) {
        uart_write_reg(uart, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
    }
    uart_update_irq(uart);
    bool notify = uart_take_input_hold(uart);
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);

    if (notify) {
        coremu_chardev_accept_input(chr);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops uart16550_mmio_ops = {
    .read = uart_read,
    .write = uart_write,
    .sizes = 1u | 2u | 4u,
    .allow_unaligned = true,
};

/* ---- input from the character device (I/O thread) --------------------------------------- */

/*
 * Input is paced twice, as on a real serial line. The receiver: the back end is asked only for
 * what it has room for (nothing in loopback, where the line is disconnected), and a full
 * receiver holds the input until the guest's read makes room. The line rate: characters arrive
 * no faster than the programmed baud rate carries them, a FIFO's worth at a time (serial_line.h).
 */
size_t uart16550_can_receive(void *opaque)
{
    struct uart16550 *uart = opaque;
    int64_t now = coremu_clock_ns(), resume_at = 0;
    size_t room = 0;

    pthread_mutex_lock(&uart->lock);
    unsigned depth = uart_rx_depth(uart);
    if (uart_loopback(uart) || uart->rx_count >= depth) {
        uart->input_held = true;
    } else {
        int64_t char_ns = uart_char_ns(uart);
        unsigned credit = serial_line_credit(&uart->line, UART_FIFO_DEPTH, now, char_ns);
        room = depth - uart->rx_count;
        if (credit == 0) {
            resume_at = serial_line_full_at(&uart->line, UART_FIFO_DEPTH, char_ns);
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

void uart16550_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart16550 *uart = opaque;
    int64_t now = coremu_clock_ns();

    pthread_mutex_lock(&uart->lock);
    /* Input that can_receive let through just before the guest entered loopback was already on
     * the wire: it is received. */
    for (size_t i = 0; i < len; i++) {
        uart_rx_push(uart, buf[i]);
    }
    serial_line_consume(&uart->line, UART_FIFO_DEPTH, now, uart_char_ns(uart), len);
    uart_update_irq(uart);
    pthread_mutex_unlock(&uart->lock);
}

static const struct coremu_chardev_handlers uart_chr_handlers = {
    .can_read = uart16550_can_receive,
    .read = uart16550_receive,
};

/* ---- life cycle --------------------------------------------------------------------------- */

/* The data sheet's master reset values: IER, FCR, LCR and MCR 0, so the IIR reads 0x01, the LSR
 * 0x60 and the MSR its inputs with no changes. It leaves the divisor latch and the scratch
 * register alone; they are cleared too, so that a reset machine starts the same every time. The
 * interrupt line is the caller's to update. */
static void uart_reset_locked(struct uart16550 *uart)
{
    uart->ier = 0;
    uart->lcr = 0;
    uart->mcr = 0;
    uart->scr = 0;
    uart->dll = 0;
    uart->dlm = 0;
    uart->fcr = 0;
    uart->lsr_errors = 0;
    uart->msr_delta = 0;
    uart->thre_pending = false;
    uart_rx_clear(uart);
    uart->rbr = 0;
    serial_line_reset(&uart->line);
}

struct uart16550 *uart16550_new(const char *name, struct coremu_chardev *chr,
                                const struct coremu_irq_line *irq)
{
    struct uart16550 *uart = calloc(1, sizeof(*uart));
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
    uart_reset_locked(uart);
    if (chr != NULL) {
        uart16550_attach(uart, chr);
    }
    return uart;
}

void uart16550_reset(struct uart16550 *uart)
{
    pthread_mutex_lock(&uart->lock);
    uart_reset_locked(uart);
    uart_update_irq(uart);
    bool notify = uart_take_input_hold(uart);
    struct coremu_chardev *chr = uart->chr;
    pthread_mutex_unlock(&uart->lock);
    if (notify) {
        coremu_chardev_accept_input(chr);
    }
}

void uart16550_attach(struct uart16550 *uart, struct coremu_chardev *chr)
{
    pthread_mutex_lock(&uart->lock);
    uart->chr = chr;
    uart->input_held = false;
    pthread_mutex_unlock(&uart->lock);
    coremu_chardev_set_handlers(chr, &uart_chr_handlers, uart);
}

int uart16550_map(struct uart16550 *uart, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, uart->name, base, UART16550_IO_SIZE, &uart16550_mmio_ops, uart,
                              COREMU_MMIO_LOCKLESS);
}

void uart16550_free(struct uart16550 *uart)
{
    if (uart == NULL) {
        return;
    }
    pthread_mutex_destroy(&uart->lock);
    free(uart);
}
