/*
 * coremu — the virtio-pci transport, modern (virtio 1.x, 4.1). See virtio_pci.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/log.h>

#include "virtio_pci.h"

/* Common configuration fields (4.1.4.3), offsets in the COMMON window. */
enum {
    CC_DEVICE_FEATURE_SELECT = 0x00,
    CC_DEVICE_FEATURE = 0x04,
    CC_DRIVER_FEATURE_SELECT = 0x08,
    CC_DRIVER_FEATURE = 0x0c,
    CC_CONFIG_MSIX_VECTOR = 0x10,
    CC_NUM_QUEUES = 0x12,
    CC_DEVICE_STATUS = 0x14,
    CC_CONFIG_GENERATION = 0x15,
    CC_QUEUE_SELECT = 0x16,
    CC_QUEUE_SIZE = 0x18,
    CC_QUEUE_MSIX_VECTOR = 0x1a,
    CC_QUEUE_ENABLE = 0x1c,
    CC_QUEUE_NOTIFY_OFF = 0x1e,
    CC_QUEUE_DESC = 0x20,
    CC_QUEUE_DRIVER = 0x28,
    CC_QUEUE_DEVICE = 0x30,
    CC_END = 0x38, /* the fields after this need features the transport does not offer */
};

/* MSI-X (PCI Local Bus 3.0, 6.8.2). */
#define MSIX_CAP_ID          0x11u
#define MSIX_CONTROL_ENABLE  0x8000u
#define MSIX_CONTROL_MASKALL 0x4000u
#define MSIX_ENTRY_SIZE      16u
#define MSIX_VECTOR_MASKED   1u
#define MSIX_MAX_VECTORS     (COREMU_VIRTIO_MAX_QUEUES + 1)
#define PCI_VENDOR_CAP_ID    0x09u
#define PCI_COMMAND_INTX_OFF 0x400u

/* Where the writable fields of the PCI_CFG capability sit. */
#define PCICFG_BAR    (VIRTIO_PCI_CAP_PCICFG_AT + 4)
#define PCICFG_OFFSET (VIRTIO_PCI_CAP_PCICFG_AT + 8)
#define PCICFG_LENGTH (VIRTIO_PCI_CAP_PCICFG_AT + 12)
#define PCICFG_DATA   (VIRTIO_PCI_CAP_PCICFG_AT + 16)
#define MSIX_CONTROL  (VIRTIO_PCI_CAP_MSIX_AT + 2)

struct msix_entry {
    uint32_t addr_lo, addr_hi, data, control;
};

struct virtio_pci {
    /* Immutable after virtio_pci_new. */
    const char *name;
    struct coremu_virtio_device *dev;
    struct pci_host *host;
    struct pci_function *fn;
    struct coremu_as *mem;
    struct coremu_irq_line intx;
    struct virtio_pci_msi_sink msi;
    unsigned nvectors;        /* MSI-X table entries: queues + 1 */
    uint8_t cfg_reset[0x100]; /* configuration space 0x40-0xFF after reset */
    char bar_name[2][48];     /* region names of BAR1 and BAR4 */

    /* Written and read only under the PCI host's lock (configuration callbacks, header_written;
     * virtio_pci_reset while nothing runs). */
    uint8_t cfg[0x100]; /* the capabilities as the guest sees them (0x40-0xFF) */
    uint64_t mapped[6]; /* where BAR n is mapped now, or PCI_BAR_UNMAPPED */

    /* Under dev->lock (taken by every BAR access, and inside the host's lock by the
     * configuration callbacks that change them). */
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint16_t queue_sel;
    uint16_t config_vector;                          /* config_msix_vector */
    uint16_t queue_vector[COREMU_VIRTIO_MAX_QUEUES]; /* queue_msix_vector */
    uint8_t isr;                                     /* ISR status (INTx mode only) */
    bool intx_level;                                 /* what INTA# is driven to now */
    bool intx_disabled;    /* the command register's INTx-disable bit, copied by header_written */
    uint16_t msix_control; /* MSI-X enable and function mask, copied from cfg */
    struct msix_entry msix[MSIX_MAX_VECTORS];
    uint32_t pba; /* pending bits, one per vector */
};

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint32_t virtio_pci_class_code(uint32_t device_type)
{
    switch (device_type) {
    case 1:
        return 0x020000; /* network: ethernet */
    case 2:
        return 0x010000; /* block: mass storage, SCSI (what QEMU reports) */
    case 3:
        return 0x078000; /* console: other communication controller */
    default:
        return 0x00ff00;
    }
}

/* ---- interrupts (dev->lock held) ------------------------------------------------------------ */

static bool msix_enabled(const struct virtio_pci *p)
{
    return (p->msix_control & MSIX_CONTROL_ENABLE) != 0;
}

/* INTA# follows the ISR while MSI-X is off and INTx is not disabled. */
static void intx_update(struct virtio_pci *p)
{
    bool level = p->isr != 0 && !p->intx_disabled && !msix_enabled(p);
    if (level != p->intx_level) {
        p->intx_level = level;
        coremu_irq_set(&p->intx, level);
    }
}

static void msix_send(struct virtio_pci *p, unsigned vector)
{
    const struct msix_entry *e = &p->msix[vector];
    uint64_t address = (uint64_t)e->addr_hi << 32 | e->addr_lo;
    if (p->msi.send == NULL) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: MSI-X vector %u: the board has no MSI\n", p->name,
                   vector);
        return;
    }
    p->msi.send(p->msi.opaque, address, e->data);
}

static bool msix_masked(const struct virtio_pci *p, unsigned vector)
{
    return (p->msix_control & MSIX_CONTROL_MASKALL) != 0 ||
           (p->msix[vector].control & MSIX_VECTOR_MASKED) != 0;
}

/* The interrupt of one vector: sent, or pending while masked. NO_VECTOR: nothing. */
static void msix_signal(struct virtio_pci *p, uint16_t vector)
{
    if (vector >= p->nvectors) {
        return;
    }
    if (msix_masked(p, vector)) {
        p->pba |= 1u << vector;
    } else {
        msix_send(p, vector);
    }
}

/* After a mask bit was cleared or MSI-X enabled: the pending vectors now unmasked go out. */
static void msix_flush_pending(struct virtio_pci *p)
{
    if (!msix_enabled(p)) {
        return;
    }
    for (unsigned v = 0; v < p->nvectors; v++) {
        if ((p->pba & (1u << v)) != 0 && !msix_masked(p, v)) {
            p->pba &= ~(1u << v);
            msix_send(p, v);
        }
    }
}

/* The device core's hooks: called with dev->lock held. */
static void pci_interrupt(void *opaque, uint32_t isr_bits)
{
    struct virtio_pci *p = opaque;
    if (msix_enabled(p)) {
        if (isr_bits & COREMU_VIRTIO_ISR_CONFIG) {
            msix_signal(p, p->config_vector);
        }
        if (isr_bits & COREMU_VIRTIO_ISR_QUEUE) {
            for (unsigned q = 0; q < p->dev->nqueues; q++) {
                msix_signal(p, p->queue_vector[q]);
            }
        }
        return;
    }
    p->isr |= (uint8_t)isr_bits;
    intx_update(p);
}

static void pci_queue_interrupt(void *opaque, unsigned index)
{
    struct virtio_pci *p = opaque;
    if (msix_enabled(p)) {
        if (index < COREMU_VIRTIO_MAX_QUEUES) {
            msix_signal(p, p->queue_vector[index]);
        }
        return;
    }
    p->isr |= COREMU_VIRTIO_ISR_QUEUE;
    intx_update(p);
}

/* ---- the common configuration (dev->lock held) ---------------------------------------------- */

static struct coremu_virtqueue *selected_queue(struct virtio_pci *p)
{
    return p->queue_sel < p->dev->nqueues ? &p->dev->vq[p->queue_sel] : NULL;
}

static uint64_t *queue_addr_field(struct coremu_virtqueue *vq, unsigned field)
{
    switch (field) {
    case CC_QUEUE_DESC:
        return &vq->desc_gpa;
    case CC_QUEUE_DRIVER:
        return &vq->avail_gpa;
    default:
        return &vq->used_gpa;
    }
}

/* The field that holds byte off of the common configuration: its offset and size (0: none). */
static unsigned common_field(unsigned off, unsigned *size)
{
    static const struct {
        uint8_t off, size;
    } fields[] = {
        {CC_DEVICE_FEATURE_SELECT, 4}, {CC_DEVICE_FEATURE, 4},
        {CC_DRIVER_FEATURE_SELECT, 4}, {CC_DRIVER_FEATURE, 4},
        {CC_CONFIG_MSIX_VECTOR, 2},    {CC_NUM_QUEUES, 2},
        {CC_DEVICE_STATUS, 1},         {CC_CONFIG_GENERATION, 1},
        {CC_QUEUE_SELECT, 2},          {CC_QUEUE_SIZE, 2},
        {CC_QUEUE_MSIX_VECTOR, 2},     {CC_QUEUE_ENABLE, 2},
        {CC_QUEUE_NOTIFY_OFF, 2},      {CC_QUEUE_DESC, 8},
        {CC_QUEUE_DRIVER, 8},          {CC_QUEUE_DEVICE, 8},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (off >= fields[i].off && off < (unsigned)fields[i].off + fields[i].size) {
            *size = fields[i].size;
            return fields[i].off;
        }
    }
    *size = 0;
    return 0;
}

/* A field's whole value (reads have no side effects). */
static uint64_t common_field_read(struct virtio_pci *p, unsigned field)
{
    struct coremu_virtio_device *dev = p->dev;
    struct coremu_virtqueue *vq = selected_queue(p);
    switch (field) {
    case CC_DEVICE_FEATURE_SELECT:
        return p->device_features_sel;
    case CC_DEVICE_FEATURE:
        return coremu_virtio_host_features(dev, p->device_features_sel);
    case CC_DRIVER_FEATURE_SELECT:
        return p->driver_features_sel;
    case CC_DRIVER_FEATURE:
        return p->driver_features_sel < 2
                   ? (uint32_t)(dev->driver_features >> (32 * p->driver_features_sel))
                   : 0;
    case CC_CONFIG_MSIX_VECTOR:
        return p->config_vector;
    case CC_NUM_QUEUES:
        return dev->nqueues;
    case CC_DEVICE_STATUS:
        return dev->status;
    case CC_CONFIG_GENERATION:
        return (uint8_t)dev->config_generation;
    case CC_QUEUE_SELECT:
        return p->queue_sel;
    case CC_QUEUE_SIZE:
        return vq != NULL ? vq->size : 0;
    case CC_QUEUE_MSIX_VECTOR:
        return vq != NULL ? p->queue_vector[p->queue_sel] : VIRTIO_PCI_NO_VECTOR;
    case CC_QUEUE_ENABLE:
        return vq != NULL && vq->ready;
    case CC_QUEUE_NOTIFY_OFF:
        return vq != NULL ? p->queue_sel : 0;
    case CC_QUEUE_DESC:
    case CC_QUEUE_DRIVER:
    case CC_QUEUE_DEVICE:
        return vq != NULL ? *queue_addr_field(vq, field) : 0;
    default:
        return 0;
    }
}

static uint64_t common_read(struct virtio_pci *p, unsigned off, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned fsize, field = common_field(off + i, &fsize);
        if (fsize == 0) {
            continue;
        }
        uint64_t fv = common_field_read(p, field);
        v |= ((fv >> (8 * (off + i - field))) & 0xff) << (8 * i);
    }
    return v;
}

/* The device's reset through its status (dev->lock held): the core's, and the transport's
 * vector mapping and ISR. */
static void device_reset_locked(struct virtio_pci *p)
{
    coremu_virtio_reset(p->dev);
    p->device_features_sel = 0;
    p->driver_features_sel = 0;
    p->queue_sel = 0;
    p->config_vector = VIRTIO_PCI_NO_VECTOR;
    for (unsigned q = 0; q < COREMU_VIRTIO_MAX_QUEUES; q++) {
        p->queue_vector[q] = VIRTIO_PCI_NO_VECTOR;
    }
    p->isr = 0;
    intx_update(p);
}

static uint16_t checked_vector(const struct virtio_pci *p, uint64_t value)
{
    /* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR */
    return value < p->nvectors ? (uint16_t)value : VIRTIO_PCI_NO_VECTOR;
}

static void common_write(struct virtio_pci *p, unsigned off, unsigned size, uint64_t value)
{
    struct coremu_virtio_device *dev = p->dev;
    struct coremu_virtqueue *vq = selected_queue(p);
    bool can_setup = vq != NULL && !vq->ready;
    unsigned fsize, field = common_field(off, &fsize);
    bool whole = fsize != 0 && field == off && size == fsize;
    /* 64-bit queue addresses may be written as two 32-bit halves (as Linux does) */
    bool half = fsize == 8 && size == 4 && (off - field == 0 || off - field == 4);
    if (!whole && !half) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
                   "%s: %u-byte write 0x%llx at common configuration offset 0x%x ignored\n",
                   p->name, size, (unsigned long long)value, off);
        return;
    }
    switch (field) {
    case CC_DEVICE_FEATURE_SELECT:
        p->device_features_sel = (uint32_t)value;
        break;
    case CC_DRIVER_FEATURE_SELECT:
        p->driver_features_sel = (uint32_t)value;
        break;
    case CC_DRIVER_FEATURE:
        coremu_virtio_set_driver_features(dev, p->driver_features_sel, (uint32_t)value);
        break;
    case CC_CONFIG_MSIX_VECTOR:
        p->config_vector = checked_vector(p, value);
        break;
    case CC_DEVICE_STATUS:
        if ((value & 0xff) == 0) {
            device_reset_locked(p);
        } else {
            coremu_virtio_set_status(dev, (uint8_t)value);
        }
        break;
    case CC_QUEUE_SELECT:
        p->queue_sel = (uint16_t)value;
        break;
    case CC_QUEUE_SIZE:
        if (can_setup) {
            vq->size = (uint16_t)value; /* checked when the queue is enabled */
        }
        break;
    case CC_QUEUE_MSIX_VECTOR:
        if (vq != NULL) {
            p->queue_vector[p->queue_sel] = checked_vector(p, value);
        }
        break;
    case CC_QUEUE_ENABLE:
        /* 4.1.4.3.2: the driver writes only 1 (a queue is disabled by a device reset) */
        if (vq != NULL && (value & 1) != 0 && !vq->ready) {
            coremu_virtio_queue_set_ready(dev, p->queue_sel, true);
        }
        break;
    case CC_QUEUE_DESC:
    case CC_QUEUE_DRIVER:
    case CC_QUEUE_DEVICE:
        if (can_setup) {
            uint64_t *addr = queue_addr_field(vq, field);
            if (whole) {
                *addr = value;
            } else {
                unsigned shift = 8 * (off - field);
                *addr = (*addr & ~(0xffffffffull << shift)) | ((value & 0xffffffffull) << shift);
            }
        }
        break;
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
                   "%s: write 0x%llx to read-only common configuration field 0x%x\n", p->name,
                   (unsigned long long)value, field);
        break;
    }
}

/* ---- BAR4: the virtio structures (dev->lock held) ------------------------------------------- */

static uint64_t mem_read_locked(struct virtio_pci *p, uint64_t off, unsigned size)
{
    unsigned in = (unsigned)(off % VIRTIO_PCI_REGION_SIZE);
    switch (off / VIRTIO_PCI_REGION_SIZE) {
    case VIRTIO_PCI_COMMON_OFFSET / VIRTIO_PCI_REGION_SIZE:
        return common_read(p, in, size);
    case VIRTIO_PCI_ISR_OFFSET / VIRTIO_PCI_REGION_SIZE:
        if (in == 0) {
            /* 4.1.4.5: reading the ISR clears it and deasserts the interrupt */
            uint8_t isr = p->isr;
            p->isr = 0;
            intx_update(p);
            return isr;
        }
        return 0;
    case VIRTIO_PCI_DEVICE_OFFSET / VIRTIO_PCI_REGION_SIZE:
        return coremu_virtio_config_read(p->dev, in, size);
    default:
        return 0; /* the notification area reads 0 */
    }
}

static void mem_write_locked(struct virtio_pci *p, uint64_t off, unsigned size, uint64_t value)
{
    unsigned in = (unsigned)(off % VIRTIO_PCI_REGION_SIZE);
    switch (off / VIRTIO_PCI_REGION_SIZE) {
    case VIRTIO_PCI_COMMON_OFFSET / VIRTIO_PCI_REGION_SIZE:
        common_write(p, in, size, value);
        break;
    case VIRTIO_PCI_DEVICE_OFFSET / VIRTIO_PCI_REGION_SIZE:
        coremu_virtio_config_write(p->dev, in, size, value);
        break;
    case VIRTIO_PCI_NOTIFY_OFFSET / VIRTIO_PCI_REGION_SIZE:
        /* queue n's address is n * notify_off_multiplier; the value written is its index */
        if (in % VIRTIO_PCI_NOTIFY_MULTIPLIER == 0) {
            coremu_virtio_queue_notify(p->dev, in / VIRTIO_PCI_NOTIFY_MULTIPLIER);
        }
        break;
    default:
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: write 0x%llx to read-only offset 0x%llx\n",
                   p->name, (unsigned long long)value, (unsigned long long)off);
        break;
    }
}

/* ---- BAR1: the MSI-X table and PBA (dev->lock held) ----------------------------------------- */

static uint64_t msix_read_locked(struct virtio_pci *p, uint64_t off, unsigned size)
{
    if (off >= VIRTIO_PCI_MSIX_PBA_OFFSET) {
        uint64_t pba = off == VIRTIO_PCI_MSIX_PBA_OFFSET ? p->pba : 0;
        return size == 8 ? pba : (uint32_t)pba;
    }
    uint64_t v = 0;
    for (unsigned done = 0; done < size; done += 4) {
        uint64_t o = off + done;
        unsigned vector = (unsigned)(o / MSIX_ENTRY_SIZE);
        if (vector >= p->nvectors) {
            continue;
        }
        const struct msix_entry *e = &p->msix[vector];
        const uint32_t words[4] = {e->addr_lo, e->addr_hi, e->data, e->control};
        v |= (uint64_t)words[(o % MSIX_ENTRY_SIZE) / 4] << (8 * done);
    }
    return v;
}

static void msix_write_locked(struct virtio_pci *p, uint64_t off, unsigned size, uint64_t value)
{
    for (unsigned done = 0; done < size; done += 4) {
        uint64_t o = off + done;
        unsigned vector = (unsigned)(o / MSIX_ENTRY_SIZE);
        uint32_t word = (uint32_t)(value >> (8 * done));
        if (o >= VIRTIO_PCI_MSIX_PBA_OFFSET || vector >= p->nvectors) {
            continue; /* the PBA is read-only; past the table nothing */
        }
        struct msix_entry *e = &p->msix[vector];
        switch ((o % MSIX_ENTRY_SIZE) / 4) {
        case 0:
            e->addr_lo = word & ~3u; /* dword aligned */
            break;
        case 1:
            e->addr_hi = word;
            break;
        case 2:
            e->data = word;
            break;
        default:
            e->control = word & MSIX_VECTOR_MASKED;
            msix_flush_pending(p);
            break;
        }
    }
}

/* ---- the regions ---------------------------------------------------------------------------- */

static int mem_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct virtio_pci *p = opaque;
    pthread_mutex_lock(&p->dev->lock);
    *value = mem_read_locked(p, offset, size);
    pthread_mutex_unlock(&p->dev->lock);
    return COREMU_MEM_OK;
}

static int mem_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct virtio_pci *p = opaque;
    pthread_mutex_lock(&p->dev->lock);
    mem_write_locked(p, offset, size, value);
    pthread_mutex_unlock(&p->dev->lock);
    return COREMU_MEM_OK;
}

static int msix_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct virtio_pci *p = opaque;
    pthread_mutex_lock(&p->dev->lock);
    *value = msix_read_locked(p, offset, size);
    pthread_mutex_unlock(&p->dev->lock);
    return COREMU_MEM_OK;
}

static int msix_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct virtio_pci *p = opaque;
    pthread_mutex_lock(&p->dev->lock);
    msix_write_locked(p, offset, size, value);
    pthread_mutex_unlock(&p->dev->lock);
    return COREMU_MEM_OK;
}

static const struct coremu_mmio_ops mem_bar_ops = {
    .read = mem_read,
    .write = mem_write,
    .sizes = 1 | 2 | 4 | 8,
};

/* MSI-X table and PBA: dword and qword accesses only (PCI 3.0, 6.8.2). */
static const struct coremu_mmio_ops msix_bar_ops = {
    .read = msix_read,
    .write = msix_write,
    .sizes = 4 | 8,
};

/* ---- configuration space (the PCI host's lock held) ----------------------------------------- */

/* The PCI_CFG capability's window: an access of cap.length bytes at cap.offset of BAR cap.bar
 * (4.1.4.8). False when the window names nothing the device has. */
static bool pcicfg_access(struct virtio_pci *p, bool write, uint32_t *data)
{
    unsigned bar = p->cfg[PCICFG_BAR];
    uint32_t offset = get_le32(&p->cfg[PCICFG_OFFSET]);
    uint32_t length = get_le32(&p->cfg[PCICFG_LENGTH]);
    uint32_t bar_size = bar == VIRTIO_PCI_MEM_BAR    ? VIRTIO_PCI_MEM_BAR_SIZE
                        : bar == VIRTIO_PCI_MSIX_BAR ? VIRTIO_PCI_MSIX_BAR_SIZE
                                                     : 0;
    if ((length != 1 && length != 2 && length != 4) || (offset & (length - 1)) != 0 ||
        offset >= bar_size || bar_size - offset < length ||
        (bar == VIRTIO_PCI_MSIX_BAR && length != 4)) {
        return false;
    }
    uint32_t mask = length == 4 ? 0xffffffffu : (1u << (8 * length)) - 1;
    pthread_mutex_lock(&p->dev->lock);
    if (write && bar == VIRTIO_PCI_MEM_BAR) {
        mem_write_locked(p, offset, length, *data & mask);
    } else if (write) {
        msix_write_locked(p, offset, length, *data);
    } else if (bar == VIRTIO_PCI_MEM_BAR) {
        *data = (uint32_t)mem_read_locked(p, offset, length);
    } else {
        *data = (uint32_t)msix_read_locked(p, offset, length);
    }
    pthread_mutex_unlock(&p->dev->lock);
    return true;
}

static uint32_t config_read(void *opaque, unsigned offset, unsigned size)
{
    struct virtio_pci *p = opaque;
    if (offset >= sizeof(p->cfg)) {
        return 0; /* no extended capabilities */
    }
    if (offset >= PCICFG_DATA && offset < PCICFG_DATA + 4) {
        uint32_t data = 0;
        if (pcicfg_access(p, false, &data)) {
            put_le32(&p->cfg[PCICFG_DATA], data);
        }
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)p->cfg[offset + i] << (8 * i);
    }
    return v;
}

/* Whether byte off of the capabilities may be written, and which bits. */
static uint8_t config_writable(unsigned off)
{
    if (off == MSIX_CONTROL + 1) {
        return (uint8_t)((MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL) >> 8);
    }
    if (off == PCICFG_BAR || (off >= PCICFG_OFFSET && off < PCICFG_DATA + 4)) {
        return 0xff;
    }
    return 0;
}

static void config_write(void *opaque, unsigned offset, unsigned size, uint32_t value)
{
    struct virtio_pci *p = opaque;
    bool control = false, data = false;
    for (unsigned i = 0; i < size && offset + i < sizeof(p->cfg); i++) {
        unsigned off = offset + i;
        uint8_t mask = config_writable(off);
        p->cfg[off] = (uint8_t)((p->cfg[off] & ~mask) | ((value >> (8 * i)) & mask));
        control |= off == MSIX_CONTROL + 1;
        data |= off >= PCICFG_DATA && off < PCICFG_DATA + 4;
    }
    if (data) {
        uint32_t word = get_le32(&p->cfg[PCICFG_DATA]);
        (void)pcicfg_access(p, true, &word);
    }
    if (control) {
        pthread_mutex_lock(&p->dev->lock);
        p->msix_control = (uint16_t)(p->cfg[MSIX_CONTROL + 1] << 8) &
                          (MSIX_CONTROL_ENABLE | MSIX_CONTROL_MASKALL);
        intx_update(p);
        msix_flush_pending(p);
        pthread_mutex_unlock(&p->dev->lock);
    }
}

/* BAR bar's region at its current address (under the host's lock). */
static void remap_bar(struct virtio_pci *p, unsigned bar, const struct coremu_mmio_ops *ops,
                      uint64_t size, const char *name)
{
    uint64_t addr = pci_function_bar_addr(p->host, p->fn, bar);
    if (addr == p->mapped[bar]) {
        return;
    }
    if (p->mapped[bar] != PCI_BAR_UNMAPPED) {
        (void)coremu_as_remove(p->mem, p->mapped[bar]);
        p->mapped[bar] = PCI_BAR_UNMAPPED;
    }
    if (addr == PCI_BAR_UNMAPPED) {
        return;
    }
    int rc = coremu_as_add_mmio(p->mem, name, addr, size, ops, p, COREMU_MMIO_LOCKLESS);
    if (rc != 0) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "%s: BAR%u at 0x%llx: %s: left unmapped\n", p->name,
                   bar, (unsigned long long)addr, strerror(-rc));
        return;
    }
    p->mapped[bar] = addr;
}

static void header_written(void *opaque, unsigned offset, unsigned size)
{
    struct virtio_pci *p = opaque;
    (void)offset;
    (void)size;
    remap_bar(p, VIRTIO_PCI_MSIX_BAR, &msix_bar_ops, VIRTIO_PCI_MSIX_BAR_SIZE, p->bar_name[0]);
    remap_bar(p, VIRTIO_PCI_MEM_BAR, &mem_bar_ops, VIRTIO_PCI_MEM_BAR_SIZE, p->bar_name[1]);
    bool intx_off = (pci_function_command(p->host, p->fn) & PCI_COMMAND_INTX_OFF) != 0;
    pthread_mutex_lock(&p->dev->lock);
    p->intx_disabled = intx_off;
    intx_update(p);
    pthread_mutex_unlock(&p->dev->lock);
}

/* ---- life cycle ----------------------------------------------------------------------------- */

/* One vendor capability (4.1.4): cfg_type's structure at offset of BAR4, length bytes. */
static void vendor_cap(uint8_t *cfg, unsigned at, unsigned next, unsigned len, unsigned type,
                       unsigned bar, uint32_t offset, uint32_t length)
{
    cfg[at] = PCI_VENDOR_CAP_ID;
    cfg[at + 1] = (uint8_t)next;
    cfg[at + 2] = (uint8_t)len;
    cfg[at + 3] = (uint8_t)type;
    cfg[at + 4] = (uint8_t)bar;
    put_le32(&cfg[at + 8], offset);
    put_le32(&cfg[at + 12], length);
}

static void build_capabilities(struct virtio_pci *p)
{
    uint8_t *c = p->cfg_reset;
    const unsigned bar = VIRTIO_PCI_MEM_BAR, len = VIRTIO_PCI_REGION_SIZE;
    vendor_cap(c, VIRTIO_PCI_CAP_COMMON_AT, 0, 16, VIRTIO_PCI_CAP_COMMON_CFG, bar,
               VIRTIO_PCI_COMMON_OFFSET, len);
    vendor_cap(c, VIRTIO_PCI_CAP_ISR_AT, VIRTIO_PCI_CAP_COMMON_AT, 16, VIRTIO_PCI_CAP_ISR_CFG, bar,
               VIRTIO_PCI_ISR_OFFSET, len);
    vendor_cap(c, VIRTIO_PCI_CAP_DEVICE_AT, VIRTIO_PCI_CAP_ISR_AT, 16, VIRTIO_PCI_CAP_DEVICE_CFG,
               bar, VIRTIO_PCI_DEVICE_OFFSET, len);
    vendor_cap(c, VIRTIO_PCI_CAP_NOTIFY_AT, VIRTIO_PCI_CAP_DEVICE_AT, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
               bar, VIRTIO_PCI_NOTIFY_OFFSET, len);
    put_le32(&c[VIRTIO_PCI_CAP_NOTIFY_AT + 16], VIRTIO_PCI_NOTIFY_MULTIPLIER);
    vendor_cap(c, VIRTIO_PCI_CAP_PCICFG_AT, VIRTIO_PCI_CAP_NOTIFY_AT, 20, VIRTIO_PCI_CAP_PCI_CFG, 0,
               0, 0);
    unsigned m = VIRTIO_PCI_CAP_MSIX_AT;
    c[m] = MSIX_CAP_ID;
    c[m + 1] = VIRTIO_PCI_CAP_PCICFG_AT;
    put_le16(&c[m + 2], (uint16_t)(p->nvectors - 1)); /* table size - 1; disabled, unmasked */
    put_le32(&c[m + 4], 0 | VIRTIO_PCI_MSIX_BAR);
    put_le32(&c[m + 8], VIRTIO_PCI_MSIX_PBA_OFFSET | VIRTIO_PCI_MSIX_BAR);
}

/* Transport state back to reset (dev->lock held; the host's lock held or nothing running). */
static void transport_reset_locked(struct virtio_pci *p)
{
    memcpy(p->cfg, p->cfg_reset, sizeof(p->cfg));
    p->msix_control = 0;
    for (unsigned v = 0; v < MSIX_MAX_VECTORS; v++) {
        p->msix[v] = (struct msix_entry){.control = MSIX_VECTOR_MASKED};
    }
    p->pba = 0;
    device_reset_locked(p);
}

struct virtio_pci *virtio_pci_new(const struct virtio_pci_config *cfg,
                                  struct coremu_virtio_device *dev, char *err, size_t errlen)
{
    struct virtio_pci *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "%s: out of memory", cfg->name);
        if (dev->ops->free != NULL) {
            dev->ops->free(dev);
        }
        return NULL;
    }
    p->name = cfg->name;
    p->dev = dev;
    p->host = cfg->host;
    p->mem = cfg->mem;
    p->intx = cfg->intx;
    p->msi = cfg->msi;
    p->nvectors = dev->nqueues + 1;
    snprintf(p->bar_name[0], sizeof(p->bar_name[0]), "%s-msix", cfg->name);
    snprintf(p->bar_name[1], sizeof(p->bar_name[1]), "%s-virtio", cfg->name);
    for (unsigned i = 0; i < 6; i++) {
        p->mapped[i] = PCI_BAR_UNMAPPED;
    }
    build_capabilities(p);
    transport_reset_locked(p); /* nothing else knows p yet */
    p->intx_level = false;
    dev->transport = (struct coremu_virtio_transport){
        .interrupt = pci_interrupt,
        .opaque = p,
        .queue_interrupt = pci_queue_interrupt,
    };
    uint32_t type = dev->ops->device_id;
    const struct pci_function_desc desc = {
        .vendor_id = VIRTIO_PCI_VENDOR_ID,
        .device_id = (uint16_t)(VIRTIO_PCI_DEVICE_ID_BASE + type),
        .subsystem_vendor_id = VIRTIO_PCI_VENDOR_ID,
        .subsystem_id = VIRTIO_PCI_SUBSYSTEM_ID,
        .class_code = virtio_pci_class_code(type),
        .revision = VIRTIO_PCI_REVISION,
        .interrupt_pin = 1,
        .capabilities = VIRTIO_PCI_CAP_MSIX_AT,
        .bars[VIRTIO_PCI_MSIX_BAR] = {VIRTIO_PCI_MSIX_BAR_SIZE, 0},
        .bars[VIRTIO_PCI_MEM_BAR] = {VIRTIO_PCI_MEM_BAR_SIZE, PCI_BAR_MEM64 | PCI_BAR_PREFETCH},
        .config_read = config_read,
        .config_write = config_write,
        .header_written = header_written,
        .opaque = p,
    };
    int rc = pci_host_add_function(cfg->host, cfg->bus, cfg->slot, cfg->fn, &desc, &p->fn);
    if (rc != 0) {
        snprintf(err, errlen, "%s: PCI address %02x:%02x.%x: %s", cfg->name, cfg->bus, cfg->slot,
                 cfg->fn, rc == -EEXIST ? "already in use" : strerror(-rc));
        virtio_pci_free(p);
        return NULL;
    }
    return p;
}

void virtio_pci_reset(struct virtio_pci *p)
{
    pthread_mutex_lock(&p->dev->lock);
    transport_reset_locked(p);
    pthread_mutex_unlock(&p->dev->lock);
}

void virtio_pci_free(struct virtio_pci *p)
{
    if (p == NULL) {
        return;
    }
    if (p->dev->ops->free != NULL) {
        p->dev->ops->free(p->dev);
    }
    free(p);
}
