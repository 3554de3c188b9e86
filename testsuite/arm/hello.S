/*
 * The smallest test: print a greeting through the PL011 and power off through PSCI. It has
 * its own entry (no start.S: no stack, no coprocessor access, no exception vectors), so it
 * needs only loads, stores, compares, branches and HVC: the first program a new CPU runs.
 */
    .syntax unified
    .arm
    .arch_extension virt            @ HVC

#define UART0 0x09000000
#define UARTFR 0x18
#define UARTFR_TXFF 0x20
#define PSCI_SYSTEM_OFF 0x84000008

    .section .text.start, "ax"
    .global _start
_start:
    ldr     r1, =UART0
    adr     r2, message
1:  ldrb    r0, [r2], #1
    cmp     r0, #0
    beq     3f
2:  ldr     r3, [r1, #UARTFR]
    tst     r3, #UARTFR_TXFF
    bne     2b
    str     r0, [r1]
    b       1b
3:  ldr     r0, =PSCI_SYSTEM_OFF
    hvc     #0
4:  wfi                             @ SYSTEM_OFF does not return
    b       4b

message:
    .asciz  "Hello from coremu\r\nPASS: hello\r\n"
    .balign 4
    .ltorg
