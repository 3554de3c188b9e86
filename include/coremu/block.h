/*
 * coremu — the block layer: disk images behind QEMU's -drive (raw, qcow2 v2/v3 with backing
 * files and compressed clusters, read-only .gz images, snapshot overlays), with QEMU's cache
 * modes and QEMU-compatible image locking, so that an image a running qemu-system-* or another
 * coremu uses is refused.
 *
 * An open image is shared by every thread of a device: pread, pwrite, flush and discard may be
 * called concurrently from any thread. open and close are not concurrent with anything else on
 * the same image.
 */
#ifndef COREMU_BLOCK_H
#define COREMU_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_kv;

/* One open disk image (format + protocol). */
struct coremu_block;

/* QEMU's -drive cache= */
enum coremu_block_cache {
    COREMU_BLOCK_CACHE_WRITEBACK,   /* default: page cache, flush = fdatasync */
    COREMU_BLOCK_CACHE_WRITETHROUGH, /* O_DSYNC-like: every write durable */
    COREMU_BLOCK_CACHE_NONE,        /* O_DIRECT, flush = fdatasync */
    COREMU_BLOCK_CACHE_DIRECTSYNC,  /* O_DIRECT + O_DSYNC */
    COREMU_BLOCK_CACHE_UNSAFE,      /* flush is a no-op */
};

struct coremu_block_options {
    const char *file;   /* path (required) */
    const char *format; /* "raw", "qcow2"; NULL: probe (a warning like QEMU's for raw) */
    bool readonly;
    bool snapshot;      /* writes go to a temporary overlay, discarded at close */
    enum coremu_block_cache cache;
    bool discard;       /* discard=unmap: honour guest discards */
};

/* Parses one -drive key=value list's block keys (file, format, readonly, snapshot, cache,
 * discard, aio (threads accepted)) into o; global_snapshot is -snapshot. Keys that belong to
 * the board/device layer (if, id, index, media, serial, bus, unit) are left alone; any other
 * key is a one-line error. 0 or -1 with err. Strings in o point into the kv list. */
int coremu_block_options_from_drive(const struct coremu_kv *drive, bool global_snapshot,
                                    struct coremu_block_options *o, char *err, size_t errlen);

struct coremu_block *coremu_block_open(const struct coremu_block_options *o, char *err,
                                       size_t errlen);
uint64_t coremu_block_length(const struct coremu_block *b); /* virtual disk size, bytes */
bool coremu_block_is_readonly(const struct coremu_block *b);
/* Any thread, concurrently with each other (the device may run requests from several
 * threads); 0 or -errno; a read past the end is -EINVAL. */
int coremu_block_pread(struct coremu_block *b, uint64_t off, void *buf, size_t len);
int coremu_block_pwrite(struct coremu_block *b, uint64_t off, const void *buf, size_t len);
int coremu_block_flush(struct coremu_block *b); /* durable: fdatasync */
int coremu_block_discard(struct coremu_block *b, uint64_t off, uint64_t len);
void coremu_block_close(struct coremu_block *b); /* flushes; NULL allowed */

#endif /* COREMU_BLOCK_H */
