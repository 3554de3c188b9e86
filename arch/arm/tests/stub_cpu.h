/*
 * Stubs for the parts of the ARM CPU that the standalone decoder tests (test_decode_a32.c,
 * test_decode_t32.c) do not link: stub_mem.h's flat memory, and exception, exclusive-monitor,
 * coprocessor and system hooks (stub_cpu.c) that record what the handlers asked for. The CPSR
 * and banked-register functions are the real ones: the tests link cpu.c.
 */
#ifndef COREMU_ARM_TEST_STUB_CPU_H
#define COREMU_ARM_TEST_STUB_CPU_H

#include <stdint.h>

#include "ops.h"
#include "stub_mem.h"

/* What the handlers asked for: UNDEFINED instructions and exceptions taken. */
extern int undefs, exceptions;
extern enum arm_exception last_exc;
extern uint32_t last_exc_ret;
/* The value of the last store-exclusive (which always succeeds but for STREXD). */
extern uint32_t excl_value;
/* The handler arm_decode_vfp gives every encoding: it claims the whole CP10/CP11 and Advanced
 * SIMD space, because the real VFP decoder is tested elsewhere (test_vfp.c). */
void stub_vfp_handler(void);
#define VFP_STUB ((arm_uop_fn)(void (*)(void))stub_vfp_handler)

#endif /* COREMU_ARM_TEST_STUB_CPU_H */
