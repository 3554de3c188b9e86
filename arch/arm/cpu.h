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
#include <coremu/softmmu.h>
#include <coremu/tb.h>

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
/* Another core posted TLB or I-cache maintenance (the engine's ops->maint_pending, exec.c).
 * Deliberately not a wake-up bit of WFI: a sleeping core runs no guest code, and applies the
 * request before it does. */
#define ARM_PENDING_MAINT (COREMU_PENDING_ARCH0 << 3)

/* ---- micro-operations --------------------------------------------------------------------- */

/* What a handler tells the block executor. */
enum arm_uop_result {
    ARM_NEXT = 0,   /* fall through to the next micro-op */
    ARM_BRANCH = 1, /* cpu->next_pc was written (branch, exception, mode change): end block */
};

typedef enum arm_uop_result (*arm_uop_fn)(struct arm_cpu *cpu, const struct arm_uop *op);

/*
 * Threaded form of a micro-op (exec.c): runs op, then passes control straight on to the next
 * micro-op of its block (ARM_THREAD_NEXT, a tail call), so that a block runs without going
 * back to a dispatch loop between instructions and each handler's own indirect jump predicts
 * its successor. Returns the micro-op after the last one that executed, with cpu->next_pc
 * set to where execution continues (every block ends with a sentinel that sets its end).
 * A block's exit may pass control on to a chained successor block instead of returning
 * (arm_block_exit, exec.c): the micro-op returned is then the last block's.
 */
typedef const struct arm_uop *(*arm_uop_tfn)(struct arm_cpu *cpu, const struct arm_uop *op);

/*
 * One decoded instruction: the engine's header (threaded handler tfn, pc: the address of the
 * instruction, index: its position in its block, set by the engine, len: 2 or 4 bytes), then
 * ARM's operands. The decoder fills the fields its handler needs; their meaning is the
 * handler's (documented at the handler). Common uses:
 *   rd, rn, rm, rs, ra: register numbers (Rd, Rn, Rm, Rs, Ra/RdHi/Rt2)
 *   imm: decoded immediate (ARMExpandImm result, offset, bit positions...)
 *   shift_type/shift_n: DecodeImmShift results; flags: S (set flags), P/U/W, etc.
 */
struct arm_uop {
    /* tfn is set by the block builder (exec.c): fn's threaded form when the operands allow one
     * (arm_dp_specialise and friends may offer it), else a generic one that calls fn. */
    COREMU_UOP_HEADER(arm_uop_tfn);
    uint8_t cond;  /* 0x0-0xd conditions, 0xe always (0xf: unconditional space, treated as always) */
    uint8_t rd, rn, rm, rs, ra;
    uint8_t shift_type; /* 0 LSL, 1 LSR, 2 ASR, 3 ROR, 4 RRX */
    uint8_t shift_n;
    uint8_t flags;
    uint8_t carry;      /* ARMExpandImm_C carry out: 0, 1, or 2 = unchanged */
    uint8_t itstate;    /* Thumb: ITSTATE to hold while this instruction executes */
    arm_uop_fn fn;
    uint32_t insn; /* raw encoding: diagnostics and UNDEFINED reporting */
    uint32_t imm;
    uint32_t imm2;
};
COREMU_UOP_CHECK(struct arm_uop);

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
    return (uint32_t)op->pc + ((op->flags & ARM_UOP_THUMB) ? 4u : 8u);
}

/* ---- the software TLB --------------------------------------------------------------------- */

#define ARM_TLB_BITS 8
#define ARM_TLB_SIZE (1u << ARM_TLB_BITS)
#define ARM_PAGE_BITS 12
#define ARM_PAGE_MASK (~((1u << ARM_PAGE_BITS) - 1))

/* Entries are struct coremu_tlb_entry (coremu/softmmu.h): tags are virtual pages, asid the
 * CONTEXTIDR.ASID an entry was filled under, global its nG bit clear. */

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
    /* The atomic table the LDREX/STREX/CLREX/SWP handlers call (arm_atomic_table). Immutable. */
    const struct coremu_atomic_table *atomic;
    bool event_register;         /* WFE/SEV */

    /* Software TLB (mmu.c, memory.c) and this core's part of the translation engine (exec.c,
     * lib/tb.c; its epoch moves with every TLB flush, mmu.c). */
    struct coremu_tlb_entry tlb[ARM_NMMU][ARM_TLB_SIZE];
    struct coremu_tb_cpu tb;

    /* Where a faulting memory access or an UNDEFINED instruction escapes to: the fault is
     * recorded, the exception taken, and execution resumes at the next block. */
    sigjmp_buf fault_jmp;

    uint64_t insns_executed;     /* statistics */

    /* ---- system-side state (owner thread only unless said otherwise) ---- */
    /* exec.c: the micro-op executing, NULL between blocks. While a micro-op runs, r[15] holds
     * the address of its block, not its own (tb_exec does not store it per instruction):
     * exceptions take the preferred return address and the IT state to save from cur_op. */
    const struct arm_uop *cur_op;
    /* Range of virtual addresses covered by TLB entries filled from 64 KB / 1 MB / 16 MB
     * mappings: a TLBIMVA inside it flushes everything (lo > hi: none). */
    uint32_t tlb_large_lo, tlb_large_hi;
    /* PMCCNTR value while the cycle counter is stopped (cp15.c). */
    uint64_t pmccntr_value;
    /* run() must return at the next block boundary (PSCI CPU_OFF, machine exit seen while
     * waiting inside an instruction). Whoever sets it also kicks the core (arm_request_leave).*/
    bool leave;
    /* Core 0 uses board->boot on its first power-on only. */
    bool booted;
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

/* ==== System side: additional contracts (cpu.c, exec.c, memory.c, mmu.c, exception.c, cp15.c,
 * timer.c, atomic_arm.c) ======================================================================
 *
 * Exceptions. arm_take_exception's return_addr is the ARM ARM's *preferred return address*;
 * the function adds the architectural LR offset itself (B1.8.3): UNDEF +4 (ARM) / +2 (Thumb),
 * SVC +0 (so pass op->pc + op->len), prefetch abort +4, data abort +8, IRQ/FIQ +4. It sets
 * cpu->next_pc to the vector; a handler that calls it returns ARM_BRANCH. SPSR.IT saved is the
 * current instruction's for UNDEF/aborts and the CPSR's (already advanced) for SVC/IRQ/FIQ.
 */

/* Fault status codes (DFSR/IFSR short-descriptor format, FS[4:0]) and the register value of
 * a fault: FS[3:0] in bits 3:0, FS[4] in bit 10, the domain in bits 7:4. */
#define ARM_FS_ALIGN 0x01u
#define ARM_FS_DEBUG 0x02u
#define ARM_FS_AF_SECTION 0x03u
#define ARM_FS_TRANS_SECTION 0x05u
#define ARM_FS_AF_PAGE 0x06u
#define ARM_FS_TRANS_PAGE 0x07u
#define ARM_FS_EXT 0x08u           /* synchronous external abort (MMIO error, unmapped) */
#define ARM_FS_DOMAIN_SECTION 0x09u
#define ARM_FS_DOMAIN_PAGE 0x0bu
#define ARM_FS_WALK_L1 0x0cu       /* synchronous external abort on the level 1 walk */
#define ARM_FS_PERM_SECTION 0x0du
#define ARM_FS_WALK_L2 0x0eu
#define ARM_FS_PERM_PAGE 0x0fu
static inline uint32_t arm_fsr(unsigned fs, unsigned domain)
{
    return (fs & 0xfu) | ((fs & 0x10u) << 6) | ((domain & 0xfu) << 4);
}

/* SCTLR bits the system side uses. */
#define ARM_SCTLR_M (1u << 0)
#define ARM_SCTLR_A (1u << 1)
#define ARM_SCTLR_SW (1u << 10)
#define ARM_SCTLR_V (1u << 13)
#define ARM_SCTLR_EE (1u << 25)
#define ARM_SCTLR_TRE (1u << 28)
#define ARM_SCTLR_AFE (1u << 29)
#define ARM_SCTLR_TE (1u << 30)

/* cpu.c: register bank of a mode (usr and sys share bank 0); -1 for an invalid mode. */
int arm_mode_bank(unsigned mode);
/* cpu.c: whether mode is one this core implements (usr, fiq, irq, svc, abt, und, sys). */
bool arm_mode_valid(unsigned mode);

/* exec.c: this core's part of the board's translation engine (created with the first core,
 * freed with the last). 0, or -1 when out of memory. */
int arm_exec_init(struct arm_cpu *cpu, unsigned index);
void arm_exec_destroy(struct arm_cpu *cpu);
/* A store hit a page holding translated code (memory.c's slow path, after the store): drops
 * this core's blocks of the page now, and has every other core that translated code there
 * re-validate its blocks at its next block boundary. */
static inline void arm_code_written(struct arm_cpu *cpu, uint32_t pa)
{
    coremu_tb_code_written(&cpu->tb, pa);
}
/* Whether some core holds blocks translated from the physical page of pa (acquire); memory.c
 * marks such pages COREMU_TLB_CODE when it fills a TLB entry. */
static inline bool arm_page_has_code(const struct arm_cpu *cpu, uint32_t pa)
{
    return coremu_tb_page_has_code(cpu->tb.engine, pa);
}
/* exec.c: cache and TLB maintenance. Applied to this core now; with broadcast (the IS forms,
 * and ICIMVAU which the MP extensions broadcast) also posted to every other powered-on core,
 * complete when this core's next arm_dsb returns. */
enum arm_maint_op {
    ARM_MAINT_TLBIALL,   /* arg unused */
    ARM_MAINT_TLBIMVA,   /* arg: MVA | ASID (the register value as written) */
    ARM_MAINT_TLBIASID,  /* arg: ASID */
    ARM_MAINT_TLBIMVAA,  /* arg: MVA */
    ARM_MAINT_ICIALLU,   /* invalidate every translated block (re-validated by content) */
};
void arm_maint(struct arm_cpu *cpu, enum arm_maint_op op, uint32_t arg, bool broadcast);
/* exec.c: DSB (and CP15DSB): a full host fence, then waits until every maintenance operation
 * this core broadcast has been performed by every powered-on core (coremu_tb_sync). ops_misc.c's
 * DSB handler calls it. */
void arm_dsb(struct arm_cpu *cpu);
/* exec.c: makes run() return at the next block boundary. */
void arm_request_leave(struct arm_cpu *cpu);
/* Applies maintenance other cores posted to this one (ARM_PENDING_MAINT). Called at block
 * boundaries and by every wait that runs no guest code (WFI, WFE, DSB). */
static inline void arm_maint_process(struct arm_cpu *cpu)
{
    coremu_tb_maint_process(&cpu->tb);
}

/* mmu.c: a full walk, for the TLB fill and ATS1C*: the result for every access type at once.
 * fsr = 0 when the walk itself succeeded (then prot tells the permitted accesses), else the
 * fault (translation, access flag, domain, external abort on the walk) in DFSR format. */
#define ARM_PROT_R (1u << 0)
#define ARM_PROT_W (1u << 1)
#define ARM_PROT_X (1u << 2)
struct arm_walk {
    uint32_t pa;        /* physical address of vaddr */
    uint32_t page_size; /* 4 KB, 64 KB, 1 MB or 16 MB; 4 KB with the MMU off */
    uint32_t fsr;       /* 0, or the fault of the walk (DFSR format, domain included) */
    uint32_t perm_fsr;  /* the status a permission fault on this mapping would have */
    uint8_t prot;       /* ARM_PROT_* allowed at the privilege walked for */
    uint8_t domain;
    bool global;        /* nG clear (or MMU off) */
    uint32_t par_attr;  /* PAR[11:1] attribute bits for ATS1C* (SS, Outer, Inner, SH, NS, NOS) */
};
void arm_mmu_walk(struct arm_cpu *cpu, uint32_t vaddr, bool user, struct arm_walk *w);
/* mmu.c: drop TLB entries mapping the physical page of pa (all of them, or write-enabled
 * ones only). */
void arm_tlb_flush_phys(struct arm_cpu *cpu, uint32_t pa, bool writes_only);

/* memory.c: translates one access (TLB first; faults raised as aborts and escape via
 * fault_jmp; alignment is the caller's business) and returns the host address of vaddr, or
 * NULL when it is not RAM (then *pa tells where to go through the address space). For
 * ARM_ACCESS_EXEC the fault is a prefetch abort. */
void *arm_mem_translate(struct arm_cpu *cpu, uint32_t vaddr, enum arm_access access, bool user,
                        uint32_t *pa, uint32_t *tlb_flags);
/* memory.c: the fault of a failed MMIO access (external abort) or alignment check. */
_Noreturn void arm_alignment_fault(struct arm_cpu *cpu, uint32_t vaddr, bool write);

/* cp15.c: reset values of the CP15 table's registers (arm_cpu_reset calls it). */
void arm_cp15_reset(struct arm_cpu *cpu);
/* cp15.c: the cycle counter (PMCCNTR) now. */
uint64_t arm_pmu_cycles(struct arm_cpu *cpu);

/* timer.c: the generic timer. The counter runs at ARM_CNT_HZ whatever CNTFRQ says. */
#define ARM_CNT_HZ 62500000u
enum arm_timer_reg {
    ARM_CNTFRQ, ARM_CNTKCTL, ARM_CNTP_TVAL, ARM_CNTP_CTL, ARM_CNTV_TVAL, ARM_CNTV_CTL,
    ARM_CNTPCT, ARM_CNTVCT, ARM_CNTP_CVAL, ARM_CNTV_CVAL,
};
/* Whether the current mode may access reg (PL1 always; PL0 as CNTKCTL allows). */
bool arm_timer_access_ok(struct arm_cpu *cpu, enum arm_timer_reg reg, bool write);
uint64_t arm_timer_read(struct arm_cpu *cpu, enum arm_timer_reg reg);
void arm_timer_write(struct arm_cpu *cpu, enum arm_timer_reg reg, uint64_t value);
void arm_timer_reset(struct arm_cpu *cpu);
/* Re-evaluates the outputs (board->timer_output) and the core's deadline. */
void arm_timer_update(struct arm_cpu *cpu);
uint64_t arm_timer_count(void);

/* exception.c: WFI, WFE, SEV, HVC, SMC for the handlers (ops_misc.c). HVC/SMC call
 * board->firmware_call and raise UNDEFINED (escaping via fault_jmp) when it declines or at
 * PL0. WFI sleeps until an interrupt is pending (masked or not); WFE until an event. */
void arm_wfi(struct arm_cpu *cpu);
void arm_wfe(struct arm_cpu *cpu);
void arm_sev(struct arm_cpu *cpu);
void arm_hvc(struct arm_cpu *cpu, const struct arm_uop *op, uint32_t imm16);
void arm_smc(struct arm_cpu *cpu, const struct arm_uop *op);

/* atomic_table.c: ARM's atomic table (every core's cpu->atomic; main registers it with the
 * runtime). */
extern const struct coremu_atomic_table arm_atomic_table;

/* atomic_arm.c: the exclusive-monitor engine's watch callback for the board (opaque is the
 * struct arm_board *): stops the world and drops every core's TLB entries for the page. */
void arm_xmon_watch(void *opaque, uint64_t page_pa);

/* cp15.c and atomic_arm.c: the system side that the MCR/MRC and exclusive handlers call
 * (ops_misc.c, ops_ldst.c). */
void arm_cp15_write(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crn,
                    unsigned crm, unsigned opc2, uint32_t value);
uint32_t arm_cp15_read(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                       unsigned crn, unsigned crm, unsigned opc2);
void arm_cp15_write64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                      unsigned crm, uint64_t value);
uint64_t arm_cp15_read64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                         unsigned crm);
uint32_t arm_ldrex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size);
bool arm_strex(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value);
uint64_t arm_ldrexd(struct arm_cpu *cpu, uint32_t vaddr);
bool arm_strexd(struct arm_cpu *cpu, uint32_t vaddr, uint64_t value);
void arm_clrex(struct arm_cpu *cpu);
uint32_t arm_swp(struct arm_cpu *cpu, uint32_t vaddr, unsigned size, uint32_t value);

#endif /* COREMU_ARM_CPU_H */
