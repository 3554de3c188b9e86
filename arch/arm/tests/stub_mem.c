/*
 * The flat test memory of stub_mem.h: little-endian, alignment checked when the caller asks,
 * no translation and no privilege (user accesses are ordinary ones).
 */
#include <setjmp.h>
#include <stdbool.h>

#include "ops.h"
#include "stub_mem.h"

uint8_t mem[MEM_SIZE];
int faults;

static _Noreturn void fault(struct arm_cpu *cpu)
{
    faults++;
    siglongjmp(cpu->fault_jmp, 2);
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
