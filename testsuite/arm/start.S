/*
 * crt0 of the bare-metal ARM tests: entry of core 0 (_start) and of the cores that PSCI
 * CPU_ON starts (_secondary_start), a stack per core and per exception mode, and the vector
 * table, whose entries save the registers and call exception_entry() in lib.c.
 *
 * Core 0:     stacks, VBAR, clear .bss, main(), then PSCI SYSTEM_OFF.
 * Secondary:  entered with r0 = the context id given to CPU_ON; stacks, VBAR,
 *             secondary_main(context id), then PSCI CPU_OFF.
 * Both start in SVC mode with IRQ and FIQ masked and the MMU off (the PSCI/boot contract).
 */
    .syntax unified
    .arm
    .arch_extension virt            @ HVC

#define MODE_USR 0x10
#define MODE_FIQ 0x11
#define MODE_IRQ 0x12
#define MODE_SVC 0x13
#define MODE_ABT 0x17
#define MODE_UND 0x1b
#define MODE_SYS 0x1f
#define PSR_I 0x80
#define PSR_F 0x40

#define PSCI_CPU_OFF 0x84000002
#define PSCI_SYSTEM_OFF 0x84000008

/* Per-core stack block (TEST_CORE_STACK in link.ld), from its top down. */
#define STACK_SVC 0x4000
#define STACK_SYS 0x4000
#define STACK_SMALL 0x1000

    .section .text.start, "ax"
    .global _start
_start:
    bl      setup_core
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
1:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     1b
    dsb
    bl      main
    bl      test_exit               @ does not return

    .global _secondary_start
_secondary_start:
    mov     r4, r0                  @ context id (r4 survives setup_core)
    bl      setup_core
    mov     r0, r4
    bl      secondary_main
    ldr     r0, =PSCI_CPU_OFF
    hvc     #0
2:  wfi                             @ CPU_OFF does not return; if it does, stay put
    b       2b

/*
 * Gives this core a stack in every mode and points VBAR at the vectors. Returns in SVC mode.
 * Core index = MPIDR.Aff0; a core beyond the stack area stops here. Clobbers r0-r3 and every
 * mode's sp; lr is kept in r3 because each mode banks its own.
 */
setup_core:
    mov     r3, lr
    mrc     p15, 0, r0, c0, c0, 5   @ MPIDR
    and     r0, r0, #0xff
    cmp     r0, #8
    bhs     3f
    ldr     r1, =0xc000             @ TEST_CORE_STACK
    mul     r2, r0, r1
    ldr     r1, =__stacks_end
    sub     r1, r1, r2              @ top of this core's block
    msr     cpsr_c, #(MODE_SVC | PSR_I | PSR_F)
    mov     sp, r1
    sub     r1, r1, #STACK_SVC
    msr     cpsr_c, #(MODE_SYS | PSR_I | PSR_F)
    mov     sp, r1
    sub     r1, r1, #STACK_SYS
    msr     cpsr_c, #(MODE_IRQ | PSR_I | PSR_F)
    mov     sp, r1
    sub     r1, r1, #STACK_SMALL
    msr     cpsr_c, #(MODE_FIQ | PSR_I | PSR_F)
    mov     sp, r1
    sub     r1, r1, #STACK_SMALL
    msr     cpsr_c, #(MODE_ABT | PSR_I | PSR_F)
    mov     sp, r1
    sub     r1, r1, #STACK_SMALL
    msr     cpsr_c, #(MODE_UND | PSR_I | PSR_F)
    mov     sp, r1
    msr     cpsr_c, #(MODE_SVC | PSR_I | PSR_F)
    ldr     r0, =vectors
    mcr     p15, 0, r0, c12, c0, 0  @ VBAR
    isb
    bx      r3
3:  wfi
    b       3b

/*
 * The vector table. Each entry saves r0-r12 and the exception's lr, then SPSR, and calls
 * exception_entry(kind, frame) with kind = the vector offset; the frame (struct exc_frame in
 * test.h) may be changed to return elsewhere or with another CPSR. lr is saved unadjusted;
 * exception_entry turns it into the address the exception is "about" and back.
 */
    .balign 32
    .global vectors
vectors:
    b       vec_reset
    b       vec_undef
    b       vec_svc
    b       vec_pabt
    b       vec_dabt
    b       vec_hyp
    b       vec_irq
    b       vec_fiq

.macro VECTOR name, kind
vec_\name:
    stmfd   sp!, {r0-r12, lr}
    mrs     r0, spsr
    sub     sp, sp, #8              @ spsr and a pad word: the frame stays 8-byte aligned
    str     r0, [sp]
    mov     r0, #\kind
    mov     r1, sp
    bl      exception_entry
    ldr     r0, [sp]
    msr     spsr_cxsf, r0
    add     sp, sp, #8
    ldmfd   sp!, {r0-r12, lr}
    movs    pc, lr
.endm

    VECTOR  reset, 0x00
    VECTOR  undef, 0x04
    VECTOR  svc, 0x08
    VECTOR  pabt, 0x0c
    VECTOR  dabt, 0x10
    VECTOR  hyp, 0x14
    VECTOR  irq, 0x18
    VECTOR  fiq, 0x1c

    .ltorg
