/*
 * coremu ARM — the CP15 system control coprocessor: one table row per register or operation
 * (ARM ARM B3.17, B4.1, B8 for the PMU, B8/B4 for the generic timer), looked up through a
 * direct index built once from the table.
 *
 * A row says who may access the register (PL1 read/write, PL0 read/write, or a function that
 * decides PL0 access from PMUSERENR/CNTKCTL) and how: a field of struct arm_cpu with a mask of
 * writable bits and a reset value, a constant, or read/write functions. Anything not in the
 * table, and any access the row does not allow, is UNDEFINED.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <coremu/clock.h>
#include <coremu/log.h>
#include <coremu/util.h>

#include "board.h"
#include "cpu.h"

enum {
    PL1_R = 1u << 0,
    PL1_W = 1u << 1,
    PL0_R = 1u << 2,
    PL0_W = 1u << 3,
    PL1_RW = PL1_R | PL1_W,
    PL0_RW = PL0_R | PL0_W,
    ALL_RW = PL1_RW | PL0_RW,
};

enum cp_kind { CP_CONST, CP_FIELD, CP_FN };

struct cp15_reg {
    const char *name;
    uint8_t opc1, crn, crm, opc2;
    uint8_t access;
    uint8_t kind;
    uint16_t offset; /* CP_FIELD: offset of the uint32_t in struct arm_cpu */
    uint32_t value;  /* CP_CONST: the value; CP_FIELD: the reset value */
    uint32_t wmask;  /* CP_FIELD: writable bits */
    uint32_t (*read)(struct arm_cpu *cpu, const struct cp15_reg *ri);
    void (*write)(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value);
    /* When set, decides PL0 access instead of the PL0 bits. */
    bool (*pl0_ok)(struct arm_cpu *cpu, const struct cp15_reg *ri, bool write);
    uint32_t arg;
};

#define F(field) offsetof(struct arm_cpu, field)

/* Row builders. */
#define CONST(nm, o1, n, m, o2, acc, val)                                                         \
    {.name = nm, .opc1 = o1, .crn = n, .crm = m, .opc2 = o2, .access = acc, .kind = CP_CONST,     \
     .value = val}
#define FIELD(nm, o1, n, m, o2, acc, fld, reset, mask)                                            \
    {.name = nm, .opc1 = o1, .crn = n, .crm = m, .opc2 = o2, .access = acc, .kind = CP_FIELD,     \
     .offset = F(fld), .value = reset, .wmask = mask}
#define FN(nm, o1, n, m, o2, acc, rd, wr, a)                                                      \
    {.name = nm, .opc1 = o1, .crn = n, .crm = m, .opc2 = o2, .access = acc, .kind = CP_FN,        \
     .read = rd, .write = wr, .arg = a}
#define FNP0(nm, o1, n, m, o2, acc, rd, wr, p0, a)                                                \
    {.name = nm, .opc1 = o1, .crn = n, .crm = m, .opc2 = o2, .access = acc, .kind = CP_FN,        \
     .read = rd, .write = wr, .pl0_ok = p0, .arg = a}
/* A write-only operation that coremu has nothing to do for (caches it does not model). */
#define NOP(nm, o1, n, m, o2, acc) FN(nm, o1, n, m, o2, acc, NULL, write_ignore, 0)

static inline uint32_t *field_ptr(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return (uint32_t *)((char *)cpu + ri->offset);
}

static void write_ignore(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
}

/* ---- identification ----------------------------------------------------------------------- */

static uint32_t midr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return cpu->cp15.midr;
}

static uint32_t mpidr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return cpu->cp15.mpidr;
}

static uint32_t ccsidr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    /* Cortex-A15: 32 KB 2-way L1 I and D caches, 2 MB 16-way L2, 64-byte lines. */
    switch (cpu->cp15.csselr & 0xf) {
    case 0: /* L1 data: write-back, read- and write-allocate */
        return 0x701fe00au;
    case 1: /* L1 instruction */
        return 0x201fe00au;
    case 2: /* L2 unified */
        return 0x70ffe07au;
    default:
        return 0;
    }
}

static uint32_t l2ctlr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    /* Number of cores in the cluster, minus one, in bits 25:24. */
    unsigned n = cpu->board ? cpu->board->ncpus : 1;
    return ((n - 1) & 3u) << 24;
}

/* ---- system control and translation ------------------------------------------------------ */

#define SCTLR_RESET 0x00c50078u
/* M, A, C, SW, Z, I, V, RR, EE, TRE, AFE, TE; the rest are fixed (RAO/RAZ) in this core. */
#define SCTLR_WMASK 0x72007c07u

static void sctlr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    uint32_t old = cpu->cp15.sctlr;
    uint32_t new = (old & ~SCTLR_WMASK) | (value & SCTLR_WMASK);

    cpu->cp15.sctlr = new;
    /* The TLB caches the outcome of walks, which these bits change. */
    if ((old ^ new) & (ARM_SCTLR_M | ARM_SCTLR_AFE | ARM_SCTLR_TRE | ARM_SCTLR_EE)) {
        arm_tlb_flush_all(cpu);
    }
}

static uint32_t cpacr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    /* ASEDIS reads as one: there is no Advanced SIMD to enable. */
    return cpu->cp15.cpacr | 0x80000000u;
}

static void cpacr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    /* Only cp10 and cp11 exist. */
    cpu->cp15.cpacr = value & 0x00f00000u;
}

/* Registers whose change alters what a walk returns: the soft TLB is flushed on a change
 * (entries carry neither the tables nor the domains they came from). */
static void walk_reg_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    uint32_t *p = field_ptr(cpu, ri);
    uint32_t new = (*p & ~ri->wmask) | (value & ri->wmask);

    if (new != *p) {
        *p = new;
        arm_tlb_flush_all(cpu);
    }
}

#define WALKREG(nm, o1, n, m, o2, fld, mask)                                                      \
    {.name = nm, .opc1 = o1, .crn = n, .crm = m, .opc2 = o2, .access = PL1_RW, .kind = CP_FIELD,  \
     .offset = F(fld), .value = 0, .wmask = mask, .write = walk_reg_write}

static void contextidr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    uint32_t old = cpu->cp15.contextidr;

    cpu->cp15.contextidr = value;
    /* TLB entries are those of the current ASID (or global): a new ASID starts afresh. */
    if ((old ^ value) & 0xffu) {
        arm_tlb_flush_all(cpu);
    }
}

/* ATS1CPR, ATS1CPW, ATS1CUR, ATS1CUW: arg bit 0 write, bit 1 unprivileged. */
static void ats_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    bool write = ri->arg & 1;
    bool user = ri->arg & 2;
    struct arm_walk w;

    arm_mmu_walk(cpu, value, user, &w);
    uint32_t fsr = w.fsr;
    if (!fsr && !(w.prot & (write ? ARM_PROT_W : ARM_PROT_R))) {
        fsr = w.perm_fsr;
    }
    if (fsr) {
        /* F = 1, FS[5:1] = the status: FSR[12] (ExT), FSR[10] (FS[4]), FSR[3:0]. */
        cpu->cp15.par = 1u | ((fsr & 0xfu) << 1) | (((fsr >> 10) & 1u) << 5) |
                        (((fsr >> 12) & 1u) << 6);
    } else if (w.page_size == 0x1000000) {
        /* Supersection: PA[31:24], PA[39:32] (zero here) in bits 23:16. */
        cpu->cp15.par = (w.pa & 0xff000000u) | w.par_attr;
    } else {
        cpu->cp15.par = (w.pa & 0xfffff000u) | w.par_attr;
    }
}

/* ---- cache, branch predictor, barriers, TLB ----------------------------------------------- */

/* arg: enum arm_maint_op, bit 8: broadcast (inner shareable). */
static void maint_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    enum arm_maint_op op = (enum arm_maint_op)(ri->arg & 0xff);
    bool broadcast = (ri->arg >> 8) & 1;

    arm_maint(cpu, op, op == ARM_MAINT_TLBIASID ? (value & 0xffu) : value, broadcast);
}

#define MAINT(nm, o1, n, m, o2, op, is) FN(nm, o1, n, m, o2, PL1_W, NULL, maint_write, (op) | ((is) << 8))

static void dsb_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    arm_dsb(cpu);
}

static void dmb_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    atomic_thread_fence(memory_order_seq_cst);
}

/* ---- performance monitors: PMUv2 with the cycle counter only (PMCR.N = 0) ---------------- */

#define PMCR_E (1u << 0)
#define PMCR_P (1u << 1)
#define PMCR_C (1u << 2)
#define PMCR_D (1u << 3)
#define PMCR_WMASK 0x39u /* E, D, X, DP */
#define PMCR_ID 0x410f0000u /* implementer ARM, Cortex-A15 IDCODE, N = 0 */
#define PMU_C (1u << 31)

static bool pmu_counting(const struct arm_cpu *cpu)
{
    return (cpu->cp15.pmcr & PMCR_E) && (cpu->cp15.pmcntenset & PMU_C);
}

/* The counter's time base: virtual nanoseconds as 1 GHz cycles, or every 64th with PMCR.D. */
static uint64_t pmu_now(const struct arm_cpu *cpu)
{
    uint64_t ns = (uint64_t)coremu_clock_ns();
    return (cpu->cp15.pmcr & PMCR_D) ? ns / 64 : ns;
}

uint64_t arm_pmu_cycles(struct arm_cpu *cpu)
{
    if (pmu_counting(cpu)) {
        return pmu_now(cpu) - cpu->cp15.pmccntr_base;
    }
    return cpu->pmccntr_value;
}

/* Around any change of E, D or the enable: freeze with the old settings, restart with the
 * new ones. */
static void pmu_freeze(struct arm_cpu *cpu)
{
    cpu->pmccntr_value = arm_pmu_cycles(cpu);
}

static void pmu_thaw(struct arm_cpu *cpu)
{
    if (pmu_counting(cpu)) {
        cpu->cp15.pmccntr_base = pmu_now(cpu) - cpu->pmccntr_value;
    }
}

static bool pmu_pl0_ok(struct arm_cpu *cpu, const struct cp15_reg *ri, bool write)
{
    return (cpu->cp15.pmuserenr & 1) != 0;
}

static uint32_t pmcr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return PMCR_ID | (cpu->cp15.pmcr & PMCR_WMASK);
}

static void pmcr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    pmu_freeze(cpu);
    if (value & PMCR_C) {
        cpu->pmccntr_value = 0;
    }
    cpu->cp15.pmcr = value & PMCR_WMASK;
    pmu_thaw(cpu);
}

static uint32_t pmcnten_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return cpu->cp15.pmcntenset;
}

/* arg 1: SET, 0: CLR. */
static void pmcnten_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    pmu_freeze(cpu);
    if (ri->arg) {
        cpu->cp15.pmcntenset |= value & PMU_C;
    } else {
        cpu->cp15.pmcntenset &= ~value;
    }
    pmu_thaw(cpu);
}

static uint32_t pmovsr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return cpu->cp15.pmovsr;
}

static void pmovsr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    cpu->cp15.pmovsr &= ~value;
}

static uint32_t pmccntr_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return (uint32_t)arm_pmu_cycles(cpu);
}

static void pmccntr_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    cpu->pmccntr_value = value;
    pmu_thaw(cpu);
}

static uint32_t pminten_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return cpu->cp15.pmintenset;
}

static void pminten_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    if (ri->arg) {
        cpu->cp15.pmintenset |= value & PMU_C;
    } else {
        cpu->cp15.pmintenset &= ~value;
    }
}

static uint32_t raz_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return 0;
}

/* ---- generic timer ------------------------------------------------------------------------ */

static uint32_t timer_read(struct arm_cpu *cpu, const struct cp15_reg *ri)
{
    return (uint32_t)arm_timer_read(cpu, (enum arm_timer_reg)ri->arg);
}

static void timer_write(struct arm_cpu *cpu, const struct cp15_reg *ri, uint32_t value)
{
    arm_timer_write(cpu, (enum arm_timer_reg)ri->arg, value);
}

static bool timer_pl0_ok(struct arm_cpu *cpu, const struct cp15_reg *ri, bool write)
{
    return arm_timer_access_ok(cpu, (enum arm_timer_reg)ri->arg, write);
}

#define TIMER(nm, o1, n, m, o2, acc, reg)                                                         \
    FNP0(nm, o1, n, m, o2, acc, timer_read, timer_write, timer_pl0_ok, reg)

/* ---- the table ---------------------------------------------------------------------------- */

static const struct cp15_reg cp15_regs[] = {
    /* c0: identification. */
    FN("MIDR", 0, 0, 0, 0, PL1_R, midr_read, NULL, 0),
    CONST("CTR", 0, 0, 0, 1, PL1_R, 0x8444c004u), /* v7 format, 64-byte lines, PIPT I-cache */
    CONST("TCMTR", 0, 0, 0, 2, PL1_R, 0),
    CONST("TLBTR", 0, 0, 0, 3, PL1_R, 0), /* unified TLB */
    FN("MIDR alias", 0, 0, 0, 4, PL1_R, midr_read, NULL, 0),
    FN("MPIDR", 0, 0, 0, 5, PL1_R, mpidr_read, NULL, 0),
    CONST("REVIDR", 0, 0, 0, 6, PL1_R, 0),
    FN("MIDR alias", 0, 0, 0, 7, PL1_R, midr_read, NULL, 0),
    /* ARM and Thumb-2 states, trivial Jazelle, no ThumbEE. */
    CONST("ID_PFR0", 0, 0, 1, 0, PL1_R, 0x00000131u),
    /* v7 programmers' model and the generic timer; no Security, no Virtualization. */
    CONST("ID_PFR1", 0, 0, 1, 1, PL1_R, 0x00010001u),
    /* PMUv2; no debug architecture offered through CP14. */
    CONST("ID_DFR0", 0, 0, 1, 2, PL1_R, 0x02000000u),
    CONST("ID_AFR0", 0, 0, 1, 3, PL1_R, 0),
    /* VMSAv7 with TEX remap and access flag (no PXN, no LPAE), shareability, auxiliary
     * registers. */
    CONST("ID_MMFR0", 0, 0, 1, 4, PL1_R, 0x10201103u),
    CONST("ID_MMFR1", 0, 0, 1, 5, PL1_R, 0x40000000u),
    /* WFI stall, CP15 barriers, TLB maintenance by MVA/ASID/MVAA. */
    CONST("ID_MMFR2", 0, 0, 1, 6, PL1_R, 0x01240000u),
    /* Supersections, 4 GB physical, coherent walks, maintenance broadcast, set/way and MVA
     * cache maintenance, branch predictor maintenance. */
    CONST("ID_MMFR3", 0, 0, 1, 7, PL1_R, 0x00102211u),
    /* SDIV/UDIV in ARM and Thumb, BKPT, CBZ, bitfields, CLZ, SWP/SWPB. */
    CONST("ID_ISAR0", 0, 0, 2, 0, PL1_R, 0x02101111u),
    CONST("ID_ISAR1", 0, 0, 2, 1, PL1_R, 0x13112111u),
    CONST("ID_ISAR2", 0, 0, 2, 2, PL1_R, 0x21232041u),
    /* LDREX/STREX of every width and CLREX, no ThumbEE. */
    CONST("ID_ISAR3", 0, 0, 2, 3, PL1_R, 0x01112131u),
    /* Barrier instructions, no SMC. */
    CONST("ID_ISAR4", 0, 0, 2, 4, PL1_R, 0x00010142u),
    CONST("ID_ISAR5", 0, 0, 2, 5, PL1_R, 0),
    FN("CCSIDR", 1, 0, 0, 0, PL1_R, ccsidr_read, NULL, 0),
    CONST("CLIDR", 1, 0, 0, 1, PL1_R, 0x0a200023u), /* L1 I+D, L2 unified; LoUU 1, LoC 2 */
    CONST("AIDR", 1, 0, 0, 7, PL1_R, 0),
    FIELD("CSSELR", 2, 0, 0, 0, PL1_RW, cp15.csselr, 0, 0xfu),

    /* c1: system control. */
    {.name = "SCTLR", .opc1 = 0, .crn = 1, .crm = 0, .opc2 = 0, .access = PL1_RW,
     .kind = CP_FIELD, .offset = F(cp15.sctlr), .value = SCTLR_RESET, .wmask = SCTLR_WMASK,
     .write = sctlr_write},
    FIELD("ACTLR", 0, 1, 0, 1, PL1_RW, cp15.actlr, 0, 0xffffffffu),
    FN("CPACR", 0, 1, 0, 2, PL1_RW, cpacr_read, cpacr_write, 0),

    /* c2, c3: translation table bases and control, domains. */
    WALKREG("TTBR0", 0, 2, 0, 0, cp15.ttbr0, 0xffffffffu),
    WALKREG("TTBR1", 0, 2, 0, 1, cp15.ttbr1, 0xffffffffu),
    WALKREG("TTBCR", 0, 2, 0, 2, cp15.ttbcr, 0x7u), /* N only: no EAE, no PD0/PD1 */
    WALKREG("DACR", 0, 3, 0, 0, cp15.dacr, 0xffffffffu),

    /* c5, c6: fault status and address. */
    FIELD("DFSR", 0, 5, 0, 0, PL1_RW, cp15.dfsr, 0, 0x00001dffu),
    FIELD("IFSR", 0, 5, 0, 1, PL1_RW, cp15.ifsr, 0, 0x0000140fu),
    FIELD("ADFSR", 0, 5, 1, 0, PL1_RW, cp15.adfsr, 0, 0xffffffffu),
    FIELD("AIFSR", 0, 5, 1, 1, PL1_RW, cp15.aifsr, 0, 0xffffffffu),
    FIELD("DFAR", 0, 6, 0, 0, PL1_RW, cp15.dfar, 0, 0xffffffffu),
    FIELD("IFAR", 0, 6, 0, 2, PL1_RW, cp15.ifar, 0, 0xffffffffu),

    /* c7: cache maintenance, address translation, barriers. */
    MAINT("ICIALLUIS", 0, 7, 1, 0, ARM_MAINT_ICIALLU, 1),
    NOP("BPIALLIS", 0, 7, 1, 6, PL1_W),
    FIELD("PAR", 0, 7, 4, 0, PL1_RW, cp15.par, 0, 0xfffff7ffu),
    MAINT("ICIALLU", 0, 7, 5, 0, ARM_MAINT_ICIALLU, 0),
    /* By MVA: the multiprocessing extensions broadcast it to the inner shareable domain. */
    MAINT("ICIMVAU", 0, 7, 5, 1, ARM_MAINT_ICIALLU, 1),
    NOP("CP15ISB", 0, 7, 5, 4, PL1_W | PL0_W), /* the MCR ends the block: that is the ISB */
    NOP("BPIALL", 0, 7, 5, 6, PL1_W),
    NOP("BPIMVA", 0, 7, 5, 7, PL1_W),
    NOP("DCIMVAC", 0, 7, 6, 1, PL1_W),
    NOP("DCISW", 0, 7, 6, 2, PL1_W),
    FN("ATS1CPR", 0, 7, 8, 0, PL1_W, NULL, ats_write, 0),
    FN("ATS1CPW", 0, 7, 8, 1, PL1_W, NULL, ats_write, 1),
    FN("ATS1CUR", 0, 7, 8, 2, PL1_W, NULL, ats_write, 2),
    FN("ATS1CUW", 0, 7, 8, 3, PL1_W, NULL, ats_write, 3),
    NOP("DCCMVAC", 0, 7, 10, 1, PL1_W),
    NOP("DCCSW", 0, 7, 10, 2, PL1_W),
    FN("CP15DSB", 0, 7, 10, 4, PL1_W | PL0_W, NULL, dsb_write, 0),
    FN("CP15DMB", 0, 7, 10, 5, PL1_W | PL0_W, NULL, dmb_write, 0),
    NOP("DCCMVAU", 0, 7, 11, 1, PL1_W),
    NOP("DCCIMVAC", 0, 7, 14, 1, PL1_W),
    NOP("DCCISW", 0, 7, 14, 2, PL1_W),

    /* c8: TLB maintenance. */
    MAINT("TLBIALLIS", 0, 8, 3, 0, ARM_MAINT_TLBIALL, 1),
    MAINT("TLBIMVAIS", 0, 8, 3, 1, ARM_MAINT_TLBIMVA, 1),
    MAINT("TLBIASIDIS", 0, 8, 3, 2, ARM_MAINT_TLBIASID, 1),
    MAINT("TLBIMVAAIS", 0, 8, 3, 3, ARM_MAINT_TLBIMVAA, 1),
    MAINT("ITLBIALL", 0, 8, 5, 0, ARM_MAINT_TLBIALL, 0),
    MAINT("ITLBIMVA", 0, 8, 5, 1, ARM_MAINT_TLBIMVA, 0),
    MAINT("ITLBIASID", 0, 8, 5, 2, ARM_MAINT_TLBIASID, 0),
    MAINT("DTLBIALL", 0, 8, 6, 0, ARM_MAINT_TLBIALL, 0),
    MAINT("DTLBIMVA", 0, 8, 6, 1, ARM_MAINT_TLBIMVA, 0),
    MAINT("DTLBIASID", 0, 8, 6, 2, ARM_MAINT_TLBIASID, 0),
    MAINT("TLBIALL", 0, 8, 7, 0, ARM_MAINT_TLBIALL, 0),
    MAINT("TLBIMVA", 0, 8, 7, 1, ARM_MAINT_TLBIMVA, 0),
    MAINT("TLBIASID", 0, 8, 7, 2, ARM_MAINT_TLBIASID, 0),
    MAINT("TLBIMVAA", 0, 8, 7, 3, ARM_MAINT_TLBIMVAA, 0),

    /* c9: performance monitors (PL0 access when PMUSERENR.EN), and the A15's L2CTLR. */
    FNP0("PMCR", 0, 9, 12, 0, PL1_RW, pmcr_read, pmcr_write, pmu_pl0_ok, 0),
    FNP0("PMCNTENSET", 0, 9, 12, 1, PL1_RW, pmcnten_read, pmcnten_write, pmu_pl0_ok, 1),
    FNP0("PMCNTENCLR", 0, 9, 12, 2, PL1_RW, pmcnten_read, pmcnten_write, pmu_pl0_ok, 0),
    FNP0("PMOVSR", 0, 9, 12, 3, PL1_RW, pmovsr_read, pmovsr_write, pmu_pl0_ok, 0),
    FNP0("PMSWINC", 0, 9, 12, 4, PL1_W, NULL, write_ignore, pmu_pl0_ok, 0),
    {.name = "PMSELR", .opc1 = 0, .crn = 9, .crm = 12, .opc2 = 5, .access = PL1_RW,
     .kind = CP_FIELD, .offset = F(cp15.pmselr), .wmask = 0x1fu, .pl0_ok = pmu_pl0_ok},
    FNP0("PMCEID0", 0, 9, 12, 6, PL1_R, raz_read, NULL, pmu_pl0_ok, 0),
    FNP0("PMCEID1", 0, 9, 12, 7, PL1_R, raz_read, NULL, pmu_pl0_ok, 0),
    FNP0("PMCCNTR", 0, 9, 13, 0, PL1_RW, pmccntr_read, pmccntr_write, pmu_pl0_ok, 0),
    /* No event counters (PMCR.N = 0): the selected-counter registers read as zero. */
    FNP0("PMXEVTYPER", 0, 9, 13, 1, PL1_RW, raz_read, write_ignore, pmu_pl0_ok, 0),
    FNP0("PMXEVCNTR", 0, 9, 13, 2, PL1_RW, raz_read, write_ignore, pmu_pl0_ok, 0),
    FIELD("PMUSERENR", 0, 9, 14, 0, PL1_RW | PL0_R, cp15.pmuserenr, 0, 0x1u),
    FN("PMINTENSET", 0, 9, 14, 1, PL1_RW, pminten_read, pminten_write, 1),
    FN("PMINTENCLR", 0, 9, 14, 2, PL1_RW, pminten_read, pminten_write, 0),
    FN("L2CTLR", 1, 9, 0, 2, PL1_RW, l2ctlr_read, write_ignore, 0),
    CONST("L2ECTLR", 1, 9, 0, 3, PL1_RW, 0),

    /* c10: memory attribute remapping (accepted, no effect on behaviour). */
    FIELD("PRRR", 0, 10, 2, 0, PL1_RW, cp15.prrr, 0x00098aa4u, 0xffffffffu),
    FIELD("NMRR", 0, 10, 2, 1, PL1_RW, cp15.nmrr, 0x44e048e0u, 0xffffffffu),

    /* c12: vector base. */
    FIELD("VBAR", 0, 12, 0, 0, PL1_RW, cp15.vbar, 0, 0xffffffe0u),

    /* c13: process, context and thread ID. FCSE is not implemented: FCSEIDR is RAZ/WI. */
    CONST("FCSEIDR", 0, 13, 0, 0, PL1_RW, 0),
    {.name = "CONTEXTIDR", .opc1 = 0, .crn = 13, .crm = 0, .opc2 = 1, .access = PL1_RW,
     .kind = CP_FIELD, .offset = F(cp15.contextidr), .wmask = 0xffffffffu,
     .write = contextidr_write},
    FIELD("TPIDRURW", 0, 13, 0, 2, ALL_RW, cp15.tpidrurw, 0, 0xffffffffu),
    FIELD("TPIDRURO", 0, 13, 0, 3, PL1_RW | PL0_R, cp15.tpidruro, 0, 0xffffffffu),
    FIELD("TPIDRPRW", 0, 13, 0, 4, PL1_RW, cp15.tpidrprw, 0, 0xffffffffu),

    /* c14: generic timer (PL0 access as CNTKCTL allows). CNTFRQ is writable at PL1: with no
     * Security Extensions, PL1 is the highest privilege. */
    TIMER("CNTFRQ", 0, 14, 0, 0, PL1_RW, ARM_CNTFRQ),
    TIMER("CNTKCTL", 0, 14, 1, 0, PL1_RW, ARM_CNTKCTL),
    TIMER("CNTP_TVAL", 0, 14, 2, 0, PL1_RW, ARM_CNTP_TVAL),
    TIMER("CNTP_CTL", 0, 14, 2, 1, PL1_RW, ARM_CNTP_CTL),
    TIMER("CNTV_TVAL", 0, 14, 3, 0, PL1_RW, ARM_CNTV_TVAL),
    TIMER("CNTV_CTL", 0, 14, 3, 1, PL1_RW, ARM_CNTV_CTL),
};

#define NREGS COREMU_ARRAY_SIZE(cp15_regs)

/* 64-bit registers (MCRR/MRRC), by opc1 and CRm. TTBR0/TTBR1/PAR need LPAE and CNTVOFF the
 * Virtualization Extensions: they are absent, hence UNDEFINED. */
struct cp15_reg64 {
    const char *name;
    uint8_t opc1, crm;
    uint8_t access;
    enum arm_timer_reg reg;
};

static const struct cp15_reg64 cp15_regs64[] = {
    {"CNTPCT", 0, 14, PL1_R, ARM_CNTPCT},
    {"CNTVCT", 1, 14, PL1_R, ARM_CNTVCT},
    {"CNTP_CVAL", 2, 14, PL1_RW, ARM_CNTP_CVAL},
    {"CNTV_CVAL", 3, 14, PL1_RW, ARM_CNTV_CVAL},
};

/* ---- lookup ------------------------------------------------------------------------------- */

/* (opc1, CRn, CRm, opc2) -> row index + 1; 0: not in the table. Built once. */
static uint16_t cp15_index[1u << 14];
static pthread_once_t cp15_index_once = PTHREAD_ONCE_INIT;

static inline unsigned cp15_key(unsigned opc1, unsigned crn, unsigned crm, unsigned opc2)
{
    return ((opc1 & 7) << 11) | ((crn & 15) << 7) | ((crm & 15) << 3) | (opc2 & 7);
}

static void cp15_index_build(void)
{
    for (unsigned i = 0; i < NREGS; i++) {
        const struct cp15_reg *ri = &cp15_regs[i];
        cp15_index[cp15_key(ri->opc1, ri->crn, ri->crm, ri->opc2)] = (uint16_t)(i + 1);
    }
}

/* The reserved part of the c0 ID space reads as zero (B3.17.2). */
static const struct cp15_reg id_raz = CONST("ID reserved", 0, 0, 0, 0, PL1_R, 0);

static const struct cp15_reg *cp15_find(unsigned opc1, unsigned crn, unsigned crm, unsigned opc2)
{
    pthread_once(&cp15_index_once, cp15_index_build);
    unsigned i = cp15_index[cp15_key(opc1, crn, crm, opc2)];
    if (i) {
        return &cp15_regs[i - 1];
    }
    if (opc1 == 0 && crn == 0 && (crm >= 3 || (crm == 2 && opc2 >= 6)) && crm <= 7) {
        return &id_raz;
    }
    return NULL;
}

static bool cp15_allowed(struct arm_cpu *cpu, const struct cp15_reg *ri, bool write)
{
    if (arm_cpu_privileged(cpu)) {
        return (ri->access & (write ? PL1_W : PL1_R)) != 0;
    }
    if (ri->access & (write ? PL0_W : PL0_R)) {
        return true;
    }
    /* A PL0 rule applies only to what PL1 may do. */
    return ri->pl0_ok && (ri->access & (write ? PL1_W : PL1_R)) && ri->pl0_ok(cpu, ri, write);
}

static _Noreturn void cp15_undefined(struct arm_cpu *cpu, const struct arm_uop *op, bool write,
                                     unsigned opc1, unsigned crn, unsigned crm, unsigned opc2)
{
    COREMU_LOG(COREMU_LOG_UNIMP | COREMU_LOG_GUEST_ERRORS,
               "cpu%u: %s p15, %u, c%u, c%u, %u: UNDEFINED\n", cpu->rt ? cpu->rt->index : 0u,
               write ? "mcr" : "mrc", opc1, crn, crm, opc2);
    arm_undefined(cpu, op);
}

uint32_t arm_cp15_read(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                       unsigned crn, unsigned crm, unsigned opc2)
{
    const struct cp15_reg *ri = cp15_find(opc1, crn, crm, opc2);

    if (!ri || !cp15_allowed(cpu, ri, false)) {
        cp15_undefined(cpu, op, false, opc1, crn, crm, opc2);
    }
    if (ri->read) {
        return ri->read(cpu, ri);
    }
    if (ri->kind == CP_FIELD) {
        return *field_ptr(cpu, ri);
    }
    return ri->value;
}

void arm_cp15_write(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1, unsigned crn,
                    unsigned crm, unsigned opc2, uint32_t value)
{
    const struct cp15_reg *ri = cp15_find(opc1, crn, crm, opc2);

    if (!ri || !cp15_allowed(cpu, ri, true)) {
        cp15_undefined(cpu, op, true, opc1, crn, crm, opc2);
    }
    if (ri->write) {
        ri->write(cpu, ri, value);
    } else if (ri->kind == CP_FIELD) {
        uint32_t *p = field_ptr(cpu, ri);
        *p = (*p & ~ri->wmask) | (value & ri->wmask);
    }
    /* CP_CONST with write access: RAZ/WI. */
}

static const struct cp15_reg64 *cp15_find64(unsigned opc1, unsigned crm)
{
    for (unsigned i = 0; i < COREMU_ARRAY_SIZE(cp15_regs64); i++) {
        if (cp15_regs64[i].opc1 == opc1 && cp15_regs64[i].crm == crm) {
            return &cp15_regs64[i];
        }
    }
    return NULL;
}

static bool cp15_allowed64(struct arm_cpu *cpu, const struct cp15_reg64 *ri, bool write)
{
    if (!(ri->access & (write ? PL1_W : PL1_R))) {
        return false;
    }
    return arm_cpu_privileged(cpu) || arm_timer_access_ok(cpu, ri->reg, write);
}

uint64_t arm_cp15_read64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                         unsigned crm)
{
    const struct cp15_reg64 *ri = cp15_find64(opc1, crm);

    if (!ri || !cp15_allowed64(cpu, ri, false)) {
        COREMU_LOG(COREMU_LOG_UNIMP | COREMU_LOG_GUEST_ERRORS,
                   "cpu%u: mrrc p15, %u, c%u: UNDEFINED\n", cpu->rt ? cpu->rt->index : 0u,
                   opc1, crm);
        arm_undefined(cpu, op);
    }
    return arm_timer_read(cpu, ri->reg);
}

void arm_cp15_write64(struct arm_cpu *cpu, const struct arm_uop *op, unsigned opc1,
                      unsigned crm, uint64_t value)
{
    const struct cp15_reg64 *ri = cp15_find64(opc1, crm);

    if (!ri || !cp15_allowed64(cpu, ri, true)) {
        COREMU_LOG(COREMU_LOG_UNIMP | COREMU_LOG_GUEST_ERRORS,
                   "cpu%u: mcrr p15, %u, c%u: UNDEFINED\n", cpu->rt ? cpu->rt->index : 0u,
                   opc1, crm);
        arm_undefined(cpu, op);
    }
    arm_timer_write(cpu, ri->reg, value);
}

void arm_cp15_reset(struct arm_cpu *cpu)
{
    for (unsigned i = 0; i < NREGS; i++) {
        const struct cp15_reg *ri = &cp15_regs[i];
        if (ri->kind == CP_FIELD) {
            *field_ptr(cpu, ri) = ri->value;
        }
    }
    cpu->cp15.pmccntr_base = 0;
}
