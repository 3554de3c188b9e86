/*
 * The block layer (include/coremu/block.h) on its own: -drive parsing, raw images with every
 * cache mode, bounds checks, read-only and .gz images, snapshot overlays, image locks between
 * two opens, hostile qcow2 headers, and several threads writing one qcow2 image at once.
 * block.exp checks the qcow2 side against Debian's qemu-img.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <coremu/block.h>
#include <coremu/options.h>

#include "unit.h"

static char tmpdir[] = "/tmp/coremu-test-block-XXXXXX";

static char *tmp_path(const char *name)
{
    return unit_path_in(tmpdir, name);
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)((i * 2654435761u + seed * 40503u) >> 9);
    }
}

static struct coremu_block *open_drive(const char *drive, char *err, size_t errlen)
{
    struct coremu_kv kv;
    struct coremu_block_options o;
    struct coremu_block *b = NULL;
    if (coremu_kv_parse(&kv, drive, NULL, err, errlen) == 0) {
        if (coremu_block_options_from_drive(&kv, false, &o, err, errlen) == 0) {
            b = coremu_block_open(&o, err, errlen);
        }
        coremu_kv_free(&kv);
    }
    return b;
}

static void test_options(void)
{
    struct coremu_kv kv;
    struct coremu_block_options o;
    char err[256] = "";
    coremu_kv_parse(&kv, "file=a.img,if=virtio,id=d0,format=qcow2,cache=none,readonly=on,"
                    "discard=unmap,aio=threads,serial=x", NULL, err, sizeof(err));
    int r = coremu_block_options_from_drive(&kv, false, &o, err, sizeof(err));
    UNIT_CHECK(r == 0 && strcmp(o.file, "a.img") == 0 && strcmp(o.format, "qcow2") == 0 &&
               o.cache == COREMU_BLOCK_CACHE_NONE && o.readonly && o.discard && !o.snapshot,
               "options: a full -drive", "r=%d err=%s", r, err);
    coremu_kv_free(&kv);

    coremu_kv_parse(&kv, "file=a.img", NULL, err, sizeof(err));
    r = coremu_block_options_from_drive(&kv, true, &o, err, sizeof(err));
    UNIT_CHECK(r == 0 && o.snapshot && o.format == NULL &&
               o.cache == COREMU_BLOCK_CACHE_WRITEBACK && !o.readonly && !o.discard,
               "options: defaults and -snapshot", "r=%d", r);
    coremu_kv_free(&kv);

    static const struct {
        const char *drive, *message;
    } bad[] = {
        {"file=a.img,cache=foo", "-drive cache=foo"},
        {"file=a.img,format=vmdk", "-drive format=vmdk"},
        {"file=a.img,readonly=maybe", "-drive readonly=maybe"},
        {"file=a.img,discard=sometimes", "-drive discard=sometimes"},
        {"file=a.img,aio=native", "-drive aio=native"},
        {"file=a.img,werror=stop", "'werror'"},
        {"if=virtio", "file= is required"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        coremu_kv_parse(&kv, bad[i].drive, NULL, err, sizeof(err));
        r = coremu_block_options_from_drive(&kv, false, &o, err, sizeof(err));
        char name[128];
        snprintf(name, sizeof(name), "options: %s refused", bad[i].drive);
        UNIT_CHECK(r == -1 && strstr(err, bad[i].message) != NULL && strchr(err, '\n') == NULL,
                   name, "r=%d err=%s", r, err);
        coremu_kv_free(&kv);
    }
}

static void test_raw(const char *cache)
{
    char name[128], drive[600], err[256] = "";
    enum { SIZE = 1 << 20 };
    static uint8_t data[SIZE], back[SIZE + 8192];
    pattern(data, SIZE, 1);
    unit_write_file(tmp_path("raw.img"), data, SIZE);
    snprintf(drive, sizeof(drive), "file=%s,format=raw,cache=%s", tmp_path("raw.img"), cache);
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    if (b == NULL && strstr(err, "O_DIRECT") != NULL) {
        snprintf(name, sizeof(name), "raw cache=%s: no O_DIRECT on %s", cache, tmpdir);
        printf("UNSUPPORTED: %s\n", name);
        return;
    }
    snprintf(name, sizeof(name), "raw cache=%s: open", cache);
    UNIT_CHECK(b != NULL && coremu_block_length(b) == SIZE && !coremu_block_is_readonly(b), name,
               "%s", err);
    if (b == NULL) {
        return;
    }
    /* Unaligned offsets, lengths and buffers take the bounce path with O_DIRECT. */
    uint8_t *odd = back + 3;
    pattern(odd, 5000, 2);
    memcpy(data + 777, odd, 5000);
    int rw = coremu_block_pwrite(b, 777, odd, 5000);
    pattern(back, 8192, 3);
    memcpy(data + 65536, back, 8192);
    rw |= coremu_block_pwrite(b, 65536, back, 8192);
    rw |= coremu_block_flush(b);
    memset(back, 0, sizeof(back));
    rw |= coremu_block_pread(b, 0, back + 1, SIZE);
    snprintf(name, sizeof(name), "raw cache=%s: unaligned writes read back", cache);
    UNIT_CHECK(rw == 0 && memcmp(back + 1, data, SIZE) == 0, name, "status %d", rw);
    snprintf(name, sizeof(name), "raw cache=%s: ranges past the end are -EINVAL", cache);
    UNIT_CHECK(coremu_block_pread(b, SIZE - 1, back, 2) == -EINVAL &&
               coremu_block_pwrite(b, SIZE + 1, back, 0) == -EINVAL &&
               coremu_block_pread(b, UINT64_MAX - 1, back, 4) == -EINVAL &&
               coremu_block_discard(b, 1, SIZE) == -EINVAL &&
               coremu_block_pread(b, SIZE, back, 0) == 0, name, "a bad range was accepted");
    coremu_block_close(b);
}

static void test_readonly_and_locks(void)
{
    char err[256] = "", err2[256] = "", drive[600];
    static uint8_t data[65536], back[65536];
    pattern(data, sizeof(data), 4);
    unit_write_file(tmp_path("lock.img"), data, sizeof(data));
    snprintf(drive, sizeof(drive), "file=%s,format=raw,readonly=on", tmp_path("lock.img"));
    struct coremu_block *ro = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(ro != NULL && coremu_block_is_readonly(ro) &&
               coremu_block_pwrite(ro, 0, data, 512) == -EROFS &&
               coremu_block_discard(ro, 0, 512) == -EROFS &&
               coremu_block_pread(ro, 0, back, sizeof(back)) == 0 &&
               memcmp(back, data, sizeof(back)) == 0, "readonly: reads, writes -EROFS", "%s",
               err);
    /* Two readers share the image; a writer is refused while a reader has it, and a reader
     * while a writer has it. */
    struct coremu_block *ro2 = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(ro2 != NULL, "locks: two readers", "%s", err);
    snprintf(drive, sizeof(drive), "file=%s,format=raw", tmp_path("lock.img"));
    struct coremu_block *rw = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(rw == NULL && strstr(err, "in use by another process") != NULL,
               "locks: no writer beside a reader", "%s", rw ? "opened" : err);
    coremu_block_close(rw);
    coremu_block_close(ro);
    coremu_block_close(ro2);
    rw = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(rw != NULL, "locks: a writer once the readers are gone", "%s", err);
    struct coremu_block *rw2 = open_drive(drive, err2, sizeof(err2));
    snprintf(drive, sizeof(drive), "file=%s,format=raw,readonly=on", tmp_path("lock.img"));
    ro = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(rw2 == NULL && ro == NULL && strstr(err2, "cannot lock") != NULL &&
               strstr(err, "cannot lock") != NULL, "locks: one writer only, no reader beside it",
               "%s / %s", err2, err);
    coremu_block_close(rw2);
    coremu_block_close(ro);
    coremu_block_close(rw);
}

/* A raw image found by probing must not be turned into a qcow2 by its guest: the next probe
 * would then follow a backing file name of the guest's choosing. */
static void test_probed_raw(void)
{
    char err[256] = "", drive[600];
    static uint8_t zero[65536];
    unit_write_file(tmp_path("probe.img"), zero, sizeof(zero));
    snprintf(drive, sizeof(drive), "file=%s", tmp_path("probe.img"));
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_pwrite(b, 0, "QFI\xfb\0\0\0\3", 8) == -EPERM &&
               coremu_block_pwrite(b, 0, "ext4", 4) == 0 &&
               coremu_block_pwrite(b, 512, "QFI\xfb", 4) == 0,
               "probed raw: block 0 cannot become a qcow2 header", "%s", err);
    coremu_block_close(b);
    snprintf(drive, sizeof(drive), "file=%s,format=raw", tmp_path("probe.img"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_pwrite(b, 0, "QFI\xfb\0\0\0\3", 8) == 0,
               "format=raw: block 0 is the guest's", "%s", err);
    coremu_block_close(b);
}

static void test_snapshot_and_gz(void)
{
    char err[256] = "", drive[600];
    enum { SIZE = 3 << 20 };
    static uint8_t data[SIZE], back[SIZE], want[SIZE];
    pattern(data, SIZE, 5);
    unit_write_file(tmp_path("snap.img"), data, SIZE);
    snprintf(drive, sizeof(drive), "file=%s,format=raw,snapshot=on", tmp_path("snap.img"));
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_length(b) == SIZE && !coremu_block_is_readonly(b),
               "snapshot: opens writable", "%s", err);
    if (b != NULL) {
        memcpy(want, data, SIZE);
        pattern(want + 100, 200000, 6);
        pattern(want + SIZE - 70000, 70000, 7);
        int r = coremu_block_pwrite(b, 100, want + 100, 200000);
        r |= coremu_block_pwrite(b, SIZE - 70000, want + SIZE - 70000, 70000);
        r |= coremu_block_flush(b);
        r |= coremu_block_pread(b, 0, back, SIZE);
        UNIT_CHECK(r == 0 && memcmp(back, want, SIZE) == 0, "snapshot: reads its writes",
                   "status %d", r);
        coremu_block_close(b);
    }
    FILE *f = fopen(tmp_path("snap.img"), "rb");
    size_t got = f ? fread(back, 1, SIZE, f) : 0;
    if (f) {
        fclose(f);
    }
    UNIT_CHECK(got == SIZE && memcmp(back, data, SIZE) == 0, "snapshot: base untouched",
               "the base image changed");

    gzFile gz = gzopen(tmp_path("disk.img.gz"), "wb");
    UNIT_REQUIRE(gz != NULL && gzwrite(gz, data, SIZE) == SIZE && gzclose(gz) == Z_OK,
                 "gz: make image", "gzwrite failed");
    snprintf(drive, sizeof(drive), "file=%s,format=raw", tmp_path("disk.img.gz"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b == NULL && strstr(err, "read-only") != NULL, "gz: a writable open is refused",
               "%s", b ? "opened" : err);
    coremu_block_close(b);
    snprintf(drive, sizeof(drive), "file=%s,readonly=on", tmp_path("disk.img.gz"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_length(b) == SIZE &&
               coremu_block_pread(b, 0, back, SIZE) == 0 && memcmp(back, data, SIZE) == 0,
               "gz: reads the decompressed image", "%s", err);
    coremu_block_close(b);
    snprintf(drive, sizeof(drive), "file=%s,format=raw,snapshot=on", tmp_path("disk.img.gz"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_pwrite(b, 5, "hello", 5) == 0 &&
               coremu_block_pread(b, 0, back, 16) == 0 && memcmp(back + 5, "hello", 5) == 0 &&
               memcmp(back, data, 5) == 0, "gz: snapshot=on writes to the overlay", "%s", err);
    coremu_block_close(b);
}

/* ---- hostile qcow2 headers ----------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* A valid empty v3 image with 64 KiB clusters: header, refcount table, refcount block, L1. */
static uint8_t *make_qcow2(uint64_t size, size_t *len)
{
    const uint64_t cs = 65536;
    uint8_t *img = calloc(4, cs);
    memcpy(img, "QFI\xfb", 4);
    put32(img + 4, 3);
    put32(img + 20, 16);
    put64(img + 24, size);
    put32(img + 36, 1);
    put64(img + 40, 3 * cs);
    put64(img + 48, cs);
    put32(img + 56, 1);
    put32(img + 96, 4);
    put32(img + 100, 104);
    put64(img + cs, 2 * cs);
    for (int i = 0; i < 4; i++) {
        img[2 * cs + 2 * i + 1] = 1;
    }
    *len = 4 * cs;
    return img;
}

static void test_bad_qcow2(void)
{
    char err[256], drive[600], name[160];
    size_t len;
    uint8_t *good = make_qcow2(1 << 20, &len);
    uint8_t *img = malloc(len);
    static const struct {
        const char *what;
        unsigned at;      /* byte to change (len: truncate there) */
        uint64_t value;
        unsigned width;   /* 4 or 8; 0: truncate the file to `at` bytes */
        const char *message;
    } cases[] = {
        {"truncated header", 40, 0, 0, "not a qcow2"},
        {"version 4", 4, 4, 4, "version 4"},
        {"unknown incompatible feature", 72, 1ULL << 40, 8, "incompatible feature"},
        {"L1 past the end of the file", 40, 1ULL << 40, 8, "L1"},
        {"L1 too small for the disk", 24, 1ULL << 40, 8, "L1"},
        {"huge virtual size", 24, UINT64_MAX, 8, "too large"},
        {"huge L1", 36, 0xffffffffu, 4, "L1"},
        {"refcount block past the end", 65536, 1ULL << 40, 8, "refcount block"},
        {"refcount block over the refcount table", 65536, 65536, 8, "refcount block"},
        {"refcount table past the end", 48, 1ULL << 50, 8, "refcount table"},
        {"cluster size 2^30", 20, 30, 4, "cluster size"},
        {"encrypted", 32, 1, 4, "encrypted"},
        {"backing name out of the cluster", 8, 65530, 8, "backing"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(img, good, len);
        size_t n = len;
        if (cases[i].width == 8) {
            put64(img + cases[i].at, cases[i].value);
        } else if (cases[i].width == 4) {
            put32(img + cases[i].at, (uint32_t)cases[i].value);
        } else {
            n = cases[i].at;
        }
        if (strcmp(cases[i].what, "backing name out of the cluster") == 0) {
            put32(img + 16, 100);
        }
        unit_write_file(tmp_path("bad.qcow2"), img, n);
        snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("bad.qcow2"));
        err[0] = '\0';
        struct coremu_block *b = open_drive(drive, err, sizeof(err));
        snprintf(name, sizeof(name), "bad qcow2: %s refused", cases[i].what);
        UNIT_CHECK(b == NULL && strstr(err, cases[i].message) != NULL, name, "%s",
                   b ? "opened" : err);
        coremu_block_close(b);
    }
    /* An L2 table and data cluster pointing past the end of the file read as an error. */
    memcpy(img, good, len);
    put64(img + 3 * 65536, (1ULL << 63) | (64ULL << 20));
    unit_write_file(tmp_path("bad.qcow2"), img, len);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("bad.qcow2"));
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    uint8_t buf[512];
    UNIT_CHECK(b != NULL && coremu_block_pread(b, 0, buf, sizeof(buf)) == -EIO &&
               coremu_block_pwrite(b, 0, buf, sizeof(buf)) == -EIO,
               "bad qcow2: L2 past the end is -EIO", "%s", b ? "no error" : err);
    coremu_block_close(b);
    /* A compressed cluster that does not inflate: reading it or writing into it fails, and
     * the rest of the image stays writable. */
    uint8_t *cimg = calloc(6, 65536);
    memcpy(cimg, good, len);
    put64(cimg + 3 * 65536, (1ULL << 63) | (4ULL << 16));
    put64(cimg + 4 * 65536, (1ULL << 62) | (5ULL << 16));
    cimg[2 * 65536 + 9] = 1;
    cimg[2 * 65536 + 11] = 1;
    unit_write_file(tmp_path("bad.qcow2"), cimg, 6 * 65536);
    free(cimg);
    b = open_drive(drive, err, sizeof(err));
    memset(buf, 0x3c, sizeof(buf));
    uint8_t again[512];
    UNIT_CHECK(b != NULL && coremu_block_pread(b, 0, again, sizeof(again)) == -EIO &&
               coremu_block_pwrite(b, 512, buf, sizeof(buf)) == -EIO &&
               coremu_block_pwrite(b, 65536, buf, sizeof(buf)) == 0 &&
               coremu_block_pread(b, 65536, again, sizeof(again)) == 0 &&
               memcmp(again, buf, sizeof(buf)) == 0,
               "bad qcow2: a broken compressed cluster fails alone", "%s", b ? "" : err);
    coremu_block_close(b);
    /* A dirty image (QEMU's lazy refcounts, never written back: all zero here) is read as it
     * is, and gets its refcounts rebuilt when opened for writing. */
    memcpy(img, good, len);
    put64(img + 72, 1);
    memset(img + 2 * 65536, 0, 65536);
    unit_write_file(tmp_path("dirty.qcow2"), img, len);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2,readonly=on", tmp_path("dirty.qcow2"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b != NULL && coremu_block_pread(b, 0, buf, sizeof(buf)) == 0,
               "dirty qcow2: readable", "%s", err);
    coremu_block_close(b);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("dirty.qcow2"));
    b = open_drive(drive, err, sizeof(err));
    uint8_t back[512];
    memset(buf, 0x5c, sizeof(buf));
    UNIT_CHECK(b != NULL && coremu_block_pwrite(b, 4096, buf, sizeof(buf)) == 0 &&
               coremu_block_pread(b, 4096, back, sizeof(back)) == 0 &&
               memcmp(buf, back, sizeof(buf)) == 0, "dirty qcow2: rebuilt and written", "%s",
               err);
    coremu_block_close(b);
    uint8_t hdr[80] = {0};
    FILE *f = fopen(tmp_path("dirty.qcow2"), "rb");
    UNIT_CHECK(f != NULL && fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr) && hdr[79] == 0 &&
               hdr[53] != 1, "dirty qcow2: new refcount table, dirty bit cleared",
               "incompatible features %#x, refcount table at cluster %u", hdr[79], hdr[53]);
    if (f != NULL) {
        fclose(f);
    }
    /* Counting refcounts follows the tables: one that points outside the file ends it. */
    put64(img + 3 * 65536, (1ULL << 63) | (64ULL << 20));
    unit_write_file(tmp_path("dirty.qcow2"), img, len);
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b == NULL && strstr(err, "cannot be rebuilt") != NULL,
               "dirty qcow2: a damaged one is refused", "%s", b ? "opened" : err);
    coremu_block_close(b);
    /* A corrupt image is QEMU's to repair. */
    memcpy(img, good, len);
    put64(img + 72, 2);
    unit_write_file(tmp_path("bad.qcow2"), img, len);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("bad.qcow2"));
    b = open_drive(drive, err, sizeof(err));
    UNIT_CHECK(b == NULL && strstr(err, "corrupt") != NULL, "corrupt qcow2: not written", "%s",
               b ? "opened" : err);
    coremu_block_close(b);
    free(img);
    free(good);
}

/* ---- several writers on one qcow2 ---------------------------------------------------------- */

enum { STRESS_THREADS = 4, STRESS_SLICE = 3 << 20, STRESS_IO = 7000 };

struct stress {
    struct coremu_block *b;
    unsigned id;
    int status;
};

static void *stress_writer(void *arg)
{
    struct stress *s = arg;
    static uint8_t bufs[STRESS_THREADS][STRESS_IO];
    uint8_t *buf = bufs[s->id];
    uint64_t base = (uint64_t)s->id * STRESS_SLICE;
    /* Interleaved, unaligned requests, so that threads allocate clusters side by side. */
    for (uint64_t off = 0; off + STRESS_IO <= STRESS_SLICE && s->status == 0; off += STRESS_IO) {
        pattern(buf, STRESS_IO, (unsigned)(base + off));
        s->status = coremu_block_pwrite(s->b, base + off, buf, STRESS_IO);
    }
    return NULL;
}

static void stress(const char *drive, const char *what)
{
    char err[256], name[160];
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    snprintf(name, sizeof(name), "stress %s: open", what);
    UNIT_CHECK(b != NULL, name, "%s", err);
    if (b == NULL) {
        return;
    }
    pthread_t t[STRESS_THREADS];
    struct stress s[STRESS_THREADS];
    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        s[i] = (struct stress){.b = b, .id = i};
        pthread_create(&t[i], NULL, stress_writer, &s[i]);
    }
    int status = 0;
    for (unsigned i = 0; i < STRESS_THREADS; i++) {
        pthread_join(t[i], NULL);
        status |= s[i].status;
    }
    static uint8_t got[STRESS_IO], want[STRESS_IO];
    bool same = status == 0;
    for (uint64_t base = 0; base < (uint64_t)STRESS_THREADS * STRESS_SLICE; base += STRESS_SLICE) {
        for (uint64_t off = 0; same && off + STRESS_IO <= STRESS_SLICE; off += STRESS_IO) {
            pattern(want, STRESS_IO, (unsigned)(base + off));
            same = coremu_block_pread(b, base + off, got, STRESS_IO) == 0 &&
                   memcmp(got, want, STRESS_IO) == 0;
        }
    }
    snprintf(name, sizeof(name), "stress %s: %d threads write disjoint ranges", what,
             STRESS_THREADS);
    UNIT_CHECK(same, name, "status %d, data differs", status);
    coremu_block_close(b);
}

/* A qcow2 image of `clusters` 64 KiB clusters, each zlib-compressed pattern(cluster index). */
static uint8_t *make_compressed_qcow2(unsigned clusters, size_t *len)
{
    const uint64_t cs = 65536;
    size_t meta;
    uint8_t *good = make_qcow2((uint64_t)clusters * cs, &meta);
    size_t cap = meta + cs + (size_t)clusters * (cs + 1024);
    uint8_t *img = calloc(1, cap);
    memcpy(img, good, meta);
    free(good);
    uint64_t l2 = meta, pos = meta + cs;
    put64(img + 3 * cs, (1ULL << 63) | l2);
    static uint8_t plain[65536];
    for (unsigned i = 0; i < clusters; i++) {
        pattern(plain, cs, 100 + i);
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY);
        zs.next_in = plain;
        zs.avail_in = (uInt)cs;
        zs.next_out = img + pos;
        zs.avail_out = (uInt)(cs + 1024);
        deflate(&zs, Z_FINISH);
        uint64_t size = zs.total_out;
        deflateEnd(&zs);
        /* Sectors beyond the first that the data touches; 54: where 64 KiB clusters keep it. */
        uint64_t extra = (pos % 512 + size - 1) / 512;
        put64(img + l2 + 8 * i, (1ULL << 62) | (extra << 54) | pos);
        pos += size;
    }
    /* Refcounts: the L2 table and every cluster the compressed data touches, once per entry
     * that reaches into it. */
    uint64_t last = (pos - 1) / cs;
    for (uint64_t c = 4; c <= last; c++) {
        uint64_t refs = c == 4;
        for (unsigned i = 0; i < clusters && c > 4; i++) {
            uint64_t entry = get64(img + l2 + 8 * i);
            uint64_t start = (entry & ((1ULL << 54) - 1)) & ~511ULL;
            uint64_t sectors = ((entry >> 54) & 0xff) + 1;
            refs += c >= start / cs && c <= (start + sectors * 512 - 1) / cs;
        }
        img[2 * cs + 2 * c] = (uint8_t)(refs >> 8);
        img[2 * cs + 2 * c + 1] = (uint8_t)refs;
    }
    *len = (last + 1) * cs;
    return img;
}

struct cow_race {
    struct coremu_block *b;
    _Atomic unsigned writer_at; /* clusters the writer has finished */
    unsigned clusters;
    int status;
};

static void *cow_race_reader(void *arg)
{
    struct cow_race *s = arg;
    uint8_t got[512], want[65536];
    for (unsigned i = 0; i < s->clusters && s->status == 0; i++) {
        pattern(want, sizeof(want), 100 + i);
        /* Sector 0 is never written: it must read the same before, during and after the copy
         * on write of its cluster. */
        do {
            int r = coremu_block_pread(s->b, (uint64_t)i * 65536, got, sizeof(got));
            if (r != 0 || memcmp(got, want, sizeof(got)) != 0) {
                s->status = r != 0 ? r : -EILSEQ;
            }
        } while (atomic_load(&s->writer_at) <= i && s->status == 0);
    }
    return NULL;
}

/* Readers of one sector of a compressed cluster while another sector of it is written: the
 * copy on write must not take the old data away from under them. */
static void test_cow_race(void)
{
    enum { CLUSTERS = 128, READERS = 2 };
    char drive[600], err[256] = "";
    size_t len;
    uint8_t *img = make_compressed_qcow2(CLUSTERS, &len);
    unit_write_file(tmp_path("race.qcow2"), img, len);
    free(img);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("race.qcow2"));
    struct coremu_block *b = open_drive(drive, err, sizeof(err));
    uint8_t want[65536], got[65536];
    pattern(want, sizeof(want), 100 + CLUSTERS - 1);
    bool readable = b != NULL &&
                    coremu_block_pread(b, (uint64_t)(CLUSTERS - 1) * 65536, got, 65536) == 0 &&
                    memcmp(got, want, sizeof(got)) == 0;
    UNIT_CHECK(readable, "compressed qcow2 made here reads back", "%s", err);
    if (!readable) {
        coremu_block_close(b);
        return;
    }
    struct cow_race s = {.b = b, .clusters = CLUSTERS};
    pthread_t t[READERS];
    for (unsigned i = 0; i < READERS; i++) {
        pthread_create(&t[i], NULL, cow_race_reader, &s);
    }
    uint8_t sector[512];
    memset(sector, 0xee, sizeof(sector));
    int w = 0;
    for (unsigned i = 0; i < CLUSTERS && w == 0; i++) {
        w = coremu_block_pwrite(b, (uint64_t)i * 65536 + 100 * 512, sector, sizeof(sector));
        atomic_store(&s.writer_at, i + 1);
    }
    atomic_store(&s.writer_at, CLUSTERS);
    for (unsigned i = 0; i < READERS; i++) {
        pthread_join(t[i], NULL);
    }
    UNIT_CHECK(w == 0 && s.status == 0, "copy on write of compressed clusters beside readers",
               "write %d, read %d", w, s.status);
    coremu_block_close(b);
}

static void test_stress(void)
{
    char drive[600];
    size_t len;
    /* A qcow2 made here (the same layout qemu-img makes) and, through snapshot=on, the
     * temporary overlay. */
    uint8_t *img = make_qcow2((uint64_t)STRESS_THREADS * STRESS_SLICE, &len);
    unit_write_file(tmp_path("stress.qcow2"), img, len);
    free(img);
    snprintf(drive, sizeof(drive), "file=%s,format=qcow2", tmp_path("stress.qcow2"));
    stress(drive, "qcow2");
    static uint8_t zero[STRESS_THREADS * STRESS_SLICE];
    unit_write_file(tmp_path("stress.raw"), zero, sizeof(zero));
    snprintf(drive, sizeof(drive), "file=%s,format=raw,snapshot=on", tmp_path("stress.raw"));
    stress(drive, "snapshot overlay");
}

int main(void)
{
    UNIT_REQUIRE(mkdtemp(tmpdir) != NULL, "temporary directory", "%s", strerror(errno));
    coremu_set_progname("test-block");
    test_options();
    test_raw("writeback");
    test_raw("writethrough");
    test_raw("none");
    test_raw("directsync");
    test_raw("unsafe");
    test_readonly_and_locks();
    test_probed_raw();
    test_snapshot_and_gz();
    test_bad_qcow2();
    test_stress();
    test_cow_race();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", tmpdir);
    }
    return unit_done();
}
