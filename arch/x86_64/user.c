/*
 * coremu x86_64 — running user-mode code on a core of its own (user.h): the differential
 * tester's and the unit tests' way in.
 *
 * The private guest: guest physical memory holds 4-level page tables (from 0x1000) and a copy
 * of each mapping (after them); the tables map each mapping at its virtual address, user-
 * accessible, writable and executable as asked (NX through EFER.NXE). The core is in 64-bit
 * mode at CPL 3 with flat selectors 0x33 / 0x2b (Linux's), CR0.WP and CR0.AM set, CR4's
 * OSFXSR / OSXMMEXCPT / FSGSBASE / OSXSAVE as a Linux host has them and XCR0 = x87 | SSE.
 * x86_user_run_compat starts it in compatibility mode instead, with the caller's CS, SS, DS and
 * ES descriptor caches.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/physmem.h>
#include <coremu/tb.h>

#include "cpu.h"
#include "user.h"

#define PT_BASE 0x1000ull
/* Where the GDT (and the LDT, 2 KiB above it) are: a supervisor page in the kernel half. */
#define SYS_TABLES_VA 0xffff800000000000ull
#define GDT_LIMIT     127u /* 16 entries, as Linux's */
#define LDT_OFFSET    0x800u

struct builder {
    uint8_t *ram;
    uint64_t size;
    uint64_t next_table; /* next free page for paging structures */
    uint64_t pt_end;
};

static uint64_t *table_at(struct builder *b, uint64_t pa)
{
    return (uint64_t *)(void *)(b->ram + pa);
}

/* The entry for va at level (3 = PML4 ... 0 = PT), making tables on the way. */
static uint64_t *pte_for(struct builder *b, uint64_t va, bool *ok)
{
    uint64_t table = PT_BASE;
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table_at(b, table)[(va >> (12 + 9 * level)) & 0x1ff];
        if (!(*e & 1)) {
            if (b->next_table >= b->pt_end) {
                *ok = false;
                return NULL;
            }
            *e = b->next_table | 0x7; /* present, writable, user: the leaf decides */
            b->next_table += 4096;
        }
        table = *e & 0x000ffffffffff000ull;
    }
    return &table_at(b, table)[(va >> 12) & 0x1ff];
}

static void fail(struct x86_user_result *res, const char *msg)
{
    res->stop = X86_USER_ERROR;
    snprintf(res->message, sizeof(res->message), "%s", msg);
}

/* The descriptor cache a present DPL-3 descriptor with these fields loads. */
static void load_segment(struct x86_segment *seg, const struct x86_user_segment *from)
{
    seg->selector = from->selector;
    seg->base = from->base;
    seg->limit = from->limit;
    seg->attr = X86_SEG_S | X86_SEG_P | (3u << 5) | (from->code ? 0xbu : 0x3u) |
                (from->db ? X86_SEG_DB : 0) | (from->limit > 0xfffff ? X86_SEG_G : 0);
}

static bool segment_ok(const struct x86_user_segment *s)
{
    return s->limit <= 0xfffff || (s->limit & 0xfff) == 0xfff;
}

/* The 8-byte descriptor whose cache is base, limit (in bytes) and attr (as x86_segment has
 * it: the access byte in bits 0-7, AVL/L/DB/G in bits 12-15). */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint16_t attr)
{
    uint32_t raw = (attr & X86_SEG_G) ? limit >> 12 : limit;
    return (raw & 0xffffull) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)(attr & 0xff) << 40 |
           (uint64_t)((raw >> 16) & 0xf) << 48 | (uint64_t)((attr >> 12) & 0xf) << 52 |
           (uint64_t)(base >> 24) << 56;
}

/* Linux's x86_64 GDT (user.h) and the caller's LDT into the page at table (guest memory). */
static void build_tables(uint8_t *table, const struct x86_user_compat *compat)
{
    static const struct {
        unsigned index;
        uint16_t attr;
    } gdt[6] = {
        {1, X86_SEG_S | X86_SEG_P | 0xb | X86_SEG_DB | X86_SEG_G},
        {2, X86_SEG_S | X86_SEG_P | 0xb | X86_SEG_L | X86_SEG_G},
        {3, X86_SEG_S | X86_SEG_P | 0x3 | X86_SEG_DB | X86_SEG_G},
        {4, X86_SEG_S | X86_SEG_P | (3u << 5) | 0xb | X86_SEG_DB | X86_SEG_G},
        {5, X86_SEG_S | X86_SEG_P | (3u << 5) | 0x3 | X86_SEG_DB | X86_SEG_G},
        {6, X86_SEG_S | X86_SEG_P | (3u << 5) | 0xb | X86_SEG_L | X86_SEG_G},
    };
    memset(table, 0, 4096);
    for (unsigned i = 0; i < 6; i++) {
        uint64_t d = descriptor(0, 0xffffffffu, gdt[i].attr);
        memcpy(table + gdt[i].index * 8, &d, 8);
    }
    /* 0x40: a busy 64-bit TSS (16 bytes; its contents are never used here) */
    uint64_t tss = descriptor(0, 0x67, X86_SEG_P | 0xb);
    memcpy(table + 0x40, &tss, 8);
    for (unsigned i = 0; compat && i < compat->ldt_entries; i++) {
        struct x86_segment cache;
        load_segment(&cache, &compat->ldt[i]);
        uint64_t d = descriptor((uint32_t)cache.base, cache.limit, cache.attr);
        memcpy(table + LDT_OFFSET + i * 8, &d, 8);
    }
}

void x86_user_run(const struct x86_user_mapping *maps, unsigned nmaps, uint64_t stop_rip,
                  uint64_t max_insns, struct x86_user_state *state, struct x86_user_result *res)
{
    x86_user_run_compat(maps, nmaps, NULL, stop_rip, max_insns, state, res);
}

void x86_user_run_compat(const struct x86_user_mapping *maps, unsigned nmaps,
                         const struct x86_user_compat *compat, uint64_t stop_rip,
                         uint64_t max_insns, struct x86_user_state *state,
                         struct x86_user_result *res)
{
    memset(res, 0, sizeof(*res));
    uint64_t data_bytes = 0;
    for (unsigned i = 0; i < nmaps; i++) {
        if ((maps[i].vaddr & 0xfff) || (maps[i].size & 0xfff) || maps[i].size == 0) {
            fail(res, "mappings must be whole pages");
            return;
        }
        data_bytes += maps[i].size;
    }
    if (compat &&
        (!compat->cs.code || compat->ss.code || compat->ds.code || compat->es.code ||
         !segment_ok(&compat->cs) || !segment_ok(&compat->ss) || !segment_ok(&compat->ds) ||
         !segment_ok(&compat->es) || compat->ldt_entries > X86_USER_LDT_MAX)) {
        fail(res, "compat: CS must be code, SS/DS/ES data, limits above 1 MiB page-granular");
        return;
    }
    for (unsigned i = 0; compat && i < compat->ldt_entries; i++) {
        if (!segment_ok(&compat->ldt[i])) {
            fail(res, "compat: LDT limits above 1 MiB must be page-granular");
            return;
        }
    }
    /* page tables: PML4 + at most 3 tables per 4 KiB page mapped, bounded by 4 per mapping
     * page run; generous and simple */
    uint64_t pt_pages = 1 + 3 * (data_bytes / 4096 + nmaps + 1);
    uint64_t pt_end = PT_BASE + pt_pages * 4096;
    /* the descriptor tables' page follows the mappings' copies */
    uint64_t ram_size = (pt_end + data_bytes + 4096 + 0xfffff) & ~0xfffffull;

    struct coremu_as *as = coremu_as_new();
    uint8_t *ram = as ? coremu_as_add_ram(as, "ram", 0, ram_size) : NULL;
    struct coremu_tb_engine *engine = coremu_tb_engine_new(&x86_tb_ops, 1);
    struct x86_cpu *cpu = calloc(1, sizeof(*cpu));
    if (!ram || !engine || !cpu || x86_cpu_init(cpu, engine, NULL, as, NULL, 0) != 0) {
        fail(res, "out of memory");
        if (cpu && cpu->tb.engine) {
            x86_cpu_destroy(cpu);
        }
        free(cpu);
        if (engine) {
            coremu_tb_engine_free(engine);
        }
        coremu_as_free(as);
        return;
    }

    struct builder b = {.ram = ram, .size = ram_size, .next_table = PT_BASE + 4096,
                        .pt_end = pt_end};
    uint64_t pa = pt_end;
    bool ok = true;
    for (unsigned i = 0; i < nmaps && ok; i++) {
        memcpy(ram + pa, maps[i].host, maps[i].size);
        for (uint64_t off = 0; off < maps[i].size && ok; off += 4096) {
            uint64_t *pte = pte_for(&b, maps[i].vaddr + off, &ok);
            if (pte) {
                /* accessed and dirty preset: the host's pages are too, and A/D are not what
                 * the tester compares */
                *pte = (pa + off) | 0x1 | 0x4 | 0x20 | 0x40 | (maps[i].writable ? 0x2 : 0) |
                       (maps[i].executable ? 0 : (1ull << 63));
            }
        }
        pa += maps[i].size;
    }
    uint64_t sys_pa = pa;
    if (ok) {
        uint64_t *pte = pte_for(&b, SYS_TABLES_VA, &ok);
        if (pte) {
            /* supervisor only (descriptor-table accesses are), NX */
            *pte = sys_pa | 0x1 | 0x2 | 0x20 | 0x40 | (1ull << 63);
            build_tables(ram + sys_pa, compat);
        }
    }
    if (!ok) {
        fail(res, "page tables do not fit");
    } else {
        cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_AM | X86_CR0_ET | X86_CR0_NE |
                   X86_CR0_MP;
        cpu->cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
                   X86_CR4_FSGSBASE | X86_CR4_OSXSAVE;
        cpu->xcr0 = X86_XCR0_SUPPORTED;
        cpu->cr3 = PT_BASE;
        cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SCE;
        cpu->cpl = 3;
        for (unsigned s = 0; s < X86_NSEG; s++) {
            cpu->seg[s].base = 0;
            cpu->seg[s].limit = 0xffffffff;
            cpu->seg[s].selector = 0x2b;
            cpu->seg[s].attr = X86_SEG_S | X86_SEG_P | X86_SEG_G | X86_SEG_DB | (3u << 5) | 0x3;
        }
        cpu->seg[X86_CS].selector = 0x33;
        cpu->seg[X86_CS].attr = X86_SEG_S | X86_SEG_P | X86_SEG_G | X86_SEG_L | (3u << 5) | 0xb;
        if (compat) {
            load_segment(&cpu->seg[X86_CS], &compat->cs);
            load_segment(&cpu->seg[X86_SS], &compat->ss);
            load_segment(&cpu->seg[X86_DS], &compat->ds);
            load_segment(&cpu->seg[X86_ES], &compat->es);
        }
        cpu->seg[X86_FS].base = state->fs_base;
        cpu->seg[X86_GS].base = state->gs_base;
        cpu->seg[X86_TR].attr = X86_SEG_P | 0xb;
        cpu->seg[X86_TR].selector = 0x40;
        cpu->gdtr.base = SYS_TABLES_VA;
        cpu->gdtr.limit = GDT_LIMIT;
        memset(&cpu->seg[X86_LDTR], 0, sizeof(cpu->seg[X86_LDTR])); /* no LDT */
        if (compat && compat->ldt_entries) {
            cpu->seg[X86_LDTR].selector = 0x50; /* Linux's GDT_ENTRY_LDT */
            cpu->seg[X86_LDTR].base = SYS_TABLES_VA + LDT_OFFSET;
            cpu->seg[X86_LDTR].limit = compat->ldt_entries * 8 - 1;
            cpu->seg[X86_LDTR].attr = X86_SEG_P | 0x2;
        }
        memcpy(cpu->gpr, state->gpr, sizeof(cpu->gpr));
        cpu->rip = state->rip;
        x86_rflags_write(cpu, (state->rflags & 0x3f7fd5ull) | X86_IF);
        if (!x86_fxrstor_image(cpu, state->fxsave)) {
            fail(res, "the FXSAVE image's MXCSR sets reserved bits");
        }
    }
    if (res->stop != X86_USER_ERROR) {
        x86_tlb_flush_all(cpu);
        cpu->user_mode_harness = true;
        cpu->stop_rip = stop_rip;
        cpu->max_insns = max_insns;
        x86_run_loop(cpu);

        memcpy(state->gpr, cpu->gpr, sizeof(state->gpr));
        state->rflags = x86_rflags_read(cpu) & ~(uint64_t)X86_IF;
        state->fs_base = cpu->seg[X86_FS].base;
        state->gs_base = cpu->seg[X86_GS].base;
        x86_fxsave_image(cpu, state->fxsave);
        res->insns = cpu->insns_executed;
        if (cpu->user_faulted) {
            res->stop = X86_USER_FAULT;
            res->vector = cpu->exc_vector;
            res->error_code = cpu->exc_has_error ? cpu->exc_error : 0;
            res->cr2 = cpu->exc_vector == X86_EXC_PF ? cpu->cr2 : 0;
            state->rip = cpu->exc_return_rip;
        } else {
            res->stop = cpu->rip == stop_rip ? X86_USER_STOPPED : X86_USER_LIMIT;
            state->rip = cpu->rip;
        }
        pa = pt_end;
        for (unsigned i = 0; i < nmaps; i++) {
            if (maps[i].writable) {
                memcpy(maps[i].host, ram + pa, maps[i].size);
            }
            pa += maps[i].size;
        }
    }
    x86_cpu_destroy(cpu);
    free(cpu);
    coremu_tb_engine_free(engine);
    coremu_as_free(as);
}
