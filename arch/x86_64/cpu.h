/*
 * coremu x86_64 — the state of one x86_64 core and the contracts between its parts.
 *
 * Ownership: everything in struct x86_cpu belongs to the core's own thread. Other threads
 * reach a core only through the runtime (events, pending bits); fields written from outside
 * say so beside them.
 *
 * Execution model (docs/DESIGN.md, "An architecture"): decode.c finds an instruction's length
 * and its row in the SDM's opcode maps; exec.c turns the row's operand codes into a micro-op
 * (struct x86_uop: operands decoded once, a handler from exec_table.c chosen by mnemonic) and
 * runs blocks of them on the shared engine (lib/tb.c). Handlers (ops_*.c) never decode bytes.
 *
 * Faults. A handler does every access that can fault before it changes any register, so a
 * fault leaves the state as it was before the instruction (string instructions: as it was
 * before the faulting iteration). x86_raise records the exception and escapes to the block
 * loop through cpu->fault_jmp; the loop delivers it (exception.c) and resumes at the handler.
 *
 * Flags. CF PF AF ZF SF OF are lazy: instructions that write them store their operation and
 * operands (cc_op, cc_size, cc_dst, cc_src1, cc_src2), and the flags are computed when some
 * instruction reads them (flags.c). Every other RFLAGS bit lives in cpu->rflags.
 */
#ifndef COREMU_X86_64_CPU_H
#define COREMU_X86_64_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/physmem.h>
#include <coremu/softmmu.h>
#include <coremu/tb.h>

struct x86_cpu;
struct x86_uop;

/* ---- registers ------------------------------------------------------------------------------ */

enum x86_gpr {
    X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};
/* Operand register numbers 16-19: AH, CH, DH, BH (byte registers 4-7 without REX). */
#define X86_REG_AH 16
/* No register (memory operand without base or index). */
#define X86_REG_NONE 0xff

enum x86_seg { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_LDTR, X86_TR, X86_NSEG };

/* RFLAGS. */
#define X86_CF (1u << 0)
#define X86_PF (1u << 2)
#define X86_AF (1u << 4)
#define X86_ZF (1u << 6)
#define X86_SF (1u << 7)
#define X86_TF (1u << 8)
#define X86_IF (1u << 9)
#define X86_DF (1u << 10)
#define X86_OF (1u << 11)
#define X86_IOPL (3u << 12)
#define X86_NT (1u << 14)
#define X86_RF (1u << 16)
#define X86_VM (1u << 17)
#define X86_AC (1u << 18)
#define X86_VIF (1u << 19)
#define X86_VIP (1u << 20)
#define X86_ID (1u << 21)
#define X86_ARITH_FLAGS (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)

/* Control registers. */
#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_EM (1u << 2)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_AM (1u << 18)
#define X86_CR0_NW (1u << 29)
#define X86_CR0_CD (1u << 30)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_VME (1u << 0)
#define X86_CR4_PVI (1u << 1)
#define X86_CR4_TSD (1u << 2)
#define X86_CR4_DE (1u << 3)
#define X86_CR4_PSE (1u << 4)
#define X86_CR4_PAE (1u << 5)
#define X86_CR4_MCE (1u << 6)
#define X86_CR4_PGE (1u << 7)
#define X86_CR4_PCE (1u << 8)
#define X86_CR4_OSFXSR (1u << 9)
#define X86_CR4_OSXMMEXCPT (1u << 10)
#define X86_CR4_UMIP (1u << 11)
#define X86_CR4_LA57 (1u << 12)
#define X86_CR4_FSGSBASE (1u << 16)
#define X86_CR4_PCIDE (1u << 17)
#define X86_CR4_OSXSAVE (1u << 18)
#define X86_CR4_SMEP (1u << 20)
#define X86_CR4_SMAP (1u << 21)
#define X86_EFER_SCE (1u << 0)
#define X86_EFER_LME (1u << 8)
#define X86_EFER_LMA (1u << 10)
#define X86_EFER_NXE (1u << 11)

/* Exception vectors. */
enum x86_vector {
    X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_NMI = 2, X86_EXC_BP = 3, X86_EXC_OF = 4,
    X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7, X86_EXC_DF = 8, X86_EXC_TS = 10,
    X86_EXC_NP = 11, X86_EXC_SS = 12, X86_EXC_GP = 13, X86_EXC_PF = 14, X86_EXC_MF = 16,
    X86_EXC_AC = 17, X86_EXC_MC = 18, X86_EXC_XM = 19,
};

/* #PF error code bits. */
#define X86_PF_P (1u << 0)
#define X86_PF_W (1u << 1)
#define X86_PF_U (1u << 2)
#define X86_PF_RSVD (1u << 3)
#define X86_PF_I (1u << 4)

/*
 * A segment register with its descriptor cache. attr holds the descriptor's attribute bits as
 * they sit in bits 8-23 of its high doubleword, shifted down by 8: type (0-3), S (4), DPL (5-6),
 * P (7), AVL (12), L (13), D/B (14), G (15). limit is the expanded byte limit.
 */
struct x86_segment {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint16_t attr;
};
#define X86_SEG_TYPE(a) ((a) & 0xfu)
#define X86_SEG_S (1u << 4)
#define X86_SEG_DPL(a) (((a) >> 5) & 3u)
#define X86_SEG_P (1u << 7)
#define X86_SEG_L (1u << 13)
#define X86_SEG_DB (1u << 14)
#define X86_SEG_G (1u << 15)

struct x86_dtr {
    uint64_t base;
    uint32_t limit;
};

/* An 80-bit x87 register as the FXSAVE image holds it. */
struct x86_f80 {
    uint64_t mant;
    uint16_t sign_exp;
};

union x86_xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
};

/* ---- micro-operations ----------------------------------------------------------------------- */

enum x86_result {
    X86_NEXT = 0,   /* fall through to the next micro-op */
    X86_BRANCH = 1, /* cpu->next_rip was written (jump, mode change...): end the block */
};

typedef enum x86_result (*x86_fn)(struct x86_cpu *cpu, const struct x86_uop *op);
typedef const struct x86_uop *(*x86_tfn)(struct x86_cpu *cpu, const struct x86_uop *op);

enum x86_opnd_kind {
    X86_OPND_NONE,
    X86_OPND_GPR,  /* reg: 0-15, or X86_REG_AH + n for AH, CH, DH, BH */
    X86_OPND_MEM,  /* the micro-op's memory operand (seg, base, index, scale, disp) */
    X86_OPND_IMM,  /* op->imm (sign-extended at decode where the SDM says so) */
    X86_OPND_IMM2, /* op->imm2 */
    X86_OPND_ONE,  /* the constant 1 (shifts D0/D1) */
    X86_OPND_SEG,  /* segment register reg */
    X86_OPND_CR,   /* control register reg */
    X86_OPND_DR,   /* debug register reg */
    X86_OPND_XMM,  /* XMM register reg */
    X86_OPND_MMX,  /* MMX register reg */
};

struct x86_operand {
    uint8_t kind; /* enum x86_opnd_kind */
    uint8_t size; /* bytes (16 for XMM, 6 or 10 for far pointers and descriptor tables) */
    uint8_t reg;
};

/* op->flags */
#define X86_UOP_LOCK 0x01u
#define X86_UOP_REP 0x02u   /* F3 */
#define X86_UOP_REPNE 0x04u /* F2 */
#define X86_UOP_REX 0x08u   /* a REX prefix was present */
#define X86_UOP_MEM 0x10u   /* ModRM selects memory */

/*
 * One decoded instruction: the engine's header (tfn, pc, index, len), then x86's operands. The
 * handler fn gets sub (its sub-operation, from exec_table.c) and up to three operands, decoded
 * from the row's SDM operand codes; string and stack instructions use registers directly.
 */
struct x86_uop {
    COREMU_UOP_HEADER(x86_tfn);
    uint8_t opsize;   /* operand size in bytes: 2, 4 or 8 (1 for byte forms) */
    uint8_t addrsize; /* address size in bytes: 2, 4 or 8 */
    uint8_t sub;      /* the handler's sub-operation */
    uint8_t flags;    /* X86_UOP_* */
    uint8_t opcode;
    uint8_t map;      /* enum x86_map */
    uint8_t modrm;
    uint8_t seg;      /* segment of the memory operand (override or default) */
    uint8_t base, sib_index, scale; /* X86_REG_NONE when absent; scale is a shift count */
    uint8_t nopnd;
    uint8_t rex; /* the REX byte, 0 without one */
    struct x86_operand opnd[3];
    x86_fn fn;
    int64_t disp; /* with base X86_REG_NONE and riprel: the absolute address */
    uint64_t imm, imm2;
};
COREMU_UOP_CHECK(struct x86_uop);

/* ---- the core ------------------------------------------------------------------------------- */

/* CS bases numbered for the context word (exec.c). */
#define X86_CS_BASE_IDS 256

#define X86_TLB_BITS 8
#define X86_TLB_SIZE (1u << X86_TLB_BITS)
/* TLBs by privilege of the access: supervisor (CPL 0-2 and implicit supervisor accesses) and
 * user (CPL 3), so that a privilege change needs no flush. */
enum { X86_TLB_SUPER, X86_TLB_USER, X86_NTLB };

/* Interrupt inputs, as bits of coremu_cpu.pending (the board's interrupt controller sets them). */
#define X86_PENDING_INTR (COREMU_PENDING_ARCH0 << 0)
#define X86_PENDING_NMI (COREMU_PENDING_ARCH0 << 1)
#define X86_PENDING_MAINT (COREMU_PENDING_ARCH0 << 2)
#define X86_PENDING_INIT (COREMU_PENDING_ARCH0 << 3)

/* Lazy flag operations (flags.c). */
enum x86_cc_op {
    X86_CC_EFLAGS, /* the flags are cc_src1's arithmetic bits */
    X86_CC_ADD,    /* dst = src1 + src2 */
    X86_CC_ADC,    /* dst = src1 + src2 + carry-in (cc_aux) */
    X86_CC_SUB,    /* dst = src1 - src2 (SUB, CMP, NEG with src1 = 0) */
    X86_CC_SBB,    /* dst = src1 - src2 - borrow-in (cc_aux) */
    X86_CC_LOGIC,  /* dst; CF = OF = 0 */
    X86_CC_INC,    /* dst = src1 + 1; CF = cc_aux */
    X86_CC_DEC,    /* dst = src1 - 1; CF = cc_aux */
    X86_CC_SHIFT,  /* SHL/SHR/SAR: dst; CF = cc_aux bit 0, OF = cc_aux bit 1, AF = 0 */
};

/* The board's hooks into a core (NULL members: not wired). */
struct x86_board_hooks {
    void *opaque;
    /* The interrupt controller: the vector of the highest-priority pending interrupt, which the
     * core now takes (INTA), or -1 when there is none any more. */
    int (*intr_ack)(void *opaque, struct x86_cpu *cpu);
    /* A triple fault: the core shuts down (a PC resets the machine). */
    void (*shutdown)(void *opaque, struct x86_cpu *cpu);
    /* MSRs the CPU does not know itself (the local APIC's...): false = no such MSR (#GP). */
    bool (*msr_read)(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t *value);
    bool (*msr_write)(void *opaque, struct x86_cpu *cpu, uint32_t msr, uint64_t value);
    /* CR8, the local APIC's task priority (TPR bits 7:4); NULL: CR8 is a plain register. */
    uint64_t (*tpr_read)(void *opaque, struct x86_cpu *cpu);
    void (*tpr_write)(void *opaque, struct x86_cpu *cpu, uint64_t cr8);
};

struct x86_cpu {
    /* -- architectural state -- */
    uint64_t gpr[16];
    uint64_t rip;      /* at block boundaries; inside a block the current op's pc is the truth */
    uint64_t next_rip; /* where execution continues after a branching micro-op */
    uint64_t rflags;   /* every bit but the arithmetic flags (which are lazy) */
    uint32_t cc_op;    /* enum x86_cc_op */
    uint32_t cc_size;  /* bytes */
    uint64_t cc_dst, cc_src1, cc_src2, cc_aux;

    struct x86_segment seg[X86_NSEG];
    struct x86_dtr gdtr, idtr;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];
    unsigned cpl;

    /* MSRs */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat, apic_base, misc_enable;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc_offset; /* guest TSC = virtual clock ticks + tsc_offset */
    uint64_t mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
    uint64_t xcr0;
    /* Identity (immutable after creation): APIC ID, and the topology CPUID reports. */
    uint32_t apic_id;
    unsigned threads_per_core, cores_per_socket;
    bool cpuid_apic; /* the board has a local APIC: CPUID's APIC, x2APIC, TSC-deadline, ARAT */

    /* x87, MMX, SSE */
    struct x86_f80 st[8]; /* physical registers R0-R7 (ST(i) is st[(top + i) & 7]) */
    uint16_t fcw, fsw, ftw; /* fsw keeps TOP in bits 11-13; ftw: 2 bits per physical register */
    uint16_t fop;
    uint64_t fip, fdp;
    uint16_t fcs, fds;
    union x86_xmm xmm[16];
    uint32_t mxcsr;

    /* -- emulator state -- */
    struct coremu_tlb_entry tlb[X86_NTLB][X86_TLB_SIZE];
    bool tlb_large_pages; /* some entry came from a 2 MiB / 4 MiB / 1 GiB page (mmu.c) */
    /* CS bases seen outside 64-bit mode, numbered for the context word (exec.c); [0] is 0.
     * When all are used, the core's blocks are flushed and numbering starts again. */
    uint64_t cs_bases[X86_CS_BASE_IDS];
    unsigned cs_bases_used;
    unsigned cs_base_last; /* the number last looked up, tried first */
    /* A guest store reached a page holding translated code (mmu.c): the executing block may
     * be stale, so it ends after the current instruction. */
    bool code_written;
    struct coremu_tb_cpu tb;
    struct coremu_cpu *rt;      /* NULL when run outside a machine (user.c) */
    struct coremu_as *as;       /* guest physical memory */
    struct coremu_as *io;       /* I/O ports (NULL: reads all ones, writes ignored) */
    const struct coremu_atomic_table *atomic;
    struct x86_board_hooks board;
    const struct x86_uop *cur_op; /* the executing micro-op, for faults */
    sigjmp_buf fault_jmp;
    bool in_fault_jmp;            /* fault_jmp is armed */
    bool halted;                  /* HLT: sleeping until an interrupt */
    bool leave;                   /* leave the CPU loop at the next boundary */
    bool intr_shadow;             /* MOV SS / STI: no interrupt before the next instruction */
    uint64_t intr_shadow_rip;     /* ...which starts at this address */
    /* The exception being raised (x86_raise -> the loop's delivery). */
    unsigned exc_vector;
    uint32_t exc_error;
    bool exc_has_error;
    uint64_t exc_return_rip; /* the return address the handler sees (faults: the instruction) */
    bool exc_software;       /* INT n / INT3 / INTO: gate DPL checked against CPL */
    unsigned exc_depth;      /* nested delivery: #DF after two, shutdown after three */
    unsigned exc_delivering; /* the vector being delivered while exc_depth > 0 */
    /* User harness (user.c): exceptions stop execution instead of being delivered. */
    bool user_mode_harness;
    bool user_faulted; /* the harness stopped on an exception (exc_*) */
    uint64_t stop_rip;
    uint64_t insns_executed;
    uint64_t max_insns;
};

/* ---- exec.c --------------------------------------------------------------------------------- */

/* The context word of the block that starts at the current state. */
#define X86_CTX_CODE16 0u
#define X86_CTX_CODE32 1u
#define X86_CTX_CODE64 2u
#define X86_CTX_CODE_MASK 3u
#define X86_CTX_STACK32 (1u << 2)
#define X86_CTX_CPL_SHIFT 3
#define X86_CTX_REAL (1u << 5)
#define X86_CTX_VM86 (1u << 6)
#define X86_CTX_TF (1u << 7) /* single-step: one instruction per block, then #DB */
/* Bits 8-15: the code segment's base, as a small number (cpu->cs_bases): the engine keys blocks
 * on the instruction pointer (EIP), which means another linear address under another CS base. */
#define X86_CTX_CS_BASE_SHIFT 8
uint32_t x86_context(struct x86_cpu *cpu);

extern const struct coremu_tb_ops x86_tb_ops;
/* A store reached translated code in the middle of a block (cpu->code_written): the block
 * ends after op, which completed, and execution goes on at the next instruction from a fresh
 * translation. For threaded handlers that store. */
static inline const struct x86_uop *x86_code_written_exit(struct x86_cpu *cpu,
                                                         const struct x86_uop *op)
{
    cpu->code_written = false;
    cpu->next_rip = op->pc + op->len;
    return op + 1;
}

/* Runs the core until it must leave (machine exit, power off, harness stop). fault_jmp must be
 * armed by the caller (x86_run_loop does it). */
void x86_run_loop(struct x86_cpu *cpu);
/* Architectural reset (power-on state: real mode at F000:FFF0). */
void x86_cpu_reset(struct x86_cpu *cpu);
/* Sets up a core on engine (index: its number there); rt may be NULL (user.c). 0 or -1. */
int x86_cpu_init(struct x86_cpu *cpu, struct coremu_tb_engine *engine, struct coremu_cpu *rt,
                 struct coremu_as *as, struct coremu_as *io, unsigned index);
void x86_cpu_destroy(struct x86_cpu *cpu);

/* The XSAVE components this CPU has: x87 (bit 0) and SSE (bit 1). */
#define X86_XCR0_SUPPORTED 3u

/* The MXCSR bits that exist (FXSAVE's MXCSR_MASK): DAZ and every control and status bit. */
#define X86_MXCSR_MASK 0xffffu
/* The x87 and SSE state as FXSAVE stores it (64-bit layout), and back: false when the image's
 * MXCSR sets reserved bits (#GP). */
void x86_fxsave_image(const struct x86_cpu *cpu, uint8_t img[512]);
bool x86_fxrstor_image(struct x86_cpu *cpu, const uint8_t img[512]);

/* ---- exceptions (exception.c) --------------------------------------------------------------- */

/* Raises a fault (return address: the faulting instruction) and escapes to the block loop. */
_Noreturn void x86_raise(struct x86_cpu *cpu, unsigned vector, uint32_t error_code);
/* A fault without an error code. */
_Noreturn void x86_raise_noerr(struct x86_cpu *cpu, unsigned vector);
/* A trap or software interrupt whose handler returns to return_rip. */
_Noreturn void x86_raise_trap(struct x86_cpu *cpu, unsigned vector, uint64_t return_rip,
                              bool software);
/* Delivers cpu->exc_* (from the block loop, with fault_jmp armed): through the IVT or IDT. */
void x86_deliver_exception(struct x86_cpu *cpu);
/* Delivers an external interrupt (vector) at a block boundary; rip is the return address. */
void x86_deliver_interrupt(struct x86_cpu *cpu, unsigned vector);
/* Whether the vector pushes an error code. */
bool x86_vector_has_error(unsigned vector);

/* ---- flags (flags.c) ------------------------------------------------------------------------ */

uint32_t x86_flags_compute(const struct x86_cpu *cpu);
bool x86_flag_cf(const struct x86_cpu *cpu);
/* Condition cc (0-15, as in Jcc/SETcc/CMOVcc) under the current flags. */
bool x86_cond(const struct x86_cpu *cpu, unsigned cc);
/* RFLAGS as PUSHF sees it (VM and RF read as 0), and writing it (all bits; callers mask). */
uint64_t x86_rflags_read(const struct x86_cpu *cpu);
void x86_rflags_write(struct x86_cpu *cpu, uint64_t value);
/* Sets the arithmetic flags eagerly (the rest of RFLAGS is untouched). */
static inline void x86_flags_set(struct x86_cpu *cpu, uint32_t arith)
{
    cpu->cc_op = X86_CC_EFLAGS;
    cpu->cc_src1 = arith & X86_ARITH_FLAGS;
}
static inline void x86_flags_lazy(struct x86_cpu *cpu, enum x86_cc_op op, unsigned size,
                                  uint64_t dst, uint64_t src1, uint64_t src2)
{
    cpu->cc_op = op;
    cpu->cc_size = size;
    cpu->cc_dst = dst;
    cpu->cc_src1 = src1;
    cpu->cc_src2 = src2;
}
/* Parity flag of a result's low byte. */
static inline uint32_t x86_parity(uint64_t v)
{
    return (__builtin_popcount((unsigned)(v & 0xff)) & 1) ? 0 : X86_PF;
}

/* ---- memory (mmu.c) ------------------------------------------------------------------------- */

enum x86_access {
    X86_ACC_READ = 0,
    X86_ACC_WRITE = 1,
    X86_ACC_EXEC = 2,
    X86_ACC_KIND = 3,
    X86_ACC_SUPER = 4, /* implicit supervisor access (descriptor tables, TSS), whatever CPL */
};

/* The linear address of seg:offset for a size-byte access, with segment checks (limits and
 * rights outside 64-bit mode; canonical form in it). May fault. */
uint64_t x86_linear(struct x86_cpu *cpu, unsigned seg, uint64_t offset, unsigned size,
                    unsigned access);
/* Loads and stores at linear addresses, any alignment, page crossing included. */
uint64_t x86_load_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access);
void x86_store_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, uint64_t value,
                   unsigned access);
/* Makes sure a store of size bytes at lin would not fault (fills the TLB for writing). */
void x86_probe_write_lin(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access);
/* The host address of a size-byte access at lin when it is RAM within one page and the TLB
 * allows it fast (else NULL): for locked and bulk accesses. Walks and may fault. */
void *x86_host_ptr(struct x86_cpu *cpu, uint64_t lin, unsigned size, unsigned access);
/* Translates lin for access (walk; may fault): the physical address. */
uint64_t x86_translate(struct x86_cpu *cpu, uint64_t lin, unsigned access);
/* Physical memory, for walks and descriptor tables. */
uint64_t x86_phys_load(struct x86_cpu *cpu, uint64_t pa, unsigned size);
void x86_phys_store(struct x86_cpu *cpu, uint64_t pa, unsigned size, uint64_t value);
void x86_tlb_flush_all(struct x86_cpu *cpu);
void x86_tlb_flush_nonglobal(struct x86_cpu *cpu);
void x86_tlb_flush_page(struct x86_cpu *cpu, uint64_t lin);
/* The instruction fetch side for the engine. */
const uint8_t *x86_translate_exec(struct x86_cpu *cpu, uint64_t lin, uint64_t *paddr);
/* CR0/CR4/EFER changed: re-derive what depends on them (TLB, mode). */
void x86_paging_changed(struct x86_cpu *cpu);

static inline unsigned x86_tlb_index(uint64_t lin)
{
    return (unsigned)(lin >> 12) & (X86_TLB_SIZE - 1);
}
static inline unsigned x86_tlb_which(const struct x86_cpu *cpu, unsigned access)
{
    return (cpu->cpl == 3 && !(access & X86_ACC_SUPER)) ? X86_TLB_USER : X86_TLB_SUPER;
}

/*
 * Guest memory is TSO (Intel SDM Vol. 3A 9.2.2). The rule every access to guest RAM follows:
 * - every guest load is an acquire and every guest store a release. That keeps loads ordered
 *   with loads, stores with stores, and loads before later stores, as x86 does; only a store
 *   followed by a load may be reordered. On an x86 host both are plain MOVs; on arm64 they are
 *   LDAR/STLR, on ppc64el and s390x the fences their compilers emit for them.
 * - a naturally aligned access of 1, 2, 4 or 8 bytes is one host atomic with that order
 *   (x86_load_fast/x86_store_fast inline, x86_mem_load/x86_mem_store everywhere else: the
 *   slow paths, physical accesses of walks and descriptor tables, read-modify-writes, strings).
 * - an unaligned access (which x86 does not make single-copy atomic) is made of relaxed byte
 *   accesses with an acquire fence after a load and a release fence before a store, so the
 *   whole access is ordered like an aligned one. An access wider than 8 bytes (SSE, x87,
 *   descriptors) is made of accesses of 8 bytes or less and follows the same rule piecewise.
 * - MFENCE and every locked instruction go through coremu_atomic_fence / the host's
 *   sequentially consistent atomics, which also forbid the store->load reordering. LFENCE and
 *   SFENCE need nothing beyond the ordering above on an x86 host (they matter for
 *   non-temporal and WC accesses, which coremu performs as ordinary ones); on a weak host
 *   they are an acquire-release fence (ops_system.c).
 * On an x86 host the fences of the unaligned case are compiler barriers only: the host is
 * already TSO and emits no instruction for them.
 */
#define X86_LOAD_ORDER __ATOMIC_ACQUIRE
#define X86_STORE_ORDER __ATOMIC_RELEASE
#if defined(__x86_64__) || defined(__i386__)
#define X86_TSO_FENCE(order) __atomic_signal_fence(order)
#else
#define X86_TSO_FENCE(order) __atomic_thread_fence(order)
#endif

/* A guest load of size (1, 2, 4 or 8) bytes from host RAM within one page, in TSO order. */
static inline uint64_t x86_mem_load(const void *host, unsigned size)
{
    if (((uintptr_t)host & (size - 1)) == 0) {
        return coremu_mem_load_order(host, size, X86_LOAD_ORDER);
    }
    uint64_t v = coremu_mem_load_any(host, size);
    X86_TSO_FENCE(__ATOMIC_ACQUIRE);
    return v;
}

/* A guest store of the low size bytes of value to host RAM within one page, in TSO order. */
static inline void x86_mem_store(void *host, unsigned size, uint64_t value)
{
    if (((uintptr_t)host & (size - 1)) == 0) {
        coremu_mem_store_order(host, size, value, X86_STORE_ORDER);
        return;
    }
    X86_TSO_FENCE(__ATOMIC_RELEASE);
    coremu_mem_store_any(host, size, value);
}

/* Loads through the TLB, the slow path when it misses. */
static inline uint64_t x86_load_fast(struct x86_cpu *cpu, uint64_t lin, unsigned size)
{
    const struct coremu_tlb_entry *e = &cpu->tlb[x86_tlb_which(cpu, 0)][x86_tlb_index(lin)];
    if (__builtin_expect(coremu_tlb_hit(e->tag_read, lin, ~(uint64_t)0xfff, size), 1)) {
        return coremu_mem_load_order((const void *)(uintptr_t)(lin + e->addend), size,
                                     X86_LOAD_ORDER);
    }
    return x86_load_lin(cpu, lin, size, X86_ACC_READ);
}
static inline void x86_store_fast(struct x86_cpu *cpu, uint64_t lin, unsigned size,
                                  uint64_t value)
{
    const struct coremu_tlb_entry *e = &cpu->tlb[x86_tlb_which(cpu, 0)][x86_tlb_index(lin)];
    if (__builtin_expect(coremu_tlb_hit(e->tag_write, lin, ~(uint64_t)0xfff, size), 1)) {
        coremu_mem_store_order((void *)(uintptr_t)(lin + e->addend), size, value, X86_STORE_ORDER);
        return;
    }
    x86_store_lin(cpu, lin, size, value, X86_ACC_WRITE);
}

/* ---- operands (operand.c) ------------------------------------------------------------------- */

static inline uint64_t x86_size_mask(unsigned size)
{
    return size >= 8 ? ~(uint64_t)0 : (((uint64_t)1 << (size * 8)) - 1);
}
static inline uint64_t x86_sign_bit(unsigned size)
{
    return (uint64_t)1 << (size * 8 - 1);
}
static inline int64_t x86_sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - size * 8;
    return sh ? (int64_t)(v << sh) >> sh : (int64_t)v;
}

static inline uint64_t x86_reg_read(const struct x86_cpu *cpu, unsigned reg, unsigned size)
{
    if (reg >= X86_REG_AH) {
        return (cpu->gpr[reg - X86_REG_AH] >> 8) & 0xff;
    }
    return cpu->gpr[reg] & x86_size_mask(size);
}
/* Writes as x86 does: 32-bit results zero-extend to 64 bits, 8- and 16-bit ones merge. */
static inline void x86_reg_write(struct x86_cpu *cpu, unsigned reg, unsigned size, uint64_t v)
{
    if (reg >= X86_REG_AH) {
        uint64_t *r = &cpu->gpr[reg - X86_REG_AH];
        *r = (*r & ~(uint64_t)0xff00) | ((v & 0xff) << 8);
    } else if (size == 4) {
        cpu->gpr[reg] = (uint32_t)v;
    } else if (size == 8) {
        cpu->gpr[reg] = v;
    } else {
        uint64_t m = x86_size_mask(size);
        cpu->gpr[reg] = (cpu->gpr[reg] & ~m) | (v & m);
    }
}

/* The effective address (offset in its segment) of op's memory operand. */
static inline uint64_t x86_ea(const struct x86_cpu *cpu, const struct x86_uop *op)
{
    uint64_t ea = (uint64_t)op->disp;
    if (op->base != X86_REG_NONE) {
        ea += cpu->gpr[op->base];
    }
    if (op->sib_index != X86_REG_NONE) {
        ea += cpu->gpr[op->sib_index] << op->scale;
    }
    return ea & x86_size_mask(op->addrsize);
}

/* Linear address of the memory operand (plus extra bytes, for multi-part operands). */
static inline uint64_t x86_op_linear(struct x86_cpu *cpu, const struct x86_uop *op,
                                     uint64_t extra, unsigned size, unsigned access)
{
    uint64_t off = (x86_ea(cpu, op) + extra) & x86_size_mask(op->addrsize);
    /* 64-bit mode, no FS/GS override, canonical: the common case, inline */
    if (__builtin_expect(op->seg < X86_FS && (cpu->efer & X86_EFER_LMA) &&
                             (cpu->seg[X86_CS].attr & X86_SEG_L) &&
                             (uint64_t)((int64_t)off >> 47) + 1 <= 1 &&
                             (uint64_t)((int64_t)(off + size - 1) >> 47) + 1 <= 1,
                         1)) {
        return off;
    }
    return x86_linear(cpu, op->seg, off, size, access);
}

/* Reads operand i (GPR, memory, immediate), zero-extended. */
uint64_t x86_opnd_read(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i);
/* Writes operand i (GPR or memory). */
void x86_opnd_write(struct x86_cpu *cpu, const struct x86_uop *op, unsigned i, uint64_t v);

/* Stack (ops_stack.c): pushes and pops of size bytes with SS's stack size. */
void x86_push(struct x86_cpu *cpu, unsigned size, uint64_t value);
uint64_t x86_pop(struct x86_cpu *cpu, unsigned size);
/* The address size of the stack: 8 in 64-bit mode, else SS.B ? 4 : 2. */
unsigned x86_stack_size(const struct x86_cpu *cpu);

/* ---- segments (seg.c) ----------------------------------------------------------------------- */

/* Loads a segment register in the current mode, with every check (#GP/#NP/#SS). */
void x86_load_seg(struct x86_cpu *cpu, unsigned seg, uint16_t selector);
/* A return to an outer privilege: ES, DS, FS and GS that new_cpl may not use become null. */
void x86_null_outer_data_segs(struct x86_cpu *cpu, unsigned new_cpl);
/* Loads the cache directly (real mode / vm86: base = selector << 4). */
void x86_load_seg_real(struct x86_cpu *cpu, unsigned seg, uint16_t selector);
/* Reads a descriptor (8 bytes; 16 for system descriptors in long mode when wide). false: the
 * selector is outside its table's limit. */
bool x86_read_descriptor(struct x86_cpu *cpu, uint16_t selector, uint64_t desc[2], bool wide);
/* Decodes a code/data descriptor into a cache. */
void x86_descriptor_to_cache(const uint64_t desc[2], uint16_t selector, struct x86_segment *s);
/* The CPU's mode changed (CR0.PE, EFER.LMA, CS.L/D): recompute cpl-independent caches. */
bool x86_long_mode(const struct x86_cpu *cpu);
bool x86_code64(const struct x86_cpu *cpu);

/* ---- system (ops_system.c) ------------------------------------------------------------------ */

/* Reads and writes of MSRs: false when the MSR does not exist (#GP). */
bool x86_msr_read(struct x86_cpu *cpu, uint32_t msr, uint64_t *value);
bool x86_msr_write(struct x86_cpu *cpu, uint32_t msr, uint64_t value);
/* The TSC now. */
uint64_t x86_tsc(const struct x86_cpu *cpu);
/* CPUID leaf/subleaf. */
void x86_cpuid(struct x86_cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
/* Writes of control registers with their checks (#GP) and side effects. */
void x86_write_cr0(struct x86_cpu *cpu, uint64_t value);
void x86_write_cr3(struct x86_cpu *cpu, uint64_t value);
void x86_write_cr4(struct x86_cpu *cpu, uint64_t value);
void x86_write_efer(struct x86_cpu *cpu, uint64_t value);

/* Port I/O (ops_system.c): with the IOPL / TSS bitmap checks of the current mode. */
uint64_t x86_port_in(struct x86_cpu *cpu, uint16_t port, unsigned size);
void x86_port_out(struct x86_cpu *cpu, uint16_t port, unsigned size, uint64_t value);

/* The atomic helper table of x86_64 (atomic_table.c). */
extern const struct coremu_atomic_table x86_atomic_table;

#endif /* COREMU_X86_64_CPU_H */
