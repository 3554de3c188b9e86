/*
 * The virtio core (lib/virtio.c): split virtqueues driven the way a driver drives them, with
 * guest RAM in a real address space. Well-formed chains (direct and indirect) pop as the
 * segments they name; every malformed chain a malicious driver can build breaks the device
 * (NEEDS_RESET, a configuration interrupt, nothing processed) without touching memory outside
 * RAM; the event-index rules decide interrupts and notifications.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coremu/atomic.h>
#include <coremu/log.h>
#include <coremu/physmem.h>
#include <coremu/virtio.h>

#include "unit.h"

#define RAM_BASE   0x40000000ull
#define RAM_SIZE   (1ull << 20)
#define QSIZE      8u
#define DESC_GPA   (RAM_BASE + 0x0000)
#define AVAIL_GPA  (RAM_BASE + 0x1000)
#define USED_GPA   (RAM_BASE + 0x2000)
#define TABLE_GPA  (RAM_BASE + 0x3000) /* indirect tables */
#define TABLE2_GPA (RAM_BASE + 0x3800)
#define DATA_GPA   (RAM_BASE + 0x10000)

static struct coremu_as *as;
static uint8_t *ram;
static struct coremu_virtio_device dev;
static struct coremu_virtio_req req;
static unsigned notifies, config_irqs, queue_irqs;

static void fake_notify(struct coremu_virtio_device *d, unsigned index)
{
    (void)d;
    (void)index;
    notifies++;
}

static void fake_interrupt(void *opaque, uint32_t bits)
{
    (void)opaque;
    if (bits & COREMU_VIRTIO_ISR_CONFIG) {
        config_irqs++;
    }
    if (bits & COREMU_VIRTIO_ISR_QUEUE) {
        queue_irqs++;
    }
}

static const struct coremu_virtio_device_ops fake_ops = {
    .name = "virtio-test",
    .device_id = 4,
    .queue_notify = fake_notify,
};

static void *gpa(uint64_t addr)
{
    return ram + (addr - RAM_BASE);
}

static void put_desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    struct coremu_virtq_desc d = {addr, len, flags, next};
    memcpy((uint8_t *)gpa(table) + 16 * i, &d, sizeof(d));
}

static uint16_t *avail16(unsigned i)
{
    return (uint16_t *)gpa(AVAIL_GPA) + i;
}

/* The driver publishes head in the available ring. */
static void make_avail(uint16_t head)
{
    uint16_t idx = *avail16(1);
    *avail16(2 + idx % QSIZE) = head;
    *avail16(1) = (uint16_t)(idx + 1);
}

static uint16_t used_idx(void)
{
    return *(uint16_t *)((uint8_t *)gpa(USED_GPA) + 2);
}

static uint32_t used_elem(unsigned slot, unsigned word)
{
    return *(uint32_t *)((uint8_t *)gpa(USED_GPA) + 4 + 8 * slot + 4 * word);
}

static uint16_t avail_event(void)
{
    return *(uint16_t *)((uint8_t *)gpa(USED_GPA) + 4 + 8 * QSIZE);
}

/* A driver bringing the device up with the given features, one ready queue. */
static void bring_up(uint64_t features)
{
    coremu_virtio_reset(&dev);
    memset(ram, 0, 0x4000);
    notifies = config_irqs = queue_irqs = 0;
    coremu_virtio_set_status(&dev, COREMU_VIRTIO_STATUS_ACKNOWLEDGE);
    coremu_virtio_set_status(&dev, COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER);
    coremu_virtio_set_driver_features(&dev, 0, (uint32_t)features);
    coremu_virtio_set_driver_features(&dev, 1, (uint32_t)(features >> 32));
    coremu_virtio_set_status(&dev, COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER |
                                       COREMU_VIRTIO_STATUS_FEATURES_OK);
    dev.vq[0].size = QSIZE;
    dev.vq[0].desc_gpa = DESC_GPA;
    dev.vq[0].avail_gpa = AVAIL_GPA;
    dev.vq[0].used_gpa = USED_GPA;
    coremu_virtio_queue_set_ready(&dev, 0, true);
    coremu_virtio_set_status(&dev, COREMU_VIRTIO_STATUS_ACKNOWLEDGE | COREMU_VIRTIO_STATUS_DRIVER |
                                       COREMU_VIRTIO_STATUS_FEATURES_OK |
                                       COREMU_VIRTIO_STATUS_DRIVER_OK);
}

#define F_V1       (1ull << COREMU_VIRTIO_F_VERSION_1)
#define F_EVENT    (1ull << COREMU_VIRTIO_F_EVENT_IDX)
#define F_INDIRECT (1ull << COREMU_VIRTIO_F_INDIRECT_DESC)
#define F_ALL      (F_V1 | F_EVENT | F_INDIRECT)

/* The chain published at head must break the device, with nothing pushed. */
static void expect_broken(const char *name)
{
    char n[128];
    unsigned irqs = config_irqs;
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    snprintf(n, sizeof(n), "malformed: %s", name);
    UNIT_CHECK(r == -1 && dev.broken && (dev.status & COREMU_VIRTIO_STATUS_NEEDS_RESET) &&
                   config_irqs == irqs + 1 && used_idx() == 0,
               n, "pop %d broken %d status 0x%x config irqs %u->%u used %u", r, dev.broken,
               dev.status, irqs, config_irqs, used_idx());
    /* Once broken: nothing more is processed, notifies are dropped, no second interrupt. */
    unsigned before = notifies;
    coremu_virtio_queue_notify(&dev, 0);
    r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    snprintf(n, sizeof(n), "malformed: %s: stays broken", name);
    UNIT_CHECK(r == -1 && notifies == before && config_irqs == irqs + 1, n,
               "pop %d notifies %u->%u config irqs %u", r, before, notifies, config_irqs);
}

static void test_simple(void)
{
    bring_up(F_ALL);
    UNIT_CHECK(dev.vq[0].ready && dev.status == 0x0f, "bring-up", "ready %d status 0x%x",
               dev.vq[0].ready, dev.status);
    memcpy(gpa(DATA_GPA), "request header!!", 16);
    put_desc(DESC_GPA, 3, DATA_GPA, 16, COREMU_VIRTQ_DESC_F_NEXT, 5);
    put_desc(DESC_GPA, 5, DATA_GPA + 0x100, 100,
             COREMU_VIRTQ_DESC_F_WRITE | COREMU_VIRTQ_DESC_F_NEXT, 6);
    put_desc(DESC_GPA, 6, DATA_GPA + 0x200, 1, COREMU_VIRTQ_DESC_F_WRITE, 0);
    make_avail(3);
    unsigned before = notifies;
    coremu_virtio_queue_notify(&dev, 0);
    UNIT_CHECK(notifies == before + 1, "notify reaches the device", "%u notifies", notifies);
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 1 && req.head == 3 && req.nout == 1 && req.nin == 2 && req.out_len == 16 &&
                   req.in_len == 101 && req.seg[0].host == gpa(DATA_GPA) &&
                   req.seg[2].gpa == DATA_GPA + 0x200,
               "pop direct chain", "r %d head %u nout %u nin %u out %llu in %llu", r, req.head,
               req.nout, req.nin, (unsigned long long)req.out_len, (unsigned long long)req.in_len);
    char hdr[8];
    size_t n = coremu_virtio_req_read(&req, 8, hdr, sizeof(hdr));
    UNIT_CHECK(n == 8 && memcmp(hdr, "header!!", 8) == 0, "read readable segments", "%zu bytes", n);
    uint8_t buf[101];
    memset(buf, 0xab, sizeof(buf));
    n = coremu_virtio_req_write(&req, 0, buf, sizeof(buf) + 50);
    UNIT_CHECK(n == 101 && ((uint8_t *)gpa(DATA_GPA + 0x200))[0] == 0xab &&
                   ((uint8_t *)gpa(DATA_GPA + 0x100))[99] == 0xab &&
                   ((uint8_t *)gpa(DATA_GPA + 0x100))[100] == 0,
               "write spans writable segments, no further", "%zu bytes", n);
    coremu_virtqueue_push(&dev, &dev.vq[0], &req, 1000);
    UNIT_CHECK(used_idx() == 1 && used_elem(0, 0) == 3 && used_elem(0, 1) == 101,
               "push: used entry, length clamped", "idx %u id %u len %u", used_idx(),
               used_elem(0, 0), used_elem(0, 1));
    coremu_virtqueue_interrupt(&dev, &dev.vq[0]);
    UNIT_CHECK(queue_irqs == 1, "first completion interrupts", "%u", queue_irqs);
    r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 0 && avail_event() == 1, "empty queue asks for the next notification",
               "pop %d avail_event %u", r, avail_event());
}

static void test_indirect(void)
{
    bring_up(F_ALL);
    put_desc(TABLE_GPA, 0, DATA_GPA, 16, COREMU_VIRTQ_DESC_F_NEXT, 2);
    put_desc(TABLE_GPA, 2, DATA_GPA + 0x100, 512, COREMU_VIRTQ_DESC_F_NEXT, 1);
    put_desc(TABLE_GPA, 1, DATA_GPA + 0x400, 1, COREMU_VIRTQ_DESC_F_WRITE, 0);
    put_desc(DESC_GPA, 0, TABLE_GPA, 3 * 16, COREMU_VIRTQ_DESC_F_INDIRECT, 0);
    make_avail(0);
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 1 && req.nout == 2 && req.nin == 1 && req.out_len == 528 &&
                   req.seg[1].gpa == DATA_GPA + 0x100 && req.seg[2].gpa == DATA_GPA + 0x400,
               "indirect table", "r %d nout %u nin %u", r, req.nout, req.nin);
    coremu_virtqueue_push(&dev, &dev.vq[0], &req, 1);
    UNIT_CHECK(used_idx() == 1 && used_elem(0, 0) == 0 && used_elem(0, 1) == 1,
               "indirect used entry names the head", "idx %u", used_idx());

    /* A direct chain may end in an indirect descriptor. */
    put_desc(DESC_GPA, 4, DATA_GPA, 16, COREMU_VIRTQ_DESC_F_NEXT, 7);
    put_desc(DESC_GPA, 7, TABLE_GPA, 3 * 16, COREMU_VIRTQ_DESC_F_INDIRECT, 0);
    make_avail(4);
    r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 1 && req.nout == 3 && req.nin == 1, "direct then indirect",
               "r %d nout %u nin %u", r, req.nout, req.nin);
}

/* One malformed chain: the descriptors the driver writes (in the queue's table or in an
 * indirect table), the head it publishes, or an available index it jumps to. */
struct bad_desc {
    uint64_t table;
    unsigned index;
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
struct bad_case {
    const char *name;
    uint64_t features;
    uint16_t head;
    uint16_t avail_idx; /* not 0: written as the available index instead of publishing head */
    struct bad_desc desc[QSIZE];
};

#define NXT COREMU_VIRTQ_DESC_F_NEXT
#define WR  COREMU_VIRTQ_DESC_F_WRITE
#define IND COREMU_VIRTQ_DESC_F_INDIRECT
static const struct bad_case bad_cases[] = {
    {"buffer below RAM", F_ALL, 0, 0, {{DESC_GPA, 0, RAM_BASE - 0x1000, 16, 0, 0}}},
    {"buffer across the end of RAM",
     F_ALL,
     0,
     0,
     {{DESC_GPA, 0, RAM_BASE + RAM_SIZE - 10, 100, WR, 0}}},
    {"wrapping length", F_ALL, 0, 0, {{DESC_GPA, 0, 0xffffffffffffff00ull, 0x200, 0, 0}}},
    {"looping chain",
     F_ALL,
     0,
     0,
     {{DESC_GPA, 0, DATA_GPA, 16, NXT, 1}, {DESC_GPA, 1, DATA_GPA, 16, NXT, 0}}},
    {"descriptor naming itself", F_ALL, 2, 0, {{DESC_GPA, 2, DATA_GPA, 16, NXT, 2}}},
    /* Every descriptor of the table once, then one more: longer than the queue. */
    {"chain longer than the queue",
     F_ALL,
     0,
     0,
     {{DESC_GPA, 0, DATA_GPA, 1, NXT, 1},
      {DESC_GPA, 1, DATA_GPA, 1, NXT, 2},
      {DESC_GPA, 2, DATA_GPA, 1, NXT, 3},
      {DESC_GPA, 3, DATA_GPA, 1, NXT, 4},
      {DESC_GPA, 4, DATA_GPA, 1, NXT, 5},
      {DESC_GPA, 5, DATA_GPA, 1, NXT, 6},
      {DESC_GPA, 6, DATA_GPA, 1, NXT, 7},
      {DESC_GPA, 7, DATA_GPA, 1, NXT, 0}}},
    {"next index past the table", F_ALL, 0, 0, {{DESC_GPA, 0, DATA_GPA, 16, NXT, QSIZE}}},
    {"head index past the table", F_ALL, QSIZE, 0, {{0}}},
    {"available index jumps by more than the queue size", F_ALL, 0, QSIZE + 1, {{0}}},
    {"readable after writable",
     F_ALL,
     0,
     0,
     {{DESC_GPA, 0, DATA_GPA, 16, WR | NXT, 1}, {DESC_GPA, 1, DATA_GPA, 16, 0, 0}}},
    {"indirect inside indirect",
     F_ALL,
     0,
     0,
     {{TABLE2_GPA, 0, DATA_GPA, 16, 0, 0},
      {TABLE_GPA, 0, TABLE2_GPA, 16, IND, 0},
      {DESC_GPA, 0, TABLE_GPA, 16, IND, 0}}},
    {"looping indirect table",
     F_ALL,
     0,
     0,
     {{TABLE_GPA, 0, DATA_GPA, 16, NXT, 1},
      {TABLE_GPA, 1, DATA_GPA, 16, NXT, 0},
      {DESC_GPA, 0, TABLE_GPA, 32, IND, 0}}},
    {"next index past an indirect table",
     F_ALL,
     0,
     0,
     {{TABLE_GPA, 0, DATA_GPA, 16, NXT, 2}, {DESC_GPA, 0, TABLE_GPA, 32, IND, 0}}},
    {"indirect table outside RAM",
     F_ALL,
     0,
     0,
     {{DESC_GPA, 0, RAM_BASE + RAM_SIZE - 16, 64, IND, 0}}},
    {"indirect table of a partial descriptor", F_ALL, 0, 0, {{DESC_GPA, 0, TABLE_GPA, 24, IND, 0}}},
    {"indirect with NEXT", F_ALL, 0, 0, {{DESC_GPA, 0, TABLE_GPA, 16, IND | NXT, 1}}},
    {"indirect without the feature",
     F_V1 | F_EVENT,
     0,
     0,
     {{TABLE_GPA, 0, DATA_GPA, 16, 0, 0}, {DESC_GPA, 0, TABLE_GPA, 16, IND, 0}}},
};

/* Lines of the log file that name the test device. */
static unsigned log_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned n = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        n += strstr(line, "virtio-test: driver error") != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

static void test_malformed(void)
{
    /* Under -d guest_errors each break is logged once, however often the driver insists. */
    char log_path[] = "/tmp/test-virtio-log.XXXXXX";
    int fd = mkstemp(log_path);
    char err[128];
    UNIT_REQUIRE(fd >= 0 && coremu_log_parse("guest_errors", err, sizeof(err)) == 0 &&
                     coremu_log_set_file(log_path) == 0,
                 "log setup", "cannot log to %s", log_path);
    close(fd);
    for (size_t c = 0; c < sizeof(bad_cases) / sizeof(bad_cases[0]); c++) {
        const struct bad_case *bc = &bad_cases[c];
        bring_up(bc->features);
        for (unsigned i = 0; i < QSIZE && bc->desc[i].table != 0; i++) {
            const struct bad_desc *d = &bc->desc[i];
            put_desc(d->table, d->index, d->addr, d->len, d->flags, d->next);
        }
        if (bc->avail_idx != 0) {
            *avail16(1) = bc->avail_idx;
        } else {
            make_avail(bc->head);
        }
        expect_broken(bc->name);
    }
    unsigned logged = log_lines(log_path);
    size_t ncases = sizeof(bad_cases) / sizeof(bad_cases[0]);
    UNIT_CHECK(logged == ncases, "each break logged once under -d guest_errors",
               "%u lines for %zu breaks", logged, ncases);
    coremu_log_set_file(NULL);
    coremu_log_parse("", err, sizeof(err));
    unlink(log_path);

    /* Rings outside RAM: the queue never becomes ready. */
    bring_up(F_ALL);
    coremu_virtio_queue_set_ready(&dev, 0, false);
    dev.vq[0].used_gpa = RAM_BASE + RAM_SIZE - 8;
    coremu_virtio_queue_set_ready(&dev, 0, true);
    UNIT_CHECK(
        !dev.vq[0].ready && dev.broken && (dev.status & COREMU_VIRTIO_STATUS_NEEDS_RESET) != 0,
        "malformed: used ring outside RAM", "ready %d broken %d", dev.vq[0].ready, dev.broken);
    bring_up(F_ALL);
    coremu_virtio_queue_set_ready(&dev, 0, false);
    dev.vq[0].desc_gpa = DESC_GPA + 8;
    coremu_virtio_queue_set_ready(&dev, 0, true);
    UNIT_CHECK(!dev.vq[0].ready && dev.broken, "malformed: misaligned descriptor table",
               "ready %d broken %d", dev.vq[0].ready, dev.broken);
    bring_up(F_ALL);
    coremu_virtio_queue_set_ready(&dev, 0, false);
    dev.vq[0].size = 6;
    coremu_virtio_queue_set_ready(&dev, 0, true);
    UNIT_CHECK(!dev.vq[0].ready && dev.broken, "malformed: queue size not a power of two",
               "ready %d broken %d", dev.vq[0].ready, dev.broken);

    /* A reset brings a broken device back. */
    bring_up(F_ALL);
    put_desc(DESC_GPA, 0, DATA_GPA, 16, 0, 0);
    make_avail(0);
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 1 && !dev.broken && dev.status == 0x0f, "reset clears the broken state",
               "pop %d broken %d status 0x%x", r, dev.broken, dev.status);
}

static void test_event_idx(void)
{
    bring_up(F_ALL);
    for (unsigned i = 0; i < QSIZE; i++) {
        put_desc(DESC_GPA, i, DATA_GPA + 0x100 * i, 16, COREMU_VIRTQ_DESC_F_WRITE, 0);
    }
    UNIT_CHECK(!coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]),
               "a kick that finds no work does not interrupt", "interrupts");
    bring_up(F_ALL); /* no decision history again */
    for (unsigned i = 0; i < QSIZE; i++) {
        put_desc(DESC_GPA, i, DATA_GPA + 0x100 * i, 16, COREMU_VIRTQ_DESC_F_WRITE, 0);
    }
    /* The driver wants an interrupt once the used index passes 4 (used_event = 4). */
    *avail16(2 + QSIZE) = 4;
    bool irq[7];
    for (unsigned i = 0; i < 7; i++) {
        make_avail((uint16_t)i);
        int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
        UNIT_REQUIRE(r == 1, "event idx pop", "pop %d at %u", r, i);
        coremu_virtqueue_push(&dev, &dev.vq[0], &req, 16);
        irq[i] = coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    }
    /* The first decision has no history and interrupts; then only the push that moves the
     * used index from 4 to 5 crosses used_event. */
    UNIT_CHECK(irq[0] && !irq[1] && !irq[2] && !irq[3] && irq[4] && !irq[5] && !irq[6],
               "used_event suppresses interrupts", "%d%d%d%d%d%d%d", irq[0], irq[1], irq[2], irq[3],
               irq[4], irq[5], irq[6]);
    /* Several pushes, one decision: interrupt when used_event lies in the batch. */
    *avail16(2 + QSIZE) = 8;
    for (unsigned i = 0; i < 3; i++) {
        make_avail((uint16_t)i);
        coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
        coremu_virtqueue_push(&dev, &dev.vq[0], &req, 16);
    }
    bool batch = coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    bool again = coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    UNIT_CHECK(batch && !again, "batch crossing used_event interrupts once", "%d %d", batch, again);
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(r == 0 && avail_event() == 10, "avail_event is the next entry",
               "pop %d avail_event %u", r, avail_event());

    /* Without EVENT_IDX: the NO_INTERRUPT flag, and avail_event is left alone. */
    bring_up(F_V1);
    put_desc(DESC_GPA, 0, DATA_GPA, 16, COREMU_VIRTQ_DESC_F_WRITE, 0);
    *avail16(0) = COREMU_VIRTQ_AVAIL_F_NO_INTERRUPT;
    make_avail(0);
    coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    coremu_virtqueue_push(&dev, &dev.vq[0], &req, 16);
    bool suppressed = !coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    *avail16(0) = 0;
    make_avail(0);
    coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    coremu_virtqueue_push(&dev, &dev.vq[0], &req, 16);
    bool wanted = coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    bool idle = coremu_virtqueue_should_interrupt(&dev, &dev.vq[0]);
    r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    UNIT_CHECK(!idle, "no interrupt without new used buffers", "interrupts");
    UNIT_CHECK(suppressed && wanted && r == 0 && avail_event() == 0,
               "NO_INTERRUPT without event index", "suppressed %d wanted %d pop %d ae %u",
               suppressed, wanted, r, avail_event());
}

static void test_status(void)
{
    /* A notify before DRIVER_OK is acted on when DRIVER_OK comes. */
    coremu_virtio_reset(&dev);
    notifies = 0;
    coremu_virtio_set_driver_features(&dev, 1, 1);
    coremu_virtio_set_status(&dev, 0x0b);
    dev.vq[0].desc_gpa = DESC_GPA;
    dev.vq[0].avail_gpa = AVAIL_GPA;
    dev.vq[0].used_gpa = USED_GPA;
    coremu_virtio_queue_set_ready(&dev, 0, true);
    coremu_virtio_queue_notify(&dev, 0);
    unsigned early = notifies;
    coremu_virtio_set_status(&dev, 0x0f);
    UNIT_CHECK(early == 0 && notifies == 1, "notify waits for DRIVER_OK", "%u then %u", early,
               notifies);

    coremu_virtio_reset(&dev);
    coremu_virtio_set_driver_features(&dev, 0, 1u << COREMU_VIRTIO_F_EVENT_IDX);
    coremu_virtio_set_status(&dev, 0x0b);
    UNIT_CHECK(dev.status == 0x03, "FEATURES_OK refused without VERSION_1", "status 0x%x",
               dev.status);
    coremu_virtio_reset(&dev);
    coremu_virtio_set_driver_features(&dev, 0, 1u << 3);
    coremu_virtio_set_driver_features(&dev, 1, 1);
    coremu_virtio_set_status(&dev, 0x0b);
    UNIT_CHECK(dev.status == 0x03, "FEATURES_OK refused for a feature not offered", "status 0x%x",
               dev.status);
    UNIT_CHECK(coremu_virtio_host_features(&dev, 0) == ((1u << 5) | (3u << 28)) &&
                   coremu_virtio_host_features(&dev, 1) == 1 &&
                   coremu_virtio_host_features(&dev, 2) == 0,
               "offered features", "0x%x 0x%x", coremu_virtio_host_features(&dev, 0),
               coremu_virtio_host_features(&dev, 1));
    dev.config[0] = 0x11;
    dev.config[1] = 0x22;
    dev.config[3] = 0x44;
    UNIT_CHECK(coremu_virtio_config_read(&dev, 0, 4) == 0x44002211u &&
                   coremu_virtio_config_read(&dev, 1, 1) == 0x22 &&
                   coremu_virtio_config_read(&dev, 6, 4) == 0,
               "config space reads", "0x%llx",
               (unsigned long long)coremu_virtio_config_read(&dev, 0, 4));
}

/* A device writing guest RAM breaks the exclusive reservations there, as a core's store does:
 * a load-exclusive before the device's write, a store-exclusive after it, fails. */
static void test_reservations(void)
{
    struct coremu_xmon *x = coremu_xmon_new(COREMU_XMON_EXACT, RAM_BASE, RAM_SIZE, NULL, NULL);
    UNIT_REQUIRE(x != NULL, "xmon", "coremu_xmon_new failed");
    struct coremu_virtio_device xdev;
    const uint16_t sizes[] = {QSIZE};
    UNIT_REQUIRE(coremu_virtio_device_init(&xdev, &fake_ops, NULL, as, x, 0, 1, sizes, 0) == 0,
                 "xmon device", "init failed");
    xdev.transport = dev.transport;
    struct coremu_virtio_device saved = dev;
    dev = xdev; /* bring_up drives the global device */
    bring_up(F_ALL);
    uint64_t lock_pa = DATA_GPA + 0x40;
    uint64_t other_pa = DATA_GPA + 0x1000;
    struct coremu_xmon_local mon = {0}, mon2 = {0};
    coremu_xmon_load_exclusive(x, &mon, gpa(lock_pa), lock_pa, 4, NULL);
    coremu_xmon_load_exclusive(x, &mon2, gpa(other_pa), other_pa, 4, NULL);
    put_desc(DESC_GPA, 0, DATA_GPA, 0x80, COREMU_VIRTQ_DESC_F_WRITE, 0);
    make_avail(0);
    int r = coremu_virtqueue_pop(&dev, &dev.vq[0], &req);
    uint8_t bytes[0x80];
    memset(bytes, 0x11, sizeof(bytes));
    coremu_virtio_req_write(&req, 0, bytes, sizeof(bytes));
    coremu_virtqueue_push(&dev, &dev.vq[0], &req, sizeof(bytes));
    bool hit = coremu_xmon_store_exclusive(x, &mon, gpa(lock_pa), lock_pa, 4, 7, 0);
    bool missed = coremu_xmon_store_exclusive(x, &mon2, gpa(other_pa), other_pa, 4, 7, 0);
    UNIT_CHECK(r == 1 && !hit && missed,
               "a device write fails the store-exclusive of its bytes only",
               "pop %d, written granule %d, other page %d", r, hit, missed);
    dev = saved;
    coremu_virtio_device_destroy(&xdev);
    coremu_xmon_free(x);
}

int main(void)
{
    as = coremu_as_new();
    UNIT_REQUIRE(as != NULL, "address space", "coremu_as_new failed");
    ram = coremu_as_add_ram(as, "ram", RAM_BASE, RAM_SIZE);
    UNIT_REQUIRE(ram != NULL, "ram", "coremu_as_add_ram failed");
    const uint16_t sizes[] = {QSIZE};
    int r = coremu_virtio_device_init(&dev, &fake_ops, NULL, as, NULL, 1u << 5, 1, sizes, 8);
    UNIT_REQUIRE(r == 0, "device init", "%d", r);
    dev.transport = (struct coremu_virtio_transport){fake_interrupt, NULL};
    const uint16_t bad[] = {6};
    struct coremu_virtio_device other;
    UNIT_CHECK(coremu_virtio_device_init(&other, &fake_ops, NULL, as, NULL, 0, 1, bad, 8) != 0,
               "queue size must be a power of two", "accepted");

    test_simple();
    test_indirect();
    test_malformed();
    test_event_idx();
    test_status();
    test_reservations();

    coremu_virtio_device_destroy(&dev);
    coremu_as_free(as);
    return unit_done();
}
