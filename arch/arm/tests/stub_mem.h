/*
 * A flat test memory for the standalone ARM tests (test_decode_a32.c, test_decode_t32.c,
 * test_vfp.c), in place of the MMU and memory.c: MEM_SIZE bytes at MEM_BASE, everything else a
 * fault. stub_mem.c implements arm_load/arm_store and their 64-bit forms over it.
 */
#ifndef COREMU_ARM_TEST_STUB_MEM_H
#define COREMU_ARM_TEST_STUB_MEM_H

#include <stdint.h>

#define MEM_BASE 0x1000u
#define MEM_SIZE 0x10000u

/* The memory, and how many accesses faulted. A fault longjmps to cpu->fault_jmp with 2, so
 * that a test can tell it from an UNDEFINED instruction (which the stubs jump with 1). */
extern uint8_t mem[MEM_SIZE];
extern int faults;

#endif /* COREMU_ARM_TEST_STUB_MEM_H */
