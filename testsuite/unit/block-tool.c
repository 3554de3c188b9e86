/*
 * block-tool: drives libcoremu's block layer from the command line for block.exp, which
 * compares what it sees and writes with Debian's qemu-img.
 *
 *   block-tool DRIVE COMMAND... where DRIVE is a -drive list (file=x.qcow2,format=qcow2,...)
 *
 * Commands run in order on one open image:
 *   length                    print the virtual size
 *   dump FILE                 write the whole disk to FILE
 *   compare FILE              the whole disk must equal FILE (a raw image)
 *   write OFF LEN BYTE        write LEN bytes of value BYTE at OFF
 *   pattern OFF LEN SEED      write LEN bytes of a pseudo-random pattern at OFF
 *   threads N OFF LEN         N threads write the patterns of [OFF, OFF + LEN) at once, each
 *                             its own slice, in small unaligned pieces
 *   read OFF LEN              read (only the status matters: bad offsets must fail cleanly)
 *   discard OFF LEN
 *   flush
 *   hold SECONDS              print "ready" and keep the image open (locking tests)
 * Any failure prints one line and exits 1.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/block.h>
#include <coremu/options.h>

static uint64_t num(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0') {
        fprintf(stderr, "block-tool: bad number '%s'\n", s);
        exit(1);
    }
    return v;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "block-tool: out of memory\n");
        exit(1);
    }
    return p;
}

static struct coremu_block *image; /* closed on every exit, so ASan sees no leak */

static void __attribute__((noreturn)) fail(void)
{
    coremu_block_close(image);
    exit(1);
}

static void check(int r, const char *what)
{
    if (r != 0) {
        printf("%s: %s\n", what, strerror(-r));
        fail();
    }
}

enum { CHUNK = 1 << 20 };

/* The bytes of pattern SEED at position j: the same function for every command, so that a
 * pattern written by one thread or at once reads back the same. */
static uint8_t pattern_byte(uint64_t j, uint64_t seed)
{
    return (uint8_t)((j * 2654435761u + seed) >> 7);
}

struct slice {
    struct coremu_block *b;
    uint64_t off, len;
    int status;
};

static void *write_slice(void *arg)
{
    struct slice *s = arg;
    enum { PIECE = 7000 };
    uint8_t buf[PIECE];
    for (uint64_t done = 0; done < s->len && s->status == 0; done += PIECE) {
        size_t n = s->len - done < PIECE ? (size_t)(s->len - done) : PIECE;
        for (size_t j = 0; j < n; j++) {
            buf[j] = pattern_byte(s->off + done + j, 0);
        }
        s->status = coremu_block_pwrite(s->b, s->off + done, buf, n);
    }
    return NULL;
}

static void write_threads(struct coremu_block *b, unsigned n, uint64_t off, uint64_t len)
{
    pthread_t t[64];
    struct slice s[64];
    n = n < 1 ? 1 : n > 64 ? 64 : n;
    for (unsigned i = 0; i < n; i++) {
        uint64_t start = len * i / n, end = len * (i + 1) / n;
        s[i] = (struct slice){.b = b, .off = off + start, .len = end - start};
        pthread_create(&t[i], NULL, write_slice, &s[i]);
    }
    int status = 0;
    for (unsigned i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        status = status ? status : s[i].status;
    }
    check(status, "write");
}

static void dump_or_compare(struct coremu_block *b, const char *path, bool compare)
{
    /* Globals, so that a failure's exit leaves nothing unreachable behind for ASan. */
    static FILE *f;
    static uint8_t *buf, *ref;
    f = fopen(path, compare ? "rb" : "wb");
    if (f == NULL) {
        printf("%s: %s\n", path, strerror(errno));
        fail();
    }
    buf = xmalloc(CHUNK);
    ref = xmalloc(CHUNK);
    uint64_t len = coremu_block_length(b);
    for (uint64_t off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
        check(coremu_block_pread(b, off, buf, n), "read");
        if (!compare) {
            if (fwrite(buf, 1, n, f) != n) {
                printf("%s: write error\n", path);
                fail();
            }
            continue;
        }
        size_t got = fread(ref, 1, n, f);
        if (got != n || memcmp(buf, ref, n) != 0) {
            for (size_t i = 0; i < n; i++) {
                if (i >= got || buf[i] != ref[i]) {
                    printf("differ at offset %" PRIu64 "\n", off + i);
                    fail();
                }
            }
        }
    }
    if (compare && fgetc(f) != EOF) {
        printf("%s is longer than the disk (%" PRIu64 " bytes)\n", path, len);
        fail();
    }
    free(buf);
    free(ref);
    if (fclose(f) != 0) {
        printf("%s: %s\n", path, strerror(errno));
        fail();
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: block-tool DRIVE COMMAND...\n");
        return 1;
    }
    coremu_set_progname("block-tool");
    char err[512];
    struct coremu_kv kv;
    struct coremu_block_options o;
    if (coremu_kv_parse(&kv, argv[1], NULL, err, sizeof(err)) != 0) {
        printf("%s\n", err);
        return 1;
    }
    if (coremu_block_options_from_drive(&kv, false, &o, err, sizeof(err)) != 0) {
        printf("%s\n", err);
        coremu_kv_free(&kv);
        return 1;
    }
    struct coremu_block *b = coremu_block_open(&o, err, sizeof(err));
    coremu_kv_free(&kv);
    if (b == NULL) {
        printf("%s\n", err);
        return 1;
    }
    image = b;
    for (int i = 2; i < argc; i++) {
        const char *cmd = argv[i];
        int left = argc - i - 1;
        if (strcmp(cmd, "length") == 0) {
            printf("%" PRIu64 "\n", coremu_block_length(b));
        } else if ((strcmp(cmd, "dump") == 0 || strcmp(cmd, "compare") == 0) && left >= 1) {
            dump_or_compare(b, argv[++i], cmd[0] == 'c');
        } else if ((strcmp(cmd, "write") == 0 || strcmp(cmd, "pattern") == 0) && left >= 3) {
            uint64_t off = num(argv[i + 1]), len = num(argv[i + 2]), v = num(argv[i + 3]);
            i += 3;
            uint8_t *buf = xmalloc(len);
            for (uint64_t j = 0; j < len; j++) {
                /* The pattern differs in every byte and from seed to seed. */
                buf[j] = cmd[0] == 'w' ? (uint8_t)v : pattern_byte(j, v);
            }
            check(coremu_block_pwrite(b, off, buf, len), "write");
            free(buf);
        } else if (strcmp(cmd, "threads") == 0 && left >= 3) {
            write_threads(b, (unsigned)num(argv[i + 1]), num(argv[i + 2]), num(argv[i + 3]));
            i += 3;
        } else if (strcmp(cmd, "read") == 0 && left >= 2) {
            uint64_t off = num(argv[i + 1]), len = num(argv[i + 2]);
            i += 2;
            uint8_t *buf = xmalloc(len);
            check(coremu_block_pread(b, off, buf, len), "read");
            free(buf);
        } else if (strcmp(cmd, "discard") == 0 && left >= 2) {
            check(coremu_block_discard(b, num(argv[i + 1]), num(argv[i + 2])), "discard");
            i += 2;
        } else if (strcmp(cmd, "flush") == 0) {
            check(coremu_block_flush(b), "flush");
        } else if (strcmp(cmd, "hold") == 0 && left >= 1) {
            printf("ready\n");
            fflush(stdout);
            sleep((unsigned)num(argv[++i]));
        } else {
            fprintf(stderr, "block-tool: bad command '%s'\n", cmd);
            fail();
        }
    }
    coremu_block_close(b);
    return 0;
}
