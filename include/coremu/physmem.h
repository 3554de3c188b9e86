/*
 * coremu — the guest physical address space.
 *
 * A board adds RAM regions (each one anonymous MAP_NORESERVE mapping) and MMIO regions (a
 * device's read/write callbacks) before the cores start; regions may also be added or removed
 * later (PCI BARs), in which case the lookup table is replaced with a release store and the old
 * one is retired only at coremu_as_free, so lookups never take a lock.
 *
 * MMIO callbacks run under the region's own mutex (one per device, unless the device asks for
 * COREMU_MMIO_LOCKLESS and synchronises itself). Accesses are 1, 2, 4 or 8 bytes, little-endian
 * values; an access that falls outside every region, crosses a region's end, or has a size the
 * device does not accept is reported to the caller, which raises the architectural fault.
 */
#ifndef COREMU_PHYSMEM_H
#define COREMU_PHYSMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_as;

enum coremu_mem_result {
    COREMU_MEM_OK = 0,
    COREMU_MEM_UNMAPPED = 1, /* no region there (decode error) */
    COREMU_MEM_BAD_SIZE = 2, /* the device rejects this access size or alignment */
    COREMU_MEM_DEVICE_ERROR = 3, /* the device signalled an error response (slave error) */
};

struct coremu_mmio_ops {
    /* offset is relative to the region base. Return COREMU_MEM_OK or an error. */
    int (*read)(void *opaque, uint64_t offset, unsigned size, uint64_t *value);
    int (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
    /* Accepted sizes as a bit mask of 1, 2, 4, 8 (0 means all); unaligned accesses are rejected
     * with COREMU_MEM_BAD_SIZE unless allow_unaligned. */
    unsigned sizes;
    bool allow_unaligned;
};

enum {
    COREMU_MMIO_LOCKLESS = 1u << 0, /* callbacks do their own synchronisation */
};

enum coremu_region_kind { COREMU_REGION_RAM, COREMU_REGION_ROM, COREMU_REGION_MMIO };

/*
 * A region as the lookup table publishes it. The address space allocates it; every field but
 * lock is written once by the thread that adds the region, before the release store that
 * publishes the table holding it, and never changes afterwards, so a reader that found the
 * region through coremu_as_lookup (acquire) may read them without a lock. A removed region (and
 * its RAM mapping) stays allocated until coremu_as_free, so a pointer obtained before the
 * removal — or a host address a TLB cached — never dangles.
 */
struct coremu_region {
    const char *name;       /* a copy owned by the address space */
    enum coremu_region_kind kind;
    uint64_t base;
    uint64_t size;          /* > 0; base + size - 1 does not wrap past 2^64 - 1 */
    uint8_t *host;          /* RAM/ROM: host address of base (page-aligned); MMIO: NULL */
    const struct coremu_mmio_ops *ops; /* MMIO only; must outlive the address space */
    void *opaque;           /* MMIO: passed to the callbacks */
    unsigned flags;         /* COREMU_MMIO_* */
    /* MMIO without COREMU_MMIO_LOCKLESS: held around every read/write callback, so a device's
     * callbacks never run concurrently with each other. A callback may access other regions
     * (DMA to RAM, another device) but must not access its own region: the lock is not
     * recursive. */
    pthread_mutex_t lock;
};

struct coremu_as *coremu_as_new(void);
void coremu_as_free(struct coremu_as *as);

/* Adds RAM of size bytes at base (one anonymous mapping, zero-filled, backed lazily). Returns
 * the host address or NULL with errno set: EEXIST on overlap, EINVAL on a zero size or a range
 * that wraps past 2^64 - 1, ENOMEM when the mapping fails. */
uint8_t *coremu_as_add_ram(struct coremu_as *as, const char *name, uint64_t base, uint64_t size);
/* Read-only memory: guest writes are reported as COREMU_MEM_DEVICE_ERROR; the board fills it
 * through the returned pointer. */
uint8_t *coremu_as_add_rom(struct coremu_as *as, const char *name, uint64_t base, uint64_t size);
/* Adds an MMIO region. 0, or -EEXIST on overlap, -EINVAL on a zero size, a wrapping range or
 * NULL ops, -ENOMEM. */
int coremu_as_add_mmio(struct coremu_as *as, const char *name, uint64_t base, uint64_t size,
                       const struct coremu_mmio_ops *ops, void *opaque, unsigned flags);
/* Removes the region that starts at base. 0 or -ENOENT. An access that looked the region up
 * before the removal may still complete afterwards (lookups take no lock), so the device and
 * its opaque data must stay valid until coremu_as_free, or the caller first stops the world. */
int coremu_as_remove(struct coremu_as *as, uint64_t base);

/* The region containing addr, or NULL. Lock-free; the pointer stays valid until coremu_as_free.
 */
const struct coremu_region *coremu_as_lookup(const struct coremu_as *as, uint64_t addr);

/* Host pointer for [addr, addr + len) when the whole range lies in one RAM region (or ROM when
 * !write), else NULL. len 0 is taken as 1. This is the softmmu's fill path. */
uint8_t *coremu_as_ram_ptr(const struct coremu_as *as, uint64_t addr, uint64_t len, bool write);

/* One access of size 1/2/4/8 (any other size: COREMU_MEM_BAD_SIZE). RAM accesses that are
 * naturally aligned are single-copy atomic (relaxed); unaligned ones are byte copies. An access
 * that wraps past 2^64 - 1 or runs past the end of its region is COREMU_MEM_UNMAPPED, even when
 * another region follows. A write to ROM is COREMU_MEM_DEVICE_ERROR. An MMIO region whose ops
 * lack the callback for the direction answers COREMU_MEM_DEVICE_ERROR; read values are masked
 * to size bytes, as are the values passed to write callbacks. */
int coremu_as_read(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t *value);
int coremu_as_write(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t value);
/* Byte copies for loaders and DMA: RAM/ROM only (loaders may write ROM); a copy may span
 * adjacent regions. A byte that is MMIO or unmapped (or a copy that wraps past 2^64 - 1) ends
 * the copy with COREMU_MEM_UNMAPPED, after the bytes before it were copied. These are plain
 * memcpy: not atomic against guest accesses to the same bytes. */
int coremu_as_copy_to(struct coremu_as *as, uint64_t addr, const void *buf, size_t len);
int coremu_as_copy_from(struct coremu_as *as, uint64_t addr, void *buf, size_t len);

/* Iterates the regions of one snapshot of the table in address order (for the device tree,
 * debugging). */
void coremu_as_foreach(const struct coremu_as *as,
                       void (*fn)(const struct coremu_region *r, void *opaque), void *opaque);

#endif /* COREMU_PHYSMEM_H */
