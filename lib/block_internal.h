/*
 * The block layer's inside: the host-file protocol shared by every format, the format drivers'
 * table, and what block.c and block_qcow2.c call in each other. Nothing here leaves the
 * library (internal names carry the blk_ prefix).
 */
#ifndef COREMU_LIB_BLOCK_INTERNAL_H
#define COREMU_LIB_BLOCK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/block.h>

/* How deep a chain of backing files may be: a loop (a -> b -> a) ends here with an error. */
#define BLK_MAX_BACKING_DEPTH 16

/* One host file. fd I/O is positional (pread/pwrite), so every field but rmw_lock is set at
 * open and read-only afterwards; any thread may do I/O at once. */
struct blk_file {
    int fd;
    int lock_fd;            /* holds the image locks when it is not fd (a .gz image), or -1 */
    bool direct;            /* O_DIRECT: offsets, lengths and buffers aligned to align */
    bool readonly;
    bool no_flush;          /* cache=unsafe */
    size_t align;           /* O_DIRECT offset/length alignment (512 or 4096) */
    /* O_DIRECT writes that do not cover whole aligned blocks read, merge and write back the
     * edge blocks; this lock keeps two such merges of one block from undoing each other. */
    pthread_mutex_t rmw_lock;
};

int blk_file_pread(struct blk_file *f, uint64_t off, void *buf, size_t len); /* EOF: zeros */
int blk_file_pwrite(struct blk_file *f, uint64_t off, const void *buf, size_t len);
int blk_file_flush(struct blk_file *f);
int blk_file_size(struct blk_file *f, uint64_t *size);
int blk_file_punch(struct blk_file *f, uint64_t off, uint64_t len); /* 0 when unsupported */

struct blk_driver {
    const char *name;
    int (*pread)(struct coremu_block *b, uint64_t off, void *buf, size_t len);
    int (*pwrite)(struct coremu_block *b, uint64_t off, const void *buf, size_t len);
    int (*flush)(struct coremu_block *b);
    int (*discard)(struct coremu_block *b, uint64_t off, uint64_t len);
    void (*close)(struct coremu_block *b); /* frees fmt; the file is closed by block.c */
};

/* Every field is set at open and read-only until close; the format's mutable state lives in
 * fmt under the format's own lock. */
struct coremu_block {
    const struct blk_driver *drv;
    struct blk_file file;
    uint64_t length;        /* virtual size, bytes */
    bool readonly;
    bool discard;           /* discard=unmap */
    bool probed_raw;        /* raw by probing: a write may not turn block 0 into a qcow2 */
    void *fmt;
};

/* Opens an image (any format, .gz included) for use inside the block layer: as a backing file
 * (readonly, depth > 0) or as the image itself. */
struct coremu_block *blk_open_image(const char *path, const char *format, bool readonly,
                                    enum coremu_block_cache cache, unsigned depth, char *err,
                                    size_t errlen);

/* qcow2 (block_qcow2.c). path is the image's name as given, for backing files and messages. */
bool blk_qcow2_probe(const uint8_t *head, size_t len);
int blk_qcow2_open(struct coremu_block *b, const char *path, enum coremu_block_cache cache,
                   unsigned depth, char *err, size_t errlen);
/* Makes b a fresh qcow2 image over its already open (empty) file, length bytes large, whose
 * unwritten clusters read from backing (which b then owns; NULL: zeros). */
int blk_qcow2_create_over(struct coremu_block *b, uint64_t length, struct coremu_block *backing,
                          char *err, size_t errlen);

#endif /* COREMU_LIB_BLOCK_INTERNAL_H */
