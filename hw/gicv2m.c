/*
 * coremu — the GICv2m MSI frame (gicv2m.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include <coremu/log.h>

#include "gic.h"
#include "gicv2m.h"

#define MSI_TYPER            0x008u
#define MSI_IIDR             0xfccu
#define MSI_IIDR_VALUE       0x0000043bu /* implementer ARM (JEP106 0x43B), product 0, revision 0 */
#define MSI_TYPER_BASE_SHIFT 16
#define MSI_ID_MASK          0x3ffu

struct gicv2m {
    struct gic *gic;   /* immutable */
    unsigned first_id; /* immutable: interrupt ID of the first SPI */
    unsigned count;    /* immutable: SPIs in the range */
    /* Held around each raise-lower pair of an SPI input (gicv2m.h), nothing else. */
    pthread_mutex_t edge_lock;
};

struct gicv2m *gicv2m_new(struct gic *gic, unsigned first_spi, unsigned nspis)
{
    if (gic == NULL || nspis == 0 || nspis > GICV2M_MAX_SPIS || first_spi >= GIC_NR_SPIS ||
        nspis > GIC_NR_SPIS - first_spi) {
        return NULL;
    }
    struct gicv2m *v2m = calloc(1, sizeof(*v2m));
    if (v2m == NULL) {
        return NULL;
    }
    v2m->gic = gic;
    v2m->first_id = GIC_FIRST_SPI + first_spi;
    v2m->count = nspis;
    pthread_mutex_init(&v2m->edge_lock, NULL);
    return v2m;
}

void gicv2m_free(struct gicv2m *v2m)
{
    if (v2m == NULL) {
        return;
    }
    pthread_mutex_destroy(&v2m->edge_lock);
    free(v2m);
}

void gicv2m_setspi(struct gicv2m *v2m, uint32_t value)
{
    unsigned id = value & MSI_ID_MASK;
    if (id < v2m->first_id || id - v2m->first_id >= v2m->count) {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS,
                   "gicv2m: MSI for interrupt %u outside the frame's %u-%u\n", id, v2m->first_id,
                   v2m->first_id + v2m->count - 1);
        return;
    }
    pthread_mutex_lock(&v2m->edge_lock);
    gic_set_irq(v2m->gic, (int)id, true);
    gic_set_irq(v2m->gic, (int)id, false);
    pthread_mutex_unlock(&v2m->edge_lock);
}

static int gicv2m_read(void *opaque, uint64_t offset, unsigned size, uint64_t *value)
{
    const struct gicv2m *v2m = opaque;
    (void)size;
    switch (offset) {
    case MSI_TYPER:
        *value = (uint64_t)v2m->first_id << MSI_TYPER_BASE_SHIFT | v2m->count;
        break;
    case MSI_IIDR:
        *value = MSI_IIDR_VALUE;
        break;
    default:
        *value = 0;
        break;
    }
    return COREMU_MEM_OK;
}

static int gicv2m_write(void *opaque, uint64_t offset, unsigned size, uint64_t value)
{
    struct gicv2m *v2m = opaque;
    (void)size;
    if (offset == GICV2M_SETSPI_NS) {
        gicv2m_setspi(v2m, (uint32_t)value);
    } else {
        COREMU_LOG(COREMU_LOG_GUEST_ERRORS, "gicv2m: write 0x%llx to read-only register 0x%llx\n",
                   (unsigned long long)value, (unsigned long long)offset);
    }
    return COREMU_MEM_OK;
}

/* Lockless region: the identity is immutable and gicv2m_setspi serialises itself. */
const struct coremu_mmio_ops gicv2m_mmio_ops = {
    .read = gicv2m_read,
    .write = gicv2m_write,
    .sizes = 4,
};

int gicv2m_map(struct gicv2m *v2m, struct coremu_as *as, uint64_t base)
{
    return coremu_as_add_mmio(as, "gicv2m", base, GICV2M_SIZE, &gicv2m_mmio_ops, v2m,
                              COREMU_MMIO_LOCKLESS);
}
