/*
 * coremu — the block layer: -drive options, host files (cache modes, O_DIRECT bounce buffers,
 * QEMU-compatible image locks), the raw format, read-only .gz images and snapshot overlays.
 * qcow2 is in block_qcow2.c.
 *
 * Locking against other processes follows QEMU's file-posix scheme so that coremu and
 * qemu-system-* / qemu-img / qemu-io see each other: open-file-description locks (shared,
 * F_RDLCK) on single bytes of the image. Byte 100 + N says "I use permission N", byte 200 + N
 * says "I do not let others have permission N", with N = 0 for a consistent read and 1 for a
 * write. A writer holds 100, 101 and 201; a reader 100 and 201. Before using a permission an
 * opener tests whether anybody else holds the matching "not shared" byte, and before refusing
 * to share one whether anybody holds its "in use" byte.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <zlib.h>

#include <coremu/block.h>
#include <coremu/options.h>

#include "block_internal.h"

#define LOCK_PERM_BASE 100   /* "I hold permission N" */
#define LOCK_SHARED_BASE 200 /* "nobody else may hold permission N" */
#define PERM_CONSISTENT_READ 0
#define PERM_WRITE 1

#define MEM_ALIGN 4096 /* O_DIRECT buffer alignment that every Linux file system accepts */

/* ---- -drive options ------------------------------------------------------------------------ */

static int parse_cache(const char *v, enum coremu_block_cache *out)
{
    static const struct {
        const char *name;
        enum coremu_block_cache mode;
    } modes[] = {
        {"writeback", COREMU_BLOCK_CACHE_WRITEBACK},
        {"writethrough", COREMU_BLOCK_CACHE_WRITETHROUGH},
        {"none", COREMU_BLOCK_CACHE_NONE},
        {"directsync", COREMU_BLOCK_CACHE_DIRECTSYNC},
        {"unsafe", COREMU_BLOCK_CACHE_UNSAFE},
    };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(v, modes[i].name) == 0) {
            *out = modes[i].mode;
            return 0;
        }
    }
    return -1;
}

int coremu_block_options_from_drive(const struct coremu_kv *drive, bool global_snapshot,
                                    struct coremu_block_options *o, char *err, size_t errlen)
{
    /* Keys of the board and device layer: theirs to check. */
    static const char *const device_keys[] = {"if", "id", "index", "media", "serial", "bus",
                                              "unit", NULL};
    memset(o, 0, sizeof(*o));
    o->cache = COREMU_BLOCK_CACHE_WRITEBACK;
    o->snapshot = global_snapshot;
    for (unsigned i = 0; i < drive->n; i++) {
        const char *k = drive->key[i], *v = drive->value[i];
        bool device_key = false;
        for (unsigned j = 0; device_keys[j]; j++) {
            device_key |= strcmp(k, device_keys[j]) == 0;
        }
        if (device_key) {
            continue;
        }
        if (strcmp(k, "file") == 0) {
            if (v[0] == '\0') {
                snprintf(err, errlen, "-drive file=: empty file name");
                return -1;
            }
            o->file = v;
        } else if (strcmp(k, "format") == 0) {
            if (strcmp(v, "raw") != 0 && strcmp(v, "qcow2") != 0) {
                snprintf(err, errlen, "-drive format=%s: unsupported format (raw and qcow2 are)",
                         v);
                return -1;
            }
            o->format = v;
        } else if (strcmp(k, "readonly") == 0 || strcmp(k, "snapshot") == 0) {
            bool on;
            if (coremu_parse_bool(v, &on) != 0) {
                snprintf(err, errlen, "-drive %s=%s: expected on or off", k, v);
                return -1;
            }
            if (k[0] == 'r') {
                o->readonly = on;
            } else {
                o->snapshot = on || global_snapshot;
            }
        } else if (strcmp(k, "cache") == 0) {
            if (parse_cache(v, &o->cache) != 0) {
                snprintf(err, errlen,
                         "-drive cache=%s: expected writeback, writethrough, none, directsync "
                         "or unsafe", v);
                return -1;
            }
        } else if (strcmp(k, "discard") == 0) {
            if (strcmp(v, "unmap") == 0 || strcmp(v, "on") == 0) {
                o->discard = true;
            } else if (strcmp(v, "ignore") == 0 || strcmp(v, "off") == 0) {
                o->discard = false;
            } else {
                snprintf(err, errlen, "-drive discard=%s: expected ignore or unmap", v);
                return -1;
            }
        } else if (strcmp(k, "aio") == 0) {
            if (strcmp(v, "threads") != 0) {
                snprintf(err, errlen, "-drive aio=%s: only aio=threads is supported", v);
                return -1;
            }
        } else {
            snprintf(err, errlen, "-drive %s=%s: unsupported parameter '%s'", k, v, k);
            return -1;
        }
    }
    if (o->file == NULL) {
        snprintf(err, errlen, "-drive: file= is required");
        return -1;
    }
    return 0;
}

/* ---- host files ---------------------------------------------------------------------------- */

static bool is_aligned(const struct blk_file *f, uint64_t off, const void *buf, size_t len)
{
    return !f->direct ||
           ((off | len) % f->align == 0 && (uintptr_t)buf % MEM_ALIGN == 0);
}

/* Whole-buffer positional I/O through short transfers and EINTR; a read past EOF fills with
 * zeros (sparse ends of images, metadata of a growing qcow2). */
static int full_io(int fd, uint64_t off, void *buf, size_t len, bool write)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0 && write) {
            return -EIO;
        }
        if (n == 0) {
            memset(p, 0, len);
            return 0;
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int full_pread(int fd, uint64_t off, void *buf, size_t len)
{
    return full_io(fd, off, buf, len, false);
}

static int full_pwrite(int fd, uint64_t off, const void *buf, size_t len)
{
    /* full_io only reads from buf when it writes. */
    return full_io(fd, off, (void *)buf, len, true);
}

/* The aligned window around [off, off + len) in a fresh aligned buffer. */
static int bounce_window(const struct blk_file *f, uint64_t off, size_t len, uint64_t *start,
                         size_t *size, uint8_t **bounce)
{
    *start = off / f->align * f->align;
    uint64_t end = (off + len + f->align - 1) / f->align * f->align;
    *size = (size_t)(end - *start);
    void *p;
    if (posix_memalign(&p, MEM_ALIGN, *size) != 0) {
        return -ENOMEM;
    }
    *bounce = p;
    return 0;
}

int blk_file_pread(struct blk_file *f, uint64_t off, void *buf, size_t len)
{
    if (is_aligned(f, off, buf, len)) {
        return full_pread(f->fd, off, buf, len);
    }
    uint64_t start;
    size_t size;
    uint8_t *bounce;
    int r = bounce_window(f, off, len, &start, &size, &bounce);
    if (r == 0) {
        r = full_pread(f->fd, start, bounce, size);
        if (r == 0) {
            memcpy(buf, bounce + (off - start), len);
        }
        free(bounce);
    }
    return r;
}

int blk_file_pwrite(struct blk_file *f, uint64_t off, const void *buf, size_t len)
{
    if (f->readonly) {
        return -EROFS;
    }
    if (is_aligned(f, off, buf, len)) {
        return full_pwrite(f->fd, off, buf, len);
    }
    uint64_t start;
    size_t size;
    uint8_t *bounce;
    int r = bounce_window(f, off, len, &start, &size, &bounce);
    if (r != 0) {
        return r;
    }
    bool edges = start != off || size != len;
    if (edges) {
        pthread_mutex_lock(&f->rmw_lock);
        /* Only the two edge blocks hold bytes that are not ours. */
        r = full_pread(f->fd, start, bounce, f->align);
        if (r == 0 && size > f->align) {
            r = full_pread(f->fd, start + size - f->align, bounce + size - f->align, f->align);
        }
    }
    if (r == 0) {
        memcpy(bounce + (off - start), buf, len);
        r = full_pwrite(f->fd, start, bounce, size);
    }
    if (edges) {
        pthread_mutex_unlock(&f->rmw_lock);
    }
    free(bounce);
    return r;
}

int blk_file_flush(struct blk_file *f)
{
    if (f->no_flush || f->readonly) {
        return 0;
    }
    return fdatasync(f->fd) == 0 ? 0 : -errno;
}

int blk_file_size(struct blk_file *f, uint64_t *size)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        return -errno;
    }
    if (S_ISBLK(st.st_mode)) {
        return ioctl(f->fd, BLKGETSIZE64, size) == 0 ? 0 : -errno;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int blk_file_punch(struct blk_file *f, uint64_t off, uint64_t len)
{
    if (f->readonly) {
        return -EROFS;
    }
    if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) !=
        0) {
        /* A discard is advice: a file system without holes simply keeps the data. */
        return errno == EOPNOTSUPP || errno == ENOSYS ? 0 : -errno;
    }
    return 0;
}

/* Is byte `byte` locked (shared or not) through another open file description? */
static int lock_byte_taken(int fd, off_t byte, bool *taken)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
    if (fcntl(fd, F_OFD_GETLK, &fl) != 0) {
        return -errno;
    }
    *taken = fl.l_type != F_UNLCK;
    return 0;
}

static int lock_byte(int fd, off_t byte)
{
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
    return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : -errno;
}

/* Takes QEMU's locks for a reader (consistent read, write not shared) or a writer (consistent
 * read and write, write not shared), then checks that nobody holds what we need or refuse. */
static int lock_image(int fd, const char *path, bool readonly, char *err, size_t errlen)
{
    static const int perms_rw[] = {PERM_CONSISTENT_READ, PERM_WRITE};
    unsigned nperms = readonly ? 1 : 2;
    int r = 0;
    for (unsigned i = 0; i < nperms && r == 0; i++) {
        r = lock_byte(fd, LOCK_PERM_BASE + perms_rw[i]);
    }
    if (r == 0) {
        r = lock_byte(fd, LOCK_SHARED_BASE + PERM_WRITE);
    }
    bool taken = false;
    /* Somebody who does not share a permission we use... */
    for (unsigned i = 0; i < nperms && r == 0 && !taken; i++) {
        r = lock_byte_taken(fd, LOCK_SHARED_BASE + perms_rw[i], &taken);
    }
    /* ...or who writes, which we do not share. */
    if (r == 0 && !taken) {
        r = lock_byte_taken(fd, LOCK_PERM_BASE + PERM_WRITE, &taken);
    }
    if (r == -EAGAIN || r == -EACCES || (r == 0 && taken)) {
        snprintf(err, errlen, "cannot lock %s: it is in use by another process", path);
        return -1;
    }
    if (r == -EINVAL || r == -ENOLCK || r == -EOPNOTSUPP) {
        /* No OFD locks here (an old kernel, some network file systems): QEMU goes on with a
         * warning as well. */
        coremu_warn("%s: this file system has no open-file-description locks; the image is not "
                    "locked against other users", path);
        return 0;
    }
    if (r != 0) {
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(-r));
        return -1;
    }
    return 0;
}

/* O_DIRECT alignment of the file: 512 when a 512-byte direct read works, else 4096. */
static size_t direct_alignment(int fd)
{
    void *p;
    if (posix_memalign(&p, MEM_ALIGN, MEM_ALIGN) != 0) {
        return MEM_ALIGN;
    }
    ssize_t n = pread(fd, p, 512, 0);
    free(p);
    return n < 0 && errno == EINVAL ? MEM_ALIGN : 512;
}

static int file_open(struct blk_file *f, const char *path, bool readonly,
                     enum coremu_block_cache cache, char *err, size_t errlen)
{
    int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    bool direct = cache == COREMU_BLOCK_CACHE_NONE || cache == COREMU_BLOCK_CACHE_DIRECTSYNC;
    if (direct) {
        flags |= O_DIRECT;
    }
    if (cache == COREMU_BLOCK_CACHE_WRITETHROUGH || cache == COREMU_BLOCK_CACHE_DIRECTSYNC) {
        flags |= O_DSYNC;
    }
    memset(f, 0, sizeof(*f));
    f->lock_fd = -1;
    f->fd = open(path, flags);
    if (f->fd < 0 && errno == EINVAL && direct) {
        snprintf(err, errlen, "%s: cache=none and cache=directsync need O_DIRECT, which this "
                 "file system does not support", path);
        return -1;
    }
    if (f->fd < 0) {
        snprintf(err, errlen, "could not open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    int stat_errno = fstat(f->fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (stat_errno != 0) {
        snprintf(err, errlen, "could not open %s: %s", path, strerror(stat_errno));
        close(f->fd);
        return -1;
    }
    if (lock_image(f->fd, path, readonly, err, errlen) != 0) {
        close(f->fd);
        return -1;
    }
    f->direct = direct;
    f->align = direct ? direct_alignment(f->fd) : 1;
    f->readonly = readonly;
    f->no_flush = cache == COREMU_BLOCK_CACHE_UNSAFE;
    pthread_mutex_init(&f->rmw_lock, NULL);
    return 0;
}

static void file_close(struct blk_file *f)
{
    close(f->fd);
    if (f->lock_fd >= 0) {
        close(f->lock_fd);
    }
    pthread_mutex_destroy(&f->rmw_lock);
}

/* ---- .gz images ---------------------------------------------------------------------------- */

static bool has_gz_suffix(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

/* Opens path (gzip data) read-only and locked, and decompresses it into an anonymous memory
 * file that becomes f's fd. */
static int gz_open(struct blk_file *f, const char *path, char *err, size_t errlen)
{
    if (file_open(f, path, true, COREMU_BLOCK_CACHE_WRITEBACK, err, errlen) != 0) {
        return -1;
    }
    int mem = memfd_create("coremu-gz", MFD_CLOEXEC);
    int dupfd = dup(f->fd);
    gzFile gz = dupfd >= 0 ? gzdopen(dupfd, "rb") : NULL;
    if (mem < 0 || gz == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
        goto fail;
    }
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    uint64_t total = 0;
    int n = 0;
    while (buf && (n = gzread(gz, buf, CHUNK)) > 0) {
        if (full_pwrite(mem, total, buf, (size_t)n) != 0) {
            n = -2;
            break;
        }
        total += (uint64_t)n;
    }
    free(buf);
    if (buf == NULL || n < 0) {
        int zerr = 0;
        const char *msg = n == -2 ? "cannot store the decompressed image" : gzerror(gz, &zerr);
        snprintf(err, errlen, "%s: not a valid gzip image (%s)", path,
                 buf == NULL ? "out of memory" : msg);
        goto fail;
    }
    gzclose(gz);
    f->lock_fd = f->fd;
    f->fd = mem;
    return 0;
fail:
    if (gz != NULL) {
        gzclose(gz);
    } else if (dupfd >= 0) {
        close(dupfd);
    }
    if (mem >= 0) {
        close(mem);
    }
    file_close(f);
    return -1;
}

/* ---- raw ----------------------------------------------------------------------------------- */

static int raw_pread(struct coremu_block *b, uint64_t off, void *buf, size_t len)
{
    return blk_file_pread(&b->file, off, buf, len);
}

static int raw_pwrite(struct coremu_block *b, uint64_t off, const void *buf, size_t len)
{
    /* A probed raw image must stay raw: a guest writing a qcow2 header into block 0 would
     * make the next (probing) open read a file of the host's choosing as backing file. */
    if (b->probed_raw && off == 0 && len >= 4 && blk_qcow2_probe(buf, len)) {
        return -EPERM;
    }
    return blk_file_pwrite(&b->file, off, buf, len);
}

static int raw_flush(struct coremu_block *b)
{
    return blk_file_flush(&b->file);
}

static int raw_discard(struct coremu_block *b, uint64_t off, uint64_t len)
{
    return blk_file_punch(&b->file, off, len);
}

static void raw_close(struct coremu_block *b)
{
    (void)b;
}

static const struct blk_driver raw_driver = {
    .name = "raw",
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .discard = raw_discard,
    .close = raw_close,
};

/* ---- opening ------------------------------------------------------------------------------- */

struct coremu_block *blk_open_image(const char *path, const char *format, bool readonly,
                                    enum coremu_block_cache cache, unsigned depth, char *err,
                                    size_t errlen)
{
    struct coremu_block *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    b->readonly = readonly;
    int r;
    if (has_gz_suffix(path)) {
        if (!readonly) {
            snprintf(err, errlen, "%s: a .gz image is read-only: use readonly=on or snapshot=on",
                     path);
            free(b);
            return NULL;
        }
        r = gz_open(&b->file, path, err, errlen);
    } else {
        r = file_open(&b->file, path, readonly, cache, err, errlen);
    }
    if (r != 0) {
        free(b);
        return NULL;
    }
    if (format == NULL) {
        uint8_t head[MEM_ALIGN];
        if (blk_file_pread(&b->file, 0, head, sizeof(head)) != 0) {
            memset(head, 0, sizeof(head));
        }
        if (blk_qcow2_probe(head, sizeof(head))) {
            format = "qcow2";
        } else {
            format = "raw";
            b->probed_raw = true;
            if (depth == 0) {
                coremu_warn("%s: no format= given and the image was probed as raw; writes to its "
                            "first block that would make it look like another format are "
                            "refused: give format=raw to lift this", path);
            }
        }
    }
    if (strcmp(format, "qcow2") == 0) {
        r = blk_qcow2_open(b, path, cache, depth, err, errlen);
    } else if (strcmp(format, "raw") == 0) {
        b->drv = &raw_driver;
        r = blk_file_size(&b->file, &b->length);
        if (r != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(-r));
        }
    } else {
        snprintf(err, errlen, "%s: unsupported format '%s' (raw and qcow2 are)", path, format);
        r = -1;
    }
    if (r != 0) {
        file_close(&b->file);
        free(b);
        return NULL;
    }
    return b;
}

/* A temporary qcow2 overlay in $TMPDIR over base, unlinked at once so nothing outlives us. */
static struct coremu_block *snapshot_overlay(struct coremu_block *base, const char *path,
                                             char *err, size_t errlen)
{
    const char *dir = getenv("TMPDIR");
    char name[PATH_MAX];
    snprintf(name, sizeof(name), "%s/coremu-snapshot-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create the snapshot overlay in %s: %s", path,
                 dir && dir[0] ? dir : "/tmp", strerror(errno));
        coremu_block_close(base);
        return NULL;
    }
    unlink(name);
    struct coremu_block *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        close(fd);
        coremu_block_close(base);
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    b->file.fd = fd;
    b->file.lock_fd = -1;
    b->file.align = 1;
    /* The overlay dies with us: syncing it would only cost time. */
    b->file.no_flush = true;
    pthread_mutex_init(&b->file.rmw_lock, NULL);
    if (blk_qcow2_create_over(b, base->length, base, err, errlen) != 0) {
        file_close(&b->file);
        free(b);
        return NULL;
    }
    return b;
}

struct coremu_block *coremu_block_open(const struct coremu_block_options *o, char *err,
                                       size_t errlen)
{
    if (o->file == NULL || o->file[0] == '\0') {
        snprintf(err, errlen, "no image file given");
        return NULL;
    }
    bool readonly = o->readonly || o->snapshot;
    struct coremu_block *b = blk_open_image(o->file, o->format, readonly, o->cache, 0, err,
                                            errlen);
    if (b == NULL) {
        return NULL;
    }
    if (o->snapshot && !o->readonly) {
        b = snapshot_overlay(b, o->file, err, errlen);
        if (b == NULL) {
            return NULL;
        }
    }
    b->discard = o->discard;
    return b;
}

/* ---- the public calls ---------------------------------------------------------------------- */

uint64_t coremu_block_length(const struct coremu_block *b)
{
    return b->length;
}

bool coremu_block_is_readonly(const struct coremu_block *b)
{
    return b->readonly;
}

/* Guest-controlled ranges stay inside the virtual disk. */
static bool in_range(const struct coremu_block *b, uint64_t off, uint64_t len)
{
    return off <= b->length && len <= b->length - off;
}

int coremu_block_pread(struct coremu_block *b, uint64_t off, void *buf, size_t len)
{
    if (!in_range(b, off, len)) {
        return -EINVAL;
    }
    return len == 0 ? 0 : b->drv->pread(b, off, buf, len);
}

int coremu_block_pwrite(struct coremu_block *b, uint64_t off, const void *buf, size_t len)
{
    if (b->readonly) {
        return -EROFS;
    }
    if (!in_range(b, off, len)) {
        return -EINVAL;
    }
    return len == 0 ? 0 : b->drv->pwrite(b, off, buf, len);
}

int coremu_block_flush(struct coremu_block *b)
{
    return b->readonly ? 0 : b->drv->flush(b);
}

int coremu_block_discard(struct coremu_block *b, uint64_t off, uint64_t len)
{
    if (b->readonly) {
        return -EROFS;
    }
    if (!in_range(b, off, len)) {
        return -EINVAL;
    }
    /* discard=ignore: the guest's hint is dropped, as QEMU does. */
    return !b->discard || len == 0 ? 0 : b->drv->discard(b, off, len);
}

void coremu_block_close(struct coremu_block *b)
{
    if (b == NULL) {
        return;
    }
    if (!b->readonly) {
        b->drv->flush(b);
    }
    b->drv->close(b);
    file_close(&b->file);
    free(b);
}
