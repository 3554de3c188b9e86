/*
 * The test library's exception path (start.S vectors, exception_entry, set_exception_hook),
 * which the CPU's exception tests build on: an undefined instruction and an SVC each reach the
 * hook with the right kind and address, and execution resumes where the hook says.
 */
#include "test.h"

static volatile enum exc_kind last_kind;
static volatile uint32_t last_pc;
static volatile uint32_t last_svc_imm;
static volatile uint32_t hits;

static bool hook(enum exc_kind kind, struct exc_frame *f)
{
    last_kind = kind;
    last_pc = f->pc;
    hits++;
    if (kind == EXC_UNDEF) {
        f->pc += 4; /* skip the undefined instruction (ARM state) */
        return true;
    }
    if (kind == EXC_SVC) {
        /* pc is the instruction after the SVC: its immediate is in the word before. */
        last_svc_imm = *(volatile uint32_t *)(uintptr_t)(f->pc - 4) & 0xffffff;
        f->r[0] = 0x5ca1ab1e; /* a result for the caller, as an OS would return one */
        return true;
    }
    return false;
}

int main(void)
{
    set_exception_hook(hook);

    uint32_t udf_addr;
    __asm__ volatile("adr %0, 1f\n"
                     "1:\t.word 0xe7f000f0" /* UDF #0: permanently undefined */
                     : "=r"(udf_addr)
                     :
                     : "memory");
    test_check(hits == 1 && last_kind == EXC_UNDEF, "vectors: UDF reaches the hook",
               "hits %u, kind 0x%x", hits, (uint32_t)last_kind);
    test_check_eq("vectors: UDF reports its own address", last_pc, udf_addr);

    /* We run in SVC mode, so the SVC exception overwrites our own lr (and SPSR_svc). */
    register uint32_t r0 __asm__("r0") = 0;
    uint32_t after;
    __asm__ volatile("svc #0x42\n"
                     "\tadr %1, .\n"
                     : "+r"(r0), "=r"(after)
                     :
                     : "lr", "memory");
    uint32_t result = r0; /* a register variable is only pinned at the asm statement */
    test_check(hits == 2 && last_kind == EXC_SVC, "vectors: SVC reaches the hook",
               "hits %u, kind 0x%x", hits, (uint32_t)last_kind);
    test_check_eq("vectors: SVC reports the address after it", last_pc, after);
    test_check_eq("vectors: SVC immediate", last_svc_imm, 0x42);
    test_check_eq("vectors: SVC result in r0", result, 0x5ca1ab1e);
    set_exception_hook(NULL);
    return 0;
}
