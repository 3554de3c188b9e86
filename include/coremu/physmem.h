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

struct coremu_region {
    const char *name;
    enum coremu_region_kind kind;
    uint64_t base;
    uint64_t size;
    uint8_t *host; /* RAM/ROM: host address of base */
    const struct coremu_mmio_ops *ops;
    void *opaque;
    unsigned flags;
    pthread_mutex_t lock; /* MMIO: serialises this device's callbacks */
};

struct coremu_as *coremu_as_new(void);
void coremu_as_free(struct coremu_as *as);

/* Adds RAM of size bytes at base (one anonymous mapping, zero-filled, backed lazily). Returns
 * the host address or NULL (errno set) on overlap or mapping failure. */
uint8_t *coremu_as_add_ram(struct coremu_as *as, const char *name, uint64_t base, uint64_t size);
/* Read-only memory: guest writes are reported as COREMU_MEM_DEVICE_ERROR; the board fills it
 * through the returned pointer. */
uint8_t *coremu_as_add_rom(struct coremu_as *as, const char *name, uint64_t base, uint64_t size);
/* Adds an MMIO region. 0, or -EEXIST on overlap, -EINVAL on a zero size. */
int coremu_as_add_mmio(struct coremu_as *as, const char *name, uint64_t base, uint64_t size,
                       const struct coremu_mmio_ops *ops, void *opaque, unsigned flags);
/* Removes the region that starts at base. 0 or -ENOENT. */
int coremu_as_remove(struct coremu_as *as, uint64_t base);

/* The region containing addr, or NULL. Lock-free; the pointer stays valid until coremu_as_free.
 */
const struct coremu_region *coremu_as_lookup(const struct coremu_as *as, uint64_t addr);

/* Host pointer for [addr, addr + len) when the whole range is RAM (or ROM when !write), else
 * NULL. This is the softmmu's fill path. */
uint8_t *coremu_as_ram_ptr(const struct coremu_as *as, uint64_t addr, uint64_t len, bool write);

/* One access of size 1/2/4/8. RAM accesses that are naturally aligned are single-copy atomic. */
int coremu_as_read(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t *value);
int coremu_as_write(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t value);
/* Byte copies for loaders and DMA: RAM/ROM only (loaders may write ROM). COREMU_MEM_OK or the
 * first error. */
int coremu_as_copy_to(struct coremu_as *as, uint64_t addr, const void *buf, size_t len);
int coremu_as_copy_from(struct coremu_as *as, uint64_t addr, void *buf, size_t len);

/* Iterates regions in address order (for the device tree, debugging). */
void coremu_as_foreach(const struct coremu_as *as,
                       void (*fn)(const struct coremu_region *r, void *opaque), void *opaque);

#endif /* COREMU_PHYSMEM_H */
