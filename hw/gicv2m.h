/*
 * coremu — the GICv2m MSI frame: a page beside a GICv2 distributor that turns a device's
 * message-signalled interrupt (a 32-bit write of an interrupt ID to MSI_SETSPI_NS) into an edge
 * on one of a range of the GIC's shared peripheral interrupts. This is how PCI devices' MSI and
 * MSI-X reach a GICv2, which has no message-based interrupts of its own (ARM's Server Base
 * System Architecture, appendix "GICv2m").
 *
 * Registers (32-bit accesses; everything else reads 0 and ignores writes):
 *   0x008 MSI_TYPER      read-only: bits [25:16] the first interrupt ID of the frame's range,
 *                        bits [9:0] how many consecutive SPIs it has.
 *   0x040 MSI_SETSPI_NS  write-only: bits [9:0] of the value are an interrupt ID; one in the
 *                        frame's range becomes an edge on that SPI (an ID outside the range is
 *                        logged under -d guest_errors and dropped).
 *   0xFCC MSI_IIDR       read-only: the frame's identification (implementer ARM, product 0,
 *                        revision 0; not a value any kernel keys a quirk on).
 * The guest configures the frame's SPIs as edge-triggered in the distributor (Linux does): an
 * edge then latches the interrupt pending however briefly it lasts.
 *
 * Threads. The frame's identity is immutable after gicv2m_new. An edge is the SPI input raised
 * and lowered again (gic_set_irq, which takes no lock); one mutex of the frame makes each
 * raise-lower pair whole, so two writers of the same ID never merge into one edge while the
 * guest may already have taken the first. The mutex is a leaf: MSI writes arrive from core
 * threads (MMIO) and from devices with their own lock held.
 */
#ifndef COREMU_HW_GICV2M_H
#define COREMU_HW_GICV2M_H

#include <stdint.h>

#include <coremu/physmem.h>

struct gic;
struct gicv2m;

#define GICV2M_SIZE      0x1000u /* the frame is one 4 KiB page */
#define GICV2M_SETSPI_NS 0x040u  /* offset of the doorbell an MSI writes */
#define GICV2M_MAX_SPIS  1023u   /* MSI_TYPER's count field is 10 bits */

/* A frame over SPIs first_spi .. first_spi + nspis - 1 of gic (SPI n is interrupt ID 32 + n).
 * NULL when the range does not fit the GIC or out of memory. */
struct gicv2m *gicv2m_new(struct gic *gic, unsigned first_spi, unsigned nspis);
/* Adds the frame's register page to as at base. 0 or -errno (coremu_as_add_mmio). */
int gicv2m_map(struct gicv2m *v2m, struct coremu_as *as, uint64_t base);
/* A write of value to MSI_SETSPI_NS, as a device's MSI would make it. Any thread. */
void gicv2m_setspi(struct gicv2m *v2m, uint32_t value);
/* Frees the frame; its page must not be reachable by running cores or devices any more. */
void gicv2m_free(struct gicv2m *v2m);

/* The register callbacks (opaque = struct gicv2m *), for tests that drive them directly. */
extern const struct coremu_mmio_ops gicv2m_mmio_ops;

#endif /* COREMU_HW_GICV2M_H */
