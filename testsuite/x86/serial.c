/*
 * The PC's four serial ports (run with four -serial options: COM1 on the terminal, COM2-COM4 to
 * files that baremetal.exp reads): each port answers at the address a PC BIOS gives it (0x3f8,
 * 0x2f8, 0x3e8, 0x2e8) with its own scratch register and divisor latch, sends a line of its own,
 * and raises its transmitter-empty interrupt on its ISA line (COM1 and COM3 on IRQ 4, COM2 and
 * COM4 on IRQ 3) only while MCR.OUT2 gates it there, seen in the master 8259's IRR with every
 * line masked (the request shows in the IRR but is never delivered); reading the IIR that
 * reports it clears it, and the IRR bit goes with the request (the 8259A data sheet: an edge
 * request must stay high until it is acknowledged).
 */
#include "test.h"

#define PIC1_CMD      0x20
#define PIC1_DATA     0x21
#define OCW3_READ_IRR 0x0a

#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_DLAB   0x80
#define LCR_8N1    0x03
#define MCR_OUT2   0x08
#define IER_THRE   0x02
#define LSR_THRE   0x20
#define IIR_NO_INT 0x01

/* Bounded wait for the transmitter (it is always ready at once in an emulator). */
#define SPIN_LIMIT 1000000

static const struct {
    const char *name;
    uint16_t base;
    unsigned irq;
} ports[] = {
    {"COM2", 0x2f8, 3},
    {"COM3", 0x3e8, 4},
    {"COM4", 0x2e8, 3},
};

static void uart_puts(uint16_t base, const char *s)
{
    for (; *s != 0; s++) {
        for (unsigned spin = 0; (inb(base + UART_LSR) & LSR_THRE) == 0 && spin < SPIN_LIMIT;
             spin++) {
        }
        outb(base + UART_THR, (uint8_t)*s);
    }
}

/* "serial: COMn what" in buf (the library has no snprintf). */
static const char *label(char *buf, size_t size, const char *port, const char *what)
{
    size_t n = 0;
    const char *parts[] = {"serial: ", port, " ", what};
    for (unsigned p = 0; p < 4; p++) {
        for (const char *c = parts[p]; *c != 0 && n + 1 < size; c++) {
            buf[n++] = *c;
        }
    }
    buf[n] = 0;
    return buf;
}

static uint8_t pic_irr(void)
{
    outb(PIC1_CMD, OCW3_READ_IRR);
    return inb(PIC1_CMD);
}

int main(void)
{
    char name[96];
    /* ICW1-ICW4 for the master (vectors 0x20, cascade on IRQ2), then every line masked */
    outb(PIC1_CMD, 0x11);
    outb(PIC1_DATA, 0x20);
    outb(PIC1_DATA, 0x04);
    outb(PIC1_DATA, 0x01);
    outb(PIC1_DATA, 0xff);

    for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        uint16_t base = ports[i].base;
        uint8_t bit = (uint8_t)(1u << ports[i].irq);

        outb(base + UART_SCR, (uint8_t)(0xa0 + i));
        test_check_eq(label(name, sizeof(name), ports[i].name, "scratch register"),
                      inb(base + UART_SCR), 0xa0 + i);

        outb(base + UART_LCR, LCR_DLAB | LCR_8N1);
        outb(base + UART_DLL, 0x0c); /* 9600 baud */
        outb(base + UART_DLM, 0x00);
        test_check_eq(label(name, sizeof(name), ports[i].name, "divisor latch"),
                      inb(base + UART_DLL), 0x0c);
        outb(base + UART_LCR, LCR_8N1);

        uart_puts(base, "hello from ");
        uart_puts(base, ports[i].name);
        uart_puts(base, "\r\n");

        /* The THRE interrupt: pending at once (the transmitter is empty), on the ISA line only
         * while OUT2 gates it there, and cleared by reading the IIR that reports it. */
        outb(base + UART_MCR, 0);
        outb(base + UART_IER, IER_THRE);
        test_check_eq(label(name, sizeof(name), ports[i].name, "ISA line low without OUT2"),
                      pic_irr() & bit, 0);
        outb(base + UART_MCR, MCR_OUT2);
        test_check_eq(label(name, sizeof(name), ports[i].name,
                            ports[i].irq == 3 ? "raises IRQ 3" : "raises IRQ 4"),
                      pic_irr() & bit, bit);
        test_check_eq(label(name, sizeof(name), ports[i].name, "IIR reports the THRE interrupt"),
                      inb(base + UART_IIR) & 0x0f, 0x02);
        test_check_eq(label(name, sizeof(name), ports[i].name, "no interrupt pending in IIR"),
                      inb(base + UART_IIR) & IIR_NO_INT, IIR_NO_INT);
        test_check_eq(label(name, sizeof(name), ports[i].name, "ISA line low again"),
                      pic_irr() & bit, 0);
        outb(base + UART_IER, 0);
        outb(base + UART_MCR, 0);
    }
    test_exit(test_failures() == 0 ? 0 : 1);
}
