/*
 * Operating modes. From the multiboot entry (32-bit protected mode) entry32_hook below goes to
 * 16-bit protected mode, then real mode (a real-mode far JMP to another segment, an INT through
 * an IVT entry it installs, segment arithmetic, a 32-bit operand), back to 32-bit protected mode
 * with a far return, and returns to entry.S, which enters long mode (PAE, EFER.LME, paging, a
 * far transfer to the 64-bit CS). main then reports what the 32-bit and 16-bit code recorded,
 * checks long mode, and goes to compatibility mode and back.
 *
 * JMP ptr16:16/ptr16:32 (EA) is checked where a broken one can be seen and survived: in 32-bit
 * protected mode under the 32-bit IDT, in real mode through a landing pad at the address a jump
 * to CS 0 would reach, and in compatibility mode under the 64-bit IDT. Everything else in the
 * runtime moves between code segments with far returns.
 */
#include "test.h"

/* What the 32-bit and 16-bit code recorded (in .text16 when real mode writes it, so below
 * 64 KiB; main reads it through the identity map). */
extern volatile uint32_t jmpf32_ok, jmpf32_faulted, jmpf32_fault_vector, back32_cs, back32_ok;
extern volatile uint16_t rm_cs0, rm_cs1, rm_jmpf_bug, rm_int_cs, rm_int_ip, rm_int_frame_cs,
    rm_int_flags, rm_int_flags_inside, rm_cf_after, rm_after_int, rm_sp_in_handler;
extern volatile uint32_t rm_wide;
extern char rm_after_int_insn[], text16_base[];

__asm__(
    /* ---- 32-bit protected mode, before long mode ---- */
    ".text\n"
    ".code32\n"
    ".globl entry32_hook\n"
    "entry32_hook:\n"
    "    push %ebx\n"
    "    push %esi\n"
    "    push %edi\n"
    "    push %ebp\n"
    "    mov %esp, saved_esp32\n"
    /* JMP ptr16:32 to the same code segment: must arrive, not fault */
    "    movl $2f, fault32_resume\n"
    "    ljmp $0x30, $1f\n"
    "1:  movl $0, fault32_resume\n"
    "    movl $1, jmpf32_ok\n"
    "    jmp 3f\n"
    "2:  movl $1, jmpf32_faulted\n"
    "    mov fault32_vector, %eax\n"
    "    mov %eax, jmpf32_fault_vector\n"
    "3:\n"
    /* the real-mode code goes to 0x8000, where it is linked */
    "    cld\n"
    "    mov $__text16_load, %esi\n"
    "    mov $__text16_start, %edi\n"
    "    mov $__text16_end, %ecx\n"
    "    sub %edi, %ecx\n"
    "    rep movsb\n"
    /* IVT entry 0x40: 0x0800:(rm_int_handler - 0x8000) */
    "    movw $(rm_int_handler - text16_base), 0x100\n"
    "    movw $0x0800, 0x102\n"
    "    lidt rm_idt_ptr\n"
    /* to 16-bit protected mode */
    "    pushl $0x38\n"
    "    pushl $pm16_entry\n"
    "    lret\n"
    ".globl back32\n"
    "back32:\n"
    "    mov $0x10, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov %ax, %ss\n"
    "    mov saved_esp32, %esp\n"
    "    lidt idt32_ptr\n"
    "    mov %cs, %eax\n"
    "    mov %eax, back32_cs\n"
    "    movl $1, back32_ok\n"
    "    pop %ebp\n"
    "    pop %edi\n"
    "    pop %esi\n"
    "    pop %ebx\n"
    "    ret\n"
    ".code64\n"

    ".data\n"
    ".globl jmpf32_ok, jmpf32_faulted, jmpf32_fault_vector, back32_cs, back32_ok\n"
    "saved_esp32: .long 0\n"
    "jmpf32_ok: .long 0\n"
    "jmpf32_faulted: .long 0\n"
    "jmpf32_fault_vector: .long 0\n"
    "back32_cs: .long 0\n"
    "back32_ok: .long 0\n"
    "rm_idt_ptr: .word 0x3ff\n"
    "    .long 0\n"

    /* ---- 16-bit code, linked at 0x8000 ---- */
    ".section .text16, \"ax\"\n"
    ".code16\n"
    ".globl text16_base\n"
    "text16_base:\n"
    "pm16_entry:\n"
    "    mov $0x40, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %fs\n"
    "    mov %ax, %gs\n"
    "    mov %ax, %ss\n"
    "    mov %cr0, %eax\n"
    "    and $0xfffffffe, %eax\n"
    "    mov %eax, %cr0\n"
    "    ljmp $0, $rm_entry\n"
    "rm_entry:\n"
    "    xor %ax, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %es\n"
    "    mov %ax, %ss\n"
    "    mov $0x7c00, %sp\n"
    "    mov %cs, rm_cs0\n"
    "    cld\n"
    /* the landing pad: where JMP 0x0800:off lands if it loads CS = 0 instead */
    "    mov $(rm_far - text16_base), %si\n"
    "    mov $landing_save, %di\n"
    "    mov $16, %cx\n"
    "    rep movsb\n"
    "    mov $landing_stub, %si\n"
    "    mov $(rm_far - text16_base), %di\n"
    "    mov $(landing_stub_end - landing_stub), %cx\n"
    "    rep movsb\n"
    "    ljmp $0x0800, $(rm_far - text16_base)\n"
    "rm_far:\n"
    "    mov %cs, rm_cs1\n"
    "    mov $landing_save, %si\n"
    "    mov $(rm_far - text16_base), %di\n"
    "    mov $16, %cx\n"
    "    rep movsb\n"
    "    stc\n"
    "    int $0x40\n"
    ".globl rm_after_int_insn\n"
    "rm_after_int_insn:\n"
    "    setc %al\n"
    "    mov %al, rm_cf_after\n"
    "    movw $1, rm_after_int\n"
    "    mov $0x1234, %ax\n"
    "    mov %ax, %es\n"
    "    movw $0xbeef, %es:0x10\n"
    "    xor %ax, %ax\n"
    "    mov %ax, %es\n"
    "    movl $0x12345678, %eax\n"
    "    mov %eax, rm_wide\n"
    /* back to protected mode, and to 32-bit code with a far return */
    "    mov %cr0, %eax\n"
    "    or $1, %eax\n"
    "    mov %eax, %cr0\n"
    "    pushl $0x30\n"
    "    pushl $back32\n"
    "    lretl\n"
    "rm_int_handler:\n"
    "    mov %cs, rm_int_cs\n"
    "    mov %sp, %bp\n"
    "    mov %sp, rm_sp_in_handler\n"
    "    mov (%bp), %ax\n"
    "    mov %ax, rm_int_ip\n"
    "    mov 2(%bp), %ax\n"
    "    mov %ax, rm_int_frame_cs\n"
    "    mov 4(%bp), %ax\n"
    "    mov %ax, rm_int_flags\n"
    "    pushf\n"
    "    pop %ax\n"
    "    mov %ax, rm_int_flags_inside\n"
    "    clc\n"
    "    iret\n"
    /* run with CS = 0 at linear (rm_far - text16_base): records the bug, goes on at rm_far */
    "landing_stub:\n"
    "    movb $1, rm_jmpf_bug\n"
    "    mov $rm_far, %ax\n"
    "    jmp *%ax\n"
    "landing_stub_end:\n"
    ".if (rm_far - text16_base) > 0xe0\n"
    ".error \"the landing pad would overlap IVT entry 0x40\"\n"
    ".endif\n"
    ".globl rm_cs0, rm_cs1, rm_jmpf_bug, rm_int_cs, rm_int_ip, rm_int_frame_cs, rm_int_flags\n"
    ".globl rm_int_flags_inside, rm_cf_after, rm_after_int, rm_wide, rm_sp_in_handler\n"
    "    .align 4\n"
    "rm_wide: .long 0\n"
    "rm_cs0: .word 0xffff\n"
    "rm_cs1: .word 0xffff\n"
    "rm_jmpf_bug: .word 0\n"
    "rm_int_cs: .word 0xffff\n"
    "rm_int_ip: .word 0\n"
    "rm_int_frame_cs: .word 0\n"
    "rm_int_flags: .word 0\n"
    "rm_int_flags_inside: .word 0xffff\n"
    "rm_cf_after: .word 0\n"
    "rm_after_int: .word 0\n"
    "rm_sp_in_handler: .word 0\n"
    "landing_save: .fill 16, 1, 0\n"
    ".code64\n"
    ".text\n");

/* ---- compatibility mode -------------------------------------------------------------------- */

extern volatile uint32_t compat_cs, compat_dec, compat_push, compat_efer, compat_ljmp_faulted;
extern char compat_code[], compat_fault[];
__asm__(".data\n"
        ".globl compat_cs, compat_dec, compat_push, compat_efer, compat_ljmp_faulted\n"
        "compat_cs: .long 0\n"
        "compat_dec: .long 0\n"
        "compat_push: .long 0\n"
        "compat_efer: .long 0\n"
        "compat_ljmp_faulted: .long 0\n"
        "compat_ptr: .long compat_code\n"
        "    .word 0x30\n"
        ".text\n"
        ".code32\n"
        ".globl compat_code, compat_fault\n"
        "compat_code:\n"
        "    mov %cs, %eax\n"
        "    mov %eax, compat_cs\n"
        "    mov $5, %eax\n"
        "    .byte 0x48\n" /* DEC EAX here; a REX.W prefix in 64-bit mode */
        "    mov %eax, compat_dec\n"
        "    mov %esp, %ecx\n"
        "    push %eax\n"
        "    sub %esp, %ecx\n"
        "    pop %eax\n"
        "    mov %ecx, compat_push\n"
        "    mov $0xc0000080, %ecx\n"
        "    rdmsr\n"
        "    mov %eax, compat_efer\n"
        "    ljmp $0x08, $back64\n"
        "compat_fault:\n" /* the 64-bit IDT's guard resumes here if that far JMP faults */
        "    movl $1, compat_ljmp_faulted\n"
        "    pushl $0x08\n"
        "    pushl $back64\n"
        "    lret\n"
        ".code64\n"
        "back64:\n"
        "    ret\n");

static void test_compat(void)
{
    fault_clear();
    /* A far JMP through memory (FF /5, m16:32) into the 32-bit code segment; compat_code comes
     * back with a far JMP to back64, which returns to here. */
    __asm__ volatile("lea compat_fault(%%rip), %%rax\n\t"
                     "mov %%rax, fault_resume(%%rip)\n\t"
                     "call 1f\n\t"
                     "jmp 2f\n"
                     "1: ljmpl *compat_ptr(%%rip)\n"
                     "2: movq $0, fault_resume(%%rip)\n\t"
                     :
                     :
                     : "rax", "rcx", "rdx", "memory", "cc");
    test_check_eq("modes: compatibility mode CS", compat_cs, SEL_CODE32);
    test_check_eq("modes: 0x48 is DEC EAX in compatibility mode", compat_dec, 4);
    test_check_eq("modes: PUSH is 4 bytes in compatibility mode", compat_push, 4);
    test_check("modes: EFER.LMA still set in compatibility mode", (compat_efer & EFER_LMA) != 0);
    test_check_eq("modes: JMP ptr16:32 from compatibility to 64-bit mode (no fault)",
                  compat_ljmp_faulted, 0);
    if (compat_ljmp_faulted) {
        tprintf("compatibility-mode far JMP: vector %lu, error code %lx\n", last_fault.vector,
                last_fault.error);
    }
    uint64_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    test_check_eq("modes: back in 64-bit mode, CS", cs, SEL_CODE64);
    uint64_t rax = 0;
    __asm__ volatile(".byte 0x48, 0xff, 0xc8" : "+a"(rax)); /* REX.W DEC: dec %rax */
    test_check_eq("modes: 0x48 is REX.W in 64-bit mode", rax, ~0ull);
    fault_clear();
    __asm__ volatile(FAULT_GUARD_BEGIN ".byte 0xea, 0, 0, 0, 0, 0x08, 0\n\t" FAULT_GUARD_END
                     :
                     :
                     : "r11", "memory");
    test_check_eq("modes: JMP ptr16:32 (EA) in 64-bit mode is #UD", last_fault.vector, 6);
}

int main(void)
{
    test_check_eq("modes: multiboot magic in EAX", mb_magic, MB_BOOT_MAGIC);
    test_check("modes: multiboot information in EBX", mb_info != 0);
    test_check_eq("modes: JMP ptr16:32 in 32-bit protected mode arrives", jmpf32_ok, 1);
    if (jmpf32_faulted) {
        tprintf("32-bit far JMP: vector %u\n", jmpf32_fault_vector);
    }
    test_check_eq("modes: real mode: CS after the far JMP from 16-bit protected mode", rm_cs0, 0);
    test_check_eq("modes: real mode: CS after JMP 0x0800:off", rm_cs1, 0x0800);
    test_check_eq("modes: real mode: JMP 0x0800:off did not land at CS 0", rm_jmpf_bug, 0);
    test_check_eq("modes: real mode: INT 0x40 handler runs with the IVT's CS", rm_int_cs, 0x0800);
    test_check_eq("modes: real mode: INT pushes the return IP and CS (linear)",
                  (uint64_t)rm_int_frame_cs * 16 + rm_int_ip, (uint64_t)rm_after_int_insn);
    test_check_eq("modes: real mode: INT pushes 3 words", rm_sp_in_handler, 0x7c00 - 6);
    test_check_eq("modes: real mode: INT pushes FLAGS (CF set)", rm_int_flags & 1, 1);
    test_check_eq("modes: real mode: INT clears IF and TF", rm_int_flags_inside & 0x300, 0);
    test_check_eq("modes: real mode: IRET restores FLAGS (CF)", rm_cf_after, 1);
    test_check_eq("modes: real mode: back after IRET", rm_after_int, 1);
    test_check_eq("modes: real mode: ES 0x1234 + 0x10 is linear 0x12350",
                  *(volatile uint16_t *)0x12350, 0xbeef);
    test_check_eq("modes: real mode: 32-bit operand", rm_wide, 0x12345678);
    test_check_eq("modes: back in 32-bit protected mode", back32_ok, 1);
    test_check_eq("modes: 32-bit protected mode CS", back32_cs, SEL_CODE32);

    uint64_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    test_check_eq("modes: long mode: CS", cs, SEL_CODE64);
    test_check("modes: long mode: EFER.LME and EFER.LMA",
               (rdmsr(MSR_EFER) & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA));
    test_check("modes: long mode: CR0.PG and CR0.PE",
               (read_cr0() & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE));
    test_check("modes: long mode: CR4.PAE", (read_cr4() & CR4_PAE) != 0);
    uint64_t wide = 0x123456789ull;
    __asm__ volatile("add %0, %0" : "+r"(wide));
    test_check_eq("modes: long mode: 64-bit arithmetic", wide, 0x2468acf12ull);
    test_compat();
    return 0;
}
