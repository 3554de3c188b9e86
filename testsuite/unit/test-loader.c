/*
 * Image loading: ELF32/ELF64 executables built here with <elf.h>, raw and gzip-compressed
 * files, and every kind of truncated or malformed input, which must end in a one-line error.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <coremu/loader.h>
#include <coremu/physmem.h>

#include "unit.h"

#define RAM_SIZE 0x100000ull /* at guest address 0 */

static char tmpdir[] = "/tmp/coremu-test-loader-XXXXXX";
static struct coremu_as *as;
static uint8_t *ram;

struct seg {
    uint32_t type;
    uint64_t paddr, vaddr;
    const void *data;
    uint64_t filesz, memsz;
};

/* Builds an ELF executable: header, program headers, then each segment's bytes in order. */
static size_t build_elf(uint8_t *out, size_t cap, unsigned cls, uint16_t machine, uint64_t entry,
                        const struct seg *segs, unsigned n)
{
    size_t ehsize = cls == 32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    size_t phsize = cls == 32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
    size_t off = ehsize + n * phsize;
    memset(out, 0, cap);
    unsigned char ident[EI_NIDENT] = {ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
                                      cls == 32 ? ELFCLASS32 : ELFCLASS64, ELFDATA2LSB,
                                      EV_CURRENT};
    for (unsigned i = 0; i < n; i++) {
        uint64_t seg_off = segs[i].data ? off : 0;
        if (cls == 32) {
            Elf32_Phdr ph = {.p_type = segs[i].type, .p_offset = (Elf32_Off)seg_off,
                             .p_vaddr = (Elf32_Addr)segs[i].vaddr,
                             .p_paddr = (Elf32_Addr)segs[i].paddr,
                             .p_filesz = (Elf32_Word)segs[i].filesz,
                             .p_memsz = (Elf32_Word)segs[i].memsz, .p_flags = PF_R | PF_X,
                             .p_align = 4};
            memcpy(out + ehsize + i * phsize, &ph, sizeof(ph));
        } else {
            Elf64_Phdr ph = {.p_type = segs[i].type, .p_offset = seg_off,
                             .p_vaddr = segs[i].vaddr, .p_paddr = segs[i].paddr,
                             .p_filesz = segs[i].filesz, .p_memsz = segs[i].memsz,
                             .p_flags = PF_R | PF_X, .p_align = 8};
            memcpy(out + ehsize + i * phsize, &ph, sizeof(ph));
        }
        if (segs[i].data) {
            memcpy(out + off, segs[i].data, segs[i].filesz);
            off += segs[i].filesz;
        }
    }
    if (cls == 32) {
        Elf32_Ehdr eh = {.e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
                         .e_entry = (Elf32_Addr)entry, .e_phoff = (Elf32_Off)ehsize,
                         .e_ehsize = (Elf32_Half)ehsize, .e_phentsize = (Elf32_Half)phsize,
                         .e_phnum = (Elf32_Half)n};
        memcpy(eh.e_ident, ident, EI_NIDENT);
        memcpy(out, &eh, sizeof(eh));
    } else {
        Elf64_Ehdr eh = {.e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
                         .e_entry = entry, .e_phoff = ehsize, .e_ehsize = (Elf64_Half)ehsize,
                         .e_phentsize = (Elf64_Half)phsize, .e_phnum = (Elf64_Half)n};
        memcpy(eh.e_ident, ident, EI_NIDENT);
        memcpy(out, &eh, sizeof(eh));
    }
    return off;
}

static char *path_in_tmp(const char *name)
{
    return unit_path_in(tmpdir, name);
}

static void write_gzip(const char *path, const void *data, size_t len)
{
    gzFile g = gzopen(path, "wb9");
    UNIT_REQUIRE(g != NULL, "setup: gzopen", "%s", path);
    UNIT_REQUIRE(gzwrite(g, data, (unsigned)len) == (int)len, "setup: gzwrite", "short write");
    gzclose(g);
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* A failure must come with a message of exactly one line. */
static bool one_line(const char *err)
{
    return err[0] != '\0' && strchr(err, '\n') == NULL;
}

static const uint8_t text[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t data8[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

static bool all_bytes(uint64_t addr, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++) {
        if (ram[addr + i] != v) {
            return false;
        }
    }
    return true;
}

static void test_elf32(void)
{
    uint8_t img[1024];
    struct seg segs[] = {
        {PT_LOAD, 0x1000, 0xc0001000, text, sizeof(text), sizeof(text)},
        {PT_NOTE, 0xf0000000, 0xf0000000, NULL, 0, 0x100}, /* ignored: not PT_LOAD */
        {PT_LOAD, 0x2000, 0xc0002000, data8, sizeof(data8), 0x100},
    };
    size_t len = build_elf(img, sizeof(img), 32, EM_ARM, 0x1000, segs, 3);
    memset(ram + 0x2000, 0xaa, 0x200);
    struct coremu_elf_info info = {0};
    char err[256] = "";
    int r = coremu_load_elf_image(as, img, len, EM_ARM, &info, err, sizeof(err));
    UNIT_CHECK(r == 0, "elf32: loads", "%s", err);
    UNIT_CHECK(info.entry == 0x1000 && info.low == 0x1000 && info.high == 0x2100 &&
                   info.elf_class == 32 && info.machine == EM_ARM,
               "elf32: info", "entry %#" PRIx64 " low %#" PRIx64 " high %#" PRIx64 " class %u",
               info.entry, info.low, info.high, info.elf_class);
    UNIT_CHECK(memcmp(ram + 0x1000, text, sizeof(text)) == 0 &&
                   memcmp(ram + 0x2000, data8, sizeof(data8)) == 0,
               "elf32: segments at p_paddr", "contents differ");
    UNIT_CHECK(all_bytes(0x2008, 0xf8, 0) && all_bytes(0x2100, 0x100, 0xaa),
               "elf32: bss zeroed, nothing beyond it", "bss wrong");
    UNIT_CHECK(coremu_is_elf(img, len) && !coremu_is_elf(text, sizeof(text)) &&
                   !coremu_is_elf(img, 3),
               "elf: magic test", "wrong");

    r = coremu_load_elf_image(as, img, len, EM_X86_64, NULL, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "machine") != NULL,
               "elf32: wrong machine rejected", "r=%d err=%s", r, err);

    /* The same image from a file, plain and gzip'd. */
    const char *p = path_in_tmp("a.elf"), *pz = path_in_tmp("a.elf.gz");
    unit_write_file(p, img, len);
    write_gzip(pz, img, len);
    memset(ram + 0x1000, 0, 16);
    r = coremu_load_elf(as, p, 0, &info, err, sizeof(err));
    UNIT_CHECK(r == 0 && memcmp(ram + 0x1000, text, 16) == 0, "elf32: from a file", "%s", err);
    memset(ram + 0x1000, 0, 16);
    r = coremu_load_elf(as, pz, EM_ARM, &info, err, sizeof(err));
    UNIT_CHECK(r == 0 && memcmp(ram + 0x1000, text, 16) == 0 && info.entry == 0x1000,
               "elf32: from a gzip'd file", "%s", err);
    r = coremu_load_elf(as, path_in_tmp("missing.elf"), 0, &info, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "missing.elf") != NULL,
               "elf: missing file names the file", "err=%s", err);
}

static void test_elf64(void)
{
    uint8_t img[1024];
    uint8_t big[200];
    for (unsigned i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i ^ 0x5a);
    }
    struct seg segs[] = {
        {PT_LOAD, 0x3000, 0xffffffff81003000ull, big, sizeof(big), 0x2000},
        {PT_LOAD, 0x8000, 0xffffffff81008000ull, NULL, 0, 0x40}, /* pure bss */
    };
    size_t len = build_elf(img, sizeof(img), 64, EM_X86_64, 0x3000, segs, 2);
    memset(ram + 0x3000, 0xaa, 0x6000);
    struct coremu_elf_info info = {0};
    char err[256] = "";
    int r = coremu_load_elf_image(as, img, len, EM_X86_64, &info, err, sizeof(err));
    UNIT_CHECK(r == 0, "elf64: loads", "%s", err);
    UNIT_CHECK(info.entry == 0x3000 && info.low == 0x3000 && info.high == 0x8040 &&
                   info.elf_class == 64 && info.machine == EM_X86_64,
               "elf64: info", "entry %#" PRIx64 " low %#" PRIx64 " high %#" PRIx64 " class %u",
               info.entry, info.low, info.high, info.elf_class);
    UNIT_CHECK(memcmp(ram + 0x3000, big, sizeof(big)) == 0 &&
                   all_bytes(0x3000 + sizeof(big), 0x2000 - sizeof(big), 0) &&
                   all_bytes(0x5000, 0x3000, 0xaa) && all_bytes(0x8000, 0x40, 0) &&
                   all_bytes(0x8040, 0x10, 0xaa),
               "elf64: data, bss and pure-bss segment", "contents wrong");
}

/* Loads a bad image; it must fail with a one-line message and leave RAM untouched. */
static void expect_bad(const char *name, const uint8_t *img, size_t len, const char *needle)
{
    char err[256] = "";
    memset(ram + 0x1000, 0x5c, 0x20);
    int r = coremu_load_elf_image(as, img, len, 0, NULL, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && (needle == NULL || strstr(err, needle) != NULL) &&
                   all_bytes(0x1000, 0x20, 0x5c),
               name, "r=%d err='%s'", r, err);
}

static void test_elf_bad(void)
{
    uint8_t good[1024], img[1024];
    struct seg segs[] = {
        {PT_LOAD, 0x1000, 0x1000, text, sizeof(text), sizeof(text)},
        {PT_LOAD, 0x2000, 0x2000, data8, sizeof(data8), 0x100},
    };
    size_t len32 = build_elf(good, sizeof(good), 32, EM_ARM, 0x1000, segs, 2);
    Elf32_Ehdr *eh = (Elf32_Ehdr *)img;
    Elf32_Phdr *ph = (Elf32_Phdr *)(img + sizeof(Elf32_Ehdr));

    expect_bad("bad elf: truncated to 10 bytes", good, 10, "ELF");
    expect_bad("bad elf: truncated header", good, 40, "truncated");
    expect_bad("bad elf: truncated program headers", good, sizeof(Elf32_Ehdr) + 40, "outside");
    expect_bad("bad elf: truncated segment data", good, len32 - 4, "outside");
    expect_bad("bad elf: empty", good, 0, NULL);

    memcpy(img, good, len32);
    eh->e_phoff = 0xfffffff0u;
    expect_bad("bad elf: phoff beyond the file", img, len32, "outside");

    memcpy(img, good, len32);
    eh->e_phentsize = 8;
    expect_bad("bad elf: program header size too small", img, len32, "size");

    memcpy(img, good, len32);
    eh->e_phnum = 0;
    expect_bad("bad elf: no program headers", img, len32, "program headers");

    memcpy(img, good, len32);
    eh->e_phnum = 400;
    expect_bad("bad elf: too many program headers for the file", img, len32, "outside");

    memcpy(img, good, len32);
    ph[1].p_offset = 0x100000;
    expect_bad("bad elf: segment beyond the file", img, len32, "outside");

    memcpy(img, good, len32);
    ph[1].p_offset = 0xfffffff0u;
    ph[1].p_filesz = 0x20;
    ph[1].p_memsz = 0x20;
    expect_bad("bad elf: segment offset+size wraps", img, len32, "outside");

    memcpy(img, good, len32);
    ph[1].p_paddr = 0x90000000u;
    expect_bad("bad elf: segment outside RAM (nothing loaded)", img, len32, "RAM");

    memcpy(img, good, len32);
    ph[1].p_paddr = (uint32_t)RAM_SIZE - 0x80; /* memsz 0x100 runs off the end */
    expect_bad("bad elf: segment partly outside RAM", img, len32, "RAM");

    memcpy(img, good, len32);
    ph[1].p_filesz = 0x200;
    expect_bad("bad elf: filesz > memsz", img, len32, "size");

    memcpy(img, good, len32);
    ph[0].p_type = PT_NOTE;
    ph[1].p_type = PT_NULL;
    expect_bad("bad elf: no loadable segment", img, len32, "loadable");

    memcpy(img, good, len32);
    img[EI_DATA] = ELFDATA2MSB;
    expect_bad("bad elf: big-endian", img, len32, "endian");

    memcpy(img, good, len32);
    img[EI_CLASS] = 7;
    expect_bad("bad elf: unknown class", img, len32, "class");

    memcpy(img, good, len32);
    eh->e_type = ET_DYN;
    expect_bad("bad elf: not an executable", img, len32, "executable");

    memcpy(img, good, len32);
    img[1] = 'X';
    expect_bad("bad elf: bad magic", img, len32, "ELF");

    /* 64-bit: offsets near 2^64 must not wrap into the buffer. */
    struct seg segs64[] = {{PT_LOAD, 0x1000, 0x1000, text, sizeof(text), sizeof(text)}};
    size_t len64 = build_elf(good, sizeof(good), 64, EM_AARCH64, 0x1000, segs64, 1);
    Elf64_Ehdr *eh64 = (Elf64_Ehdr *)img;
    Elf64_Phdr *ph64 = (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr));
    memcpy(img, good, len64);
    eh64->e_phoff = 0xffffffffffffff00ull;
    expect_bad("bad elf64: phoff near 2^64", img, len64, "outside");
    memcpy(img, good, len64);
    ph64->p_offset = 0xffffffffffffff00ull;
    ph64->p_filesz = 0x200;
    ph64->p_memsz = 0x200;
    expect_bad("bad elf64: segment offset near 2^64", img, len64, "outside");
    memcpy(img, good, len64);
    ph64->p_paddr = 0xfffffffffffffff0ull;
    ph64->p_memsz = 0x100;
    expect_bad("bad elf64: segment wrapping the address space", img, len64, "wraps");
    expect_bad("bad elf64: truncated header", good, sizeof(Elf64_Ehdr) - 1, "truncated");

    /* Random damage to a valid image: any outcome but a crash (or an unterminated message). */
    unsigned seed = 12345, failures = 0, bad_msgs = 0;
    len32 = build_elf(good, sizeof(good), 32, EM_ARM, 0x1000, segs, 2);
    for (unsigned iter = 0; iter < 20000; iter++) {
        memcpy(img, good, len32);
        unsigned flips = 1 + rand_r(&seed) % 4;
        for (unsigned f = 0; f < flips; f++) {
            img[rand_r(&seed) % (sizeof(Elf32_Ehdr) + 2 * sizeof(Elf32_Phdr))] =
                (uint8_t)rand_r(&seed);
        }
        size_t len = iter % 3 == 0 ? (size_t)rand_r(&seed) % (len32 + 1) : len32;
        char err[256] = "";
        if (coremu_load_elf_image(as, img, len, 0, NULL, err, sizeof(err)) < 0) {
            failures++;
            bad_msgs += !one_line(err);
        }
    }
    UNIT_CHECK(bad_msgs == 0 && failures > 0, "bad elf: 20000 randomly damaged images, no crash",
               "%u rejections without a one-line message (%u rejected)", bad_msgs, failures);
}

static void test_raw(void)
{
    static uint8_t blob[256 * 1024];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)((i * 31) ^ (i >> 9));
    }
    const char *p = path_in_tmp("blob.bin");
    unit_write_file(p, blob, 1000);
    char err[256] = "";
    uint64_t size = 0;
    int r = coremu_load_raw(as, p, 0x8000, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == 1000 && memcmp(ram + 0x8000, blob, 1000) == 0, "raw: loads",
               "r=%d size=%" PRIu64 " %s", r, size, err);
    r = coremu_load_raw(as, p, 0x8000, 1000, false, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == 1000, "raw: max equal to the size is fine", "%s", err);
    r = coremu_load_raw(as, p, 0x8000, 999, false, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "limit") != NULL, "raw: max enforced",
               "r=%d err=%s", r, err);
    r = coremu_load_raw(as, p, RAM_SIZE - 500, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "RAM") != NULL,
               "raw: image that does not fit in RAM", "r=%d err=%s", r, err);
    r = coremu_load_raw(as, p, 0x50000000, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err), "raw: image outside RAM", "r=%d err=%s", r, err);
    r = coremu_load_raw(as, path_in_tmp("nope.bin"), 0, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "nope.bin") && strstr(err, "No such file"),
               "raw: missing file", "err=%s", err);
    r = coremu_load_raw(as, tmpdir, 0, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err), "raw: a directory is an error", "err=%s", err);
    const char *pe = path_in_tmp("empty.bin");
    unit_write_file(pe, NULL, 0);
    r = coremu_load_raw(as, pe, 0x8000, 0, true, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == 0, "raw: empty file", "r=%d %s", r, err);

    /* gzip */
    const char *pz = path_in_tmp("blob.gz");
    write_gzip(pz, blob, sizeof(blob));
    size_t zlen = file_size(pz);
    memset(ram + 0x40000, 0, sizeof(blob));
    r = coremu_load_raw(as, pz, 0x40000, 0, true, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == sizeof(blob) && memcmp(ram + 0x40000, blob, sizeof(blob)) == 0,
               "gzip: decompressed on load", "r=%d size=%" PRIu64 " %s", r, size, err);
    r = coremu_load_raw(as, pz, 0x40000, 0, false, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == zlen && ram[0x40000] == 0x1f && ram[0x40001] == 0x8b,
               "gzip: loaded verbatim without decompress", "r=%d size=%" PRIu64, r, size);
    r = coremu_load_raw(as, pz, 0x40000, 100 * 1024, true, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err) && strstr(err, "limit") != NULL,
               "gzip: max bounds the decompressed size", "r=%d err=%s", r, err);
    r = coremu_load_raw(as, pz, 0x40000, sizeof(blob), true, &size, err, sizeof(err));
    UNIT_CHECK(r == 0 && size == sizeof(blob), "gzip: max equal to the decompressed size",
               "%s", err);

    uint8_t *zbuf;
    size_t zsize;
    r = coremu_load_file(pz, false, 0, &zbuf, &zsize, err, sizeof(err));
    UNIT_REQUIRE(r == 0 && zsize == zlen, "gzip: read compressed", "%s", err);
    const char *pt = path_in_tmp("trunc.gz");
    bool all_truncs = true;
    for (size_t cut = 1; cut < zsize; cut += zsize / 7 + 1) {
        unit_write_file(pt, zbuf, cut);
        r = coremu_load_raw(as, pt, 0x40000, 0, true, &size, err, sizeof(err));
        if (cut >= 2 && (r == 0 || !one_line(err))) {
            all_truncs = false;
            printf("# cut %zu: r=%d err=%s\n", cut, r, err);
        }
    }
    unit_write_file(pt, zbuf, zsize - 1);
    r = coremu_load_raw(as, pt, 0x40000, 0, true, &size, err, sizeof(err));
    UNIT_CHECK(all_truncs && r < 0 && one_line(err), "gzip: truncated files are errors",
               "last: r=%d err=%s", r, err);

    zbuf[zsize / 2] ^= 0xff;
    zbuf[zsize / 2 + 1] ^= 0x55;
    unit_write_file(pt, zbuf, zsize);
    r = coremu_load_raw(as, pt, 0x40000, 0, true, &size, err, sizeof(err));
    UNIT_CHECK(r < 0 && one_line(err), "gzip: corrupt data is an error", "r=%d err=%s", r, err);
    free(zbuf);

    /* Two gzip members back to back, as `cat a.gz b.gz` makes: gzip(1) joins them. */
    const char *p1 = path_in_tmp("m1.gz"), *p2 = path_in_tmp("m2.gz");
    write_gzip(p1, "hello, ", 7);
    write_gzip(p2, "world", 5);
    uint8_t *b1, *b2, *cat, *out;
    size_t l1, l2, olen;
    coremu_load_file(p1, false, 0, &b1, &l1, err, sizeof(err));
    coremu_load_file(p2, false, 0, &b2, &l2, err, sizeof(err));
    cat = malloc(l1 + l2);
    memcpy(cat, b1, l1);
    memcpy(cat + l1, b2, l2);
    unit_write_file(pt, cat, l1 + l2);
    r = coremu_load_file(pt, true, 0, &out, &olen, err, sizeof(err));
    UNIT_CHECK(r == 0 && olen == 12 && memcmp(out, "hello, world", 12) == 0,
               "gzip: concatenated members are joined", "r=%d len=%zu %s", r, olen, err);
    if (r == 0) {
        free(out);
    }
    free(b1);
    free(b2);
    free(cat);
}

/* ---- input that costs too much: checked while it is read ------------------------------------ */

/* The bound of these tests: every refusal below must come within this many bytes of memory
 * beyond the limit passed to the loader (its buffers double: up to 2x, plus zlib's state). */
#define COST_LIMIT (8u << 20)
#define COST_SECONDS 5

/* What one bounded-cost load must end in. */
struct cost_case {
    const char *name;
    const char *path;
    bool decompress;
    const char *expect; /* substring of the error message */
};

static long maxrss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Runs the load in a child process, so that a loader that reads without bound is stopped (by an
 * alarm and, without sanitizers, an address-space limit) instead of taking the machine's memory,
 * and so that its peak memory is its own. The child reports what went wrong on one "#" line.
 */
static void check_cost(const struct cost_case *c)
{
    fflush(stdout);
    pid_t pid = fork();
    UNIT_REQUIRE(pid >= 0, "setup: fork", "%s", strerror(errno));
    if (pid == 0) {
        alarm(COST_SECONDS * 4);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
        struct rlimit rl;
        FILE *f = fopen("/proc/self/statm", "r");
        unsigned long pages = 0;
        if (f != NULL && fscanf(f, "%lu", &pages) == 1 && getrlimit(RLIMIT_AS, &rl) == 0) {
            rl.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (512u << 20);
            setrlimit(RLIMIT_AS, &rl);
        }
        if (f != NULL) {
            fclose(f);
        }
#endif
        long rss0 = maxrss_kib();
        double t0 = now_s();
        char err[256] = "";
        uint8_t *data = NULL;
        size_t size = 0;
        int r = coremu_load_file(c->path, c->decompress, COST_LIMIT, &data, &size, err,
                                 sizeof(err));
        double dt = now_s() - t0;
        long grown = maxrss_kib() - rss0;
        bool ok = r == COREMU_LOAD_TOO_BIG && one_line(err) && strstr(err, c->expect) != NULL;
        if (!ok) {
            printf("# %s: r=%d err=%s (expected \"%s\")\n", c->name, r, err, c->expect);
        }
        if (dt > COST_SECONDS) {
            printf("# %s: took %.1f s\n", c->name, dt);
            ok = false;
        }
        long allowed_kib = (long)(3 * COST_LIMIT / 1024);
#ifdef __SANITIZE_ADDRESS__
        /* AddressSanitizer keeps every buffer the loader outgrew in its quarantine (together
         * less than the limit: the buffer doubles) and adds an eighth in shadow memory. */
        allowed_kib = allowed_kib * 3 / 2;
#endif
#ifdef __SANITIZE_THREAD__
        /* ThreadSanitizer's shadow memory is several times every byte touched (33 MiB here). */
        allowed_kib = allowed_kib * 8 / 3;
#endif
        if (grown > allowed_kib) {
            printf("# %s: memory grew by %ld KiB\n", c->name, grown);
            ok = false;
        }
        fflush(stdout);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    UNIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, c->name, "child status 0x%x%s",
               status, WIFSIGNALED(status) ? " (killed: it never stopped reading)" : "");
}

/* A child that writes len bytes of buf to fd again and again until the reader goes away. */
static pid_t endless_writer(int fd, const void *buf, size_t len)
{
    fflush(stdout);
    pid_t pid = fork();
    UNIT_REQUIRE(pid >= 0, "setup: fork", "%s", strerror(errno));
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        alarm(COST_SECONDS * 8);
        for (;;) {
            if (write(fd, buf, len) < 0 && errno != EINTR) {
                _exit(0);
            }
        }
    }
    return pid;
}

/* Loads through a pipe fed by an endless writer of buf. */
static void check_pipe_cost(const char *name, const void *buf, size_t len, bool decompress,
                            const char *expect)
{
    int p[2];
    UNIT_REQUIRE(pipe(p) == 0, "setup: pipe", "%s", strerror(errno));
    pid_t writer = endless_writer(p[1], buf, len);
    close(p[1]);
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
    struct cost_case c = {name, path, decompress, expect};
    check_cost(&c);
    close(p[0]);
    kill(writer, SIGTERM);
    waitpid(writer, NULL, 0);
}

/* A gzip member of len zero bytes, compressed in memory (malloc'd; *out_len its size). */
static uint8_t *gzip_zeros(size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    UNIT_REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK,
                 "setup: deflateInit2", "zlib");
    static const uint8_t zeros[64 * 1024];
    size_t cap = len / 500 + 4096, olen = 0;
    uint8_t *out = malloc(cap);
    UNIT_REQUIRE(out != NULL, "setup: malloc", "out of memory");
    size_t left = len;
    int ret;
    do {
        size_t n = left < sizeof(zeros) ? left : sizeof(zeros);
        zs.next_in = (Bytef *)(uintptr_t)zeros;
        zs.avail_in = (uInt)n;
        left -= n;
        do {
            if (cap - olen < 1024) {
                cap *= 2;
                out = realloc(out, cap);
                UNIT_REQUIRE(out != NULL, "setup: realloc", "out of memory");
            }
            zs.next_out = out + olen;
            zs.avail_out = (uInt)(cap - olen);
            ret = deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH);
            olen = cap - zs.avail_out;
        } while (zs.avail_out == 0 || (left == 0 && ret != Z_STREAM_END));
    } while (left > 0);
    deflateEnd(&zs);
    *out_len = olen;
    return out;
}

static void test_costly_input(void)
{
    /* Endless input: a character device and a pipe, with and without gzip detection. */
    struct cost_case dz = {"endless: /dev/zero is refused at the limit", "/dev/zero", false,
                           "limit"};
    check_cost(&dz);
    struct cost_case dzz = {"endless: /dev/zero (gzip detection on) is refused at the limit",
                            "/dev/zero", true, "limit"};
    check_cost(&dzz);
    static const uint8_t ones[4096] = {1};
    check_pipe_cost("endless: a pipe is refused at the limit", ones, sizeof(ones), true,
                    "limit");

    /* gzip whose output or input never ends: a bomb, and endless empty members. */
    size_t bomb_len;
    uint8_t *bomb = gzip_zeros(COST_LIMIT * 64, &bomb_len);
    const char *pb = path_in_tmp("bomb.gz");
    unit_write_file(pb, bomb, bomb_len);
    struct cost_case bc = {"gzip bomb: refused once the output passes the limit", pb, true,
                           "decompressed size exceeds the limit"};
    check_cost(&bc);
    check_pipe_cost("gzip bomb through a pipe, repeated without end", bomb, bomb_len, true,
                    "limit");
    free(bomb);
    size_t empty_len;
    uint8_t *empty = gzip_zeros(0, &empty_len);
    check_pipe_cost("gzip: an endless run of empty members is refused", empty, empty_len, true,
                    "compressed data");
    free(empty);

    /* A huge sparse file: its size alone refuses it, however it would be read. */
    const char *ps = path_in_tmp("sparse.bin");
    unit_write_file(ps, NULL, 0);
    if (truncate(ps, (off_t)1 << 40) == 0 || truncate(ps, (off_t)1 << 34) == 0) {
        struct cost_case sc = {"huge sparse file: refused by its size", ps, false, "limit"};
        check_cost(&sc);
        struct cost_case scz = {"huge sparse file (gzip detection on): refused by its size", ps,
                                true, "limit"};
        check_cost(&scz);
    } else {
        printf("# no sparse file of 16 GiB here (%s): skipped\n", strerror(errno));
    }
    unlink(ps);

    /* What is within the limit still loads from a pipe, compressed or not. */
    static uint8_t blob[300 * 1024];
    for (size_t i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)(i * 7 + (i >> 11));
    }
    const char *pz = path_in_tmp("pipe.gz");
    write_gzip(pz, blob, sizeof(blob));
    uint8_t *zdata;
    size_t zlen;
    char err[256] = "";
    UNIT_REQUIRE(coremu_load_file(pz, false, 0, &zdata, &zlen, err, sizeof(err)) == 0,
                 "setup: read gzip", "%s", err);
    for (int compressed = 0; compressed < 2; compressed++) {
        int p[2];
        UNIT_REQUIRE(pipe(p) == 0, "setup: pipe", "%s", strerror(errno));
        fflush(stdout);
        pid_t w = fork();
        UNIT_REQUIRE(w >= 0, "setup: fork", "%s", strerror(errno));
        if (w == 0) {
            close(p[0]);
            const uint8_t *b = compressed ? zdata : blob;
            size_t n = compressed ? zlen : sizeof(blob);
            _exit(write(p[1], b, n) == (ssize_t)n ? 0 : 1);
        }
        close(p[1]);
        char path[64];
        snprintf(path, sizeof(path), "/dev/fd/%d", p[0]);
        uint8_t *out = NULL;
        size_t olen = 0;
        int r = coremu_load_file(path, true, sizeof(blob), &out, &olen, err, sizeof(err));
        UNIT_CHECK(r == 0 && olen == sizeof(blob) && memcmp(out, blob, olen) == 0,
                   compressed ? "pipe: gzip data within the limit loads"
                              : "pipe: plain data within the limit loads",
                   "r=%d len=%zu %s", r, olen, err);
        free(out);
        close(p[0]);
        waitpid(w, NULL, 0);
    }
    free(zdata);
}

int main(void)
{
    UNIT_REQUIRE(mkdtemp(tmpdir) != NULL, "setup: mkdtemp", "%s", strerror(errno));
    as = coremu_as_new();
    ram = coremu_as_add_ram(as, "ram", 0, RAM_SIZE);
    UNIT_REQUIRE(ram != NULL, "setup: RAM", "%s", strerror(errno));

    test_elf32();
    test_elf64();
    test_elf_bad();
    test_raw();
    test_costly_input();

    coremu_as_free(as);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", tmpdir);
    }
    return unit_done();
}
