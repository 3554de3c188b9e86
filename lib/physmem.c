/*
 * coremu — the guest physical address space.
 *
 * Readers (every guest core, the I/O thread, DMA) find regions through an immutable sorted
 * table that they reach with one acquire load; they never take a lock. Writers (boards at
 * start-up, PCI BAR updates later) serialise on a mutex, build a whole new table and publish it
 * with a release store. Nothing a reader may still hold is freed before coremu_as_free: old
 * tables go on a retire list and removed regions stay on the list of every region ever added.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <coremu/physmem.h>
#include <coremu/softmmu.h>

/* Guest values travel as host integers and RAM is copied byte for byte: only a host with the
 * guests' (little-endian) byte order gets that right without swapping. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "coremu needs a little-endian host"
#endif

/*
 * One table entry. last (inclusive) rather than an end address so that a region that ends at
 * the top of the 64-bit space needs no 2^64.
 */
struct as_entry {
    uint64_t base;
    uint64_t last;
    struct coremu_region *r;
};

/* Immutable once published, except retired_next. */
struct as_table {
    struct as_table *retired_next; /* under coremu_as.wlock, after the table is replaced */
    /* The largest RAM region, tried before the binary search because most lookups (TLB
     * fills) land there. ram == NULL when the table holds no RAM. */
    struct coremu_region *ram;
    uint64_t ram_base, ram_span; /* ram_span = last - base */
    size_t n;
    struct as_entry e[];
};

/* A region plus the link that keeps it reachable for coremu_as_free. */
struct as_region {
    struct coremu_region pub;
    struct as_region *all_next; /* under coremu_as.wlock */
};

struct coremu_as {
    /* Written (release) by writers under wlock; read (acquire) by anyone, lock-free. Never
     * NULL. */
    _Atomic(struct as_table *) table;
    /* Serialises writers: adding, removing and freeing. */
    pthread_mutex_t wlock;
    struct as_table *retired; /* tables replaced since creation; under wlock */
    struct as_region *all;    /* every region ever added; under wlock */
};

static struct as_table *table_alloc(size_t n)
{
    struct as_table *t = calloc(1, sizeof(*t) + n * sizeof(t->e[0]));
    if (t) {
        t->n = n;
    }
    return t;
}

/* Picks the RAM fast-path entry of a freshly built table. */
static void table_set_ram_hint(struct as_table *t)
{
    uint64_t best = 0;
    t->ram = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct as_entry *e = &t->e[i];
        if (e->r->kind == COREMU_REGION_RAM && (t->ram == NULL || e->last - e->base > best)) {
            best = e->last - e->base;
            t->ram = e->r;
            t->ram_base = e->base;
            t->ram_span = best;
        }
    }
}

/* Index of the first entry whose base is greater than addr (0..n). */
static size_t table_upper(const struct as_table *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->e[mid].base <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct coremu_region *as_find(const struct coremu_as *as, uint64_t addr)
{
    const struct as_table *t = atomic_load_explicit(&as->table, memory_order_acquire);
    /* Unsigned wrap makes this one comparison cover addr < ram_base too. */
    if (t->ram != NULL && addr - t->ram_base <= t->ram_span) {
        return t->ram;
    }
    size_t i = table_upper(t, addr);
    if (i == 0 || addr > t->e[i - 1].last) {
        return NULL;
    }
    return t->e[i - 1].r;
}

static uint64_t region_last(const struct coremu_region *r)
{
    return r->base + (r->size - 1);
}

/* Whether [addr, addr + len) stays inside r, given that r contains addr and len >= 1. Also
 * false when the range wraps past 2^64 - 1, since no region extends beyond it. */
static bool region_holds(const struct coremu_region *r, uint64_t addr, uint64_t len)
{
    return len - 1 <= region_last(r) - addr;
}

struct coremu_as *coremu_as_new(void)
{
    struct coremu_as *as = calloc(1, sizeof(*as));
    if (as == NULL) {
        return NULL;
    }
    struct as_table *t = table_alloc(0);
    if (t == NULL) {
        free(as);
        return NULL;
    }
    pthread_mutex_init(&as->wlock, NULL);
    atomic_init(&as->table, t);
    return as;
}

void coremu_as_free(struct coremu_as *as)
{
    if (as == NULL) {
        return;
    }
    /* The caller guarantees that no thread still uses the address space, so the table can be
     * read without ordering concerns. */
    free(atomic_load_explicit(&as->table, memory_order_relaxed));
    for (struct as_table *t = as->retired, *next; t != NULL; t = next) {
        next = t->retired_next;
        free(t);
    }
    for (struct as_region *ar = as->all, *next; ar != NULL; ar = next) {
        next = ar->all_next;
        struct coremu_region *r = &ar->pub;
        if (r->kind == COREMU_REGION_MMIO) {
            pthread_mutex_destroy(&r->lock);
        } else if (r->host != NULL) {
            munmap(r->host, (size_t)r->size);
        }
        free((char *)r->name);
        free(ar);
    }
    pthread_mutex_destroy(&as->wlock);
    free(as);
}

/* Publishes a table with ar inserted. 0, -EEXIST or -ENOMEM; on failure ar is untouched. */
static int as_insert(struct coremu_as *as, struct as_region *ar)
{
    struct coremu_region *r = &ar->pub;
    uint64_t last = region_last(r);
    int ret = 0;

    pthread_mutex_lock(&as->wlock);
    struct as_table *old = atomic_load_explicit(&as->table, memory_order_relaxed);
    size_t pos = table_upper(old, r->base);
    if ((pos > 0 && old->e[pos - 1].last >= r->base) ||
        (pos < old->n && old->e[pos].base <= last)) {
        ret = -EEXIST;
        goto out;
    }
    struct as_table *t = table_alloc(old->n + 1);
    if (t == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    memcpy(t->e, old->e, pos * sizeof(t->e[0]));
    t->e[pos] = (struct as_entry){.base = r->base, .last = last, .r = r};
    memcpy(t->e + pos + 1, old->e + pos, (old->n - pos) * sizeof(t->e[0]));
    table_set_ram_hint(t);

    ar->all_next = as->all;
    as->all = ar;
    /* Release: the region's fields and the table's entries become visible with the table. */
    atomic_store_explicit(&as->table, t, memory_order_release);
    old->retired_next = as->retired;
    as->retired = old;
out:
    pthread_mutex_unlock(&as->wlock);
    return ret;
}

/* A region of kind with name, or NULL (errno set) when base/size are invalid or memory is
 * short. */
static struct as_region *region_new(const char *name, enum coremu_region_kind kind,
                                    uint64_t base, uint64_t size)
{
    if (size == 0 || base + (size - 1) < base) {
        errno = EINVAL;
        return NULL;
    }
    struct as_region *ar = calloc(1, sizeof(*ar));
    char *copy = strdup(name ? name : "");
    if (ar == NULL || copy == NULL) {
        free(ar);
        free(copy);
        errno = ENOMEM;
        return NULL;
    }
    ar->pub.name = copy;
    ar->pub.kind = kind;
    ar->pub.base = base;
    ar->pub.size = size;
    return ar;
}

static uint8_t *as_add_mem(struct coremu_as *as, const char *name, enum coremu_region_kind kind,
                           uint64_t base, uint64_t size)
{
    if (size > SIZE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    struct as_region *ar = region_new(name, kind, base, size);
    if (ar == NULL) {
        return NULL;
    }
    void *host = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED) {
        free((char *)ar->pub.name);
        free(ar);
        errno = ENOMEM;
        return NULL;
    }
    ar->pub.host = host;
    int ret = as_insert(as, ar);
    if (ret != 0) {
        munmap(host, (size_t)size);
        free((char *)ar->pub.name);
        free(ar);
        errno = -ret;
        return NULL;
    }
    return host;
}

uint8_t *coremu_as_add_ram(struct coremu_as *as, const char *name, uint64_t base, uint64_t size)
{
    return as_add_mem(as, name, COREMU_REGION_RAM, base, size);
}

uint8_t *coremu_as_add_rom(struct coremu_as *as, const char *name, uint64_t base, uint64_t size)
{
    return as_add_mem(as, name, COREMU_REGION_ROM, base, size);
}

int coremu_as_add_mmio(struct coremu_as *as, const char *name, uint64_t base, uint64_t size,
                       const struct coremu_mmio_ops *ops, void *opaque, unsigned flags)
{
    if (ops == NULL) {
        return -EINVAL;
    }
    struct as_region *ar = region_new(name, COREMU_REGION_MMIO, base, size);
    if (ar == NULL) {
        return -errno;
    }
    ar->pub.ops = ops;
    ar->pub.opaque = opaque;
    ar->pub.flags = flags;
    pthread_mutex_init(&ar->pub.lock, NULL);
    int ret = as_insert(as, ar);
    if (ret != 0) {
        pthread_mutex_destroy(&ar->pub.lock);
        free((char *)ar->pub.name);
        free(ar);
    }
    return ret;
}

int coremu_as_remove(struct coremu_as *as, uint64_t base)
{
    int ret = 0;
    pthread_mutex_lock(&as->wlock);
    struct as_table *old = atomic_load_explicit(&as->table, memory_order_relaxed);
    size_t pos = table_upper(old, base);
    if (pos == 0 || old->e[pos - 1].base != base) {
        ret = -ENOENT;
        goto out;
    }
    pos--;
    struct as_table *t = table_alloc(old->n - 1);
    if (t == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    memcpy(t->e, old->e, pos * sizeof(t->e[0]));
    memcpy(t->e + pos, old->e + pos + 1, (old->n - pos - 1) * sizeof(t->e[0]));
    table_set_ram_hint(t);
    atomic_store_explicit(&as->table, t, memory_order_release);
    /* The region itself stays on as->all: a reader may have found it just before. */
    old->retired_next = as->retired;
    as->retired = old;
out:
    pthread_mutex_unlock(&as->wlock);
    return ret;
}

const struct coremu_region *coremu_as_lookup(const struct coremu_as *as, uint64_t addr)
{
    return as_find(as, addr);
}

uint8_t *coremu_as_ram_ptr(const struct coremu_as *as, uint64_t addr, uint64_t len, bool write)
{
    const struct coremu_region *r = as_find(as, addr);
    if (r == NULL || r->kind == COREMU_REGION_MMIO || (write && r->kind == COREMU_REGION_ROM)) {
        return NULL;
    }
    if (!region_holds(r, addr, len ? len : 1)) {
        return NULL;
    }
    return r->host + (addr - r->base);
}

static bool valid_size(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (UINT64_C(1) << (size * 8)) - 1;
}

/* Aligned accesses are single host loads and stores so that no other core sees them torn;
 * alignment is judged on the host address, which is what the hardware guarantee is about. */
static uint64_t ram_load(const uint8_t *p, unsigned size)
{
    if (((uintptr_t)p & (size - 1)) == 0) {
        return coremu_mem_load(p, size);
    }
    uint64_t v = 0;
    memcpy(&v, p, size);
    return v;
}

static void ram_store(uint8_t *p, unsigned size, uint64_t v)
{
    if (((uintptr_t)p & (size - 1)) == 0) {
        coremu_mem_store(p, size, v);
        return;
    }
    memcpy(p, &v, size);
}

static int mmio_access(struct coremu_region *r, uint64_t addr, unsigned size, uint64_t *value,
                       bool write)
{
    const struct coremu_mmio_ops *ops = r->ops;
    uint64_t offset = addr - r->base;
    if ((ops->sizes != 0 && (ops->sizes & size) == 0) ||
        (!ops->allow_unaligned && (offset & (size - 1)) != 0)) {
        return COREMU_MEM_BAD_SIZE;
    }
    if (write ? ops->write == NULL : ops->read == NULL) {
        return COREMU_MEM_DEVICE_ERROR;
    }
    bool locked = (r->flags & COREMU_MMIO_LOCKLESS) == 0;
    if (locked) {
        pthread_mutex_lock(&r->lock);
    }
    int ret;
    if (write) {
        ret = ops->write(r->opaque, offset, size, *value & size_mask(size));
    } else {
        uint64_t v = 0;
        ret = ops->read(r->opaque, offset, size, &v);
        *value = v & size_mask(size);
    }
    if (locked) {
        pthread_mutex_unlock(&r->lock);
    }
    return ret;
}

int coremu_as_read(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t *value)
{
    if (!valid_size(size)) {
        return COREMU_MEM_BAD_SIZE;
    }
    struct coremu_region *r = as_find(as, addr);
    if (r == NULL || !region_holds(r, addr, size)) {
        return COREMU_MEM_UNMAPPED;
    }
    if (r->kind != COREMU_REGION_MMIO) {
        *value = ram_load(r->host + (addr - r->base), size);
        return COREMU_MEM_OK;
    }
    return mmio_access(r, addr, size, value, false);
}

int coremu_as_write(struct coremu_as *as, uint64_t addr, unsigned size, uint64_t value)
{
    if (!valid_size(size)) {
        return COREMU_MEM_BAD_SIZE;
    }
    struct coremu_region *r = as_find(as, addr);
    if (r == NULL || !region_holds(r, addr, size)) {
        return COREMU_MEM_UNMAPPED;
    }
    switch (r->kind) {
    case COREMU_REGION_RAM:
        ram_store(r->host + (addr - r->base), size, value);
        return COREMU_MEM_OK;
    case COREMU_REGION_ROM:
        return COREMU_MEM_DEVICE_ERROR;
    default:
        return mmio_access(r, addr, size, &value, true);
    }
}

/*
 * Walks [addr, addr + len) region by region, calling fn on each RAM/ROM piece. Stops with
 * COREMU_MEM_UNMAPPED at the first byte that is neither, or when the range wraps.
 */
static int as_copy(struct coremu_as *as, uint64_t addr, size_t len,
                   void (*fn)(uint8_t *host, size_t done, size_t n, void *arg), void *arg)
{
    size_t done = 0;
    while (done < len) {
        const struct coremu_region *r = as_find(as, addr);
        if (r == NULL || r->kind == COREMU_REGION_MMIO) {
            return COREMU_MEM_UNMAPPED;
        }
        uint64_t avail_m1 = region_last(r) - addr; /* bytes left in r, minus one */
        size_t want = len - done;
        size_t n = (uint64_t)want - 1 <= avail_m1 ? want : (size_t)(avail_m1 + 1);
        fn(r->host + (addr - r->base), done, n, arg);
        done += n;
        if (done < len && addr + n < addr) {
            return COREMU_MEM_UNMAPPED; /* ran off the top of the address space */
        }
        addr += n;
    }
    return COREMU_MEM_OK;
}

static void copy_in(uint8_t *host, size_t done, size_t n, void *arg)
{
    memcpy(host, (const uint8_t *)arg + done, n);
}

static void copy_out(uint8_t *host, size_t done, size_t n, void *arg)
{
    memcpy((uint8_t *)arg + done, host, n);
}

int coremu_as_copy_to(struct coremu_as *as, uint64_t addr, const void *buf, size_t len)
{
    return as_copy(as, addr, len, copy_in, (void *)buf);
}

int coremu_as_copy_from(struct coremu_as *as, uint64_t addr, void *buf, size_t len)
{
    return as_copy(as, addr, len, copy_out, buf);
}

void coremu_as_foreach(const struct coremu_as *as,
                       void (*fn)(const struct coremu_region *r, void *opaque), void *opaque)
{
    const struct as_table *t = atomic_load_explicit(&as->table, memory_order_acquire);
    for (size_t i = 0; i < t->n; i++) {
        fn(t->e[i].r, opaque);
    }
}
