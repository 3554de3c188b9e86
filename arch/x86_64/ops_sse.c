/*
 * coremu x86_64 — MMX, SSE to SSE4.2: the vector instructions and their state (MXCSR,
 * FXSAVE/FXRSTOR).
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

/* Nothing yet: every entry of the table must have a handler, so the table starts with a
 * placeholder that the decoder never produces. */
const struct x86_exec_entry x86_exec_table_sse[] = {
    {"(none)", x86_op_ud, 0, X86_EXEC_END},
};
const size_t x86_exec_table_sse_len = sizeof(x86_exec_table_sse) / sizeof(x86_exec_table_sse[0]);
