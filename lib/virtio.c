/*
 * coremu — the virtio 1.x device core: status and features, split virtqueues, requests.
 * See include/coremu/virtio.h for the rules, the threads and the locks.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <coremu/atomic.h>
#include <coremu/log.h>
#include <coremu/physmem.h>
#include <coremu/virtio.h>

/* Byte offsets in the rings (2.7.6, 2.7.8): flags and idx lead both rings. */
#define AVAIL_IDX      1u /* in uint16_t units */
#define AVAIL_RING     2u
#define USED_IDX_OFF   2u
#define USED_RING_OFF  4u
#define USED_ELEM_SIZE 8u

static bool is_power_of_two(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

int coremu_virtio_device_init(struct coremu_virtio_device *dev,
                              const struct coremu_virtio_device_ops *ops, void *opaque,
                              struct coremu_as *as, struct coremu_xmon *xmon,
                              uint64_t device_features, unsigned nqueues,
                              const uint16_t *queue_sizes, uint32_t config_size)
{
    if (ops == NULL || as == NULL || nqueues == 0 || nqueues > COREMU_VIRTIO_MAX_QUEUES ||
        config_size > COREMU_VIRTIO_CONFIG_MAX) {
        return -EINVAL;
    }
    for (unsigned i = 0; i < nqueues; i++) {
        if (!is_power_of_two(queue_sizes[i]) || queue_sizes[i] > COREMU_VIRTIO_QUEUE_MAX) {
            return -EINVAL;
        }
    }
    memset(dev, 0, sizeof(*dev));
    dev->ops = ops;
    dev->opaque = opaque;
    dev->as = as;
    dev->xmon = xmon;
    dev->host_features = device_features | (1ull << COREMU_VIRTIO_F_VERSION_1) |
                         (1ull << COREMU_VIRTIO_F_EVENT_IDX) |
                         (1ull << COREMU_VIRTIO_F_INDIRECT_DESC);
    dev->nqueues = nqueues;
    dev->config_size = config_size;
    for (unsigned i = 0; i < nqueues; i++) {
        dev->vq[i].size_max = queue_sizes[i];
        dev->vq[i].size = queue_sizes[i];
    }
    pthread_mutex_init(&dev->lock, NULL);
    return 0;
}

void coremu_virtio_device_destroy(struct coremu_virtio_device *dev)
{
    pthread_mutex_destroy(&dev->lock);
}

uint32_t coremu_virtio_host_features(const struct coremu_virtio_device *dev, uint32_t sel)
{
    return sel < 2 ? (uint32_t)(dev->host_features >> (32 * sel)) : 0;
}

void coremu_virtio_set_driver_features(struct coremu_virtio_device *dev, uint32_t sel,
                                       uint32_t value)
{
    /* 3.1.1: features are fixed once FEATURES_OK was accepted. */
    if (sel >= 2 || (dev->status & COREMU_VIRTIO_STATUS_FEATURES_OK) != 0) {
        return;
    }
    unsigned shift = 32 * sel;
    dev->driver_features =
        (dev->driver_features & ~(0xffffffffull << shift)) | ((uint64_t)value << shift);
}

bool coremu_virtio_has_feature(const struct coremu_virtio_device *dev, unsigned bit)
{
    return bit < 64 && (dev->driver_features >> bit) & 1;
}

static void virtio_log_guest_error(const struct coremu_virtio_device *dev, const char *fmt,
                                   va_list ap) __attribute__((format(printf, 2, 0)));
static void virtio_log_guest_error(const struct coremu_virtio_device *dev, const char *fmt,
                                   va_list ap)
{
    if (!coremu_log_enabled(COREMU_LOG_GUEST_ERRORS)) {
        return;
    }
    char msg[256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    coremu_log(COREMU_LOG_GUEST_ERRORS, "%s: driver error, device needs reset: %s\n",
               dev->ops->name, msg);
}

void coremu_virtio_set_broken(struct coremu_virtio_device *dev, const char *fmt, ...)
{
    if (dev->broken) {
        return; /* logged already; nothing runs until the reset */
    }
    dev->broken = true;
    va_list ap;
    va_start(ap, fmt);
    virtio_log_guest_error(dev, fmt, ap);
    va_end(ap);
    dev->status |= COREMU_VIRTIO_STATUS_NEEDS_RESET;
    /* 2.1.2: a running driver learns of NEEDS_RESET through a configuration change. */
    if ((dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) != 0 && dev->transport.interrupt != NULL) {
        dev->transport.interrupt(dev->transport.opaque, COREMU_VIRTIO_ISR_CONFIG);
    }
}

void coremu_virtio_config_changed(struct coremu_virtio_device *dev)
{
    dev->config_generation++;
    if ((dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) != 0 && dev->transport.interrupt != NULL) {
        dev->transport.interrupt(dev->transport.opaque, COREMU_VIRTIO_ISR_CONFIG);
    }
}

void coremu_virtio_reset(struct coremu_virtio_device *dev)
{
    if (dev->ops->reset != NULL) {
        dev->ops->reset(dev);
    }
    dev->status = 0;
    dev->driver_features = 0;
    dev->broken = false;
    for (unsigned i = 0; i < dev->nqueues; i++) {
        struct coremu_virtqueue *vq = &dev->vq[i];
        uint16_t size_max = vq->size_max;
        memset(vq, 0, sizeof(*vq));
        vq->size_max = size_max;
        vq->size = size_max; /* 4.2.2: QueueNum starts at the maximum in practice */
    }
}

void coremu_virtio_queue_notify(struct coremu_virtio_device *dev, unsigned index)
{
    if ((dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) == 0 || dev->broken ||
        index >= dev->nqueues || !dev->vq[index].ready) {
        return;
    }
    if (dev->ops->queue_notify != NULL) {
        dev->ops->queue_notify(dev, index);
    } else if (dev->ops->serve != NULL) {
        coremu_virtqueue_serve(dev, index, &dev->req, dev->ops->serve);
    }
}

void coremu_virtio_set_status(struct coremu_virtio_device *dev, uint8_t status)
{
    if (status == 0) {
        coremu_virtio_reset(dev);
        return;
    }
    uint8_t old = dev->status;
    if ((status & COREMU_VIRTIO_STATUS_FEATURES_OK) != 0 &&
        (old & COREMU_VIRTIO_STATUS_FEATURES_OK) == 0) {
        /* 3.1.1: accept only a subset of what was offered, and only the 1.x interface. */
        bool ok = (dev->driver_features & ~dev->host_features) == 0 &&
                  coremu_virtio_has_feature(dev, COREMU_VIRTIO_F_VERSION_1);
        if (!ok) {
            status &= (uint8_t)~COREMU_VIRTIO_STATUS_FEATURES_OK;
        }
    }
    dev->status = (uint8_t)(status & ~COREMU_VIRTIO_STATUS_NEEDS_RESET);
    if (dev->broken) {
        dev->status |= COREMU_VIRTIO_STATUS_NEEDS_RESET;
    }
    /* A notify that came before DRIVER_OK was not acted on: look at every queue now. */
    if ((old & COREMU_VIRTIO_STATUS_DRIVER_OK) == 0 &&
        (dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) != 0) {
        for (unsigned i = 0; i < dev->nqueues; i++) {
            coremu_virtio_queue_notify(dev, i);
        }
    }
}

/* Host view of [gpa, gpa + len) in guest RAM, or NULL when any byte is outside it, the range
 * wraps, or (align) the address is misaligned. */
static void *virtio_ram(const struct coremu_virtio_device *dev, uint64_t gpa, uint64_t len,
                        bool write, uint64_t align)
{
    if (len == 0 || gpa + len - 1 < gpa || (gpa & (align - 1)) != 0) {
        return NULL;
    }
    return coremu_as_ram_ptr(dev->as, gpa, len, write);
}

void coremu_virtio_queue_set_ready(struct coremu_virtio_device *dev, unsigned index, bool ready)
{
    if (index >= dev->nqueues) {
        return;
    }
    struct coremu_virtqueue *vq = &dev->vq[index];
    if (!ready) {
        vq->ready = false;
        return;
    }
    if (vq->ready || dev->broken) {
        return;
    }
    uint32_t n = vq->size;
    if (!is_power_of_two(n) || n > vq->size_max) {
        coremu_virtio_set_broken(dev, "queue %u: size %u is not a power of two up to %u", index, n,
                                 vq->size_max);
        return;
    }
    /* 2.7: the alignment and sizes of the three parts of a split virtqueue. */
    vq->desc = virtio_ram(dev, vq->desc_gpa, 16ull * n, false, 16);
    vq->avail = virtio_ram(dev, vq->avail_gpa, 6ull + 2ull * n, false, 2);
    vq->used = virtio_ram(dev, vq->used_gpa, 6ull + 8ull * n, true, 4);
    if (vq->desc == NULL || vq->avail == NULL || vq->used == NULL) {
        coremu_virtio_set_broken(dev,
                                 "queue %u: rings not in guest RAM or misaligned (desc 0x%llx, "
                                 "driver 0x%llx, device 0x%llx, size %u)",
                                 index, (unsigned long long)vq->desc_gpa,
                                 (unsigned long long)vq->avail_gpa,
                                 (unsigned long long)vq->used_gpa, n);
        vq->desc = NULL;
        vq->avail = NULL;
        vq->used = NULL;
        return;
    }
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_valid = false;
    vq->ready = true;
}

uint64_t coremu_virtio_config_read(const struct coremu_virtio_device *dev, uint32_t offset,
                                   unsigned size)
{
    uint64_t v = 0;
    if (size > 8 || offset > dev->config_size || size > dev->config_size - offset) {
        return 0;
    }
    memcpy(&v, dev->config + offset, size); /* little-endian host, little-endian config */
    return v;
}

void coremu_virtio_config_write(struct coremu_virtio_device *dev, uint32_t offset, unsigned size,
                                uint64_t value)
{
    if (size > 8 || offset > dev->config_size || size > dev->config_size - offset ||
        dev->ops->config_write == NULL) {
        return;
    }
    dev->ops->config_write(dev, offset, size, value);
}

/* The device wrote [gpa, gpa + len) of guest RAM: other cores' exclusive reservations there must
 * fail. Only pages under watch can hold any, and checking is cheaper than breaking. */
static void virtio_dma_written(const struct coremu_virtio_device *dev, uint64_t gpa, uint64_t len)
{
    if (dev->xmon == NULL || len == 0) {
        return;
    }
    const uint64_t page = 1ull << COREMU_XMON_PAGE_BITS;
    uint64_t end = gpa + len;
    while (gpa < end) {
        uint64_t next = (gpa | (page - 1)) + 1;
        uint64_t stop = next < end ? next : end;
        if (coremu_xmon_page_watched(dev->xmon, gpa)) {
            coremu_xmon_dma_write(dev->xmon, gpa, (size_t)(stop - gpa));
        }
        gpa = stop;
    }
}

static uint16_t ring_load(const uint16_t *p, int order)
{
    return __atomic_load_n(p, order);
}

/* The driver's used_event, after the available ring (2.7.10). */
static uint16_t *avail_used_event(const struct coremu_virtqueue *vq)
{
    return &vq->avail[AVAIL_RING + vq->size];
}

/* The device's avail_event, after the used ring (2.7.10). */
static uint16_t *used_avail_event(const struct coremu_virtqueue *vq)
{
    return (uint16_t *)(vq->used + USED_RING_OFF + USED_ELEM_SIZE * vq->size);
}

/* Appends one descriptor's buffer to req. false (device broken) when it is not in RAM, wraps,
 * or comes readable after a writable one. */
static bool req_add(struct coremu_virtio_device *dev, struct coremu_virtio_req *req,
                    const struct coremu_virtq_desc *d)
{
    bool writable = (d->flags & COREMU_VIRTQ_DESC_F_WRITE) != 0;
    if (!writable && req->nin > 0) {
        coremu_virtio_set_broken(dev, "readable descriptor after a writable one");
        return false;
    }
    if (d->len == 0) {
        return true;
    }
    if (d->addr + d->len - 1 < d->addr) {
        coremu_virtio_set_broken(dev, "buffer 0x%llx + %u wraps", (unsigned long long)d->addr,
                                 d->len);
        return false;
    }
    uint8_t *host = virtio_ram(dev, d->addr, d->len, writable, 1);
    if (host == NULL) {
        coremu_virtio_set_broken(dev, "buffer 0x%llx + %u is not in guest RAM",
                                 (unsigned long long)d->addr, d->len);
        return false;
    }
    unsigned n = req->nout + req->nin;
    if (n >= COREMU_VIRTIO_MAX_SEGS) {
        coremu_virtio_set_broken(dev, "chain of more than %u buffers", COREMU_VIRTIO_MAX_SEGS);
        return false;
    }
    req->seg[n] = (struct coremu_virtio_seg){host, d->addr, d->len};
    if (writable) {
        req->nin++;
        req->in_len += d->len;
    } else {
        req->nout++;
        req->out_len += d->len;
    }
    return true;
}

/* Walks the chain at head into req (2.7.5, 2.7.5.3). Every step is bounded: a table of n
 * descriptors yields at most n of them, so a loop ends as "chain too long". */
static bool walk_chain(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq, uint16_t head,
                       struct coremu_virtio_req *req)
{
    const struct coremu_virtq_desc *table = vq->desc;
    uint32_t table_size = vq->size;
    uint32_t idx = head;
    uint32_t count = 0;
    bool in_indirect = false;

    req->head = head;
    req->nout = req->nin = 0;
    req->out_len = req->in_len = 0;
    for (;;) {
        struct coremu_virtq_desc d;
        /* One copy; every check below looks at it, whatever the guest writes meanwhile. */
        memcpy(&d, &table[idx], sizeof(d));
        if (++count > table_size) {
            coremu_virtio_set_broken(dev,
                                     "descriptor chain at %u longer than its table (%u): "
                                     "a loop?",
                                     head, table_size);
            return false;
        }
        if ((d.flags & COREMU_VIRTQ_DESC_F_INDIRECT) != 0) {
            if (!coremu_virtio_has_feature(dev, COREMU_VIRTIO_F_INDIRECT_DESC)) {
                coremu_virtio_set_broken(dev, "indirect descriptor without the feature");
                return false;
            }
            if (in_indirect) {
                coremu_virtio_set_broken(dev, "indirect descriptor inside an indirect table");
                return false;
            }
            if ((d.flags & COREMU_VIRTQ_DESC_F_NEXT) != 0) {
                coremu_virtio_set_broken(dev, "indirect descriptor with NEXT set");
                return false;
            }
            if (d.len == 0 || d.len % sizeof(struct coremu_virtq_desc) != 0 ||
                d.len / sizeof(struct coremu_virtq_desc) > COREMU_VIRTIO_MAX_SEGS) {
                coremu_virtio_set_broken(dev, "indirect table of %u bytes", d.len);
                return false;
            }
            table = virtio_ram(dev, d.addr, d.len, false, 1);
            if (table == NULL) {
                coremu_virtio_set_broken(dev, "indirect table 0x%llx + %u is not in guest RAM",
                                         (unsigned long long)d.addr, d.len);
                return false;
            }
            table_size = d.len / (uint32_t)sizeof(struct coremu_virtq_desc);
            idx = 0;
            count = 0;
            in_indirect = true;
            continue;
        }
        if (!req_add(dev, req, &d)) {
            return false;
        }
        if ((d.flags & COREMU_VIRTQ_DESC_F_NEXT) == 0) {
            return true;
        }
        if (d.next >= table_size) {
            coremu_virtio_set_broken(dev, "next index %u outside a table of %u", d.next,
                                     table_size);
            return false;
        }
        idx = d.next;
    }
}

/* How many chains the driver made available that the device has not taken. -1 (broken) when
 * the index moved by more than the queue holds. */
static int avail_pending(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq)
{
    /* Acquire: the ring entry and the descriptors it names were written before the index. */
    uint16_t idx = ring_load(&vq->avail[AVAIL_IDX], __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(idx - vq->last_avail);
    if (pending > vq->size) {
        coremu_virtio_set_broken(dev, "available index jumped from %u to %u (queue size %u)",
                                 vq->last_avail, idx, vq->size);
        return -1;
    }
    return pending;
}

int coremu_virtqueue_pop(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq,
                         struct coremu_virtio_req *req)
{
    if (dev->broken || !vq->ready) {
        return dev->broken ? -1 : 0;
    }
    int pending = avail_pending(dev, vq);
    if (pending < 0) {
        return -1;
    }
    if (pending == 0) {
        if (!coremu_virtio_has_feature(dev, COREMU_VIRTIO_F_EVENT_IDX)) {
            return 0;
        }
        /* Ask for a notification at the next entry, then look again: a driver that published
         * one before it could see avail_event skipped its notify (2.7.10). The fence orders
         * the avail_event store before the index load, pairing with the driver's. */
        __atomic_store_n(used_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
        virtio_dma_written(dev, vq->used_gpa + USED_RING_OFF + USED_ELEM_SIZE * vq->size, 2);
        coremu_atomic_fence();
        pending = avail_pending(dev, vq);
        if (pending <= 0) {
            return pending;
        }
    }
    uint16_t head = ring_load(&vq->avail[AVAIL_RING + vq->last_avail % vq->size], __ATOMIC_RELAXED);
    vq->last_avail++;
    if (head >= vq->size) {
        coremu_virtio_set_broken(dev, "available ring names descriptor %u of %u", head, vq->size);
        return -1;
    }
    return walk_chain(dev, vq, head, req) ? 1 : -1;
}

void coremu_virtqueue_push(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq,
                           const struct coremu_virtio_req *req, uint32_t written)
{
    if (!vq->ready) {
        return; /* reset meanwhile: the ring is gone */
    }
    if (written > req->in_len) {
        written = (uint32_t)req->in_len;
    }
    /* The bytes written so far carry no reservation any more. */
    uint64_t left = written;
    for (unsigned i = req->nout; i < req->nout + req->nin && left > 0; i++) {
        uint64_t n = req->seg[i].len < left ? req->seg[i].len : left;
        virtio_dma_written(dev, req->seg[i].gpa, n);
        left -= n;
    }
    uint32_t slot = vq->used_idx % vq->size;
    uint8_t *elem = vq->used + USED_RING_OFF + USED_ELEM_SIZE * slot;
    __atomic_store_n((uint32_t *)elem, (uint32_t)req->head, __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(elem + 4), written, __ATOMIC_RELAXED);
    virtio_dma_written(dev, vq->used_gpa + USED_RING_OFF + USED_ELEM_SIZE * slot, USED_ELEM_SIZE);
    vq->used_idx++;
    /* Release: the driver that sees the index sees the entry and the data (2.7.14). */
    __atomic_store_n((uint16_t *)(vq->used + USED_IDX_OFF), vq->used_idx, __ATOMIC_RELEASE);
    virtio_dma_written(dev, vq->used_gpa + USED_IDX_OFF, 2);
}

bool coremu_virtqueue_should_interrupt(struct coremu_virtio_device *dev,
                                       struct coremu_virtqueue *vq)
{
    if (!vq->ready) {
        return false;
    }
    /* The used index store before the driver's flags/used_event load; pairs with the driver's
     * full barrier between writing used_event and reading the used index. */
    coremu_atomic_fence();
    uint16_t new_idx = vq->used_idx;
    uint16_t old_idx = vq->signalled_used;
    bool valid = vq->signalled_valid;
    vq->signalled_used = new_idx;
    vq->signalled_valid = true;
    if (new_idx == old_idx) {
        return false; /* nothing used since the last decision (a kick that found no work) */
    }
    if (!coremu_virtio_has_feature(dev, COREMU_VIRTIO_F_EVENT_IDX)) {
        uint16_t flags = ring_load(&vq->avail[0], __ATOMIC_RELAXED);
        return (flags & COREMU_VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    }
    if (!valid) {
        return true;
    }
    /* 2.7.10: interrupt when used_event lies in [old, new). */
    uint16_t event = ring_load(avail_used_event(vq), __ATOMIC_RELAXED);
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

void coremu_virtqueue_interrupt(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq)
{
    if (!coremu_virtqueue_should_interrupt(dev, vq)) {
        return;
    }
    if (dev->transport.queue_interrupt != NULL) {
        dev->transport.queue_interrupt(dev->transport.opaque, (unsigned)(vq - dev->vq));
    } else if (dev->transport.interrupt != NULL) {
        dev->transport.interrupt(dev->transport.opaque, COREMU_VIRTIO_ISR_QUEUE);
    }
}

void coremu_virtqueue_serve(struct coremu_virtio_device *dev, unsigned index,
                            struct coremu_virtio_req *req,
                            uint32_t (*serve)(struct coremu_virtio_device *dev,
                                              const struct coremu_virtio_req *req))
{
    struct coremu_virtqueue *vq = &dev->vq[index];
    while (coremu_virtqueue_pop(dev, vq, req) == 1) {
        uint32_t written = serve(dev, req);
        if (dev->broken) {
            return;
        }
        coremu_virtqueue_push(dev, vq, req, written);
    }
    coremu_virtqueue_interrupt(dev, vq);
}

/* Copies between buf and the segments [first, first + count) of req, starting offset bytes
 * into them. */
static size_t req_copy(const struct coremu_virtio_req *req, unsigned first, unsigned count,
                       uint64_t offset, void *buf, size_t len, bool to_guest)
{
    size_t done = 0;
    for (unsigned i = first; i < first + count && done < len; i++) {
        const struct coremu_virtio_seg *s = &req->seg[i];
        if (offset >= s->len) {
            offset -= s->len;
            continue;
        }
        size_t n = (size_t)(s->len - offset);
        if (n > len - done) {
            n = len - done;
        }
        if (to_guest) {
            memcpy(s->host + offset, (const uint8_t *)buf + done, n);
        } else {
            memcpy((uint8_t *)buf + done, s->host + offset, n);
        }
        done += n;
        offset = 0;
    }
    return done;
}

size_t coremu_virtio_req_read(const struct coremu_virtio_req *req, uint64_t offset, void *buf,
                              size_t len)
{
    return req_copy(req, 0, req->nout, offset, buf, len, false);
}

size_t coremu_virtio_req_write(const struct coremu_virtio_req *req, uint64_t offset,
                               const void *buf, size_t len)
{
    return req_copy(req, req->nout, req->nin, offset, (void *)buf, len, true);
}
