/*
 * test-x86-lock: locked instructions on several x86_64 cores at once, each core a host thread
 * of a real coremu machine, sharing one RAM: the counts must be exact.
 *
 *   - LOCK INC of a 64-bit counter, on 4 and on 8 cores, 10^6 times each (8 x 10^6 on 8);
 *   - LOCK ADD of a 32-bit counter that straddles a cache line, and one that straddles a page
 *     (both take the atomic table's stop-the-world path);
 *   - CMPXCHG16B increments of a 16-byte pair from non-atomic reads (an ABA-style litmus: a
 *     torn or lost update leaves the halves unequal or the total short);
 *   - an XCHG spin lock guarding a plain read-modify-write of a counter (XCHG's atomicity and
 *     the ordering of the plain accesses around it).
 *
 * The guest code is hand-assembled 64-bit code (bytes below, with their assembly), run at CPL 0
 * with identity paging; each core ends by writing port 0xf4, and the machine exits when all have.
 * It runs the same on any host: nothing here executes x86 instructions natively.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/cpu.h>
#include <coremu/physmem.h>
#include <coremu/tb.h>

#include "cpu.h"
#include "unit.h"

#define RAM_SIZE (4u << 20)
#define CODE_BASE 0x100000u
#define DATA_BASE 0x200000u

/* The tail of every program: report to port 0xf4, then halt for good. */
#define TAIL 0xba, 0xf4, 0x00, 0x00, 0x00, /* mov edx, 0xf4 */                                  \
             0xee,                         /* out dx, al */                                     \
             0xf4,                         /* hlt */                                            \
             0xeb, 0xfd                    /* jmp hlt */

/* rdi = counter, rcx = iterations */
static const uint8_t prog_lock_inc[] = {
    0xf0, 0x48, 0xff, 0x07, /* 0: lock inc qword [rdi] */
    0x48, 0xff, 0xc9,       /* 4: dec rcx */
    0x75, 0xf7,             /* 7: jnz 0 */
    TAIL,
};

/* rsi = counter (unaligned), rcx = iterations */
static const uint8_t prog_lock_add_split[] = {
    0xf0, 0x83, 0x06, 0x01, /* 0: lock add dword [rsi], 1 */
    0x48, 0xff, 0xc9,       /* 4: dec rcx */
    0x75, 0xf7,             /* 7: jnz 0 */
    TAIL,
};

/* rdi = 16-byte pair, r8 = iterations */
static const uint8_t prog_cmpxchg16b[] = {
    0x48, 0x8b, 0x07,             /* 0: mov rax, [rdi] */
    0x48, 0x8b, 0x57, 0x08,       /* 3: mov rdx, [rdi + 8] */
    0x48, 0x8d, 0x58, 0x01,       /* 7: lea rbx, [rax + 1] */
    0x48, 0x8d, 0x4a, 0x01,       /* 11: lea rcx, [rdx + 1] */
    0xf0, 0x48, 0x0f, 0xc7, 0x0f, /* 15: lock cmpxchg16b [rdi] */
    0x75, 0xea,                   /* 20: jnz 0 */
    0x49, 0xff, 0xc8,             /* 22: dec r8 */
    0x75, 0xe5,                   /* 25: jnz 0 */
    TAIL,
};

/* rdi = lock word, rsi = counter, rcx = iterations */
static const uint8_t prog_spinlock[] = {
    0xb8, 0x01, 0x00, 0x00, 0x00,       /* 0: mov eax, 1 */
    0x87, 0x07,                         /* 5: xchg [rdi], eax */
    0x85, 0xc0,                         /* 7: test eax, eax */
    0x74, 0x04,                         /* 9: jz 15 */
    0xf3, 0x90,                         /* 11: pause */
    0xeb, 0xf1,                         /* 13: jmp 0 */
    0x48, 0x8b, 0x06,                   /* 15: mov rax, [rsi] */
    0x48, 0xff, 0xc0,                   /* 18: inc rax */
    0x48, 0x89, 0x06,                   /* 21: mov [rsi], rax */
    0xc7, 0x07, 0x00, 0x00, 0x00, 0x00, /* 24: mov dword [rdi], 0 */
    0x48, 0xff, 0xc9,                   /* 30: dec rcx */
    0x75, 0xdd,                         /* 33: jnz 0 */
    TAIL,
};

struct rig {
    struct coremu_machine *machine;
    struct coremu_tb_engine *engine;
    struct coremu_as *as, *io;
    uint8_t *ram;
    struct x86_cpu **cpus;
    unsigned ncpus;
    uint64_t regs[16]; /* every core's initial general registers */
    _Atomic unsigned done;
};

static int exit_port_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)opaque;
    (void)offset;
    (void)size;
    *value = 0;
    return COREMU_MEM_OK;
}

static int exit_port_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct rig *r = opaque;
    (void)offset;
    (void)size;
    (void)value;
    if (atomic_fetch_add(&r->done, 1) + 1 == r->ncpus) {
        coremu_machine_exit(r->machine, 0);
    }
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops exit_port_ops = {
    .read = exit_port_read,
    .write = exit_port_write,
    .sizes = 1 | 2 | 4,
};

/* 64-bit mode at CPL 0 with the identity paging the rig built. */
static void rig_cpu_run(struct coremu_cpu *rt)
{
    struct x86_cpu *cpu = rt->arch;
    struct rig *r = cpu->board.opaque;

    x86_cpu_reset(cpu);
    coremu_tb_power_on(&cpu->tb);
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_ET | X86_CR0_NE;
    cpu->cr4 = X86_CR4_PAE | X86_CR4_OSFXSR;
    cpu->cr3 = 0x1000;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    for (unsigned s = 0; s < X86_LDTR; s++) {
        cpu->seg[s].base = 0;
        cpu->seg[s].limit = 0xffffffff;
        cpu->seg[s].selector = 0x18;
        cpu->seg[s].attr = X86_SEG_S | X86_SEG_P | X86_SEG_G | X86_SEG_DB | 0x3;
    }
    cpu->seg[X86_CS].selector = 0x10;
    cpu->seg[X86_CS].attr = X86_SEG_S | X86_SEG_P | X86_SEG_G | X86_SEG_L | 0xb;
    memcpy(cpu->gpr, r->regs, sizeof(cpu->gpr));
    cpu->gpr[X86_RSP] = DATA_BASE + 0x10000 + 0x1000 * rt->index;
    cpu->rip = rt->power_on_arg[0];
    x86_tlb_flush_all(cpu);
    x86_run_loop(cpu);
}

static const struct coremu_cpu_ops rig_ops = {.run = rig_cpu_run};

static void rig_free(struct rig *r)
{
    if (r->cpus) {
        for (unsigned i = 0; i < r->ncpus; i++) {
            if (r->cpus[i]) {
                x86_cpu_destroy(r->cpus[i]);
                free(r->cpus[i]);
            }
        }
        free(r->cpus);
    }
    if (r->engine) {
        coremu_tb_engine_free(r->engine);
    }
    if (r->machine) {
        coremu_machine_free(r->machine);
    }
    coremu_as_free(r->io);
    coremu_as_free(r->as);
    free(r);
}

static struct rig *rig_new(unsigned n)
{
    struct rig *r = calloc(1, sizeof(*r));
    r->ncpus = n;
    r->as = coremu_as_new();
    r->io = coremu_as_new();
    r->ram = coremu_as_add_ram(r->as, "ram", 0, RAM_SIZE);
    r->machine = coremu_machine_new(n, &rig_ops);
    r->engine = coremu_tb_engine_new(&x86_tb_ops, n);
    r->cpus = calloc(n, sizeof(*r->cpus));
    if (!r->ram || !r->machine || !r->engine || !r->cpus ||
        coremu_as_add_mmio(r->io, "exit", 0xf4, 4, &exit_port_ops, r, COREMU_MMIO_LOCKLESS) != 0) {
        rig_free(r);
        return NULL;
    }
    /* identity paging of the first 4 MiB with 2 MiB pages: PML4 0x1000, PDPT 0x2000, PD 0x3000 */
    uint64_t e;
    e = 0x2000 | 3;
    memcpy(r->ram + 0x1000, &e, 8);
    e = 0x3000 | 3;
    memcpy(r->ram + 0x2000, &e, 8);
    for (unsigned i = 0; i < 2; i++) {
        e = ((uint64_t)i << 21) | 0x83;
        memcpy(r->ram + 0x3000 + 8 * i, &e, 8);
    }
    for (unsigned i = 0; i < n; i++) {
        struct x86_cpu *cpu = calloc(1, sizeof(*cpu));
        r->cpus[i] = cpu;
        if (!cpu || x86_cpu_init(cpu, r->engine, r->machine->cpus[i], r->as, r->io, i) != 0) {
            free(cpu);
            r->cpus[i] = NULL;
            rig_free(r);
            return NULL;
        }
        cpu->board.opaque = r;
        r->machine->cpus[i]->arch = cpu;
    }
    return r;
}

/* Runs prog on n cores with the given registers; true when every core finished. */
static bool run_program(unsigned n, const uint8_t *prog, size_t len, const uint64_t regs[16],
                        void (*setup)(uint8_t *ram), uint8_t *ram_out, size_t out_off,
                        size_t out_len)
{
    struct rig *r = rig_new(n);
    if (!r) {
        return false;
    }
    memcpy(r->ram + CODE_BASE, prog, len);
    memcpy(r->regs, regs, sizeof(r->regs));
    if (setup) {
        setup(r->ram);
    }
    bool ok = coremu_machine_start(r->machine) == 0;
    for (unsigned i = 0; ok && i < n; i++) {
        ok = coremu_cpu_power_on(r->machine->cpus[i], CODE_BASE, 0) == 0;
    }
    if (!ok) {
        coremu_machine_exit(r->machine, 1);
    }
    int status = coremu_machine_wait(r->machine);
    ok = ok && status == 0 && atomic_load(&r->done) == n;
    memcpy(ram_out, r->ram + out_off, out_len);
    rig_free(r);
    return ok;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void lock_inc(unsigned n, uint64_t iterations)
{
    uint64_t regs[16] = {0};
    uint8_t out[8];
    char name[96];
    regs[X86_RDI] = DATA_BASE;
    regs[X86_RCX] = iterations;
    snprintf(name, sizeof(name), "LOCK INC on %u cores x %llu", n, (unsigned long long)iterations);
    bool ran = run_program(n, prog_lock_inc, sizeof(prog_lock_inc), regs, NULL, out, DATA_BASE, 8);
    uint64_t got = rd64(out);
    UNIT_CHECK(ran && got == n * iterations, name, "counter %llu, expected %llu (ran: %d)",
               (unsigned long long)got, (unsigned long long)(n * iterations), ran);
}

static void lock_add_split(unsigned n, uint64_t iterations, uint64_t addr, const char *what)
{
    uint64_t regs[16] = {0};
    uint8_t out[4];
    regs[X86_RSI] = addr;
    regs[X86_RCX] = iterations;
    bool ran = run_program(n, prog_lock_add_split, sizeof(prog_lock_add_split), regs, NULL, out,
                           addr, 4);
    uint32_t got;
    memcpy(&got, out, 4);
    char name[96];
    snprintf(name, sizeof(name), "LOCK ADD straddling a %s on %u cores", what, n);
    UNIT_CHECK(ran && got == n * iterations, name, "%u, expected %llu (ran: %d)", got,
               (unsigned long long)(n * iterations), ran);
}

static void cmpxchg16b(unsigned n, uint64_t iterations)
{
    uint64_t regs[16] = {0};
    uint8_t out[16];
    regs[X86_RDI] = DATA_BASE + 0x100;
    regs[X86_R8] = iterations;
    bool ran = run_program(n, prog_cmpxchg16b, sizeof(prog_cmpxchg16b), regs, NULL, out,
                           DATA_BASE + 0x100, 16);
    uint64_t lo = rd64(out), hi = rd64(out + 8);
    char name[96];
    snprintf(name, sizeof(name), "CMPXCHG16B increments of a pair on %u cores", n);
    UNIT_CHECK(ran && lo == n * iterations && hi == lo, name,
               "%llu:%llu, expected %llu in both (ran: %d)", (unsigned long long)hi,
               (unsigned long long)lo, (unsigned long long)(n * iterations), ran);
}

static void spinlock(unsigned n, uint64_t iterations)
{
    uint64_t regs[16] = {0};
    uint8_t out[0x48];
    regs[X86_RDI] = DATA_BASE + 0x200;
    regs[X86_RSI] = DATA_BASE + 0x240;
    regs[X86_RCX] = iterations;
    bool ran = run_program(n, prog_spinlock, sizeof(prog_spinlock), regs, NULL, out,
                           DATA_BASE + 0x200, sizeof(out));
    uint64_t got = rd64(out + 0x40);
    char name[96];
    snprintf(name, sizeof(name), "XCHG spin lock around a plain increment on %u cores", n);
    UNIT_CHECK(ran && got == n * iterations && rd64(out) == 0, name,
               "%llu, expected %llu, lock word %llu (ran: %d)", (unsigned long long)got,
               (unsigned long long)(n * iterations), (unsigned long long)rd64(out), ran);
}

int main(int argc, char **argv)
{
    /* The figure, 10^6 locked increments per core; sanitizer builds run an order of
     * magnitude slower, and a smaller count still interleaves the cores thoroughly. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    uint64_t scale = 100000;
#else
    uint64_t scale = 1000000;
#endif
    if (argc > 1) {
        scale = strtoull(argv[1], NULL, 0);
    }

    lock_inc(4, scale);
    lock_inc(8, scale);
    lock_add_split(4, scale / 100 + 1, DATA_BASE + 0x3e, "cache line");
    lock_add_split(4, scale / 100 + 1, DATA_BASE + 0xffe, "page");
    cmpxchg16b(4, scale / 10);
    spinlock(4, scale / 10);
    return unit_done();
}
