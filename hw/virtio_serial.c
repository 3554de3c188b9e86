/*
 * coremu — virtio-console with multiple ports (virtio 1.x, 5.3). See virtio_serial.h.
 *
 * Threads and locks. Every mutable field of struct virtio_serial and struct vser_port is under
 * the device's lock (dev.lock), whoever touches it:
 *   - a core thread, through the transport (register accesses, queue kicks), which holds it;
 *   - the I/O thread, in the chardev's can_read / read callbacks, which take it.
 * There is no other lock of ours. A core thread writes to a chardev with dev.lock held, and
 * the I/O thread calls can_read / read with no chardev lock held, so the only order is
 * dev.lock -> the chardev's lock. Guest RAM reached through popped requests is shared with the
 * guest's cores: the virtqueue core orders it (include/coremu/virtio.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/chardev.h>
#include <coremu/log.h>

#include "virtio_serial.h"

#define VIRTIO_ID_CONSOLE 3
#define DATA_QUEUE_SIZE   128
#define CTRL_QUEUE_SIZE   32

/* Feature bits (5.3.3). */
#define VIRTIO_CONSOLE_F_MULTIPORT 1

/* Configuration layout (5.3.4). */
#define CFG_MAX_NR_PORTS 4
#define CFG_SIZE         12

/* Queue indices (5.3.2): port 0's pair, the control pair, then a pair per further port. */
#define CTRL_RX_QUEUE 2 /* device -> driver control messages */
#define CTRL_TX_QUEUE 3 /* driver -> device */

/* Control events (5.3.6.2). */
enum {
    VIRTIO_CONSOLE_DEVICE_READY = 0,
    VIRTIO_CONSOLE_DEVICE_ADD = 1,
    VIRTIO_CONSOLE_DEVICE_REMOVE = 2,
    VIRTIO_CONSOLE_PORT_READY = 3,
    VIRTIO_CONSOLE_CONSOLE_PORT = 4,
    VIRTIO_CONSOLE_RESIZE = 5,
    VIRTIO_CONSOLE_PORT_OPEN = 6,
    VIRTIO_CONSOLE_PORT_NAME = 7,
};

#define CTRL_HEADER 8 /* le32 id, le16 event, le16 value */
/* Control messages waiting for the driver's control receive buffers: at most four per port
 * (add, console, name, open) are ever outstanding, plus room for repeats of them. */
#define CTRL_PENDING_MAX (8u * VIRTIO_SERIAL_MAX_PORTS + 8u)
/* Input handed to the guest per receive buffer and callback. */
#define RX_CHUNK 4096u

struct virtio_serial;

struct vser_port {
    /* Immutable after virtio_serial_new. */
    struct virtio_serial *vs;
    unsigned nr;
    bool console;
    char name[VIRTIO_SERIAL_NAME_MAX + 1]; /* "" when unnamed */
    struct coremu_chardev *chr;            /* NULL: no host side */

    /* dev.lock. */
    bool guest_connected;         /* the driver's last PORT_OPEN for this port */
    bool held;                    /* rx holds a receive buffer popped for the next input */
    struct coremu_virtio_req *rx; /* the held buffer (allocated with the port) */
};

struct ctrl_msg {
    uint16_t len;
    uint8_t bytes[CTRL_HEADER + VIRTIO_SERIAL_NAME_MAX + 1];
};

struct virtio_serial {
    struct coremu_virtio_device dev; /* first: the ops get it */
    /* Immutable after virtio_serial_new. */
    unsigned max_ports;
    unsigned nports;
    struct vser_port *ports;                          /* nports of them */
    struct vser_port *by_nr[VIRTIO_SERIAL_MAX_PORTS]; /* NULL: no port with that number */

    /* dev.lock. */
    struct coremu_virtio_req *scratch;      /* the transmit or control request being served */
    struct ctrl_msg ctrl[CTRL_PENDING_MAX]; /* ring of messages not yet given to the driver */
    unsigned ctrl_head, ctrl_count;
    bool ctrl_overflow_logged;
};

static unsigned rx_queue_of(unsigned nr)
{
    return nr == 0 ? 0 : 2 + 2 * nr;
}

static bool multiport(const struct virtio_serial *vs)
{
    return coremu_virtio_has_feature(&vs->dev, VIRTIO_CONSOLE_F_MULTIPORT);
}

/* Whether the driver runs and the port takes input now (lock held). Without MULTIPORT the
 * driver knows port 0 only, and it is always open. */
static bool port_takes_input(const struct vser_port *p)
{
    const struct coremu_virtio_device *dev = &p->vs->dev;
    if ((dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) == 0 || dev->broken) {
        return false;
    }
    return multiport(p->vs) ? p->guest_connected : p->nr == 0;
}

/* ---- control messages (lock held) -------------------------------------------------------------
 */

/* Hands pending control messages to the driver while it has buffers for them. */
static void ctrl_flush(struct virtio_serial *vs)
{
    struct coremu_virtio_device *dev = &vs->dev;
    struct coremu_virtqueue *vq = &dev->vq[CTRL_RX_QUEUE];
    bool pushed = false;
    while (vs->ctrl_count > 0 && (dev->status & COREMU_VIRTIO_STATUS_DRIVER_OK) != 0) {
        if (coremu_virtqueue_pop(dev, vq, vs->scratch) != 1) {
            break;
        }
        const struct ctrl_msg *m = &vs->ctrl[vs->ctrl_head];
        size_t n = coremu_virtio_req_write(vs->scratch, 0, m->bytes, m->len);
        coremu_virtqueue_push(dev, vq, vs->scratch, (uint32_t)n);
        pushed = true;
        /* A buffer too short for the message loses it, as it would on QEMU: the driver's
         * buffers are always large enough for a port name. */
        vs->ctrl_head = (vs->ctrl_head + 1) % CTRL_PENDING_MAX;
        vs->ctrl_count--;
    }
    if (pushed) {
        coremu_virtqueue_interrupt(dev, vq);
    }
}

static void ctrl_queue(struct virtio_serial *vs, unsigned id, uint16_t event, uint16_t value,
                       const char *text)
{
    if (vs->ctrl_count == CTRL_PENDING_MAX) {
        if (!vs->ctrl_overflow_logged) {
            vs->ctrl_overflow_logged = true;
            coremu_log(COREMU_LOG_GUEST_ERRORS,
                       "virtio-serial: the driver takes no control messages: dropping them\n");
        }
        return;
    }
    struct ctrl_msg *m = &vs->ctrl[(vs->ctrl_head + vs->ctrl_count) % CTRL_PENDING_MAX];
    uint32_t id32 = id;
    memcpy(m->bytes, &id32, 4); /* little-endian host */
    memcpy(m->bytes + 4, &event, 2);
    memcpy(m->bytes + 6, &value, 2);
    m->len = CTRL_HEADER;
    if (text != NULL) {
        size_t n = strlen(text) + 1; /* the name travels with its NUL, as drivers expect */
        memcpy(m->bytes + CTRL_HEADER, text, n);
        m->len = (uint16_t)(CTRL_HEADER + n);
    }
    vs->ctrl_count++;
}

/* The driver's side of the control protocol. */
static void ctrl_event(struct virtio_serial *vs, uint32_t id, uint16_t event, uint16_t value)
{
    if (event == VIRTIO_CONSOLE_DEVICE_READY) {
        if (value == 1) {
            for (unsigned i = 0; i < vs->nports; i++) {
                ctrl_queue(vs, vs->ports[i].nr, VIRTIO_CONSOLE_DEVICE_ADD, 1, NULL);
            }
        }
        return;
    }
    struct vser_port *p = id < VIRTIO_SERIAL_MAX_PORTS ? vs->by_nr[id] : NULL;
    if (p == NULL) {
        coremu_log(COREMU_LOG_GUEST_ERRORS, "virtio-serial: control event %u for no port (%u)\n",
                   event, id);
        return;
    }
    switch (event) {
    case VIRTIO_CONSOLE_PORT_READY:
        if (value != 1) {
            return; /* the driver could not set the port up */
        }
        if (p->console) {
            ctrl_queue(vs, p->nr, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
        }
        if (p->name[0] != '\0') {
            ctrl_queue(vs, p->nr, VIRTIO_CONSOLE_PORT_NAME, 1, p->name);
        }
        /* A port with a chardev is open on the host side for good: a chardev that has no peer
         * (a socket without a client) drops the guest's output meanwhile. */
        if (p->chr != NULL) {
            ctrl_queue(vs, p->nr, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
        }
        return;
    case VIRTIO_CONSOLE_PORT_OPEN:
        p->guest_connected = value != 0;
        if (p->guest_connected && p->chr != NULL) {
            coremu_chardev_accept_input(p->chr); /* input held for the closed port may go */
        }
        return;
    default:
        return; /* RESIZE and the rest are the device's to send, not the driver's */
    }
}

static void ctrl_tx(struct virtio_serial *vs)
{
    struct coremu_virtio_device *dev = &vs->dev;
    struct coremu_virtqueue *vq = &dev->vq[CTRL_TX_QUEUE];
    bool pushed = false;
    /* Bounded: a queue of size n has at most n requests available at once, and each pass
     * either takes one or stops. */
    for (unsigned i = 0; i < COREMU_VIRTIO_QUEUE_MAX; i++) {
        if (coremu_virtqueue_pop(dev, vq, vs->scratch) != 1) {
            break;
        }
        uint8_t hdr[CTRL_HEADER];
        size_t n = coremu_virtio_req_read(vs->scratch, 0, hdr, sizeof(hdr));
        coremu_virtqueue_push(dev, vq, vs->scratch, 0);
        pushed = true;
        if (n < sizeof(hdr)) {
            coremu_log(COREMU_LOG_GUEST_ERRORS, "virtio-serial: control message of %zu bytes\n", n);
            continue;
        }
        uint32_t id;
        uint16_t event, value;
        memcpy(&id, hdr, 4);
        memcpy(&event, hdr + 4, 2);
        memcpy(&value, hdr + 6, 2);
        ctrl_event(vs, id, event, value);
    }
    if (pushed) {
        coremu_virtqueue_interrupt(dev, vq);
    }
    ctrl_flush(vs);
}

/* ---- data (lock held) ------------------------------------------------------------------------ */

/* The guest wrote on port p: every readable byte goes to its chardev (or nowhere). */
static void port_tx(struct virtio_serial *vs, struct vser_port *p, unsigned index)
{
    struct coremu_virtio_device *dev = &vs->dev;
    struct coremu_virtqueue *vq = &dev->vq[index];
    bool pushed = false;
    for (unsigned i = 0; i < COREMU_VIRTIO_QUEUE_MAX; i++) {
        if (coremu_virtqueue_pop(dev, vq, vs->scratch) != 1) {
            break;
        }
        const struct coremu_virtio_req *req = vs->scratch;
        for (unsigned s = 0; s < req->nout && p != NULL && p->chr != NULL; s++) {
            coremu_chardev_write(p->chr, req->seg[s].host, req->seg[s].len);
        }
        coremu_virtqueue_push(dev, vq, req, 0);
        pushed = true;
    }
    if (pushed) {
        coremu_virtqueue_interrupt(dev, vq);
    }
}

static void vser_queue_notify(struct coremu_virtio_device *dev, unsigned index)
{
    struct virtio_serial *vs = (struct virtio_serial *)dev;
    if (index == CTRL_RX_QUEUE) {
        ctrl_flush(vs); /* new buffers for waiting messages */
        return;
    }
    if (index == CTRL_TX_QUEUE) {
        ctrl_tx(vs);
        return;
    }
    unsigned nr = index < 2 ? 0 : (index - 2) / 2;
    bool rx = index < 2 ? index == 0 : index % 2 == 0;
    struct vser_port *p = nr < VIRTIO_SERIAL_MAX_PORTS ? vs->by_nr[nr] : NULL;
    if (!rx) {
        port_tx(vs, p, index); /* a port that does not exist swallows what is written to it */
    } else if (p != NULL && p->chr != NULL) {
        /* New receive buffers: the chardev may read again (its can_read pops them). */
        coremu_chardev_accept_input(p->chr);
    }
}

/* ---- host input (I/O thread) ----------------------------------------------------------------- */

/* How much input port p takes now: what its held receive buffer holds, popping one if needed;
 * 0 (the chardev then holds its input) while the port is closed or the guest has no buffer. */
static size_t port_can_read(void *opaque)
{
    struct vser_port *p = opaque;
    struct coremu_virtio_device *dev = &p->vs->dev;
    size_t room = 0;
    pthread_mutex_lock(&dev->lock);
    if (port_takes_input(p)) {
        struct coremu_virtqueue *vq = &dev->vq[rx_queue_of(p->nr)];
        /* A buffer with nothing writable is returned unused; bounded by the queue's size. */
        for (unsigned i = 0; !p->held && i < COREMU_VIRTIO_QUEUE_MAX; i++) {
            if (coremu_virtqueue_pop(dev, vq, p->rx) != 1) {
                break;
            }
            if (p->rx->in_len > 0) {
                p->held = true;
            } else {
                coremu_virtqueue_push(dev, vq, p->rx, 0);
                coremu_virtqueue_interrupt(dev, vq);
            }
        }
        if (p->held) {
            room = p->rx->in_len < RX_CHUNK ? (size_t)p->rx->in_len : RX_CHUNK;
        }
    }
    pthread_mutex_unlock(&dev->lock);
    return room;
}

/* Input for port p, at most what port_can_read allowed: into the held buffer, returned to the
 * guest at once (a console wants its bytes now, not when the buffer is full). */
static void port_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct vser_port *p = opaque;
    struct coremu_virtio_device *dev = &p->vs->dev;
    pthread_mutex_lock(&dev->lock);
    /* The device may have been reset since can_read (the buffer is then gone): the bytes are
     * lost, as on a line whose far end restarted. */
    if (p->held && port_takes_input(p)) {
        struct coremu_virtqueue *vq = &dev->vq[rx_queue_of(p->nr)];
        size_t n = coremu_virtio_req_write(p->rx, 0, buf, len);
        coremu_virtqueue_push(dev, vq, p->rx, (uint32_t)n);
        p->held = false;
        coremu_virtqueue_interrupt(dev, vq);
    }
    pthread_mutex_unlock(&dev->lock);
}

static const struct coremu_chardev_handlers port_handlers = {
    .can_read = port_can_read,
    .read = port_read,
};

/* ---- life cycle ------------------------------------------------------------------------------ */

static void vser_reset(struct coremu_virtio_device *dev)
{
    struct virtio_serial *vs = (struct virtio_serial *)dev;
    for (unsigned i = 0; i < vs->nports; i++) {
        vs->ports[i].guest_connected = false;
        vs->ports[i].held = false; /* the rings are gone with the reset */
    }
    vs->ctrl_head = vs->ctrl_count = 0;
    vs->ctrl_overflow_logged = false;
}

static void vser_free(struct coremu_virtio_device *dev)
{
    struct virtio_serial *vs = (struct virtio_serial *)dev;
    /* The chardevs first: closing waits for a callback in flight, which takes dev.lock. */
    for (unsigned i = 0; i < vs->nports; i++) {
        coremu_chardev_close(vs->ports[i].chr);
    }
    for (unsigned i = 0; i < vs->nports; i++) {
        free(vs->ports[i].rx);
    }
    free(vs->ports);
    free(vs->scratch);
    coremu_virtio_device_destroy(dev);
    free(vs);
}

static const struct coremu_virtio_device_ops vser_ops = {
    .name = "virtio-serial",
    .device_id = VIRTIO_ID_CONSOLE,
    .queue_notify = vser_queue_notify,
    .reset = vser_reset,
    .free = vser_free,
};

struct coremu_virtio_device *virtio_serial_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                               unsigned max_ports,
                                               const struct virtio_serial_port_config *ports,
                                               unsigned nports, char *err, size_t errlen)
{
    if (max_ports == 0 || max_ports > VIRTIO_SERIAL_MAX_PORTS || nports > max_ports) {
        snprintf(err, errlen, "virtio-serial: max_ports=%u: 1 to %u ports", max_ports,
                 VIRTIO_SERIAL_MAX_PORTS);
        return NULL;
    }
    struct virtio_serial *vs = calloc(1, sizeof(*vs));
    uint16_t sizes[COREMU_VIRTIO_MAX_QUEUES];
    unsigned nqueues = 2 + 2 * max_ports;
    for (unsigned i = 0; i < nqueues; i++) {
        sizes[i] = i == CTRL_RX_QUEUE || i == CTRL_TX_QUEUE ? CTRL_QUEUE_SIZE : DATA_QUEUE_SIZE;
    }
    if (vs == NULL || coremu_virtio_device_init(&vs->dev, &vser_ops, vs, as, xmon,
                                                1ull << VIRTIO_CONSOLE_F_MULTIPORT, nqueues, sizes,
                                                CFG_SIZE) != 0) {
        free(vs);
        snprintf(err, errlen, "cannot create virtio-serial: out of memory");
        return NULL;
    }
    vs->max_ports = max_ports;
    uint32_t max32 = max_ports;
    memcpy(&vs->dev.config[CFG_MAX_NR_PORTS], &max32, 4);
    vs->scratch = calloc(1, sizeof(*vs->scratch));
    vs->ports = calloc(nports > 0 ? nports : 1, sizeof(*vs->ports));
    if (vs->scratch == NULL || vs->ports == NULL) {
        snprintf(err, errlen, "cannot create virtio-serial: out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < nports; i++) {
        struct vser_port *p = &vs->ports[i];
        const struct virtio_serial_port_config *c = &ports[i];
        p->vs = vs;
        p->nr = c->nr;
        p->console = c->console;
        snprintf(p->name, sizeof(p->name), "%s", c->name != NULL ? c->name : "");
        p->rx = calloc(1, sizeof(*p->rx));
        vs->nports++;
        if (p->rx == NULL) {
            snprintf(err, errlen, "cannot create virtio-serial: out of memory");
            goto fail;
        }
        vs->by_nr[p->nr] = p;
        if (c->chardev != NULL) {
            char why[256];
            p->chr = coremu_chardev_open_kv(NULL, c->chardev, why, sizeof(why));
            if (p->chr == NULL) {
                snprintf(err, errlen, "-chardev %s: %s", coremu_kv_get(c->chardev, "id"), why);
                goto fail;
            }
            if (coremu_chardev_pty_path(p->chr) != NULL) {
                fprintf(stderr, "char device redirected to %s (label %s)\n",
                        coremu_chardev_pty_path(p->chr), coremu_kv_get(c->chardev, "id"));
            }
        }
    }
    /* Only now: a callback may run as soon as the handlers are set. */
    for (unsigned i = 0; i < vs->nports; i++) {
        if (vs->ports[i].chr != NULL) {
            coremu_chardev_set_handlers(vs->ports[i].chr, &port_handlers, &vs->ports[i]);
        }
    }
    return &vs->dev;

fail:
    vser_free(&vs->dev);
    return NULL;
}

/* ---- the command line ------------------------------------------------------------------------ */

/* QEMU's default number of ports, within what the queues allow. */
static unsigned default_max_ports(void)
{
    return VIRTIO_SERIAL_MAX_PORTS < 31 ? VIRTIO_SERIAL_MAX_PORTS : 31;
}

static unsigned check_keys(const struct coremu_kv *kv, const char *driver,
                           const char *const *allowed)
{
    char err[256];
    if (coremu_kv_check(kv, allowed, err, sizeof(err)) != 0) {
        coremu_error("-device %s: %s", driver, err);
        return 1;
    }
    return 0;
}

/* A decimal number in [0, limit]; false when it is none. */
static bool parse_uint(const char *s, unsigned limit, unsigned *out)
{
    if (s == NULL || s[0] == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 6) {
        return false;
    }
    unsigned long v = strtoul(s, NULL, 10);
    if (v > limit) {
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static unsigned chardev_index(const struct coremu_options *o, const char *id)
{
    for (unsigned i = 0; i < o->nchardevs; i++) {
        if (strcmp(coremu_kv_get(&o->chardevs[i], "id"), id) == 0) {
            return i;
        }
    }
    return o->nchardevs;
}

/* A virtio-serial device itself. */
static unsigned plan_bus(const struct coremu_kv *dv, const char *driver, unsigned dev_index,
                         struct virtio_serial_plan *plan, unsigned *max_ports)
{
    static const char *const keys[] = {"driver", "id", "max_ports", NULL};
    unsigned errors = check_keys(dv, driver, keys);
    unsigned n = default_max_ports();
    const char *v = coremu_kv_get(dv, "max_ports");
    if (v != NULL && (!parse_uint(v, 1u << 16, &n) || n == 0)) {
        coremu_error("-device %s: max_ports=%s: expected a number of ports from 1", driver, v);
        return errors + 1;
    }
    if (n > VIRTIO_SERIAL_MAX_PORTS) {
        coremu_error("-device %s: max_ports=%u: coremu's virtio-serial has at most %u ports",
                     driver, n, VIRTIO_SERIAL_MAX_PORTS);
        return errors + 1;
    }
    if (errors == 0) {
        plan->bus[plan->nbuses].dev_index = dev_index;
        plan->bus[plan->nbuses].max_ports = n;
        plan->bus[plan->nbuses].used_nrs = 1; /* 0 is kept for a console (QEMU does so) */
        plan->nbuses++;
        *max_ports = n;
    }
    return errors;
}

/* A virtconsole or virtserialport on the first bus with room, numbered as QEMU numbers it. */
static unsigned plan_port(const struct coremu_options *o, const struct coremu_kv *dv,
                          const char *driver, bool console, struct virtio_serial_plan *plan)
{
    static const char *const keys[] = {"driver", "id", "chardev", "name", "nr", NULL};
    unsigned errors = check_keys(dv, driver, keys);
    if (plan->nbuses == 0) {
        coremu_error("-device %s: no virtio-serial bus for it (add -device virtio-serial-...)",
                     driver);
        return errors + 1;
    }
    const char *name = coremu_kv_get(dv, "name");
    const char *nr_arg = coremu_kv_get(dv, "nr");
    const char *chardev = coremu_kv_get(dv, "chardev");
    unsigned nr = 0, chr = o->nchardevs;
    if (nr_arg != NULL && !parse_uint(nr_arg, 1u << 16, &nr)) {
        coremu_error("-device %s: nr=%s: expected a port number", driver, nr_arg);
        errors++;
    }
    if (name != NULL && (name[0] == '\0' || strlen(name) > VIRTIO_SERIAL_NAME_MAX)) {
        coremu_error("-device %s: name=%s: 1 to %u bytes", driver, name, VIRTIO_SERIAL_NAME_MAX);
        errors++;
    }
    if (chardev != NULL) {
        chr = chardev_index(o, chardev);
        if (chr == o->nchardevs) {
            coremu_error("-device %s: chardev=%s: no -chardev with that id", driver, chardev);
            errors++;
        }
    }
    /* The bus: the first one with a free port number, as QEMU's bus search finds it. */
    unsigned b = 0;
    while (b + 1 < plan->nbuses &&
           plan->bus[b].used_nrs ==
               (plan->bus[b].max_ports >= 32 ? UINT32_MAX : (1u << plan->bus[b].max_ports) - 1)) {
        b++;
    }
    uint32_t used = plan->bus[b].used_nrs;
    unsigned max = plan->bus[b].max_ports;
    for (unsigned i = 0; i < plan->nports && name != NULL; i++) {
        const char *other = plan->port[i].cfg.name;
        if (plan->port[i].bus == b && other != NULL && strcmp(other, name) == 0) {
            coremu_error("-device %s: virtio-serial-bus: A port already exists by name %s", driver,
                         name);
            errors++;
        }
    }
    if (nr_arg != NULL && errors == 0) {
        if (nr == 0 && !console) {
            coremu_error("-device %s,nr=0: port number 0 is kept for a virtconsole (as in QEMU)",
                         driver);
            errors++;
        } else if (nr >= max) {
            coremu_error("-device %s,nr=%u: out-of-range port number (at most %u)", driver, nr,
                         max - 1);
            errors++;
        } else if ((nr > 0 || plan->bus[b].console0) && (used & (1u << nr)) != 0) {
            coremu_error("-device %s,nr=%u: virtio-serial-bus: A port already exists at id %u",
                         driver, nr, nr);
            errors++;
        }
    } else if (errors == 0) {
        if (console && !plan->bus[b].console0) {
            nr = 0;
        } else {
            for (nr = 1; nr < max && (used & (1u << nr)) != 0; nr++) {
            }
            if (nr == max) {
                coremu_error("-device %s: virtio-serial-bus: no free port (max_ports=%u)", driver,
                             max);
                errors++;
            }
        }
    }
    if (errors != 0) {
        return errors;
    }
    plan->bus[b].used_nrs |= 1u << nr;
    plan->bus[b].console0 = plan->bus[b].console0 || nr == 0;
    plan->port[plan->nports].bus = b;
    plan->port[plan->nports].cfg = (struct virtio_serial_port_config){
        .nr = nr,
        .console = console,
        .name = name,
        .chardev = chr < o->nchardevs ? &o->chardevs[chr] : NULL,
    };
    plan->nports++;
    if (chr < o->nchardevs) {
        plan->chardev_users[chr]++;
    }
    return 0;
}

bool virtio_serial_cmdline_device(const struct coremu_options *o, const struct coremu_kv *dv,
                                  const char *suffix, unsigned dev_index,
                                  struct virtio_serial_plan *plan, unsigned *errors,
                                  unsigned *max_ports, unsigned *transport)
{
    const char *driver = coremu_kv_get(dv, "driver");
    *max_ports = 0;
    *transport = 0;
    /* suffix may name two transports, "OWN|SECOND": the device may be either. */
    bool is_bus = strcmp(driver, "virtio-serial") == 0;
    const char *sfx = suffix;
    for (unsigned t = 0; !is_bus && sfx != NULL; t++) {
        const char *bar = strchr(sfx, '|');
        size_t len = bar != NULL ? (size_t)(bar - sfx) : strlen(sfx);
        if (strncmp(driver, "virtio-serial-", 14) == 0 && strlen(driver + 14) == len &&
            strncmp(driver + 14, sfx, len) == 0) {
            is_bus = true;
            *transport = t;
        }
        sfx = bar != NULL ? bar + 1 : NULL;
    }
    if (is_bus) {
        *errors += plan_bus(dv, driver, dev_index, plan, max_ports);
    } else if (strcmp(driver, "virtconsole") == 0) {
        *errors += plan_port(o, dv, driver, true, plan);
    } else if (strcmp(driver, "virtserialport") == 0) {
        *errors += plan_port(o, dv, driver, false, plan);
    } else {
        return false;
    }
    return true;
}

/* The chardev index a -mon names, or nchardevs after an error line. */
static unsigned check_mon(const struct coremu_options *o, const struct coremu_kv *mon,
                          const struct virtio_serial_plan *plan)
{
    static const char *const keys[] = {"chardev", "mode", "pretty", "id", NULL};
    char err[256];
    const char *id = coremu_kv_get(mon, "chardev");
    const char *mode = coremu_kv_get(mon, "mode");
    if (coremu_kv_check(mon, keys, err, sizeof(err)) != 0) {
        coremu_error("-mon: %s", err);
        return 1;
    }
    unsigned c = chardev_index(o, id);
    if (c == o->nchardevs) {
        coremu_error("-mon chardev=%s: no -chardev with that id", id);
        return 1;
    }
    if (mode != NULL && strcmp(mode, "readline") != 0) {
        coremu_error("-mon chardev=%s,mode=%s: there is no monitor yet (QMP included): the "
                     "monitor is a later issue",
                     id, mode);
        return 1;
    }
    struct coremu_chardev_info info;
    if (coremu_chardev_check_kv(&o->chardevs[c], &info, err, sizeof(err)) != 0) {
        return 0; /* named by the -chardev check */
    }
    /* What a package-build VM passes: the monitor muxed with its console. The console works,
     * and the escape keys of mux=on (C-a x, C-a h) with it; C-a c says that there is no
     * monitor, as on -serial mon:stdio. A monitor of its own would be a silent no-op. */
    if (!info.mux || plan->chardev_users[c] == 0) {
        coremu_error("-mon chardev=%s: there is no monitor yet (a later issue); coremu takes -mon "
                     "only on a mux=on chardev that a console also uses, as -serial mon:stdio",
                     id);
        return 1;
    }
    return 0;
}

unsigned virtio_serial_cmdline_finish(const struct coremu_options *o,
                                      struct virtio_serial_plan *plan)
{
    unsigned errors = 0, stdio_users = 0;
    bool mon_of[COREMU_MAX_LIST] = {false};
    for (unsigned i = 0; i < o->nmons; i++) {
        errors += check_mon(o, &o->mons[i], plan);
        unsigned c = chardev_index(o, coremu_kv_get(&o->mons[i], "chardev"));
        if (c < o->nchardevs) {
            mon_of[c] = true;
        }
    }
    for (unsigned i = 0; i < o->nchardevs; i++) {
        const struct coremu_kv *kv = &o->chardevs[i];
        const char *id = coremu_kv_get(kv, "id");
        struct coremu_chardev_info info;
        char err[256];
        if (coremu_chardev_check_kv(kv, &info, err, sizeof(err)) != 0) {
            coremu_error("-chardev %s,id=%s: %s", coremu_kv_get(kv, "backend"), id, err);
            errors++;
            continue;
        }
        if (info.stdio && ++stdio_users == 2) {
            coremu_error("-chardev %s,id=%s: cannot use stdio by multiple character devices",
                         coremu_kv_get(kv, "backend"), id);
            errors++;
        }
        if (plan->chardev_users[i] > 1) {
            /* QEMU's mux=on shares one chardev between front ends; coremu's escape filter
             * serves one. */
            coremu_error("-chardev %s: used by %u devices (coremu connects one device to a "
                         "chardev%s)",
                         id, plan->chardev_users[i], info.mux ? ", mux=on included" : "");
            errors++;
        } else if (plan->chardev_users[i] == 0 && !mon_of[i]) {
            coremu_warn("-chardev %s: no device uses it (it is not opened)", id);
        }
    }
    /* The serial port's back end (lib/main.c): -serial, or with -nographic the terminal. */
    const char *serial = o->nserials > 0                  ? o->serials[0]
                         : o->nographic && !o->nodefaults ? "mon:stdio"
                                                          : NULL;
    struct coremu_chardev_info sinfo;
    char err[256];
    if (stdio_users > 0 && serial != NULL &&
        coremu_chardev_check(serial, &sinfo, err, sizeof(err)) == 0 && sinfo.stdio) {
        coremu_error("-serial %s: cannot use stdio by multiple character devices (a -chardev "
                     "uses it%s)",
                     serial, o->nserials > 0 ? "" : "; -nographic puts the serial port there");
        errors++;
    }
    return errors;
}

struct coremu_virtio_device *virtio_serial_cmdline_create(const struct virtio_serial_plan *plan,
                                                          unsigned dev_index, unsigned max_ports,
                                                          struct coremu_as *as,
                                                          struct coremu_xmon *xmon, char *err,
                                                          size_t errlen)
{
    struct virtio_serial_port_config ports[COREMU_MAX_LIST];
    unsigned n = 0;
    for (unsigned b = 0; b < plan->nbuses; b++) {
        if (plan->bus[b].dev_index != dev_index) {
            continue;
        }
        for (unsigned i = 0; i < plan->nports; i++) {
            if (plan->port[i].bus == b) {
                ports[n++] = plan->port[i].cfg;
            }
        }
    }
    return virtio_serial_new(as, xmon, max_ports, ports, n, err, errlen);
}
