/*
 * Stubs for the parts of the ARM CPU that the standalone decoder tests (test_decode_a32.c,
 * test_decode_t32.c) do not link: a flat memory at MEM_BASE, and exception, coprocessor and
 * system hooks that record what the handlers asked for. Each test program includes it once.
 */
#ifndef COREMU_ARM_TEST_STUB_CPU_H
#define COREMU_ARM_TEST_STUB_CPU_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

#define MEM_BASE 0x1000u
#define MEM_SIZE 0x10000u
static uint8_t mem[MEM_SIZE];
static int faults, undefs, exceptions;
static enum arm_exception last_exc;
static uint32_t last_exc_ret;

static _Noreturn void fault(struct arm_cpu *cpu)
{
    faults++;
    siglongjmp(cpu->fault_jmp, 1);
}

static uint8_t *mem_at(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool aligned)
{
    if (vaddr < MEM_BASE || vaddr + size > MEM_BASE + MEM_SIZE || vaddr + size < vaddr ||
        (aligned && (vaddr & (size - 1)) != 0)) {
        fault(cpu);
    }
    return &mem[vaddr - MEM_BASE];
}

uint32_t arm_load(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool user, bool aligned)
{
    uint8_t *p = mem_at(cpu, vaddr, size, aligned);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

void arm_store(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value, bool user,
               bool aligned)
{
    uint8_t *p = mem_at(cpu, vaddr, size, aligned);
    for (unsigned i = 0; i < size; i++) {
        p[i] = (uint8_t)(value >> (8 * i));
    }
}

uint64_t arm_load64(struct arm_cpu *cpu, uint32_t vaddr, bool aligned)
{
    mem_at(cpu, vaddr, 8, aligned);
    return arm_load(cpu, vaddr, 4, false, false) |
           ((uint64_t)arm_load(cpu, vaddr + 4, 4, false, false) << 32);
}

void arm_store64(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value, bool aligned)
{
    mem_at(cpu, vaddr, 8, aligned);
    arm_store(cpu, vaddr, 4, (uint32_t)value, false, false);
    arm_store(cpu, vaddr + 4, 4, (uint32_t)(value >> 32), false, false);
}

int arm_mode_bank(unsigned mode)
{
    switch (mode) {
    case ARM_MODE_USR:
    case ARM_MODE_SYS:
        return ARM_BANK_USR;
    case ARM_MODE_FIQ:
        return ARM_BANK_FIQ;
    case ARM_MODE_IRQ:
        return ARM_BANK_IRQ;
    case ARM_MODE_SVC:
        return ARM_BANK_SVC;
    case ARM_MODE_ABT:
        return ARM_BANK_ABT;
    case ARM_MODE_UND:
        return ARM_BANK_UND;
    default:
        return -1;
    }
}

bool arm_mode_valid(unsigned mode)
{
    return arm_mode_bank(mode) >= 0;
}

uint32_t arm_cpsr_read(const struct arm_cpu *cpu)
{
    return (cpu->cpsr_nzcv & 0xf0000000u) | cpu->cpsr_q | (cpu->cpsr_ge << 16) |
           (cpu->cpsr_rest & 0x3ffu);
}

void arm_switch_mode(struct arm_cpu *cpu, enum arm_mode mode)
{
    int ob = arm_mode_bank(arm_cpu_mode(cpu)), nb = arm_mode_bank(mode);
    if (ob != nb) {
        cpu->banked_r13[ob] = cpu->r[13];
        cpu->banked_r14[ob] = cpu->r[14];
        cpu->r[13] = cpu->banked_r13[nb];
        cpu->r[14] = cpu->banked_r14[nb];
    }
    cpu->cpsr_rest = (cpu->cpsr_rest & ~0x1fu) | mode;
}

void arm_cpsr_write(struct arm_cpu *cpu, uint32_t value, uint32_t mask)
{
    value &= mask;
    cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~(mask & 0xf0000000u)) | (value & 0xf0000000u);
    if (mask & ARM_CPSR_Q) {
        cpu->cpsr_q = value & ARM_CPSR_Q;
    }
    cpu->cpsr_ge = (cpu->cpsr_ge & ~(mask >> 16 & 0xf)) | (value >> 16 & 0xf);
    if (mask & 0x1f) {
        arm_switch_mode(cpu, (enum arm_mode)(value & 0x1f));
    }
    cpu->cpsr_rest = (cpu->cpsr_rest & ~(mask & 0x3e0u)) | (value & 0x3e0u);
}

uint32_t arm_get_user_reg(struct arm_cpu *cpu, unsigned n)
{
    if ((n == 13 || n == 14) && arm_mode_bank(arm_cpu_mode(cpu)) != ARM_BANK_USR) {
        return n == 13 ? cpu->banked_r13[0] : cpu->banked_r14[0];
    }
    return cpu->r[n];
}

void arm_set_user_reg(struct arm_cpu *cpu, unsigned n, uint32_t value)
{
    if ((n == 13 || n == 14) && arm_mode_bank(arm_cpu_mode(cpu)) != ARM_BANK_USR) {
        (n == 13 ? cpu->banked_r13 : cpu->banked_r14)[0] = value;
    } else {
        cpu->r[n] = value;
    }
}

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

static void vfp_stub_handler_fn(void)
{
}
#define VFP_STUB ((arm_uop_fn)(void (*)(void))vfp_stub_handler_fn)

/* Claims the whole CP10/CP11 and Advanced SIMD space: the real decoder is tested elsewhere. */
bool arm_decode_vfp(uint32_t pc, uint32_t insn, bool thumb, struct arm_uop *op)
{
    op->fn = VFP_STUB;
    return true;
}

static uint32_t excl_value;
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
uint64_t arm_cp15_read64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                         unsigned crm)
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

#endif /* COREMU_ARM_TEST_STUB_CPU_H */
