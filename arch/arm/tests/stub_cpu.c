/*
 * The stubs of stub_cpu.h: exceptions record what they were asked and escape through
 * cpu->fault_jmp where the real ones do not return; exclusives always succeed except STREXD
 * (to exercise the failure path); CP15 reads return their own fields; hints do nothing.
 */
#include <setjmp.h>
#include <stdatomic.h>

#include <coremu/log.h>

#include "ops.h"
#include "stub_cpu.h"

int undefs, exceptions;
enum arm_exception last_exc;
uint32_t last_exc_ret;
uint32_t excl_value;

void arm_take_exception(struct arm_cpu *cpu, enum arm_exception exc, uint32_t return_addr)
{
    exceptions++;
    last_exc = exc;
    last_exc_ret = return_addr;
    cpu->next_pc = exc;
}

_Noreturn void arm_undefined(struct arm_cpu *cpu, const struct arm_uop *op)
{
    undefs++;
    siglongjmp(cpu->fault_jmp, 1);
}

_Noreturn void arm_prefetch_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t fsr)
{
    arm_take_exception(cpu, ARM_EXC_PREFETCH_ABORT, vaddr);
    siglongjmp(cpu->fault_jmp, 1);
}

void arm_exception_return(struct arm_cpu *cpu, uint32_t addr, uint32_t spsr)
{
    arm_cpsr_write(cpu, spsr, 0xffffffffu);
    cpu->next_pc = addr;
}

void stub_vfp_handler(void)
{
}

bool arm_decode_vfp(uint32_t pc, uint32_t insn, bool thumb, struct arm_uop *op)
{
    op->fn = VFP_STUB;
    return true;
}

uint32_t arm_ldrex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size)
{
    return arm_load(cpu, vaddr, size, false, true);
}

bool arm_strex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value)
{
    arm_store(cpu, vaddr, size, value, false, true);
    excl_value = value;
    return true;
}

uint64_t arm_ldrexd(struct arm_cpu *cpu, uint32_t vaddr)
{
    return arm_load64(cpu, vaddr, true);
}

bool arm_strexd(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value)
{
    arm_store64(cpu, vaddr, value, true);
    return false; /* exercise the failure path: Rd = 1 */
}

void arm_clrex(struct arm_cpu *cpu)
{
}

uint32_t arm_swp(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value)
{
    uint32_t old = arm_load(cpu, vaddr, size, false, true);
    arm_store(cpu, vaddr, size, value, false, true);
    return old;
}

void arm_cp15_write(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crn,
                    unsigned crm, unsigned opc2, uint32_t value)
{
}

uint32_t arm_cp15_read(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crn,
                       unsigned crm, unsigned opc2)
{
    return (opc1 << 24) | (crn << 16) | (crm << 8) | opc2;
}

void arm_cp15_write64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crm,
                      uint64_t value)
{
}

uint64_t arm_cp15_read64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crm)
{
    return 0x1122334455667788ull;
}

void arm_wfi(struct arm_cpu *cpu)
{
}

void arm_wfe(struct arm_cpu *cpu)
{
}

void arm_sev(struct arm_cpu *cpu)
{
}

void arm_dsb(struct arm_cpu *cpu)
{
}

void arm_hvc(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t imm16)
{
}

void arm_smc(struct arm_cpu *cpu, const struct arm_uop *op)
{
}

/* What cpu.c's reset and creation need, which the tests never call: they only make the link
 * complete. */
_Atomic uint32_t coremu_log_mask;

void coremu_log(uint32_t cat, const char *fmt, ...)
{
}

void arm_cp15_reset(struct arm_cpu *cpu)
{
}

void arm_tlb_flush_all(struct arm_cpu *cpu)
{
}

int arm_exec_init(struct arm_cpu *cpu, unsigned index)
{
    return 0;
}

void arm_exec_destroy(struct arm_cpu *cpu)
{
}
