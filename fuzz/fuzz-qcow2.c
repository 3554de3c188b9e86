/*
 * libFuzzer target: a disk image as a hostile user hands it to -drive (its header, L1 and L2
 * tables, refcount tables, compressed clusters, backing-file name, snapshot table). The input
 * becomes a file that the block layer opens as qcow2 (read-only, then writable on a copy),
 * reads across and writes a little into. Opening may fail with a message; nothing may crash,
 * read outside its buffers, or hang.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/block.h>
#include <coremu/options.h>

static char path[64];

static void write_image(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        __builtin_trap();
    }
    close(fd);
}

/* Opens the image with -drive's keys; reads a few spots of the virtual disk, writes one when
 * writable. */
static void exercise(const char *readonly)
{
    struct coremu_kv drive = {0};
    char file[80];
    snprintf(file, sizeof(file), "file=%s,format=qcow2,readonly=%s,cache=unsafe", path, readonly);
    char err[256];
    if (coremu_kv_parse(&drive, file, NULL, err, sizeof(err)) != 0) {
        __builtin_trap();
    }
    struct coremu_block_options o;
    if (coremu_block_options_from_drive(&drive, false, &o, err, sizeof(err)) != 0) {
        coremu_kv_free(&drive);
        return;
    }
    struct coremu_block *b = coremu_block_open(&o, err, sizeof(err));
    if (b) {
        uint64_t len = coremu_block_length(b);
        static uint8_t buf[65536 + 512];
        const uint64_t spots[] = {0, 512, 65536 - 256, len / 2, len > 4096 ? len - 4096 : 0};
        for (unsigned i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
            if (spots[i] < len) {
                size_t n = len - spots[i] < sizeof(buf) ? (size_t)(len - spots[i]) : sizeof(buf);
                coremu_block_pread(b, spots[i], buf, n);
            }
        }
        if (!coremu_block_is_readonly(b) && len >= 1024) {
            memset(buf, 0xa5, 1024);
            coremu_block_pwrite(b, len / 3 & ~(uint64_t)511, buf, 1024);
            coremu_block_flush(b);
        }
        coremu_block_close(b);
    }
    coremu_kv_free(&drive);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0]) {
        snprintf(path, sizeof(path), "/tmp/coremu-fuzz-qcow2.%ld", (long)getpid());
    }
    write_image(data, size);
    exercise("on");
    write_image(data, size);
    exercise("off");
    unlink(path);
    return 0;
}
