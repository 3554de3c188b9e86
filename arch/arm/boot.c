/*
 * coremu ARM — loading what -kernel, -initrd and -dtb name, and core 0's boot registers.
 *
 * -kernel may be (after gunzip, when the file is gzip data):
 *   - an ELF executable for EM_ARM: its segments go to their physical addresses and core 0
 *     starts at the ELF entry (bit 0 set: Thumb). This is how bare-metal test programs run.
 *   - a Linux zImage (magic 0x016f2818 at offset 0x24), loaded at RAM base + 0x8000, or an
 *     uncompressed Linux Image (which has no header: we know it by the kernel's "Linux version
 *     N" banner inside), loaded at RAM base + its TEXT_OFFSET (where an Image must sit, since
 *     the kernel derives the start of RAM from its own address; see image_text_offset). Both
 *     are entered in ARM state with the Linux boot protocol's registers
 *     (Documentation/arm/booting.rst): r0 = 0, r1 = 0xffffffff (no machine number: the device
 *     tree describes the machine), r2 = the device tree's address. The CPU enters it in SVC
 *     mode with the MMU and caches off and IRQ/FIQ masked.
 *   - anything else: a raw image, loaded at and entered at the RAM base.
 * A Linux kernel gets the device tree of -dtb, or else the board's own (fdt.c); so does any
 * kernel given -append or -initrd. /chosen gets bootargs (-append) and linux,initrd-start/-end.
 * The device tree (-dtb) and the initial RAM disk (-initrd) go where booting.rst calls safe:
 * the DTB just above the 128 MiB boundary from the start of RAM, 8-byte aligned (we use 4 KiB)
 * and at most 2 MiB, the initrd just above it, both inside the kernel's low-memory mapping and
 * clear of the region the zImage decompresses into. With less RAM than that they go at the top
 * of RAM (all of which is then low memory).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/coremu.h>

#ifdef HAVE_LIBFDT
#include <libfdt.h>
#endif

#include "board.h"

#define EM_ARM 40

#define ZIMAGE_MAGIC_OFFSET 0x24
#define ZIMAGE_MAGIC 0x016f2818u
#define ZIMAGE_ENDIAN_OFFSET 0x30
#define ZIMAGE_BIG_ENDIAN 0x01020304u /* the little-endian marker 0x04030201 read byte-swapped */
#define ZIMAGE_HEADER_SIZE 0x34

/* Where a zImage goes (RAM base + 0x8000, booting.rst's convention; its decompressor puts the
 * Image at the kernel's own TEXT_OFFSET), and how much room above it the kernel may use
 * before it has reserved the DTB and initrd: the decompressed Image (Debian 12's XZ armmp
 * zImage expands 3.8 times), its BSS, and the zImage's copy of itself, which it moves past the
 * end of the Image before decompressing. Six times the zImage covers all of it. */
#define ZIMAGE_LOAD_OFFSET 0x8000u
#define ZIMAGE_EXPANSION 6u
/* An Image's TEXT_OFFSET when its contents do not tell (arch/arm/Makefile's default). */
#define IMAGE_TEXT_OFFSET_DEFAULT 0x8000u

#define BOOT_DATA_OFFSET (128u << 20) /* booting.rst's "just above the 128MiB boundary" */
#define BOOT_ALIGN 0x1000u
#define DTB_MAX_SIZE (2u << 20)       /* booting.rst: the DTB must not exceed 2 MiB */
#define DTB_MAGIC 0xd00dfeedu
/* Room for what we add to a -dtb (/chosen, bootargs, initrd properties) besides -append. */
#define DTB_EXTRA 1024u

static int boot_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int boot_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* An uncompressed ARM Linux Image carries no magic number; its banner ("Linux version 6.1.0-...",
 * in .rodata) is what tells it from a bare-metal program. */
static bool is_linux_image(const uint8_t *img, size_t size)
{
    static const char banner[] = "Linux version ";
    const size_t n = sizeof(banner) - 1;
    if (size <= n) {
        return false;
    }
    /* p[n] (the version's first digit) must lie in the image: p < end. */
    const uint8_t *p = img, *end = img + size - n;
    while (p < end) {
        p = memchr(p, 'L', (size_t)(end - p));
        if (p == NULL) {
            return false;
        }
        if (memcmp(p, banner, n) == 0 && p[n] >= '0' && p[n] <= '9') {
            return true;
        }
        p++;
    }
    return false;
}

/*
 * Where an uncompressed Image goes: booting.rst requires a raw (non-zImage) kernel to be loaded
 * at TEXT_OFFSET into RAM, because the kernel takes the start of RAM (PHYS_OFFSET) to be its
 * own load address minus TEXT_OFFSET. That is 0x8000 for most kernels, but arch/arm/Makefile
 * raises it to 0x108000, 0x208000 or 0x308000 when some platforms are built in: Debian's armmp
 * kernel has ARCH_MESON, hence 0x208000. Loaded at 0x8000, such a kernel believes RAM starts
 * 2 MiB below the real RAM (still a valid, 2 MiB-aligned PHYS_OFFSET, so nothing complains),
 * and its memory map is off by that much: its struct pages for the top of RAM land on other
 * early allocations, the vectors page among them. (A zImage has no such problem: its
 * decompressor puts the Image at TEXT_OFFSET itself.)
 *
 * The Image has no header that gives TEXT_OFFSET, but its data does: many words hold their
 * own link-time address (statically initialised list heads, which point to themselves, and
 * the like), so for a word at file offset x holding v, v - x is the link address of the
 * Image's first byte, PAGE_OFFSET + TEXT_OFFSET, far more often than any other value. The
 * kernel requires that address to end in 0x8000 (head.S), and PAGE_OFFSET is a multiple of
 * 256 MiB (0x40000000, 0x80000000, 0xb0000000 or 0xc0000000), so TEXT_OFFSET is the vote's
 * winner modulo 256 MiB. Without a clear winner (a big-endian or unusual Image), the default.
 */
static uint32_t image_text_offset(const uint8_t *img, size_t size)
{
    /* Votes per candidate link address, by its bits 31..16 (bits 15..0 are 0x8000). */
    uint32_t *votes = calloc(1u << 16, sizeof(*votes));
    if (votes == NULL) {
        return IMAGE_TEXT_OFFSET_DEFAULT;
    }
    for (size_t x = 0; x + 4 <= size; x += 4) {
        uint32_t base = le32(img + x) - (uint32_t)x;
        if ((base & 0xffffu) == 0x8000u) {
            votes[base >> 16]++;
        }
    }
    uint32_t best = 0, first = 0, second = 0;
    for (uint32_t i = 0; i < (1u << 16); i++) {
        if (votes[i] > first) {
            second = first;
            first = votes[i];
            best = i;
        } else if (votes[i] > second) {
            second = votes[i];
        }
    }
    free(votes);
    uint32_t text_offset = ((best << 16) | 0x8000u) & 0x0fffffffu;
    /* A clear winner, and an offset inside the first 128 MiB, where booting.rst wants the
     * kernel. */
    if (first < 16 || first < 4 * second || text_offset >= (128u << 20)) {
        return IMAGE_TEXT_OFFSET_DEFAULT;
    }
    return text_offset;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Reads a whole file; the loader's message names the file, else we prefix it. When max is the
 * guest's RAM and it is what refused the file (a compressed kernel's size is only known once it
 * is unpacked), the message also says what to change: -m. */
static int boot_read(const char *what, const char *path, bool gunzip, size_t max, bool max_is_ram,
                     uint8_t **data, size_t *size, char *err, size_t errlen)
{
    char lerr[256];
    int r = coremu_load_file(path, gunzip, max, data, size, lerr, sizeof(lerr));
    if (r != 0) {
        const char *hint = r == COREMU_LOAD_TOO_BIG && max_is_ram
                               ? ": it does not fit in RAM: give more with -m"
                               : "";
        if (strstr(lerr, path) != NULL) {
            return boot_error(err, errlen, "%s: %s%s", what, lerr, hint);
        }
        return boot_error(err, errlen, "%s %s: %s%s", what, path, lerr, hint);
    }
    if (*size == 0) {
        free(*data);
        *data = NULL;
        return boot_error(err, errlen, "%s %s: the file is empty", what, path);
    }
    return 0;
}

/* Copies len bytes to guest RAM at addr, which the caller has checked lies in RAM. */
static int boot_copy(struct arm_board *board, const char *what, const char *path, uint64_t addr,
                     const void *buf, size_t len, char *err, size_t errlen)
{
    if (coremu_as_copy_to(board->as, addr, buf, len) != COREMU_MEM_OK) {
        return boot_error(err, errlen, "%s %s: cannot be placed at 0x%08llx", what, path,
                          (unsigned long long)addr);
    }
    return 0;
}

static int boot_kernel(struct arm_board *board, const char *path, struct arm_boot_info *info,
                       uint64_t *reserved_end, char *err, size_t errlen)
{
    uint64_t ram_end = board->ram_base + board->ram_size;
    uint8_t *img = NULL;
    size_t size = 0;
    if (boot_read("-kernel", path, true, board->ram_size, true, &img, &size, err, errlen) != 0) {
        return -1;
    }

    int ret = 0;
    bool zimage = size >= ZIMAGE_HEADER_SIZE && le32(img + ZIMAGE_MAGIC_OFFSET) == ZIMAGE_MAGIC;
    if (coremu_is_elf(img, size)) {
        struct coremu_elf_info ei;
        char lerr[256];
        if (coremu_load_elf_image(board->as, img, size, EM_ARM, &ei, lerr, sizeof(lerr)) != 0) {
            ret = boot_error(err, errlen, "kernel %s: %s", path, lerr);
        } else if (ei.elf_class != 32) {
            ret = boot_error(err, errlen, "kernel %s: not a 32-bit ARM ELF executable", path);
        } else if (coremu_as_ram_ptr(board->as, ei.entry & ~1ull, 2, false) == NULL) {
            ret = boot_error(err, errlen, "kernel %s: entry point 0x%08llx is not in RAM", path,
                             (unsigned long long)ei.entry);
        } else {
            info->kind = ARM_IMAGE_ELF;
            info->image_low = (uint32_t)ei.low;
            info->image_high = (uint32_t)ei.high;
            board->boot.entry = (uint32_t)ei.entry & ~1u;
            board->boot.thumb = (ei.entry & 1) != 0;
            *reserved_end = ei.high;
        }
    } else if (zimage || is_linux_image(img, size)) {
        uint64_t load = board->ram_base +
                        (zimage ? ZIMAGE_LOAD_OFFSET : image_text_offset(img, size));
        if (zimage && le32(img + ZIMAGE_ENDIAN_OFFSET) == ZIMAGE_BIG_ENDIAN) {
            ret = boot_error(err, errlen, "kernel %s: a big-endian zImage cannot run here", path);
        } else if (load + size > ram_end) {
            ret = boot_error(err, errlen,
                             "kernel %s: %zu bytes do not fit in RAM: give more with -m", path,
                             size);
        } else if (boot_copy(board, "kernel", path, load, img, size, err, errlen) == 0) {
            info->kind = zimage ? ARM_IMAGE_ZIMAGE : ARM_IMAGE_LINUX_IMAGE;
            info->image_low = (uint32_t)load;
            info->image_high = (uint32_t)(load + size);
            board->boot.entry = (uint32_t)load;
            board->boot.thumb = false;
            /* An Image needs less (its BSS and early allocations), but the same is simpler. */
            *reserved_end = load + (uint64_t)size * ZIMAGE_EXPANSION;
        } else {
            ret = -1;
        }
    } else {
        uint64_t load = board->ram_base;
        if (load + size > ram_end) {
            ret = boot_error(err, errlen,
                             "kernel %s: %zu bytes do not fit in RAM: give more with -m", path,
                             size);
        } else if (boot_copy(board, "kernel", path, load, img, size, err, errlen) == 0) {
            info->kind = ARM_IMAGE_RAW;
            info->image_low = (uint32_t)load;
            info->image_high = (uint32_t)(load + size);
            board->boot.entry = (uint32_t)load;
            board->boot.thumb = false;
            *reserved_end = load + size;
        } else {
            ret = -1;
        }
    }
    free(img);
    return ret;
}

/* Checks a -dtb: its header, and with libfdt its whole structure, so that a malformed file is
 * the user's error now rather than the guest's mystery later. */
static int boot_check_dtb(const char *path, const uint8_t *dtb, size_t size, char *err,
                          size_t errlen)
{
    if (size < 40 || be32(dtb) != DTB_MAGIC) {
        return boot_error(err, errlen, "-dtb %s: not a flattened device tree", path);
    }
    if (be32(dtb + 4) > size) {
        return boot_error(err, errlen, "-dtb %s: truncated (header says %u bytes, file has %zu)",
                          path, be32(dtb + 4), size);
    }
#ifdef HAVE_LIBFDT
    int r = fdt_check_header(dtb);
    if (r == 0) {
        r = fdt_check_full(dtb, size);
    }
    if (r != 0) {
        return boot_error(err, errlen, "-dtb %s: malformed device tree: %s", path,
                          fdt_strerror(r));
    }
#endif
    return 0;
}

/* Builds the DTB the kernel gets in a buffer of capacity bytes: the tree (-dtb's or the
 * board's, named name in messages), with /chosen's bootargs and linux,initrd-start/-end set
 * when -append/-initrd are given. */
static int boot_patch_dtb(const struct virt_config *cfg, const char *name, const uint8_t *dtb,
                          uint8_t *out, size_t capacity, const struct arm_boot_info *info,
                          char *err, size_t errlen)
{
    bool patch = cfg->append != NULL || info->initrd_size != 0;
    if (!patch) {
        memcpy(out, dtb, be32(dtb + 4));
        return 0;
    }
#ifdef HAVE_LIBFDT
    int r = fdt_open_into(dtb, out, (int)capacity);
    int chosen = r == 0 ? fdt_path_offset(out, "/chosen") : r;
    if (r == 0 && chosen == -FDT_ERR_NOTFOUND) {
        chosen = fdt_add_subnode(out, 0, "chosen");
    }
    r = chosen < 0 ? chosen : 0;
    if (r == 0 && cfg->append != NULL) {
        r = fdt_setprop_string(out, chosen, "bootargs", cfg->append);
    }
    if (r == 0 && info->initrd_size != 0) {
        r = fdt_setprop_u32(out, chosen, "linux,initrd-start", info->initrd_start);
        if (r == 0) {
            r = fdt_setprop_u32(out, chosen, "linux,initrd-end",
                                info->initrd_start + info->initrd_size);
        }
    }
    if (r == 0) {
        r = fdt_pack(out);
    }
    if (r != 0) {
        return boot_error(err, errlen, "%s: cannot add /chosen properties: %s", name,
                          fdt_strerror(r));
    }
    return 0;
#else
    (void)out;
    (void)capacity;
    return boot_error(err, errlen,
                      "%s with -append or -initrd: passing them needs libfdt, and coremu was "
                      "built without it", name);
#endif
}

int arm_boot_load(struct arm_board *board, const struct virt_config *cfg,
                  const struct arm_map_row *map, unsigned nrows, struct arm_boot_info *info,
                  char *err, size_t errlen)
{
    memset(info, 0, sizeof(*info));
    uint64_t reserved_end = board->ram_base;
    if (cfg->kernel == NULL) {
        /* Only -machine virt,dumpdtb=FILE gets here: the tree is placed as for a kernel. */
        info->kind = ARM_IMAGE_NONE;
        info->image_low = info->image_high = board->ram_base;
        board->boot.entry = board->ram_base;
    } else if (boot_kernel(board, cfg->kernel, info, &reserved_end, err, errlen) != 0) {
        return -1;
    }
    board->boot.r0 = 0;
    board->boot.r1 = 0xffffffffu;
    board->boot.r2 = 0;

    uint8_t *dtb = NULL, *initrd = NULL;
    size_t dtb_size = 0, initrd_size = 0;
    char dtb_name[512];
    snprintf(dtb_name, sizeof(dtb_name), "%s%s", cfg->dtb != NULL ? "-dtb " : "",
             cfg->dtb != NULL ? cfg->dtb : "the board's device tree");
    bool linux_kernel = info->kind == ARM_IMAGE_ZIMAGE || info->kind == ARM_IMAGE_LINUX_IMAGE;
    int ret = -1;
    if (cfg->dtb != NULL) {
        if (boot_read("-dtb", cfg->dtb, false, DTB_MAX_SIZE, false, &dtb, &dtb_size, err,
                      errlen) != 0 ||
            boot_check_dtb(cfg->dtb, dtb, dtb_size, err, errlen) != 0) {
            goto out;
        }
    } else if (linux_kernel || cfg->append != NULL || cfg->initrd != NULL ||
               cfg->dumpdtb != NULL) {
        /* A bare-metal ELF or raw program gets no tree unless it asks for what travels in one. */
        if (arm_fdt_generate(map, nrows, cfg->ncpus, &dtb, &dtb_size, err, errlen) != 0) {
            goto out;
        }
    }
    if (cfg->initrd != NULL &&
        boot_read("-initrd", cfg->initrd, false, board->ram_size, true, &initrd, &initrd_size,
                  err, errlen) != 0) {
        goto out;
    }

    /* The DTB's slot leaves room for what we add to it; the initrd follows the slot. */
    uint64_t dtb_slot = 0;
    if (dtb != NULL) {
        size_t grown = be32(dtb + 4) + DTB_EXTRA + (cfg->append ? strlen(cfg->append) + 1 : 0);
        dtb_slot = align_up(grown, BOOT_ALIGN);
        if (grown > DTB_MAX_SIZE) {
            ret = boot_error(err, errlen, "%s: larger than 2 MiB with -append", dtb_name);
            goto out;
        }
    }
    uint64_t need = dtb_slot + align_up(initrd_size, BOOT_ALIGN);
    if (need == 0) {
        ret = 0;
        goto out;
    }
    /* booting.rst's safe place: the DTB just above 128 MiB from the start of RAM, the initrd
     * just above it. Both are inside the kernel's low memory (which with the 3G/1G split ends
     * some 760 MiB above the start of RAM), above what the zImage decompresses into, and the
     * kernel reserves both before it allocates anything. With too little RAM for that, the
     * top of RAM, which is then all low memory. */
    uint64_t ram_end = board->ram_base + board->ram_size;
    uint64_t start = board->ram_base + BOOT_DATA_OFFSET;
    bool clear = start + need <= ram_end &&
                 (start >= reserved_end || start + need <= info->image_low);
    if (!clear && need <= board->ram_size) {
        start = (ram_end - need) & ~(uint64_t)(BOOT_ALIGN - 1);
        clear = start >= reserved_end || start + need <= info->image_low;
    }
    if (!clear) {
        ret = boot_error(err, errlen,
                         "not enough RAM for the kernel%s%s: give more with -m",
                         dtb != NULL ? ", the device tree" : "",
                         initrd != NULL ? ", the initrd" : "");
        goto out;
    }
    if (initrd != NULL) {
        info->initrd_start = (uint32_t)(start + dtb_slot);
        info->initrd_size = (uint32_t)initrd_size;
        if (boot_copy(board, "-initrd", cfg->initrd, info->initrd_start, initrd, initrd_size, err,
                      errlen) != 0) {
            goto out;
        }
    }
    if (dtb != NULL) {
        uint8_t *out = calloc(1, dtb_slot);
        if (out == NULL) {
            ret = boot_error(err, errlen, "%s: out of memory", dtb_name);
            goto out;
        }
        bool ok = boot_patch_dtb(cfg, dtb_name, dtb, out, dtb_slot, info, err, errlen) == 0 &&
                  boot_copy(board, "device tree", cfg->dtb != NULL ? cfg->dtb : "(generated)",
                            start, out, be32(out + 4), err, errlen) == 0;
        if (!ok) {
            free(out);
            goto out;
        }
        info->dtb_addr = (uint32_t)start;
        info->dtb_size = be32(out + 4);
        board->boot.r2 = info->dtb_addr;
        free(out);
    }
    ret = 0;
out:
    free(dtb);
    free(initrd);
    return ret;
}
