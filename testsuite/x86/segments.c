/*
 * Segmentation in 32-bit protected mode (entry32_hook, before long mode): expand-up limits,
 * expand-down segments with B set and clear, 32-bit offset wrap-around, a read-only data segment
 * written, segment register loads that fault (execute-only code into DS, not present, read-only
 * into SS, null SS, null ES used), an access past SS's limit (#SS), far JMPs to conforming and
 * non-conforming code segments and past a code segment's limit, LSL and LAR.
 *
 * The 32-bit code records, for each numbered check, 0xffffffff when nothing faulted or
 * (vector << 16) | error code when something did (entry.S's 32-bit IDT and fault32_resume);
 * main reports them. Conforming code is only entered from CPL 0 here: CPL 3 in 32-bit protected
 * mode would need a 32-bit TSS of its own.
 *
 * QEMU 7.2's TCG checks no data-segment limit, write permission or null selector on a data
 * access (only on segment loads), so those checks fail under QEMU; baremetal.exp expects that.
 */
#include "test.h"

#define NO_FAULT 0xffffffffu
#define GP(e)    ((13u << 16) | (e))
#define SS_(e)   ((12u << 16) | (e))
#define NP(e)    ((11u << 16) | (e))

extern volatile uint32_t seg_res[32], seg_val[32];

/* TRY n, instruction: runs it under the 32-bit guard, seg_res[n] says what happened. */
__asm__(".macro TRY n, insn:vararg\n"
        "    movl $1f, fault32_resume\n"
        "    \\insn\n"
        "    movl $0, fault32_resume\n"
        "    movl $0xffffffff, seg_res + 4 * \\n\n"
        "    jmp 2f\n"
        "1:  mov fault32_vector, %eax\n"
        "    shl $16, %eax\n"
        "    or fault32_error, %eax\n"
        "    mov %eax, seg_res + 4 * \\n\n"
        "2:\n"
        ".endm\n"

        ".data\n"
        ".globl seg_res, seg_val\n"
        "    .align 4\n"
        "seg_res: .fill 32, 4, 0x5eed\n"
        "seg_val: .fill 32, 4, 0x5eed\n"
        /* descriptors for GDT entries 11.. (selectors 0x58..) */
        "seg_descs:\n"
        "    .quad 0x0040922000000fff\n" /* 0x58 expand-up RW, base 2 MiB, limit 0xfff */
        "    .quad 0x0040963000000fff\n" /* 0x60 expand-down RW, base 3 MiB, limit 0xfff, B=1 */
        "    .quad 0x0000963000000fff\n" /* 0x68 expand-down RW, base 3 MiB, limit 0xfff, B=0 */
        "    .quad 0x00cf90000000ffff\n" /* 0x70 read-only data, flat */
        "    .quad 0x00cf9e000000ffff\n" /* 0x78 conforming code, DPL 0 */
        "    .quad 0x00cffe000000ffff\n" /* 0x80 conforming code, DPL 3 */
        "    .quad 0x00cf98000000ffff\n" /* 0x88 execute-only code */
        "    .quad 0x00c09200000007ff\n" /* 0x90 RW data, limit 8 MiB (G=1) */
        "    .quad 0x00cf12000000ffff\n" /* 0x98 RW data, not present */
        "    .quad 0x004f9a000000ffff\n" /* 0xa0 32-bit code, limit 1 MiB (G=0) */
        "seg_descs_end:\n"

        ".text\n"
        ".code32\n"
        ".globl entry32_hook\n"
        "entry32_hook:\n"
        "    push %ebx\n"
        "    push %esi\n"
        "    push %edi\n"
        "    cld\n"
        "    mov $seg_descs, %esi\n"
        "    mov $(gdt + 11 * 8), %edi\n"
        "    mov $(seg_descs_end - seg_descs), %ecx\n"
        "    rep movsb\n"

        /* expand-up, limit 0xfff */
        "    mov $0x58, %ax\n"
        "    mov %ax, %es\n"
        "    mov $0x11223344, %ebx\n"
        "    TRY 0, movl %ebx, %es:0xffc\n"
        "    TRY 1, movl %ebx, %es:0xffd\n"
        "    TRY 2, movb %es:0x1000, %bl\n"
        "    TRY 3, movb %es:0xfff, %bl\n"
        /* expand-down, B = 1: offsets 0x1000..0xffffffff */
        "    mov $0x60, %ax\n"
        "    mov %ax, %es\n"
        "    TRY 4, movl %es:0xffc, %ebx\n"
        "    TRY 5, movl %es:0xffe, %ebx\n"
        "    mov $0x55667788, %ebx\n"
        "    TRY 6, movl %ebx, %es:0x1000\n"
        "    mov $0xaabbccdd, %ebx\n"
        "    TRY 7, movl %ebx, %es:0xfffffffc\n" /* base + offset wraps to 0x2ffffc */
        /* expand-down, B = 0: offsets 0x1000..0xffff */
        "    mov $0x68, %ax\n"
        "    mov %ax, %es\n"
        "    TRY 8, movl %es:0xfffc, %ebx\n"
        "    TRY 9, movl %es:0xfffd, %ebx\n"
        "    TRY 10, movl %es:0x10000, %ebx\n"
        "    TRY 11, movl %es:0xfff, %ebx\n"
        /* read-only data */
        "    mov $0x70, %ax\n"
        "    TRY 12, mov %ax, %es\n"
        "    TRY 13, movl %es:seg_val, %ebx\n"
        "    TRY 14, movl %ebx, %es:seg_val\n"
        /* TRY 14's fault path leaves the fault in EAX: the selector again */
        "    mov $0x70, %ax\n"
        "    TRY 15, mov %ax, %ss\n"
        /* segment register loads */
        "    mov $0x88, %ax\n"
        "    TRY 16, mov %ax, %ds\n"
        "    mov $0x98, %ax\n"
        "    TRY 17, mov %ax, %ds\n"
        "    xor %eax, %eax\n"
        "    TRY 18, mov %ax, %es\n"
        "    TRY 19, movl %es:seg_val, %ebx\n"
        "    TRY 20, mov %ax, %ss\n"
        /* SS limit */
        "    mov $0x90, %ax\n"
        "    mov %ax, %ss\n"
        "    TRY 21, movl %ss:0x900000, %ebx\n"
        "    TRY 22, movl %ss:0x7ffffc, %ebx\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ss\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        /* far JMPs */
        "    TRY 23, ljmp $0x7b, $3f\n" /* conforming, DPL 0, RPL 3: CPL stays 0 */
        "    jmp 4f\n"
        "3:  mov %cs, %eax\n"
        "    mov %eax, seg_val + 4 * 23\n"
        "    ljmp $0x30, $5f\n"
        "5:  movl $0, fault32_resume\n"
        "    movl $0xffffffff, seg_res + 4 * 23\n"
        "4:\n"
        "    TRY 24, ljmp $0x80, $6f\n" /* conforming, DPL 3 > CPL 0 */
        "6:\n"
        "    TRY 25, ljmp $0x33, $7f\n" /* non-conforming, RPL 3 > CPL 0 */
        "7:\n"
        "    TRY 26, ljmp $0xa0, $8f\n" /* 8f lies above the 1 MiB limit */
        "8:\n"
        "    mov %cs, %eax\n"
        "    mov %eax, seg_val + 4 * 26\n"
        /* LSL, LAR (guarded too: a CPU without them raises #UD) */
        "    mov $0x58, %eax\n"
        "    TRY 27, lsl %eax, %ebx\n"
        "    mov %ebx, seg_val + 4 * 27\n"
        "    mov $0x70, %eax\n"
        "    TRY 28, lsl %eax, %ebx\n"
        "    mov %ebx, seg_val + 4 * 28\n"
        "    mov $0x60, %eax\n"
        "    TRY 29, lar %eax, %ebx\n"
        "    mov %ebx, seg_val + 4 * 29\n"
        "    mov $0x77, %ebx\n" /* past the GDT limit: ZF clear, destination unchanged */
        "    mov $0x1230, %eax\n"
        "    TRY 30, lsl %eax, %ebx\n"
        "    setz %al\n"
        "    movzbl %al, %eax\n"
        "    shl $8, %ebx\n"
        "    or %eax, %ebx\n"
        "    mov %ebx, seg_val + 4 * 30\n"
        "    mov $0x10, %ax\n"
        "    mov %ax, %ds\n"
        "    mov %ax, %es\n"
        "    mov %ax, %ss\n"
        "    pop %edi\n"
        "    pop %esi\n"
        "    pop %ebx\n"
        "    ret\n"
        ".code64\n");

struct seg_check {
    int index;
    const char *name;
    uint32_t expected;
};

static const struct seg_check checks[] = {
    {0, "seg: expand-up: write of 4 bytes ending at the limit", NO_FAULT},
    {1, "seg: expand-up: write of 4 bytes past the limit: #GP(0)", GP(0)},
    {2, "seg: expand-up: read at limit + 1: #GP(0)", GP(0)},
    {3, "seg: expand-up: read at the limit", NO_FAULT},
    {4, "seg: expand-down (B=1): read at the limit: #GP(0)", GP(0)},
    {5, "seg: expand-down (B=1): read straddling the limit: #GP(0)", GP(0)},
    {6, "seg: expand-down (B=1): write at limit + 1", NO_FAULT},
    {7, "seg: expand-down (B=1): write at 0xfffffffc", NO_FAULT},
    {8, "seg: expand-down (B=0): read at 0xfffc", NO_FAULT},
    {9, "seg: expand-down (B=0): read past 0xffff: #GP(0)", GP(0)},
    {10, "seg: expand-down (B=0): read at 0x10000: #GP(0)", GP(0)},
    {11, "seg: expand-down (B=0): read at the limit: #GP(0)", GP(0)},
    {12, "seg: read-only data segment loads into ES", NO_FAULT},
    {13, "seg: read-only data segment reads", NO_FAULT},
    {14, "seg: read-only data segment written: #GP(0)", GP(0)},
    {15, "seg: read-only data segment into SS: #GP(selector)", GP(0x70)},
    {16, "seg: execute-only code segment into DS: #GP(selector)", GP(0x88)},
    {17, "seg: not-present segment into DS: #NP(selector)", NP(0x98)},
    {18, "seg: null selector into ES", NO_FAULT},
    {19, "seg: access through a null ES: #GP(0)", GP(0)},
    {20, "seg: null selector into SS: #GP(0)", GP(0)},
    {21, "seg: access past SS's limit: #SS(0)", SS_(0)},
    {22, "seg: access at SS's limit", NO_FAULT},
    {23, "seg: far JMP to conforming DPL 0 code with RPL 3", NO_FAULT},
    {24, "seg: far JMP to conforming code with DPL > CPL: #GP(selector)", GP(0x80)},
    {25, "seg: far JMP to non-conforming code with RPL > CPL: #GP(selector)", GP(0x30)},
    {26, "seg: far JMP past the code segment's limit: #GP(0)", GP(0)},
    {27, "seg: LSL of a byte-granular segment runs", NO_FAULT},
    {28, "seg: LSL of a page-granular segment runs", NO_FAULT},
    {29, "seg: LAR runs", NO_FAULT},
    {30, "seg: LSL of a selector past the GDT runs", NO_FAULT},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        test_check_eq(checks[i].name, seg_res[checks[i].index], checks[i].expected);
    }
    test_check_eq("seg: expand-up write landed at base + offset", *(volatile uint32_t *)0x200ffc,
                  0x11223344);
    test_check_eq("seg: expand-down write landed at base + offset", *(volatile uint32_t *)0x301000,
                  0x55667788);
    test_check_eq("seg: base + offset wraps at 4 GiB", *(volatile uint32_t *)0x2ffffc, 0xaabbccdd);
    test_check_eq("seg: CS in conforming code keeps RPL = CPL 0", seg_val[23], 0x78);
    test_check_eq("seg: CS after the faulting far JMPs", seg_val[26], SEL_CODE32);
    test_check_eq("seg: LSL of a byte-granular segment", seg_val[27], 0xfff);
    test_check_eq("seg: LSL of a page-granular segment", seg_val[28], 0xffffffff);
    /* type 7: expand-down, writable, accessed (the loads into ES above set the accessed bit) */
    test_check_eq("seg: LAR of an expand-down data segment", seg_val[29], 0x00409700);
    test_check_eq("seg: LSL past the GDT: ZF clear, destination unchanged", seg_val[30], 0x77 << 8);
    return 0;
}
