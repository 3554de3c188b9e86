/*
 * coremu x86_64 — loading -kernel, -initrd and -append, and the boot processor's entry state
 * (boot.h says what goes where).
 *
 * Linux (Documentation/arch/x86/boot.rst). A bzImage starts with the real-mode setup code:
 * setup_sects 512-byte sectors after the boot sector (0 meaning 4), whose setup header sits at
 * 0x1f1 ("HdrS" at 0x202, the protocol version at 0x206, the header's end at 0x202 plus the
 * byte at 0x201). The rest of the file is the protected-mode kernel, syssize 16-byte units of
 * it at least. coremu uses the 64-bit boot protocol, so the setup code never runs: it needs
 * protocol 2.12 (the first with xloadflags) and XLF_KERNEL_64, and enters the protected-mode
 * kernel at its load address plus 0x200 in 64-bit mode, with RSI pointing to a zero page
 * (struct boot_params) holding a copy of the setup header with our fields filled in.
 *
 * Where the kernel goes: at pref_address (protocol 2.10+), aligned up to kernel_alignment when
 * the kernel is relocatable; a pref_address of 0 means 1 MiB, the protocol's address for a
 * kernel loaded high. The kernel then needs init_size bytes of RAM from there before it reads
 * its memory map. Loading a relocatable kernel lower would not make it fit in less RAM: its
 * decompressor (arch/x86/boot/compressed/head_64.S) never runs below the address it was built
 * for, LOAD_PHYSICAL_ADDR, which is what pref_address holds, and needs init_size from there;
 * so the rule is simply pref_address, and too little RAM for pref_address + init_size is the
 * user's error ("give more with -m"). Debian 12's kernel: pref_address 16 MiB, init_size about
 * 64 MiB, so it needs at least some 80 MiB of RAM before the initrd.
 *
 * The initrd goes as high as it can: the highest page-aligned place in RAM that ends at most
 * at initrd_addr_max + 1 (the field is the address of the last byte it may occupy) and below
 * 4 GiB (ramdisk_image is a 32-bit field; we do not use the ext_ fields), clear of the kernel's
 * init_size range and of the low boot data. The command line must not exceed cmdline_size.
 *
 * The entry state (boot.rst's "64-bit Boot Protocol"): 64-bit mode with paging on, a GDT with
 * __BOOT_CS (0x10, a 64-bit code segment) and __BOOT_DS (0x18, flat read/write data), CS =
 * __BOOT_CS, DS = ES = SS = __BOOT_DS (FS and GS too), interrupts off, RSI = the zero page,
 * and the kernel's init_size range, the zero page and the command line identity-mapped. Our
 * page tables identity-map all of RAM and at least the first 4 GiB (MMIO included) with 2 MiB
 * pages (1 GiB pages would need the CPU's PDPE1GB feature): one page directory per GiB, at
 * most 126 of them in the space below 0x90000, so a machine with RAM above 126 GiB gets the
 * first 126 GiB mapped, which still holds everything the protocol asks for. Every entry has
 * its accessed and dirty bits set so that the page walk never writes to them. CR0 = PE | ET |
 * NE | PG, CR4 = PAE, EFER = LME | LMA. EFER.NXE stays clear: the tables use no NX bit, and
 * the kernel turns NX on itself once it has checked that the CPU has it (nor is SCE set: the
 * kernel sets up system calls itself).
 *
 * Multiboot (version 1, the Multiboot Specification 0.6.96). The header is a 32-bit aligned
 * magic 0x1BADB002, flags and a checksum (the three sum to 0) within the first 8 KiB of the
 * file. Flags bits 0-15 are requirements: 0 (modules page-aligned: ours always are) and 1 (the
 * memory fields and map: always given) are met; 2 (a video mode table) cannot be, as coremu
 * has no graphics, and the specification says a loader that cannot meet a requirement must
 * refuse the kernel; so must it any bit it does not know. With flag 16 the header's address
 * fields say where the image goes (the "a.out kludge": the file from the header's offset minus
 * (header_addr - load_addr), up to load_end_addr or the end of the file, then zeros up to
 * bss_end_addr; entry at entry_addr); without it the kernel must be an ELF executable, whose
 * segments go to their physical addresses (a 64-bit ELF too, as GRUB allows, when everything
 * lies below 4 GiB; a segment of nothing but ELF headers outside RAM is left out, see
 * check_elf_segments). The information structure gets mem_lower/mem_upper (KiB of RAM from 0
 * and from 1 MiB), the memory map (the board's list, each entry preceded by its size, 20), the
 * command line ("KERNEL-PATH APPEND", the image's name first as GRUB and QEMU give it, which
 * bare-metal test programs take as argv[0]), the boot loader's name, and -initrd as module 0
 * (its string the file's name), placed at the first page above the kernel. Entry: 32-bit
 * protected mode, paging off, CS = 0x10 (flat 32-bit code), DS = ES = FS = GS = SS = 0x18
 * (flat data), EAX = 0x2BADB002, EBX = the information's address, interrupts off.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>

#include "boot.h"

#define PAGE_SIZE 0x1000u
#define MIB       (1ull << 20)
#define GIB       (1ull << 30)
#define FOUR_GIB  (4ull << 30)

/* The GDT's descriptors: base 0, limit 0xfffff in 4 KiB units (G = 1), present, DPL 0, type
 * execute/read (0xb) or read/write (0x3) with the accessed bit already set, so that loading a
 * selector never writes to the table. */
#define GDT_CODE64  0x00af9b000000ffffull /* L = 1, D = 0 */
#define GDT_CODE32  0x00cf9b000000ffffull /* L = 0, D = 1 */
#define GDT_DATA    0x00cf93000000ffffull /* B = 1 */
#define GDT_ENTRIES 4u

/* Page table entry bits: present, writable, accessed, dirty, page size (2 MiB). */
#define PTE_P           0x001ull
#define PTE_RW          0x002ull
#define PTE_A           0x020ull
#define PTE_D           0x040ull
#define PTE_PS          0x080ull
#define PTE_TABLE       (PTE_P | PTE_RW | PTE_A)
#define PTE_LARGE       (PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS)
#define PGTABLE_MAX_GIB ((X86_BOOT_PGTABLE_END - X86_BOOT_PGTABLE_ADDR) / PAGE_SIZE - 2)

/* The bzImage's setup header (offsets in the file and in the zero page alike). */
#define BZ_SETUP_SECTS      0x1f1
#define BZ_SYSSIZE          0x1f4
#define BZ_BOOT_FLAG        0x1fe
#define BZ_HEADER_LEN       0x201 /* the jump's displacement: the header ends at 0x202 plus it */
#define BZ_MAGIC            0x202
#define BZ_VERSION          0x206
#define BZ_TYPE_OF_LOADER   0x210
#define BZ_CODE32_START     0x214
#define BZ_RAMDISK_IMAGE    0x218
#define BZ_RAMDISK_SIZE     0x21c
#define BZ_CMD_LINE_PTR     0x228
#define BZ_INITRD_ADDR_MAX  0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE      0x234
#define BZ_XLOADFLAGS       0x236
#define BZ_CMDLINE_SIZE     0x238
#define BZ_PREF_ADDRESS     0x258
#define BZ_INIT_SIZE        0x260
#define BZ_HEADER_MIN_END   0x264 /* through init_size: what protocol 2.12 guarantees */
#define BZ_BOOT_FLAG_VALUE  0xaa55u
#define BZ_MIN_VERSION      0x020cu
#define BZ_XLF_KERNEL_64    0x1u
#define BZ_LOADER_UNDEFINED 0xffu /* type_of_loader: "special, undefined" */
#define BZ_ENTRY64_OFFSET   0x200u

/* The zero page's own fields (Documentation/arch/x86/zero-page.rst). */
#define ZP_SIZE            0x1000u
#define ZP_ACPI_RSDP_ADDR  0x070
#define ZP_E820_ENTRIES    0x1e8
#define ZP_E820_TABLE      0x2d0
#define ZP_E820_ENTRY_SIZE 20u

/* Multiboot. */
#define MB_HEADER_MAGIC     0x1badb002u
#define MB_SEARCH_LIMIT     8192u
#define MB_FLAG_PAGE_ALIGN  (1u << 0)
#define MB_FLAG_MEMORY      (1u << 1)
#define MB_FLAG_VIDEO       (1u << 2)
#define MB_FLAG_ADDRESSES   (1u << 16)
#define MB_INFO_MEMORY      (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)
/* The information page: the structure, the loader's name, the module list, the memory map. */
#define MB_INFO_SIZE          88u
#define MB_LOADER_NAME_OFFSET 0x60u
#define MB_MODS_OFFSET        0x80u
#define MB_MMAP_OFFSET        0x100u
#define MB_MMAP_ENTRY_SIZE    24u /* the size field (4) and the 20 bytes it counts */
#define MB_LOADER_NAME        "coremu"
/* A multiboot kernel's low boot data ends with the command line page(s). */
#define MB_DATA_END X86_BOOT_PGTABLE_ADDR

#define EM_386    3
#define EM_X86_64 62

static int boot_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int boot_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
    return v & ~(a - 1);
}

static uint64_t range_end(const struct x86_e820_range *r)
{
    return r->base + r->size;
}

/* The board's list: ascending, no overlaps, no empty or wrapping range, not too many. */
static int check_mem_map(const struct x86_boot_config *cfg, char *err, size_t errlen)
{
    if (cfg->mem_map_len == 0 || cfg->mem_map_len > X86_E820_MAX) {
        return boot_error(err, errlen, "x86 boot: the memory map has %u ranges (1 to %u)",
                          cfg->mem_map_len, X86_E820_MAX);
    }
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        const struct x86_e820_range *r = &cfg->mem_map[i];
        if (r->size == 0 || range_end(r) < r->base) {
            return boot_error(err, errlen, "x86 boot: memory range %u is empty or wraps", i);
        }
        if (i > 0 && r->base < range_end(&cfg->mem_map[i - 1])) {
            return boot_error(err, errlen,
                              "x86 boot: memory range %u (0x%llx) overlaps or precedes the one "
                              "before it",
                              i, (unsigned long long)r->base);
        }
    }
    return 0;
}

/* The end of the RAM that runs on without a gap from addr (addr itself when addr is not in
 * RAM); adjacent RAM ranges count as one. */
static uint64_t ram_run_end(const struct x86_boot_config *cfg, uint64_t addr)
{
    uint64_t end = addr;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        const struct x86_e820_range *r = &cfg->mem_map[i];
        if (r->type == X86_E820_RAM && r->base <= end && range_end(r) > end) {
            end = range_end(r);
        }
    }
    return end;
}

/* Whether [addr, addr + size) is all RAM. */
static bool ram_covers(const struct x86_boot_config *cfg, uint64_t addr, uint64_t size)
{
    return addr + size >= addr && ram_run_end(cfg, addr) >= addr + size;
}

static uint64_t ram_total(const struct x86_boot_config *cfg)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        if (cfg->mem_map[i].type == X86_E820_RAM) {
            total += cfg->mem_map[i].size;
        }
    }
    return total;
}

static uint64_t ram_top(const struct x86_boot_config *cfg)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        if (cfg->mem_map[i].type == X86_E820_RAM && range_end(&cfg->mem_map[i]) > top) {
            top = range_end(&cfg->mem_map[i]);
        }
    }
    return top;
}

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
    return a < b + bsize && b < a + asize;
}

/* Reads a whole file; the loader's message names the file, else we prefix it. When it is the
 * RAM size that refused the file, the message says what to change: -m. */
static int boot_read(const char *what, const char *path, bool gunzip, uint64_t max, uint8_t **data,
                     size_t *size, char *err, size_t errlen)
{
    char lerr[256];
    size_t bound = max > SIZE_MAX ? SIZE_MAX : (size_t)max;
    int r = coremu_load_file(path, gunzip, bound, data, size, lerr, sizeof(lerr));
    if (r != 0) {
        const char *hint =
            r == COREMU_LOAD_TOO_BIG ? ": it does not fit in RAM: give more with -m" : "";
        if (strstr(lerr, path) != NULL) {
            return boot_error(err, errlen, "%s: %s%s", what, lerr, hint);
        }
        return boot_error(err, errlen, "%s %s: %s%s", what, path, lerr, hint);
    }
    if (*size == 0) {
        free(*data);
        *data = NULL;
        return boot_error(err, errlen, "%s %s: the file is empty", what, path);
    }
    return 0;
}

/* Copies to guest RAM that the memory map says is RAM; a failure means the address space
 * disagrees with the map (a board bug), still reported as one line. */
static int boot_copy(struct coremu_as *as, const char *what, uint64_t addr, const void *buf,
                     size_t len, char *err, size_t errlen)
{
    if (len > 0 && coremu_as_copy_to(as, addr, buf, len) != COREMU_MEM_OK) {
        return boot_error(err, errlen, "%s: guest RAM at 0x%llx-0x%llx cannot be written", what,
                          (unsigned long long)addr, (unsigned long long)(addr + len - 1));
    }
    return 0;
}

static int boot_zero(struct coremu_as *as, const char *what, uint64_t addr, uint64_t len, char *err,
                     size_t errlen)
{
    static const uint8_t zeros[PAGE_SIZE];
    while (len > 0) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        if (boot_copy(as, what, addr, zeros, n, err, errlen) != 0) {
            return -1;
        }
        addr += n;
        len -= n;
    }
    return 0;
}

/* The GDT (null, unused, code at 0x10, data at 0x18) and the state's segment fields. */
static int boot_gdt(struct coremu_as *as, bool long_mode, struct x86_boot_state *st, char *err,
                    size_t errlen)
{
    uint8_t gdt[GDT_ENTRIES * 8] = {0};
    uint64_t code = long_mode ? GDT_CODE64 : GDT_CODE32;
    put64(gdt + X86_BOOT_CS, code);
    put64(gdt + X86_BOOT_DS, GDT_DATA);
    st->gdtr_base = X86_BOOT_GDT_ADDR;
    st->gdtr_limit = (uint16_t)(sizeof(gdt) - 1);
    st->cs = X86_BOOT_CS;
    st->ds = st->es = st->fs = st->gs = st->ss = X86_BOOT_DS;
    st->cs_long = long_mode;
    st->cs_descriptor = code;
    st->data_descriptor = GDT_DATA;
    st->rflags = X86_RFLAGS_FIXED;
    return boot_copy(as, "the GDT", X86_BOOT_GDT_ADDR, gdt, sizeof(gdt), err, errlen);
}

/* Identity tables for [0, map_end), map_end a multiple of 1 GiB of at most PGTABLE_MAX_GIB. */
static int boot_page_tables(struct coremu_as *as, uint64_t map_end, uint64_t *tables_end, char *err,
                            size_t errlen)
{
    unsigned ngib = (unsigned)(map_end / GIB);
    size_t size = (size_t)(2 + ngib) * PAGE_SIZE;
    uint8_t *t = calloc(1, size);
    if (t == NULL) {
        return boot_error(err, errlen, "x86 boot: out of memory for the page tables");
    }
    const uint64_t pml4 = X86_BOOT_PGTABLE_ADDR, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
    put64(t, pdpt | PTE_TABLE);
    for (unsigned g = 0; g < ngib; g++) {
        put64(t + PAGE_SIZE + 8 * g, (pd + (uint64_t)g * PAGE_SIZE) | PTE_TABLE);
        uint8_t *dir = t + (size_t)(2 + g) * PAGE_SIZE;
        for (unsigned i = 0; i < 512; i++) {
            put64(dir + 8 * i, ((uint64_t)g * GIB + (uint64_t)i * (2 * MIB)) | PTE_LARGE);
        }
    }
    int r = boot_copy(as, "the page tables", pml4, t, size, err, errlen);
    free(t);
    *tables_end = pml4 + size;
    return r;
}

/* The highest page-aligned home for size bytes of initrd in RAM below limit, clear of
 * [avoid, avoid_end) and of the low boot data. 0 when there is none. */
static uint64_t place_initrd_high(const struct x86_boot_config *cfg, uint64_t size, uint64_t limit,
                                  uint64_t avoid, uint64_t avoid_end)
{
    uint64_t best = 0;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        const struct x86_e820_range *r = &cfg->mem_map[i];
        if (r->type != X86_E820_RAM) {
            continue;
        }
        uint64_t lo = r->base > X86_BOOT_PGTABLE_END ? r->base : X86_BOOT_PGTABLE_END;
        uint64_t hi = range_end(r) < limit ? range_end(r) : limit;
        /* Above the kernel's range, else below it. */
        uint64_t windows[2][2] = {{lo > avoid_end ? lo : avoid_end, hi},
                                  {lo, hi < avoid ? hi : avoid}};
        for (unsigned w = 0; w < 2; w++) {
            uint64_t wlo = windows[w][0], whi = windows[w][1];
            if (whi <= wlo || whi - wlo < size) {
                continue;
            }
            uint64_t start = align_down(whi - size, PAGE_SIZE);
            if (start >= wlo && start > best) {
                best = start;
            }
        }
    }
    return best;
}

/* The first page-aligned home for size bytes at or above from, in RAM below 4 GiB. */
static uint64_t place_module_low(const struct x86_boot_config *cfg, uint64_t size, uint64_t from)
{
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        const struct x86_e820_range *r = &cfg->mem_map[i];
        if (r->type != X86_E820_RAM) {
            continue;
        }
        uint64_t start = align_up(r->base > from ? r->base : from, PAGE_SIZE);
        uint64_t end = range_end(r) < FOUR_GIB ? range_end(r) : FOUR_GIB;
        if (start < end && end - start >= size) {
            return start;
        }
    }
    return 0;
}

/* ---- Linux ---------------------------------------------------------------------------------- */

static bool is_bzimage(const uint8_t *img, size_t size)
{
    return size >= BZ_MAGIC + 4 && memcmp(img + BZ_MAGIC, "HdrS", 4) == 0;
}

static int boot_linux(struct coremu_as *as, const struct x86_boot_config *cfg, const uint8_t *img,
                      size_t size, struct x86_boot_info *info, char *err, size_t errlen)
{
    const char *path = cfg->kernel;
    if (size < BZ_VERSION + 2) {
        return boot_error(err, errlen, "-kernel %s: a truncated bzImage (%zu bytes)", path, size);
    }
    unsigned version = get16(img + BZ_VERSION);
    if (version < BZ_MIN_VERSION) {
        return boot_error(err, errlen,
                          "-kernel %s: Linux boot protocol %u.%02u is too old: coremu uses the "
                          "64-bit entry point, which needs protocol 2.12 (Linux 3.8) or later",
                          path, version >> 8, version & 0xff);
    }
    size_t header_end = (size_t)0x202 + img[BZ_HEADER_LEN];
    if (header_end < BZ_HEADER_MIN_END || header_end > ZP_E820_TABLE) {
        return boot_error(err, errlen,
                          "-kernel %s: a malformed bzImage (its setup header ends at 0x%zx)", path,
                          header_end);
    }
    if (size < header_end) {
        return boot_error(err, errlen,
                          "-kernel %s: a truncated bzImage (%zu bytes: the setup header is cut "
                          "short)",
                          path, size);
    }
    if (get16(img + BZ_BOOT_FLAG) != BZ_BOOT_FLAG_VALUE) {
        return boot_error(err, errlen, "-kernel %s: a malformed bzImage (no 0xAA55 boot flag)",
                          path);
    }
    if ((get16(img + BZ_XLOADFLAGS) & BZ_XLF_KERNEL_64) == 0) {
        return boot_error(err, errlen,
                          "-kernel %s: this Linux kernel has no 64-bit entry point (a 32-bit "
                          "kernel?): coremu-system-x86_64 boots 64-bit kernels",
                          path);
    }
    unsigned setup_sects = img[BZ_SETUP_SECTS] != 0 ? img[BZ_SETUP_SECTS] : 4;
    size_t setup_size = ((size_t)setup_sects + 1) * 512;
    uint64_t sys_bytes = (uint64_t)get32(img + BZ_SYSSIZE) * 16;
    if (size <= setup_size || size - setup_size < sys_bytes) {
        return boot_error(err, errlen,
                          "-kernel %s: a truncated bzImage (%zu bytes; its header says %zu of "
                          "setup code and %llu of kernel)",
                          path, size, setup_size, (unsigned long long)sys_bytes);
    }
    const uint8_t *pm = img + setup_size;
    size_t pm_size = size - setup_size;

    uint64_t pref = get64(img + BZ_PREF_ADDRESS);
    uint32_t kalign = get32(img + BZ_KERNEL_ALIGNMENT);
    bool relocatable = img[BZ_RELOCATABLE] != 0;
    uint64_t load = pref != 0 ? pref : MIB;
    if (relocatable && kalign != 0 && (kalign & (kalign - 1)) == 0) {
        load = align_up(load, kalign);
    }
    if (load < MIB) {
        return boot_error(err, errlen,
                          "-kernel %s: a malformed bzImage (pref_address 0x%llx is below 1 MiB)",
                          path, (unsigned long long)load);
    }
    uint64_t init_size = get32(img + BZ_INIT_SIZE);
    uint64_t reserve = init_size > pm_size ? init_size : pm_size;
    if (!ram_covers(cfg, load, reserve)) {
        return boot_error(err, errlen,
                          "-kernel %s: the kernel needs RAM at 0x%llx-0x%llx (its load address "
                          "and init_size): give more with -m",
                          path, (unsigned long long)load, (unsigned long long)(load + reserve - 1));
    }

    /* The command line (an empty one when there is no -append: cmd_line_ptr must be set). */
    const char *append = cfg->append != NULL ? cfg->append : "";
    size_t cmdlen = strlen(append);
    uint32_t cmdline_max = get32(img + BZ_CMDLINE_SIZE);
    if (cmdlen > cmdline_max || cmdlen >= X86_BOOT_CMDLINE_MAX) {
        return boot_error(
            err, errlen, "-append: %zu characters, more than this kernel takes (%u)", cmdlen,
            cmdline_max < X86_BOOT_CMDLINE_MAX - 1 ? cmdline_max : X86_BOOT_CMDLINE_MAX - 1);
    }

    /* The identity map: all of RAM, at least 4 GiB, at most what the table space holds. */
    uint64_t map_end = align_up(ram_top(cfg), GIB);
    if (map_end < FOUR_GIB) {
        map_end = FOUR_GIB;
    }
    if (map_end > PGTABLE_MAX_GIB * GIB) {
        map_end = PGTABLE_MAX_GIB * GIB;
    }
    if (load + reserve > map_end) {
        return boot_error(err, errlen,
                          "-kernel %s: its load address 0x%llx is beyond the %llu GiB the boot "
                          "page tables map",
                          path, (unsigned long long)load, (unsigned long long)(map_end / GIB));
    }

    uint8_t *initrd = NULL;
    size_t initrd_size = 0;
    uint64_t initrd_addr = 0;
    if (cfg->initrd != NULL) {
        if (boot_read("-initrd", cfg->initrd, false, ram_total(cfg), &initrd, &initrd_size, err,
                      errlen) != 0) {
            return -1;
        }
        uint64_t limit = (uint64_t)get32(img + BZ_INITRD_ADDR_MAX) + 1;
        if (limit > FOUR_GIB) {
            limit = FOUR_GIB;
        }
        initrd_addr = place_initrd_high(cfg, initrd_size, limit, load, load + reserve);
        if (initrd_addr == 0) {
            free(initrd);
            return boot_error(err, errlen,
                              "-initrd %s: %zu bytes do not fit in RAM below 0x%llx beside the "
                              "kernel: give more with -m",
                              cfg->initrd, initrd_size, (unsigned long long)limit);
        }
    }

    /* The zero page: all zeros but the setup header and what we fill in. */
    uint8_t zp[ZP_SIZE] = {0};
    memcpy(zp + BZ_SETUP_SECTS, img + BZ_SETUP_SECTS, header_end - BZ_SETUP_SECTS);
    zp[BZ_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
    put32(zp + BZ_CODE32_START, (uint32_t)load);
    put32(zp + BZ_CMD_LINE_PTR, X86_BOOT_CMDLINE_ADDR);
    put32(zp + BZ_RAMDISK_IMAGE, (uint32_t)initrd_addr);
    put32(zp + BZ_RAMDISK_SIZE, (uint32_t)initrd_size);
    put64(zp + ZP_ACPI_RSDP_ADDR, cfg->acpi_rsdp_addr);
    zp[ZP_E820_ENTRIES] = (uint8_t)cfg->mem_map_len;
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        uint8_t *e = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;
        put64(e, cfg->mem_map[i].base);
        put64(e + 8, cfg->mem_map[i].size);
        put32(e + 16, cfg->mem_map[i].type);
    }

    uint64_t tables_end = 0;
    int ret = -1;
    if (boot_copy(as, "-kernel", load, pm, pm_size, err, errlen) != 0 ||
        (initrd != NULL &&
         boot_copy(as, "-initrd", initrd_addr, initrd, initrd_size, err, errlen) != 0) ||
        boot_copy(as, "the zero page", X86_BOOT_PARAMS_ADDR, zp, sizeof(zp), err, errlen) != 0 ||
        boot_copy(as, "-append", X86_BOOT_CMDLINE_ADDR, append, cmdlen + 1, err, errlen) != 0 ||
        boot_page_tables(as, map_end, &tables_end, err, errlen) != 0 ||
        boot_gdt(as, true, &info->state, err, errlen) != 0) {
        goto out;
    }

    info->kind = X86_BOOT_LINUX;
    info->kernel = (struct x86_boot_region){load, pm_size};
    info->initrd = (struct x86_boot_region){initrd_addr, initrd_size};
    info->data = (struct x86_boot_region){X86_BOOT_GDT_ADDR, tables_end - X86_BOOT_GDT_ADDR};
    info->params_addr = X86_BOOT_PARAMS_ADDR;
    info->cmdline_addr = X86_BOOT_CMDLINE_ADDR;
    info->kernel_reserved_end = load + reserve;
    info->identity_map_end = map_end;

    struct x86_boot_state *st = &info->state;
    st->rip = load + BZ_ENTRY64_OFFSET;
    st->rsi = X86_BOOT_PARAMS_ADDR;
    st->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
    st->cr3 = X86_BOOT_PGTABLE_ADDR;
    st->cr4 = X86_CR4_PAE;
    st->efer = X86_EFER_LME | X86_EFER_LMA;
    ret = 0;
out:
    free(initrd);
    return ret;
}

/* ---- Multiboot ------------------------------------------------------------------------------ */

/* The offset of a valid multiboot header in the first 8 KiB, or -1. */
static long find_multiboot_header(const uint8_t *img, size_t size)
{
    size_t limit = size < MB_SEARCH_LIMIT ? size : MB_SEARCH_LIMIT;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        if (get32(img + off) == MB_HEADER_MAGIC &&
            (uint32_t)(get32(img + off) + get32(img + off + 4) + get32(img + off + 8)) == 0) {
            return (long)off;
        }
    }
    return -1;
}

/* The kernel's bytes may not land on the low boot data nor outside RAM. */
static int check_kernel_range(const struct x86_boot_config *cfg, uint64_t addr, uint64_t size,
                              char *err, size_t errlen)
{
    if (size == 0) {
        return 0;
    }
    if (addr + size > FOUR_GIB || addr + size < addr) {
        return boot_error(err, errlen,
                          "-kernel %s: loads at 0x%llx-0x%llx, above 4 GiB, where a multiboot "
                          "kernel cannot be",
                          cfg->kernel, (unsigned long long)addr,
                          (unsigned long long)(addr + size - 1));
    }
    if (overlaps(addr, size, 0, MB_DATA_END)) {
        return boot_error(err, errlen,
                          "-kernel %s: loads at 0x%llx-0x%llx, over the boot data below 0x%x",
                          cfg->kernel, (unsigned long long)addr,
                          (unsigned long long)(addr + size - 1), MB_DATA_END);
    }
    if (!ram_covers(cfg, addr, size)) {
        return boot_error(err, errlen, "-kernel %s: loads at 0x%llx-0x%llx, which is not all RAM%s",
                          cfg->kernel, (unsigned long long)addr,
                          (unsigned long long)(addr + size - 1),
                          addr + size > ram_top(cfg) ? ": give more with -m" : "");
    }
    return 0;
}

/*
 * Checks every loadable segment of an ELF image that coremu_is_elf accepted, before anything is
 * written (a malformed header is left for coremu_load_elf_image to report). One kind of segment
 * outside RAM is dropped instead (its type set to PT_NULL in img, the caller's copy): one that
 * holds nothing but the ELF header and program headers. GNU ld makes it, with its default
 * script and -z separate-code (the default on x86), a page below a text that starts at 1 MiB:
 * at 0xff000, in the PC's BIOS area. The kernel does not run it, and a bare-metal program
 * linked with -Ttext=0x100000 would otherwise be refused for it.
 */
static int check_elf_segments(const struct x86_boot_config *cfg, uint8_t *img, size_t size,
                              char *err, size_t errlen)
{
    bool is64 = size > 4 && img[4] == 2;
    if (size < (is64 ? 64u : 52u)) {
        return 0;
    }
    uint64_t phoff = is64 ? get64(img + 0x20) : get32(img + 0x1c);
    unsigned phentsize = get16(img + (is64 ? 0x36 : 0x2a));
    unsigned phnum = get16(img + (is64 ? 0x38 : 0x2c));
    if (phentsize < (is64 ? 56u : 32u) || phoff > size || (size - phoff) / phentsize < phnum) {
        return 0;
    }
    uint64_t headers_end = phoff + (uint64_t)phnum * phentsize;
    for (unsigned i = 0; i < phnum; i++) {
        uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
        uint64_t offset = is64 ? get64(ph + 0x08) : get32(ph + 4);
        uint64_t paddr = is64 ? get64(ph + 0x18) : get32(ph + 12);
        uint64_t filesz = is64 ? get64(ph + 0x20) : get32(ph + 16);
        uint64_t memsz = is64 ? get64(ph + 0x28) : get32(ph + 20);
        if (get32(ph) != 1 /* PT_LOAD */) {
            continue;
        }
        bool headers_only = offset == 0 && filesz == memsz && filesz <= headers_end;
        if (headers_only && !ram_covers(cfg, paddr, memsz)) {
            put32(ph, 0); /* PT_NULL */
            continue;
        }
        if (check_kernel_range(cfg, paddr, memsz, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Loads the kernel image as the header's address fields say (flag 16). */
static int load_multiboot_aout(struct coremu_as *as, const struct x86_boot_config *cfg,
                               const uint8_t *img, size_t size, size_t hdr, uint64_t *entry,
                               struct x86_boot_region *kernel, char *err, size_t errlen)
{
    const char *path = cfg->kernel;
    if (size - hdr < 32) {
        return boot_error(err, errlen,
                          "-kernel %s: the multiboot header's address fields are cut short", path);
    }
    uint32_t header_addr = get32(img + hdr + 12), load_addr = get32(img + hdr + 16);
    uint32_t load_end = get32(img + hdr + 20), bss_end = get32(img + hdr + 24);
    *entry = get32(img + hdr + 28);
    if (load_addr > header_addr || header_addr - load_addr > hdr) {
        return boot_error(err, errlen,
                          "-kernel %s: the multiboot header's load_addr 0x%x does not fit its "
                          "header_addr 0x%x at file offset 0x%zx",
                          path, load_addr, header_addr, hdr);
    }
    size_t file_off = hdr - (header_addr - load_addr);
    uint64_t load_len = load_end == 0 ? size - file_off : (uint64_t)load_end - load_addr;
    if (load_end != 0 && (load_end < load_addr || load_len > size - file_off)) {
        return boot_error(err, errlen,
                          "-kernel %s: the multiboot header's load_end_addr 0x%x lies outside "
                          "the %zu-byte file (load_addr 0x%x)",
                          path, load_end, size, load_addr);
    }
    uint64_t end = (uint64_t)load_addr + load_len;
    if (bss_end != 0) {
        if (bss_end < end) {
            return boot_error(err, errlen,
                              "-kernel %s: the multiboot header's bss_end_addr 0x%x lies below "
                              "the end of what is loaded (0x%llx)",
                              path, bss_end, (unsigned long long)end);
        }
        end = bss_end;
    }
    if (check_kernel_range(cfg, load_addr, end - load_addr, err, errlen) != 0) {
        return -1;
    }
    /* The specification does not ask the entry to lie in the image, only somewhere to jump. */
    if (!ram_covers(cfg, *entry, 1)) {
        return boot_error(err, errlen, "-kernel %s: the multiboot entry_addr 0x%llx is not in RAM",
                          path, (unsigned long long)*entry);
    }
    if (boot_copy(as, "-kernel", load_addr, img + file_off, (size_t)load_len, err, errlen) != 0 ||
        boot_zero(as, "-kernel", load_addr + load_len, end - load_addr - load_len, err, errlen) !=
            0) {
        return -1;
    }
    *kernel = (struct x86_boot_region){load_addr, end - load_addr};
    return 0;
}

static int load_multiboot_elf(struct coremu_as *as, const struct x86_boot_config *cfg,
                              const uint8_t *img, size_t size, uint64_t *entry,
                              struct x86_boot_region *kernel, char *err, size_t errlen)
{
    const char *path = cfg->kernel;
    if (!coremu_is_elf(img, size)) {
        return boot_error(err, errlen,
                          "-kernel %s: a multiboot kernel must be an ELF executable unless its "
                          "header gives the load addresses (flag 16)",
                          path);
    }
    unsigned machine = size >= 20 ? get16(img + 18) : 0;
    if (machine != EM_386 && machine != EM_X86_64) {
        return boot_error(err, errlen, "-kernel %s: an ELF file for machine %u, not x86", path,
                          machine);
    }
    uint8_t *copy = malloc(size);
    if (copy == NULL) {
        return boot_error(err, errlen, "-kernel %s: out of memory", path);
    }
    memcpy(copy, img, size);
    struct coremu_elf_info ei;
    char lerr[256];
    int r = check_elf_segments(cfg, copy, size, err, errlen);
    if (r == 0 && coremu_load_elf_image(as, copy, size, 0, &ei, lerr, sizeof(lerr)) != 0) {
        r = boot_error(err, errlen, "-kernel %s: %s", path, lerr);
    }
    free(copy);
    if (r != 0) {
        return -1;
    }
    if (ei.entry >= FOUR_GIB || !ram_covers(cfg, ei.entry, 1)) {
        return boot_error(err, errlen, "-kernel %s: the entry point 0x%llx is not in RAM", path,
                          (unsigned long long)ei.entry);
    }
    *entry = ei.entry;
    *kernel = (struct x86_boot_region){ei.low, ei.high - ei.low};
    return 0;
}

static int boot_multiboot(struct coremu_as *as, const struct x86_boot_config *cfg,
                          const uint8_t *img, size_t size, size_t hdr, struct x86_boot_info *info,
                          char *err, size_t errlen)
{
    const char *path = cfg->kernel;
    uint32_t flags = get32(img + hdr + 4);
    if (flags & MB_FLAG_VIDEO) {
        return boot_error(err, errlen,
                          "-kernel %s: the multiboot kernel requires video mode information "
                          "(header flag 2), which coremu cannot give (it has no graphics)",
                          path);
    }
    uint32_t unknown = flags & 0xffffu & ~(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY);
    if (unknown != 0) {
        return boot_error(err, errlen,
                          "-kernel %s: the multiboot kernel requires features coremu does not "
                          "know (header flags 0x%x)",
                          path, unknown);
    }

    /* The command line: the kernel's name, then -append; the module's name after it. */
    size_t cmdlen = strlen(path) + (cfg->append != NULL ? 1 + strlen(cfg->append) : 0);
    size_t modstr = align_up(cmdlen + 1, 4);
    size_t strings = modstr + (cfg->initrd != NULL ? strlen(cfg->initrd) + 1 : 0);
    if (strings > X86_BOOT_CMDLINE_MAX) {
        return boot_error(err, errlen,
                          "-append: the multiboot command line and module name take %zu bytes, "
                          "more than the %u coremu has room for",
                          strings, X86_BOOT_CMDLINE_MAX);
    }

    uint64_t entry = 0;
    struct x86_boot_region kernel = {0, 0};
    int r = (flags & MB_FLAG_ADDRESSES)
                ? load_multiboot_aout(as, cfg, img, size, (size_t)hdr, &entry, &kernel, err, errlen)
                : load_multiboot_elf(as, cfg, img, size, &entry, &kernel, err, errlen);
    if (r != 0) {
        return -1;
    }

    uint8_t *initrd = NULL;
    size_t initrd_size = 0;
    uint64_t initrd_addr = 0;
    if (cfg->initrd != NULL) {
        if (boot_read("-initrd", cfg->initrd, false, ram_total(cfg), &initrd, &initrd_size, err,
                      errlen) != 0) {
            return -1;
        }
        uint64_t from = kernel.addr + kernel.size;
        initrd_addr = place_module_low(cfg, initrd_size, from > MIB ? from : MIB);
        if (initrd_addr == 0) {
            free(initrd);
            return boot_error(err, errlen,
                              "-initrd %s: %zu bytes do not fit in RAM below 4 GiB above the "
                              "kernel: give more with -m",
                              cfg->initrd, initrd_size);
        }
    }

    char *cmd = calloc(1, strings);
    uint8_t page[PAGE_SIZE] = {0};
    int ret = -1;
    if (cmd == NULL) {
        boot_error(err, errlen, "x86 boot: out of memory");
        goto out;
    }
    snprintf(cmd, cmdlen + 1, "%s%s%s", path, cfg->append != NULL ? " " : "",
             cfg->append != NULL ? cfg->append : "");
    if (cfg->initrd != NULL) {
        memcpy(cmd + modstr, cfg->initrd, strlen(cfg->initrd) + 1);
    }

    /* The information structure, with everything it points to in the same page. */
    const uint64_t base = X86_BOOT_PARAMS_ADDR;
    uint32_t iflags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
    uint64_t lower = ram_run_end(cfg, 0);
    uint64_t upper = ram_run_end(cfg, MIB) - MIB;
    put32(page + 4, (uint32_t)((lower < 640 * 1024 ? lower : 640 * 1024) / 1024));
    put32(page + 8, (uint32_t)(upper / 1024 > UINT32_MAX ? UINT32_MAX : upper / 1024));
    put32(page + 16, X86_BOOT_CMDLINE_ADDR);
    if (cfg->initrd != NULL) {
        iflags |= MB_INFO_MODS;
        put32(page + 20, 1);
        put32(page + 24, (uint32_t)(base + MB_MODS_OFFSET));
        uint8_t *mod = page + MB_MODS_OFFSET;
        put32(mod, (uint32_t)initrd_addr);
        put32(mod + 4, (uint32_t)(initrd_addr + initrd_size));
        put32(mod + 8, (uint32_t)(X86_BOOT_CMDLINE_ADDR + modstr));
    }
    put32(page + 44, cfg->mem_map_len * MB_MMAP_ENTRY_SIZE);
    put32(page + 48, (uint32_t)(base + MB_MMAP_OFFSET));
    for (unsigned i = 0; i < cfg->mem_map_len; i++) {
        uint8_t *e = page + MB_MMAP_OFFSET + i * MB_MMAP_ENTRY_SIZE;
        put32(e, MB_MMAP_ENTRY_SIZE - 4);
        put64(e + 4, cfg->mem_map[i].base);
        put64(e + 12, cfg->mem_map[i].size);
        put32(e + 20, cfg->mem_map[i].type);
    }
    memcpy(page + MB_LOADER_NAME_OFFSET, MB_LOADER_NAME, sizeof(MB_LOADER_NAME));
    put32(page + 64, (uint32_t)(base + MB_LOADER_NAME_OFFSET));
    put32(page, iflags);

    if ((initrd != NULL &&
         boot_copy(as, "-initrd", initrd_addr, initrd, initrd_size, err, errlen) != 0) ||
        boot_copy(as, "the multiboot information", base, page, sizeof(page), err, errlen) != 0 ||
        boot_copy(as, "-append", X86_BOOT_CMDLINE_ADDR, cmd, strings, err, errlen) != 0 ||
        boot_gdt(as, false, &info->state, err, errlen) != 0) {
        goto out;
    }

    info->kind = X86_BOOT_MULTIBOOT;
    info->kernel = kernel;
    info->initrd = (struct x86_boot_region){initrd_addr, initrd_size};
    info->data = (struct x86_boot_region){X86_BOOT_GDT_ADDR,
                                          align_up(X86_BOOT_CMDLINE_ADDR + strings, PAGE_SIZE) -
                                              X86_BOOT_GDT_ADDR};
    info->params_addr = base;
    info->cmdline_addr = X86_BOOT_CMDLINE_ADDR;

    struct x86_boot_state *st = &info->state;
    st->rip = entry;
    st->rax = X86_MULTIBOOT_BOOTLOADER_MAGIC;
    st->rbx = base;
    st->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
    ret = 0;
out:
    free(cmd);
    free(initrd);
    return ret;
}

/* ---- The entry points ------------------------------------------------------------------- */

int x86_boot_load(struct coremu_as *as, const struct x86_boot_config *cfg,
                  struct x86_boot_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    if (cfg->kernel == NULL) {
        return boot_error(err, errlen, "x86 boot: no -kernel given");
    }
    if (check_mem_map(cfg, err, errlen) != 0) {
        return -1;
    }
    if (!ram_covers(cfg, X86_BOOT_GDT_ADDR, X86_BOOT_PGTABLE_END - X86_BOOT_GDT_ADDR)) {
        return boot_error(err, errlen,
                          "x86 boot: the memory map has no RAM at 0x%x-0x%x for the boot data",
                          X86_BOOT_GDT_ADDR, X86_BOOT_PGTABLE_END - 1);
    }

    uint8_t *img = NULL;
    size_t size = 0;
    if (boot_read("-kernel", cfg->kernel, true, ram_total(cfg), &img, &size, err, errlen) != 0) {
        return -1;
    }
    int ret;
    long mb;
    if (is_bzimage(img, size)) {
        ret = boot_linux(as, cfg, img, size, info, err, errlen);
    } else if ((mb = find_multiboot_header(img, size)) >= 0) {
        ret = boot_multiboot(as, cfg, img, size, (size_t)mb, info, err, errlen);
    } else if (coremu_is_elf(img, size)) {
        ret = boot_error(err, errlen,
                         "-kernel %s: a %s ELF file without a multiboot header: "
                         "coremu-system-x86_64 boots a Linux bzImage (boot protocol 2.12 or "
                         "later) or a multiboot kernel (a 32-bit ELF, or any image whose header "
                         "gives its load addresses)",
                         cfg->kernel, size > 4 && img[4] == 2 ? "64-bit" : "32-bit");
    } else {
        ret = boot_error(err, errlen,
                         "-kernel %s: neither a Linux bzImage nor a multiboot kernel "
                         "(coremu-system-x86_64 boots those two)",
                         cfg->kernel);
    }
    free(img);
    if (ret != 0) {
        memset(info, 0, sizeof(*info));
    }
    return ret;
}

int x86_boot_keep_images(struct coremu_board *board, const struct x86_boot_info *info, char *err,
                         size_t errlen)
{
    const struct x86_boot_region *keep[] = {&info->kernel, &info->initrd, &info->data};
    for (size_t i = 0; i < COREMU_ARRAY_SIZE(keep); i++) {
        if (keep[i]->size > SIZE_MAX) {
            return boot_error(err, errlen, "x86 boot: an image of %llu bytes cannot be kept",
                              (unsigned long long)keep[i]->size);
        }
        if (coremu_board_keep_image(board, keep[i]->addr, (size_t)keep[i]->size, err, errlen) !=
            0) {
            return -1;
        }
    }
    return 0;
}
