/*
 * coremu x86_64 — lazy arithmetic flags.
 *
 * Most instructions that write CF PF AF ZF SF OF are followed by another that overwrites them
 * before anything reads them, so flag writers only record their operation, size, result and
 * operands (x86_flags_lazy); the flags are computed here when read. Conditions (Jcc, SETcc,
 * CMOVcc) after a compare or a logical operation are decided straight from the operands,
 * without building the flags word. Instructions whose flags are costly to record lazily
 * (shifts, multiplies, bit tests...) compute them eagerly (x86_flags_set).
 *
 * The formulas (Intel SDM Vol. 1 3.4.3.1 and each instruction's "Flags Affected"): with the
 * operands and result truncated to the operand size,
 *   carry of an addition        result < src1 (or result <= src1 with a carry in)
 *   borrow of a subtraction     src1 < src2 (or src1 <= src2 with a borrow in)
 *   overflow of an addition     src1 and src2 have one sign and the result the other
 *   overflow of a subtraction   src1 and src2 differ in sign, and the result's differs from src1
 *   AF                          bit 4 of src1 ^ src2 ^ result (the carry into bit 4)
 *   PF                          even parity of the result's low byte
 */
#include "config.h"

#include "cpu.h"

uint32_t x86_flags_compute(const struct x86_cpu *cpu)
{
    /* eager flags (x86_flags_set) leave cc_size as it was, 0 at reset: no size arithmetic */
    if (cpu->cc_op == X86_CC_EFLAGS) {
        return (uint32_t)cpu->cc_src1 & X86_ARITH_FLAGS;
    }
    unsigned size = cpu->cc_size;
    uint64_t mask = x86_size_mask(size), sign = x86_sign_bit(size);
    uint64_t dst = cpu->cc_dst & mask, a = cpu->cc_src1 & mask, b = cpu->cc_src2 & mask;
    uint32_t f = 0;

    switch ((enum x86_cc_op)cpu->cc_op) {
    case X86_CC_EFLAGS:
        return (uint32_t)cpu->cc_src1 & X86_ARITH_FLAGS;
    case X86_CC_ADD:
        f |= dst < a ? X86_CF : 0;
        f |= ((a ^ dst) & (b ^ dst) & sign) ? X86_OF : 0;
        f |= (uint32_t)((a ^ b ^ dst) & X86_AF);
        break;
    case X86_CC_ADC:
        f |= (cpu->cc_aux ? dst <= a : dst < a) ? X86_CF : 0;
        f |= ((a ^ dst) & (b ^ dst) & sign) ? X86_OF : 0;
        f |= (uint32_t)((a ^ b ^ dst) & X86_AF);
        break;
    case X86_CC_SUB:
        f |= a < b ? X86_CF : 0;
        f |= ((a ^ b) & (a ^ dst) & sign) ? X86_OF : 0;
        f |= (uint32_t)((a ^ b ^ dst) & X86_AF);
        break;
    case X86_CC_SBB:
        f |= (cpu->cc_aux ? a <= b : a < b) ? X86_CF : 0;
        f |= ((a ^ b) & (a ^ dst) & sign) ? X86_OF : 0;
        f |= (uint32_t)((a ^ b ^ dst) & X86_AF);
        break;
    case X86_CC_LOGIC:
        break;
    case X86_CC_SHIFT:
        f |= (cpu->cc_aux & 1) ? X86_CF : 0;
        f |= (cpu->cc_aux & 2) ? X86_OF : 0;
        break;
    case X86_CC_INC:
        f |= cpu->cc_aux ? X86_CF : 0;
        f |= dst == sign ? X86_OF : 0;
        f |= (uint32_t)((a ^ 1 ^ dst) & X86_AF);
        break;
    case X86_CC_DEC:
        f |= cpu->cc_aux ? X86_CF : 0;
        f |= dst == sign - 1 ? X86_OF : 0;
        f |= (uint32_t)((a ^ 1 ^ dst) & X86_AF);
        break;
    }
    f |= dst == 0 ? X86_ZF : 0;
    f |= (dst & sign) ? X86_SF : 0;
    f |= x86_parity(dst);
    return f;
}

bool x86_flag_cf(const struct x86_cpu *cpu)
{
    uint64_t mask = x86_size_mask(cpu->cc_size);
    uint64_t dst = cpu->cc_dst & mask, a = cpu->cc_src1 & mask, b = cpu->cc_src2 & mask;

    switch ((enum x86_cc_op)cpu->cc_op) {
    case X86_CC_EFLAGS:
        return (cpu->cc_src1 & X86_CF) != 0;
    case X86_CC_ADD:
        return dst < a;
    case X86_CC_ADC:
        return cpu->cc_aux ? dst <= a : dst < a;
    case X86_CC_SUB:
        return a < b;
    case X86_CC_SBB:
        return cpu->cc_aux ? a <= b : a < b;
    case X86_CC_LOGIC:
        return false;
    case X86_CC_INC:
    case X86_CC_DEC:
        return cpu->cc_aux != 0;
    case X86_CC_SHIFT:
        return (cpu->cc_aux & 1) != 0;
    }
    return false;
}

/* A condition from a flags word: cc's even member; odd members negate it (SDM Vol. 1 B.1). */
static bool cond_of_flags(uint32_t f, unsigned cc)
{
    bool r;

    switch (cc >> 1) {
    case 0: /* O */
        r = (f & X86_OF) != 0;
        break;
    case 1: /* B / C */
        r = (f & X86_CF) != 0;
        break;
    case 2: /* E / Z */
        r = (f & X86_ZF) != 0;
        break;
    case 3: /* BE */
        r = (f & (X86_CF | X86_ZF)) != 0;
        break;
    case 4: /* S */
        r = (f & X86_SF) != 0;
        break;
    case 5: /* P */
        r = (f & X86_PF) != 0;
        break;
    case 6: /* L: SF != OF */
        r = ((f & X86_SF) != 0) != ((f & X86_OF) != 0);
        break;
    default: /* LE: ZF or SF != OF */
        r = (f & X86_ZF) || (((f & X86_SF) != 0) != ((f & X86_OF) != 0));
        break;
    }
    return (cc & 1) ? !r : r;
}

bool x86_cond(const struct x86_cpu *cpu, unsigned cc)
{
    unsigned size = cpu->cc_size;
    uint64_t mask = x86_size_mask(size);
    bool r;

    /* The common cases, straight from the operands: after CMP/SUB... */
    if (cpu->cc_op == X86_CC_SUB && (cc >> 1) != 0 && (cc >> 1) != 5 && (cc >> 1) != 4) {
        uint64_t a = cpu->cc_src1 & mask, b = cpu->cc_src2 & mask;
        int64_t sa = x86_sext(a, size), sb = x86_sext(b, size);
        switch (cc >> 1) {
        case 1:
            r = a < b;
            break;
        case 2:
            r = a == b;
            break;
        case 3:
            r = a <= b;
            break;
        case 6:
            r = sa < sb;
            break;
        default:
            r = sa <= sb;
            break;
        }
        return (cc & 1) ? !r : r;
    }
    /* ...and after TEST/AND/OR/XOR (CF = OF = 0). */
    if (cpu->cc_op == X86_CC_LOGIC && (cc >> 1) != 5) {
        uint64_t d = cpu->cc_dst & mask;
        bool neg = (d & x86_sign_bit(size)) != 0;
        switch (cc >> 1) {
        case 0:
        case 1:
            r = false;
            break;
        case 2:
        case 3:
            r = d == 0;
            break;
        case 4:
        case 6:
            r = neg;
            break;
        default:
            r = d == 0 || neg;
            break;
        }
        return (cc & 1) ? !r : r;
    }
    return cond_of_flags(x86_flags_compute(cpu), cc);
}

uint64_t x86_rflags_read(const struct x86_cpu *cpu)
{
    return (cpu->rflags & ~(uint64_t)X86_ARITH_FLAGS) | x86_flags_compute(cpu) | 2u;
}

void x86_rflags_write(struct x86_cpu *cpu, uint64_t value)
{
    x86_flags_set(cpu, (uint32_t)value);
    cpu->rflags = (value & ~(uint64_t)X86_ARITH_FLAGS) | 2u;
}
