/*
 * The x86_64 boot loader (arch/x86_64/boot.c) against what the guest will find in its RAM:
 *
 *   - a bzImage made here from the setup header's fields, and Debian 12's real vmlinuz when
 *     scripts/prepare-guest-x86_64.sh has cached it (else those checks are UNSUPPORTED): the
 *     protected-mode kernel at pref_address, the zero page (the file's setup header, our
 *     fields, the e820 table), the command line, the initrd as high as initrd_addr_max and
 *     RAM allow, page tables walked here entry by entry to show they identity-map what the
 *     state claims, and a GDT whose descriptors decode to the state's segments;
 *   - multiboot kernels built here byte by byte (a 32-bit ELF with a bss, and a raw image that
 *     gives its addresses in the header): segments, bss, the information structure, memory
 *     map, command line, module;
 *   - a machine reset putting back what was kept with x86_boot_keep_images;
 *   - bad inputs: each a one-line error that names the file and says what is wrong;
 *   - on an x86_64 Linux host with /dev/kvm, both entry states on the host's own CPU: small
 *     programs at the entry points print what they find (UNSUPPORTED without KVM), and on
 *     request (COREMU_TEST_KVM_LINUX=SECONDS) Debian's kernel boots as far as /init.
 *
 * Usage: test-x86-boot [VMLINUZ [INITRD]]; without arguments the guest cache is
 * $COREMU_GUEST_CACHE or ~/.cache/coremu/guests/x86_64, as for the script.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/coremu.h>

#include "boot.h"
#include "unit.h"

/* The Debian kernel is also run from the state boot.c gives, on the host's CPU through KVM, as
 * far as its first process: proof that the state and the memory image are what a real kernel
 * accepts, independent of coremu's own CPU. Only on an x86_64 Linux host with /dev/kvm. */
#if defined(__x86_64__) && defined(__linux__) && defined(__has_include)
#if __has_include(<linux/kvm.h>)
#define TEST_BOOT_KVM 1
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#endif
#endif

#define MIB (1ull << 20)
#define GIB (1ull << 30)

/* The PC's layout: RAM below 640 KiB less a 1 KiB EBDA, the BIOS area reserved, RAM from
 * 1 MiB to 3 GiB, then 1 GiB above 4 GiB. */
static const struct x86_e820_range pc_map[] = {
    {0, 0x9fc00, X86_E820_RAM},
    {0x9fc00, 0x400, X86_E820_RESERVED},
    {0xf0000, 0x10000, X86_E820_RESERVED},
    {MIB, 3 * GIB - MIB, X86_E820_RAM},
    {4 * GIB, GIB, X86_E820_RAM},
};

static char tmpdir[256];
static unsigned tmp_serial;

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Writes a temporary file and returns its path (static storage, one per call). */
static const char *tmp_file(const char *name, const void *data, size_t size)
{
    static char paths[64][300];
    char *path = paths[tmp_serial++ % 64];
    snprintf(path, 300, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    UNIT_REQUIRE(f != NULL, "setup: temporary file", "cannot create %s", path);
    UNIT_REQUIRE(size == 0 || fwrite(data, 1, size, f) == size, "setup: temporary file",
                 "cannot write %s", path);
    fclose(f);
    return path;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* An address space with RAM where map says RAM (the low range widened to 640 KiB, since the
 * address space wants whole pages). */
static struct coremu_as *make_as(const struct x86_e820_range *map, unsigned n)
{
    struct coremu_as *as = coremu_as_new();
    UNIT_REQUIRE(as != NULL, "setup: address space", "coremu_as_new failed");
    for (unsigned i = 0; i < n; i++) {
        if (map[i].type != X86_E820_RAM) {
            continue;
        }
        uint64_t size = map[i].base == 0 ? 0xa0000 : map[i].size;
        UNIT_REQUIRE(coremu_as_add_ram(as, "ram", map[i].base, size) != NULL,
                     "setup: address space", "cannot add RAM at 0x%llx",
                     (unsigned long long)map[i].base);
    }
    return as;
}

static bool guest_read(struct coremu_as *as, uint64_t addr, void *buf, size_t len)
{
    return coremu_as_copy_from(as, addr, buf, len) == COREMU_MEM_OK;
}

static uint64_t guest64(struct coremu_as *as, uint64_t addr)
{
    uint8_t b[8] = {0};
    guest_read(as, addr, b, 8);
    return rd64(b);
}

static bool guest_equals(struct coremu_as *as, uint64_t addr, const uint8_t *data, size_t len)
{
    uint8_t *buf = malloc(len);
    bool ok = buf != NULL && guest_read(as, addr, buf, len) && memcmp(buf, data, len) == 0;
    free(buf);
    return ok;
}

static bool one_line(const char *err)
{
    return err[0] != '\0' && strchr(err, '\n') == NULL;
}

/* ---- Page tables and GDT, decoded the way the CPU will ------------------------------------ */

/* Translates va through the 4-level tables at cr3; false when a level is not present or an
 * entry has reserved bits (bit 63, NX, without EFER.NXE) set. *writable: every level has RW. */
static bool walk(struct coremu_as *as, uint64_t cr3, uint64_t va, uint64_t *pa, bool *writable)
{
    const uint64_t addr_mask = 0x000ffffffffff000ull;
    uint64_t table = cr3 & addr_mask;
    bool rw = true;
    for (int level = 4; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t e = guest64(as, table + ((va >> shift) & 511) * 8);
        if ((e & 1) == 0 || (e >> 63) != 0) {
            return false;
        }
        rw = rw && (e & 2) != 0;
        bool large = (level == 3 || level == 2) && (e & 0x80) != 0;
        if (large || level == 1) {
            uint64_t page_mask = (1ull << shift) - 1;
            *pa = (e & addr_mask & ~page_mask) | (va & page_mask);
            *writable = rw;
            return true;
        }
        table = e & addr_mask;
    }
    return false;
}

struct segment {
    uint32_t base, limit; /* limit in bytes - 1, granularity applied */
    unsigned type, s, dpl, p, l, d;
};

static struct segment decode_descriptor(uint64_t d)
{
    struct segment s;
    s.base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24);
    uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
    s.limit = (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
    s.type = (unsigned)(d >> 40) & 0xf;
    s.s = (unsigned)(d >> 44) & 1;
    s.dpl = (unsigned)(d >> 45) & 3;
    s.p = (unsigned)(d >> 47) & 1;
    s.l = (unsigned)(d >> 53) & 1;
    s.d = (unsigned)(d >> 54) & 1;
    return s;
}

/* The GDT in guest RAM against the state's segment fields. */
static void check_gdt(const char *tag, struct coremu_as *as, const struct x86_boot_state *st)
{
    char name[160];
    uint64_t cs = guest64(as, st->gdtr_base + (st->cs & ~7u));
    uint64_t ds = guest64(as, st->gdtr_base + (st->ds & ~7u));
    snprintf(name, sizeof(name), "%s: GDT holds the state's descriptors", tag);
    UNIT_CHECK(cs == st->cs_descriptor && ds == st->data_descriptor && st->gdtr_limit >= 0x1f, name,
               "GDT cs 0x%016llx ds 0x%016llx, state 0x%016llx 0x%016llx, limit 0x%x",
               (unsigned long long)cs, (unsigned long long)ds,
               (unsigned long long)st->cs_descriptor, (unsigned long long)st->data_descriptor,
               st->gdtr_limit);
    struct segment c = decode_descriptor(cs), d = decode_descriptor(ds);
    bool code_ok = c.base == 0 && c.limit == 0xffffffffu && c.s == 1 && c.p == 1 && c.dpl == 0 &&
                   (c.type & 0xa) == 0xa; /* code, readable */
    bool mode_ok = st->cs_long ? (c.l == 1 && c.d == 0) : (c.l == 0 && c.d == 1);
    snprintf(name, sizeof(name), "%s: CS is flat %s execute/read code", tag,
             st->cs_long ? "64-bit" : "32-bit");
    UNIT_CHECK(code_ok && mode_ok && st->cs == X86_BOOT_CS, name,
               "cs 0x%x: base 0x%x limit 0x%x type 0x%x s %u p %u dpl %u l %u d %u", st->cs, c.base,
               c.limit, c.type, c.s, c.p, c.dpl, c.l, c.d);
    bool data_ok = d.base == 0 && d.limit == 0xffffffffu && d.s == 1 && d.p == 1 && d.dpl == 0 &&
                   (d.type & 0xa) == 0x2; /* data, writable */
    bool sels = st->ds == X86_BOOT_DS && st->es == X86_BOOT_DS && st->ss == X86_BOOT_DS &&
                st->fs == X86_BOOT_DS && st->gs == X86_BOOT_DS;
    snprintf(name, sizeof(name), "%s: DS/ES/SS/FS/GS are flat read/write data", tag);
    UNIT_CHECK(data_ok && sels, name, "ds 0x%x: base 0x%x limit 0x%x type 0x%x p %u", st->ds,
               d.base, d.limit, d.type, d.p);
}

/* Walks the tables for every 2 MiB page of [0, identity_map_end) (both ends of each), and
 * checks that the state maps what boot.rst wants and nothing past the claimed end. */
static void check_paging(const char *tag, struct coremu_as *as, const struct x86_boot_info *bi,
                         const struct x86_boot_config *cfg)
{
    char name[160];
    const struct x86_boot_state *st = &bi->state;
    snprintf(name, sizeof(name), "%s: long mode control registers", tag);
    UNIT_CHECK((st->cr0 & (X86_CR0_PE | X86_CR0_PG)) == (X86_CR0_PE | X86_CR0_PG) &&
                   (st->cr4 & X86_CR4_PAE) && (st->efer & X86_EFER_LME) &&
                   (st->efer & X86_EFER_LMA) && st->cs_long && st->rflags == 2,
               name, "cr0 0x%llx cr4 0x%llx efer 0x%llx rflags 0x%llx", (unsigned long long)st->cr0,
               (unsigned long long)st->cr4, (unsigned long long)st->efer,
               (unsigned long long)st->rflags);

    uint64_t bad = UINT64_MAX;
    for (uint64_t va = 0; va < bi->identity_map_end && bad == UINT64_MAX; va += 2 * MIB) {
        uint64_t probes[2] = {va, va + 2 * MIB - 1};
        for (unsigned i = 0; i < 2; i++) {
            uint64_t pa;
            bool rw;
            if (!walk(as, st->cr3, probes[i], &pa, &rw) || pa != probes[i] || !rw) {
                bad = probes[i];
            }
        }
    }
    snprintf(name, sizeof(name), "%s: page tables identity-map [0, 0x%llx) writable", tag,
             (unsigned long long)bi->identity_map_end);
    UNIT_CHECK(bad == UINT64_MAX, name, "0x%llx is not identity-mapped", (unsigned long long)bad);

    uint64_t top = 0;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        if (cfg->mem_map[i].type == X86_E820_RAM) {
            top = cfg->mem_map[i].base + cfg->mem_map[i].size;
        }
    }
    snprintf(name, sizeof(name), "%s: the map covers all RAM and at least 4 GiB", tag);
    UNIT_CHECK(bi->identity_map_end >= top && bi->identity_map_end >= 4 * GIB, name,
               "maps to 0x%llx, RAM ends at 0x%llx", (unsigned long long)bi->identity_map_end,
               (unsigned long long)top);
    uint64_t pa;
    bool rw;
    snprintf(name, sizeof(name), "%s: nothing mapped past the claimed end", tag);
    UNIT_CHECK(!walk(as, st->cr3, bi->identity_map_end, &pa, &rw), name, "0x%llx maps to 0x%llx",
               (unsigned long long)bi->identity_map_end, (unsigned long long)pa);
    /* boot.rst: the kernel's init_size range, the zero page and the command line. */
    uint64_t must[] = {bi->kernel.addr,  bi->kernel_reserved_end - 1,
                       st->rsi,          st->rsi + 0xfff,
                       bi->cmdline_addr, st->gdtr_base,
                       st->rip};
    bool all = true;
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(must); i++) {
        all = all && walk(as, st->cr3, must[i], &pa, &rw) && pa == must[i];
    }
    snprintf(name, sizeof(name), "%s: kernel, zero page, command line, GDT, entry are mapped", tag);
    UNIT_CHECK(all, name, "one of them is not identity-mapped");
    bool tables_in_data = st->cr3 >= bi->data.addr && st->cr3 < bi->data.addr + bi->data.size &&
                          bi->data.addr + bi->data.size <= X86_BOOT_PGTABLE_END &&
                          bi->data.addr >= 0x1000;
    snprintf(name, sizeof(name), "%s: boot data in low memory, clear of page 0 and the EBDA", tag);
    UNIT_CHECK(tables_in_data, name, "data 0x%llx+0x%llx, cr3 0x%llx",
               (unsigned long long)bi->data.addr, (unsigned long long)bi->data.size,
               (unsigned long long)st->cr3);
}

/* ---- Linux ------------------------------------------------------------------------------- */

#define BZ_SETUP_SECTS 4u
#define BZ_PM_SIZE     0x3000u

/* A bzImage with a 4-sector setup, the given protocol version and xloadflags, pref_address
 * 16 MiB, init_size 4 MiB, a patterned protected-mode part of pm_size bytes (syssize says
 * BZ_PM_SIZE). */
static uint8_t *make_bzimage(unsigned version, unsigned xloadflags, size_t pm_size, size_t *size)
{
    size_t setup = (BZ_SETUP_SECTS + 1) * 512;
    *size = setup + pm_size;
    uint8_t *k = calloc(1, *size);
    UNIT_REQUIRE(k != NULL, "setup: bzImage", "out of memory");
    k[0x1f1] = BZ_SETUP_SECTS;
    wr32(k + 0x1f4, BZ_PM_SIZE / 16);
    wr16(k + 0x1fe, 0xaa55);
    k[0x200] = 0xeb;
    k[0x201] = 0x6a; /* the header ends at 0x26c */
    memcpy(k + 0x202, "HdrS", 4);
    wr16(k + 0x206, (uint16_t)version);
    k[0x211] = 0x01;             /* LOADED_HIGH */
    wr32(k + 0x22c, 0x7fffffff); /* initrd_addr_max */
    wr32(k + 0x230, 0x200000);   /* kernel_alignment */
    k[0x234] = 1;                /* relocatable */
    k[0x235] = 21;               /* min_alignment */
    wr16(k + 0x236, (uint16_t)xloadflags);
    wr32(k + 0x238, 2047);     /* cmdline_size */
    wr64(k + 0x258, 16 * MIB); /* pref_address */
    wr32(k + 0x260, 4 * MIB);  /* init_size */
    for (size_t i = 0; i < pm_size; i++) {
        k[setup + i] = (uint8_t)(i * 7 + 3);
    }
    return k;
}

/* Everything about a loaded bzImage that follows from the file, the config and the map. */
static void check_linux(const char *tag, struct coremu_as *as, const uint8_t *k, size_t ksize,
                        const struct x86_boot_config *cfg, const uint8_t *initrd,
                        size_t initrd_size, const struct x86_boot_info *bi)
{
    char name[200];
    unsigned sects = k[0x1f1] ? k[0x1f1] : 4;
    size_t setup = (sects + 1) * 512;
    uint64_t pref = rd64(k + 0x258);
    const struct x86_boot_state *st = &bi->state;

    snprintf(name, sizeof(name), "%s: Linux, loaded at pref_address 0x%llx", tag,
             (unsigned long long)pref);
    UNIT_CHECK(bi->kind == X86_BOOT_LINUX && bi->kernel.addr == pref &&
                   bi->kernel.size == ksize - setup &&
                   guest_equals(as, pref, k + setup, ksize - setup),
               name, "kind %d at 0x%llx size 0x%llx (or the bytes differ)", bi->kind,
               (unsigned long long)bi->kernel.addr, (unsigned long long)bi->kernel.size);
    snprintf(name, sizeof(name), "%s: RIP = load + 0x200, RSI = the zero page", tag);
    UNIT_CHECK(st->rip == pref + 0x200 && st->rsi == X86_BOOT_PARAMS_ADDR &&
                   bi->params_addr == st->rsi && st->rax == 0 && st->rbx == 0 && st->rdi == 0,
               name, "rip 0x%llx rsi 0x%llx", (unsigned long long)st->rip,
               (unsigned long long)st->rsi);
    snprintf(name, sizeof(name), "%s: init_size reserved from the load address", tag);
    UNIT_CHECK(bi->kernel_reserved_end == pref + rd32(k + 0x260), name, "end 0x%llx",
               (unsigned long long)bi->kernel_reserved_end);

    uint8_t zp[4096];
    UNIT_REQUIRE(guest_read(as, st->rsi, zp, sizeof(zp)), name, "cannot read the zero page");
    size_t hdr_end = 0x202u + k[0x201];
    /* The fields we write, by offset and size, masked out of the header comparison. */
    static const unsigned written[][2] = {
        {0x210, 1}, {0x214, 4}, {0x218, 4}, {0x21c, 4}, {0x228, 4}};
    uint8_t expect[0x100];
    memcpy(expect, k + 0x1f1, hdr_end - 0x1f1);
    uint8_t got[0x100];
    memcpy(got, zp + 0x1f1, hdr_end - 0x1f1);
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(written); i++) {
        memset(expect + written[i][0] - 0x1f1, 0, written[i][1]);
        memset(got + written[i][0] - 0x1f1, 0, written[i][1]);
    }
    bool zeros_before = true;
    for (unsigned i = 0; i < 0x1f1; i++) {
        if ((i < 0x70 || i >= 0x78) && i != 0x1e8 && zp[i] != 0) {
            zeros_before = false;
        }
    }
    snprintf(name, sizeof(name), "%s: zero page carries the file's setup header", tag);
    UNIT_CHECK(memcmp(expect, got, hdr_end - 0x1f1) == 0 && zeros_before &&
                   memcmp(zp + 0x202, "HdrS", 4) == 0,
               name, "the header differs from the file's, or stray bytes before it");
    snprintf(name, sizeof(name), "%s: type_of_loader 0xff, code32_start = load address", tag);
    UNIT_CHECK(zp[0x210] == 0xff && rd32(zp + 0x214) == pref, name,
               "type_of_loader 0x%x code32_start 0x%x", zp[0x210], rd32(zp + 0x214));
    snprintf(name, sizeof(name), "%s: acpi_rsdp_addr", tag);
    UNIT_CHECK(rd64(zp + 0x70) == cfg->acpi_rsdp_addr, name, "0x%llx, expected 0x%llx",
               (unsigned long long)rd64(zp + 0x70), (unsigned long long)cfg->acpi_rsdp_addr);

    bool e820_ok = zp[0x1e8] == cfg->mem_map_len;
    for (unsigned i = 0; e820_ok && i < cfg->mem_map_len; i++) {
        const uint8_t *e = zp + 0x2d0 + 20 * i;
        e820_ok = rd64(e) == cfg->mem_map[i].base && rd64(e + 8) == cfg->mem_map[i].size &&
                  rd32(e + 16) == cfg->mem_map[i].type;
    }
    snprintf(name, sizeof(name), "%s: e820 table is the board's map", tag);
    UNIT_CHECK(e820_ok, name, "%u entries, or an entry differs", zp[0x1e8]);

    const char *append = cfg->append ? cfg->append : "";
    char cmd[4096] = {0};
    uint32_t cmd_ptr = rd32(zp + 0x228);
    guest_read(as, cmd_ptr, cmd, strlen(append) + 1);
    snprintf(name, sizeof(name), "%s: cmd_line_ptr points to -append", tag);
    UNIT_CHECK(cmd_ptr == bi->cmdline_addr && cmd_ptr != 0 && cmd_ptr < 0xa0000 &&
                   strcmp(cmd, append) == 0 && strlen(append) <= rd32(k + 0x238),
               name, "at 0x%x: \"%s\"", cmd_ptr, cmd);

    uint32_t rd_image = rd32(zp + 0x218), rd_size = rd32(zp + 0x21c);
    snprintf(name, sizeof(name), "%s: ramdisk_image/size", tag);
    if (initrd == NULL) {
        UNIT_CHECK(rd_image == 0 && rd_size == 0 && bi->initrd.size == 0, name,
                   "0x%x+0x%x without -initrd", rd_image, rd_size);
    } else {
        /* The highest page-aligned place below initrd_addr_max + 1 and the top of the RAM
         * range it is in, clear of the kernel's init_size range. */
        uint64_t limit = (uint64_t)rd32(k + 0x22c) + 1;
        uint64_t expect_addr = 0;
        for (unsigned i = 0; i < cfg->mem_map_len; i++) {
            const struct x86_e820_range *r = &cfg->mem_map[i];
            uint64_t end = r->base + r->size < limit ? r->base + r->size : limit;
            if (r->type != X86_E820_RAM || end < r->base + initrd_size) {
                continue;
            }
            uint64_t a = (end - initrd_size) & ~0xfffull;
            if (a >= r->base && a >= bi->kernel_reserved_end && a > expect_addr) {
                expect_addr = a;
            }
        }
        UNIT_CHECK(rd_image == expect_addr && rd_size == initrd_size &&
                       bi->initrd.addr == rd_image && bi->initrd.size == rd_size &&
                       (uint64_t)rd_image + rd_size - 1 <= rd32(k + 0x22c) &&
                       guest_equals(as, rd_image, initrd, initrd_size),
                   name, "0x%x+0x%x, expected 0x%llx+0x%zx (or the bytes differ)", rd_image,
                   rd_size, (unsigned long long)expect_addr, initrd_size);
    }
    check_paging(tag, as, bi, cfg);
    check_gdt(tag, as, st);
}

static int load(struct coremu_as *as, const char *kernel, const char *initrd, const char *append,
                const struct x86_e820_range *map, unsigned n, uint64_t rsdp,
                struct x86_boot_config *cfg, struct x86_boot_info *bi, char *err, size_t errlen)
{
    *cfg = (struct x86_boot_config){kernel, initrd, append, map, n, rsdp};
    err[0] = '\0';
    return x86_boot_load(as, cfg, bi, err, errlen);
}

static void test_linux_synthetic(void)
{
    size_t ksize;
    uint8_t *k = make_bzimage(0x020f, 0x1, BZ_PM_SIZE, &ksize);
    const char *kpath = tmp_file("bzImage", k, ksize);
    uint8_t rd[10000];
    for (size_t i = 0; i < sizeof(rd); i++) {
        rd[i] = (uint8_t)(i ^ 0x5a);
    }
    const char *rdpath = tmp_file("initrd", rd, sizeof(rd));
    struct coremu_as *as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, kpath, rdpath, "console=ttyS0 root=/dev/ram0", pc_map,
                 COREMU_ARRAY_SIZE(pc_map), 0xf5a40, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0, "bzImage (made here): loads", "%s", err);
    if (r == 0) {
        check_linux("bzImage (made here)", as, k, ksize, &cfg, rd, sizeof(rd), &bi);
        UNIT_CHECK(bi.initrd.addr == 0x80000000ull - 0x3000,
                   "bzImage (made here): initrd "
                   "ends at initrd_addr_max + 1 (2 GiB)",
                   "at 0x%llx", (unsigned long long)bi.initrd.addr);
        UNIT_CHECK(bi.identity_map_end == 5 * GIB,
                   "bzImage (made here): 5 GiB of RAM map "
                   "5 GiB",
                   "maps 0x%llx", (unsigned long long)bi.identity_map_end);
    }
    coremu_as_free(as);

    /* Little RAM: the initrd goes to the top of RAM, above the kernel's init_size range; no
     * -append gives an empty command line. */
    static const struct x86_e820_range small[] = {{0, 0x9fc00, X86_E820_RAM},
                                                  {MIB, 31 * MIB, X86_E820_RAM}};
    as = make_as(small, 2);
    r = load(as, kpath, rdpath, NULL, small, 2, 0, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0, "bzImage, 32 MiB: loads", "%s", err);
    if (r == 0) {
        check_linux("bzImage, 32 MiB", as, k, ksize, &cfg, rd, sizeof(rd), &bi);
        UNIT_CHECK(bi.initrd.addr == 32 * MIB - 0x3000,
                   "bzImage, 32 MiB: initrd at the top "
                   "of RAM",
                   "at 0x%llx", (unsigned long long)bi.initrd.addr);
    }
    coremu_as_free(as);

    /* The initrd does not fit above the kernel's range: it goes below it. */
    static const struct x86_e820_range tight[] = {{0, 0x9fc00, X86_E820_RAM},
                                                  {MIB, 20 * MIB, X86_E820_RAM}};
    uint8_t *big = calloc(1, 2 * MIB);
    UNIT_REQUIRE(big != NULL, "setup: initrd", "out of memory");
    big[0] = 0x42;
    const char *bigpath = tmp_file("initrd-2m", big, 2 * MIB);
    as = make_as(tight, 2);
    r = load(as, kpath, bigpath, NULL, tight, 2, 0, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0 && bi.initrd.addr + bi.initrd.size <= 16 * MIB &&
                   bi.initrd.addr >= X86_BOOT_PGTABLE_END &&
                   guest_equals(as, bi.initrd.addr, big, 2 * MIB),
               "bzImage, 21 MiB: a 2 MiB initrd goes below the kernel", "r %d at 0x%llx: %s", r,
               (unsigned long long)bi.initrd.addr, err);
    coremu_as_free(as);
    free(big);
    free(k);
}

static void test_linux_real(const char *vmlinuz, const char *initrd_path)
{
    size_t ksize = 0;
    uint8_t *k = read_file(vmlinuz, &ksize);
    if (k == NULL || ksize < 0x270 || memcmp(k + 0x202, "HdrS", 4) != 0) {
        printf("UNSUPPORTED: Debian vmlinuz: %s %s (run scripts/prepare-guest-x86_64.sh)\n",
               vmlinuz, k == NULL ? "is not there" : "is not an x86 bzImage");
        free(k);
        return;
    }
    size_t rdsize = 0;
    uint8_t *rd = initrd_path != NULL ? read_file(initrd_path, &rdsize) : NULL;
    if (rd == NULL) {
        rdsize = 123457;
        rd = malloc(rdsize);
        UNIT_REQUIRE(rd != NULL, "setup: initrd", "out of memory");
        for (size_t i = 0; i < rdsize; i++) {
            rd[i] = (uint8_t)(i * 13);
        }
        initrd_path = tmp_file("initrd-real", rd, rdsize);
    }
    printf("kernel: %s (protocol %u.%02u, pref_address 0x%llx, init_size 0x%x), initrd: %s\n",
           vmlinuz, k[0x207], k[0x206], (unsigned long long)rd64(k + 0x258), rd32(k + 0x260),
           initrd_path);

    struct coremu_as *as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, vmlinuz, initrd_path, "console=ttyS0 earlyprintk=ttyS0 panic=-1", pc_map,
                 COREMU_ARRAY_SIZE(pc_map), 0, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0, "Debian vmlinuz: loads", "%s", err);
    if (r == 0) {
        check_linux("Debian vmlinuz", as, k, ksize, &cfg, rd, rdsize, &bi);
        UNIT_CHECK((rd16(k + 0x236) & 1) && rd16(k + 0x206) >= 0x020c,
                   "Debian vmlinuz: protocol 2.12+ with XLF_KERNEL_64", "version 0x%x xlf 0x%x",
                   rd16(k + 0x206), rd16(k + 0x236));
    }
    coremu_as_free(as);

    /* 64 MiB is less than pref_address + init_size. */
    static const struct x86_e820_range small[] = {{0, 0x9fc00, X86_E820_RAM},
                                                  {MIB, 63 * MIB, X86_E820_RAM}};
    as = make_as(small, 2);
    r = load(as, vmlinuz, NULL, NULL, small, 2, 0, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r != 0 && one_line(err) && strstr(err, "give more with -m") != NULL &&
                   strstr(err, vmlinuz) != NULL,
               "Debian vmlinuz, 64 MiB: refused, asking for more RAM", "r %d: %s", r, err);
    printf("  (64 MiB: %s)\n", err);
    coremu_as_free(as);

    /* Truncated: the last 4 KiB missing. */
    const char *cut = tmp_file("vmlinuz-cut", k, ksize - 4096);
    as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    r = load(as, cut, NULL, NULL, pc_map, COREMU_ARRAY_SIZE(pc_map), 0, &cfg, &bi, err,
             sizeof(err));
    UNIT_CHECK(r != 0 && one_line(err) && strstr(err, "truncated") != NULL,
               "Debian vmlinuz, truncated: refused", "r %d: %s", r, err);
    coremu_as_free(as);
    free(rd);
    free(k);
}

/* ---- Multiboot --------------------------------------------------------------------------- */

#define MB_TEXT        0x100000u
#define MB_ENTRY       0x100020u
#define MB_DATA        0x200000u
#define MB_DATA_FILESZ 0x10u
#define MB_DATA_MEMSZ  0x2000u

static void mb_header(uint8_t *p, uint32_t flags)
{
    wr32(p, 0x1badb002u);
    wr32(p + 4, flags);
    wr32(p + 8, (uint32_t) - (0x1badb002u + flags));
}

/* What else a made-up multiboot ELF has, at 0xff000 in the PC's BIOS area. */
enum extra_segment {
    EXTRA_NONE,
    EXTRA_HEADERS, /* a segment of only the ELF and program headers, as GNU ld makes */
    EXTRA_DATA,    /* a segment of data */
};

/* An ELF executable (32 or 64-bit): a text segment at 1 MiB (its first bytes the multiboot
 * header, unless flags is UINT32_MAX), a data segment at 2 MiB whose memory size exceeds its
 * file size (a bss), and perhaps the extra segment. */
static uint8_t *make_multiboot_elf(uint32_t flags, unsigned elf_class, enum extra_segment extra,
                                   size_t *size)
{
    bool is64 = elf_class == 64;
    const size_t text_off = 0x100, data_off = 0x200;
    *size = 0x210;
    uint8_t *e = calloc(1, *size);
    UNIT_REQUIRE(e != NULL, "setup: ELF", "out of memory");
    memcpy(e, "\177ELF", 4);
    e[4] = is64 ? 2 : 1; /* class */
    e[5] = 1;            /* little-endian */
    e[6] = 1;            /* version */
    wr16(e + 16, 2);     /* ET_EXEC */
    wr16(e + 18, is64 ? 62 : 3);
    wr32(e + 20, 1);
    unsigned phentsize = is64 ? 56 : 32, phoff = is64 ? 64 : 52;
    uint16_t phnum = extra != EXTRA_NONE ? 3 : 2;
    if (is64) {
        wr64(e + 24, MB_ENTRY);
        wr64(e + 32, phoff);
        wr16(e + 52, 64);
        wr16(e + 54, (uint16_t)phentsize);
        wr16(e + 56, phnum);
    } else {
        wr32(e + 24, MB_ENTRY);
        wr32(e + 28, phoff);
        wr16(e + 40, 52);
        wr16(e + 42, (uint16_t)phentsize);
        wr16(e + 44, phnum);
    }
    uint64_t headers = phoff + (uint64_t)phnum * phentsize;
    const uint64_t seg[3][4] = {{text_off, MB_TEXT, 0x100, 0x100},
                                {data_off, MB_DATA, MB_DATA_FILESZ, MB_DATA_MEMSZ},
                                {extra == EXTRA_HEADERS ? 0 : data_off, 0xff000,
                                 extra == EXTRA_HEADERS ? headers : MB_DATA_FILESZ,
                                 extra == EXTRA_HEADERS ? headers : MB_DATA_FILESZ}};
    for (unsigned i = 0; i < phnum; i++) {
        uint8_t *ph = e + phoff + i * phentsize;
        wr32(ph, 1); /* PT_LOAD */
        if (is64) {
            wr32(ph + 4, 7);
            wr64(ph + 8, seg[i][0]);
            wr64(ph + 16, seg[i][1]);
            wr64(ph + 24, seg[i][1]);
            wr64(ph + 32, seg[i][2]);
            wr64(ph + 40, seg[i][3]);
        } else {
            wr32(ph + 4, (uint32_t)seg[i][0]);
            wr32(ph + 8, (uint32_t)seg[i][1]);
            wr32(ph + 12, (uint32_t)seg[i][1]);
            wr32(ph + 16, (uint32_t)seg[i][2]);
            wr32(ph + 20, (uint32_t)seg[i][3]);
            wr32(ph + 24, 7);
        }
    }
    if (flags != UINT32_MAX) {
        mb_header(e + text_off, flags);
    }
    for (size_t i = text_off + 12; i < text_off + 0x100; i++) {
        e[i] = (uint8_t)(0x90 + i);
    }
    for (size_t i = 0; i < MB_DATA_FILESZ; i++) {
        e[data_off + i] = (uint8_t)(0xd0 + i);
    }
    return e;
}

static void check_multiboot_info(const char *tag, struct coremu_as *as,
                                 const struct x86_boot_info *bi, const struct x86_boot_config *cfg,
                                 const char *expect_cmdline, const uint8_t *mod, size_t mod_size,
                                 uint64_t kernel_end)
{
    char name[200];
    const struct x86_boot_state *st = &bi->state;
    snprintf(name, sizeof(name), "%s: EAX = 0x2BADB002, EBX = the information", tag);
    UNIT_CHECK(
        st->rax == 0x2badb002u && st->rbx == bi->params_addr && st->rbx != 0 && st->rbx < 0xa0000,
        name, "eax 0x%llx ebx 0x%llx", (unsigned long long)st->rax, (unsigned long long)st->rbx);
    snprintf(name, sizeof(name), "%s: protected mode, paging off, interrupts off", tag);
    UNIT_CHECK((st->cr0 & X86_CR0_PE) && !(st->cr0 & X86_CR0_PG) && st->efer == 0 && st->cr4 == 0 &&
                   !st->cs_long && st->rflags == 2,
               name, "cr0 0x%llx efer 0x%llx rflags 0x%llx", (unsigned long long)st->cr0,
               (unsigned long long)st->efer, (unsigned long long)st->rflags);
    check_gdt(tag, as, st);

    uint8_t info[88];
    UNIT_REQUIRE(guest_read(as, st->rbx, info, sizeof(info)), name, "cannot read the info");
    uint32_t flags = rd32(info);
    uint32_t want = 1u | 4u | 0x40u | 0x200u | (mod != NULL ? 8u : 0u);
    snprintf(name, sizeof(name), "%s: info flags: memory, cmdline, mmap, name%s", tag,
             mod != NULL ? ", mods" : "");
    UNIT_CHECK(flags == want, name, "flags 0x%x, expected 0x%x", flags, want);
    snprintf(name, sizeof(name), "%s: mem_lower 639 KiB, mem_upper = RAM from 1 MiB", tag);
    uint64_t upper_kib = 0;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        if (cfg->mem_map[i].base == MIB) {
            upper_kib = cfg->mem_map[i].size / 1024;
        }
    }
    UNIT_CHECK(rd32(info + 4) == 639 && rd32(info + 8) == upper_kib, name,
               "mem_lower %u mem_upper %u (expected %llu)", rd32(info + 4), rd32(info + 8),
               (unsigned long long)upper_kib);

    char cmd[512] = {0};
    guest_read(as, rd32(info + 16), cmd, sizeof(cmd) - 1);
    snprintf(name, sizeof(name), "%s: cmdline is the kernel's name and -append", tag);
    UNIT_CHECK(strcmp(cmd, expect_cmdline) == 0, name, "\"%s\", expected \"%s\"", cmd,
               expect_cmdline);

    char loader[32] = {0};
    guest_read(as, rd32(info + 64), loader, sizeof(loader) - 1);
    snprintf(name, sizeof(name), "%s: boot_loader_name", tag);
    UNIT_CHECK(strcmp(loader, "coremu") == 0, name, "\"%s\"", loader);

    uint32_t mlen = rd32(info + 44), maddr = rd32(info + 48);
    bool mmap_ok = mlen == cfg->mem_map_len * 24u;
    for (unsigned i = 0; mmap_ok && i < cfg->mem_map_len; i++) {
        uint8_t e[24];
        mmap_ok = guest_read(as, maddr + 24 * i, e, 24) && rd32(e) == 20 &&
                  rd64(e + 4) == cfg->mem_map[i].base && rd64(e + 12) == cfg->mem_map[i].size &&
                  rd32(e + 20) == cfg->mem_map[i].type;
    }
    snprintf(name, sizeof(name), "%s: memory map is the board's map", tag);
    UNIT_CHECK(mmap_ok, name, "mmap_length %u at 0x%x", mlen, maddr);

    if (mod != NULL) {
        uint8_t m[16];
        guest_read(as, rd32(info + 24), m, 16);
        uint32_t start = rd32(m), end = rd32(m + 4);
        char mstr[300] = {0};
        guest_read(as, rd32(m + 8), mstr, sizeof(mstr) - 1);
        snprintf(name, sizeof(name), "%s: module 0 is -initrd, page-aligned above the kernel", tag);
        UNIT_CHECK(rd32(info + 20) == 1 && start % 4096 == 0 && start >= kernel_end &&
                       start - kernel_end < 4096 && end == start + mod_size &&
                       guest_equals(as, start, mod, mod_size) && strcmp(mstr, cfg->initrd) == 0,
                   name, "count %u: 0x%x-0x%x \"%s\"", rd32(info + 20), start, end, mstr);
    }
}

static void test_multiboot_elf(void)
{
    size_t size;
    uint8_t *e = make_multiboot_elf(0x3, 32, EXTRA_HEADERS, &size);
    const char *path = tmp_file("mb.elf", e, size);
    uint8_t mod[5000];
    for (size_t i = 0; i < sizeof(mod); i++) {
        mod[i] = (uint8_t)(i * 3 + 1);
    }
    const char *modpath = tmp_file("mb-module", mod, sizeof(mod));
    struct coremu_as *as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    /* Stale bytes where the bss goes: the loader must clear them. */
    uint8_t junk[MB_DATA_MEMSZ];
    memset(junk, 0xaa, sizeof(junk));
    coremu_as_copy_to(as, MB_DATA, junk, sizeof(junk));

    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, path, modpath, "test=1 verbose", pc_map, COREMU_ARRAY_SIZE(pc_map), 0, &cfg,
                 &bi, err, sizeof(err));
    UNIT_CHECK(r == 0,
               "multiboot ELF32: loads (its headers-only segment in the BIOS area left out)", "%s",
               err);
    if (r == 0) {
        uint8_t data[MB_DATA_MEMSZ] = {0};
        memcpy(data, e + 0x200, MB_DATA_FILESZ);
        UNIT_CHECK(bi.kind == X86_BOOT_MULTIBOOT && guest_equals(as, MB_TEXT, e + 0x100, 0x100) &&
                       guest_equals(as, MB_DATA, data, sizeof(data)),
                   "multiboot ELF32: segments at their addresses, bss cleared",
                   "kind %d, or the bytes differ", bi.kind);
        UNIT_CHECK(bi.state.rip == MB_ENTRY && bi.kernel.addr == MB_TEXT &&
                       bi.kernel.size == MB_DATA + MB_DATA_MEMSZ - MB_TEXT,
                   "multiboot ELF32: entry and extent", "rip 0x%llx kernel 0x%llx+0x%llx",
                   (unsigned long long)bi.state.rip, (unsigned long long)bi.kernel.addr,
                   (unsigned long long)bi.kernel.size);
        char expect[600];
        snprintf(expect, sizeof(expect), "%s test=1 verbose", path);
        check_multiboot_info("multiboot ELF32", as, &bi, &cfg, expect, mod, sizeof(mod),
                             MB_DATA + MB_DATA_MEMSZ);
    }
    coremu_as_free(as);
    free(e);

    /* A 64-bit ELF with a multiboot header loads too (its code starts in 32-bit mode). */
    e = make_multiboot_elf(0x0, 64, EXTRA_NONE, &size);
    path = tmp_file("mb64.elf", e, size);
    as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    r = load(as, path, NULL, NULL, pc_map, COREMU_ARRAY_SIZE(pc_map), 0, &cfg, &bi, err,
             sizeof(err));
    UNIT_CHECK(r == 0 && bi.state.rip == MB_ENTRY && guest_equals(as, MB_TEXT, e + 0x100, 0x100),
               "multiboot ELF64 (header present): loads", "r %d: %s", r, err);
    if (r == 0) {
        check_multiboot_info("multiboot ELF64", as, &bi, &cfg, path, NULL, 0, 0);
    }
    coremu_as_free(as);
    free(e);
}

static void test_multiboot_aout(void)
{
    /* A raw image whose header (at file offset 0x40) says: load the file from offset 0 at
     * 0x300000 up to 0x300200 (the file is longer), zero up to 0x301000, enter at 0x300080. */
    uint8_t img[0x400];
    for (size_t i = 0; i < sizeof(img); i++) {
        img[i] = (uint8_t)(i * 5);
    }
    mb_header(img + 0x40, 0x10000u);
    wr32(img + 0x4c, 0x300040);
    wr32(img + 0x50, 0x300000);
    wr32(img + 0x54, 0x300200);
    wr32(img + 0x58, 0x301000);
    wr32(img + 0x5c, 0x300080);
    const char *path = tmp_file("mb.bin", img, sizeof(img));
    struct coremu_as *as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    uint8_t junk[0x1000];
    memset(junk, 0xcc, sizeof(junk));
    coremu_as_copy_to(as, 0x300000, junk, sizeof(junk));
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, path, NULL, "x", pc_map, COREMU_ARRAY_SIZE(pc_map), 0, &cfg, &bi, err,
                 sizeof(err));
    UNIT_CHECK(r == 0, "multiboot a.out kludge: loads", "%s", err);
    if (r == 0) {
        uint8_t expect[0x1000] = {0};
        memcpy(expect, img, 0x200);
        UNIT_CHECK(guest_equals(as, 0x300000, expect, sizeof(expect)) && bi.state.rip == 0x300080 &&
                       bi.kernel.addr == 0x300000 && bi.kernel.size == 0x1000,
                   "multiboot a.out kludge: load_addr..load_end_addr, bss cleared, entry_addr",
                   "rip 0x%llx kernel 0x%llx+0x%llx (or the bytes differ)",
                   (unsigned long long)bi.state.rip, (unsigned long long)bi.kernel.addr,
                   (unsigned long long)bi.kernel.size);
        char expect_cmd[400];
        snprintf(expect_cmd, sizeof(expect_cmd), "%s x", path);
        check_multiboot_info("multiboot a.out kludge", as, &bi, &cfg, expect_cmd, NULL, 0, 0);
    }
    coremu_as_free(as);
}

/* A bare-metal program as people build them: C with the multiboot header in its own section,
 * linked by the host's gcc -m32 with GNU ld's default script at 1 MiB (which adds a segment
 * of headers at 0xff000). UNSUPPORTED where gcc cannot make 32-bit programs. */
static void test_multiboot_gcc(void)
{
    static const char src[] =
        /* First in .text (ld's default script puts .text.unlikely.* first), so that the
         * header is in the first 8 KiB: ld puts a page of headers before the text. */
        "__asm__(\".pushsection .text.unlikely.multiboot, \\\"ax\\\"\\n\"\n"
        "        \".balign 4\\n\"\n"
        "        \".long 0x1badb002, 3, -(0x1badb002 + 3)\\n\"\n"
        "        \".popsection\");\n"
        "volatile unsigned char scratch[20000];\n"
        "unsigned int initialised = 0x12345678u;\n"
        "void _start(void);\n"
        "void _start(void)\n"
        "{\n"
        "    scratch[0] = (unsigned char)initialised;\n"
        "    for (;;) {\n"
        "        __asm__ volatile(\"hlt\");\n"
        "    }\n"
        "}\n";
    const char *srcpath = tmp_file("mb-gcc.c", src, sizeof(src) - 1);
    char elfpath[300], cmd[1200];
    snprintf(elfpath, sizeof(elfpath), "%s/mb-gcc.elf", tmpdir);
    const char *cc = getenv("CC") != NULL && getenv("CC")[0] != '\0' ? getenv("CC") : "gcc";
    snprintf(cmd, sizeof(cmd),
             "%s -m32 -O2 -ffreestanding -fno-pic -fno-stack-protector "
             "-fno-asynchronous-unwind-tables -nostdlib -static -Wl,-Ttext=0x100000 "
             "-Wl,--build-id=none -o '%s' '%s' > '%s.log' 2>&1",
             cc, elfpath, srcpath, elfpath);
    if (system(cmd) != 0) {
        printf("UNSUPPORTED: multiboot ELF from %s -m32: it cannot link a freestanding 32-bit "
               "program here\n",
               cc);
        return;
    }
    size_t size = 0;
    uint8_t *e = read_file(elfpath, &size);
    UNIT_REQUIRE(e != NULL && size > 52 && e[4] == 1, "multiboot ELF from gcc: built",
                 "cannot read a 32-bit ELF from %s", elfpath);

    struct coremu_as *as = make_as(pc_map, COREMU_ARRAY_SIZE(pc_map));
    uint8_t junk[0x8000];
    memset(junk, 0xbb, sizeof(junk));
    coremu_as_copy_to(as, 0x100000, junk, sizeof(junk));
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, elfpath, NULL, "from gcc", pc_map, COREMU_ARRAY_SIZE(pc_map), 0, &cfg, &bi,
                 err, sizeof(err));
    UNIT_CHECK(r == 0, "multiboot ELF from gcc: loads", "%s", err);
    if (r == 0) {
        /* Every segment in RAM holds its file bytes, then zeros; segments outside RAM are the
         * headers-only kind, and are not loaded. */
        uint32_t phoff = rd32(e + 28);
        unsigned phentsize = rd16(e + 42), phnum = rd16(e + 44);
        unsigned loaded = 0, skipped = 0;
        bool ok = true;
        for (unsigned i = 0; i < phnum && ok; i++) {
            const uint8_t *ph = e + phoff + i * phentsize;
            uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12);
            uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
            if (rd32(ph) != 1 || memsz == 0) {
                continue;
            }
            if (paddr < MIB) {
                ok = off == 0 && filesz == memsz && paddr >= 0xa0000;
                skipped++;
                continue;
            }
            uint8_t *expect = calloc(1, memsz);
            UNIT_REQUIRE(expect != NULL, "setup: gcc ELF", "out of memory");
            memcpy(expect, e + off, filesz);
            ok = guest_equals(as, paddr, expect, memsz) && paddr >= bi.kernel.addr &&
                 paddr + memsz <= bi.kernel.addr + bi.kernel.size;
            free(expect);
            loaded++;
        }
        printf("  (gcc's ELF: %u segments loaded, %u headers-only segment(s) below 1 MiB left "
               "out)\n",
               loaded, skipped);
        UNIT_CHECK(ok && loaded >= 2 && bi.state.rip == rd32(e + 24),
                   "multiboot ELF from gcc: segments, bss and entry",
                   "%u loaded, %u left out, rip 0x%llx, e_entry 0x%x", loaded, skipped,
                   (unsigned long long)bi.state.rip, rd32(e + 24));
        char expect_cmd[400];
        snprintf(expect_cmd, sizeof(expect_cmd), "%s from gcc", elfpath);
        check_multiboot_info("multiboot ELF from gcc", as, &bi, &cfg, expect_cmd, NULL, 0, 0);
    }
    coremu_as_free(as);
    free(e);
}

/* ---- The real kernel on the host's CPU (KVM) ------------------------------------------ */

#ifdef TEST_BOOT_KVM

#define KVM_SERIAL_BASE 0x3f8u
#define KVM_SERIAL_LCR  (KVM_SERIAL_BASE + 3)
#define KVM_SERIAL_LSR  (KVM_SERIAL_BASE + 5)
#define KVM_LCR_DLAB    0x80u /* the data port is the divisor latch's low byte */
#define KVM_LSR_EMPTY   0x60u /* THRE | TEMT: the early console never waits */

static void kvm_alarm(int sig)
{
    (void)sig; /* only there to interrupt KVM_RUN */
}

/* The hidden state of a segment register loaded with sel from descriptor d. */
static struct kvm_segment kvm_segment_of(uint16_t sel, uint64_t d)
{
    struct segment s = decode_descriptor(d);
    struct kvm_segment k;
    memset(&k, 0, sizeof(k));
    k.base = s.base;
    k.limit = s.limit;
    k.selector = sel;
    k.type = (uint8_t)s.type;
    k.present = (uint8_t)s.p;
    k.dpl = (uint8_t)s.dpl;
    k.db = (uint8_t)s.d;
    k.s = (uint8_t)s.s;
    k.l = (uint8_t)s.l;
    k.g = (uint8_t)((d >> 55) & 1);
    return k;
}

/*
 * Runs one vCPU from st over the RAM of as (the RAM ranges of map, page-aligned) with KVM's
 * own PIC, IOAPIC, local APIC and PIT, and nothing else: port writes to COM1's data register
 * are the console (the kernel's early console, polled), LSR reads say "empty", other port
 * reads give all ones, MMIO outside RAM reads zeros. Stops when the console shows stop, or
 * "Kernel panic", or the guest shuts down, or after timeout_s. 1: stop seen; 0: not (why
 * says); -1: KVM cannot be used here (why says).
 */
static int kvm_run_state(struct coremu_as *as, const struct x86_e820_range *map, unsigned n,
                         const struct x86_boot_state *st, const char *stop, unsigned timeout_s,
                         char *out, size_t outlen, char *why, size_t whylen)
{
    size_t used = 0;
    out[0] = '\0';
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        snprintf(why, whylen, "/dev/kvm: %s", strerror(errno));
        return -1;
    }
    int ret = -1, vm = -1, cpu = -1;
    struct kvm_run *run = MAP_FAILED;
    long run_size = 0;
    struct kvm_cpuid2 *cpuid = NULL;
    if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION ||
        (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
        snprintf(why, whylen, "KVM_CREATE_VM: %s", strerror(errno));
        goto out;
    }
    struct kvm_pit_config pit;
    memset(&pit, 0, sizeof(pit));
    if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0 ||
        ioctl(vm, KVM_CREATE_PIT2, &pit) < 0) {
        snprintf(why, whylen, "KVM irqchip/PIT: %s", strerror(errno));
        goto out;
    }
    unsigned slot = 0;
    for (unsigned i = 0; i < n; i++) {
        if (map[i].type != X86_E820_RAM) {
            continue;
        }
        uint64_t size = map[i].base == 0 ? 0xa0000 : map[i].size;
        struct kvm_userspace_memory_region region;
        memset(&region, 0, sizeof(region));
        region.slot = slot++;
        region.guest_phys_addr = map[i].base;
        region.memory_size = size;
        region.userspace_addr = (uintptr_t)coremu_as_ram_ptr(as, map[i].base, size, true);
        if (region.userspace_addr == 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
            snprintf(why, whylen, "KVM memory slot at 0x%llx: %s", (unsigned long long)map[i].base,
                     strerror(errno));
            goto out;
        }
    }
    run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if ((cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 || run_size <= 0 ||
        (run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0)) ==
            MAP_FAILED) {
        snprintf(why, whylen, "KVM vCPU: %s", strerror(errno));
        goto out;
    }
    /* The host's CPUID as KVM can present it. */
    const unsigned max_entries = 256;
    cpuid = calloc(1, sizeof(*cpuid) + max_entries * sizeof(cpuid->entries[0]));
    if (cpuid == NULL) {
        snprintf(why, whylen, "out of memory");
        goto out;
    }
    cpuid->nent = max_entries;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 || ioctl(cpu, KVM_SET_CPUID2, cpuid) < 0) {
        snprintf(why, whylen, "KVM CPUID: %s", strerror(errno));
        goto out;
    }

    /* The entry state. TR and LDTR keep the vCPU's reset values (selector 0, a busy TSS and an
     * LDT with base 0): VMX insists on a present TR, which boot.h leaves to the CPU. */
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0) {
        snprintf(why, whylen, "KVM_GET_SREGS: %s", strerror(errno));
        goto out;
    }
    sregs.cs = kvm_segment_of(st->cs, st->cs_descriptor);
    sregs.ds = kvm_segment_of(st->ds, st->data_descriptor);
    sregs.es = kvm_segment_of(st->es, st->data_descriptor);
    sregs.fs = kvm_segment_of(st->fs, st->data_descriptor);
    sregs.gs = kvm_segment_of(st->gs, st->data_descriptor);
    sregs.ss = kvm_segment_of(st->ss, st->data_descriptor);
    sregs.gdt.base = st->gdtr_base;
    sregs.gdt.limit = st->gdtr_limit;
    sregs.idt.base = 0;
    sregs.idt.limit = 0;
    sregs.cr0 = st->cr0;
    sregs.cr3 = st->cr3;
    sregs.cr4 = st->cr4;
    sregs.efer = st->efer;
    memset(&regs, 0, sizeof(regs));
    regs.rip = st->rip;
    regs.rflags = st->rflags;
    regs.rax = st->rax;
    regs.rbx = st->rbx;
    regs.rcx = st->rcx;
    regs.rdx = st->rdx;
    regs.rsi = st->rsi;
    regs.rdi = st->rdi;
    regs.rbp = st->rbp;
    regs.rsp = st->rsp;
    if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(cpu, KVM_SET_REGS, &regs) < 0) {
        snprintf(why, whylen, "KVM entry state refused: %s", strerror(errno));
        ret = 0;
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = kvm_alarm; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ret = 0;
    snprintf(why, whylen, "no \"%s\" within %u s", stop, timeout_s);
    uint8_t lcr = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= (time_t)timeout_s) {
            break;
        }
        alarm(1);
        int r = ioctl(cpu, KVM_RUN, 0);
        alarm(0);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            snprintf(why, whylen, "KVM_RUN: %s", strerror(errno));
            break;
        }
        if (run->exit_reason == KVM_EXIT_IO) {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            for (unsigned i = 0; i < run->io.count; i++, data += run->io.size) {
                if (run->io.direction == KVM_EXIT_IO_OUT) {
                    if (run->io.port == KVM_SERIAL_LCR) {
                        lcr = data[0];
                    } else if (run->io.port == KVM_SERIAL_BASE && !(lcr & KVM_LCR_DLAB) &&
                               used + 1 < outlen) {
                        out[used++] = (char)data[0];
                        out[used] = '\0';
                    }
                } else {
                    memset(data, run->io.port == KVM_SERIAL_LSR ? KVM_LSR_EMPTY : 0xff,
                           run->io.size);
                }
            }
            if (strstr(out, stop) != NULL) {
                ret = 1;
                break;
            }
            if (strstr(out, "Kernel panic") != NULL) {
                snprintf(why, whylen, "the kernel panicked");
                break;
            }
        } else if (run->exit_reason == KVM_EXIT_MMIO) {
            if (!run->mmio.is_write) {
                memset(run->mmio.data, 0, sizeof(run->mmio.data));
            }
        } else if (run->exit_reason == KVM_EXIT_SHUTDOWN) {
            snprintf(why, whylen, "the guest shut down (a triple fault?)");
            break;
        } else if (run->exit_reason != KVM_EXIT_INTR) {
            snprintf(why, whylen, "KVM exit %u (hardware reason 0x%llx)", run->exit_reason,
                     (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            break;
        }
    }
    if (ret == 0 && ioctl(cpu, KVM_GET_REGS, &regs) == 0) {
        /* Where it was: the decompressor runs at physical addresses, the kernel proper at
         * 0xffffffff8.... */
        size_t len = strlen(why);
        snprintf(why + len, whylen - len, " (RIP 0x%llx)", (unsigned long long)regs.rip);
    }
out:
    free(cpuid);
    if (run != MAP_FAILED) {
        munmap(run, (size_t)run_size);
    }
    if (cpu >= 0) {
        close(cpu);
    }
    if (vm >= 0) {
        close(vm);
    }
    close(kvm);
    return ret;
}

/* Small programs run by the host's CPU from boot.c's two entry states: VMX and SVM check a
 * state's consistency (segments against CR0/CR4/EFER) on entry, and the programs then use it.
 * Each prints what it finds on COM1. A -1 from kvm_run_state (no KVM here) is UNSUPPORTED. */
static bool kvm_unavailable(int ran, const char *why)
{
    static bool said;
    if (ran < 0 && !said) {
        printf("UNSUPPORTED: the entry states on the host's CPU (KVM): %s\n", why);
        said = true;
    }
    return ran < 0;
}

static void test_kvm_states(void)
{
    /* RAM above 4 GiB too, which the Linux program writes through the identity map. */
    static const struct x86_e820_range map[] = {
        {0, 0x9fc00, X86_E820_RAM},
        {MIB, 63 * MIB, X86_E820_RAM},
        {4 * GIB, 64 * MIB, X86_E820_RAM},
    };
    const unsigned n = COREMU_ARRAY_SIZE(map);
    char out[4096], why[256], err[512], name[200];
    struct x86_boot_config cfg;
    struct x86_boot_info bi;

    /* 64-bit code at the bzImage's entry (load + 0x200): prints the 4 bytes at RSI + 0x202
     * ("HdrS"), the string at cmd_line_ptr, then writes " OK!" at 4 GiB + 4 KiB and prints
     * it back. REX.W instructions (inc rbx, mov rcx, imm64) mean 64-bit mode. */
    static const uint8_t linux_prog[] = {
        0xba, 0xf8, 0x03, 0x00, 0x00,             /* mov edx, 0x3f8 */
        0x8b, 0x86, 0x02, 0x02, 0x00, 0x00,       /* mov eax, [rsi + 0x202] */
        0xee, 0xc1, 0xe8, 0x08, 0xee,             /* out dx, al; shr eax, 8; out dx, al */
        0xc1, 0xe8, 0x08, 0xee, 0xc1, 0xe8, 0x08, /* shr eax, 8; out; shr eax, 8 */
        0xee,                                     /* out dx, al */
        0x8b, 0x9e, 0x28, 0x02, 0x00, 0x00,       /* mov ebx, [rsi + 0x228] */
        0x8a, 0x03,                               /* 1: mov al, [rbx] */
        0x84, 0xc0,                               /* test al, al */
        0x74, 0x06,                               /* jz 2f */
        0xee,                                     /* out dx, al */
        0x48, 0xff, 0xc3,                         /* inc rbx */
        0xeb, 0xf4,                               /* jmp 1b */
        0x48, 0xb9, 0x00, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* 2: mov rcx, 4G + 4K */
        0xc7, 0x01, 0x20, 0x4f, 0x4b, 0x21,                         /* mov dword [rcx], " OK!" */
        0x8b, 0x01,                                                 /* mov eax, [rcx] */
        0xee, 0xc1, 0xe8, 0x08, 0xee,             /* out dx, al; shr eax, 8; out dx, al */
        0xc1, 0xe8, 0x08, 0xee, 0xc1, 0xe8, 0x08, /* shr eax, 8; out; shr eax, 8 */
        0xee,                                     /* out dx, al */
        0xf4,                                     /* hlt */
    };
    size_t ksize;
    uint8_t *k = make_bzimage(0x020f, 0x1, BZ_PM_SIZE, &ksize);
    memcpy(k + (BZ_SETUP_SECTS + 1) * 512 + 0x200, linux_prog, sizeof(linux_prog));
    const char *kpath = tmp_file("bz-kvm", k, ksize);
    free(k);
    struct coremu_as *as = make_as(map, n);
    int r =
        load(as, kpath, NULL, "hello from the zero page", map, n, 0, &cfg, &bi, err, sizeof(err));
    UNIT_REQUIRE(r == 0, "KVM: bzImage loads", "%s", err);
    int ran = kvm_run_state(as, map, n, &bi.state, " OK!", 60, out, sizeof(out), why, sizeof(why));
    if (!kvm_unavailable(ran, why)) {
        snprintf(name, sizeof(name),
                 "KVM: the host's CPU enters the Linux state in 64-bit mode "
                 "and finds the zero page, command line and RAM above 4 GiB");
        UNIT_CHECK(ran == 1 && strcmp(out, "HdrShello from the zero page OK!") == 0, name,
                   "console \"%s\" (%s)", out, why);
    }
    coremu_as_free(as);

    /* 32-bit code at a multiboot entry: checks EAX, prints the command line at [EBX + 16] and
     * "!" ("X" if EAX is wrong). inc esi is one byte (0x46) only outside 64-bit mode. */
    uint8_t img[0x100] = {0};
    mb_header(img, 0x10000u);
    wr32(img + 12, 0x300000); /* header_addr */
    wr32(img + 16, 0x300000); /* load_addr */
    wr32(img + 28, 0x300040); /* entry_addr */
    static const uint8_t mb_prog[] = {
        0x3d, 0x02, 0xb0, 0xad, 0x2b, /* cmp eax, 0x2badb002 */
        0x75, 0x16,                   /* jne 3f */
        0xba, 0xf8, 0x03, 0x00, 0x00, /* mov edx, 0x3f8 */
        0x8b, 0x73, 0x10,             /* mov esi, [ebx + 16] */
        0x8a, 0x06,                   /* 1: mov al, [esi] */
        0x84, 0xc0,                   /* test al, al */
        0x74, 0x04,                   /* jz 2f */
        0xee,                         /* out dx, al */
        0x46,                         /* inc esi */
        0xeb, 0xf6,                   /* jmp 1b */
        0xb0, 0x21, 0xee, 0xf4,       /* 2: mov al, '!'; out dx, al; hlt */
        0xb0, 0x58, 0xee, 0xf4,       /* 3: mov al, 'X'; out dx, al; hlt */
    };
    memcpy(img + 0x40, mb_prog, sizeof(mb_prog));
    const char *mbpath = tmp_file("mb-kvm", img, sizeof(img));
    as = make_as(map, n);
    r = load(as, mbpath, NULL, "args", map, n, 0, &cfg, &bi, err, sizeof(err));
    UNIT_REQUIRE(r == 0, "KVM: multiboot image loads", "%s", err);
    ran = kvm_run_state(as, map, n, &bi.state, "!", 60, out, sizeof(out), why, sizeof(why));
    if (!kvm_unavailable(ran, why)) {
        char expect[400];
        snprintf(expect, sizeof(expect), "%s args!", mbpath);
        UNIT_CHECK(ran == 1 && strcmp(out, expect) == 0,
                   "KVM: the host's CPU enters the multiboot state in 32-bit protected mode "
                   "with EAX and EBX as the specification says",
                   "console \"%s\", expected \"%s\" (%s)", out, expect, why);
    }
    coremu_as_free(as);
}

/* Debian's kernel from boot.c's state, as far as /init: its early console shows our command
 * line and e820 table, the initramfs unpacked, and init started. Only on request
 * (COREMU_TEST_KVM_LINUX=SECONDS, the time it may take): under nested virtualization on a busy
 * host the kernel's decompression alone took minutes here. */
static void test_linux_kvm(const char *vmlinuz, const char *initrd)
{
    const char *limit = getenv("COREMU_TEST_KVM_LINUX");
    unsigned timeout_s = limit != NULL ? (unsigned)strtoul(limit, NULL, 10) : 0;
    if (timeout_s == 0) {
        printf("note: Debian kernel under KVM not run (COREMU_TEST_KVM_LINUX=SECONDS runs it)\n");
        return;
    }
    size_t ksize = 0;
    uint8_t *k = read_file(vmlinuz, &ksize);
    bool is_bz = k != NULL && ksize > 0x210 && memcmp(k + 0x202, "HdrS", 4) == 0;
    free(k);
    if (!is_bz || initrd == NULL) {
        printf("UNSUPPORTED: Debian kernel under KVM: needs the cached vmlinuz and initrd.gz "
               "(run scripts/prepare-guest-x86_64.sh)\n");
        return;
    }
    static const struct x86_e820_range map[] = {
        {0, 0x9fc00, X86_E820_RAM},
        {0x9fc00, 0x400, X86_E820_RESERVED},
        {0xf0000, 0x10000, X86_E820_RESERVED},
        {MIB, 255 * MIB, X86_E820_RAM},
    };
    const unsigned n = COREMU_ARRAY_SIZE(map);
    const char *append = "earlyprintk=serial,ttyS0,115200,keep console=ttyS0 panic=-1 "
                         "coremu.test=boot";
    struct coremu_as *as = make_as(map, n);
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, vmlinuz, initrd, append, map, n, 0, &cfg, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0, "Debian kernel under KVM: loads into 256 MiB", "%s", err);
    if (r != 0) {
        coremu_as_free(as);
        return;
    }
    size_t outlen = 1 << 20;
    char *out = malloc(outlen);
    UNIT_REQUIRE(out != NULL, "setup: KVM", "out of memory");
    char why[256];
    int ran = kvm_run_state(as, map, n, &bi.state, "Run /init as init process", timeout_s, out,
                            outlen, why, sizeof(why));
    if (ran < 0) {
        printf("UNSUPPORTED: Debian kernel under KVM: %s\n", why);
    } else {
        /* The console's last lines, for the log. */
        size_t len = strlen(out);
        printf("KVM console (%zu bytes), last lines:\n%s\n", len,
               len > 1500 ? out + len - 1500 : out);
        char line[600];
        snprintf(line, sizeof(line), "Command line: %s", append);
        UNIT_CHECK(strstr(out, "Linux version ") != NULL,
                   "Debian kernel under KVM: starts from boot.c's 64-bit entry state",
                   "no banner on the early console: %s", why);
        UNIT_CHECK(strstr(out, line) != NULL, "Debian kernel under KVM: reads cmd_line_ptr",
                   "no \"%s\"", line);
        UNIT_CHECK(strstr(out, "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable") !=
                           NULL &&
                       strstr(out, "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] "
                                   "usable") != NULL,
                   "Debian kernel under KVM: takes the e820 table", "no e820 lines");
        UNIT_CHECK(strstr(out, "Freeing initrd memory") != NULL &&
                       strstr(out, "Initramfs unpacking failed") == NULL,
                   "Debian kernel under KVM: unpacks the initrd from ramdisk_image",
                   "no \"Freeing initrd memory\", or unpacking failed");
        UNIT_CHECK(ran == 1, "Debian kernel under KVM: runs /init", "%s", why);
    }
    free(out);
    coremu_as_free(as);
}

#endif /* TEST_BOOT_KVM */

/* ---- Reset ------------------------------------------------------------------------------ */

static void test_keep_and_reset(void)
{
    size_t ksize;
    uint8_t *k = make_bzimage(0x020f, 0x1, BZ_PM_SIZE, &ksize);
    const char *kpath = tmp_file("bzImage-reset", k, ksize);
    uint8_t rd[3000];
    memset(rd, 0x77, sizeof(rd));
    const char *rdpath = tmp_file("initrd-reset", rd, sizeof(rd));
    static const struct x86_e820_range map[] = {{0, 0x9fc00, X86_E820_RAM},
                                                {MIB, 63 * MIB, X86_E820_RAM}};
    struct coremu_board *b = coremu_board_new(NULL);
    char err[512] = "";
    UNIT_REQUIRE(b != NULL && coremu_board_add_ram(b, "ram", 0, 64 * MIB, COREMU_XMON_VALUE, NULL,
                                                   NULL, err, sizeof(err)) == 0,
                 "setup: board", "%s", err);
    struct coremu_as *as = coremu_board_as(b);
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    int r = load(as, kpath, rdpath, "a b c", map, 2, 0, &cfg, &bi, err, sizeof(err));
    UNIT_REQUIRE(r == 0, "reset: load", "%s", err);
    r = x86_boot_keep_images(b, &bi, err, sizeof(err));
    UNIT_CHECK(r == 0, "reset: images kept", "%s", err);

    /* What a running kernel does to them: decompress over itself, reuse low memory. */
    uint8_t *scribble = malloc(BZ_PM_SIZE);
    UNIT_REQUIRE(scribble != NULL, "setup: reset", "out of memory");
    memset(scribble, 0xee, BZ_PM_SIZE);
    coremu_as_copy_to(as, bi.kernel.addr, scribble, BZ_PM_SIZE);
    coremu_as_copy_to(as, bi.initrd.addr, scribble, sizeof(rd));
    coremu_as_copy_to(as, X86_BOOT_GDT_ADDR, scribble, BZ_PM_SIZE);
    coremu_as_copy_to(as, X86_BOOT_PGTABLE_ADDR, scribble, BZ_PM_SIZE);
    free(scribble);

    UNIT_CHECK(coremu_board_reset(b) == 0, "reset: board reset succeeds", "failed");
    check_linux("after reset", as, k, ksize, &cfg, rd, sizeof(rd), &bi);
    coremu_board_free(b);
    free(k);
}

/* ---- Bad input --------------------------------------------------------------------------- */

static void expect_refusal(const char *name, const char *kernel, const char *initrd,
                           const char *append, const struct x86_e820_range *map, unsigned n,
                           const char *const *words)
{
    struct coremu_as *as = make_as(map, n);
    struct x86_boot_config cfg;
    struct x86_boot_info bi;
    char err[512];
    int r = load(as, kernel, initrd, append, map, n, 0, &cfg, &bi, err, sizeof(err));
    bool ok = r != 0 && one_line(err);
    for (unsigned i = 0; ok && words[i] != NULL; i++) {
        ok = strstr(err, words[i]) != NULL;
    }
    UNIT_CHECK(ok, name, "r %d, message \"%s\"", r, err);
    if (r != 0) {
        printf("  (%s: %s)\n", name, err);
    }
    coremu_as_free(as);
}

static void test_bad_input(void)
{
    const unsigned npc = COREMU_ARRAY_SIZE(pc_map);
    size_t ksize;
    uint8_t *k = make_bzimage(0x020f, 0x1, BZ_PM_SIZE, &ksize);

    const char *half = tmp_file("bz-half", k, ksize - BZ_PM_SIZE / 2);
    expect_refusal("bad: bzImage cut in its kernel part", half, NULL, NULL, pc_map, npc,
                   (const char *const[]){half, "truncated", NULL});
    const char *hdr = tmp_file("bz-hdr", k, 0x220);
    expect_refusal("bad: bzImage cut in its setup header", hdr, NULL, NULL, pc_map, npc,
                   (const char *const[]){hdr, "truncated", NULL});

    uint8_t *old = make_bzimage(0x020b, 0x0, BZ_PM_SIZE, &ksize);
    const char *oldp = tmp_file("bz-2.11", old, ksize);
    expect_refusal("bad: boot protocol 2.11", oldp, NULL, NULL, pc_map, npc,
                   (const char *const[]){oldp, "2.11", "too old", "2.12", NULL});
    free(old);

    uint8_t *k32 = make_bzimage(0x020f, 0x0, BZ_PM_SIZE, &ksize);
    const char *k32p = tmp_file("bz-32bit", k32, ksize);
    expect_refusal("bad: bzImage without XLF_KERNEL_64", k32p, NULL, NULL, pc_map, npc,
                   (const char *const[]){k32p, "64-bit entry point", NULL});
    free(k32);

    uint8_t *lowk = make_bzimage(0x020f, 0x1, BZ_PM_SIZE, &ksize);
    wr64(lowk + 0x258, 0x8000);
    lowk[0x234] = 0; /* not relocatable: it must run at pref_address */
    const char *lowp = tmp_file("bz-low", lowk, ksize);
    expect_refusal("bad: bzImage with pref_address below 1 MiB", lowp, NULL, NULL, pc_map, npc,
                   (const char *const[]){lowp, "pref_address 0x8000", NULL});
    free(lowk);

    const char *kp = tmp_file("bz-ok", k, ksize);
    static const struct x86_e820_range small[] = {{0, 0x9fc00, X86_E820_RAM},
                                                  {MIB, 18 * MIB, X86_E820_RAM}};
    expect_refusal("bad: kernel's init_size beyond RAM", kp, NULL, NULL, small, 2,
                   (const char *const[]){kp, "give more with -m", NULL});

    uint8_t *huge = calloc(1, 40 * MIB);
    UNIT_REQUIRE(huge != NULL, "setup: huge", "out of memory");
    const char *hugep = tmp_file("initrd-huge", huge, 40 * MIB);
    free(huge);
    static const struct x86_e820_range mid[] = {{0, 0x9fc00, X86_E820_RAM},
                                                {MIB, 47 * MIB, X86_E820_RAM}};
    expect_refusal("bad: initrd that does not fit beside the kernel", kp, hugep, NULL, mid, 2,
                   (const char *const[]){hugep, "give more with -m", NULL});
    static const struct x86_e820_range tiny[] = {{0, 0x9fc00, X86_E820_RAM},
                                                 {MIB, 8 * MIB, X86_E820_RAM}};
    expect_refusal("bad: -kernel larger than RAM", hugep, NULL, NULL, tiny, 2,
                   (const char *const[]){hugep, "give more with -m", NULL});
    unlink(hugep);

    char longcmd[3000];
    memset(longcmd, 'x', sizeof(longcmd) - 1);
    longcmd[sizeof(longcmd) - 1] = '\0';
    expect_refusal("bad: -append longer than cmdline_size", kp, NULL, longcmd, pc_map, npc,
                   (const char *const[]){"-append", "2999", "2047", NULL});

    size_t esize;
    uint8_t *e64 = make_multiboot_elf(UINT32_MAX, 64, EXTRA_NONE, &esize);
    const char *e64p = tmp_file("plain64.elf", e64, esize);
    expect_refusal("bad: 64-bit ELF without a multiboot header", e64p, NULL, NULL, pc_map, npc,
                   (const char *const[]){e64p, "64-bit ELF", "bzImage", "multiboot", NULL});
    free(e64);

    uint8_t *video = make_multiboot_elf(0x4, 32, EXTRA_NONE, &esize);
    const char *videop = tmp_file("mb-video.elf", video, esize);
    expect_refusal("bad: multiboot kernel asking for video", videop, NULL, NULL, pc_map, npc,
                   (const char *const[]){videop, "video", NULL});
    free(video);

    uint8_t *unknown = make_multiboot_elf(0x20, 32, EXTRA_NONE, &esize);
    const char *unknownp = tmp_file("mb-unknown.elf", unknown, esize);
    expect_refusal("bad: multiboot kernel requiring an unknown feature", unknownp, NULL, NULL,
                   pc_map, npc, (const char *const[]){unknownp, "0x20", NULL});
    free(unknown);

    uint8_t *bios = make_multiboot_elf(0x0, 32, EXTRA_DATA, &esize);
    const char *biosp = tmp_file("mb-bios.elf", bios, esize);
    expect_refusal("bad: multiboot ELF with data in the BIOS area", biosp, NULL, NULL, pc_map, npc,
                   (const char *const[]){biosp, "0xff000", "not all RAM", NULL});
    free(bios);

    uint8_t raw[0x100];
    memset(raw, 0x90, sizeof(raw));
    mb_header(raw + 8, 0);
    const char *rawp = tmp_file("mb-raw", raw, sizeof(raw));
    expect_refusal("bad: multiboot non-ELF without addresses", rawp, NULL, NULL, pc_map, npc,
                   (const char *const[]){rawp, "flag 16", NULL});

    uint8_t aout[0x100] = {0};
    mb_header(aout, 0x10000u);
    wr32(aout + 12, 0x5000);
    wr32(aout + 16, 0x5000);
    wr32(aout + 28, 0x5000);
    const char *aoutp = tmp_file("mb-low", aout, sizeof(aout));
    expect_refusal("bad: multiboot image over the boot data", aoutp, NULL, NULL, pc_map, npc,
                   (const char *const[]){aoutp, "boot data", NULL});

    wr32(aout + 12, 0x400000);
    wr32(aout + 16, 0x400000);
    wr32(aout + 28, 0xc0001000u); /* in the PCI hole */
    const char *entryp = tmp_file("mb-entry", aout, sizeof(aout));
    expect_refusal("bad: multiboot entry_addr outside RAM", entryp, NULL, NULL, pc_map, npc,
                   (const char *const[]){entryp, "entry_addr 0xc0001000", NULL});

    uint8_t *late = calloc(1, 8192 + 0x100);
    UNIT_REQUIRE(late != NULL, "setup: late header", "out of memory");
    mb_header(late + 8192, 0x10000u);
    const char *latep = tmp_file("mb-late", late, 8192 + 0x100);
    free(late);
    expect_refusal("bad: multiboot header past the first 8 KiB", latep, NULL, NULL, pc_map, npc,
                   (const char *const[]){latep, "neither", NULL});

    memset(raw, 0x41, sizeof(raw));
    const char *junkp = tmp_file("junk", raw, sizeof(raw));
    expect_refusal("bad: neither bzImage nor multiboot", junkp, NULL, NULL, pc_map, npc,
                   (const char *const[]){junkp, "neither", NULL});

    const char *emptyp = tmp_file("empty", raw, 0);
    expect_refusal("bad: empty file", emptyp, NULL, NULL, pc_map, npc,
                   (const char *const[]){emptyp, "empty", NULL});

    char missing[300];
    snprintf(missing, sizeof(missing), "%s/no-such-kernel", tmpdir);
    expect_refusal("bad: missing file", missing, NULL, NULL, pc_map, npc,
                   (const char *const[]){missing, NULL});

    static const struct x86_e820_range nolow[] = {{MIB, 255 * MIB, X86_E820_RAM}};
    expect_refusal("bad: a memory map without low RAM", kp, NULL, NULL, nolow, 1,
                   (const char *const[]){"boot data", NULL});
    static const struct x86_e820_range unsorted[] = {{MIB, 255 * MIB, X86_E820_RAM},
                                                     {0, 0x9fc00, X86_E820_RAM}};
    expect_refusal("bad: an unsorted memory map", kp, NULL, NULL, unsorted, 2,
                   (const char *const[]){"memory range 1", NULL});
    free(k);
}

int main(int argc, char **argv)
{
    const char *base = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof(tmpdir), "%s/test-x86-boot.XXXXXX", base);
    UNIT_REQUIRE(mkdtemp(tmpdir) != NULL, "setup: temporary directory", "mkdtemp %s failed",
                 tmpdir);

    char vmlinuz[512], initrd[512];
    if (argc > 1) {
        snprintf(vmlinuz, sizeof(vmlinuz), "%s", argv[1]);
        snprintf(initrd, sizeof(initrd), "%s", argc > 2 ? argv[2] : "");
    } else {
        const char *cache = getenv("COREMU_GUEST_CACHE");
        char dir[400];
        if (cache != NULL && cache[0] != '\0') {
            snprintf(dir, sizeof(dir), "%s", cache);
        } else {
            snprintf(dir, sizeof(dir), "%s/.cache/coremu/guests/x86_64",
                     getenv("HOME") != NULL ? getenv("HOME") : "/nonexistent");
        }
        snprintf(vmlinuz, sizeof(vmlinuz), "%s/vmlinuz", dir);
        snprintf(initrd, sizeof(initrd), "%s/initrd.gz", dir);
    }

    test_linux_synthetic();
    test_linux_real(vmlinuz, access(initrd, R_OK) == 0 ? initrd : NULL);
    test_multiboot_elf();
    test_multiboot_aout();
    test_multiboot_gcc();
    test_keep_and_reset();
#ifdef TEST_BOOT_KVM
    test_kvm_states();
    test_linux_kvm(vmlinuz, access(initrd, R_OK) == 0 ? initrd : NULL);
#else
    printf("UNSUPPORTED: the entry states on the host's CPU (KVM): needs an x86_64 Linux host "
           "with <linux/kvm.h>\n");
#endif
    test_bad_input();

    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        printf("note: could not remove %s\n", tmpdir);
    }
    return unit_done();
}
