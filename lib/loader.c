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

/* Reads all of fd, at most limit bytes; more is an error (*too_big). 0 or -errno. */
static int read_fd(int fd, size_t limit, uint8_t **data, size_t *size, bool *too_big)
{
    struct stat st;
    size_t cap = 64 * 1024;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
        /* One read for the common case; +1 so that reaching EOF needs no reallocation. */
        cap = (uint64_t)st.st_size < limit ? (size_t)st.st_size + 1 : limit + 1;
    }
    if (cap > limit + 1) {
        cap = limit + 1;
    }
    if (cap == 0) {
        cap = 1;
    }
    uint8_t *buf = malloc(cap);
    size_t len = 0;
    *too_big = false;
    if (buf == NULL) {
        return -ENOMEM;
    }
    for (;;) {
        if (len == cap) {
            if (len > limit) {
                *too_big = true;
                free(buf);
                return -EFBIG;
            }
            size_t ncap = cap > (limit + 1) / 2 ? limit + 1 : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);
            if (nbuf == NULL) {
                free(buf);
                return -ENOMEM;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int e = errno;
            free(buf);
            return -e;
        }
        if (n == 0) {
            break;
        }
        len += (size_t)n;
    }
    if (len > limit) {
        *too_big = true;
        free(buf);
        return -EFBIG;
    }
    *data = buf;
    *size = len;
    return 0;
}

static bool is_gzip(const uint8_t *buf, size_t size)
{
    return size >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

/*
 * Inflates gzip data (one or more concatenated members; bytes after the last member that do
 * not start another one are ignored, as gzip(1) does) into a new buffer of at most limit
 * bytes. 0, or -1 with a message.
 */
static int gunzip(const char *path, const uint8_t *in, size_t in_len, size_t limit,
                  uint8_t **data, size_t *size, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "%s: cannot initialise zlib", path);
        return -1;
    }
    /* Room for one byte beyond limit, so that going over it is seen. */
    size_t hard = limit + 1;
    size_t cap = in_len < hard / 4 ? in_len * 4 : hard;
    if (cap < 64 * 1024) {
        cap = hard < 64 * 1024 ? hard : 64 * 1024;
    }
    uint8_t *out = malloc(cap);
    size_t olen = 0, ipos = 0;
    const char *why = NULL;

    if (out == NULL) {
        why = "out of memory";
    }
    while (why == NULL) {
        if (olen == cap) {
            if (cap >= hard) {
                break; /* over limit: reported below */
            }
            size_t ncap = cap > hard / 2 ? hard : cap * 2;
            uint8_t *nout = realloc(out, ncap);
            if (nout == NULL) {
                why = "out of memory";
                break;
            }
            out = nout;
            cap = ncap;
        }
        size_t in_left = in_len - ipos, out_left = cap - olen;
        zs.next_in = (Bytef *)(uintptr_t)(in + ipos);
        zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        zs.next_out = out + olen;
        zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uInt ai = zs.avail_in, ao = zs.avail_out;
        int ret = inflate(&zs, Z_NO_FLUSH);
        ipos += ai - zs.avail_in;
        olen += ao - zs.avail_out;
        if (ret == Z_STREAM_END) {
            if (is_gzip(in + ipos, in_len - ipos)) {
                inflateReset(&zs);
                continue;
            }
            break;
        }
        if (ret == Z_OK || (ret == Z_BUF_ERROR && olen == cap)) {
            continue;
        }
        if (ret == Z_BUF_ERROR && ipos == in_len) {
            why = "truncated gzip data";
        } else {
            why = zs.msg ? zs.msg : "corrupt gzip data";
        }
    }
    inflateEnd(&zs);
    if (why == NULL && olen > limit) {
        snprintf(err, errlen, "%s: decompressed size exceeds the limit of %zu bytes", path,
                 limit);
        free(out);
        return -1;
    }
    if (why != NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        free(out);
        return -1;
    }
    *data = out;
    *size = olen;
    return 0;
}

int coremu_load_file(const char *path, bool decompress, size_t max, uint8_t **data,
                     size_t *size, char *err, size_t errlen)
{
    size_t limit = max ? max : SIZE_MAX - 1;
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    bool too_big;

    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return -1;
    }
    /* Compressed input is bounded by what it inflates to, checked in gunzip. */
    int ret = read_fd(fd, decompress ? SIZE_MAX - 1 : limit, &raw, &raw_len, &too_big);
    close(fd);
    if (ret < 0) {
        if (too_big) {
            snprintf(err, errlen, "%s: larger than the limit of %zu bytes", path, limit);
        } else {
            snprintf(err, errlen, "%s: %s", path, strerror(-ret));
        }
        return -1;
    }
    if (decompress && is_gzip(raw, raw_len)) {
        ret = gunzip(path, raw, raw_len, limit, data, size, err, errlen);
        free(raw);
        return ret;
    }
    if (raw_len > limit) {
        snprintf(err, errlen, "%s: larger than the limit of %zu bytes", path, limit);
        free(raw);
        return -1;
    }
    *data = raw;
    *size = raw_len;
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
