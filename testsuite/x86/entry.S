/*
 * Bare-metal x86_64 test programs: the multiboot v1 entry, 32-bit protected mode set-up, the way
 * into long mode, and the 64-bit exception stubs (see README.md for the contract).
 *
 * The loader (coremu's -kernel, QEMU's -kernel) enters _start in 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the multiboot information. _start
 *   1. switches to this program's GDT (gdt below, the selectors of test.h) and stack,
 *   2. calls entry32_hook if the program defines one (32-bit protected mode, paging off, flat
 *      segments, the small 32-bit IDT idt32 for recoverable faults: fault32_*),
 *   3. builds identity page tables for the first 4 GiB (2 MiB pages, user-accessible, writable),
 *      turns on PAE, EFER.LME and EFER.NXE, then paging with CR0.WP, and far-jumps to the 64-bit
 *      code segment,
 *   4. calls lib_init64 and main (lib.c) and exits through isa-debug-exit with main's result.
 */
#include "test.h"

    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header         /* header_addr */
    .long __load_start      /* load_addr: the file from its first byte */
    .long __load_end        /* load_end_addr */
    .long __bss_end         /* bss_end_addr */
    .long _start            /* entry_addr */

    .weak entry32_hook

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $stack32_top, %esp
    mov %eax, mb_magic
    mov %ebx, mb_info
    lgdt gdt_ptr
    /* A far return rather than a far JMP: modes.c tests JMP ptr16:32 itself. */
    pushl $SEL_CODE32
    pushl $1f
    lret
1:  mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    call idt32_fill
    lidt idt32_ptr

    /* The program's 32-bit part, if it has one (weak: 0 when it does not). */
    mov $entry32_hook, %eax
    test %eax, %eax
    jz 2f
    call *%eax
2:
    /* Identity map of [0, 4 GiB): PML4[0] -> pdpt, pdpt[i] -> pd + i * 4 KiB, 2 MiB pages. */
    mov $pml4, %edi
    mov $pdpt, %eax
    or $(PTE_P | PTE_W | PTE_U), %eax
    mov %eax, (%edi)
    mov $pdpt, %edi
    mov $pd, %eax
    or $(PTE_P | PTE_W | PTE_U), %eax
    mov $4, %ecx
3:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 3b
    mov $pd, %edi
    mov $(PTE_P | PTE_W | PTE_U | PTE_PS), %eax
    xor %edx, %edx          /* bits 63:32 of each entry: physical address bits 35:32 */
    mov $2048, %ecx
4:  mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 4b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $(EFER_LME | EFER_NXE), %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov %eax, %cr0
    pushl $SEL_CODE64
    pushl $long_entry
    lret

    .code64
long_entry:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    mov $stack_top, %rsp
    call lib_init64
    call main
    mov %eax, %edi
    call test_exit
5:  hlt
    jmp 5b

/* ---- 64-bit exceptions ------------------------------------------------------------------ */

/* 256 stubs, 16 bytes apart (lib.c points IDT gate n at isr_stubs + 16 n): each pushes a zero
 * error code where the CPU pushes none, then the vector, and goes to isr_common. */
    .align 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || \
        (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

/* The frame is struct exc_frame (test.h); exc_dispatch may change any of it, IRETQ goes back to
 * what it then says. */
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call exc_dispatch
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

/* int run_user(void (*fn)(void), uint64_t user_rsp, uint64_t arg): runs fn at CPL 3 (64-bit user
 * code segment, IF clear) with RDI = arg, until it raises vector VEC_USER_EXIT (user_exit()) or
 * an exception no hook takes; lib.c then resumes at user_return with the kernel's stack. */
    .globl run_user
run_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, kernel_saved_rsp(%rip)
    pushq $SEL_UDATA | 3
    push %rsi
    pushq $0x2
    pushq $SEL_UCODE64 | 3
    push %rdi
    mov %rdx, %rdi
    iretq
    .globl user_return
user_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    mov user_result(%rip), %eax
    ret

/* ---- 32-bit recoverable faults ---------------------------------------------------------- */

/* Gate n of idt32 points at isr32_stubs + 16 n (idt32_fill, called by _start: lib.c is 64-bit
 * code and cannot run before long mode). A fault records vector, error code and EIP in
 * fault32_* and resumes at fault32_resume, which the code that expects it sets (and the fault
 * clears); a fault nobody expected prints a line and fails the program. */
    .code32
    .align 16
isr32_stubs:
    .set vec, 0
    .rept 32
    .align 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || \
        (vec == 29) || (vec == 30)
    .else
    pushl $0
    .endif
    pushl $vec
    jmp isr32_common
    .set vec, vec + 1
    .endr

isr32_common:
    popl fault32_vector
    popl fault32_error
    push %eax
    mov 4(%esp), %eax
    mov %eax, fault32_eip
    mov fault32_resume, %eax
    test %eax, %eax
    jz 1f
    mov %eax, 4(%esp)
    movl $0, fault32_resume
    incl fault32_count
    pop %eax
    iret
1:  mov $unexpected32_msg, %esi
2:  lodsb
    test %al, %al
    jz 4f
    mov %al, %ah
    mov $(COM1 + 5), %dx
3:  in %dx, %al
    test $0x20, %al
    jz 3b
    mov $COM1, %dx
    mov %ah, %al
    out %al, %dx
    jmp 2b
4:  mov $DEBUG_EXIT_PORT, %dx
    mov $0x7f, %al
    out %al, %dx
5:  hlt
    jmp 5b

/* void idt32_fill(void): points idt32's 32 gates at the stubs (32-bit interrupt gates, DPL 0). */
    .globl idt32_fill
idt32_fill:
    push %edi
    mov $idt32, %edi
    mov $isr32_stubs, %eax
    mov $32, %ecx
1:  mov %ax, (%edi)
    movw $SEL_CODE32, 2(%edi)
    movw $0x8e00, 4(%edi)
    mov %eax, %edx
    shr $16, %edx
    mov %dx, 6(%edi)
    add $16, %eax
    add $8, %edi
    loop 1b
    pop %edi
    ret

    .section .rodata
unexpected32_msg:
    .asciz "FAIL: unexpected exception in 32-bit code (see fault32_vector)\r\n"

    .data
    .align 16
    .globl gdt
gdt:
    .quad 0                         /* 0x00 */
    .quad 0x00af9a000000ffff        /* 0x08 SEL_CODE64: 64-bit code, DPL 0 */
    .quad 0x00cf92000000ffff        /* 0x10 SEL_DATA: flat writable data, DPL 0 */
    .quad 0x00cffa000000ffff        /* 0x18 SEL_UCODE32: 32-bit code, DPL 3 (SYSRET base) */
    .quad 0x00cff2000000ffff        /* 0x20 SEL_UDATA: flat writable data, DPL 3 */
    .quad 0x00affa000000ffff        /* 0x28 SEL_UCODE64: 64-bit code, DPL 3 */
    .quad 0x00cf9a000000ffff        /* 0x30 SEL_CODE32: 32-bit code, DPL 0 */
    .quad 0x00009a000000ffff        /* 0x38 SEL_CODE16: 16-bit code, base 0, limit 64 KiB */
    .quad 0x000092000000ffff        /* 0x40 SEL_DATA16: 16-bit data, base 0, limit 64 KiB */
    .quad 0, 0                      /* 0x48 SEL_TSS: 64-bit TSS (lib.c) */
    .fill GDT_ENTRIES - 11, 8, 0    /* 0x58... free for the programs (GDT_FIRST_FREE) */
gdt_end:
    .globl gdt_ptr
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .align 8
    .globl idt32_ptr
idt32_ptr:
    .word 32 * 8 - 1
    .long idt32

    .globl fault32_resume, fault32_vector, fault32_error, fault32_eip, fault32_count
fault32_resume: .long 0
fault32_vector: .long 0
fault32_error:  .long 0
fault32_eip:    .long 0
fault32_count:  .long 0
    .globl mb_magic, mb_info
mb_magic:       .long 0
mb_info:        .long 0

    .bss
    .align 4096
    .globl pml4, pdpt, pd
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
    .globl idt32
idt32:  .skip 32 * 8
    .align 16
stack32: .skip 16384
stack32_top:
    .globl stack_top
    .align 16
        .skip 65536
stack_top:
    .globl kernel_saved_rsp, user_result
kernel_saved_rsp: .quad 0
user_result: .long 0
