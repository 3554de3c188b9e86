/*
 * coremu — the qcow2 image format, versions 2 and 3, written from the format's specification
 * (QEMU's docs/interop/qcow2.txt).
 *
 * What is done: reads and writes through the two-level L1/L2 map; clusters that are not
 * allocated read from the backing file (raw or qcow2, any depth) or as zeros; zlib-compressed
 * clusters and v3 zero clusters read; a write to anything but an allocated, unshared cluster
 * copies the old contents into a new cluster (copy on write), and an L2 table shared with an
 * internal snapshot is copied before it changes, so snapshots stay intact. New clusters are
 * appended at the end of the file with their refcounts kept exact (new refcount blocks and
 * refcount table growth included), so `qemu-img check` stays clean. Discard frees whole
 * clusters. Refcounts may be 1 to 64 bits wide. With extended L2 entries (32 subclusters per
 * cluster) a write fills and marks only the subclusters it touches.
 *
 * What is refused with a clear error: unknown incompatible features, encryption, external data
 * files, compression types other than zlib; and for writing, images marked
 * dirty (lazy refcounts that were not written back) or corrupt, which `qemu-img check -r all`
 * repairs. Internal snapshots are kept but cannot be created, applied or deleted.
 *
 * Crash safety: new clusters get their refcount (and it is made durable, once per batch of
 * clusters) before any L2 or L1 entry points to them; a new cluster's data is written before
 * the L2 entry that maps it. A crash can leak reserved clusters (harmless, `qemu-img check -r
 * leaks` reclaims them) but never leaves an entry pointing to a cluster with refcount 0.
 *
 * Every number read from the file is checked before use: offsets must be cluster-aligned and
 * inside the file, sizes bounded, so that a hostile image gives -EIO or an open error, never a
 * crash or a write over the image's own header and tables.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "block_internal.h"

#define QCOW2_MAGIC "QFI\xfb"
#define HEADER_V2_LEN 72
#define HEADER_V3_MIN_LEN 104

#define INCOMPAT_DIRTY (1ULL << 0)
#define INCOMPAT_CORRUPT (1ULL << 1)
#define INCOMPAT_EXTERNAL_DATA (1ULL << 2)
#define INCOMPAT_COMPRESSION_TYPE (1ULL << 3)
#define INCOMPAT_EXTENDED_L2 (1ULL << 4)
#define INCOMPAT_KNOWN                                                                            \
    (INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_COMPRESSION_TYPE | INCOMPAT_EXTENDED_L2)

#define EXT_END 0
#define EXT_BACKING_FORMAT 0xe2792acaU
#define EXT_BITMAPS 0x23852875U

#define ENTRY_COPIED (1ULL << 63)     /* refcount is exactly 1: may be written in place */
#define ENTRY_COMPRESSED (1ULL << 62) /* L2 only */
#define ENTRY_ZERO 1ULL               /* L2, v3: reads as zeros */
#define ENTRY_OFFSET_MASK 0x00fffffffffffe00ULL
/* Extended L2 bitmap: bit x, subcluster x is allocated; bit 32 + x, it reads as zeros. */
#define SUBCLUSTERS 32
#define BITMAP_ALL_ALLOCATED 0x00000000ffffffffULL
#define BITMAP_ALL_ZERO 0xffffffff00000000ULL

/* Bounds that keep a hostile header from making us allocate or loop without end. */
#define MAX_TABLE_BYTES (64ULL << 20)   /* L1 and refcount tables */
#define MAX_VIRTUAL_SIZE (1ULL << 61)
#define RESERVE_CLUSTERS 64             /* refcounts made durable per batch */

struct qcow2 {
    /* Set at open, read-only afterwards. */
    unsigned version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits;            /* log2 of entries per L2 table */
    bool extended;               /* extended L2 entries: 32 subclusters per cluster */
    unsigned entry_size;         /* bytes per L2 entry: 8, or 16 with extended L2 */
    unsigned subcluster_bits;
    uint32_t l1_size;            /* entries */
    uint64_t l1_offset;
    unsigned refcount_bits;      /* 1, 2, 4 ... 64 */
    uint64_t refblock_entries;   /* refcounts per refcount block */
    unsigned csize_shift;        /* compressed entries: sector count position */
    uint64_t csize_mask, coffset_mask;
    struct coremu_block *backing; /* NULL: unallocated clusters read as zeros; own locking */

    /* Everything below changes under lock: the L1 table, the refcount table and the end of
     * the file, i.e. all metadata. Data I/O to an allocated cluster runs without it. */
    pthread_mutex_t lock;
    uint64_t *l1;                /* host byte order */
    uint64_t *rt;                /* refcount table, host byte order */
    uint64_t rt_entries;
    uint64_t rt_offset;
    uint64_t end;                /* cluster-aligned end of everything allocated */
    uint64_t rsv_next, rsv_end;  /* clusters whose refcount is already 1, not yet used */
    /* Recently used L2 tables as they are on disk (big-endian), written through: a lookup
     * costs no system call, which matters most with O_DIRECT. */
    struct l2_cached {
        uint64_t offset;         /* 0: free slot */
        uint8_t *table;
        uint64_t used;           /* l2_clock at the last use */
    } *l2_cache;
    unsigned l2_slots;
    uint64_t l2_clock;
    bool broken;                 /* a metadata update failed half-way: no more writes */
};

static uint64_t be64_load(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static uint32_t be32_load(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

static void be64_store(uint8_t *p, uint64_t v)
{
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static void be32_store(uint8_t *p, uint32_t v)
{
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}

bool blk_qcow2_probe(const uint8_t *head, size_t len)
{
    return len >= 4 && memcmp(head, QCOW2_MAGIC, 4) == 0;
}

static uint64_t cluster_start(const struct qcow2 *q, uint64_t off)
{
    return off & ~(q->cluster_size - 1);
}

/* A table or data cluster that the image may use: aligned, past the header, inside the file,
 * and (for clusters we write into) not the L1 or refcount table. */
static bool cluster_ok(const struct qcow2 *q, uint64_t off, bool for_write)
{
    if (off == 0 || off % q->cluster_size != 0 || off >= q->end) {
        return false;
    }
    if (!for_write) {
        return true;
    }
    uint64_t l1_end = q->l1_offset + (uint64_t)q->l1_size * 8;
    uint64_t rt_end = q->rt_offset + q->rt_entries * 8;
    bool in_l1 = off + q->cluster_size > q->l1_offset && off < l1_end;
    bool in_rt = off + q->cluster_size > q->rt_offset && off < rt_end;
    return !in_l1 && !in_rt;
}

/* ---- refcounts (under lock) ---------------------------------------------------------------- */

/* Where refcount number idx of a refcount block lies: refcounts of 8 bits and more are
 * big-endian byte groups; narrower ones are packed from the least significant bit of each
 * byte up. */
struct refcount_slot {
    uint64_t byte;   /* offset in the block */
    unsigned bytes;  /* how many bytes hold it */
    unsigned shift;  /* bit position within the byte (narrow refcounts) */
};

static struct refcount_slot refcount_slot(const struct qcow2 *q, uint64_t idx)
{
    uint64_t bit = (idx % q->refblock_entries) * q->refcount_bits;
    unsigned bytes = q->refcount_bits < 8 ? 1 : q->refcount_bits / 8;
    return (struct refcount_slot){.byte = bit / 8, .bytes = bytes, .shift = bit % 8};
}

static uint64_t refcount_decode(const struct qcow2 *q, struct refcount_slot s, const uint8_t *p)
{
    if (q->refcount_bits < 8) {
        return (p[0] >> s.shift) & ((1U << q->refcount_bits) - 1);
    }
    uint64_t val = 0;
    for (unsigned i = 0; i < s.bytes; i++) {
        val = val << 8 | p[i];
    }
    return val;
}

static void refcount_encode(const struct qcow2 *q, struct refcount_slot s, uint8_t *p,
                            uint64_t val)
{
    if (q->refcount_bits < 8) {
        unsigned mask = ((1U << q->refcount_bits) - 1) << s.shift;
        p[0] = (uint8_t)((p[0] & ~mask) | ((val << s.shift) & mask));
        return;
    }
    for (unsigned i = 0; i < s.bytes; i++) {
        p[s.bytes - 1 - i] = (uint8_t)(val >> (8 * i));
    }
}

static int refcount_get(struct qcow2 *q, struct blk_file *f, uint64_t off, uint64_t *val)
{
    uint64_t idx = off >> q->cluster_bits;
    uint64_t rt_idx = idx / q->refblock_entries;
    *val = 0;
    if (rt_idx >= q->rt_entries || q->rt[rt_idx] == 0) {
        return 0;
    }
    uint8_t raw[8];
    struct refcount_slot s = refcount_slot(q, idx);
    int r = blk_file_pread(f, q->rt[rt_idx] + s.byte, raw, s.bytes);
    if (r == 0) {
        *val = refcount_decode(q, s, raw);
    }
    return r;
}

static int refcount_set(struct qcow2 *q, struct blk_file *f, uint64_t off, uint64_t val);

/* A new, zeroed refcount block for table slot rt_idx, appended at the end of the file. When it
 * covers its own cluster its refcount goes inside it, so a growing image needs no recursion. */
static int refblock_new(struct qcow2 *q, struct blk_file *f, uint64_t rt_idx)
{
    uint64_t off = q->end;
    q->end += q->cluster_size;
    uint8_t *blk = calloc(1, q->cluster_size);
    if (blk == NULL) {
        return -ENOMEM;
    }
    uint64_t idx = off >> q->cluster_bits;
    bool self = idx / q->refblock_entries == rt_idx;
    if (self) {
        struct refcount_slot s = refcount_slot(q, idx);
        refcount_encode(q, s, blk + s.byte, 1);
    }
    int r = blk_file_pwrite(f, off, blk, q->cluster_size);
    free(blk);
    if (r != 0) {
        return r;
    }
    /* The block is on disk before the table points to it. */
    uint8_t raw[8];
    be64_store(raw, off);
    r = blk_file_pwrite(f, q->rt_offset + rt_idx * 8, raw, 8);
    if (r != 0) {
        return r;
    }
    q->rt[rt_idx] = off;
    return self ? 0 : refcount_set(q, f, off, 1);
}

/* Writes a new refcount table (its blocks are already on disk) and switches the header to it. */
static int rt_install(struct blk_file *f, const uint64_t *rt, uint64_t entries, uint64_t offset,
                      uint64_t clusters)
{
    uint8_t *disk = malloc(entries * 8);
    if (disk == NULL) {
        return -ENOMEM;
    }
    for (uint64_t i = 0; i < entries; i++) {
        be64_store(disk + i * 8, rt[i]);
    }
    int r = blk_file_pwrite(f, offset, disk, entries * 8);
    free(disk);
    if (r == 0) {
        r = blk_file_flush(f);
    }
    if (r == 0) {
        /* Offset and size of the table are adjacent header fields: one write switches. */
        uint8_t hdr[12];
        be64_store(hdr, offset);
        be32_store(hdr + 8, (uint32_t)clusters);
        r = blk_file_pwrite(f, 48, hdr, sizeof(hdr));
    }
    return r == 0 ? blk_file_flush(f) : r;
}

/* Moves the refcount table to a bigger place at the end of the file, covering at least
 * min_entries blocks and every cluster it and its new refcount blocks occupy. */
static int rt_grow(struct qcow2 *q, struct blk_file *f, uint64_t min_entries)
{
    uint64_t per_cluster = q->cluster_size / 8;
    uint64_t entries = q->rt_entries * 2 > min_entries ? q->rt_entries * 2 : min_entries;
    for (;;) {
        entries = (entries + per_cluster - 1) / per_cluster * per_cluster;
        uint64_t clusters = entries / per_cluster;
        /* The table plus one new refcount block per cluster it adds, with room to spare. */
        uint64_t need = (q->end >> q->cluster_bits) + 2 * clusters + 2;
        if (entries * q->refblock_entries > need) {
            break;
        }
        entries += per_cluster;
    }
    if (entries * 8 > MAX_TABLE_BYTES) {
        return -EFBIG;
    }
    uint64_t *rt = calloc(entries, 8);
    if (rt == NULL) {
        return -ENOMEM;
    }
    memcpy(rt, q->rt, q->rt_entries * 8);
    uint64_t old_offset = q->rt_offset, old_entries = q->rt_entries;
    uint64_t clusters = entries / per_cluster;
    free(q->rt);
    q->rt = rt;
    q->rt_entries = entries;
    q->rt_offset = q->end;
    q->end += clusters * q->cluster_size;
    int r = 0;
    for (uint64_t i = 0; i < clusters && r == 0; i++) {
        r = refcount_set(q, f, q->rt_offset + i * q->cluster_size, 1);
    }
    if (r == 0) {
        r = rt_install(f, q->rt, entries, q->rt_offset, clusters);
    }
    uint64_t old_clusters = old_entries * 8 / q->cluster_size;
    for (uint64_t i = 0; i < old_clusters && r == 0; i++) {
        r = refcount_set(q, f, old_offset + i * q->cluster_size, 0);
    }
    return r;
}

static int refcount_set(struct qcow2 *q, struct blk_file *f, uint64_t off, uint64_t val)
{
    uint64_t idx = off >> q->cluster_bits;
    uint64_t rt_idx = idx / q->refblock_entries;
    int r = 0;
    if (rt_idx >= q->rt_entries) {
        r = rt_grow(q, f, rt_idx + 1);
    }
    if (r == 0 && q->rt[rt_idx] == 0) {
        r = refblock_new(q, f, rt_idx);
    }
    if (r != 0) {
        return r;
    }
    uint8_t raw[8] = {0};
    struct refcount_slot s = refcount_slot(q, idx);
    uint64_t pos = q->rt[rt_idx] + s.byte;
    /* A narrow refcount shares its byte with its neighbours. */
    if (q->refcount_bits < 8) {
        r = blk_file_pread(f, pos, raw, 1);
    }
    if (r == 0) {
        refcount_encode(q, s, raw, val);
        r = blk_file_pwrite(f, pos, raw, s.bytes);
    }
    return r;
}

/* Drops one reference from every cluster of [off, off + len); punch: give the space of freed
 * clusters back to the file system. Only a discard punches: a copy on write may race with a
 * reader that looked the old cluster up before it (the two touch different sectors of it), and
 * freed clusters are never reused, so their old contents stay readable for that reader. */
static int refcount_drop(struct qcow2 *q, struct blk_file *f, uint64_t off, uint64_t len,
                         bool punch)
{
    for (uint64_t c = cluster_start(q, off); c < off + len; c += q->cluster_size) {
        uint64_t val;
        int r = refcount_get(q, f, c, &val);
        if (r != 0) {
            return r;
        }
        if (val == 0) {
            return -EIO; /* a mapped cluster without a reference: the image was damaged */
        }
        r = refcount_set(q, f, c, val - 1);
        if (r == 0 && val == 1 && punch) {
            r = blk_file_punch(f, c, q->cluster_size);
        }
        if (r != 0) {
            return r;
        }
    }
    return 0;
}

/* One new cluster with refcount 1. Refcounts are set and made durable in batches, before any
 * table can point to the clusters. */
static int cluster_alloc(struct qcow2 *q, struct blk_file *f, uint64_t *off)
{
    if (q->rsv_next == q->rsv_end) {
        uint64_t start = q->end;
        q->end += RESERVE_CLUSTERS * q->cluster_size;
        int r = 0;
        for (unsigned i = 0; i < RESERVE_CLUSTERS && r == 0; i++) {
            r = refcount_set(q, f, start + i * q->cluster_size, 1);
        }
        if (r == 0) {
            r = blk_file_flush(f);
        }
        if (r != 0) {
            return r;
        }
        q->rsv_next = start;
        q->rsv_end = start + RESERVE_CLUSTERS * q->cluster_size;
    }
    *off = q->rsv_next;
    q->rsv_next += q->cluster_size;
    return 0;
}

/* ---- mapping ------------------------------------------------------------------------------- */

/* The cached copy of the L2 table at l2, read from the file if it is not cached. */
static int l2_table(struct qcow2 *q, struct blk_file *f, uint64_t l2, uint8_t **table)
{
    struct l2_cached *victim = &q->l2_cache[0];
    for (unsigned i = 0; i < q->l2_slots; i++) {
        struct l2_cached *c = &q->l2_cache[i];
        if (c->offset == l2) {
            c->used = ++q->l2_clock;
            *table = c->table;
            return 0;
        }
        if (c->used < victim->used) {
            victim = c;
        }
    }
    if (victim->table == NULL && (victim->table = malloc(q->cluster_size)) == NULL) {
        return -ENOMEM;
    }
    victim->offset = 0;
    int r = blk_file_pread(f, l2, victim->table, q->cluster_size);
    if (r == 0) {
        victim->offset = l2;
        victim->used = ++q->l2_clock;
        *table = victim->table;
    }
    return r;
}

static int write_entry(struct blk_file *f, uint64_t pos, uint64_t entry)
{
    uint8_t raw[8];
    be64_store(raw, entry);
    return blk_file_pwrite(f, pos, raw, 8);
}

/* Writes the L2 entry at file offset pos (with its bitmap for extended L2), in the file and in
 * the cache. */
static int l2_store(struct qcow2 *q, struct blk_file *f, uint64_t pos, uint64_t entry,
                    uint64_t bitmap)
{
    uint8_t raw[16];
    be64_store(raw, entry);
    be64_store(raw + 8, bitmap);
    int r = blk_file_pwrite(f, pos, raw, q->entry_size);
    uint64_t l2 = cluster_start(q, pos);
    for (unsigned i = 0; i < q->l2_slots && r == 0; i++) {
        if (q->l2_cache[i].offset == l2) {
            memcpy(q->l2_cache[i].table + (pos - l2), raw, q->entry_size);
        }
    }
    return r;
}

/* One L2 entry: the descriptor, the subcluster bitmap (extended L2 only) and where the entry is
 * stored in the file (0: no L2 table yet). */
struct l2_ref {
    uint64_t entry, bitmap, pos;
};

/* The L2 entry of guest offset off (all zero: not allocated). */
static int l2_lookup(struct qcow2 *q, struct blk_file *f, uint64_t off, struct l2_ref *ref)
{
    uint64_t l1_idx = off >> (q->cluster_bits + q->l2_bits);
    uint64_t l2_idx = (off >> q->cluster_bits) & ((1ULL << q->l2_bits) - 1);
    *ref = (struct l2_ref){0};
    if (l1_idx >= q->l1_size) {
        return -EIO;
    }
    uint64_t l2 = q->l1[l1_idx] & ENTRY_OFFSET_MASK;
    if (l2 == 0) {
        return 0;
    }
    if (!cluster_ok(q, l2, false)) {
        return -EIO;
    }
    uint8_t *table;
    int r = l2_table(q, f, l2, &table);
    if (r == 0) {
        ref->pos = l2 + l2_idx * q->entry_size;
        ref->entry = be64_load(table + l2_idx * q->entry_size);
        ref->bitmap = q->extended ? be64_load(table + l2_idx * q->entry_size + 8) : 0;
    }
    return r;
}

/* Host range [*start, *start + *len) of a compressed entry's data, as counted by refcounts. */
static void compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *coff,
                             uint64_t *start, uint64_t *len)
{
    *coff = entry & q->coffset_mask;
    uint64_t sectors = ((entry >> q->csize_shift) & q->csize_mask) + 1;
    *start = *coff & ~511ULL;
    *len = sectors * 512;
}

static int read_compressed(struct qcow2 *q, struct blk_file *f, uint64_t entry, uint8_t *out)
{
    uint64_t coff, start, len;
    compressed_range(q, entry, &coff, &start, &len);
    len -= coff - start;
    uint8_t *in = malloc(len);
    if (in == NULL) {
        return -ENOMEM;
    }
    int r = blk_file_pread(f, coff, in, len);
    if (r == 0) {
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        /* Raw deflate; the largest window decodes data made with any smaller one. */
        if (inflateInit2(&zs, -15) != Z_OK) {
            r = -ENOMEM;
        } else {
            zs.next_in = in;
            zs.avail_in = (uInt)len;
            zs.next_out = out;
            zs.avail_out = (uInt)q->cluster_size;
            int z = inflate(&zs, Z_FINISH);
            /* The sector count rounds up, so trailing input is normal; a short output is not. */
            if ((z != Z_STREAM_END && z != Z_BUF_ERROR && z != Z_OK) || zs.avail_out != 0) {
                r = -EIO;
            }
            inflateEnd(&zs);
        }
    }
    free(in);
    return r;
}

static int read_backing(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t len)
{
    uint64_t blen = q->backing ? q->backing->length : 0;
    size_t from_backing = off >= blen ? 0 : (size_t)(blen - off < len ? blen - off : len);
    memset(buf + from_backing, 0, len - from_backing);
    return from_backing ? q->backing->drv->pread(q->backing, off, buf, from_backing) : 0;
}

/* Whether the data an L2 entry points to lies inside the file. Under lock (q->end moves). */
static bool entry_ok(const struct qcow2 *q, uint64_t entry)
{
    if (entry & ENTRY_COMPRESSED) {
        return (entry & q->coffset_mask) < q->end;
    }
    uint64_t host = entry & ENTRY_OFFSET_MASK;
    return host == 0 || (q->version >= 3 && (entry & ENTRY_ZERO)) || cluster_ok(q, host, false);
}

/* Reads [off, off + len) of one cluster whose L2 entry is entry, checked by entry_ok. */
static int read_mapped(struct coremu_block *b, const struct l2_ref *ref, uint64_t off,
                       uint8_t *buf, size_t len)
{
    struct qcow2 *q = b->fmt;
    uint64_t entry = ref->entry;
    uint64_t in_cluster = off & (q->cluster_size - 1);
    if (entry & ENTRY_COMPRESSED) {
        uint8_t *cl = malloc(q->cluster_size);
        if (cl == NULL) {
            return -ENOMEM;
        }
        int r = read_compressed(q, &b->file, entry, cl);
        if (r == 0) {
            memcpy(buf, cl + in_cluster, len);
        }
        free(cl);
        return r;
    }
    uint64_t host = entry & ENTRY_OFFSET_MASK;
    if (q->extended) {
        /* Subcluster by subcluster: allocated, zeros, or whatever lies below. */
        while (len > 0) {
            unsigned sc = (unsigned)(in_cluster >> q->subcluster_bits);
            uint64_t sc_end = (uint64_t)(sc + 1) << q->subcluster_bits;
            size_t n = sc_end - in_cluster < len ? (size_t)(sc_end - in_cluster) : len;
            int r = 0;
            if (ref->bitmap & (1ULL << sc)) {
                r = host == 0 ? -EIO : blk_file_pread(&b->file, host + in_cluster, buf, n);
            } else if (ref->bitmap & (1ULL << (SUBCLUSTERS + sc))) {
                memset(buf, 0, n);
            } else {
                r = read_backing(q, off, buf, n);
            }
            if (r != 0) {
                return r;
            }
            buf += n;
            off += n;
            in_cluster += n;
            len -= n;
        }
        return 0;
    }
    if (q->version >= 3 && (entry & ENTRY_ZERO)) {
        memset(buf, 0, len);
        return 0;
    }
    if (host == 0) {
        return read_backing(q, off, buf, len);
    }
    return blk_file_pread(&b->file, host + in_cluster, buf, len);
}

/* Runs fn on each piece of [off, off + len) that lies in one cluster, in order. */
static int for_each_cluster(struct coremu_block *b, uint64_t off, uint8_t *p, size_t len,
                            int (*fn)(struct coremu_block *b, uint64_t off, uint8_t *p, size_t n))
{
    struct qcow2 *q = b->fmt;
    while (len > 0) {
        size_t n = q->cluster_size - (off & (q->cluster_size - 1));
        n = n < len ? n : len;
        int r = fn(b, off, p, n);
        if (r != 0) {
            return r;
        }
        off += n;
        p += n;
        len -= n;
    }
    return 0;
}

static int pread_in_cluster(struct coremu_block *b, uint64_t off, uint8_t *p, size_t n)
{
    struct qcow2 *q = b->fmt;
    struct l2_ref ref;
    pthread_mutex_lock(&q->lock);
    int r = l2_lookup(q, &b->file, off, &ref);
    if (r == 0 && !entry_ok(q, ref.entry)) {
        r = -EIO;
    }
    pthread_mutex_unlock(&q->lock);
    return r != 0 ? r : read_mapped(b, &ref, off, p, n);
}

static int qcow2_pread(struct coremu_block *b, uint64_t off, void *buf, size_t len)
{
    return for_each_cluster(b, off, buf, len, pread_in_cluster);
}

/* The L2 entry of guest offset off in a table of our own: a zeroed table is allocated when
 * there is none, a table shared with an internal snapshot is copied. */
static int l2_for_write(struct qcow2 *q, struct blk_file *f, uint64_t off, struct l2_ref *ref)
{
    uint64_t l1_idx = off >> (q->cluster_bits + q->l2_bits);
    int r = l2_lookup(q, f, off, ref);
    if (r != 0) {
        return r;
    }
    uint64_t old = q->l1[l1_idx] & ENTRY_OFFSET_MASK;
    if (ref->pos != 0 && (q->l1[l1_idx] & ENTRY_COPIED)) {
        return cluster_ok(q, old, true) ? 0 : -EIO;
    }
    /* The copy takes over our path to the data clusters, so their refcounts stay as they are;
     * only the shared table loses our reference. */
    uint64_t l2;
    r = cluster_alloc(q, f, &l2);
    uint8_t *table = r == 0 ? calloc(1, q->cluster_size) : NULL;
    if (r == 0 && table == NULL) {
        r = -ENOMEM;
    }
    uint8_t *shared;
    if (r == 0 && old != 0 && (r = l2_table(q, f, old, &shared)) == 0) {
        memcpy(table, shared, q->cluster_size);
    }
    if (r == 0) {
        r = blk_file_pwrite(f, l2, table, q->cluster_size);
    }
    free(table);
    /* Only a damaged image reuses a cluster as a table, but then no stale copy may stay. */
    for (unsigned i = 0; i < q->l2_slots; i++) {
        if (q->l2_cache[i].offset == l2) {
            q->l2_cache[i].offset = 0;
        }
    }
    if (r == 0) {
        r = write_entry(f, q->l1_offset + l1_idx * 8, l2 | ENTRY_COPIED);
    }
    if (r == 0) {
        q->l1[l1_idx] = l2 | ENTRY_COPIED;
        ref->pos = l2 + ((off >> q->cluster_bits) & ((1ULL << q->l2_bits) - 1)) * q->entry_size;
    }
    if (r == 0 && old != 0) {
        r = refcount_drop(q, f, old, q->cluster_size, false);
    }
    return r;
}

/* The host clusters an L2 entry holds references to (len 0: none). */
static void entry_clusters(const struct qcow2 *q, uint64_t entry, uint64_t *start,
                           uint64_t *len)
{
    uint64_t coff;
    *start = 0;
    *len = 0;
    if (entry & ENTRY_COMPRESSED) {
        compressed_range(q, entry, &coff, start, len);
    } else if (entry & ENTRY_OFFSET_MASK) {
        *start = entry & ENTRY_OFFSET_MASK;
        *len = q->cluster_size;
    }
}

/* The subclusters [off, off + len) touches, as a mask of bitmap bits 0..31. */
static uint64_t touched_subclusters(const struct qcow2 *q, uint64_t off, size_t len)
{
    unsigned first = (unsigned)((off & (q->cluster_size - 1)) >> q->subcluster_bits);
    unsigned last = (unsigned)(((off & (q->cluster_size - 1)) + len - 1) >> q->subcluster_bits);
    return ((2ULL << last) - 1) & ~((1ULL << first) - 1);
}

/* Extended L2, a cluster of our own or none yet: only the subclusters the write touches are
 * filled (their old contents merged with the new bytes) and marked allocated; the others keep
 * reading from below, and allocated ones may be written by other threads meanwhile. */
static int write_subclusters(struct coremu_block *b, const struct l2_ref *ref, uint64_t off,
                             const uint8_t *buf, size_t len)
{
    struct qcow2 *q = b->fmt;
    uint64_t host = ref->entry & ENTRY_OFFSET_MASK;
    int r = host == 0 ? cluster_alloc(q, &b->file, &host) : 0;
    uint64_t sc_size = 1ULL << q->subcluster_bits, base = cluster_start(q, off);
    uint8_t *sub = r == 0 ? malloc(sc_size) : NULL;
    if (r == 0 && sub == NULL) {
        r = -ENOMEM;
    }
    uint64_t touched = touched_subclusters(q, off, len);
    for (unsigned sc = 0; sc < SUBCLUSTERS && r == 0; sc++) {
        if (!(touched & (1ULL << sc))) {
            continue;
        }
        uint64_t sc_off = base + sc * sc_size;
        uint64_t from = off > sc_off ? off : sc_off;
        uint64_t to = off + len < sc_off + sc_size ? off + len : sc_off + sc_size;
        if (ref->bitmap & (1ULL << sc)) {
            r = blk_file_pwrite(&b->file, host + (from - base), buf + (from - off), to - from);
            continue;
        }
        r = read_mapped(b, ref, sc_off, sub, sc_size);
        if (r == 0) {
            memcpy(sub + (from - sc_off), buf + (from - off), to - from);
            r = blk_file_pwrite(&b->file, host + (sc_off - base), sub, sc_size);
        }
    }
    free(sub);
    if (r == 0) {
        r = l2_store(q, &b->file, ref->pos, host | ENTRY_COPIED,
                     (ref->bitmap | touched) & ~(touched << SUBCLUSTERS));
    }
    if (r != 0 && r != -ENOMEM) {
        q->broken = true;
    }
    return r;
}

/* Writes into one cluster that is not allocated, compressed, zero, or shared: its old contents
 * and the new bytes go to a new cluster, then the L2 entry moves there. Under lock. */
static int write_cow(struct coremu_block *b, const struct l2_ref *ref, uint64_t off,
                     const uint8_t *buf, size_t len)
{
    struct qcow2 *q = b->fmt;
    uint64_t entry = ref->entry;
    if (!entry_ok(q, entry)) {
        return -EIO;
    }
    if (q->extended && !(entry & ENTRY_COMPRESSED) &&
        ((entry & ENTRY_OFFSET_MASK) == 0 || (entry & ENTRY_COPIED))) {
        return write_subclusters(b, ref, off, buf, len);
    }
    uint64_t base = cluster_start(q, off);
    uint8_t *cl = malloc(q->cluster_size);
    if (cl == NULL) {
        return -ENOMEM;
    }
    int r = 0;
    if (len != q->cluster_size) {
        r = read_mapped(b, ref, base, cl, q->cluster_size);
    }
    if (r != 0) {
        /* Nothing changed yet: the image stays writable elsewhere. */
        free(cl);
        return r;
    }
    uint64_t host = 0;
    memcpy(cl + (off - base), buf, len);
    r = cluster_alloc(q, &b->file, &host);
    if (r == 0) {
        r = blk_file_pwrite(&b->file, host, cl, q->cluster_size);
    }
    free(cl);
    if (r == 0) {
        r = l2_store(q, &b->file, ref->pos, host | ENTRY_COPIED,
                     q->extended ? BITMAP_ALL_ALLOCATED : 0);
    }
    uint64_t old_start, old_len;
    entry_clusters(q, entry, &old_start, &old_len);
    if (r == 0 && old_len != 0) {
        r = refcount_drop(q, &b->file, old_start, old_len, false);
    }
    /* A metadata update that stopped half-way: no more writes rather than a worse image. */
    if (r != 0 && r != -ENOMEM) {
        q->broken = true;
    }
    return r;
}

static int pwrite_in_cluster(struct coremu_block *b, uint64_t off, uint8_t *p, size_t n)
{
    struct qcow2 *q = b->fmt;
    struct l2_ref ref = {0};
    pthread_mutex_lock(&q->lock);
    int r = q->broken ? -EIO : l2_for_write(q, &b->file, off, &ref);
    uint64_t entry = ref.entry, host = entry & ENTRY_OFFSET_MASK;
    bool mine = (entry & ENTRY_COPIED) && !(entry & ENTRY_COMPRESSED) && host != 0;
    bool in_place = r == 0 && mine &&
                    (q->extended ? (~ref.bitmap & touched_subclusters(q, off, n)) == 0
                                 : !(q->version >= 3 && (entry & ENTRY_ZERO)));
    if (in_place && !cluster_ok(q, host, true)) {
        r = -EIO;
    }
    if (r == 0 && !in_place) {
        r = write_cow(b, &ref, off, p, n);
    }
    pthread_mutex_unlock(&q->lock);
    if (r == 0 && in_place) {
        /* An allocated cluster of our own: its data needs no metadata lock. */
        r = blk_file_pwrite(&b->file, host + (off & (q->cluster_size - 1)), p, n);
    }
    return r;
}

static int qcow2_pwrite(struct coremu_block *b, uint64_t off, const void *buf, size_t len)
{
    /* for_each_cluster passes the buffer through untouched; pwrite_in_cluster only reads it. */
    return for_each_cluster(b, off, (uint8_t *)buf, len, pwrite_in_cluster);
}

static int qcow2_flush(struct coremu_block *b)
{
    return blk_file_flush(&b->file);
}

/* Frees the clusters wholly inside the range; they then read as zeros (v3 zero clusters when
 * a backing file would otherwise show through; v2 keeps such clusters). */
static int qcow2_discard(struct coremu_block *b, uint64_t off, uint64_t len)
{
    struct qcow2 *q = b->fmt;
    uint64_t first = (off + q->cluster_size - 1) & ~(q->cluster_size - 1);
    uint64_t last = cluster_start(q, off + len);
    int r = 0;
    pthread_mutex_lock(&q->lock);
    /* Over a backing file only v3 can say "zeros"; v2 keeps those clusters. */
    bool zero = q->backing != NULL;
    if (zero && q->version < 3) {
        last = first;
    }
    uint64_t zero_entry = zero && !q->extended ? ENTRY_ZERO : 0;
    uint64_t zero_bitmap = zero && q->extended ? BITMAP_ALL_ZERO : 0;
    for (uint64_t c = first; c < last && r == 0; c += q->cluster_size) {
        struct l2_ref ref;
        uint64_t start, clen;
        r = q->broken ? -EIO : l2_lookup(q, &b->file, c, &ref);
        entry_clusters(q, ref.entry, &start, &clen);
        bool reads_zero = clen == 0 && (!zero || (ref.entry & ENTRY_ZERO) ||
                                        (q->extended && ref.bitmap == BITMAP_ALL_ZERO));
        if (r != 0 || reads_zero) {
            continue;
        }
        r = l2_for_write(q, &b->file, c, &ref);
        /* The entry lets go of the cluster before its reference is dropped. */
        if (r == 0) {
            r = l2_store(q, &b->file, ref.pos, zero_entry, zero_bitmap);
        }
        if (r == 0 && clen != 0) {
            r = refcount_drop(q, &b->file, start, clen, true);
        }
        if (r != 0 && r != -ENOMEM) {
            q->broken = true;
        }
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

static void qcow2_free(struct qcow2 *q)
{
    for (unsigned i = 0; i < q->l2_slots; i++) {
        free(q->l2_cache[i].table);
    }
    free(q->l2_cache);
    free(q->l1);
    free(q->rt);
    coremu_block_close(q->backing);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static void qcow2_close(struct coremu_block *b)
{
    struct qcow2 *q = b->fmt;
    /* Reserved clusters that were never used go back, so a clean close leaks nothing. */
    if (!b->readonly && !q->broken) {
        for (uint64_t c = q->rsv_next; c < q->rsv_end; c += q->cluster_size) {
            if (refcount_set(q, &b->file, c, 0) != 0) {
                break;
            }
        }
        blk_file_flush(&b->file);
    }
    qcow2_free(q);
    b->fmt = NULL;
}

static const struct blk_driver qcow2_driver = {
    .name = "qcow2",
    .pread = qcow2_pread,
    .pwrite = qcow2_pwrite,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .close = qcow2_close,
};

/* ---- opening ------------------------------------------------------------------------------- */

/* The backing file's name and format from the header and its extensions. */
/* The backing file's name from the header. */
static int read_backing_name(struct blk_file *f, const uint8_t *hdr, uint64_t cluster_size,
                             char *name, size_t name_len, const char *path, char *err,
                             size_t errlen)
{
    uint64_t name_off = be64_load(hdr + 8);
    uint32_t name_size = be32_load(hdr + 16);
    name[0] = '\0';
    if (name_off == 0) {
        return 0;
    }
    if (name_size == 0 || name_size >= name_len || name_off > cluster_size ||
        name_size > cluster_size - name_off) {
        snprintf(err, errlen, "%s: bad backing file name in the qcow2 header", path);
        return -1;
    }
    if (blk_file_pread(f, name_off, name, name_size) != 0) {
        snprintf(err, errlen, "%s: cannot read the backing file name", path);
        return -1;
    }
    name[name_size] = '\0';
    return 0;
}

/* Header extensions run from the end of the header to the end of the first cluster: the
 * backing file's format, and whether persistent bitmaps exist. */
static void scan_extensions(struct blk_file *f, uint64_t ext_start, uint64_t cluster_size,
                            char *fmt, size_t fmt_len, bool *bitmaps)
{
    uint64_t pos = ext_start;
    fmt[0] = '\0';
    *bitmaps = false;
    while (pos + 8 <= cluster_size) {
        uint8_t eh[8];
        if (blk_file_pread(f, pos, eh, 8) != 0) {
            break;
        }
        uint32_t type = be32_load(eh), len = be32_load(eh + 4);
        if (type == EXT_END || len > cluster_size - pos - 8) {
            break;
        }
        if (type == EXT_BACKING_FORMAT && len < fmt_len) {
            if (blk_file_pread(f, pos + 8, fmt, len) != 0) {
                break;
            }
            fmt[len] = '\0';
        }
        *bitmaps |= type == EXT_BITMAPS;
        pos += 8 + ((uint64_t)len + 7) / 8 * 8;
    }
}

static int open_backing(struct qcow2 *q, const char *path, const char *name, const char *fmt,
                        enum coremu_block_cache cache, unsigned depth, char *err, size_t errlen)
{
    if (strncmp(name, "json:", 5) == 0 || strstr(name, "://") != NULL) {
        snprintf(err, errlen, "%s: backing file %s: only local files are supported", path, name);
        return -1;
    }
    if (depth + 1 >= BLK_MAX_BACKING_DEPTH) {
        snprintf(err, errlen, "%s: backing chain deeper than %d images (a loop?)", path,
                 BLK_MAX_BACKING_DEPTH);
        return -1;
    }
    char full[PATH_MAX];
    const char *slash = strrchr(path, '/');
    /* A relative name is relative to the directory of the image that names it. */
    if (name[0] != '/' && slash != NULL) {
        if (snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - path), path, name) >=
            (int)sizeof(full)) {
            snprintf(err, errlen, "%s: backing file name too long", path);
            return -1;
        }
    } else {
        snprintf(full, sizeof(full), "%s", name);
    }
    if (fmt[0] != '\0' && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0) {
        snprintf(err, errlen, "%s: backing file %s has unsupported format '%s'", path, full, fmt);
        return -1;
    }
    char sub[512];
    q->backing = blk_open_image(full, fmt[0] ? fmt : NULL, true, cache, depth + 1, sub,
                                sizeof(sub));
    if (q->backing == NULL) {
        snprintf(err, errlen, "%s: backing file: %s", path, sub);
        return -1;
    }
    return 0;
}

static int load_table(struct blk_file *f, uint64_t off, uint64_t entries, uint64_t **out)
{
    uint8_t *raw = malloc(entries * 8 + 1);
    uint64_t *t = calloc(entries + 1, 8);
    int r = raw && t ? blk_file_pread(f, off, raw, entries * 8) : -ENOMEM;
    for (uint64_t i = 0; r == 0 && i < entries; i++) {
        t[i] = be64_load(raw + i * 8);
    }
    free(raw);
    if (r != 0) {
        free(t);
        return r;
    }
    *out = t;
    return 0;
}

/* ---- rebuilding the refcounts of a dirty image ------------------------------------------- */

/* How often each cluster of the file is referenced, counted from the tables themselves. */
struct ref_map {
    uint64_t clusters;
    uint32_t *count;
};

static int ref_add(const struct qcow2 *q, struct ref_map *m, uint64_t off, uint64_t len)
{
    if (len == 0) {
        return 0;
    }
    uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
    if (off + len < off || last >= m->clusters) {
        return -EIO; /* a table points outside the file */
    }
    for (uint64_t c = first; c <= last; c++) {
        if (m->count[c] == UINT32_MAX) {
            return -EIO;
        }
        m->count[c]++;
    }
    return 0;
}

/* Counts an L1 table, its L2 tables and every cluster they map. */
static int ref_walk_l1(struct qcow2 *q, struct blk_file *f, struct ref_map *m, uint64_t l1_off,
                       uint64_t l1_size)
{
    uint64_t *l1;
    if (l1_size * 8 > MAX_TABLE_BYTES || (l1_off % q->cluster_size) != 0 ||
        ref_add(q, m, l1_off, l1_size * 8) != 0 || load_table(f, l1_off, l1_size, &l1) != 0) {
        return -EIO;
    }
    uint64_t entries = q->cluster_size / 8;
    uint64_t *l2 = NULL;
    int r = 0;
    for (uint64_t i = 0; i < l1_size && r == 0; i++) {
        uint64_t t = l1[i] & ENTRY_OFFSET_MASK;
        if (t == 0) {
            continue;
        }
        free(l2);
        l2 = NULL;
        r = t % q->cluster_size != 0 ? -EIO : ref_add(q, m, t, q->cluster_size);
        if (r == 0) {
            r = load_table(f, t, entries, &l2);
        }
        /* Extended L2 entries are two words: the descriptor, then the subcluster bitmap. */
        for (uint64_t j = 0; j < entries && r == 0; j += q->entry_size / 8) {
            uint64_t start, len;
            entry_clusters(q, l2[j], &start, &len);
            if (!(l2[j] & ENTRY_COMPRESSED) && start % q->cluster_size != 0) {
                r = -EIO;
            } else {
                r = ref_add(q, m, start, len);
            }
        }
    }
    free(l2);
    free(l1);
    return r;
}

/* Counts the internal snapshots: their table and each one's L1 tree. */
static int ref_walk_snapshots(struct qcow2 *q, struct blk_file *f, struct ref_map *m,
                              const uint8_t *hdr)
{
    uint32_t n = be32_load(hdr + 60);
    uint64_t pos = be64_load(hdr + 64), start = pos;
    if (n == 0) {
        return 0;
    }
    if (n > 65536 || pos % q->cluster_size != 0) {
        return -EIO;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[40];
        if (pos - start > MAX_TABLE_BYTES || blk_file_pread(f, pos, e, sizeof(e)) != 0) {
            return -EIO;
        }
        int r = ref_walk_l1(q, f, m, be64_load(e), be32_load(e + 8));
        if (r != 0) {
            return r;
        }
        /* Extra data, then the id and the name, padded to 8 bytes. */
        uint64_t len = 40 + (uint64_t)be32_load(e + 36) + (uint64_t)(e[12] << 8 | e[13]) +
                       (uint64_t)(e[14] << 8 | e[15]);
        pos += (len + 7) / 8 * 8;
    }
    return ref_add(q, m, start, pos - start);
}

/* A dirty image (QEMU's lazy refcounts, not written back before it stopped) gets refcounts
 * counted afresh from its tables, in a new refcount table and new blocks at the end of the
 * file; then the header points to them and loses the dirty bit. */
static int repair(struct qcow2 *q, struct blk_file *f, const uint8_t *hdr, bool bitmaps,
                  const char *path, char *err, size_t errlen)
{
    if (bitmaps) {
        snprintf(err, errlen, "%s: the image is dirty and has persistent bitmaps: run "
                 "'qemu-img check -r all' on it first", path);
        return -1;
    }
    uint64_t used = q->end >> q->cluster_bits;
    /* The new table and blocks: enough to cover the file, themselves included. */
    uint64_t blocks = 0, table = 0;
    for (;;) {
        uint64_t total = used + blocks + table;
        uint64_t need_blocks = (total + q->refblock_entries - 1) / q->refblock_entries;
        uint64_t need_table = (need_blocks * 8 + q->cluster_size - 1) / q->cluster_size;
        if (need_blocks == blocks && need_table == table) {
            break;
        }
        blocks = need_blocks;
        table = need_table;
    }
    struct ref_map m = {.clusters = used + blocks + table};
    m.count = m.clusters * 8 <= (1ULL << 32) ? calloc(m.clusters, 4) : NULL;
    uint64_t *rt = calloc(table * q->cluster_size / 8, 8);
    uint8_t *blk = malloc(q->cluster_size);
    int r = m.count && rt && blk ? 0 : -ENOMEM;
    if (r == 0) {
        r = ref_add(q, &m, 0, q->cluster_size);
    }
    if (r == 0) {
        r = ref_walk_l1(q, f, &m, q->l1_offset, q->l1_size);
    }
    if (r == 0) {
        r = ref_walk_snapshots(q, f, &m, hdr);
    }
    uint64_t rt_offset = q->end;
    if (r == 0) {
        r = ref_add(q, &m, rt_offset, (table + blocks) * q->cluster_size);
    }
    uint64_t max = q->refcount_bits == 64 ? UINT64_MAX : (1ULL << q->refcount_bits) - 1;
    for (uint64_t c = 0; c < m.clusters && r == 0; c++) {
        r = m.count[c] > max ? -EIO : 0;
    }
    /* Blocks first, then the table, then the header switches to them. */
    for (uint64_t i = 0; i < blocks && r == 0; i++) {
        memset(blk, 0, q->cluster_size);
        for (uint64_t j = 0; j < q->refblock_entries; j++) {
            uint64_t c = i * q->refblock_entries + j;
            if (c < m.clusters && m.count[c] != 0) {
                struct refcount_slot slot = refcount_slot(q, c);
                refcount_encode(q, slot, blk + slot.byte, m.count[c]);
            }
        }
        rt[i] = rt_offset + (table + i) * q->cluster_size;
        r = blk_file_pwrite(f, rt[i], blk, q->cluster_size);
    }
    uint64_t entries = table * q->cluster_size / 8;
    if (r == 0) {
        r = rt_install(f, rt, entries, rt_offset, table);
    }
    if (r == 0) {
        uint8_t incompat[8];
        be64_store(incompat, be64_load(hdr + 72) & ~INCOMPAT_DIRTY);
        r = blk_file_pwrite(f, 72, incompat, 8);
    }
    free(m.count);
    free(blk);
    if (r != 0) {
        free(rt);
        snprintf(err, errlen, "%s: the image is dirty and its refcounts cannot be rebuilt "
                 "(%s): run 'qemu-img check -r all' on it", path, strerror(-r));
        return -1;
    }
    free(q->rt);
    q->rt = rt;
    q->rt_entries = entries;
    q->rt_offset = rt_offset;
    q->end = rt_offset + (table + blocks) * q->cluster_size;
    return 0;
}

#define OPEN_FAIL(...)                                                                            \
    do {                                                                                          \
        snprintf(err, errlen, __VA_ARGS__);                                                       \
        goto fail;                                                                                \
    } while (0)

static int qcow2_open_file(struct coremu_block *b, const char *path, enum coremu_block_cache cache,
                           unsigned depth, char *err, size_t errlen)
{
    struct blk_file *f = &b->file;
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    pthread_mutex_init(&q->lock, NULL);
    uint8_t hdr[HEADER_V3_MIN_LEN];
    uint64_t file_size;
    if (blk_file_size(f, &file_size) != 0 || file_size < HEADER_V2_LEN ||
        blk_file_pread(f, 0, hdr, sizeof(hdr)) != 0 || !blk_qcow2_probe(hdr, sizeof(hdr))) {
        OPEN_FAIL("%s: not a qcow2 image (truncated or bad header)", path);
    }
    q->version = be32_load(hdr + 4);
    if (q->version != 2 && q->version != 3) {
        OPEN_FAIL("%s: qcow2 version %u is not supported (2 and 3 are)", path, q->version);
    }
    q->cluster_bits = be32_load(hdr + 20);
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        OPEN_FAIL("%s: bad qcow2 cluster size 2^%u", path, q->cluster_bits);
    }
    q->cluster_size = 1ULL << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->end = (file_size + q->cluster_size - 1) & ~(q->cluster_size - 1);
    uint64_t size = be64_load(hdr + 24);
    if (size > MAX_VIRTUAL_SIZE) {
        OPEN_FAIL("%s: virtual size %" PRIu64 " is too large", path, size);
    }
    if (be32_load(hdr + 32) != 0) {
        OPEN_FAIL("%s: encrypted qcow2 images are not supported", path);
    }
    q->l1_size = be32_load(hdr + 36);
    q->l1_offset = be64_load(hdr + 40);
    q->rt_offset = be64_load(hdr + 48);
    uint32_t rt_clusters = be32_load(hdr + 56);
    uint64_t incompat = 0, autoclear = 0;
    unsigned refcount_order = 4, header_len = HEADER_V2_LEN;
    if (q->version == 3) {
        if (file_size < HEADER_V3_MIN_LEN) {
            OPEN_FAIL("%s: not a qcow2 image (truncated header)", path);
        }
        incompat = be64_load(hdr + 72);
        autoclear = be64_load(hdr + 88);
        refcount_order = be32_load(hdr + 96);
        header_len = be32_load(hdr + 100);
        if (header_len < HEADER_V3_MIN_LEN || header_len > q->cluster_size) {
            OPEN_FAIL("%s: bad qcow2 header length %u", path, header_len);
        }
    }
    if (incompat & INCOMPAT_EXTERNAL_DATA) {
        OPEN_FAIL("%s: unsupported qcow2 feature: external data file", path);
    }
    q->extended = (incompat & INCOMPAT_EXTENDED_L2) != 0;
    if (q->extended && q->cluster_bits < 14) {
        OPEN_FAIL("%s: extended L2 entries need clusters of 16 KiB or more", path);
    }
    q->entry_size = q->extended ? 16 : 8;
    q->l2_bits = q->cluster_bits - (q->extended ? 4 : 3);
    q->subcluster_bits = q->cluster_bits - 5;
    if (incompat & ~INCOMPAT_KNOWN) {
        OPEN_FAIL("%s: unsupported qcow2 feature(s) (incompatible feature bits %#" PRIx64 ")",
                  path, (uint64_t)(incompat & ~INCOMPAT_KNOWN));
    }
    if (incompat & INCOMPAT_COMPRESSION_TYPE) {
        uint8_t type = 0;
        if (header_len < HEADER_V3_MIN_LEN + 1 || blk_file_pread(f, 104, &type, 1) != 0 ||
            type != 0) {
            OPEN_FAIL("%s: unsupported qcow2 compression type (only zlib is)", path);
        }
    }
    if (!b->readonly && (incompat & INCOMPAT_CORRUPT)) {
        OPEN_FAIL("%s: the image is marked corrupt; run 'qemu-img check -r all' on it first",
                  path);
    }
    if (refcount_order > 6) {
        OPEN_FAIL("%s: bad qcow2 refcount order %u (at most 6: 64 bits)", path, refcount_order);
    }
    q->refcount_bits = 1U << refcount_order;
    q->refblock_entries = q->cluster_size * 8 / q->refcount_bits;
    /* About 1 MiB of L2 tables, at least 4 and at most 32 of them. */
    uint64_t slots = (1ULL << 20) >> q->cluster_bits;
    slots = slots < 4 ? 4 : slots > 32 ? 32 : slots;
    q->l2_cache = calloc(slots, sizeof(*q->l2_cache));
    if (q->l2_cache == NULL) {
        OPEN_FAIL("%s: out of memory", path);
    }
    q->l2_slots = (unsigned)slots;
    q->csize_shift = 62 - (q->cluster_bits - 8);
    q->csize_mask = (1ULL << (q->cluster_bits - 8)) - 1;
    q->coffset_mask = (1ULL << q->csize_shift) - 1;

    /* The L1 table must map the whole disk and lie inside the file. */
    uint64_t l2_span = 1ULL << (q->cluster_bits + q->l2_bits);
    uint64_t l1_needed = (size + l2_span - 1) / l2_span;
    if ((uint64_t)q->l1_size < l1_needed || (uint64_t)q->l1_size * 8 > MAX_TABLE_BYTES ||
        (q->l1_size != 0 && (q->l1_offset % q->cluster_size != 0 || q->l1_offset == 0 ||
                             q->l1_offset > q->end ||
                             (uint64_t)q->l1_size * 8 > q->end - q->l1_offset))) {
        OPEN_FAIL("%s: bad qcow2 L1 table (%u entries at %#" PRIx64 ")", path, q->l1_size,
                  q->l1_offset);
    }
    q->rt_entries = (uint64_t)rt_clusters * q->cluster_size / 8;
    if (rt_clusters == 0 || q->rt_entries * 8 > MAX_TABLE_BYTES || q->rt_offset == 0 ||
        q->rt_offset % q->cluster_size != 0 || q->rt_offset > q->end ||
        q->rt_entries * 8 > q->end - q->rt_offset) {
        OPEN_FAIL("%s: bad qcow2 refcount table (%u clusters at %#" PRIx64 ")", path,
                  rt_clusters, q->rt_offset);
    }
    if (load_table(f, q->l1_offset, q->l1_size, &q->l1) != 0 ||
        load_table(f, q->rt_offset, q->rt_entries, &q->rt) != 0) {
        OPEN_FAIL("%s: cannot read the qcow2 tables", path);
    }
    for (uint64_t i = 0; i < q->rt_entries; i++) {
        /* A refcount block over the header or the tables would let a refcount update
         * overwrite them. */
        if (q->rt[i] != 0 && !cluster_ok(q, q->rt[i], true)) {
            OPEN_FAIL("%s: refcount block %" PRIu64 " at %#" PRIx64 " is outside the image or "
                      "overlaps its tables", path, i, q->rt[i]);
        }
    }
    char name[1024], fmt[32];
    bool bitmaps;
    if (read_backing_name(f, hdr, q->cluster_size, name, sizeof(name), path, err, errlen) != 0) {
        goto fail;
    }
    scan_extensions(f, header_len, q->cluster_size, fmt, sizeof(fmt), &bitmaps);
    if (!b->readonly && (incompat & INCOMPAT_DIRTY) &&
        repair(q, f, hdr, bitmaps, path, err, errlen) != 0) {
        goto fail;
    }
    if (name[0] != '\0' && open_backing(q, path, name, fmt, cache, depth, err, errlen) != 0) {
        goto fail;
    }
    /* Autoclear features describe data (bitmaps...) that we would not keep up to date: a
     * writer that does not know them clears the bits, as the format requires. */
    if (!b->readonly && autoclear != 0) {
        uint8_t zero[8] = {0};
        if (blk_file_pwrite(f, 88, zero, 8) != 0) {
            OPEN_FAIL("%s: cannot update the qcow2 header", path);
        }
    }
    b->fmt = q;
    b->drv = &qcow2_driver;
    b->length = size;
    return 0;
fail:
    qcow2_free(q);
    return -1;
}

int blk_qcow2_open(struct coremu_block *b, const char *path, enum coremu_block_cache cache,
                   unsigned depth, char *err, size_t errlen)
{
    return qcow2_open_file(b, path, cache, depth, err, errlen);
}

int blk_qcow2_create_over(struct coremu_block *b, uint64_t length, struct coremu_block *backing,
                          char *err, size_t errlen)
{
    /* v3, 64 KiB clusters, 16-bit refcounts: header, refcount table, one refcount block, L1. */
    const unsigned cluster_bits = 16;
    const uint64_t cs = 1ULL << cluster_bits;
    uint64_t l2_span = cs * (cs / 8);
    uint64_t l1_entries = (length + l2_span - 1) / l2_span;
    uint64_t l1_clusters = (l1_entries * 8 + cs - 1) / cs;
    uint64_t total = 3 + (l1_clusters ? l1_clusters : 1);
    if (length > MAX_VIRTUAL_SIZE || total > cs / 2) {
        snprintf(err, errlen, "snapshot overlay: disk too large");
        coremu_block_close(backing);
        return -1;
    }
    uint8_t *meta = calloc(total, cs);
    if (meta == NULL) {
        snprintf(err, errlen, "snapshot overlay: out of memory");
        coremu_block_close(backing);
        return -1;
    }
    memcpy(meta, QCOW2_MAGIC, 4);
    be32_store(meta + 4, 3);
    be32_store(meta + 20, cluster_bits);
    be64_store(meta + 24, length);
    be32_store(meta + 36, (uint32_t)l1_entries);
    be64_store(meta + 40, 3 * cs);
    be64_store(meta + 48, cs);
    be32_store(meta + 56, 1);
    be32_store(meta + 96, 4);
    be32_store(meta + 100, HEADER_V3_MIN_LEN);
    be64_store(meta + cs, 2 * cs);
    for (uint64_t i = 0; i < total; i++) {
        meta[2 * cs + i * 2 + 1] = 1;
    }
    int r = blk_file_pwrite(&b->file, 0, meta, total * cs);
    free(meta);
    if (r != 0) {
        snprintf(err, errlen, "snapshot overlay: %s", strerror(-r));
        coremu_block_close(backing);
        return -1;
    }
    if (qcow2_open_file(b, "snapshot overlay", COREMU_BLOCK_CACHE_UNSAFE, 0, err, errlen) != 0) {
        coremu_block_close(backing);
        return -1;
    }
    struct qcow2 *q = b->fmt;
    q->backing = backing;
    return 0;
}
