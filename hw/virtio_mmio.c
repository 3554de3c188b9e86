/*
 * coremu — the virtio-mmio transport, version 2 (virtio 1.x, 4.2.2). See virtio_mmio.h.
 */
#include "config.h"

#include <stdlib.h>

#include <coremu/log.h>

#include "virtio_mmio.h"

/* Register offsets (4.2.2). */
enum {
    REG_MAGIC = 0x000,
    REG_VERSION = 0x004,
    REG_DEVICE_ID = 0x008,
    REG_VENDOR_ID = 0x00c,
    REG_DEVICE_FEATURES = 0x010,
    REG_DEVICE_FEATURES_SEL = 0x014,
    REG_DRIVER_FEATURES = 0x020,
    REG_DRIVER_FEATURES_SEL = 0x024,
    REG_QUEUE_SEL = 0x030,
    REG_QUEUE_NUM_MAX = 0x034,
    REG_QUEUE_NUM = 0x038,
    REG_QUEUE_READY = 0x044,
    REG_QUEUE_NOTIFY = 0x050,
    REG_INTERRUPT_STATUS = 0x060,
    REG_INTERRUPT_ACK = 0x064,
    REG_STATUS = 0x070,
    REG_QUEUE_DESC_LOW = 0x080,
    REG_QUEUE_DESC_HIGH = 0x084,
    REG_QUEUE_DRIVER_LOW = 0x090,
    REG_QUEUE_DRIVER_HIGH = 0x094,
    REG_QUEUE_DEVICE_LOW = 0x0a0,
    REG_QUEUE_DEVICE_HIGH = 0x0a4,
    REG_SHM_SEL = 0x0ac,
    REG_SHM_LEN_LOW = 0x0b0,
    REG_SHM_LEN_HIGH = 0x0b4,
    REG_SHM_BASE_LOW = 0x0b8,
    REG_SHM_BASE_HIGH = 0x0bc,
    REG_CONFIG_GENERATION = 0x0fc,
    REG_CONFIG = 0x100,
};

struct virtio_mmio {
    const char *name;                 /* immutable */
    struct coremu_virtio_device *dev; /* immutable; NULL: an empty slot */
    struct coremu_irq_line irq;       /* immutable */
    /* The rest under dev->lock. */
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint32_t queue_sel;
    uint32_t isr; /* InterruptStatus; the line is high while it is not 0 */
};

/* The device core's interrupt hook: called with dev->lock held. */
static void mmio_interrupt(void *opaque, uint32_t isr_bits)
{
    struct virtio_mmio *m = opaque;
    uint32_t old = m->isr;
    m->isr |= isr_bits;
    if (old == 0 && m->isr != 0) {
        coremu_irq_set(&m->irq, true);
    }
}

/* Transport state back to reset, with the device's (dev->lock held). */
static void mmio_reset_locked(struct virtio_mmio *m)
{
    coremu_virtio_reset(m->dev);
    m->device_features_sel = 0;
    m->driver_features_sel = 0;
    m->queue_sel = 0;
    if (m->isr != 0) {
        m->isr = 0;
        coremu_irq_set(&m->irq, false);
    }
}

static struct coremu_virtqueue *mmio_queue(struct virtio_mmio *m)
{
    return m->queue_sel < m->dev->nqueues ? &m->dev->vq[m->queue_sel] : NULL;
}

static uint32_t mmio_read_reg(struct virtio_mmio *m, uint64_t offset)
{
    struct coremu_virtio_device *dev = m->dev;
    struct coremu_virtqueue *vq = mmio_queue(m);
    switch (offset) {
    case REG_DEVICE_ID:
        return dev->ops->device_id;
    case REG_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case REG_DEVICE_FEATURES:
        return coremu_virtio_host_features(dev, m->device_features_sel);
    case REG_QUEUE_NUM_MAX:
        return vq != NULL ? vq->size_max : 0;
    case REG_QUEUE_READY:
        return vq != NULL && vq->ready;
    case REG_INTERRUPT_STATUS:
        return m->isr;
    case REG_STATUS:
        return dev->status;
    case REG_SHM_LEN_LOW:
    case REG_SHM_LEN_HIGH:
    case REG_SHM_BASE_LOW:
    case REG_SHM_BASE_HIGH:
        return 0xffffffffu; /* no shared memory regions: length -1 */
    case REG_CONFIG_GENERATION:
        return dev->config_generation;
    default:
        return 0;
    }
}

/* A 32-bit half of a queue address; only while the queue is not ready (4.2.2.2). */
static void set_half(uint64_t *addr, bool high, uint32_t value)
{
    unsigned shift = high ? 32 : 0;
    *addr = (*addr & ~(0xffffffffull << shift)) | ((uint64_t)value << shift);
}

/* The queue address that a QueueDesc/Driver/Device register (either half) sets. */
static uint64_t *queue_addr(struct coremu_virtqueue *vq, uint64_t offset)
{
    switch (offset & ~4ull) {
    case REG_QUEUE_DESC_LOW:
        return &vq->desc_gpa;
    case REG_QUEUE_DRIVER_LOW:
        return &vq->avail_gpa;
    default:
        return &vq->used_gpa;
    }
}

static void mmio_write_reg(struct virtio_mmio *m, uint64_t offset, uint32_t value)
{
    struct coremu_virtio_device *dev = m->dev;
    struct coremu_virtqueue *vq = mmio_queue(m);
    bool can_setup = vq != NULL && !vq->ready;
    switch (offset) {
    case REG_DEVICE_FEATURES_SEL:
        m->device_features_sel = value;
        break;
    case REG_DRIVER_FEATURES:
        coremu_virtio_set_driver_features(dev, m->driver_features_sel, value);
        break;
    case REG_DRIVER_FEATURES_SEL:
        m->driver_features_sel = value;
        break;
    case REG_QUEUE_SEL:
        m->queue_sel = value;
        break;
    case REG_QUEUE_NUM:
        if (can_setup) {
            vq->size = (uint16_t)(value > 0xffff ? 0 : value); /* checked at QueueReady */
        }
        break;
    case REG_QUEUE_READY:
        if (vq != NULL) {
            coremu_virtio_queue_set_ready(dev, m->queue_sel, (value & 1) != 0);
        }
        break;
    case REG_QUEUE_NOTIFY:
        coremu_virtio_queue_notify(dev, value & 0xffff);
        break;
    case REG_INTERRUPT_ACK:
        if ((m->isr & value) != 0) {
            m->isr &= ~value;
            if (m->isr == 0) {
                coremu_irq_set(&m->irq, false);
            }
        }
        break;
    case REG_STATUS:
        if ((value & 0xff) == 0) {
            mmio_reset_locked(m);
        } else {
            coremu_virtio_set_status(dev, (uint8_t)value);
        }
        break;
    case REG_QUEUE_DESC_LOW:
    case REG_QUEUE_DESC_HIGH:
    case REG_QUEUE_DRIVER_LOW:
    case REG_QUEUE_DRIVER_HIGH:
    case REG_QUEUE_DEVICE_LOW:
    case REG_QUEUE_DEVICE_HIGH:
        if (can_setup) {
            set_half(queue_addr(vq, offset), (offset & 4) != 0, value);
        }
        break;
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
                   "%s: write 0x%x to read-only or unknown register 0x%llx\n", m->name, value,
                   (unsigned long long)offset);
        break;
    }
}

static int mmio_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct virtio_mmio *m = opaque;
    if (offset == REG_MAGIC || offset == REG_VERSION || m->dev == NULL) {
        /* Constant: no lock (an empty slot has nothing else). */
        *value = offset == REG_MAGIC     ? VIRTIO_MMIO_MAGIC
                 : offset == REG_VERSION ? VIRTIO_MMIO_VERSION
                                         : 0;
        return size == 4 ? COREMU_MEM_OK : COREMU_MEM_BAD_SIZE;
    }
    if (offset < REG_CONFIG && size != 4) {
        return COREMU_MEM_BAD_SIZE; /* 4.2.2.2: registers are 32-bit */
    }
    pthread_mutex_lock(&m->dev->lock);
    if (offset >= REG_CONFIG) {
        *value = coremu_virtio_config_read(m->dev, (uint32_t)(offset - REG_CONFIG), size);
    } else {
        *value = mmio_read_reg(m, offset);
    }
    pthread_mutex_unlock(&m->dev->lock);
    return COREMU_MEM_OK;
}

static int mmio_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct virtio_mmio *m = opaque;
    if (m->dev == NULL) {
        return COREMU_MEM_OK;
    }
    if (offset < REG_CONFIG && size != 4) {
        return COREMU_MEM_BAD_SIZE;
    }
    pthread_mutex_lock(&m->dev->lock);
    if (offset >= REG_CONFIG) {
        coremu_virtio_config_write(m->dev, (uint32_t)(offset - REG_CONFIG), size, value);
    } else {
        mmio_write_reg(m, offset, (uint32_t)value);
    }
    pthread_mutex_unlock(&m->dev->lock);
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .sizes = 1 | 2 | 4, /* registers 4; the configuration space any width up to 4 */
};

struct virtio_mmio *virtio_mmio_new(const char *name, struct coremu_virtio_device *dev,
                                    const struct coremu_irq_line *irq)
{
    struct virtio_mmio *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return NULL;
    }
    m->name = name;
    m->dev = dev;
    if (irq != NULL) {
        m->irq = *irq;
    }
    if (dev != NULL) {
        dev->transport = (struct coremu_virtio_transport){mmio_interrupt, m};
    }
    return m;
}

int virtio_mmio_map(struct virtio_mmio *m, struct coremu_as *as, uint64_t base, uint64_t size)
{
    return coremu_as_add_mmio(as, m->name, base, size, &mmio_ops, m, COREMU_MMIO_LOCKLESS);
}

void virtio_mmio_reset(struct virtio_mmio *m)
{
    if (m->dev == NULL) {
        return;
    }
    pthread_mutex_lock(&m->dev->lock);
    mmio_reset_locked(m);
    pthread_mutex_unlock(&m->dev->lock);
}

void virtio_mmio_free(struct virtio_mmio *m)
{
    if (m == NULL) {
        return;
    }
    if (m->dev != NULL && m->dev->ops->free != NULL) {
        m->dev->ops->free(m->dev);
    }
    free(m);
}
