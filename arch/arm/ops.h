/*
 * coremu ARM — micro-op handlers (one per ARM ARM instruction) and the helpers they share.
 *
 * A handler is `enum arm_uop_result arm_op_NAME(struct arm_cpu *cpu, const struct arm_uop *op)`
 * (cpu.h). The executor has already checked op->cond. Handlers:
 *   - read registers through arm_reg(), never cpu->r[15] directly (r[15] is not the operand
 *     value of the PC: ARM reads pc+8, Thumb pc+4);
 *   - never write cpu->r[15]: a PC write sets cpu->next_pc and returns ARM_BRANCH;
 *   - change no architectural register before their last memory access, which may escape
 *     (siglongjmp) on a fault;
 *   - depend on no encoding detail: decoders (A32 and T32) fill the fields documented here.
 *
 * Field conventions of struct arm_uop used by the integer handlers:
 *   data processing   _imm: rd, rn, imm (expanded), carry (ExpandImm_C carry: 0/1, 2 = keep C)
 *                     _reg: rd, rn, rm, shift_type (0-4, 4 = RRX), shift_n (DecodeImmShift)
 *                     _rsr: rd, rn, rm, rs, shift_type (0-3); flags S
 *   ADR               rd, imm, flags U
 *   MOVW/MOVT         rd, imm (16 bits)
 *   BFC/BFI           rd, rn (BFI), imm = lsb, imm2 = msb
 *   SBFX/UBFX         rd, rn, imm = lsb, imm2 = width - 1
 *   extend            rd, rn (the A forms), rm, shift_n = rotation (0, 8, 16, 24)
 *   PKHBT/PKHTB       rd, rn, rm, shift_type/shift_n applied to Rm
 *   SSAT/USAT         rd, rn, imm = saturate-to bit count, shift_type (LSL/ASR) and shift_n
 *   SSAT16/USAT16     rd, rn, imm = saturate-to bit count
 *   QADD...QDSUB      rd, rm, rn (QADD Rd = Rm + Rn, as the ARM ARM writes them)
 *   multiplies        rd, rn, rm, ra (accumulator); long forms: rd = RdLo, ra = RdHi
 *                     SMUL<x><y>/SMLA<x><y>/SMLAL<x><y>: imm = Rn shift, imm2 = Rm shift (0/16)
 *                     SMULW<y>/SMLAW<y>: imm2 = Rm shift; SMUAD.. SMLSLD: imm = 1 to swap Rm
 *                     halves (X); SMMUL/SMMLA/SMMLS: imm = 1 to round (R)
 *   loads/stores      rd = Rt, ra = Rt2 (D forms), rn, flags P U W,
 *                     _imm: imm = offset; _reg: rm, shift_type, shift_n; _lit: imm, flags U
 *                     (address Align(PC,4) +/- imm). Write-back happens when !P || W, so the
 *                     A32 T forms (post-indexed) come with P = 0 and T32 ones with P = 1, W = 0.
 *   LDM/STM           rn, imm = register list, flags W (and P/U for the user-register and
 *                     exception-return forms: IA P=0 U=1, IB P=1 U=1, DA P=0 U=0, DB P=1 U=0)
 *   exclusives        LDREX*: rd = Rt, ra = Rt2, rn, imm = offset; STREX*: rd = status Rd,
 *                     rm = Rt, ra = Rt2, rn, imm = offset
 *   SWP/SWPB          rd = Rt, rm = Rt2 (value stored), rn
 *   B/BL/BLX(imm)     imm = target address (resolved by the decoder)
 *   BX/BLX(reg)       rm
 *   CBZ/CBNZ          rn, imm = target address (T32 only)
 *   TBB/TBH           rn (table base), rm (index) (T32 only)
 *   IT                imm = firstcond:mask, the ITSTATE the instruction sets (T32 only)
 *   SVC/BKPT/HVC/SMC  imm = the immediate
 *   CPS               imm = A/I/F bits (CPSR positions), shift_type = imod (2 enable,
 *                     3 disable, 0 none), imm2 = new mode or 0 for none
 *   SETEND            imm = 1 for big-endian
 *   SRS               imm = mode, flags P U W;  RFE: rn, flags P U W
 *   MRS               rd, imm2 = 1 for SPSR;  MSR: imm (immediate form) or rn (register form),
 *                     imm2 = field mask (bits 3..0: f s x c) | 0x10 for SPSR
 *   MCR/MRC           rs = coprocessor, rd = Rt, imm = opc1, rn = CRn, rm = CRm, imm2 = opc2
 *   MCRR/MRRC         rs = coprocessor, rd = Rt, ra = Rt2, imm = opc1, rm = CRm
 *   DMB/DSB/ISB       imm = option
 */
#ifndef COREMU_ARM_OPS_H
#define COREMU_ARM_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

#define ARM_OP(name) \
    enum arm_uop_result arm_op_##name(struct arm_cpu *cpu, const struct arm_uop *op)

/* ---- helpers shared by the handlers --------------------------------------------------------- */

#define ARM_FLAG_N (1u << 31)
#define ARM_FLAG_Z (1u << 30)
#define ARM_FLAG_C (1u << 29)
#define ARM_FLAG_V (1u << 28)
#define ARM_FLAGS_NZCV 0xf0000000u

/* Shift types of struct arm_uop.shift_type (SRType). */
enum arm_shift_type { ARM_SHIFT_LSL, ARM_SHIFT_LSR, ARM_SHIFT_ASR, ARM_SHIFT_ROR, ARM_SHIFT_RRX };

/* R[n] as an operand: the PC reads as the address of the instruction plus 8 (ARM) or 4. */
static inline uint32_t arm_reg(const struct arm_cpu *cpu, const struct arm_uop *op, unsigned n)
{
    return n == 15 ? arm_pc_operand(op) : cpu->r[n];
}

static inline unsigned arm_flag_c(const struct arm_cpu *cpu)
{
    return (cpu->cpsr_nzcv >> 29) & 1;
}

static inline uint32_t arm_nz(uint32_t result)
{
    return (result & ARM_FLAG_N) | (result == 0 ? ARM_FLAG_Z : 0);
}

/* N and Z from result; C and V unchanged. */
static inline void arm_set_nz(struct arm_cpu *cpu, uint32_t result)
{
    cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~(ARM_FLAG_N | ARM_FLAG_Z)) | arm_nz(result);
}

/* N, Z from result, C from c (0/1, or 2 = unchanged); V unchanged. */
static inline void arm_set_nzc(struct arm_cpu *cpu, uint32_t result, unsigned c)
{
    uint32_t keep = ARM_FLAG_V | (c > 1 ? ARM_FLAG_C : 0);
    cpu->cpsr_nzcv = (cpu->cpsr_nzcv & (keep | ~ARM_FLAGS_NZCV)) | arm_nz(result) |
                     (c == 1 ? ARM_FLAG_C : 0);
}

static inline void arm_set_nzcv(struct arm_cpu *cpu, uint32_t result, unsigned c, unsigned v)
{
    cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~ARM_FLAGS_NZCV) | arm_nz(result) | (c << 29) | (v << 28);
}

/* N and Z of a 64-bit result (long multiplies); C and V unchanged. */
static inline void arm_set_nz64(struct arm_cpu *cpu, uint64_t result)
{
    cpu->cpsr_nzcv = (cpu->cpsr_nzcv & ~(ARM_FLAG_N | ARM_FLAG_Z)) |
                     ((uint32_t)(result >> 32) & ARM_FLAG_N) | (result == 0 ? ARM_FLAG_Z : 0);
}

static inline uint32_t arm_ror32(uint32_t x, unsigned n)
{
    n &= 31;
    return n == 0 ? x : (x >> n) | (x << (32 - n));
}

/*
 * Shift_C(value, type, amount, carry_in) of the ARM ARM, for any amount 0..255 (register-
 * shifted forms pass Rs<7:0>). Amount 0 leaves value and carry alone, except for RRX.
 */
static inline uint32_t arm_shift_c(uint32_t value, unsigned type, unsigned amount,
                                   unsigned carry_in, unsigned *carry_out)
{
    if (type == ARM_SHIFT_RRX) {
        *carry_out = value & 1;
        return (value >> 1) | (carry_in << 31);
    }
    if (amount == 0) {
        *carry_out = carry_in;
        return value;
    }
    switch (type) {
    case ARM_SHIFT_LSL:
        if (amount >= 32) {
            *carry_out = amount == 32 ? (value & 1) : 0;
            return 0;
        }
        *carry_out = (value >> (32 - amount)) & 1;
        return value << amount;
    case ARM_SHIFT_LSR:
        if (amount >= 32) {
            *carry_out = amount == 32 ? value >> 31 : 0;
            return 0;
        }
        *carry_out = (value >> (amount - 1)) & 1;
        return value >> amount;
    case ARM_SHIFT_ASR:
        if (amount >= 32) {
            *carry_out = value >> 31;
            return (uint32_t)((int32_t)value >> 31);
        }
        *carry_out = (value >> (amount - 1)) & 1;
        return (uint32_t)((int32_t)value >> amount);
    default: { /* ROR: a multiple of 32 leaves the value but sets C from bit 31 */
        uint32_t r = arm_ror32(value, amount);
        *carry_out = r >> 31;
        return r;
    }
    }
}

static inline uint32_t arm_shift(uint32_t value, unsigned type, unsigned amount, unsigned carry_in)
{
    unsigned c;
    return arm_shift_c(value, type, amount, carry_in, &c);
}

/* AddWithCarry(x, y, carry_in) of the ARM ARM. */
static inline uint32_t arm_add_with_carry(uint32_t x, uint32_t y, unsigned carry_in,
                                          unsigned *carry_out, unsigned *overflow)
{
    uint64_t sum = (uint64_t)x + y + carry_in;
    uint32_t r = (uint32_t)sum;
    *carry_out = (unsigned)(sum >> 32);
    *overflow = ((~(x ^ y) & (x ^ r)) >> 31) & 1;
    return r;
}

/* SignedSatQ(i, n), 1 <= n <= 32: *sat is set (never cleared) when saturation happened. */
static inline int32_t arm_signed_sat_q(int64_t i, unsigned n, bool *sat)
{
    int64_t max = ((int64_t)1 << (n - 1)) - 1;
    int64_t min = -((int64_t)1 << (n - 1));
    if (i > max) {
        *sat = true;
        return (int32_t)max;
    }
    if (i < min) {
        *sat = true;
        return (int32_t)min;
    }
    return (int32_t)i;
}

/* UnsignedSatQ(i, n), 0 <= n <= 32. */
static inline uint32_t arm_unsigned_sat_q(int64_t i, unsigned n, bool *sat)
{
    int64_t max = (int64_t)(((uint64_t)1 << n) - 1);
    if (i > max) {
        *sat = true;
        return (uint32_t)max;
    }
    if (i < 0) {
        *sat = true;
        return 0;
    }
    return (uint32_t)i;
}

static inline void arm_set_q_if(struct arm_cpu *cpu, bool sat)
{
    if (sat) {
        cpu->cpsr_q = ARM_CPSR_Q;
    }
}

static inline bool arm_big_endian(const struct arm_cpu *cpu)
{
    return (cpu->cpsr_rest & ARM_CPSR_E) != 0;
}

/*
 * Inline fast paths of arm_load/arm_store (memory.c) for the privilege of the current mode
 * (aligned: the instruction's own alignment requirement, as for arm_load): a naturally aligned
 * access to a RAM page whose TLB entry is present, little-endian data. Folding the alignment
 * bits into the tag comparison makes an unaligned address miss, so that arm_load/arm_store
 * deal with it (alignment faults, page crossing); everything else unusual (MMIO, watched or
 * code pages, CPSR.E) also goes there. The result is exactly what arm_load/arm_store would
 * have done.
 */
static inline __attribute__((always_inline)) const struct coremu_tlb_entry *
arm_tlb_entry_here(const struct arm_cpu *cpu, uint32_t vaddr)
{
    unsigned m = arm_cpu_privileged(cpu) ? ARM_MMU_PRIV : ARM_MMU_USER;
    return &cpu->tlb[m][(vaddr >> ARM_PAGE_BITS) & (ARM_TLB_SIZE - 1)];
}

/* The fast path alone: true when it did the load (*value set), false when arm_load must. */
static inline __attribute__((always_inline)) bool
arm_load_try(const struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t *value)
{
    const struct coremu_tlb_entry *e = arm_tlb_entry_here(cpu, vaddr);

    if (__builtin_expect(coremu_tlb_hit(e->tag_read, vaddr, ARM_PAGE_MASK, size) &&
                             !((e->flags & COREMU_TLB_MMIO) | (cpu->cpsr_rest & ARM_CPSR_E)),
                         1)) {
        *value = (uint32_t)coremu_mem_load((const void *)(uintptr_t)(vaddr + e->addend), size);
        return true;
    }
    return false;
}

static inline __attribute__((always_inline)) uint32_t
arm_load_fast(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool aligned)
{
    uint32_t v;

    if (arm_load_try(cpu, vaddr, size, &v)) {
        return v;
    }
    return arm_load(cpu, vaddr, size, false, aligned);
}

/* The fast path alone: true when it did the store, false when arm_store must. value holds
 * exactly size bytes (the caller masked it). */
static inline __attribute__((always_inline)) bool
arm_store_try(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value)
{
    const struct coremu_tlb_entry *e = arm_tlb_entry_here(cpu, vaddr);

    if (__builtin_expect(coremu_tlb_hit(e->tag_write, vaddr, ARM_PAGE_MASK, size) &&
                             !((e->flags & COREMU_TLB_STORE_SLOW) | (cpu->cpsr_rest & ARM_CPSR_E)),
                         1)) {
        coremu_mem_store((void *)(uintptr_t)(vaddr + e->addend), size, value);
        return true;
    }
    return false;
}

/* value: as for arm_store_try. aligned: as for arm_store. */
static inline __attribute__((always_inline)) void
arm_store_fast(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value, bool aligned)
{
    if (!arm_store_try(cpu, vaddr, size, value)) {
        arm_store(cpu, vaddr, size, value, false, aligned);
    }
}

/*
 * Threaded handlers (arm_uop_tfn, cpu.h). A threaded handler runs only where the block builder
 * put it: an instruction outside IT blocks whose handler cannot write the PC, either always
 * executed or, in the _cc forms the specialisers offer for conditional ones, after its own
 * test of op->cond (arm_cond_pass). cpu->cur_op is not set for it: one that can fault sets
 * it (through arm_thread_general) before it takes a path that may. It ends with
 * ARM_THREAD_NEXT.
 */
#define ARM_THREAD_OP(name) \
    const struct arm_uop *arm_thr_##name(struct arm_cpu *cpu, const struct arm_uop *op)
#define ARM_THREAD_NEXT(cpu, op) return (op)[1].tfn((cpu), (op) + 1)

/* exec.c: bit NZCV (flags in bits 3..0) of entry cond says whether cond passes. */
extern const uint16_t arm_cond_table[16];

static inline bool arm_cond_pass(uint32_t nzcv, unsigned cond)
{
    return (arm_cond_table[cond & 15] >> (nzcv >> 28)) & 1;
}

/* The threaded form of a conditional instruction outside IT blocks: skips it when op->cond
 * fails, else goes on to BODY, its unconditional threaded form (a direct tail call). */
#define ARM_THREAD_COND(name, body)                                                             \
    const struct arm_uop *arm_thr_##name(struct arm_cpu *cpu, const struct arm_uop *op)         \
    {                                                                                           \
        if (!arm_cond_pass(cpu->cpsr_nzcv, op->cond)) {                                         \
            ARM_THREAD_NEXT(cpu, op);                                                           \
        }                                                                                       \
        return arm_thr_##body(cpu, op);                                                         \
    }

/* ops_branch.c: runs op through op->fn with the executor's bookkeeping, then the rest of the
 * block. */
const struct arm_uop *arm_thread_general(struct arm_cpu *cpu, const struct arm_uop *op);

/* The current mode's SPSR, or NULL in User and System modes, which have none. */
static inline uint32_t *arm_current_spsr(struct arm_cpu *cpu)
{
    int bank = arm_mode_bank(arm_cpu_mode(cpu)); /* cpu.c */
    return bank > ARM_BANK_USR ? &cpu->banked_spsr[bank] : NULL;
}

/* BXWritePC: interworking branch (bit 0 selects Thumb). */
static inline enum arm_uop_result arm_bx_write_pc(struct arm_cpu *cpu, uint32_t addr)
{
    if (addr & 1) {
        cpu->cpsr_rest |= ARM_CPSR_T;
        cpu->next_pc = addr & ~1u;
    } else {
        /* addr<1> set is UNPREDICTABLE: force the word alignment ARM state needs. */
        cpu->cpsr_rest &= ~ARM_CPSR_T;
        cpu->next_pc = addr & ~3u;
    }
    return ARM_BRANCH;
}

/* BranchWritePC: stays in the current instruction set. */
static inline enum arm_uop_result arm_branch_write_pc(struct arm_cpu *cpu, uint32_t addr)
{
    cpu->next_pc = addr & ((cpu->cpsr_rest & ARM_CPSR_T) ? ~1u : ~3u);
    return ARM_BRANCH;
}

/* LoadWritePC (ARMv5 and later: interworking). */
static inline enum arm_uop_result arm_load_write_pc(struct arm_cpu *cpu, uint32_t addr)
{
    return arm_bx_write_pc(cpu, addr);
}

/* ALUWritePC: interworking in ARM state (ARMv7), a plain branch in Thumb state. */
static inline enum arm_uop_result arm_alu_write_pc(struct arm_cpu *cpu, const struct arm_uop *op,
                                                   uint32_t addr)
{
    if (op->flags & ARM_UOP_THUMB) {
        return arm_branch_write_pc(cpu, addr);
    }
    return arm_bx_write_pc(cpu, addr);
}

/* ---- decode_a32.c ------------------------------------------------------------------------- */

/* Diagnostics: the handler name ("ADD_imm") of fn, if it is one the A32 decoder uses; NULL if
 * not (VFP handlers, for instance). */
const char *arm_a32_handler_name(arm_uop_fn fn);
/* insn with its should-be-zero/one bits (UNPREDICTABLE if wrong; ignored by the decoder) set to
 * the values the ARM ARM requires: for disassemblers and the decoder's tests. */
uint32_t arm_a32_canonical(uint32_t insn);

/* ---- decode_t32.c ------------------------------------------------------------------------- */

/* Diagnostics: the handler name ("ADD_imm", "TBB") of fn, if the T32 decoder uses it; NULL if
 * not (VFP handlers, for instance). */
const char *arm_t32_handler_name(arm_uop_fn fn);
/* insn (len 2 or 4) with its should-be-zero/one bits set as the ARM ARM requires: for
 * disassemblers and the decoder's tests. */
uint32_t arm_t32_canonical(uint32_t insn, unsigned len);

/* ---- ops_dp.c: data processing, MOVW/MOVT, bit fields, CLZ, REV*, RBIT, extend/pack, SEL,
 *      USAD8 --------------------------------------------------------------------------------- */

/* Swaps op->fn for a faster equivalent when the operands allow (no PC, constant shifts),
 * and sets op->tfn to its threaded form; true when it did. Called by the block builder after
 * decoding. */
bool arm_dp_specialise(struct arm_uop *op);

ARM_OP(AND_imm);
ARM_OP(AND_reg);
ARM_OP(AND_rsr);
ARM_OP(EOR_imm);
ARM_OP(EOR_reg);
ARM_OP(EOR_rsr);
ARM_OP(SUB_imm);
ARM_OP(SUB_reg);
ARM_OP(SUB_rsr);
ARM_OP(RSB_imm);
ARM_OP(RSB_reg);
ARM_OP(RSB_rsr);
ARM_OP(ADD_imm);
ARM_OP(ADD_reg);
ARM_OP(ADD_rsr);
ARM_OP(ADC_imm);
ARM_OP(ADC_reg);
ARM_OP(ADC_rsr);
ARM_OP(SBC_imm);
ARM_OP(SBC_reg);
ARM_OP(SBC_rsr);
ARM_OP(RSC_imm);
ARM_OP(RSC_reg);
ARM_OP(RSC_rsr);
ARM_OP(TST_imm);
ARM_OP(TST_reg);
ARM_OP(TST_rsr);
ARM_OP(TEQ_imm);
ARM_OP(TEQ_reg);
ARM_OP(TEQ_rsr);
ARM_OP(CMP_imm);
ARM_OP(CMP_reg);
ARM_OP(CMP_rsr);
ARM_OP(CMN_imm);
ARM_OP(CMN_reg);
ARM_OP(CMN_rsr);
ARM_OP(ORR_imm);
ARM_OP(ORR_reg);
ARM_OP(ORR_rsr);
ARM_OP(MOV_imm);
ARM_OP(MOV_reg);
ARM_OP(MOV_rsr);
ARM_OP(BIC_imm);
ARM_OP(BIC_reg);
ARM_OP(BIC_rsr);
ARM_OP(MVN_imm);
ARM_OP(MVN_reg);
ARM_OP(MVN_rsr);
ARM_OP(ORN_imm); /* T32 only */
ARM_OP(ORN_reg); /* T32 only */
ARM_OP(ADR);
ARM_OP(MOVW);
ARM_OP(MOVT);
ARM_OP(BFC);
ARM_OP(BFI);
ARM_OP(SBFX);
ARM_OP(UBFX);
ARM_OP(CLZ);
ARM_OP(REV);
ARM_OP(REV16);
ARM_OP(REVSH);
ARM_OP(RBIT);
ARM_OP(SXTB);
ARM_OP(SXTH);
ARM_OP(SXTB16);
ARM_OP(UXTB);
ARM_OP(UXTH);
ARM_OP(UXTB16);
ARM_OP(SXTAB);
ARM_OP(SXTAH);
ARM_OP(SXTAB16);
ARM_OP(UXTAB);
ARM_OP(UXTAH);
ARM_OP(UXTAB16);
ARM_OP(PKHBT);
ARM_OP(PKHTB);
ARM_OP(SEL);
ARM_OP(USAD8);
ARM_OP(USADA8);

/* ---- ops_mul.c: multiplies and divides ----------------------------------------------------- */

ARM_OP(MUL);
ARM_OP(MLA);
ARM_OP(MLS);
ARM_OP(UMULL);
ARM_OP(UMLAL);
ARM_OP(SMULL);
ARM_OP(SMLAL);
ARM_OP(UMAAL);
ARM_OP(SMULxy);
ARM_OP(SMLAxy);
ARM_OP(SMULWy);
ARM_OP(SMLAWy);
ARM_OP(SMLALxy);
ARM_OP(SMUAD);
ARM_OP(SMUSD);
ARM_OP(SMLAD);
ARM_OP(SMLSD);
ARM_OP(SMLALD);
ARM_OP(SMLSLD);
ARM_OP(SMMUL);
ARM_OP(SMMLA);
ARM_OP(SMMLS);
ARM_OP(SDIV);
ARM_OP(UDIV);

/* ---- ops_parallel.c: parallel add/subtract, saturating arithmetic, SSAT/USAT ---------------- */

ARM_OP(SADD16);
ARM_OP(SASX);
ARM_OP(SSAX);
ARM_OP(SSUB16);
ARM_OP(SADD8);
ARM_OP(SSUB8);
ARM_OP(QADD16);
ARM_OP(QASX);
ARM_OP(QSAX);
ARM_OP(QSUB16);
ARM_OP(QADD8);
ARM_OP(QSUB8);
ARM_OP(SHADD16);
ARM_OP(SHASX);
ARM_OP(SHSAX);
ARM_OP(SHSUB16);
ARM_OP(SHADD8);
ARM_OP(SHSUB8);
ARM_OP(UADD16);
ARM_OP(UASX);
ARM_OP(USAX);
ARM_OP(USUB16);
ARM_OP(UADD8);
ARM_OP(USUB8);
ARM_OP(UQADD16);
ARM_OP(UQASX);
ARM_OP(UQSAX);
ARM_OP(UQSUB16);
ARM_OP(UQADD8);
ARM_OP(UQSUB8);
ARM_OP(UHADD16);
ARM_OP(UHASX);
ARM_OP(UHSAX);
ARM_OP(UHSUB16);
ARM_OP(UHADD8);
ARM_OP(UHSUB8);
ARM_OP(QADD);
ARM_OP(QSUB);
ARM_OP(QDADD);
ARM_OP(QDSUB);
ARM_OP(SSAT);
ARM_OP(USAT);
ARM_OP(SSAT16);
ARM_OP(USAT16);

/* ---- ops_ldst.c: loads and stores, LDM/STM, SWP, exclusives --------------------------------- */

/* As arm_dp_specialise, for single loads and stores (exec.c). */
bool arm_ldst_specialise(struct arm_uop *op);

ARM_OP(LDR_imm);
ARM_OP(LDR_reg);
ARM_OP(LDR_lit);
ARM_OP(LDRB_imm);
ARM_OP(LDRB_reg);
ARM_OP(LDRB_lit);
ARM_OP(LDRH_imm);
ARM_OP(LDRH_reg);
ARM_OP(LDRH_lit);
ARM_OP(LDRSB_imm);
ARM_OP(LDRSB_reg);
ARM_OP(LDRSB_lit);
ARM_OP(LDRSH_imm);
ARM_OP(LDRSH_reg);
ARM_OP(LDRSH_lit);
ARM_OP(LDRD_imm);
ARM_OP(LDRD_reg);
ARM_OP(LDRD_lit);
ARM_OP(STR_imm);
ARM_OP(STR_reg);
ARM_OP(STRB_imm);
ARM_OP(STRB_reg);
ARM_OP(STRH_imm);
ARM_OP(STRH_reg);
ARM_OP(STRD_imm);
ARM_OP(STRD_reg);
ARM_OP(LDRT_imm);
ARM_OP(LDRT_reg);
ARM_OP(LDRBT_imm);
ARM_OP(LDRBT_reg);
ARM_OP(LDRHT_imm);
ARM_OP(LDRHT_reg);
ARM_OP(LDRSBT_imm);
ARM_OP(LDRSBT_reg);
ARM_OP(LDRSHT_imm);
ARM_OP(LDRSHT_reg);
ARM_OP(STRT_imm);
ARM_OP(STRT_reg);
ARM_OP(STRBT_imm);
ARM_OP(STRBT_reg);
ARM_OP(STRHT_imm);
ARM_OP(STRHT_reg);
ARM_OP(LDM);   /* LDM/LDMIA/LDMFD, POP */
ARM_OP(LDMDA);
ARM_OP(LDMDB);
ARM_OP(LDMIB);
ARM_OP(STM);   /* STM/STMIA/STMEA */
ARM_OP(STMDA);
ARM_OP(STMDB); /* and PUSH */
ARM_OP(STMIB);
ARM_OP(LDM_user);  /* LDM (User registers): LDM{amode} Rn, {..}^ without the PC */
ARM_OP(STM_user);  /* STM (User registers) */
ARM_OP(LDM_eret);  /* LDM (exception return): with the PC */
ARM_OP(SWP);
ARM_OP(SWPB);
ARM_OP(LDREX);
ARM_OP(LDREXB);
ARM_OP(LDREXH);
ARM_OP(LDREXD);
ARM_OP(STREX);
ARM_OP(STREXB);
ARM_OP(STREXH);
ARM_OP(STREXD);

/* ---- ops_branch.c: branches and exception returns through data processing ------------------- */

ARM_OP(B);
ARM_OP(BL);
ARM_OP(BLX_imm);
ARM_OP(BLX_reg);
ARM_OP(BX);
ARM_OP(CBZ);  /* T32 only */
ARM_OP(CBNZ); /* T32 only */
ARM_OP(TBB);  /* T32 only */
ARM_OP(TBH);  /* T32 only */
/* A data-processing result written to the PC (Rd == 15): ALUWritePC, or with S an exception
 * return (SUBS pc, lr and friends: CPSR <- SPSR). */
enum arm_uop_result arm_dp_write_pc(struct arm_cpu *cpu, const struct arm_uop *op,
                                    uint32_t result);

/* ---- ops_misc.c: exceptions, status registers, coprocessors, barriers, hints --------------- */

ARM_OP(UNDEFINED);
ARM_OP(UDF);
ARM_OP(SVC);
ARM_OP(BKPT);
ARM_OP(HVC);
ARM_OP(SMC);
ARM_OP(CPS);
ARM_OP(SETEND);
ARM_OP(SRS);
ARM_OP(RFE);
ARM_OP(MRS);
ARM_OP(MSR_imm);
ARM_OP(MSR_reg);
ARM_OP(MCR);
ARM_OP(MRC);
ARM_OP(MCRR);
ARM_OP(MRRC);
ARM_OP(DMB);
ARM_OP(DSB);
ARM_OP(ISB);
ARM_OP(CLREX);
ARM_OP(NOP);
ARM_OP(YIELD);
ARM_OP(WFE);
ARM_OP(WFI);
ARM_OP(SEV);
ARM_OP(DBG);
ARM_OP(PLD);  /* PLD and PLDW, every addressing form: hints that never fault */
ARM_OP(PLI);
ARM_OP(IT);   /* T32 only */

/* ---- ops_vfp.c: VFPv3-D32 + VFPv4 fused multiply-add (no Advanced SIMD) ------------------
 *
 * Register numbers are indices into the bank the operand lives in: S0-S31 for single
 * precision (Sn is half of D(n/2): even n the low word), D0-D31 for double precision. Every
 * handler checks CPACR.cp10 and FPEXC.EN itself (UNDEFINED when disabled).
 *   arithmetic        _f32/_f64: rd, rn, rm (VABS/VNEG/VSQRT/VMOV_reg: rd, rm)
 *   VCMP              rd, rm; imm = 1 for VCMPE (quiet NaNs raise Invalid Operation),
 *                     imm2 = 1 to compare with +0.0 (rm unused)
 *   VMOV_imm          rd; imm = VFPExpandImm result (f64: its high word, the low word is 0)
 *   VCVT_f64_f32      rd = Dd, rm = Sm;  VCVT_f32_f64: rd = Sd, rm = Dm
 *   VCVT_f32/f64_i32  rd, rm = Sm (integer source); imm2 = 1 unsigned
 *   VCVT_i32_f32/f64  rd = Sd (integer result), rm; imm2 = 1 unsigned, imm = 1 round to zero
 *                     (VCVT), 0 FPSCR rounding (VCVTR)
 *   VCVT_*fixed*      rd (source and destination), imm = fraction bits, imm2 = 1 unsigned,
 *                     shift_n = fixed-point size (16 or 32)
 *   VCVT_f32_f16      rd = Sd, rm = Sm, imm = bit position of the half (0 VCVTB, 16 VCVTT);
 *   VCVT_f16_f32      likewise, the half of Sd at imm is written
 *   VMOV_*core*       rd = Rt, ra = Rt2, rn = the S/D register (first of two for the pairs);
 *                     the scalar forms: imm = index (0/1) of the word in the D register
 *   VMRS/VMSR         rd = Rt (VMRS: 15 = APSR_nzcv), rn = reg field (0 FPSID, 1 FPSCR,
 *                     6 MVFR1, 7 MVFR0, 8 FPEXC)
 *   VLDR/VSTR _32/_64 rd, rn, imm = offset, flags U (rn 15: Align(PC, 4) base)
 *   VLDM/VSTM _32/_64 rd = first register, rn, imm = register count, imm2 = bytes added to
 *                     or taken from Rn (imm8 * 4: FLDMX/FSTMX's odd imm8 included), flags U W
 *                     (U: increment after; !U: decrement before)
 */

#define ARM_FPSCR_IOC (1u << 0)
#define ARM_FPSCR_DZC (1u << 1)
#define ARM_FPSCR_OFC (1u << 2)
#define ARM_FPSCR_UFC (1u << 3)
#define ARM_FPSCR_IXC (1u << 4)
#define ARM_FPSCR_IDC (1u << 7)
#define ARM_FPSCR_RMODE_SHIFT 22
#define ARM_FPSCR_FZ (1u << 24)
#define ARM_FPSCR_DN (1u << 25)
#define ARM_FPSCR_AHP (1u << 26)
/* Writable FPSCR bits: NZCV, AHP, DN, FZ, RMode and the cumulative flags. QC (no Advanced
 * SIMD), LEN/STRIDE (no short vectors) and the trap enables (no trapping, as Cortex-A15) are
 * RAZ/WI. */
#define ARM_FPSCR_WRITABLE 0xf7c0009fu
#define ARM_FPEXC_EN (1u << 30)

/* Diagnostics: the name of a VFP handler ("VADD"), NULL if fn is not one. */
const char *arm_vfp_handler_name(arm_uop_fn fn);

ARM_OP(VADD_f32);
ARM_OP(VADD_f64);
ARM_OP(VSUB_f32);
ARM_OP(VSUB_f64);
ARM_OP(VMUL_f32);
ARM_OP(VMUL_f64);
ARM_OP(VNMUL_f32);
ARM_OP(VNMUL_f64);
ARM_OP(VDIV_f32);
ARM_OP(VDIV_f64);
ARM_OP(VMLA_f32);
ARM_OP(VMLA_f64);
ARM_OP(VMLS_f32);
ARM_OP(VMLS_f64);
ARM_OP(VNMLA_f32);
ARM_OP(VNMLA_f64);
ARM_OP(VNMLS_f32);
ARM_OP(VNMLS_f64);
ARM_OP(VFMA_f32);
ARM_OP(VFMA_f64);
ARM_OP(VFMS_f32);
ARM_OP(VFMS_f64);
ARM_OP(VFNMA_f32);
ARM_OP(VFNMA_f64);
ARM_OP(VFNMS_f32);
ARM_OP(VFNMS_f64);
ARM_OP(VABS_f32);
ARM_OP(VABS_f64);
ARM_OP(VNEG_f32);
ARM_OP(VNEG_f64);
ARM_OP(VSQRT_f32);
ARM_OP(VSQRT_f64);
ARM_OP(VMOV_reg_f32);
ARM_OP(VMOV_reg_f64);
ARM_OP(VMOV_imm_f32);
ARM_OP(VMOV_imm_f64);
ARM_OP(VCMP_f32);
ARM_OP(VCMP_f64);
ARM_OP(VCVT_f64_f32);
ARM_OP(VCVT_f32_f64);
ARM_OP(VCVT_f32_i32);
ARM_OP(VCVT_f64_i32);
ARM_OP(VCVT_i32_f32);
ARM_OP(VCVT_i32_f64);
ARM_OP(VCVT_f32_fixed);
ARM_OP(VCVT_f64_fixed);
ARM_OP(VCVT_fixed_f32);
ARM_OP(VCVT_fixed_f64);
ARM_OP(VCVT_f32_f16);
ARM_OP(VCVT_f16_f32);
ARM_OP(VMOV_core_single);   /* VMOV Rt, Sn */
ARM_OP(VMOV_single_core);   /* VMOV Sn, Rt */
ARM_OP(VMOV_2core_2single); /* VMOV Rt, Rt2, Sm, Sm1 */
ARM_OP(VMOV_2single_2core); /* VMOV Sm, Sm1, Rt, Rt2 */
ARM_OP(VMOV_2core_double);  /* VMOV Rt, Rt2, Dm */
ARM_OP(VMOV_double_2core);  /* VMOV Dm, Rt, Rt2 */
ARM_OP(VMOV_core_scalar);   /* VMOV.32 Rt, Dn[x] */
ARM_OP(VMOV_scalar_core);   /* VMOV.32 Dd[x], Rt */
ARM_OP(VMRS);
ARM_OP(VMSR);
ARM_OP(VLDR_32);
ARM_OP(VLDR_64);
ARM_OP(VSTR_32);
ARM_OP(VSTR_64);
ARM_OP(VLDM_32);
ARM_OP(VLDM_64);
ARM_OP(VSTM_32);
ARM_OP(VSTM_64);

#endif /* COREMU_ARM_OPS_H */
