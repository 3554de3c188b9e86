/*
 * coremu — loading images into guest memory: raw files, gzip-compressed files and ELF
 * executables.
 *
 * Every number taken from a file is checked against the file's size before it is used: a
 * truncated or hostile image ends in a one-line message, never in a read outside the buffer.
 * ELF images are validated completely before the first byte reaches the guest.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <coremu/loader.h>
#include <coremu/physmem.h>

/* ELF headers are read by copying them into the host's structs. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "coremu needs a little-endian host"
#endif

/* Input is read in pieces of this size, so that its size is checked as it grows. */
#define LOAD_CHUNK (64 * 1024)

/* A buffer that grows up to a hard capacity and never beyond it. */
struct load_buf {
    uint8_t *data;
    size_t len, cap;
};

/* Makes room for at least one more byte, doubling up to hard bytes. -ENOMEM, or -EFBIG when
 * the buffer already holds hard bytes. */
static int load_buf_grow(struct load_buf *b, size_t hard)
{
    if (b->len < b->cap) {
        return 0;
    }
    if (b->cap >= hard) {
        return -EFBIG;
    }
    size_t ncap = b->cap < LOAD_CHUNK ? LOAD_CHUNK : b->cap;
    ncap = ncap > hard / 2 ? hard : ncap * 2;
    uint8_t *n = realloc(b->data, ncap);
    if (n == NULL) {
        return -ENOMEM;
    }
    b->data = n;
    b->cap = ncap;
    return 0;
}

/* read(2) that retries on EINTR. Bytes read, 0 at end of file, or -errno. */
static ssize_t read_some(int fd, uint8_t *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

/* "128 MiB" when the limit is a whole number of MiB, else "N bytes". */
static const char *limit_str(size_t limit, char *buf, size_t len)
{
    if (limit >= (1u << 20) && limit % (1u << 20) == 0) {
        snprintf(buf, len, "%zu MiB", limit >> 20);
    } else {
        snprintf(buf, len, "%zu bytes", limit);
    }
    return buf;
}

static bool is_gzip(const uint8_t *buf, size_t size)
{
    return size >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/* The most compressed input accepted for at most limit bytes of output: deflate's stored blocks
 * add 5 bytes per 64 KiB and every member 18 or more, so a genuine file stays far below this.
 * It stops an endless stream of (empty) members that would never reach the output limit. */
static size_t gzip_input_bound(size_t limit)
{
    size_t slack = limit / 8 + LOAD_CHUNK;
    return limit > SIZE_MAX - slack ? SIZE_MAX : limit + slack;
}

/* The error of an input longer than limit. Always COREMU_LOAD_TOO_BIG. */
static int too_big(const char *path, size_t limit, char *err, size_t errlen)
{
    char lim[64];
    snprintf(err, errlen, "%s: larger than the limit of %s", path,
             limit_str(limit, lim, sizeof(lim)));
    return COREMU_LOAD_TOO_BIG;
}

/*
 * Reads the rest of a file that is not gzip data into out, whose first out->len bytes are
 * already there, at most limit bytes. 0, or -1 with a message.
 */
static int load_plain(const char *path, int fd, size_t limit, struct load_buf *out, char *err,
                      size_t errlen)
{
    for (;;) {
        /* Room for one byte beyond the limit shows that the input goes on. */
        int g = load_buf_grow(out, limit + 1);
        if (g == -EFBIG) {
            return too_big(path, limit, err, errlen);
        }
        if (g < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
        ssize_t n = read_some(fd, out->data + out->len, out->cap - out->len);
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
            return -1;
        }
        if (n == 0) {
            break;
        }
        out->len += (size_t)n;
    }
    return out->len > limit ? too_big(path, limit, err, errlen) : 0;
}

/* The compressed input of load_gzip, read from fd in pieces into a LOAD_CHUNK buffer. */
struct gz_input {
    int fd;
    uint8_t *buf;
    bool eof;
    size_t total, bound; /* bytes read so far; the most accepted (gzip_input_bound) */
};

/* Moves what inflate has not consumed to the front of the buffer and reads more after it.
 * 0, -errno, or -EFBIG when the input exceeds its bound. */
static int gz_refill(struct gz_input *in, z_stream *zs)
{
    memmove(in->buf, zs->next_in, zs->avail_in);
    zs->next_in = in->buf;
    ssize_t n = read_some(in->fd, in->buf + zs->avail_in, LOAD_CHUNK - zs->avail_in);
    if (n < 0) {
        return (int)n;
    }
    in->eof = n == 0;
    zs->avail_in += (uInt)n;
    in->total += (size_t)n;
    return in->total > in->bound ? -EFBIG : 0;
}

/*
 * Inflates gzip data (one or more concatenated members; bytes after the last member that do
 * not start another one are ignored, as gzip(1) does) from fd, whose first head_len bytes are
 * already in head (a buffer of LOAD_CHUNK bytes), into out, at most limit bytes. Input and
 * output are both checked as they grow, so neither a bomb nor an endless stream costs more than
 * the limit. 0, or -1 with a message.
 */
static int load_gzip(const char *path, int fd, uint8_t *head, size_t head_len, size_t limit,
                     struct load_buf *out, char *err, size_t errlen)
{
    char lim[64];
    struct gz_input in = {fd, head, false, head_len, gzip_input_bound(limit)};
    const char *why = NULL;
    int rerr = 0;
    bool over = false;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "%s: cannot initialise zlib", path);
        return -1;
    }
    zs.next_in = head;
    zs.avail_in = (uInt)head_len;
    while (why == NULL && rerr == 0) {
        /* Two bytes of look-ahead, so that the end of a member can see the next one's magic. */
        if (zs.avail_in < 2 && !in.eof && (rerr = gz_refill(&in, &zs)) != 0) {
            break;
        }
        int g = load_buf_grow(out, limit + 1);
        if (g < 0) {
            over = g == -EFBIG;
            why = over ? NULL : "out of memory";
            break;
        }
        size_t room = out->cap - out->len;
        zs.next_out = out->data + out->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int ret = inflate(&zs, Z_NO_FLUSH);
        out->len += before - zs.avail_out;
        if (ret == Z_STREAM_END) {
            if (zs.avail_in < 2 && !in.eof && (rerr = gz_refill(&in, &zs)) != 0) {
                break;
            }
            if (!is_gzip(zs.next_in, zs.avail_in)) {
                break;
            }
            inflateReset(&zs);
        } else if (ret == Z_BUF_ERROR && zs.avail_out != 0 && in.eof) {
            why = "truncated gzip data";
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            why = zs.msg ? zs.msg : "corrupt gzip data";
        }
    }
    inflateEnd(&zs);
    if (rerr == -EFBIG) {
        snprintf(err, errlen, "%s: more compressed data than the limit of %s allows", path,
                 limit_str(limit, lim, sizeof(lim)));
        return COREMU_LOAD_TOO_BIG;
    } else if (rerr < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rerr));
    } else if (why != NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
    } else if (over || out->len > limit) {
        snprintf(err, errlen, "%s: decompressed size exceeds the limit of %s", path,
                 limit_str(limit, lim, sizeof(lim)));
        return COREMU_LOAD_TOO_BIG;
    } else {
        return 0;
    }
    return -1;
}

int coremu_load_file(const char *path, bool decompress, size_t max, uint8_t **data,
                     size_t *size, char *err, size_t errlen)
{
    size_t limit = max ? max : SIZE_MAX - 1;

    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return -1;
    }
    /* A regular file tells its size: one that cannot fit is refused before it is read. Other
     * inputs (pipes, devices) may be endless and are only ever read up to the limit. */
    bool known = S_ISREG(st.st_mode) && st.st_size >= 0;
    if (known && !decompress && (uint64_t)st.st_size > limit) {
        close(fd);
        return too_big(path, limit, err, errlen);
    }

    /* The first piece tells gzip data from anything else; a plain file reads on after it in
     * the same buffer, sized for the whole file when its size is known. */
    size_t first = LOAD_CHUNK;
    if (known && (uint64_t)st.st_size < limit && (size_t)st.st_size + 1 > first) {
        first = (size_t)st.st_size + 1;
    }
    struct load_buf out = {malloc(first), 0, first};
    int ret = 0;
    ssize_t n = 1;
    if (out.data == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        ret = -1;
    }
    while (ret == 0 && out.len < 2 && n > 0) {
        n = read_some(fd, out.data + out.len, LOAD_CHUNK - out.len);
        if (n < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror((int)-n));
            ret = -1;
        } else {
            out.len += (size_t)n;
        }
    }
    if (ret == 0 && decompress && is_gzip(out.data, out.len)) {
        /* The compressed bytes move to their own buffer; the output starts empty. */
        uint8_t *head = out.data;
        size_t head_len = out.len;
        if (first > LOAD_CHUNK) {
            uint8_t *shrunk = realloc(out.data, LOAD_CHUNK); /* head_len <= LOAD_CHUNK */
            head = shrunk != NULL ? shrunk : out.data;
        }
        out = (struct load_buf){NULL, 0, 0};
        if (known && (uint64_t)st.st_size > gzip_input_bound(limit)) {
            char lim[64];
            snprintf(err, errlen, "%s: more compressed data than the limit of %s allows", path,
                     limit_str(limit, lim, sizeof(lim)));
            ret = COREMU_LOAD_TOO_BIG;
        } else {
            ret = load_gzip(path, fd, head, head_len, limit, &out, err, errlen);
        }
        free(head);
    } else if (ret == 0 && known && (uint64_t)st.st_size > limit) {
        ret = too_big(path, limit, err, errlen);
    } else if (ret == 0) {
        ret = load_plain(path, fd, limit, &out, err, errlen);
    }
    close(fd);
    if (ret < 0) {
        free(out.data);
        return ret == COREMU_LOAD_TOO_BIG ? ret : -1;
    }
    *data = out.data;
    *size = out.len;
    return 0;
}

bool coremu_is_elf(const uint8_t *buf, size_t size)
{
    return size >= SELFMAG && memcmp(buf, ELFMAG, SELFMAG) == 0;
}

/* Whether [addr, addr + len) (len >= 1) is entirely RAM or ROM, possibly over several
 * adjacent regions. */
static bool mem_range_ok(struct coremu_as *as, uint64_t addr, uint64_t len)
{
    for (;;) {
        const struct coremu_region *r = coremu_as_lookup(as, addr);
        if (r == NULL || r->kind == COREMU_REGION_MMIO) {
            return false;
        }
        uint64_t avail_m1 = r->base + (r->size - 1) - addr;
        if (len - 1 <= avail_m1) {
            return true;
        }
        len -= avail_m1 + 1;
        addr += avail_m1 + 1;
        if (addr == 0) {
            return false; /* wrapped */
        }
    }
}

/* Writes len zero bytes at addr (already known to be RAM/ROM). */
static int mem_zero(struct coremu_as *as, uint64_t addr, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len > 0) {
        uint64_t n = len < sizeof(zeros) ? len : sizeof(zeros);
        uint8_t *p = coremu_as_ram_ptr(as, addr, len, false);
        if (p != NULL) {
            memset(p, 0, (size_t)len); /* the whole rest lies in one region */
            return COREMU_MEM_OK;
        }
        int ret = coremu_as_copy_to(as, addr, zeros, (size_t)n);
        if (ret != COREMU_MEM_OK) {
            return ret;
        }
        addr += n;
        len -= n;
    }
    return COREMU_MEM_OK;
}

/* The parts of the ELF headers that loading needs, independent of the class. */
struct elf_hdr {
    unsigned cls, type, machine, phentsize, phnum;
    uint64_t entry, phoff;
};

struct elf_seg {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

static void elf_read_seg(const uint8_t *p, unsigned cls, struct elf_seg *s)
{
    if (cls == 32) {
        Elf32_Phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *s = (struct elf_seg){ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz};
    } else {
        Elf64_Phdr ph;
        memcpy(&ph, p, sizeof(ph));
        *s = (struct elf_seg){ph.p_type, ph.p_offset, ph.p_paddr, ph.p_filesz, ph.p_memsz};
    }
}

static int elf_read_hdr(const uint8_t *buf, size_t size, struct elf_hdr *h, char *err,
                        size_t errlen)
{
    if (size < EI_NIDENT || !coremu_is_elf(buf, size)) {
        snprintf(err, errlen, "not an ELF image");
        return -1;
    }
    if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64) {
        snprintf(err, errlen, "unknown ELF class %u", buf[EI_CLASS]);
        return -1;
    }
    if (buf[EI_DATA] != ELFDATA2LSB) {
        snprintf(err, errlen, "only little-endian ELF images are supported");
        return -1;
    }
    h->cls = buf[EI_CLASS] == ELFCLASS32 ? 32 : 64;
    size_t need = h->cls == 32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
    if (size < need) {
        snprintf(err, errlen, "truncated ELF header (%zu bytes, %zu needed)", size, need);
        return -1;
    }
    if (h->cls == 32) {
        Elf32_Ehdr e;
        memcpy(&e, buf, sizeof(e));
        *h = (struct elf_hdr){32, e.e_type, e.e_machine, e.e_phentsize, e.e_phnum, e.e_entry,
                              e.e_phoff};
    } else {
        Elf64_Ehdr e;
        memcpy(&e, buf, sizeof(e));
        *h = (struct elf_hdr){64, e.e_type, e.e_machine, e.e_phentsize, e.e_phnum, e.e_entry,
                              e.e_phoff};
    }
    size_t phsize = h->cls == 32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
    if (h->type != ET_EXEC) {
        snprintf(err, errlen, "not an executable ELF image (e_type %u)", h->type);
        return -1;
    }
    if (h->phnum == 0) {
        snprintf(err, errlen, "ELF image has no program headers");
        return -1;
    }
    if (h->phnum == PN_XNUM) {
        snprintf(err, errlen, "ELF image has too many program headers");
        return -1;
    }
    if (h->phentsize < phsize) {
        snprintf(err, errlen, "bad ELF program header size %u (at least %zu)", h->phentsize,
                 phsize);
        return -1;
    }
    if (h->phoff > size || (size - h->phoff) / h->phentsize < h->phnum) {
        snprintf(err, errlen,
                 "ELF program headers (offset 0x%" PRIx64 ", %u of %u bytes) lie outside the "
                 "%zu-byte file",
                 h->phoff, h->phnum, h->phentsize, size);
        return -1;
    }
    return 0;
}

int coremu_load_elf_image(struct coremu_as *as, const uint8_t *buf, size_t size,
                          unsigned expect_machine, struct coremu_elf_info *info, char *err,
                          size_t errlen)
{
    struct elf_hdr h;
    if (elf_read_hdr(buf, size, &h, err, errlen) < 0) {
        return -1;
    }
    if (expect_machine != 0 && h.machine != expect_machine) {
        snprintf(err, errlen, "ELF image is for machine %u, not %u", h.machine, expect_machine);
        return -1;
    }

    /* Pass 1: validate every segment, so that a bad image leaves guest memory untouched. */
    uint64_t low = UINT64_MAX, high = 0;
    unsigned nload = 0;
    for (unsigned i = 0; i < h.phnum; i++) {
        struct elf_seg s;
        elf_read_seg(buf + h.phoff + (uint64_t)i * h.phentsize, h.cls, &s);
        if (s.type != PT_LOAD || s.memsz == 0) {
            continue;
        }
        if (s.filesz > s.memsz) {
            snprintf(err, errlen,
                     "ELF segment %u: file size 0x%" PRIx64 " exceeds memory size 0x%" PRIx64, i,
                     s.filesz, s.memsz);
            return -1;
        }
        if (s.offset > size || s.filesz > size - s.offset) {
            snprintf(err, errlen,
                     "ELF segment %u (offset 0x%" PRIx64 ", 0x%" PRIx64
                     " bytes) lies outside the %zu-byte file",
                     i, s.offset, s.filesz, size);
            return -1;
        }
        uint64_t last = s.paddr + (s.memsz - 1);
        if (last < s.paddr || s.memsz > SIZE_MAX) {
            snprintf(err, errlen, "ELF segment %u wraps around the address space", i);
            return -1;
        }
        if (!mem_range_ok(as, s.paddr, s.memsz)) {
            snprintf(err, errlen,
                     "ELF segment %u (0x%" PRIx64 "-0x%" PRIx64 ") is not in guest RAM", i,
                     s.paddr, last);
            return -1;
        }
        if (s.paddr < low) {
            low = s.paddr;
        }
        /* high is exclusive; a segment ending at the top of the space saturates it. */
        uint64_t end = last == UINT64_MAX ? UINT64_MAX : last + 1;
        if (end > high) {
            high = end;
        }
        nload++;
    }
    if (nload == 0) {
        snprintf(err, errlen, "ELF image has no loadable segments");
        return -1;
    }

    /* Pass 2: copy file bytes and clear the rest of each segment (bss). */
    for (unsigned i = 0; i < h.phnum; i++) {
        struct elf_seg s;
        elf_read_seg(buf + h.phoff + (uint64_t)i * h.phentsize, h.cls, &s);
        if (s.type != PT_LOAD || s.memsz == 0) {
            continue;
        }
        int ret = COREMU_MEM_OK;
        if (s.filesz > 0) {
            ret = coremu_as_copy_to(as, s.paddr, buf + s.offset, (size_t)s.filesz);
        }
        if (ret == COREMU_MEM_OK && s.memsz > s.filesz) {
            ret = mem_zero(as, s.paddr + s.filesz, s.memsz - s.filesz);
        }
        if (ret != COREMU_MEM_OK) {
            /* Only if the map changed since pass 1. */
            snprintf(err, errlen, "ELF segment %u: guest memory write failed", i);
            return -1;
        }
    }
    if (info != NULL) {
        info->entry = h.entry;
        info->low = low;
        info->high = high;
        info->elf_class = h.cls;
        info->machine = h.machine;
    }
    return 0;
}

int coremu_load_elf(struct coremu_as *as, const char *path, unsigned expect_machine,
                    struct coremu_elf_info *info, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t size;
    if (coremu_load_file(path, true, 0, &buf, &size, err, errlen) < 0) {
        return -1;
    }
    char why[256];
    int ret = coremu_load_elf_image(as, buf, size, expect_machine, info, why, sizeof(why));
    free(buf);
    if (ret < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
    }
    return ret;
}

int coremu_load_raw(struct coremu_as *as, const char *path, uint64_t addr, uint64_t max,
                    bool decompress, uint64_t *size, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    size_t limit = max > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max;
    if (coremu_load_file(path, decompress, limit, &buf, &len, err, errlen) < 0) {
        return -1;
    }
    if (len > 0 && !mem_range_ok(as, addr, len)) {
        snprintf(err, errlen, "%s: %zu bytes at 0x%" PRIx64 " do not fit in guest RAM", path,
                 len, addr);
        free(buf);
        return -1;
    }
    int ret = len > 0 ? coremu_as_copy_to(as, addr, buf, len) : COREMU_MEM_OK;
    free(buf);
    if (ret != COREMU_MEM_OK) {
        snprintf(err, errlen, "%s: guest memory write at 0x%" PRIx64 " failed", path, addr);
        return -1;
    }
    if (size != NULL) {
        *size = len;
    }
    return 0;
}
