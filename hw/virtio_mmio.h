/*
 * coremu — the virtio-mmio transport, version 2 (virtio 1.x, section 4.2): one slot of
 * registers through which a driver finds, configures and kicks one virtio device.
 *
 * A slot without a device answers the magic value and version with DeviceID 0 ("no device"),
 * so that a driver probing every slot the device tree lists skips it. With a device, the
 * registers map onto the device core (include/coremu/virtio.h): features, status, queue setup,
 * QueueNotify, InterruptStatus/ACK, ConfigGeneration and the configuration space at 0x100.
 *
 * Threads and locks. The region is COREMU_MMIO_LOCKLESS: every register access takes the
 * device's own lock (dev->lock), which also guards the transport's selectors and interrupt
 * status, so a QueueNotify runs the device's handler on the kicking core's thread under that
 * lock. The interrupt line is level: high while InterruptStatus is not 0; it is driven under the
 * device lock (irq.h), so the receiver must not call back into the device.
 */
#ifndef COREMU_HW_VIRTIO_MMIO_H
#define COREMU_HW_VIRTIO_MMIO_H

#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>
#include <coremu/virtio.h>

#define VIRTIO_MMIO_MAGIC   0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION 2u
#define VIRTIO_MMIO_VENDOR  0x554d4f43u /* "COMU" */

struct virtio_mmio;

/* A transport for dev (which it owns from now on: freed through dev->ops->free with the
 * transport), interrupting through irq (copied; may be NULL). dev may be NULL: an empty slot.
 * name is for log messages and must outlive the transport. NULL when out of memory. */
struct virtio_mmio *virtio_mmio_new(const char *name, struct coremu_virtio_device *dev,
                                    const struct coremu_irq_line *irq);
/* Maps the slot's registers (size bytes, at least 0x100 plus the configuration) at base. 0 or
 * a negative errno from coremu_as_add_mmio. */
int virtio_mmio_map(struct virtio_mmio *m, struct coremu_as *as, uint64_t base, uint64_t size);
/* Machine reset: the device back to its reset state, interrupt low. Nothing may run. */
void virtio_mmio_reset(struct virtio_mmio *m);
/* Frees the transport and its device; the address space must be gone. NULL allowed. */
void virtio_mmio_free(struct virtio_mmio *m);

#endif /* COREMU_HW_VIRTIO_MMIO_H */
