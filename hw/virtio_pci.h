/*
 * coremu — the virtio-pci transport, modern (virtio 1.x, section 4.1): one PCI function through
 * which a driver finds, configures and kicks one virtio device, on any board with a PCI host
 * (hw/pci_host.h).
 *
 * The function (modern only, as QEMU's virtio-*-pci with disable-legacy=on): vendor 0x1AF4,
 * device 0x1040 + the virtio device type, revision 1, subsystem 0x1AF4:0x1100, the class of the
 * device type (block: mass storage 0x010000, network 0x020000, console 0x078000, others
 * 0x00ff00), interrupt pin INTA#. Its BARs, laid out as QEMU lays them out:
 *   BAR1  32-bit memory, 4 KiB: the MSI-X table at 0 (16 bytes a vector) and the PBA at 0x800;
 *   BAR4  64-bit prefetchable memory, 16 KiB: the common configuration at 0x0000, the ISR at
 *         0x1000, the device configuration at 0x2000, the notification area at 0x3000
 *         (queue n's notify address at 0x3000 + 4 * n: notify_off_multiplier 4).
 * Capabilities (the list from 0x98, as QEMU's): MSI-X at 0x98 (queues + 1 vectors), then the
 * vendor-specific virtio capabilities PCI_CFG at 0x84, NOTIFY at 0x70, DEVICE at 0x60, ISR at
 * 0x50, COMMON at 0x40.
 *
 * Interrupts. With MSI-X enabled, a queue's used buffers and a configuration change send the
 * message of the vector the driver mapped them to (queue_msix_vector, config_msix_vector;
 * NO_VECTOR 0xffff: none), through the board's MSI sink; a masked vector (its own mask bit or
 * the function mask) sets its pending bit instead and is sent when unmasked. With MSI-X
 * disabled, the ISR bits are set and INTA# is asserted (a level: high while the ISR is not 0
 * and the command register's INTx-disable bit is clear); a read of the ISR returns and clears
 * it, deasserting the line.
 *
 * BARs are mapped in the board's memory space at the address the guest gave them while the
 * command register's memory bit is set (a BAR moved onto something else stays unmapped, logged
 * under -d guest_errors). The address space is the PCI bus address space: a board whose host
 * translates bus addresses passes the CPU view with the same offsets (identity on the PC and on
 * QEMU's virt board).
 *
 * Threads and locks. Every BAR access takes the device's lock (dev->lock; the regions are
 * COREMU_MMIO_LOCKLESS), which also guards the transport's registers, so a queue notify runs
 * the device's requests on the kicking core's thread under the device's own lock: no global
 * lock. Configuration space callbacks run under the PCI host's lock and take the device's lock
 * inside it (lock order: PCI host -> device -> the board's interrupt delivery); the transport
 * never calls into the PCI host with the device's lock held. The MSI sink and the INTx line are
 * called with the device's lock held, on whichever thread completed the work: they must not
 * call back into the device.
 */
#ifndef COREMU_HW_VIRTIO_PCI_H
#define COREMU_HW_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#include <coremu/irq.h>
#include <coremu/physmem.h>
#include <coremu/virtio.h>

#include "pci_host.h"

#define VIRTIO_PCI_VENDOR_ID         0x1af4u
#define VIRTIO_PCI_DEVICE_ID_BASE    0x1040u /* + the virtio device type (modern only) */
#define VIRTIO_PCI_SUBSYSTEM_ID      0x1100u /* QEMU's subsystem id for its PCI devices */
#define VIRTIO_PCI_REVISION          1u
#define VIRTIO_PCI_NO_VECTOR         0xffffu
#define VIRTIO_PCI_MSIX_BAR          1u
#define VIRTIO_PCI_MSIX_BAR_SIZE     0x1000u
#define VIRTIO_PCI_MSIX_PBA_OFFSET   0x800u
#define VIRTIO_PCI_MEM_BAR           4u
#define VIRTIO_PCI_MEM_BAR_SIZE      0x4000u
#define VIRTIO_PCI_COMMON_OFFSET     0x0000u
#define VIRTIO_PCI_ISR_OFFSET        0x1000u
#define VIRTIO_PCI_DEVICE_OFFSET     0x2000u
#define VIRTIO_PCI_NOTIFY_OFFSET     0x3000u
#define VIRTIO_PCI_REGION_SIZE       0x1000u /* each of the four structures' window */
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4u

/* Virtio structure types of the vendor capabilities (4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG 1u
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2u
#define VIRTIO_PCI_CAP_ISR_CFG    3u
#define VIRTIO_PCI_CAP_DEVICE_CFG 4u
#define VIRTIO_PCI_CAP_PCI_CFG    5u

/* Capability offsets in configuration space (see the top of the file). */
#define VIRTIO_PCI_CAP_MSIX_AT   0x98u
#define VIRTIO_PCI_CAP_PCICFG_AT 0x84u
#define VIRTIO_PCI_CAP_NOTIFY_AT 0x70u
#define VIRTIO_PCI_CAP_DEVICE_AT 0x60u
#define VIRTIO_PCI_CAP_ISR_AT    0x50u
#define VIRTIO_PCI_CAP_COMMON_AT 0x40u

/* Where the function's MSI-X messages go: the board's interrupt controller (the PC's local
 * APICs for addresses 0xFEExxxxx; a GICv2m frame's doorbell on ARM). send is called with the
 * device's lock held, on whichever thread raised the interrupt, and must not call back into
 * the device. */
struct virtio_pci_msi_sink {
    void (*send)(void *opaque, uint64_t address, uint32_t data);
    void *opaque;
};

struct virtio_pci_config {
    const char *name;               /* log messages and region names; must outlive the transport */
    struct pci_host *host;          /* the bus the function sits on */
    unsigned bus, slot, fn;         /* its address */
    struct coremu_as *mem;          /* where its memory BARs are mapped */
    struct coremu_irq_line intx;    /* INTA#: true while asserted (the board handles polarity) */
    struct virtio_pci_msi_sink msi; /* send NULL: MSI-X messages are dropped (logged) */
};

struct virtio_pci;

/* A transport for dev (which it owns from now on: freed through dev->ops->free with the
 * transport), registered as a function of cfg->host at cfg's address. NULL with a one-line
 * reason in err (address taken, out of memory); dev is then freed too. */
struct virtio_pci *virtio_pci_new(const struct virtio_pci_config *cfg,
                                  struct coremu_virtio_device *dev, char *err, size_t errlen);
/* Machine reset: the device back to its reset state, MSI-X disabled with every vector masked,
 * ISR 0 and INTA# deasserted. The PCI header (BARs, command) is the host's. Nothing may run. */
void virtio_pci_reset(struct virtio_pci *p);
/* Frees the transport and its device. Nothing may run any more: the host and the address
 * space still name the transport (its function's and BAR regions' opaque). NULL allowed. */
void virtio_pci_free(struct virtio_pci *p);

/* The class code the transport gives a virtio device type (0x00ff00 for types without one). */
uint32_t virtio_pci_class_code(uint32_t device_type);

#endif /* COREMU_HW_VIRTIO_PCI_H */
