/*
 * coremu — the virtio 1.x device core: split virtqueues and the device model that transports
 * (virtio-mmio, later virtio-pci) drive, independent of any transport or guest architecture.
 *
 * What lives here (OASIS virtio 1.1/1.2, sections 2 and 3): the device status, feature
 * negotiation (VIRTIO_F_VERSION_1 is always offered and required; VIRTIO_F_EVENT_IDX and
 * VIRTIO_RING_F_INDIRECT_DESC always offered), the split virtqueue (descriptor table,
 * available ring, used ring), and requests: a descriptor chain popped as the segments of guest
 * RAM it names, readable ones first, then writable ones, and pushed back used with the number
 * of bytes the device wrote. Whether the driver wants an interrupt for the used buffers follows
 * the event-index rules (or VIRTQ_AVAIL_F_NO_INTERRUPT without them).
 *
 * A device model (virtio-blk, virtio-rng...) fills a struct coremu_virtio_device_ops and embeds
 * or points at a struct coremu_virtio_device; a transport maps its registers onto the
 * coremu_virtio_* calls below and tells the device how to interrupt the driver
 * (struct coremu_virtio_transport).
 *
 * Guest memory. Every address a driver gives (ring addresses, descriptors, indirect tables) is
 * checked against guest RAM through the address space (coremu_as_ram_ptr) before the device
 * touches it; segments are host pointers into RAM that were checked for their whole length.
 * A driver that breaks the rules (an address outside RAM, a length that wraps, a chain that
 * loops or is longer than the queue, a bad next index, an indirect table inside an indirect
 * table, an available index that moved by more than the queue size, a readable descriptor after
 * a writable one) makes the device "broken": it sets DEVICE_NEEDS_RESET in its status, tells the
 * driver through a configuration change interrupt once the driver is running, logs once under
 * -d guest_errors, and processes nothing more until the driver resets it. The device never
 * reads or writes host memory outside guest RAM, never crashes and never loops on a bad chain:
 * every walk is bounded by the queue size.
 *
 * Threads and locks. There is no global lock: each device has one mutex, lock, that guards
 * every field below marked "lock". The transport takes it around each register access (its
 * MMIO region is COREMU_MMIO_LOCKLESS), so the device's queue_notify handler runs on the thread
 * of the core that wrote the notify register, with the lock held; a device that completes
 * requests on another thread (a worker, the I/O thread) takes the lock to push them. The rings
 * themselves are shared with the guest's cores, which run concurrently: the device reads the
 * available index with acquire ordering (pairing with the driver's write barrier before it
 * publishes an entry), publishes used entries with a release store of the used index, and puts
 * a full fence between publishing the used index (or its avail_event) and reading the driver's
 * used_event (or available index), as the event-index protocol requires. Descriptors are copied
 * once and then checked, so a guest changing them meanwhile changes nothing the checks saw.
 *
 * Host byte order is little-endian (as everywhere in coremu), which is virtio 1.x's byte order.
 */
#ifndef COREMU_VIRTIO_H
#define COREMU_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_as;
struct coremu_xmon;

/* Device status bits (2.1). */
#define COREMU_VIRTIO_STATUS_ACKNOWLEDGE 1u
#define COREMU_VIRTIO_STATUS_DRIVER      2u
#define COREMU_VIRTIO_STATUS_DRIVER_OK   4u
#define COREMU_VIRTIO_STATUS_FEATURES_OK 8u
#define COREMU_VIRTIO_STATUS_NEEDS_RESET 64u
#define COREMU_VIRTIO_STATUS_FAILED      128u

/* Reserved feature bits (6) that this core implements. */
#define COREMU_VIRTIO_F_INDIRECT_DESC 28
#define COREMU_VIRTIO_F_EVENT_IDX     29
#define COREMU_VIRTIO_F_VERSION_1     32

/* Interrupt status bits (4.2.2 InterruptStatus; the same meaning as PCI's ISR). */
#define COREMU_VIRTIO_ISR_QUEUE  1u /* used buffers were added to some queue */
#define COREMU_VIRTIO_ISR_CONFIG 2u /* the configuration changed (or the device broke) */

/* Descriptor flags (2.7.5) and ring flags (2.7.6, 2.7.8). */
#define COREMU_VIRTQ_DESC_F_NEXT          1u
#define COREMU_VIRTQ_DESC_F_WRITE         2u
#define COREMU_VIRTQ_DESC_F_INDIRECT      4u
#define COREMU_VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define COREMU_VIRTQ_USED_F_NO_NOTIFY     1u

/* Largest queue a device may offer (split queues: a power of two up to 32768). */
#define COREMU_VIRTIO_QUEUE_MAX 1024u
/* Queues per device. */
#define COREMU_VIRTIO_MAX_QUEUES 8u
/* Segments per request, direct and indirect descriptors together: a longer chain is a broken
 * driver (a direct chain is also limited by the queue size, as the spec requires). */
#define COREMU_VIRTIO_MAX_SEGS 1024u
/* Largest configuration space a device may have (bytes). */
#define COREMU_VIRTIO_CONFIG_MAX 256u

/* One descriptor as it lies in guest memory (2.7.5). */
struct coremu_virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* One segment of a request: len bytes of guest RAM at guest physical gpa, host address host
 * (checked for the whole length when the chain was popped; a 0-length descriptor is skipped). */
struct coremu_virtio_seg {
    uint8_t *host;
    uint64_t gpa;
    uint32_t len;
};

/* A popped descriptor chain. seg[0, nout) are the device-readable segments in chain order,
 * seg[nout, nout + nin) the device-writable ones; out_len and in_len their total lengths. The
 * caller owns the struct (it is large: allocate it once per queue, not on a core's stack). */
struct coremu_virtio_req {
    uint16_t head; /* the chain's head index, which the used entry names */
    unsigned nout, nin;
    uint64_t out_len, in_len;
    struct coremu_virtio_seg seg[COREMU_VIRTIO_MAX_SEGS];
};

struct coremu_virtio_device;

/* A split virtqueue. The ring addresses, size and ready are the driver's, written through the
 * transport (lock); the rest is the device's own state (lock). */
struct coremu_virtqueue {
    uint16_t size;     /* lock: QueueNum (a power of two, <= size_max) */
    uint16_t size_max; /* immutable: what the device offers (0: no such queue) */
    bool ready;        /* lock: QueueReady, after the rings were checked */
    uint64_t desc_gpa, avail_gpa, used_gpa; /* lock: QueueDesc/Driver/Device */
    /* lock: host views of the rings, valid while ready (guest RAM never moves) */
    struct coremu_virtq_desc *desc;
    uint16_t *avail;         /* flags, idx, ring[size], used_event */
    uint8_t *used;           /* flags, idx, {id, len}[size], avail_event */
    uint16_t last_avail;     /* lock: the next available entry the device will take */
    uint16_t used_idx;       /* lock: the device's copy of used->idx */
    uint16_t signalled_used; /* lock: used_idx when the driver was last considered for an
                              * interrupt (the event-index "old" value) */
    bool signalled_valid;    /* lock: signalled_used means something (false after reset) */
};

/* What a device model provides. Every hook runs with the device's lock held. */
struct coremu_virtio_device_ops {
    const char *name;   /* "virtio-blk" (log messages) */
    uint32_t device_id; /* 2: block, 4: entropy... (5) */
    /* The driver kicked queue index (< COREMU_VIRTIO_MAX_QUEUES, ready, device running and not
     * broken). Pops requests with coremu_virtqueue_pop until it returns 0. NULL: the core
     * serves the queue itself, calling serve for each request (coremu_virtqueue_serve). */
    void (*queue_notify)(struct coremu_virtio_device *dev, unsigned index);
    /* One request of a device whose queue_notify is NULL: returns the bytes it wrote into the
     * request's writable segments (or breaks the device). */
    uint32_t (*serve)(struct coremu_virtio_device *dev, const struct coremu_virtio_req *req);
    /* A configuration space write of size bytes at offset (inside config_size); the generic
     * code has not stored it. May be NULL: writes are ignored. */
    void (*config_write)(struct coremu_virtio_device *dev, uint32_t offset, unsigned size,
                         uint64_t value);
    /* The device is being reset (driver wrote status 0, or machine reset): the generic state
     * (status, features, queues) is reset by the core afterwards. May be NULL. */
    void (*reset)(struct coremu_virtio_device *dev);
    /* Frees the device model, which owns dev (the transport is gone, nothing runs). Called
     * without the lock. May be NULL. */
    void (*free)(struct coremu_virtio_device *dev);
};

/* How the device reaches its driver: set by the transport before the machine runs. */
struct coremu_virtio_transport {
    /* Raise the interrupt for the given COREMU_VIRTIO_ISR_* bits; called with the device's
     * lock held, on whichever thread completed the work. */
    void (*interrupt)(void *opaque, uint32_t isr_bits);
    void *opaque;
    /* May be NULL. A transport with an interrupt per queue (virtio-pci's MSI-X vectors) sets
     * it: used buffers for queue index then call it instead of interrupt(ISR_QUEUE). Called as
     * interrupt is. */
    void (*queue_interrupt)(void *opaque, unsigned index);
};

struct coremu_virtio_device {
    /* Immutable after coremu_virtio_device_init. */
    const struct coremu_virtio_device_ops *ops;
    void *opaque;             /* the device model's own state */
    struct coremu_as *as;     /* guest memory for DMA */
    struct coremu_xmon *xmon; /* device writes break reservations (NULL: none) */
    uint64_t host_features;   /* offered features (always with VERSION_1) */
    unsigned nqueues;
    struct coremu_virtio_transport transport; /* set once by the transport, before running */

    pthread_mutex_t lock;
    uint8_t status;             /* lock */
    uint64_t driver_features;   /* lock: what the driver wrote */
    uint32_t config_generation; /* lock: bumped by coremu_virtio_config_changed */
    uint32_t config_size;       /* immutable: bytes of config that the device model fills */
    uint8_t config[COREMU_VIRTIO_CONFIG_MAX]; /* lock: little-endian, the device's layout */
    bool broken;                              /* lock: a driver error was seen; cleared by reset */
    struct coremu_virtqueue vq[COREMU_VIRTIO_MAX_QUEUES];
    struct coremu_virtio_req req; /* lock: the request ops->serve is serving */
};

/* Initialises dev: nqueues queues of the given sizes (powers of two, <= COREMU_VIRTIO_QUEUE_MAX),
 * features offered = device_features | VERSION_1 | EVENT_IDX | INDIRECT_DESC, config_size
 * bytes of config (<= COREMU_VIRTIO_CONFIG_MAX, zeroed: the device fills dev->config). 0, or
 * -EINVAL on bad arguments. xmon may be NULL. */
int coremu_virtio_device_init(struct coremu_virtio_device *dev,
                              const struct coremu_virtio_device_ops *ops, void *opaque,
                              struct coremu_as *as, struct coremu_xmon *xmon,
                              uint64_t device_features, unsigned nqueues,
                              const uint16_t *queue_sizes, uint32_t config_size);
void coremu_virtio_device_destroy(struct coremu_virtio_device *dev);

/* ---- What a transport calls (with dev->lock held) ------------------------------------------ */

/* The 32 feature bits of word sel (0: bits 0-31, 1: 32-63; others read 0). */
uint32_t coremu_virtio_host_features(const struct coremu_virtio_device *dev, uint32_t sel);
/* The driver writes its features word sel; ignored once FEATURES_OK is set. */
void coremu_virtio_set_driver_features(struct coremu_virtio_device *dev, uint32_t sel,
                                       uint32_t value);
/* The driver writes the status: 0 resets the device; FEATURES_OK is kept only when the
 * features are acceptable (a subset of the offered ones, with VERSION_1). */
void coremu_virtio_set_status(struct coremu_virtio_device *dev, uint8_t status);
/* Device reset (status 0, or a machine reset): the model's hook, then status, features,
 * queues and brokenness. */
void coremu_virtio_reset(struct coremu_virtio_device *dev);
/* QueueReady: checks that queue index's size and rings lie in guest RAM with the spec's
 * alignment and makes it ready; a bad queue breaks the device. ready false disables it. */
void coremu_virtio_queue_set_ready(struct coremu_virtio_device *dev, unsigned index, bool ready);
/* QueueNotify: runs the model's queue_notify when the queue may be processed. */
void coremu_virtio_queue_notify(struct coremu_virtio_device *dev, unsigned index);
/* Configuration space access of 1, 2, 4 or 8 bytes at offset; reads outside config_size read
 * 0, writes there are ignored. */
uint64_t coremu_virtio_config_read(const struct coremu_virtio_device *dev, uint32_t offset,
                                   unsigned size);
void coremu_virtio_config_write(struct coremu_virtio_device *dev, uint32_t offset, unsigned size,
                                uint64_t value);
/* Whether the negotiated features include bit. */
bool coremu_virtio_has_feature(const struct coremu_virtio_device *dev, unsigned bit);

/* ---- What a device model calls (with dev->lock held) --------------------------------------- */

/* Takes the next available chain of queue vq into req. 1: a request; 0: none left (with
 * EVENT_IDX, the device has asked to be notified of the next one and checked again after its
 * fence); -1: the chain was malformed and the device is now broken (nothing to push). */
int coremu_virtqueue_pop(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq,
                         struct coremu_virtio_req *req);
/* Returns req to the driver as used, with written = bytes the device wrote into its writable
 * segments (clamped to in_len), and breaks the written bytes' exclusive reservations. */
void coremu_virtqueue_push(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq,
                           const struct coremu_virtio_req *req, uint32_t written);
/* After one or more pushes: whether the driver asked to be interrupted for them (event index
 * or VIRTQ_AVAIL_F_NO_INTERRUPT), remembering that it was considered. Exposed for tests;
 * devices call coremu_virtqueue_interrupt. */
bool coremu_virtqueue_should_interrupt(struct coremu_virtio_device *dev,
                                       struct coremu_virtqueue *vq);
/* After one or more pushes: interrupts the driver if it wants to be. */
void coremu_virtqueue_interrupt(struct coremu_virtio_device *dev, struct coremu_virtqueue *vq);

/* What most queue_notify handlers do: pops every available chain of queue index into req, has
 * serve handle it (returning the bytes it wrote to the writable segments), pushes it used, and
 * then interrupts the driver if it asked to be. Stops early when serve broke the device (the
 * chain is then not pushed). */
void coremu_virtqueue_serve(struct coremu_virtio_device *dev, unsigned index,
                            struct coremu_virtio_req *req,
                            uint32_t (*serve)(struct coremu_virtio_device *dev,
                                              const struct coremu_virtio_req *req));

/* Copies up to len bytes of req's readable segments, starting offset bytes in, into buf;
 * returns how many it copied. */
size_t coremu_virtio_req_read(const struct coremu_virtio_req *req, uint64_t offset, void *buf,
                              size_t len);
/* Copies up to len bytes from buf into req's writable segments, starting offset bytes in;
 * returns how many it copied. The caller reports the bytes written to coremu_virtqueue_push. */
size_t coremu_virtio_req_write(const struct coremu_virtio_req *req, uint64_t offset,
                               const void *buf, size_t len);

/* The device model found the driver at fault (a malformed request): break the device. fmt is
 * logged once (under -d guest_errors) with the device's name. */
void coremu_virtio_set_broken(struct coremu_virtio_device *dev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The device model changed its configuration: bump the generation, interrupt the driver. */
void coremu_virtio_config_changed(struct coremu_virtio_device *dev);

#endif /* COREMU_VIRTIO_H */
