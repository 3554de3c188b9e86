/*
 * Self-modifying code: stores into code that has run before (its translation must go), into the
 * instruction after the store in the same block (x86 sees the new bytes at once), into code
 * through another virtual mapping of the same physical page, and into an instruction that
 * straddles a page boundary.
 */
#include "test.h"

/* Code that patches itself lives in .data (the identity map lets it run). Each returns EAX. */
extern uint8_t smc_ret_imm[], smc_ret_imm_value[];
extern uint8_t smc_same_block[], smc_same_block_patch[];
extern uint8_t smc_later_op[], smc_later_op_insn[];
extern uint8_t smc_loop[], smc_loop_imm[];
__asm__(".pushsection .data\n"
        /* mov $1, %eax; ret — the immediate is patched from C between calls */
        ".globl smc_ret_imm, smc_ret_imm_value\n"
        "smc_ret_imm:\n"
        "    .byte 0xb8\n"
        "smc_ret_imm_value:\n"
        "    .long 1\n"
        "    ret\n"
        /* patches the immediate of the very next instruction, then runs it (EDI = new value) */
        ".globl smc_same_block, smc_same_block_patch\n"
        "smc_same_block:\n"
        "    mov %edi, smc_same_block_patch+1(%rip)\n"
        "smc_same_block_patch:\n"
        "    mov $0x11111111, %eax\n"
        "    ret\n"
        /* replaces an INC by a DEC a few instructions further on in the same block */
        ".globl smc_later_op, smc_later_op_insn\n"
        "smc_later_op:\n"
        "    mov $100, %eax\n"
        "    movb $0xc8, smc_later_op_insn+1(%rip)\n"
        "    nop\n"
        "    nop\n"
        "smc_later_op_insn:\n"
        "    inc %eax\n" /* ff c0; ff c8 is dec %eax */
        "    ret\n"
        /* a loop that rewrites its own add immediate on every iteration: the sum of 1..ECX */
        ".globl smc_loop, smc_loop_imm\n"
        "smc_loop:\n"
        "    xor %eax, %eax\n"
        "    mov $1, %edx\n"
        "1:  mov %edx, smc_loop_imm(%rip)\n"
        "    .byte 0x05\n" /* add $imm32, %eax */
        "smc_loop_imm:\n"
        "    .long 0\n"
        "    inc %edx\n"
        "    cmp %ecx, %edx\n"
        "    jbe 1b\n"
        "    ret\n"
        ".popsection\n");

static uint32_t call_code(const void *code, uint64_t rdi, uint64_t rcx)
{
    uint32_t r;
    __asm__ volatile("call *%1"
                     : "=a"(r)
                     : "r"(code), "D"(rdi), "c"(rcx)
                     : "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
    return r;
}

static void store32(void *p, uint32_t v)
{
    *(volatile uint32_t *)p = v;
}

int main(void)
{
    /* Code that ran before, patched from elsewhere. */
    test_check_eq("smc: first run", call_code(smc_ret_imm, 0, 0), 1);
    store32(smc_ret_imm_value, 2);
    test_check_eq("smc: code run before, patched", call_code(smc_ret_imm, 0, 0), 2);
    uint32_t bad = 0;
    for (uint32_t i = 3; i < 40; i++) {
        store32(smc_ret_imm_value, i);
        if (call_code(smc_ret_imm, 0, 0) != i) {
            bad++;
        }
    }
    test_check_eq("smc: patched 37 more times, each seen", bad, 0);

    /* The next instruction in the same block. */
    test_check_eq("smc: store into the next instruction of the running block",
                  call_code(smc_same_block, 0x22222222, 0), 0x22222222);
    test_check_eq("smc: and again with another value", call_code(smc_same_block, 0x3456789a, 0),
                  0x3456789a);
    test_check_eq("smc: INC replaced by DEC further on in the same block",
                  call_code(smc_later_op, 0, 0), 99);
    smc_later_op_insn[1] = 0xc0;
    test_check_eq("smc: and put back from outside", call_code(smc_later_op, 0, 0), 99);
    test_check_eq("smc: a loop rewriting its own immediate: sum 1..10", call_code(smc_loop, 0, 10),
                  55);
    test_check_eq("smc: a loop rewriting its own immediate: sum 1..300",
                  call_code(smc_loop, 0, 300), 45150);

    /* Through an alias: the same physical page at another virtual address. */
    uint8_t *page = page_alloc();
    const uint8_t code[] = {0xb8, 0x44, 0x33, 0x22, 0x11, 0xc3}; /* mov $0x11223344, %eax; ret */
    memcpy(page, code, sizeof(code));
    const uint64_t alias = TEST_VA_BASE + 0x40000;
    map_page(alias, (uint64_t)page, PTE_P | PTE_W);
    test_check_eq("smc: code page run", call_code(page, 0, 0), 0x11223344);
    store32((uint8_t *)alias + 1, 0x55667788);
    test_check_eq("smc: stored through another mapping of the page", call_code(page, 0, 0),
                  0x55667788);
    test_check_eq("smc: run through that other mapping", call_code((void *)alias, 0, 0),
                  0x55667788);
    store32(page + 1, 0x99aabbcc);
    test_check_eq("smc: patched at the first mapping, run through the second",
                  call_code((void *)alias, 0, 0), 0x99aabbcc);

    /* An instruction across a page boundary: its immediate's last byte on the second page. */
    uint8_t *two = page_alloc();
    uint8_t *two_next = page_alloc();
    (void)two_next;
    if (two_next != two + 4096) {
        test_fail("smc: page_alloc gives contiguous pages", "not contiguous");
    }
    uint8_t *insn = two + 4096 - 3;
    const uint8_t straddle[] = {0xb8, 0x01, 0x02, 0x03, 0x04, 0xc3};
    memcpy(insn, straddle, sizeof(straddle));
    test_check_eq("smc: instruction across a page boundary", call_code(insn, 0, 0), 0x04030201);
    two_next[1] = 0x40; /* the immediate's last byte, on the second page */
    test_check_eq("smc: its second page patched", call_code(insn, 0, 0), 0x40030201);
    two[4095] = 0x20; /* its second byte, on the first page */
    test_check_eq("smc: its first page patched", call_code(insn, 0, 0), 0x40032001);
    return 0;
}
