/*
 * coremu — loading images into guest memory: raw binaries, ELF executables (32 and 64 bit,
 * little-endian) and gzip-compressed files (zlib; detected by their magic). A missing,
 * truncated or malformed file is a one-line error in err, never a crash.
 */
#ifndef COREMU_LOADER_H
#define COREMU_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_as;

/* Reads a whole file into a malloc'd buffer (the caller frees it); when decompress is true and
 * the file is gzip data (magic 1f 8b; concatenated members are joined), returns the decompressed
 * contents. max bounds the (decompressed) size, 0 meaning no bound. The bound is checked while
 * reading, so an endless input (a pipe, /dev/zero), a gzip bomb or a huge file costs at most
 * about max bytes of memory and the time to read them (a regular file too large is refused by
 * its size, unread); callers with an input of unknown origin should always give one. 0, or -1
 * with a one-line message naming path in err, or COREMU_LOAD_TOO_BIG (with its message) when it
 * is the bound that refused the file, so that a caller can say what to change. */
#define COREMU_LOAD_TOO_BIG (-2)
int coremu_load_file(const char *path, bool decompress, size_t max, uint8_t **data,
                     size_t *size, char *err, size_t errlen);

/* Whether buf holds an ELF image (magic only). */
bool coremu_is_elf(const uint8_t *buf, size_t size);

struct coremu_elf_info {
    uint64_t entry;
    uint64_t low, high; /* lowest and highest+1 physical address loaded */
    unsigned elf_class;  /* 32 or 64 */
    unsigned machine;    /* e_machine (EM_ARM = 40, EM_X86_64 = 62, EM_386 = 3) */
};

/* Loads the PT_LOAD segments of an ELF executable (ET_EXEC, already in memory) at their
 * physical addresses (p_paddr), zero-filling bss; a segment may span adjacent RAM/ROM regions.
 * The whole image is validated first (headers and segments inside the buffer, segments inside
 * guest RAM/ROM), so a rejected image writes nothing. expect_machine 0 accepts any. info may be
 * NULL; info->entry is e_entry as written in the file (no virtual-to-physical translation).
 * 0, or -1 with a one-line message in err. */
int coremu_load_elf_image(struct coremu_as *as, const uint8_t *buf, size_t size,
                          unsigned expect_machine, struct coremu_elf_info *info, char *err,
                          size_t errlen);
/* The same from a file, which may be gzip-compressed; messages name path. */
int coremu_load_elf(struct coremu_as *as, const char *path, unsigned expect_machine,
                    struct coremu_elf_info *info, char *err, size_t errlen);

/* Copies a raw file (optionally gunzipped) to guest address addr; fails if it (its decompressed
 * contents) exceeds max bytes (0: no bound) or does not fit in RAM/ROM there. 0 or -1 with a
 * one-line message in err; *size (may be NULL) receives the bytes loaded. */
int coremu_load_raw(struct coremu_as *as, const char *path, uint64_t addr, uint64_t max,
                    bool decompress, uint64_t *size, char *err, size_t errlen);

#endif /* COREMU_LOADER_H */
