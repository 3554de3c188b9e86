/*
 * coremu x86_64 — what the instruction handlers (ops_*.c) share with the block builder: the
 * execution table that maps the decoder's mnemonics to handlers, operand building, and the
 * handlers' declarations.
 *
 * A handler is enum x86_result x86_op_NAME(struct x86_cpu *, const struct x86_uop *). It reads
 * its operands with x86_opnd_read (or directly from the micro-op), does every access that may
 * fault before it writes any register, and returns X86_BRANCH after writing cpu->next_rip when
 * it transfers control. Instructions that may jump, change the context word (mode, CPL, stack
 * size) or the address space are marked X86_EXEC_END in the table, so they end their block.
 */
#ifndef COREMU_X86_64_OPS_H
#define COREMU_X86_64_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "decode.h"

/* x86_exec_entry.flags */
#define X86_EXEC_END 0x01u /* ends its block (jumps, mode and address-space changes) */

struct x86_exec_entry {
    const char *mnemonic; /* as decode.c's rows name it */
    x86_fn fn;
    uint8_t sub;   /* the handler's sub-operation */
    uint8_t flags; /* X86_EXEC_* */
};

/* The execution tables of the floating-point and vector units (ops_x87.c, ops_sse.c). */
extern const struct x86_exec_entry x86_exec_table_x87[];
extern const size_t x86_exec_table_x87_len;
extern const struct x86_exec_entry x86_exec_table_sse[];
extern const size_t x86_exec_table_sse_len;

/* The entry of a mnemonic, or NULL when it has no handler yet (the instruction raises #UD). */
const struct x86_exec_entry *x86_exec_lookup(const char *mnemonic);

/* Fills op's operands from the decoded instruction (operand.c). false: a code it does not know
 * (the instruction is then #UD). */
bool x86_build_operands(const struct x86_insn *in, bool in64, uint64_t pc, struct x86_uop *op);

/* Gives the micro-op a specialised threaded handler when its shape has one (ops_fast.c). */
bool x86_specialise(struct x86_uop *op, uint32_t ctx);

/* Whether the CPUID feature (enum x86_feature) is advertised, so its instructions run (cpu.c). */
bool x86_feature_enabled(const struct x86_cpu *cpu, unsigned feature);

#define X86_OP(name) enum x86_result x86_op_##name(struct x86_cpu *cpu, const struct x86_uop *op)

/* Sub-operations of x86_op_alu (the group-1 order). */
enum { X86_ALU_ADD, X86_ALU_OR, X86_ALU_ADC, X86_ALU_SBB, X86_ALU_AND, X86_ALU_SUB, X86_ALU_XOR,
       X86_ALU_CMP, X86_ALU_TEST };
/* Sub-operations of x86_op_shift (the group-2 order). */
enum { X86_SH_ROL, X86_SH_ROR, X86_SH_RCL, X86_SH_RCR, X86_SH_SHL, X86_SH_SHR, X86_SH_SAL,
       X86_SH_SAR };

/* The arithmetic and lazy flags of x86_op_alu's sub-operations (carry: ADC/SBB's carry in). */
static inline uint64_t x86_alu_compute(struct x86_cpu *cpu, unsigned sub, unsigned size,
                                       uint64_t a, uint64_t b, bool carry)
{
    uint64_t m = x86_size_mask(size), r;

    switch (sub) {
    case X86_ALU_ADD:
        r = (a + b) & m;
        x86_flags_lazy(cpu, X86_CC_ADD, size, r, a, b);
        return r;
    case X86_ALU_ADC:
        r = (a + b + carry) & m;
        x86_flags_lazy(cpu, X86_CC_ADC, size, r, a, b);
        cpu->cc_aux = carry;
        return r;
    case X86_ALU_SUB:
    case X86_ALU_CMP:
        r = (a - b) & m;
        x86_flags_lazy(cpu, X86_CC_SUB, size, r, a, b);
        return r;
    case X86_ALU_SBB:
        r = (a - b - carry) & m;
        x86_flags_lazy(cpu, X86_CC_SBB, size, r, a, b);
        cpu->cc_aux = carry;
        return r;
    case X86_ALU_AND:
    case X86_ALU_TEST:
        r = a & b;
        break;
    case X86_ALU_OR:
        r = a | b;
        break;
    default:
        r = a ^ b;
        break;
    }
    x86_flags_lazy(cpu, X86_CC_LOGIC, size, r, 0, 0);
    return r;
}

/* ops_int.c */
X86_OP(alu);
X86_OP(inc);
X86_OP(dec);
X86_OP(not);
X86_OP(neg);
X86_OP(shift);
X86_OP(shld);
X86_OP(shrd);
X86_OP(mul1);
X86_OP(imul1);
X86_OP(imul2);
X86_OP(div);
X86_OP(idiv);
X86_OP(mov);
X86_OP(movzx);
X86_OP(movsx);
X86_OP(movsxd);
X86_OP(lea);
X86_OP(xchg);
X86_OP(cmpxchg);
X86_OP(xadd);
X86_OP(bswap);
X86_OP(bt);
X86_OP(bsf);
X86_OP(bsr);
X86_OP(tzcnt);
X86_OP(lzcnt);
X86_OP(popcnt);
X86_OP(setcc);
X86_OP(cmovcc);
X86_OP(cbw);
X86_OP(cwd);
X86_OP(lahf);
X86_OP(sahf);
X86_OP(clc);
X86_OP(stc);
X86_OP(cmc);
X86_OP(cld);
X86_OP(std);
X86_OP(nop);
X86_OP(movbe);
X86_OP(cmpxchg8b);
X86_OP(xlat);
X86_OP(imul);
X86_OP(mov_any);

/* ops_branch.c */
X86_OP(jmp);
X86_OP(jcc);
X86_OP(jmp_ind);
X86_OP(call);
X86_OP(call_ind);
X86_OP(ret);
X86_OP(loop);
X86_OP(jrcxz);
X86_OP(push);
X86_OP(pop);
X86_OP(pushf);
X86_OP(popf);
X86_OP(leave);
X86_OP(enter);

/* ops_string.c */
X86_OP(movs);
X86_OP(stos);
X86_OP(lods);
X86_OP(scas);
X86_OP(cmps);
X86_OP(ins);
X86_OP(outs);

/* ops_system.c */
X86_OP(hlt);
X86_OP(cli);
X86_OP(sti);
X86_OP(cpuid);
X86_OP(rdtsc);
X86_OP(rdtscp);
X86_OP(rdmsr);
X86_OP(wrmsr);
X86_OP(mov_cr);
X86_OP(mov_dr);
X86_OP(in);
X86_OP(out);
X86_OP(lgdt);
X86_OP(lidt);
X86_OP(sgdt);
X86_OP(sidt);
X86_OP(lldt);
X86_OP(ltr);
X86_OP(sldt);
X86_OP(str);
X86_OP(invlpg);
X86_OP(invpcid);
X86_OP(mov_seg);
X86_OP(push_seg);
X86_OP(pop_seg);
X86_OP(lseg);
X86_OP(jmpf);
X86_OP(callf);
X86_OP(retf);
X86_OP(iret);
X86_OP(int);
X86_OP(int3);
X86_OP(into);
X86_OP(syscall);
X86_OP(sysret);
X86_OP(swapgs);
X86_OP(clts);
X86_OP(smsw);
X86_OP(lmsw);
X86_OP(wbinvd);
X86_OP(pause);
X86_OP(fence);
X86_OP(rdfsbase);
X86_OP(wrfsbase);
X86_OP(ud);
X86_OP(int1);
X86_OP(jmp_any);
X86_OP(call_any);
X86_OP(push_any);
X86_OP(pop_any);

/* ops_legacy.c */
X86_OP(pusha);
X86_OP(popa);
X86_OP(daa);
X86_OP(aaa);
X86_OP(aam);
X86_OP(aad);
X86_OP(bound);
X86_OP(arpl);
X86_OP(lar);
X86_OP(verr);
X86_OP(sysenter);
X86_OP(sysexit);

/* ops_xsave.c */
X86_OP(xsave);
X86_OP(xrstor);
X86_OP(xgetbv);
X86_OP(xsetbv);

#endif /* COREMU_X86_64_OPS_H */
