/*
 * coremu — the PCI host: configuration mechanism #1 and ECAM over registered functions
 * (pci_host.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pci_host.h"

#define HEADER_SIZE      0x40u
#define CONFIG_SIZE      0x1000u
#define COMMAND_WRITABLE 0x0547u
#define STATUS_CAP_LIST  0x10u

struct pci_function {
    unsigned bus, devfn;
    struct pci_function_desc desc;
    uint8_t header[HEADER_SIZE]; /* BAR bytes live in bar[] */
    uint32_t bar[6];
    uint32_t bar_mask[6]; /* writable address bits of each BAR dword */
    struct pci_function *next;
};

struct pci_host {
    pthread_mutex_t lock; /* recursive: device callbacks may query their BARs */
    uint8_t bus_start, bus_end;
    struct pci_function *functions;
    uint32_t address; /* mechanism #1's address register */
    const struct coremu_mmio_ops *cf9_ops;
    void *cf9_opaque;
};

static struct pci_function *find(const struct pci_host *host, unsigned bus, unsigned devfn)
{
    for (struct pci_function *f = host->functions; f != NULL; f = f->next) {
        if (f->bus == bus && f->devfn == devfn) {
            return f;
        }
    }
    return NULL;
}

static bool is_multifunction(const struct pci_host *host, const struct pci_function *f0)
{
    for (struct pci_function *f = host->functions; f != NULL; f = f->next) {
        if (f->bus == f0->bus && (f->devfn >> 3) == (f0->devfn >> 3) && f != f0) {
            return true;
        }
    }
    return false;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static uint8_t header_byte(const struct pci_host *host, const struct pci_function *f, unsigned off)
{
    if (off >= 0x10 && off < 0x28) {
        unsigned i = (off - 0x10) / 4;
        return (uint8_t)(f->bar[i] >> (8 * (off & 3)));
    }
    uint8_t v = f->header[off];
    if (off == 0x0e && (f->devfn & 7) == 0 && is_multifunction(host, f)) {
        v |= 0x80;
    }
    return v;
}

static void header_write_byte(struct pci_function *f, unsigned off, uint8_t v)
{
    if (off >= 0x10 && off < 0x28) {
        unsigned i = (off - 0x10) / 4;
        unsigned shift = 8 * (off & 3);
        uint32_t merged = (f->bar[i] & ~(0xffu << shift)) | (uint32_t)v << shift;
        f->bar[i] = (f->bar[i] & ~f->bar_mask[i]) | (merged & f->bar_mask[i]);
        return;
    }
    switch (off) {
    case 0x04:
    case 0x05: {
        uint16_t mask = (uint16_t)(COMMAND_WRITABLE >> (8 * (off - 4)) & 0xff);
        f->header[off] = (uint8_t)((f->header[off] & ~mask) | (v & mask));
        break;
    }
    case 0x0c: /* cache line size */
    case 0x0d: /* latency timer */
    case 0x3c: /* interrupt line */
        f->header[off] = v;
        break;
    default:
        break; /* read-only; the status register has no error bits to clear */
    }
}

static uint32_t function_read(struct pci_host *host, struct pci_function *f, unsigned off,
                              unsigned size)
{
    if (off >= HEADER_SIZE) {
        if (f->desc.config_read == NULL) {
            return 0;
        }
        return f->desc.config_read(f->desc.opaque, off, size);
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint32_t)header_byte(host, f, off + i) << (8 * i);
    }
    return v;
}

static void function_write(struct pci_function *f, unsigned off, unsigned size, uint32_t value)
{
    if (off >= HEADER_SIZE) {
        if (f->desc.config_write != NULL) {
            f->desc.config_write(f->desc.opaque, off, size, value);
        }
        return;
    }
    bool notify = false;
    for (unsigned i = 0; i < size; i++) {
        unsigned o = off + i;
        header_write_byte(f, o, (uint8_t)(value >> (8 * i)));
        notify |= (o >= 0x04 && o < 0x06) || (o >= 0x10 && o < 0x28);
    }
    if (notify && f->desc.header_written != NULL) {
        f->desc.header_written(f->desc.opaque, off, size);
    }
}

static uint32_t ones(unsigned size)
{
    return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t pci_host_config_read(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                              unsigned offset, unsigned size)
{
    if (bus > 255 || dev > 31 || fn > 7 || offset + size > CONFIG_SIZE ||
        (size != 1 && size != 2 && size != 4) || (offset & (size - 1)) != 0) {
        return ones(size);
    }
    pthread_mutex_lock(&host->lock);
    struct pci_function *f = find(host, bus, dev << 3 | fn);
    uint32_t v = f != NULL ? function_read(host, f, offset, size) : ones(size);
    pthread_mutex_unlock(&host->lock);
    return v & ones(size);
}

void pci_host_config_write(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                           unsigned offset, unsigned size, uint32_t value)
{
    if (bus > 255 || dev > 31 || fn > 7 || offset + size > CONFIG_SIZE ||
        (size != 1 && size != 2 && size != 4) || (offset & (size - 1)) != 0) {
        return;
    }
    pthread_mutex_lock(&host->lock);
    struct pci_function *f = find(host, bus, dev << 3 | fn);
    if (f != NULL) {
        function_write(f, offset, size, value & ones(size));
    }
    pthread_mutex_unlock(&host->lock);
}

/* ---- registration --------------------------------------------------------------------------- */

static bool power_of_two(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

int pci_host_add_function(struct pci_host *host, unsigned bus, unsigned dev, unsigned fn,
                          const struct pci_function_desc *desc, struct pci_function **out)
{
    if (bus > 255 || dev > 31 || fn > 7 || desc == NULL ||
        (desc->capabilities != 0 && desc->capabilities < HEADER_SIZE) || desc->interrupt_pin > 4) {
        return -EINVAL;
    }
    struct pci_function *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -ENOMEM;
    }
    f->bus = bus;
    f->devfn = dev << 3 | fn;
    f->desc = *desc;
    for (unsigned i = 0; i < 6; i++) {
        const struct pci_bar_desc *b = &desc->bars[i];
        if (b->size == 0) {
            continue;
        }
        bool io = b->flags & PCI_BAR_IO;
        bool mem64 = !io && (b->flags & PCI_BAR_MEM64);
        if (!power_of_two(b->size) || (io && (b->size < 4 || b->size > 0x10000)) ||
            (!io && b->size < 16) || (!io && !mem64 && b->size > 0x80000000ull) ||
            (mem64 && (i == 5 || desc->bars[i + 1].size != 0)) ||
            (i > 0 && (desc->bars[i - 1].flags & PCI_BAR_MEM64) &&
             !(desc->bars[i - 1].flags & PCI_BAR_IO) && desc->bars[i - 1].size != 0)) {
            free(f);
            return -EINVAL;
        }
        if (io) {
            f->bar[i] = 0x1;
            f->bar_mask[i] = (uint32_t) ~(b->size - 1) & 0xfffffffcu;
        } else {
            f->bar[i] = (mem64 ? 0x4u : 0) | ((b->flags & PCI_BAR_PREFETCH) ? 0x8u : 0);
            f->bar_mask[i] = (uint32_t) ~(b->size - 1) & 0xfffffff0u;
            if (mem64) {
                f->bar_mask[i + 1] = (uint32_t)(~(b->size - 1) >> 32);
            }
        }
    }
    put16(f->header + 0x00, desc->vendor_id);
    put16(f->header + 0x02, desc->device_id);
    put16(f->header + 0x06, desc->capabilities ? STATUS_CAP_LIST : 0);
    f->header[0x08] = desc->revision;
    f->header[0x09] = (uint8_t)desc->class_code;
    f->header[0x0a] = (uint8_t)(desc->class_code >> 8);
    f->header[0x0b] = (uint8_t)(desc->class_code >> 16);
    put16(f->header + 0x2c, desc->subsystem_vendor_id);
    put16(f->header + 0x2e, desc->subsystem_id);
    f->header[0x34] = desc->capabilities;
    f->header[0x3d] = desc->interrupt_pin;

    pthread_mutex_lock(&host->lock);
    if (find(host, bus, f->devfn) != NULL) {
        pthread_mutex_unlock(&host->lock);
        free(f);
        return -EEXIST;
    }
    f->next = host->functions;
    host->functions = f;
    pthread_mutex_unlock(&host->lock);
    if (out != NULL) {
        *out = f;
    }
    return 0;
}

uint64_t pci_function_bar_addr(struct pci_host *host, const struct pci_function *f, unsigned bar)
{
    if (bar >= 6 || f->desc.bars[bar].size == 0) {
        return PCI_BAR_UNMAPPED;
    }
    pthread_mutex_lock(&host->lock);
    uint16_t cmd = (uint16_t)(f->header[4] | f->header[5] << 8);
    uint64_t addr;
    if (f->desc.bars[bar].flags & PCI_BAR_IO) {
        addr = (cmd & PCI_COMMAND_IO) ? (f->bar[bar] & 0xfffffffcu) : PCI_BAR_UNMAPPED;
    } else if (!(cmd & PCI_COMMAND_MEMORY)) {
        addr = PCI_BAR_UNMAPPED;
    } else {
        addr = f->bar[bar] & 0xfffffff0u;
        if (f->desc.bars[bar].flags & PCI_BAR_MEM64) {
            addr |= (uint64_t)f->bar[bar + 1] << 32;
        }
    }
    pthread_mutex_unlock(&host->lock);
    return addr;
}

uint16_t pci_function_command(struct pci_host *host, const struct pci_function *f)
{
    pthread_mutex_lock(&host->lock);
    uint16_t cmd = (uint16_t)(f->header[4] | f->header[5] << 8);
    pthread_mutex_unlock(&host->lock);
    return cmd;
}

struct pci_host *pci_host_new(uint8_t bus_start, uint8_t bus_end)
{
    const struct pci_function_desc q35_bridge = {
        .vendor_id = 0x8086,
        .device_id = 0x29c0,
        .class_code = 0x060000,
    };
    return pci_host_new_bridge(bus_start, bus_end, &q35_bridge);
}

struct pci_host *pci_host_new_bridge(uint8_t bus_start, uint8_t bus_end,
                                     const struct pci_function_desc *bridge)
{
    if (bus_end < bus_start) {
        return NULL;
    }
    struct pci_host *host = calloc(1, sizeof(*host));
    if (host == NULL) {
        return NULL;
    }
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&host->lock, &attr);
    pthread_mutexattr_destroy(&attr);
    host->bus_start = bus_start;
    host->bus_end = bus_end;
    if (pci_host_add_function(host, bus_start, 0, 0, bridge, NULL) != 0) {
        pci_host_free(host);
        return NULL;
    }
    return host;
}

void pci_host_free(struct pci_host *host)
{
    if (host == NULL) {
        return;
    }
    struct pci_function *f = host->functions;
    while (f != NULL) {
        struct pci_function *next = f->next;
        free(f);
        f = next;
    }
    pthread_mutex_destroy(&host->lock);
    free(host);
}

uint64_t pci_host_ecam_size(const struct pci_host *host)
{
    return (uint64_t)(host->bus_end - host->bus_start + 1) << 20;
}

void pci_host_reset(struct pci_host *host)
{
    pthread_mutex_lock(&host->lock);
    host->address = 0;
    for (struct pci_function *f = host->functions; f != NULL; f = f->next) {
        bool decoded = (f->header[4] | f->header[5]) != 0;
        f->header[4] = f->header[5] = 0;
        f->header[0x0c] = f->header[0x0d] = f->header[0x3c] = 0;
        for (unsigned i = 0; i < 6; i++) {
            decoded |= (f->bar[i] & f->bar_mask[i]) != 0;
            f->bar[i] &= ~f->bar_mask[i];
        }
        /* The device unmaps what it decoded (its BARs read back unmapped now). */
        if (decoded && f->desc.header_written != NULL) {
            f->desc.header_written(f->desc.opaque, 0x04, 2);
        }
    }
    pthread_mutex_unlock(&host->lock);
}

void pci_host_set_cf9(struct pci_host *host, const struct coremu_mmio_ops *ops, void *opaque)
{
    host->cf9_ops = ops;
    host->cf9_opaque = opaque;
}

/* ---- mechanism #1 --------------------------------------------------------------------------- */

static int config_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct pci_host *host = opaque;
    if (offset < 4) {
        if (offset == 0 && size == 4) {
            pthread_mutex_lock(&host->lock);
            *value = host->address;
            pthread_mutex_unlock(&host->lock);
        } else if (offset == 1 && size == 1 && host->cf9_ops != NULL) {
            return host->cf9_ops->read(host->cf9_opaque, 0, 1, value);
        } else {
            *value = ones(size);
        }
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&host->lock);
    uint32_t a = host->address;
    pthread_mutex_unlock(&host->lock);
    if (!(a & 0x80000000u)) {
        *value = ones(size);
        return COREMU_MEM_OK;
    }
    *value = pci_host_config_read(host, a >> 16 & 0xff, a >> 11 & 0x1f, a >> 8 & 7,
                                  (a & 0xfc) + (unsigned)(offset - 4), size);
    return COREMU_MEM_OK;
}

static int config_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pci_host *host = opaque;
    if (offset < 4) {
        if (offset == 0 && size == 4) {
            pthread_mutex_lock(&host->lock);
            host->address = (uint32_t)value & 0x80fffffcu;
            pthread_mutex_unlock(&host->lock);
        } else if (offset == 1 && size == 1 && host->cf9_ops != NULL) {
            return host->cf9_ops->write(host->cf9_opaque, 0, 1, value);
        }
        return COREMU_MEM_OK;
    }
    pthread_mutex_lock(&host->lock);
    uint32_t a = host->address;
    pthread_mutex_unlock(&host->lock);
    if (a & 0x80000000u) {
        pci_host_config_write(host, a >> 16 & 0xff, a >> 11 & 0x1f, a >> 8 & 7,
                              (a & 0xfc) + (unsigned)(offset - 4), size, (uint32_t)value);
    }
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops pci_host_config_ops = {
    .read = config_read,
    .write = config_write,
    .sizes = 1 | 2 | 4,
};

/* ---- ECAM ----------------------------------------------------------------------------------- */

static int ecam_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    struct pci_host *host = opaque;
    *value = pci_host_config_read(host, host->bus_start + (unsigned)(offset >> 20),
                                  (unsigned)(offset >> 15) & 0x1f, (unsigned)(offset >> 12) & 7,
                                  (unsigned)offset & 0xfff, size);
    return COREMU_MEM_OK;
}

static int ecam_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct pci_host *host = opaque;
    pci_host_config_write(host, host->bus_start + (unsigned)(offset >> 20),
                          (unsigned)(offset >> 15) & 0x1f, (unsigned)(offset >> 12) & 7,
                          (unsigned)offset & 0xfff, size, (uint32_t)value);
    return COREMU_MEM_OK;
}

const struct coremu_mmio_ops pci_host_ecam_ops = {
    .read = ecam_read,
    .write = ecam_write,
    .sizes = 1 | 2 | 4,
};

int pci_host_map(struct pci_host *host, struct coremu_as *io, struct coremu_as *mem,
                 uint64_t ecam_base)
{
    int rc = 0;
    if (io != NULL) {
        rc = coremu_as_add_mmio(io, "pci-config", PCI_HOST_CONFIG_PORT, PCI_HOST_CONFIG_PORTS,
                                &pci_host_config_ops, host, COREMU_MMIO_LOCKLESS);
    }
    if (rc != 0 || mem == NULL) {
        return rc;
    }
    rc = coremu_as_add_mmio(mem, "pci-ecam", ecam_base, pci_host_ecam_size(host),
                            &pci_host_ecam_ops, host, COREMU_MMIO_LOCKLESS);
    if (rc != 0 && io != NULL) {
        coremu_as_remove(io, PCI_HOST_CONFIG_PORT);
    }
    return rc;
}
