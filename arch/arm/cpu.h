/*
 * coremu ARM — the state of one ARMv7-A core (Cortex-A15 class, no Security or Virtualization
 * extensions, VFPv3-D32 + VFPv4 FMA, no NEON yet) and the contracts between its parts.
 *
 * Ownership: everything in struct arm_cpu belongs to the core's own thread. Other threads reach
 * a core only through the runtime (events, pending bits); the few fields written from outside
 * say so beside them.
 *
 * Execution model (docs/DESIGN.md): decoders (decode_a32.c, decode_t32.c, decode_vfp.c) turn a
 * straight run of guest instructions into a translation block: an array of micro-operations
 * (struct arm_uop). exec.c runs blocks; each micro-op is a handler named after the ARM ARM
 * instruction (arm_op_ADD_reg, arm_op_LDRD_imm...) plus operands decoded once. Decoders never
 * execute; handlers never decode bits that the decoder could have decoded.
 */
#ifndef COREMU_ARM_CPU_H
#define COREMU_ARM_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>

struct arm_cpu;
struct arm_uop;
struct arm_board;

/* ---- processor modes (CPSR.M) ------------------------------------------------------------ */
enum arm_mode {
    ARM_MODE_USR = 0x10,
    ARM_MODE_FIQ = 0x11,
    ARM_MODE_IRQ = 0x12,
    ARM_MODE_SVC = 0x13,
    ARM_MODE_ABT = 0x17,
    ARM_MODE_UND = 0x1b,
    ARM_MODE_SYS = 0x1f,
};

/* CPSR bits kept outside the flags. */
#define ARM_CPSR_T (1u << 5)
#define ARM_CPSR_F (1u << 6)
#define ARM_CPSR_I (1u << 7)
#define ARM_CPSR_A (1u << 8)
#define ARM_CPSR_E (1u << 9)
#define ARM_CPSR_Q (1u << 27)

/* Banks of r13/r14/SPSR: usr/sys share bank 0. FIQ also banks r8-r12. */
enum arm_bank { ARM_BANK_USR, ARM_BANK_FIQ, ARM_BANK_IRQ, ARM_BANK_SVC, ARM_BANK_ABT,
                ARM_BANK_UND, ARM_NBANKS };

/* Exceptions, with their vector offsets. */
enum arm_exception {
    ARM_EXC_RESET = 0x00,
    ARM_EXC_UNDEF = 0x04,
    ARM_EXC_SVC = 0x08,
    ARM_EXC_PREFETCH_ABORT = 0x0c,
    ARM_EXC_DATA_ABORT = 0x10,
    ARM_EXC_IRQ = 0x18,
    ARM_EXC_FIQ = 0x1c,
};

/* Interrupt inputs, as bits of coremu_cpu.pending (set/cleared by the interrupt controller). */
#define ARM_PENDING_IRQ (COREMU_PENDING_ARCH0 << 0)
#define ARM_PENDING_FIQ (COREMU_PENDING_ARCH0 << 1)
/* Event register set by another core's SEV (wakes WFE). */
#define ARM_PENDING_SEV (COREMU_PENDING_ARCH0 << 2)

/* ---- micro-operations --------------------------------------------------------------------- */

/* What a handler tells the block executor. */
enum arm_uop_result {
    ARM_NEXT = 0,   /* fall through to the next micro-op */
    ARM_BRANCH = 1, /* cpu->next_pc was written (branch, exception, mode change): end block */
};

typedef enum arm_uop_result (*arm_uop_fn)(struct arm_cpu *cpu, const struct arm_uop *op);

/*
 * One decoded instruction. The decoder fills the fields its handler needs; their meaning is
 * the handler's (documented at the handler). Common uses:
 *   rd, rn, rm, rs, ra: register numbers (Rd, Rn, Rm, Rs, Ra/RdHi/Rt2)
 *   imm: decoded immediate (ARMExpandImm result, offset, bit positions...)
 *   shift_type/shift_n: DecodeImmShift results; flags: S (set flags), P/U/W, etc.
 */
struct arm_uop {
    arm_uop_fn fn;
    uint32_t pc;   /* address of the instruction */
    uint32_t insn; /* raw encoding: diagnostics and UNDEFINED reporting */
    uint32_t imm;
    uint32_t imm2;
    uint8_t cond;  /* 0x0-0xd conditions, 0xe always (0xf: unconditional space, treated as always) */
    uint8_t len;   /* 2 or 4 bytes */
    uint8_t rd, rn, rm, rs, ra;
    uint8_t shift_type; /* 0 LSL, 1 LSR, 2 ASR, 3 ROR, 4 RRX */
    uint8_t shift_n;
    uint8_t flags;
    uint8_t carry;      /* ARMExpandImm_C carry out: 0, 1, or 2 = unchanged */
    uint8_t itstate;    /* Thumb: ITSTATE to hold while this instruction executes */
};

/* uop.flags bits shared by several handlers. */
#define ARM_UOP_S (1u << 0) /* set flags */
#define ARM_UOP_P (1u << 1) /* pre-indexed */
#define ARM_UOP_U (1u << 2) /* add offset */
#define ARM_UOP_W (1u << 3) /* write back */
#define ARM_UOP_THUMB (1u << 4) /* decoded from T32: PC reads as pc+4, not pc+8 */
#define ARM_UOP_ENDS_BLOCK (1u << 5) /* decoder: this instruction ends the block */

/* PC value read as an operand by op (ARM: +8, Thumb: +4). */
static inline uint32_t arm_pc_operand(const struct arm_uop *op)
{
    return op->pc + ((op->flags & ARM_UOP_THUMB) ? 4u : 8u);
}

/* ---- the software TLB --------------------------------------------------------------------- */

#define ARM_TLB_BITS 8
#define ARM_TLB_SIZE (1u << ARM_TLB_BITS)
#define ARM_PAGE_BITS 12
#define ARM_PAGE_MASK (~((1u << ARM_PAGE_BITS) - 1))

/* Per-entry flags: a fast access needs the page tag to match and no blocking flag. */
#define ARM_TLBF_MMIO (1u << 0)    /* not RAM: go through the address space */
#define ARM_TLBF_WATCH (1u << 1)   /* stores must go through the exclusive monitor */
#define ARM_TLBF_CODE (1u << 2)    /* stores must invalidate translations */

struct arm_tlb_entry {
    uint32_t tag_read;  /* virtual page | ASID-valid... ; ~0 when invalid */
    uint32_t tag_write;
    uint32_t tag_exec;
    uint32_t flags;
    uintptr_t addend;   /* host address = vaddr + addend (RAM) */
    uint32_t paddr;     /* physical page */
    uint8_t asid;
    bool global;
};

/* Two TLBs, for privileged and unprivileged accesses (LDRT/STRT use the latter). */
enum arm_mmu_idx { ARM_MMU_PRIV = 0, ARM_MMU_USER = 1, ARM_NMMU };

/* ---- the core ----------------------------------------------------------------------------- */

struct arm_cpu {
    struct coremu_cpu *rt;      /* the runtime's view of this core */
    struct arm_board *board;    /* immutable */

    /* Current-mode view of the general registers; r[15] is the PC of the current block. */
    uint32_t r[16];
    uint32_t next_pc;           /* written by handlers that return ARM_BRANCH */
    /* Flags as separate words: NZCV in bits 31..28 of cpsr_nzcv, Q, GE[3:0], IT state. */
    uint32_t cpsr_nzcv;
    uint32_t cpsr_q;            /* 0 or ARM_CPSR_Q */
    uint32_t cpsr_ge;           /* GE[3:0] in bits 3..0 */
    uint32_t cpsr_it;           /* ITSTATE[7:0] */
    uint32_t cpsr_rest;         /* M[4:0], T, F, I, A, E */

    /* Banked copies, swapped on mode change (arm_switch_mode). */
    uint32_t banked_r13[ARM_NBANKS];
    uint32_t banked_r14[ARM_NBANKS];
    uint32_t banked_spsr[ARM_NBANKS];
    uint32_t usr_r8_12[5];      /* r8-r12 of every mode but FIQ, while in FIQ */
    uint32_t fiq_r8_12[5];      /* FIQ's r8-r12 while not in FIQ */

    /* VFP / Advanced SIMD register file and control. */
    uint64_t d[32];
    uint32_t fpscr;
    uint32_t fpexc;
    uint32_t fpsid, mvfr0, mvfr1;

    /* CP15 (see cp15.c for the table). */
    struct {
        uint32_t sctlr, actlr, cpacr;
        uint32_t ttbr0, ttbr1, ttbcr;
        uint32_t dacr;
        uint32_t dfsr, ifsr, adfsr, aifsr, dfar, ifar;
        uint32_t par;
        uint32_t prrr, nmrr;
        uint32_t vbar;
        uint32_t contextidr;
        uint32_t tpidrurw, tpidruro, tpidrprw;
        uint32_t csselr;
        uint32_t pmcr, pmcntenset, pmuserenr, pmovsr, pmselr, pmintenset;
        uint64_t pmccntr_base;  /* virtual-clock origin of the cycle counter */
        uint32_t midr, mpidr;
    } cp15;

    /* Generic timer (timer.c). */
    struct {
        uint32_t cntfrq;
        uint32_t cntkctl;
        uint32_t cntp_ctl, cntv_ctl;
        uint64_t cntp_cval, cntv_cval;
        uint64_t cntvoff;
        bool p_out, v_out;       /* current level of the timer outputs */
    } timer;

    /* Local exclusive monitor (LDREX/STREX) in the runtime's engine. */
    struct coremu_xmon_local xmon;
    bool event_register;         /* WFE/SEV */

    /* Software TLB and translation cache (exec.c, mmu.c). */
    struct arm_tlb_entry tlb[ARM_NMMU][ARM_TLB_SIZE];
    struct arm_tb_cache *tbs;

    /* Where a faulting memory access or an UNDEFINED instruction escapes to: the fault is
     * recorded, the exception taken, and execution resumes at the next block. */
    sigjmp_buf fault_jmp;

    uint64_t insns_executed;     /* statistics */
};

/* ---- contracts between the parts (each implemented in the file named) --------------------- */

/* cpu.c: reset state of a Cortex-A15-class core (index gives MPIDR affinity). */
void arm_cpu_reset(struct arm_cpu *cpu);
/* cpu.c: CPSR as the architecture shows it, and writes of it (mask: the bits MSR may write). */
uint32_t arm_cpsr_read(const struct arm_cpu *cpu);
void arm_cpsr_write(struct arm_cpu *cpu, uint32_t value, uint32_t mask);
/* cpu.c: switch banked registers to those of mode. */
void arm_switch_mode(struct arm_cpu *cpu, enum arm_mode mode);
static inline enum arm_mode arm_cpu_mode(const struct arm_cpu *cpu)
{
    return (enum arm_mode)(cpu->cpsr_rest & 0x1f);
}
static inline bool arm_cpu_privileged(const struct arm_cpu *cpu)
{
    return arm_cpu_mode(cpu) != ARM_MODE_USR;
}
/* cpu.c: access to a register of another mode (LDM^, STM^, MRS/MSR banked). */
uint32_t arm_get_user_reg(struct arm_cpu *cpu, unsigned n);
void arm_set_user_reg(struct arm_cpu *cpu, unsigned n, uint32_t value);

/* exception.c: take an exception now (sets next_pc). preferred_return is the address the
 * architecture defines for the exception's LR computation. */
void arm_take_exception(struct arm_cpu *cpu, enum arm_exception exc, uint32_t return_addr);
/* exception.c: UNDEFINED at op: raise it and escape to the block loop. */
_Noreturn void arm_undefined(struct arm_cpu *cpu, const struct arm_uop *op);
/* exception.c: a data or prefetch abort with the given fault status (DFSR/IFSR format). */
_Noreturn void arm_data_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t fsr, bool write);
_Noreturn void arm_prefetch_abort(struct arm_cpu *cpu, uint32_t vaddr, uint32_t fsr);
/* exception.c: exception return (SUBS pc, lr / LDM^ / RFE): CPSR <- spsr, PC <- addr. */
void arm_exception_return(struct arm_cpu *cpu, uint32_t addr, uint32_t spsr);

/* memory.c: guest loads and stores through the software TLB; faults escape via fault_jmp.
 * user = true for the unprivileged forms (LDRT...). Alignment is checked per SCTLR.A and the
 * instruction's own requirement (aligned = true for LDREX, LDRD with strict alignment...). */
uint32_t arm_load(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, bool user, bool aligned);
void arm_store(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value, bool user,
               bool aligned);
uint64_t arm_load64(struct arm_cpu *cpu, uint32_t vaddr, bool aligned);
void arm_store64(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value, bool aligned);
/* memory.c: fetch an instruction halfword/word for the decoder. */
uint32_t arm_fetch(struct arm_cpu *cpu, uint32_t vaddr, unsigned size);

/* mmu.c: translate vaddr for an access; returns 0 and fills *pa or returns a fault status. */
enum arm_access { ARM_ACCESS_READ, ARM_ACCESS_WRITE, ARM_ACCESS_EXEC };
uint32_t arm_mmu_translate(struct arm_cpu *cpu, uint32_t vaddr, enum arm_access access,
                           bool user, uint32_t *pa, uint32_t *page_size);
void arm_tlb_flush_all(struct arm_cpu *cpu);
void arm_tlb_flush_page(struct arm_cpu *cpu, uint32_t vaddr);
void arm_tlb_flush_asid(struct arm_cpu *cpu, uint8_t asid);

/* Decoders. Each fills one micro-op and never fails: an UNDEFINED or UNPREDICTABLE-and-
 * rejected encoding becomes a micro-op whose handler raises UNDEFINED (arm_op_UNDEFINED), so
 * the exception happens when (and only if) the instruction executes. A decoder sets
 * ARM_UOP_ENDS_BLOCK on instructions that may write the PC, change CPSR.M/T/E/I/F, change the
 * translation regime or system state (MCR/MRC to CP15, MSR, CPS, SVC, HVC, SMC, WFI, WFE,
 * exception returns, ISB), so that the block builder stops after them.
 *   decode_a32.c: one A32 instruction (ARM state).
 *   decode_t32.c: one T32 instruction of len 2 or 4 bytes (insn: first halfword in bits 31..16
 *                 for 32-bit encodings, as the ARM ARM writes them), with the IT state in force.
 *   decode_vfp.c: the VFP (coprocessor 10/11) space, called by both; thumb selects PC rules.
 *                 Returns false when insn is not a VFP encoding. */
void arm_decode_a32(uint32_t pc, uint32_t insn, struct arm_uop *op);
void arm_decode_t32(uint32_t pc, uint32_t insn, unsigned len, uint8_t itstate,
                    struct arm_uop *op);
bool arm_decode_vfp(uint32_t pc, uint32_t insn, bool thumb, struct arm_uop *op);

/* Condition check (exec.c), from the NZCV word. */
bool arm_condition_passed(uint32_t nzcv, unsigned cond);

#endif /* COREMU_ARM_CPU_H */
