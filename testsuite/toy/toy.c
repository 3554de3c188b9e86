/*
 * toy — the test-only architecture's decoder, handlers and CPU loop on the shared engine
 * (toy.h says what the instructions are and why the architecture exists).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <coremu/cpu.h>
#include <coremu/tb.h>

#include "toy.h"

/* ---- memory ------------------------------------------------------------------------------- */

static bool toy_ram_ok(uint64_t pa, unsigned size)
{
    return pa < TOY_RAM_SIZE && size <= TOY_RAM_SIZE - pa;
}

/* After a store: if some core translated code from the page, its blocks go. Stores are
 * seq_cst read-modify-writes, ordered before the look at the code-page table as a translating
 * core orders its mark before it reads the code, so one of the two always sees the other. */
static void toy_stored(struct toy_cpu *cpu, uint64_t addr)
{
    if (coremu_tb_page_has_code(cpu->tb.engine, TOY_PHYS_BASE + addr)) {
        coremu_tb_code_written(&cpu->tb, TOY_PHYS_BASE + addr);
    }
}

/* ---- handlers ----------------------------------------------------------------------------- */

static void toy_halt_core(struct toy_cpu *cpu)
{
    struct toy_machine *m = cpu->m;

    cpu->leave = true;
    if (atomic_fetch_add(&m->halted, 1) + 1 == m->ncpus) {
        coremu_machine_exit(m->rt, 0);
    }
}

static bool op_HALT(struct toy_cpu *cpu, const struct toy_uop *op)
{
    toy_halt_core(cpu);
    cpu->next_pc = op->pc;
    return true;
}

static bool op_UNDEFINED(struct toy_cpu *cpu, const struct toy_uop *op)
{
    atomic_fetch_add(&cpu->m->undefined, 1);
    return op_HALT(cpu, op);
}

static bool op_MOVI(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->r[op->rd] = (uint64_t)op->imm;
    return false;
}

static bool op_MOVW(struct toy_cpu *cpu, const struct toy_uop *op)
{
    return op_MOVI(cpu, op);
}

static bool op_ADD(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->r[op->rd] += cpu->r[op->rs];
    return false;
}

static bool op_ADDI(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->r[op->rd] += (uint64_t)op->imm;
    return false;
}

static bool op_LD(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t pa = cpu->r[op->rs];

    if (!toy_ram_ok(pa, 8) || (pa & 7)) {
        return op_UNDEFINED(cpu, op);
    }
    cpu->r[op->rd] = __atomic_load_n((uint64_t *)(cpu->m->ram + pa), __ATOMIC_RELAXED);
    return false;
}

static bool op_ST(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t pa = cpu->r[op->rs];

    if (!toy_ram_ok(pa, 8) || (pa & 7)) {
        return op_UNDEFINED(cpu, op);
    }
    __atomic_exchange_n((uint64_t *)(cpu->m->ram + pa), cpu->r[op->rd], __ATOMIC_SEQ_CST);
    toy_stored(cpu, pa);
    return false;
}

static bool op_STB(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t pa = cpu->r[op->rs];

    if (!toy_ram_ok(pa, 1)) {
        return op_UNDEFINED(cpu, op);
    }
    __atomic_exchange_n(cpu->m->ram + pa, (uint8_t)cpu->r[op->rd], __ATOMIC_SEQ_CST);
    toy_stored(cpu, pa);
    return false;
}

static bool op_INC(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t pa = cpu->r[op->rs];

    if (!toy_ram_ok(pa, 8) || (pa & 7)) {
        return op_UNDEFINED(cpu, op);
    }
    __atomic_fetch_add((uint64_t *)(cpu->m->ram + pa), 1, __ATOMIC_SEQ_CST);
    toy_stored(cpu, pa);
    return false;
}

static bool op_JMP(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->next_pc = op->pc + op->len + (uint64_t)op->imm;
    return true;
}

static bool op_BNZ(struct toy_cpu *cpu, const struct toy_uop *op)
{
    if (cpu->r[op->rd] == 0) {
        return false;
    }
    cpu->next_pc = op->pc + op->len + (uint64_t)op->imm;
    return true;
}

static bool op_JR(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->next_pc = cpu->r[op->rs];
    return true;
}

static bool op_TLBI(struct toy_cpu *cpu, const struct toy_uop *op)
{
    atomic_fetch_add(&cpu->m->tlb_flushes, 1);
    coremu_tb_broadcast(&cpu->tb, COREMU_TB_MAINT_TLB);
    if (!coremu_tb_sync(&cpu->tb, &cpu->leave)) {
        cpu->leave = true;
    }
    return false;
}

static void toy_count_stop(void *arg)
{
    struct toy_machine *m = arg;
    atomic_fetch_add(&m->stops, 1);
}

static bool op_STOPW(struct toy_cpu *cpu, const struct toy_uop *op)
{
    coremu_machine_stop_world(cpu->m->rt, toy_count_stop, cpu->m);
    return false;
}

/* A spin-wait hint, as x86's PAUSE: lets an over-subscribed host run the core we wait for. */
static bool op_YIELD(struct toy_cpu *cpu, const struct toy_uop *op)
{
    coremu_cpu_relax(cpu->rt);
    return false;
}

/* ---- the decoder: one row per opcode ------------------------------------------------------ */

enum toy_operands { TOY_NONE, TOY_DS, TOY_D_I8, TOY_D_S8, TOY_REL16, TOY_D_I16 };

static const struct toy_row {
    toy_fn fn;
    enum toy_operands operands;
    bool ends_block;
} toy_rows[] = {
    [0x00] = {op_HALT, TOY_NONE, true},  [0x01] = {op_MOVI, TOY_D_I8, false},
    [0x02] = {op_ADD, TOY_DS, false},    [0x03] = {op_ADDI, TOY_D_S8, false},
    [0x04] = {op_LD, TOY_DS, false},     [0x05] = {op_ST, TOY_DS, false},
    [0x06] = {op_JMP, TOY_REL16, true},  [0x07] = {op_BNZ, TOY_D_S8, true},
    [0x08] = {op_JR, TOY_DS, true},      [0x09] = {op_STB, TOY_DS, false},
    [0x0a] = {op_TLBI, TOY_NONE, true},  [0x0b] = {op_STOPW, TOY_NONE, true},
    [0x0c] = {op_INC, TOY_DS, false},    [0x0d] = {op_MOVW, TOY_D_I16, false},
    [0x0e] = {op_YIELD, TOY_NONE, false},
};

static const struct toy_uop *thr_end(struct toy_cpu *cpu, const struct toy_uop *op);

/* As ARM's block exit: enter the chained successor when the engine allows it. */
static inline const struct toy_uop *toy_block_exit(struct toy_cpu *cpu,
                                                   const struct toy_uop *next)
{
    if (next->tfn != thr_end || cpu->leave) {
        return next;
    }
    struct coremu_tb *succ = coremu_tb_chain(&cpu->tb, (const struct coremu_uop *)next,
                                             sizeof(*next), cpu->next_pc, 0);
    if (!succ) {
        return next;
    }
    cpu->insns += next->index;
    cpu->pc = cpu->next_pc;
    const struct toy_uop *first = (const struct toy_uop *)succ->ops;
    return first->tfn(cpu, first);
}

static const struct toy_uop *thr_op(struct toy_cpu *cpu, const struct toy_uop *op)
{
    if (op->fn(cpu, op)) {
        return toy_block_exit(cpu, op + 1);
    }
    return op[1].tfn(cpu, op + 1);
}

static const struct toy_uop *thr_end(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->next_pc = op->pc;
    return toy_block_exit(cpu, op);
}

static enum coremu_tb_decoded toy_decode(void *opaque, struct coremu_tb_decoder *d,
                                         struct coremu_uop *uop)
{
    struct toy_uop *op = (struct toy_uop *)uop;
    uint64_t opcode, operand = 0;

    if (!coremu_tb_fetch(d, 1, &opcode)) {
        return COREMU_TB_STOP;
    }
    const struct toy_row *row = opcode < sizeof(toy_rows) / sizeof(toy_rows[0])
                                    ? &toy_rows[opcode]
                                    : NULL;
    op->tfn = thr_op;
    if (!row || !row->fn) {
        op->fn = op_UNDEFINED;
        return COREMU_TB_END;
    }
    static const unsigned operand_bytes[] = {
        [TOY_NONE] = 0, [TOY_DS] = 1, [TOY_D_I8] = 2, [TOY_D_S8] = 2, [TOY_REL16] = 2,
        [TOY_D_I16] = 3,
    };
    unsigned n = operand_bytes[row->operands];
    if (n > 0 && !coremu_tb_fetch(d, n, &operand)) {
        return COREMU_TB_STOP;
    }
    op->fn = row->fn;
    switch (row->operands) {
    case TOY_NONE:
        break;
    case TOY_DS:
        op->rd = (uint8_t)((operand >> 4) & 7);
        op->rs = (uint8_t)(operand & 7);
        break;
    case TOY_D_I8:
        op->rd = (uint8_t)(operand & 7);
        op->imm = (int64_t)((operand >> 8) & 0xff);
        break;
    case TOY_D_S8:
        op->rd = (uint8_t)(operand & 7);
        op->imm = (int8_t)(operand >> 8);
        break;
    case TOY_REL16:
        op->imm = (int16_t)operand;
        break;
    case TOY_D_I16:
        op->rd = (uint8_t)(operand & 7);
        op->imm = (int64_t)((operand >> 8) & 0xffff);
        break;
    }
    return row->ends_block ? COREMU_TB_END : COREMU_TB_NEXT;
}

static void toy_end_block(void *opaque, const struct coremu_tb *tb, struct coremu_uop *sentinel)
{
    ((struct toy_uop *)sentinel)->tfn = thr_end;
}

static const uint8_t *toy_translate_exec(void *opaque, uint64_t vaddr, uint64_t *paddr)
{
    struct toy_cpu *cpu = opaque;

    *paddr = TOY_PHYS_BASE + vaddr;
    return vaddr < TOY_RAM_SIZE ? cpu->m->ram + vaddr : NULL;
}

/* Outside RAM there is nothing: it reads as HALT. */
static uint64_t toy_fetch_io(void *opaque, uint64_t vaddr, unsigned size)
{
    return 0;
}

/* The toy has no TLB: every store already takes the checked path. */
static void toy_protect_page(void *opaque, uint64_t page)
{
}

static void toy_protect_code(void *opaque)
{
}

static void toy_tlb_flush_all(void *opaque)
{
    struct toy_cpu *cpu = opaque;

    atomic_fetch_add(&cpu->m->tlb_flushes, 1);
    cpu->tb.epoch++;
}

static const struct coremu_tb_ops toy_tb_ops = {
    .uop_size = sizeof(struct toy_uop),
    .max_ops = 16,
    .max_insn_len = 4,
    .maint_pending = TOY_PENDING_MAINT,
    .translate_exec = toy_translate_exec,
    .fetch_io = toy_fetch_io,
    .decode = toy_decode,
    .end_block = toy_end_block,
    .tlb_protect_page = toy_protect_page,
    .tlb_protect_code = toy_protect_code,
    .tlb_flush_all = toy_tlb_flush_all,
};

COREMU_UOP_CHECK(struct toy_uop);

/* ---- the CPU loop ------------------------------------------------------------------------- */

static void toy_run(struct coremu_cpu *rt)
{
    struct toy_cpu *cpu = rt->arch;
    struct coremu_tb_cpu *t = &cpu->tb;
    struct coremu_tb *prev = NULL;
    unsigned slot = 0;
    uint32_t prev_epoch = 0;

    coremu_tb_power_on(t);
    memset(cpu->r, 0, sizeof(cpu->r));
    cpu->r[0] = rt->index;
    cpu->pc = rt->power_on_arg[0];
    cpu->leave = false;
    for (;;) {
        if (coremu_cpu_poll(rt)) {
            if (coremu_cpu_process_pending(rt) == COREMU_CPU_LEAVE) {
                return;
            }
            if (atomic_load_explicit(&rt->pending, memory_order_acquire) & TOY_PENDING_MAINT) {
                coremu_tb_maint_process(t);
            }
            prev = NULL;
        }
        if (cpu->leave) {
            coremu_cpu_power_off_self(rt);
            return;
        }
        cpu->lookups++;
        struct coremu_tb *tb = coremu_tb_find(t, cpu->pc, 0, prev, slot, prev_epoch);
        const struct toy_uop *first = (const struct toy_uop *)tb->ops;
        coremu_tb_exec_begin(t);
        const struct toy_uop *last = first->tfn(cpu, first);
        cpu->insns += last->index;
        tb = coremu_tb_of(last, sizeof(*last));
        cpu->pc = cpu->next_pc;
        prev = t->epoch == t->start_epoch ? tb : NULL;
        prev_epoch = t->start_epoch;
        slot = coremu_tb_exit_slot(tb, cpu->next_pc);
    }
}

static const struct coremu_cpu_ops toy_cpu_ops = {
    .run = toy_run,
};

/* ---- the machine -------------------------------------------------------------------------- */

struct toy_machine *toy_machine_new(unsigned ncpus)
{
    struct toy_machine *m = calloc(1, sizeof(*m));

    if (!m) {
        return NULL;
    }
    m->ncpus = ncpus;
    m->rt = coremu_machine_new(ncpus, &toy_cpu_ops);
    m->engine = coremu_tb_engine_new(&toy_tb_ops, ncpus);
    m->cpus = calloc(ncpus, sizeof(*m->cpus));
    void *ram = mmap(NULL, TOY_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                     0);
    m->ram = ram == MAP_FAILED ? NULL : ram;
    if (!m->rt || !m->engine || !m->cpus || !m->ram) {
        toy_machine_free(m);
        return NULL;
    }
    for (unsigned i = 0; i < ncpus; i++) {
        struct toy_cpu *cpu = calloc(1, sizeof(*cpu));
        m->cpus[i] = cpu;
        if (!cpu) {
            toy_machine_free(m);
            return NULL;
        }
        cpu->m = m;
        cpu->rt = m->rt->cpus[i];
        cpu->rt->arch = cpu;
        if (coremu_tb_cpu_init(&cpu->tb, m->engine, cpu->rt, cpu, i) != 0) {
            toy_machine_free(m);
            return NULL;
        }
    }
    return m;
}

void toy_machine_free(struct toy_machine *m)
{
    if (!m) {
        return;
    }
    if (m->rt) {
        coremu_machine_free(m->rt);
    }
    for (unsigned i = 0; m->cpus && i < m->ncpus; i++) {
        if (m->cpus[i]) {
            coremu_tb_cpu_destroy(&m->cpus[i]->tb);
            free(m->cpus[i]);
        }
    }
    coremu_tb_engine_free(m->engine);
    free(m->cpus);
    if (m->ram) {
        munmap(m->ram, TOY_RAM_SIZE);
    }
    free(m);
}

struct toy_watchdog {
    struct toy_machine *m;
    unsigned timeout_s;
    _Atomic bool done;
    _Atomic bool fired;
};

static void *toy_watchdog_main(void *arg)
{
    struct toy_watchdog *w = arg;
    struct timespec tick = {0, 10 * 1000 * 1000};

    for (unsigned i = 0; i < w->timeout_s * 100u && !atomic_load(&w->done); i++) {
        nanosleep(&tick, NULL);
    }
    if (!atomic_load(&w->done)) {
        atomic_store(&w->fired, true);
        coremu_machine_exit(w->m->rt, 1);
    }
    return NULL;
}

int toy_machine_run(struct toy_machine *m, uint64_t entry, unsigned timeout_s)
{
    struct toy_watchdog w = {.m = m, .timeout_s = timeout_s};
    pthread_t dog;

    atomic_init(&w.done, false);
    atomic_init(&w.fired, false);
    if (coremu_machine_start(m->rt) != 0) {
        return -1;
    }
    if (pthread_create(&dog, NULL, toy_watchdog_main, &w) != 0) {
        coremu_machine_exit(m->rt, 1);
        coremu_machine_wait(m->rt);
        return -1;
    }
    for (unsigned i = 0; i < m->ncpus; i++) {
        coremu_cpu_power_on(m->rt->cpus[i], entry, 0);
    }
    int status = coremu_machine_wait(m->rt);
    atomic_store(&w.done, true);
    pthread_join(dog, NULL);
    return status == 0 && !atomic_load(&w.fired) ? 0 : -1;
}
