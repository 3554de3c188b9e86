/*
 * toy — the test-only architecture's decoder, handlers and CPU loop on the shared engine
 * (toy.h says what the instructions are and why the architecture exists).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <coremu/atomic.h>
#include <coremu/cpu.h>
#include <coremu/softmmu.h>
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

/*
 * A plain store of size 1 or 8 (checked by the caller). On a page the exclusive monitor watches
 * it goes through the monitor, which breaks every reservation on its granule; then a seq_cst
 * read-modify-write of nothing on the same bytes puts it where toy_stored's argument needs a
 * seq_cst RMW (the monitor's store is only a release). Elsewhere one seq_cst exchange. The
 * check and the store happen within one instruction, so the stop-the-world of the monitor's
 * watch callback (toy_xmon_watch) always falls before or after both.
 */
static void toy_store(struct toy_cpu *cpu, uint64_t addr, unsigned size, uint64_t value)
{
    uint64_t pa = TOY_PHYS_BASE + addr;
    uint8_t *host = cpu->m->ram + addr;

    if (coremu_xmon_page_watched(cpu->m->xmon, pa)) {
        coremu_xmon_store(cpu->m->xmon, host, pa, size, value);
        if (size == 8) {
            __atomic_fetch_add((uint64_t *)host, 0, __ATOMIC_SEQ_CST);
        } else {
            __atomic_fetch_add(host, 0, __ATOMIC_SEQ_CST);
        }
    } else if (size == 8) {
        __atomic_exchange_n((uint64_t *)host, value, __ATOMIC_SEQ_CST);
    } else {
        __atomic_exchange_n(host, (uint8_t)value, __ATOMIC_SEQ_CST);
    }
    toy_stored(cpu, addr);
}

/* ---- the atomic table --------------------------------------------------------------------- */

/* The host bytes of [va, va + size) when they are RAM and naturally aligned; otherwise the
 * core faults (its handler ends it as UNDEFINED) and NULL. */
static uint8_t *toy_atomic_host(struct toy_cpu *cpu, uint64_t va, unsigned size)
{
    if (!toy_ram_ok(va, size) || (va & (size - 1)) != 0) {
        cpu->faulted = true;
        return NULL;
    }
    return cpu->m->ram + va;
}

static uint64_t toy_size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static uint64_t toy_load_exclusive(void *opaque, uint64_t va, unsigned size)
{
    struct toy_cpu *cpu = opaque;
    uint8_t *host = toy_atomic_host(cpu, va, size);

    if (!host) {
        return 0;
    }
    return coremu_xmon_load_exclusive(cpu->m->xmon, &cpu->xmon, host, TOY_PHYS_BASE + va, size,
                                      NULL);
}

static bool toy_store_exclusive(void *opaque, uint64_t va, unsigned size, uint64_t value)
{
    struct toy_cpu *cpu = opaque;
    uint8_t *host = toy_atomic_host(cpu, va, size);

    if (!host) {
        return false;
    }
    bool ok = coremu_xmon_store_exclusive(cpu->m->xmon, &cpu->xmon, host, TOY_PHYS_BASE + va,
                                          size, value & toy_size_mask(size), 0);
    if (ok) {
        toy_stored(cpu, va);
    }
    return ok;
}

static void toy_clear_exclusive(void *opaque)
{
    coremu_xmon_clear(&((struct toy_cpu *)opaque)->xmon);
}

/* An atomic read-modify-write: through the monitor on a watched page (it breaks reservations
 * there), a host atomic elsewhere (no reservation can exist: a load-exclusive watches its page
 * first, and the watch stops the world, so this instruction finished before). */
static uint64_t toy_fetch_op(void *opaque, uint64_t va, unsigned size, enum coremu_atomic_op op,
                             uint64_t operand)
{
    struct toy_cpu *cpu = opaque;
    uint8_t *host = toy_atomic_host(cpu, va, size);
    uint64_t pa = TOY_PHYS_BASE + va;

    if (!host) {
        return 0;
    }
    operand &= toy_size_mask(size);
    uint64_t old = coremu_xmon_page_watched(cpu->m->xmon, pa)
                       ? coremu_xmon_fetch_op(cpu->m->xmon, host, pa, size, op, operand)
                       : coremu_atomic_fetch_op(host, size, op, operand);
    toy_stored(cpu, va);
    return old;
}

static uint64_t toy_swap(void *opaque, uint64_t va, unsigned size, uint64_t value)
{
    return toy_fetch_op(opaque, va, size, COREMU_ATOMIC_XCHG, value);
}

const struct coremu_atomic_table toy_atomic_table = {
    .arch = "toy",
    .exclusive_sizes = 1 | 2 | 4 | 8,
    .load_exclusive = toy_load_exclusive,
    .store_exclusive = toy_store_exclusive,
    .clear_exclusive = toy_clear_exclusive,
    .swap_sizes = 1 | 2 | 4 | 8,
    .swap = toy_swap,
    .fetch_op_sizes = 8,
    .fetch_op = toy_fetch_op,
};

/* The monitor's watch callback: every core parks at a block boundary once, so each store that
 * found the page unwatched has been made; later ones find it watched. */
static void toy_nothing(void *arg)
{
}

static void toy_xmon_watch(void *opaque, uint64_t page_pa)
{
    struct toy_machine *m = opaque;

    coremu_machine_stop_world(m->rt, toy_nothing, NULL);
}

/* ---- handlers ----------------------------------------------------------------------------- */

static void toy_halt_core(struct toy_cpu *cpu)
{
    cpu->leave = true;
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
    toy_store(cpu, pa, 8, cpu->r[op->rd]);
    return false;
}

static bool op_STB(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t pa = cpu->r[op->rs];

    if (!toy_ram_ok(pa, 1)) {
        return op_UNDEFINED(cpu, op);
    }
    toy_store(cpu, pa, 1, cpu->r[op->rd]);
    return false;
}

/* The atomic instructions: one indirect call each through the core's table. */
static bool op_INC(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->atomic->fetch_op(cpu, cpu->r[op->rs], 8, COREMU_ATOMIC_ADD, 1);
    return cpu->faulted ? op_UNDEFINED(cpu, op) : false;
}

static bool op_LDX(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t v = cpu->atomic->load_exclusive(cpu, cpu->r[op->rs], op->size);
    if (cpu->faulted) {
        return op_UNDEFINED(cpu, op);
    }
    cpu->r[op->rd] = v;
    return false;
}

static bool op_STX(struct toy_cpu *cpu, const struct toy_uop *op)
{
    bool ok = cpu->atomic->store_exclusive(cpu, cpu->r[op->rs], op->size, cpu->r[op->rt]);
    if (cpu->faulted) {
        return op_UNDEFINED(cpu, op);
    }
    cpu->r[op->rd] = ok ? 0 : 1;
    cpu->stx_failed += !ok;
    return false;
}

static bool op_CLRX(struct toy_cpu *cpu, const struct toy_uop *op)
{
    cpu->atomic->clear_exclusive(cpu);
    return false;
}

static bool op_SWP(struct toy_cpu *cpu, const struct toy_uop *op)
{
    uint64_t old = cpu->atomic->swap(cpu, cpu->r[op->rs], op->size, cpu->r[op->rt]);
    if (cpu->faulted) {
        return op_UNDEFINED(cpu, op);
    }
    cpu->r[op->rd] = old;
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
    coremu_cpu_relax(cpu->rt, cpu->insns);
    return false;
}

/* ---- the decoder: one row per opcode ------------------------------------------------------ */

enum toy_operands {
    TOY_NONE, TOY_DS, TOY_D_I8, TOY_D_S8, TOY_REL16, TOY_D_I16,
    TOY_DS_Z,  /* ds, then the size in bytes */
    TOY_DST_Z, /* ds, then rt in the high nibble and the size in the low one */
};

static const struct toy_row {
    toy_fn fn;
    enum toy_operands operands;
    bool ends_block;
} toy_rows[] = {
    [TOY_HALT] = {op_HALT, TOY_NONE, true},    [TOY_MOVI] = {op_MOVI, TOY_D_I8, false},
    [TOY_ADD] = {op_ADD, TOY_DS, false},       [TOY_ADDI] = {op_ADDI, TOY_D_S8, false},
    [TOY_LD] = {op_LD, TOY_DS, false},         [TOY_ST] = {op_ST, TOY_DS, false},
    [TOY_JMP] = {op_JMP, TOY_REL16, true},     [TOY_BNZ] = {op_BNZ, TOY_D_S8, true},
    [TOY_JR] = {op_JR, TOY_DS, true},          [TOY_STB] = {op_STB, TOY_DS, false},
    [TOY_TLBI] = {op_TLBI, TOY_NONE, true},    [TOY_STOPW] = {op_STOPW, TOY_NONE, true},
    [TOY_INC] = {op_INC, TOY_DS, false},       [TOY_MOVW] = {op_MOVW, TOY_D_I16, false},
    [TOY_YIELD] = {op_YIELD, TOY_NONE, false}, [TOY_LDX] = {op_LDX, TOY_DS_Z, false},
    [TOY_STX] = {op_STX, TOY_DST_Z, false},    [TOY_CLRX] = {op_CLRX, TOY_NONE, false},
    [TOY_SWP] = {op_SWP, TOY_DST_Z, false},
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
        [TOY_D_I16] = 3, [TOY_DS_Z] = 2, [TOY_DST_Z] = 2,
    };
    unsigned n = operand_bytes[row->operands];
    if (n > 0 && !coremu_tb_fetch(d, n, &operand)) {
        return COREMU_TB_STOP;
    }
    op->fn = row->fn;
    if (row->operands == TOY_DS_Z || row->operands == TOY_DST_Z) {
        unsigned size = row->operands == TOY_DS_Z ? (operand >> 8) & 0xff : (operand >> 8) & 0xf;
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            op->fn = op_UNDEFINED;
            return COREMU_TB_END;
        }
        op->size = (uint8_t)size;
        op->rt = (uint8_t)((operand >> 12) & 7);
    }
    switch (row->operands) {
    case TOY_NONE:
        break;
    case TOY_DS:
    case TOY_DS_Z:
    case TOY_DST_Z:
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
    cpu->faulted = false;
    coremu_xmon_clear(&cpu->xmon);
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
            /* Off first: a run that sees every core done may power them on again at once. */
            coremu_cpu_power_off_self(rt);
            pthread_mutex_lock(&cpu->m->run_lock);
            cpu->m->run_done++;
            pthread_cond_broadcast(&cpu->m->run_cond);
            pthread_mutex_unlock(&cpu->m->run_lock);
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
    return toy_machine_new_xmon(ncpus, COREMU_XMON_EXACT);
}

struct toy_machine *toy_machine_new_xmon(unsigned ncpus, enum coremu_xmon_mode mode)
{
    struct toy_machine *m = calloc(1, sizeof(*m));

    if (!m) {
        return NULL;
    }
    m->ncpus = ncpus;
    pthread_mutex_init(&m->run_lock, NULL);
    pthread_cond_init(&m->run_cond, NULL);
    m->rt = coremu_machine_new(ncpus, &toy_cpu_ops);
    m->engine = coremu_tb_engine_new(&toy_tb_ops, ncpus);
    m->cpus = calloc(ncpus, sizeof(*m->cpus));
    void *ram = mmap(NULL, TOY_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                     0);
    m->ram = ram == MAP_FAILED ? NULL : ram;
    m->xmon = coremu_xmon_new(mode, TOY_PHYS_BASE, TOY_RAM_SIZE, toy_xmon_watch, m);
    if (!m->rt || !m->engine || !m->cpus || !m->ram || !m->xmon) {
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
        cpu->atomic = &toy_atomic_table;
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
    if (m->xmon) {
        coremu_xmon_free(m->xmon);
    }
    pthread_cond_destroy(&m->run_cond);
    pthread_mutex_destroy(&m->run_lock);
    free(m);
}

int toy_machine_run_cores(struct toy_machine *m, uint64_t entry, unsigned k, unsigned timeout_s)
{
    if (k == 0 || k > m->ncpus || atomic_load(&m->rt->exiting) ||
        coremu_machine_start(m->rt) != 0) {
        return -1;
    }
    pthread_mutex_lock(&m->run_lock);
    m->run_done = 0;
    pthread_mutex_unlock(&m->run_lock);
    unsigned started = 0;
    while (started < k && coremu_cpu_power_on(m->rt->cpus[started], entry, 0) == 0) {
        started++;
    }

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_s;
    pthread_mutex_lock(&m->run_lock);
    while (m->run_done < started) {
        if (pthread_cond_timedwait(&m->run_cond, &m->run_lock, &deadline) == ETIMEDOUT) {
            break;
        }
    }
    bool done = m->run_done == started;
    pthread_mutex_unlock(&m->run_lock);
    if (!done) {
        coremu_machine_exit(m->rt, 1);
        coremu_machine_wait(m->rt);
    }
    return done && started == k ? 0 : -1;
}

int toy_machine_run(struct toy_machine *m, uint64_t entry, unsigned timeout_s)
{
    return toy_machine_run_cores(m, entry, m->ncpus, timeout_s);
}
