/*
 * Standalone test of the ARM CPU's system side: cpu.c (CPSR, banks), exception.c (entry and
 * return), mmu.c (short-descriptor walks and fault codes), memory.c (softmmu loads and stores,
 * alignment, MMIO, ROM), cp15.c (the table, privileges, ATS, PMU, timer access), timer.c,
 * atomic_arm.c (LDREX/STREX, the torture test) and exec.c (blocks, chaining, conditions,
 * interrupts, code invalidation, I-cache generations) driven by a tiny fake instruction set.
 *
 * Built against lib/physmem.c, lib/xmon.c, lib/atomic.c, lib/torture.c and lib/clock.c; the
 * runtime's core-thread functions are stubbed below (one core, on the main thread).
 * run-test-system.sh builds and runs it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/clock.h>
#include <coremu/cpu.h>
#include <coremu/log.h>
#include <coremu/physmem.h>

#include "board.h"
#include "cpu.h"

static int failures;
static int checks;

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        checks++;                                                                                 \
        if (!(cond)) {                                                                            \
            failures++;                                                                           \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);                      \
        }                                                                                         \
    } while (0)
#define CHECK_EQ(a, b)                                                                            \
    do {                                                                                          \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);            \
        checks++;                                                                                 \
        if (a_ != b_) {                                                                           \
            failures++;                                                                           \
            fprintf(stderr, "%s:%d: FAIL: %s == %#llx, expected %#llx\n", __FILE__, __LINE__,     \
                    #a, a_, b_);                                                                  \
        }                                                                                         \
    } while (0)

#define RAM_BASE 0x40000000u
#define RAM_SIZE 0x01000000u /* 16 MB */
#define ROM_BASE 0x10000000u
#define DEV_BASE 0x09000000u

/* ---- runtime stubs (lib/cpu.c, lib/log.c) ------------------------------------------------- */

_Atomic uint32_t coremu_log_mask;
static int stub_leave_after_pending; /* process_pending returns LEAVE when set */
static int stub_run_async_calls;
static int stub_stop_world_calls;
static int64_t stub_deadline = INT64_MAX;

void coremu_log(uint32_t cat, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (getenv("TEST_LOG")) {
        vfprintf(stderr, fmt, ap);
    }
    va_end(ap);
}

void coremu_cpu_kick(struct coremu_cpu *cpu, uint32_t bits)
{
    atomic_fetch_or(&cpu->pending, bits);
}

bool coremu_cpu_run_async(struct coremu_cpu *cpu, void (*fn)(struct coremu_cpu *, void *),
                          void *arg)
{
    stub_run_async_calls++;
    fn(cpu, arg); /* the other "core" runs it at once */
    return true;
}

enum coremu_cpu_action coremu_cpu_process_pending(struct coremu_cpu *cpu)
{
    atomic_fetch_and(&cpu->pending, COREMU_PENDING_ARCH0 * 0xffffffu);
    return stub_leave_after_pending ? COREMU_CPU_LEAVE : COREMU_CPU_CONTINUE;
}

void coremu_cpu_wait(struct coremu_cpu *cpu, uint32_t mask)
{
}

void coremu_cpu_relax(struct coremu_cpu *cpu, uint64_t progress)
{
    (void)cpu;
    (void)progress;
}

bool coremu_cpu_poll_clock(struct coremu_cpu *cpu)
{
    cpu->poll_countdown = COREMU_CPU_CLOCK_POLL_INTERVAL;
    return false;
}

void coremu_cpu_set_deadline(struct coremu_cpu *cpu, int64_t deadline_ns)
{
    cpu->deadline = deadline_ns;
    stub_deadline = deadline_ns;
}

void coremu_machine_stop_world(struct coremu_machine *m, void (*fn)(void *), void *arg)
{
    stub_stop_world_calls++;
    fn(arg);
}

/* ---- a fake instruction set for the executor ---------------------------------------------- */
/*
 * A32-sized words: cond[31:28] opcode[27:20] rd[19:16] imm[15:0].
 *   0x01 MOVI rd, #imm   0x02 ADDI rd, #imm   0x03 B imm (in the 64 KB region, ends the block)
 *   0x04 STR rd, [r(imm)]   0x05 LDR rd, [r(imm)]   0x06 LEAVE (ends the block)
 *   0x07 SVC   0x08 CMPI rd, #imm (sets Z only)   0x09 MOVT rd, #imm   0x0a CPSIE i
 *   0x0b POKE: r(rd) -> physical r(imm), behind the softmmu (DMA)   0x0c ICIALLU
 *   0x0d ADDR rd, r(imm)   0x0e VBAR <- rd   0x0f BX rd   0x10 MMU on (the test's tables)
 * T32: every halfword is a 16-bit "ADDI r0, #1" unless 32-bit (then UNDEFINED).
 */
static enum arm_uop_result op_movi(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->r[op->rd] = op->imm;
    return ARM_NEXT;
}

static enum arm_uop_result op_movt(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->r[op->rd] = (cpu->r[op->rd] & 0xffff) | (op->imm << 16);
    return ARM_NEXT;
}

static enum arm_uop_result op_addi(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->r[op->rd] += op->imm;
    return ARM_NEXT;
}

static enum arm_uop_result op_b(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->next_pc = (op->pc & 0xffff0000u) | op->imm;
    return ARM_BRANCH;
}

static enum arm_uop_result op_str(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_store(cpu, cpu->r[op->imm & 15], 4, cpu->r[op->rd], false, false);
    return ARM_NEXT;
}

static enum arm_uop_result op_ldr(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->r[op->rd] = arm_load(cpu, cpu->r[op->imm & 15], 4, false, false);
    return ARM_NEXT;
}

static enum arm_uop_result op_leave(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_request_leave(cpu);
    stub_leave_after_pending = 1;
    return ARM_NEXT;
}

static enum arm_uop_result op_svc(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_take_exception(cpu, ARM_EXC_SVC, op->pc + op->len);
    return ARM_BRANCH;
}

static enum arm_uop_result op_cmpi(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->cpsr_nzcv = cpu->r[op->rd] == op->imm ? (1u << 30) : 0;
    return ARM_NEXT;
}

static enum arm_uop_result op_cpsie(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->cpsr_rest &= ~ARM_CPSR_I;
    return ARM_NEXT;
}

static enum arm_uop_result op_poke(struct arm_cpu *cpu, const struct arm_uop *op)
{
    coremu_as_write(cpu->board->as, cpu->r[op->imm & 15], 4, cpu->r[op->rd]);
    return ARM_NEXT;
}

static enum arm_uop_result op_iciallu(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_cp15_write(cpu, op, 0, 7, 5, 0, 0);
    return ARM_NEXT;
}

static enum arm_uop_result op_addr(struct arm_cpu *cpu, const struct arm_uop *op)
{
    cpu->r[op->rd] += cpu->r[op->imm & 15];
    return ARM_NEXT;
}

static enum arm_uop_result op_setvbar(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_cp15_write(cpu, op, 0, 12, 0, 0, cpu->r[op->rd]);
    return ARM_NEXT;
}

static enum arm_uop_result op_bx(struct arm_cpu *cpu, const struct arm_uop *op)
{
    uint32_t a = cpu->r[op->rd];
    if (a & 1) {
        cpu->cpsr_rest |= ARM_CPSR_T;
    }
    cpu->next_pc = a & ~1u;
    return ARM_BRANCH;
}

static enum arm_uop_result op_mmuon(struct arm_cpu *cpu, const struct arm_uop *op)
{
    arm_cp15_write(cpu, op, 0, 2, 0, 0, RAM_BASE);
    arm_cp15_write(cpu, op, 0, 3, 0, 0, 0xc5);
    arm_cp15_write(cpu, op, 0, 1, 0, 0, cpu->cp15.sctlr | ARM_SCTLR_M);
    return ARM_NEXT;
}

static int decodes;

void arm_decode_a32(uint32_t pc, uint32_t insn, struct arm_uop *op)
{
    decodes++;
    op->cond = (uint8_t)(insn >> 28);
    op->rd = (insn >> 16) & 15;
    op->imm = insn & 0xffff;
    switch ((insn >> 20) & 0xff) {
    case 1: op->fn = op_movi; break;
    case 2: op->fn = op_addi; break;
    case 3: op->fn = op_b; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 4: op->fn = op_str; break;
    case 5: op->fn = op_ldr; break;
    case 6: op->fn = op_leave; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 7: op->fn = op_svc; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 8: op->fn = op_cmpi; break;
    case 9: op->fn = op_movt; break;
    case 0x0a: op->fn = op_cpsie; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 0x0b: op->fn = op_poke; break;
    case 0x0c: op->fn = op_iciallu; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 0x0d: op->fn = op_addr; break;
    case 0x0e: op->fn = op_setvbar; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 0x0f: op->fn = op_bx; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    case 0x10: op->fn = op_mmuon; op->flags |= ARM_UOP_ENDS_BLOCK; break;
    default: op->fn = NULL; break;
    }
}

void arm_decode_t32(uint32_t pc, uint32_t insn, unsigned len, uint8_t itstate,
                    struct arm_uop *op)
{
    decodes++;
    if (len == 2) {
        op->fn = op_addi;
        op->rd = 0;
        op->imm = 1;
        op->cond = itstate ? (uint8_t)(itstate >> 4) : 0xe;
    }
}

bool arm_decode_vfp(uint32_t pc, uint32_t insn, bool thumb, struct arm_uop *op)
{
    return false;
}

#define I(cond, opc, rd, imm) (((uint32_t)(cond) << 28) | ((uint32_t)(opc) << 20) | \
                               ((uint32_t)(rd) << 16) | ((uint32_t)(imm) & 0xffff))

/* ---- the fake machine --------------------------------------------------------------------- */


static struct arm_board board;
static struct arm_cpu *cpus[2];
static struct coremu_cpu rts[2];
static uint8_t *ram;
static uint32_t dev_last_write;
static int timer_level[2];

static int dev_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    if (offset == 4) {
        return COREMU_MEM_DEVICE_ERROR;
    }
    *value = 0x12345678u;
    return COREMU_MEM_OK;
}

static int dev_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    dev_last_write = (uint32_t)value;
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops dev_ops = {dev_read, dev_write, 0, false};

static void timer_output(struct arm_board *b, struct arm_cpu *cpu, enum arm_timer_output which,
                         bool level)
{
    timer_level[which] = level;
}

static void wr32(uint32_t pa, uint32_t v)
{
    memcpy(ram + (pa - RAM_BASE), &v, 4);
}

static uint32_t rd32(uint32_t pa)
{
    uint32_t v;
    memcpy(&v, ram + (pa - RAM_BASE), 4);
    return v;
}

static void machine_init(void)
{
    board.as = coremu_as_new();
    ram = coremu_as_add_ram(board.as, "ram", RAM_BASE, RAM_SIZE);
    uint8_t *rom = coremu_as_add_rom(board.as, "rom", ROM_BASE, 0x1000);
    memset(rom, 0xab, 0x1000);
    coremu_as_add_mmio(board.as, "dev", DEV_BASE, 0x1000, &dev_ops, NULL, 0);
    board.xmon = coremu_xmon_new(COREMU_XMON_EXACT, RAM_BASE, RAM_SIZE, arm_xmon_watch, &board);
    board.cpus = cpus;
    board.ncpus = 2;
    board.ram_base = RAM_BASE;
    board.ram_size = RAM_SIZE;
    board.timer_output = timer_output;
    for (unsigned i = 0; i < 2; i++) {
        rts[i].index = i;
        rts[i].deadline = INT64_MAX;
        rts[i].poll_countdown = COREMU_CPU_CLOCK_POLL_INTERVAL;
        atomic_init(&rts[i].power, COREMU_CPU_ON);
        cpus[i] = arm_cpu_new(&board, &rts[i], i);
    }
}

/* Runs f(cpu) catching an exception: returns true if one was taken. */
#define TRY(cpu, stmt)                                                                            \
    ({                                                                                            \
        bool faulted_ = false;                                                                    \
        if (sigsetjmp((cpu)->fault_jmp, 0) == 0) {                                                \
            stmt;                                                                                 \
        } else {                                                                                  \
            faulted_ = true;                                                                      \
        }                                                                                         \
        faulted_;                                                                                 \
    })

/* Puts cpu back in SVC mode with clean state and the MMU as given. */
static void fresh(struct arm_cpu *cpu, bool mmu)
{
    arm_cpu_reset(cpu);
    cpu->cp15.vbar = 0x40100000u;
    if (mmu) {
        cpu->cp15.ttbr0 = RAM_BASE;
        cpu->cp15.dacr = 0x1 | (0x1 << 2) | (0x0 << 4) | (0x3 << 6);
        cpu->cp15.sctlr |= ARM_SCTLR_M;
    }
    arm_tlb_flush_all(cpu);
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_cpsr_banks(void)
{
    struct arm_cpu *cpu = cpus[0];

    fresh(cpu, false);
    CHECK_EQ(arm_cpsr_read(cpu), 0x1d3); /* SVC, A I F */
    CHECK_EQ(cpu->cp15.midr, 0x412fc0f1);
    CHECK_EQ(cpus[1]->cp15.mpidr, 0x80000001);
    CHECK_EQ(cpu->cp15.sctlr, 0x00c50078);
    for (unsigned i = 0; i < 15; i++) {
        cpu->r[i] = 0x100 + i;
    }
    arm_cpsr_write(cpu, 0x12, 0x1f); /* IRQ */
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_IRQ);
    CHECK_EQ(cpu->r[13], 0);
    cpu->r[13] = 0x1113;
    cpu->r[14] = 0x1114;
    arm_switch_mode(cpu, ARM_MODE_FIQ);
    CHECK_EQ(cpu->r[8], 0);
    cpu->r[8] = 0xf8;
    cpu->r[12] = 0xfc;
    cpu->r[13] = 0xf13;
    CHECK_EQ(arm_get_user_reg(cpu, 8), 0x108);
    CHECK_EQ(arm_get_user_reg(cpu, 13), 0);
    arm_set_user_reg(cpu, 13, 0x5513);
    arm_switch_mode(cpu, ARM_MODE_SVC);
    CHECK_EQ(cpu->r[8], 0x108);
    CHECK_EQ(cpu->r[12], 0x10c);
    CHECK_EQ(cpu->r[13], 0x10d);
    CHECK_EQ(cpu->r[14], 0x10e);
    arm_switch_mode(cpu, ARM_MODE_SYS);
    CHECK_EQ(cpu->r[13], 0x5513);
    arm_switch_mode(cpu, ARM_MODE_IRQ);
    CHECK_EQ(cpu->r[13], 0x1113);
    CHECK_EQ(cpu->r[14], 0x1114);
    arm_switch_mode(cpu, ARM_MODE_FIQ);
    CHECK_EQ(cpu->r[8], 0xf8);
    CHECK_EQ(cpu->r[13], 0xf13);
    /* Invalid mode: ignored. */
    arm_cpsr_write(cpu, 0x1a, 0x1f);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_FIQ);
    /* Flags, GE, Q, IT, E round trip. */
    arm_cpsr_write(cpu, 0xf80f0000u | (3u << 25) | (0x3fu << 10) | ARM_CPSR_E, 0xffffffffu & ~0x1fu);
    CHECK_EQ(arm_cpsr_read(cpu) & ~0x1fu, 0xfe0ffc00u | ARM_CPSR_E);
    CHECK_EQ(cpu->cpsr_it, 0xff);
    CHECK_EQ(cpu->cpsr_ge, 0xf);
}

static void test_exceptions(void)
{
    struct arm_cpu *cpu = cpus[0];

    /* Data abort from ARM SVC code: LR = pc + 8, ABT mode, A and I set, VBAR + 0x10. */
    fresh(cpu, false);
    cpu->cpsr_rest &= ~(ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F);
    cpu->cpsr_nzcv = 0x40000000;
    cpu->r[15] = 0x40001000;
    CHECK(TRY(cpu, arm_data_abort(cpu, 0x1234, arm_fsr(ARM_FS_TRANS_PAGE, 3), true)));
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_ABT);
    CHECK_EQ(cpu->r[14], 0x40001008);
    CHECK_EQ(cpu->next_pc, 0x40100010);
    CHECK_EQ(cpu->banked_spsr[ARM_BANK_ABT], 0x40000013);
    CHECK_EQ(cpu->cp15.dfsr, 0x837);
    CHECK_EQ(cpu->cp15.dfar, 0x1234);
    CHECK_EQ(cpu->cpsr_rest & (ARM_CPSR_A | ARM_CPSR_I | ARM_CPSR_F), ARM_CPSR_A | ARM_CPSR_I);

    /* UNDEF in Thumb inside an IT block, SCTLR.TE: LR = pc + 2, SPSR.IT = the insn's. */
    fresh(cpu, false);
    cpu->cpsr_rest |= ARM_CPSR_T;
    cpu->cp15.sctlr |= ARM_SCTLR_TE | ARM_SCTLR_V;
    struct arm_uop op = {.pc = 0x8000, .len = 4, .itstate = 0x48, .flags = ARM_UOP_THUMB};
    cpu->cpsr_it = 0x10; /* the executor's advanced value */
    CHECK(TRY(cpu, arm_undefined(cpu, &op)));
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_UND);
    CHECK_EQ(cpu->r[14], 0x8002);
    CHECK_EQ(cpu->next_pc, 0xffff0004);
    CHECK_EQ(cpu->cpsr_rest & ARM_CPSR_T, ARM_CPSR_T);
    CHECK_EQ(cpu->cpsr_it, 0);
    uint32_t spsr = cpu->banked_spsr[ARM_BANK_UND];
    CHECK_EQ(((spsr >> 25) & 3) | (((spsr >> 10) & 0x3f) << 2), 0x48);
    CHECK_EQ(spsr & ARM_CPSR_T, ARM_CPSR_T);

    /* Exception return restores everything. */
    arm_exception_return(cpu, 0x8001, spsr);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_SVC);
    CHECK_EQ(cpu->next_pc, 0x8000);
    CHECK_EQ(cpu->cpsr_it, 0x48);

    /* SVC from Thumb: LR = the next instruction. IRQ: LR = next + 4. FIQ sets F. */
    fresh(cpu, false);
    cpu->cpsr_rest = ARM_MODE_USR | ARM_CPSR_T;
    arm_take_exception(cpu, ARM_EXC_SVC, 0x9002);
    CHECK_EQ(cpu->r[14], 0x9002);
    CHECK_EQ(cpu->banked_spsr[ARM_BANK_SVC], 0x30);
    CHECK_EQ(cpu->cpsr_rest & (ARM_CPSR_A | ARM_CPSR_F), 0);
    arm_take_exception(cpu, ARM_EXC_IRQ, 0x5000);
    CHECK_EQ(cpu->r[14], 0x5004);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_IRQ);
    arm_take_exception(cpu, ARM_EXC_FIQ, 0x6000);
    CHECK_EQ(cpu->r[14], 0x6004);
    CHECK_EQ(cpu->cpsr_rest & (ARM_CPSR_A | ARM_CPSR_F | ARM_CPSR_I),
             ARM_CPSR_A | ARM_CPSR_F | ARM_CPSR_I);
    CHECK_EQ(cpu->next_pc, 0x4010001c);
    /* Prefetch abort: LR = pc + 4, IFSR without domain. */
    fresh(cpu, false);
    cpu->r[15] = 0x7000;
    CHECK(TRY(cpu, arm_prefetch_abort(cpu, 0x7000, arm_fsr(ARM_FS_PERM_PAGE, 5))));
    CHECK_EQ(cpu->r[14], 0x7004);
    CHECK_EQ(cpu->cp15.ifsr, 0xf);
    CHECK_EQ(cpu->cp15.ifar, 0x7000);
}

/* Page tables: see the comment in the mapping list. */
static void build_tables(void)
{
    uint32_t l1 = RAM_BASE, l2 = RAM_BASE + 0x4000;

    memset(ram, 0, 0x8000);
    /* 0x000xxxxx: section -> RAM, domain 0, AP 011, global. */
    wr32(l1 + 0 * 4, RAM_BASE | (3u << 10) | 2);
    /* 0x001xxxxx: page table, domain 1. */
    wr32(l1 + 1 * 4, l2 | (1u << 5) | 1);
    wr32(l2 + 0 * 4, (RAM_BASE + 0x200000) | (2u << 4) | 2 | (1u << 11));  /* AP 010, nG */
    wr32(l2 + 1 * 4, (RAM_BASE + 0x201000) | (1u << 4) | 2 | 1);          /* AP 001, XN */
    for (unsigned i = 16; i < 32; i++) {                                     /* large page */
        wr32(l2 + i * 4, (RAM_BASE + 0x210000) | (3u << 4) | 1);
    }
    wr32(l2 + 3 * 4, (RAM_BASE + 0x203000) | (1u << 4) | 2);              /* AP 001 -> AF */
    /* 0x002xxxxx: nothing. 0x003xxxxx: domain 2 (no access). */
    wr32(l1 + 3 * 4, (RAM_BASE + 0x300000) | (2u << 5) | (3u << 10) | 2);
    /* 0x004xxxxx: the device. 0x005xxxxx: read-only for everyone. */
    wr32(l1 + 4 * 4, DEV_BASE | (3u << 10) | 2);
    wr32(l1 + 5 * 4, (RAM_BASE + 0x500000) | (1u << 15) | (3u << 10) | 2);
    /* 0x006xxxxx: page table outside RAM. 0x007xxxxx: domain 3 (manager), AP 000, XN. */
    wr32(l1 + 6 * 4, 0x80000000u | 1);
    wr32(l1 + 7 * 4, (RAM_BASE + 0x700000) | (3u << 5) | (1u << 4) | 2);
    /* 0x010xxxxx-0x01fxxxxx: supersection -> RAM. 0x020xxxxx: supersection above 4 GB. */
    for (unsigned i = 0x10; i < 0x20; i++) {
        wr32(l1 + i * 4, RAM_BASE | (1u << 18) | (3u << 10) | 2);
    }
    for (unsigned i = 0x20; i < 0x30; i++) {
        wr32(l1 + i * 4, RAM_BASE | (1u << 18) | (1u << 20) | (3u << 10) | 2);
    }
    /* 0x400xxxxx-0x40fxxxxx: identity sections over RAM (for code running with the MMU on). */
    for (unsigned i = 0x400; i < 0x410; i++) {
        wr32(l1 + i * 4, (i << 20) | (3u << 10) | 2);
    }
    /* 0x800xxxxx (TTBR1 with N = 1): section -> RAM + 0x800000. */
    wr32(RAM_BASE + 0x8000 + 0x800 * 4, (RAM_BASE + 0x800000) | (3u << 10) | 2);
}

static void test_mmu(void)
{
    struct arm_cpu *cpu = cpus[0];
    uint32_t pa = 0, size = 0;

    build_tables();
    fresh(cpu, true);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00012345, ARM_ACCESS_WRITE, false, &pa, &size), 0);
    CHECK_EQ(pa, RAM_BASE + 0x12345);
    CHECK_EQ(size, 0x100000);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00100abc, ARM_ACCESS_READ, true, &pa, &size), 0);
    CHECK_EQ(pa, RAM_BASE + 0x200abc);
    CHECK_EQ(size, 0x1000);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00100abc, ARM_ACCESS_WRITE, true, &pa, NULL), 0x1f);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00100abc, ARM_ACCESS_WRITE, false, &pa, NULL), 0);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00101000, ARM_ACCESS_READ, true, &pa, NULL), 0x1f);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00101000, ARM_ACCESS_EXEC, false, &pa, NULL), 0x1f);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00101000, ARM_ACCESS_WRITE, false, &pa, NULL), 0);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00102000, ARM_ACCESS_READ, false, &pa, NULL), 0x17);
    CHECK_EQ(arm_mmu_translate(cpu, 0x0011abcd, ARM_ACCESS_EXEC, true, &pa, &size), 0);
    CHECK_EQ(pa, RAM_BASE + 0x21abcd);
    CHECK_EQ(size, 0x10000);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00200000, ARM_ACCESS_READ, false, &pa, NULL), 0x5);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00300000, ARM_ACCESS_READ, false, &pa, NULL), 0x29);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00500000, ARM_ACCESS_WRITE, false, &pa, NULL), 0xd);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00500000, ARM_ACCESS_READ, true, &pa, NULL), 0);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00600000, ARM_ACCESS_READ, false, &pa, NULL), 0xe);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00700010, ARM_ACCESS_EXEC, true, &pa, NULL), 0);
    CHECK_EQ(pa, RAM_BASE + 0x700010);
    CHECK_EQ(arm_mmu_translate(cpu, 0x01abcdef, ARM_ACCESS_READ, false, &pa, &size), 0);
    CHECK_EQ(pa, RAM_BASE + 0xabcdef);
    CHECK_EQ(size, 0x1000000);
    CHECK_EQ(arm_mmu_translate(cpu, 0x02000000, ARM_ACCESS_READ, false, &pa, NULL), 0x8);
    /* Access flag mode: AP[0] = 0 faults with the access flag codes. */
    cpu->cp15.sctlr |= ARM_SCTLR_AFE;
    CHECK_EQ(arm_mmu_translate(cpu, 0x00100000, ARM_ACCESS_READ, false, &pa, NULL), 0x16);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00000000, ARM_ACCESS_READ, false, &pa, NULL), 0);
    cpu->cp15.sctlr &= ~ARM_SCTLR_AFE;
    /* TTBCR.N = 1: the top half through TTBR1. */
    cpu->cp15.ttbcr = 1;
    cpu->cp15.ttbr1 = RAM_BASE + 0x8000 - 0; /* 16 KB aligned */
    CHECK_EQ(arm_mmu_translate(cpu, 0x80012345, ARM_ACCESS_READ, false, &pa, NULL), 0);
    CHECK_EQ(pa, RAM_BASE + 0x812345);
    CHECK_EQ(arm_mmu_translate(cpu, 0x00012345, ARM_ACCESS_READ, false, &pa, NULL), 0);
    CHECK_EQ(pa, RAM_BASE + 0x12345);
    cpu->cp15.ttbcr = 0;
    /* MMU off: flat. */
    cpu->cp15.sctlr &= ~ARM_SCTLR_M;
    CHECK_EQ(arm_mmu_translate(cpu, 0x12345678, ARM_ACCESS_EXEC, true, &pa, NULL), 0);
    CHECK_EQ(pa, 0x12345678);
}

static void test_memory(void)
{
    struct arm_cpu *cpu = cpus[0];

    build_tables();
    fresh(cpu, true);
    arm_store(cpu, 0x00010000, 4, 0xdeadbeef, false, false);
    CHECK_EQ(rd32(RAM_BASE + 0x10000), 0xdeadbeef);
    CHECK_EQ(arm_load(cpu, 0x00010000, 4, false, false), 0xdeadbeef);
    CHECK_EQ(arm_load(cpu, 0x00010001, 2, false, false), 0xadbe);
    CHECK_EQ(arm_load(cpu, 0x00010003, 1, false, false), 0xde);
    /* Unaligned across a page (two different mappings). */
    arm_store(cpu, 0x0001fffe, 4, 0x11223344, false, false);
    CHECK_EQ(arm_load(cpu, 0x0001fffe, 4, false, false), 0x11223344);
    CHECK_EQ(arm_load(cpu, 0x00020000, 2, false, false), 0x1122);
    /* 64-bit. */
    arm_store64(cpu, 0x00010008, 0x0102030405060708ull, true);
    CHECK_EQ(arm_load(cpu, 0x0001000c, 4, false, false), 0x01020304);
    CHECK_EQ(arm_load64(cpu, 0x00010008, true), 0x0102030405060708ull);
    CHECK_EQ(arm_load64(cpu, 0x00010004, true), 0x0506070800000000ull);
    /* Big-endian data. */
    cpu->cpsr_rest |= ARM_CPSR_E;
    CHECK_EQ(arm_load(cpu, 0x00010000, 4, false, false), 0xefbeadde);
    arm_store(cpu, 0x00010010, 2, 0x1234, false, false);
    cpu->cpsr_rest &= ~ARM_CPSR_E;
    CHECK_EQ(arm_load(cpu, 0x00010010, 2, false, false), 0x3412);
    /* Alignment: always for aligned=true, and with SCTLR.A. */
    CHECK(TRY(cpu, arm_load(cpu, 0x00010001, 4, false, true)));
    CHECK_EQ(cpu->cp15.dfsr, 0x1);
    CHECK_EQ(cpu->cp15.dfar, 0x00010001);
    fresh(cpu, true);
    cpu->cp15.sctlr |= ARM_SCTLR_A;
    CHECK(TRY(cpu, arm_store(cpu, 0x00010002, 4, 0, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x801);
    CHECK(TRY(cpu, arm_load64(cpu, 0x00010002, false)));
    CHECK(!TRY(cpu, arm_load64(cpu, 0x00010004, false)));
    /* Permission faults through the TLB, user vs privileged, and the T forms. */
    fresh(cpu, true);
    CHECK(!TRY(cpu, arm_store(cpu, 0x00100000, 4, 7, false, false)));
    CHECK(TRY(cpu, arm_store(cpu, 0x00100000, 4, 7, true, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x81f);
    CHECK_EQ(cpu->cp15.dfar, 0x00100000);
    fresh(cpu, true);
    CHECK_EQ(arm_load(cpu, 0x00100000, 4, true, false), 7);
    /* Translation fault from the fill; domain fault. */
    CHECK(TRY(cpu, arm_load(cpu, 0x00200010, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x5);
    CHECK_EQ(cpu->r[14], cpu->r[15] + 8);
    fresh(cpu, true);
    CHECK(TRY(cpu, arm_load(cpu, 0x00300010, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x29);
    /* A cross-page store whose second page faults writes nothing. */
    fresh(cpu, true);
    wr32(RAM_BASE + 0x203ffc, 0);
    CHECK(TRY(cpu, arm_store(cpu, 0x00103ffe, 4, 0xffffffff, false, false)));
    CHECK_EQ(rd32(RAM_BASE + 0x203ffc), 0);
    CHECK_EQ(cpu->cp15.dfar, 0x00104000);
    CHECK_EQ(cpu->cp15.dfsr, 0x817);
    /* MMIO: reads, writes, device errors, unaligned. */
    fresh(cpu, true);
    CHECK_EQ(arm_load(cpu, 0x00400000, 4, false, false), 0x12345678);
    arm_store(cpu, 0x00400008, 4, 0xcafe, false, false);
    CHECK_EQ(dev_last_write, 0xcafe);
    CHECK(TRY(cpu, arm_load(cpu, 0x00400004, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x8);
    fresh(cpu, true);
    CHECK(TRY(cpu, arm_load(cpu, 0x00400002, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x1);
    /* MMU off: ROM reads in place, ROM writes abort, unaligned faults, fetch works. */
    fresh(cpu, false);
    CHECK_EQ(arm_load(cpu, ROM_BASE, 4, false, false), 0xabababab);
    CHECK(TRY(cpu, arm_store(cpu, ROM_BASE, 4, 0, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x808);
    fresh(cpu, false);
    CHECK(TRY(cpu, arm_load(cpu, RAM_BASE + 2, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x1);
    fresh(cpu, false);
    wr32(RAM_BASE + 0x100, 0xe1a00000);
    CHECK_EQ(arm_fetch(cpu, RAM_BASE + 0x100, 4), 0xe1a00000);
    CHECK(TRY(cpu, arm_fetch(cpu, 0x30000000, 4)));
    CHECK_EQ(cpu->cp15.ifsr, 0x8);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_ABT);
    /* TLBIMVA of a section drops every 4 KB entry filled from it. */
    build_tables();
    fresh(cpu, true);
    CHECK_EQ(arm_load(cpu, 0x00010000, 4, false, false), 0xdeadbeef);
    CHECK_EQ(arm_load(cpu, 0x00050000, 4, false, false), 0);
    wr32(RAM_BASE, (RAM_BASE + 0x100000) | (3u << 10) | 2); /* remap section 0 */
    arm_tlb_flush_page(cpu, 0x00010000);
    wr32(RAM_BASE + 0x150000, 0x99);
    CHECK_EQ(arm_load(cpu, 0x00050000, 4, false, false), 0x99);
}

static void test_cp15(void)
{
    struct arm_cpu *cpu = cpus[0];

    build_tables();
    fresh(cpu, true);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 0, 0, 0), 0x412fc0f1);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 0, 0, 5), 0x80000000);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 0, 2, 0), 0x02101111);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 0, 5, 3), 0); /* reserved ID space */
    arm_cp15_write(cpu, NULL, 2, 0, 0, 0, 2);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 1, 0, 0, 0), 0x70ffe07a);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 1, 0, 2), 0x80000000);
    arm_cp15_write(cpu, NULL, 0, 1, 0, 2, 0xffffffff);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 1, 0, 2), 0x80f00000);
    /* SCTLR: fixed bits stay. */
    arm_cp15_write(cpu, NULL, 0, 1, 0, 0, 0x1);
    CHECK_EQ(cpu->cp15.sctlr, 0x00c50079);
    /* Unknown register and 64-bit TTBR0 (no LPAE): UNDEFINED. */
    CHECK(TRY(cpu, arm_cp15_read(cpu, NULL, 0, 15, 0, 0)));
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_UND);
    fresh(cpu, true);
    CHECK(TRY(cpu, arm_cp15_write64(cpu, NULL, 0, 2, 0)));
    /* PL0: TPIDRURO readable not writable, TPIDRURW both, SCTLR neither, PMU per PMUSERENR. */
    fresh(cpu, true);
    arm_cp15_write(cpu, NULL, 0, 13, 0, 3, 0xabc);
    arm_switch_mode(cpu, ARM_MODE_USR);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 13, 0, 3), 0xabc);
    CHECK(TRY(cpu, arm_cp15_write(cpu, NULL, 0, 13, 0, 3, 1)));
    fresh(cpu, true);
    arm_switch_mode(cpu, ARM_MODE_USR);
    arm_cp15_write(cpu, NULL, 0, 13, 0, 2, 0x55);
    CHECK_EQ(cpu->cp15.tpidrurw, 0x55);
    CHECK(TRY(cpu, arm_cp15_read(cpu, NULL, 0, 1, 0, 0)));
    fresh(cpu, true);
    arm_switch_mode(cpu, ARM_MODE_USR);
    CHECK(TRY(cpu, arm_cp15_read(cpu, NULL, 0, 9, 13, 0)));
    fresh(cpu, true);
    arm_cp15_write(cpu, NULL, 0, 9, 14, 0, 1);
    arm_cp15_write(cpu, NULL, 0, 9, 12, 0, 1);         /* PMCR.E */
    arm_cp15_write(cpu, NULL, 0, 9, 12, 1, 0x80000000); /* PMCNTENSET.C */
    arm_switch_mode(cpu, ARM_MODE_USR);
    uint32_t c0 = arm_cp15_read(cpu, NULL, 0, 9, 13, 0);
    for (volatile int i = 0; i < 100000; i++) {
    }
    uint32_t c1 = arm_cp15_read(cpu, NULL, 0, 9, 13, 0);
    CHECK(c1 != c0);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 9, 12, 0) >> 11 & 0x1f, 0); /* N = 0 */
    /* CNTPCT from PL0 needs CNTKCTL.PL0PCTEN. */
    fresh(cpu, true);
    arm_switch_mode(cpu, ARM_MODE_USR);
    CHECK(TRY(cpu, arm_cp15_read64(cpu, NULL, 0, 14)));
    fresh(cpu, true);
    arm_cp15_write(cpu, NULL, 0, 14, 1, 0, 1);
    arm_switch_mode(cpu, ARM_MODE_USR);
    uint64_t t0 = arm_cp15_read64(cpu, NULL, 0, 14);
    CHECK(t0 > 0);
    CHECK_EQ(arm_cp15_read(cpu, NULL, 0, 14, 0, 0), 62500000);
    /* ATS1C*: success and fault encodings in PAR. */
    fresh(cpu, true);
    arm_cp15_write(cpu, NULL, 0, 7, 8, 0, 0x00100abc); /* ATS1CPR */
    CHECK_EQ(cpu->cp15.par & 0xfffff001, RAM_BASE + 0x200000);
    arm_cp15_write(cpu, NULL, 0, 7, 8, 3, 0x00100abc); /* ATS1CUW: permission fault */
    CHECK_EQ(cpu->cp15.par, 1u | (0xf << 1));
    arm_cp15_write(cpu, NULL, 0, 7, 8, 0, 0x00600000); /* walk abort L2: FS 0b01110 */
    CHECK_EQ(cpu->cp15.par, 1u | (0xe << 1));
    arm_cp15_write(cpu, NULL, 0, 7, 8, 0, 0x01234567); /* supersection */
    CHECK_EQ(cpu->cp15.par, (RAM_BASE + 0x234567) & 0xff000000u ? ((RAM_BASE & 0xff000000u) | 2u) : 0);
    /* TTBR/DACR/CONTEXTIDR writes flush the TLB: a new DACR takes effect at once. */
    fresh(cpu, true);
    CHECK_EQ(arm_load(cpu, 0x00010000, 4, false, false), rd32(RAM_BASE + 0x10000));
    arm_cp15_write(cpu, NULL, 0, 3, 0, 0, 0);
    CHECK(TRY(cpu, arm_load(cpu, 0x00010000, 4, false, false)));
    CHECK_EQ(cpu->cp15.dfsr, 0x9);
}

static void test_timer(void)
{
    struct arm_cpu *cpu = cpus[0];

    fresh(cpu, true);
    arm_timer_reset(cpu);
    uint64_t now = arm_timer_count();
    arm_timer_write(cpu, ARM_CNTP_CVAL, now + 62500000ull * 100); /* 100 s away */
    arm_timer_write(cpu, ARM_CNTP_CTL, 1);
    CHECK_EQ(timer_level[ARM_TIMER_PHYS], 0);
    CHECK(stub_deadline > coremu_clock_ns() + 99 * COREMU_NS_PER_SEC);
    CHECK((arm_timer_read(cpu, ARM_CNTP_CTL) & 4) == 0);
    uint32_t tval = (uint32_t)arm_timer_read(cpu, ARM_CNTP_TVAL);
    CHECK(tval > 62500000u * 99);
    /* TVAL = 0 fires now; IMASK hides the output but not ISTATUS. */
    arm_timer_write(cpu, ARM_CNTP_TVAL, 0);
    CHECK_EQ(timer_level[ARM_TIMER_PHYS], 1);
    CHECK_EQ(stub_deadline, INT64_MAX);
    CHECK_EQ(arm_timer_read(cpu, ARM_CNTP_CTL), 5);
    arm_timer_write(cpu, ARM_CNTP_CTL, 3);
    CHECK_EQ(timer_level[ARM_TIMER_PHYS], 0);
    CHECK_EQ(arm_timer_read(cpu, ARM_CNTP_CTL), 7);
    /* Negative TVAL: in the past. */
    arm_timer_write(cpu, ARM_CNTV_TVAL, (uint32_t)-1000);
    arm_timer_write(cpu, ARM_CNTV_CTL, 1);
    CHECK_EQ(timer_level[ARM_TIMER_VIRT], 1);
    CHECK((int32_t)arm_timer_read(cpu, ARM_CNTV_TVAL) < 0);
    arm_timer_reset(cpu);
    CHECK_EQ(timer_level[ARM_TIMER_VIRT], 0);
}

static void test_atomics(void)
{
    struct arm_cpu *a = cpus[0], *b = cpus[1];

    build_tables();
    fresh(a, true);
    fresh(b, true);
    wr32(RAM_BASE + 0x20000, 5);
    CHECK(!coremu_xmon_page_watched(board.xmon, RAM_BASE + 0x20000));
    arm_load(b, 0x00020000, 4, false, false); /* b's TLB holds a fast write entry */
    CHECK_EQ(arm_ldrex(a, 0x00020000, 4), 5);
    CHECK(coremu_xmon_page_watched(board.xmon, RAM_BASE + 0x20000));
    /* The watch callback dropped b's fast write entry. */
    CHECK_EQ(b->tlb[ARM_MMU_PRIV][0x20].tag_write, COREMU_TLB_INVALID);
    CHECK(arm_strex(a, 0x00020000, 4, 6));
    CHECK_EQ(rd32(RAM_BASE + 0x20000), 6);
    CHECK(!arm_strex(a, 0x00020000, 4, 7)); /* no reservation any more */
    /* ABA: another core stores the same value in between: the STREX must fail. */
    CHECK_EQ(arm_ldrex(a, 0x00020000, 4), 6);
    arm_store(b, 0x00020000, 4, 6, false, false);
    CHECK(!arm_strex(a, 0x00020000, 4, 8));
    CHECK_EQ(rd32(RAM_BASE + 0x20000), 6);
    /* CLREX, and an exception, clear the monitor. */
    arm_ldrex(a, 0x00020000, 4);
    arm_clrex(a);
    CHECK(!arm_strex(a, 0x00020000, 4, 9));
    /* Byte, halfword, doubleword. */
    CHECK_EQ(arm_ldrex(a, 0x00020001, 1), 0);
    CHECK(arm_strex(a, 0x00020001, 1, 0x1ff));
    CHECK_EQ(rd32(RAM_BASE + 0x20000), 0xff06);
    CHECK(arm_ldrexd(a, 0x00020000) == 0xff06ull);
    CHECK(arm_strexd(a, 0x00020000, 0x1122334455667788ull));
    CHECK_EQ(rd32(RAM_BASE + 0x20004), 0x11223344);
    CHECK(TRY(a, arm_ldrexd(a, 0x00020004)));
    CHECK_EQ(a->cp15.dfsr, 0x1);
    fresh(a, true);
    CHECK(TRY(a, arm_ldrex(a, 0x00020002, 4)));
    /* SWP. */
    fresh(a, true);
    CHECK_EQ(arm_swp(a, 0x00020004, 4, 0xabcd), 0x11223344);
    CHECK_EQ(rd32(RAM_BASE + 0x20004), 0xabcd);
    CHECK_EQ(arm_swp(a, 0x00020004, 1, 0x12), 0xcd);
    CHECK_EQ(rd32(RAM_BASE + 0x20004), 0xab12);
    /* Exclusives to MMIO: local monitor only. */
    CHECK_EQ(arm_ldrex(a, 0x00400000, 4), 0x12345678);
    CHECK(arm_strex(a, 0x00400000, 4, 0x77));
    CHECK_EQ(dev_last_write, 0x77);
    CHECK(!arm_strex(a, 0x00400000, 4, 0x78));

    /* The runtime's torture test over ARM's atomic table (the entry points the LDREX / STREX /
     * CLREX / SWP handlers call), on both cores, with the board's engine in each mode. */
    struct coremu_xmon *exact = board.xmon;
    struct coremu_xmon *value =
        coremu_xmon_new(COREMU_XMON_VALUE, RAM_BASE, RAM_SIZE, arm_xmon_watch, &board);
    for (int mode = 0; mode < 2; mode++) {
        const uint32_t va = 0x00030000u + 0x1000u * (uint32_t)mode; /* RAM_BASE + va */
        void *const torture_cpus[] = {a, b};
        struct coremu_torture_env env = {torture_cpus, 2, va, mode == COREMU_XMON_EXACT};
        struct coremu_torture_result r;
        board.xmon = mode == COREMU_XMON_EXACT ? exact : value;
        fresh(a, true);
        fresh(b, true);
        memset(ram + va, 0, COREMU_TORTURE_AREA);
        int rc = coremu_atomic_torture(&arm_atomic_table, &env, 20000, &r);
        CHECK_EQ(rc, 0);
        CHECK(r.checks >= 20);
        if (rc) {
            fprintf(stderr, "  mode %d: %u of %u checks failed, first: %s: expected %#llx, "
                    "observed %#llx\n", mode, r.failures, r.checks, r.first_failure,
                    (unsigned long long)r.expected, (unsigned long long)r.observed);
        }
    }
    board.xmon = exact;
    coremu_xmon_free(value);
}

/* Runs cpu from pc until a LEAVE instruction. */
static void run_until_leave(struct arm_cpu *cpu, uint32_t pc)
{
    stub_leave_after_pending = 0;
    atomic_store(&cpu->rt->pending, 0);
    cpu->booted = true;
    cpu->rt->power_on_arg[0] = pc;
    cpu->rt->power_on_arg[1] = 0;
    arm_cpu_ops.run(cpu->rt);
}

static void put_code(uint32_t pa, const uint32_t *insns, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        wr32(pa + 4 * i, insns[i]);
    }
}

#define SET32(rd, v) I(0xe, 1, rd, (v) & 0xffff), I(0xe, 9, rd, (uint32_t)(v) >> 16)
#define R(off) (RAM_BASE + (off))

static void test_exec(void)
{
    struct arm_cpu *cpu = cpus[0];

    /* Power-on resets the core (MMU off, VBAR 0): each program sets up what it needs. The
     * common vectors at RAM + 0xc000: undef and IRQ leave, prefetch abort sets r6 and leaves. */
    build_tables();
    put_code(R(0xc004), (const uint32_t[]){I(0xe, 6, 0, 0)}, 1);
    put_code(R(0xc00c), (const uint32_t[]){I(0xe, 1, 6, 0xabc), I(0xe, 6, 0, 0)}, 2);
    put_code(R(0xc018), (const uint32_t[]){I(0xe, 6, 0, 0)}, 1);

    /* A loop: r1 counts to 100 through a conditional branch (chained blocks), translated
     * once. */
    decodes = 0;
    put_code(R(0x9000), (const uint32_t[]){
        I(0xe, 1, 1, 0), I(0xe, 2, 1, 1), I(0xe, 8, 1, 100), I(0x1, 3, 0, 0x9004),
        I(0xe, 6, 0, 0)}, 5);
    uint64_t insns0 = cpu->insns_executed;
    run_until_leave(cpu, R(0x9000));
    CHECK_EQ(cpu->r[1], 100);
    CHECK_EQ(decodes, 8); /* 9000 (4), 9010 (1), 9004 (3): not once per iteration */
    CHECK(cpu->insns_executed - insns0 >= 300);

    /* Self-modifying code through the softmmu: the second pass runs the rewritten ADDI. */
    put_code(R(0xa000), (const uint32_t[]){
        I(0xe, 2, 2, 1),      /* a000: ADDI r2, 1 (rewritten to ADDI r2, 0x10) */
        I(0xe, 2, 12, 1),     /* a004: ADDI r12, 1 */
        I(0xe, 8, 12, 2),     /* a008: CMPI r12, 2 */
        I(0x0, 3, 0, 0xa020), /* a00c: BEQ a020 */
        I(0xe, 4, 3, 4),      /* a010: STR r3, [r4] */
        I(0xe, 3, 0, 0xa000), /* a014: B a000 */
    }, 6);
    put_code(R(0xa020), (const uint32_t[]){I(0xe, 6, 0, 0)}, 1);
    put_code(R(0xa100), (const uint32_t[]){
        SET32(3, I(0xe, 2, 2, 0x10)), SET32(4, R(0xa000)), I(0xe, 3, 0, 0xa000)}, 5);
    run_until_leave(cpu, R(0xa100));
    CHECK_EQ(rd32(R(0xa000)), I(0xe, 2, 2, 0x10));
    CHECK_EQ(cpu->r[12], 2);
    CHECK_EQ(cpu->r[2], 0x11);

    /* A write behind the softmmu's back (DMA) stays invisible until ICIALLU, which then
     * re-validates unchanged blocks without translating them again. */
    decodes = 0;
    put_code(R(0xb000), (const uint32_t[]){I(0xe, 1, 5, 0x55), I(0xe, 3, 0, 0xb100)}, 2);
    put_code(R(0xb100), (const uint32_t[]){
        I(0xe, 0x0d, 11, 5),   /* ADDR r11, r5 */
        I(0xe, 2, 7, 1),       /* ADDI r7, 1 */
        I(0xe, 8, 7, 1), I(0x0, 3, 0, 0xb200),   /* first pass: poke */
        I(0xe, 8, 7, 2), I(0x0, 3, 0, 0xb300),   /* second pass: ICIALLU */
        I(0xe, 6, 0, 0)}, 7);
    put_code(R(0xb200), (const uint32_t[]){
        SET32(8, I(0xe, 1, 5, 0x66)), SET32(9, R(0xb000)), I(0xe, 0x0b, 8, 9),
        I(0xe, 3, 0, 0xb000)}, 6);
    put_code(R(0xb300), (const uint32_t[]){I(0xe, 0x0c, 0, 0), I(0xe, 3, 0, 0xb000)}, 2);
    run_until_leave(cpu, R(0xb000));
    CHECK_EQ(cpu->r[11], 0x55 + 0x55 + 0x66);
    /* b000 twice (2 + 2), b100 (4), b110 (2), b118 (1), b200 (6), b300 (1), b304 (1) */
    CHECK_EQ(decodes, 4 + 4 + 2 + 1 + 6 + 1 + 1);

    /* Prefetch abort on an unmapped PC, with the MMU on; the vector runs. */
    put_code(R(0xc200), (const uint32_t[]){
        SET32(0, R(0xc000)), I(0xe, 0x0e, 0, 0), I(0xe, 0x10, 0, 0), SET32(1, 0x00200000),
        I(0xe, 0x0f, 1, 0)}, 7);
    run_until_leave(cpu, R(0xc200));
    CHECK_EQ(cpu->r[6], 0xabc);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_ABT);
    CHECK_EQ(cpu->cp15.ifsr, 0x5);
    CHECK_EQ(cpu->cp15.ifar, 0x00200000);
    CHECK_EQ(cpu->r[14], 0x00200004);

    /* An UNDEFINED encoding goes to the undef vector with LR = its address + 4. */
    put_code(R(0xd000), (const uint32_t[]){
        SET32(0, R(0xc000)), I(0xe, 0x0e, 0, 0), I(0xe, 1, 1, 1), I(0xe, 0xff, 0, 0)}, 5);
    run_until_leave(cpu, R(0xd000));
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_UND);
    CHECK_EQ(cpu->r[14], R(0xd014));
    CHECK_EQ(cpu->r[1], 1);

    /* IRQ: pending but masked, then taken at the boundary after CPSIE; LR = next + 4. */
    put_code(R(0xe000), (const uint32_t[]){
        SET32(0, R(0xc000)), I(0xe, 0x0e, 0, 0), I(0xe, 0x0a, 0, 0), I(0xe, 1, 1, 1),
        I(0xe, 6, 0, 0)}, 6);
    stub_leave_after_pending = 0;
    atomic_store(&cpu->rt->pending, ARM_PENDING_IRQ);
    cpu->rt->power_on_arg[0] = R(0xe000);
    arm_cpu_ops.run(cpu->rt);
    atomic_store(&cpu->rt->pending, 0);
    CHECK_EQ(arm_cpu_mode(cpu), ARM_MODE_IRQ);
    CHECK_EQ(cpu->r[1], 0);
    CHECK_EQ(cpu->r[14], R(0xe010) + 4);
    CHECK_EQ(cpu->banked_spsr[ARM_BANK_IRQ] & ARM_CPSR_I, 0);

    /* Thumb: 16-bit instructions, then a 32-bit one crossing into an unmapped page: the block
     * stops before it, and its own block prefetch-aborts with IFAR at the second halfword
     * and LR = its address + 4. VA 0x00103000 is a privileged page, 0x00104000 unmapped. */
    memset(ram + 0x203000, 0, 0x1000);
    ram[0x203ffe] = 0x00;
    ram[0x203fff] = 0xf0;
    put_code(R(0xf000), (const uint32_t[]){
        SET32(0, R(0xc000)), I(0xe, 0x0e, 0, 0), I(0xe, 0x10, 0, 0), SET32(1, 0x00103ff9),
        I(0xe, 1, 0, 0), I(0xe, 0x0f, 1, 0)}, 8);
    run_until_leave(cpu, R(0xf000));
    CHECK_EQ(cpu->r[6], 0xabc); /* the prefetch abort vector ran */
    CHECK_EQ(cpu->cp15.ifsr, 0x7);
    CHECK_EQ(cpu->cp15.ifar, 0x00104000);
    CHECK_EQ(cpu->r[14], 0x00103ffe + 4);
    CHECK_EQ(cpu->banked_spsr[ARM_BANK_ABT] & ARM_CPSR_T, ARM_CPSR_T);
    CHECK_EQ(cpu->r[0], 3); /* three 16-bit ADDIs ran */
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    machine_init();
    test_cpsr_banks();
    test_exceptions();
    test_mmu();
    test_memory();
    test_cp15();
    test_timer();
    test_atomics();
    test_exec();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
