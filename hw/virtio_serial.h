/*
 * coremu — virtio-console (virtio 1.x, 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: QEMU's
 * virtio-serial bus (-device virtio-serial-device / virtio-serial-pci) and its ports, each on a
 * character device: -device virtconsole (a console port: the guest's /dev/hvcN, console=hvc0)
 * and -device virtserialport,name=org.foo (the guest's /dev/vportNpM, named in
 * /sys/class/virtio-ports/vportNpM/name).
 *
 * The device knows no transport: it is a struct coremu_virtio_device that virtio-mmio or
 * virtio-pci carries. Queues, in the spec's order: port 0's receive and transmit queues, the
 * control receive and transmit queues, then receive and transmit for ports 1, 2, ... The control
 * protocol (5.3.6.2): the driver says DEVICE_READY, the device announces every port
 * (DEVICE_ADD), the driver says PORT_READY for each, and the device answers with CONSOLE_PORT
 * (console ports), PORT_NAME (named ports) and PORT_OPEN (a port with a character device is
 * open on the host side); the driver's PORT_OPEN tells when a guest program opened the port.
 *
 * Data. Guest writes (transmit queues) go to the port's character device on the kicking core's
 * thread: the chardev never blocks a core (a slow peer drops, as a serial line would). Host
 * input goes into the guest's receive buffers on the I/O thread, with backpressure: the
 * chardev is asked for at most what the guest's next buffer holds, and is not read at all while
 * the guest has no buffer or has not opened the port; a new buffer from the guest (a kick of
 * the receive queue) lets the chardev read again.
 *
 * Threads and locks: see virtio_serial.c; everything mutable is under the device's lock
 * (dev->lock), taken by the transport around register accesses and by the chardev callbacks on
 * the I/O thread. The lock order is device lock, then the chardev's own lock (a chardev never
 * holds its lock while calling its front end).
 */
#ifndef COREMU_HW_VIRTIO_SERIAL_H
#define COREMU_HW_VIRTIO_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/options.h>
#include <coremu/virtio.h>

/* Ports one device can have: queues for the control pair and two per port must fit the core's
 * COREMU_VIRTIO_MAX_QUEUES. QEMU's default max_ports is 31. */
#define VIRTIO_SERIAL_MAX_PORTS \
    ((COREMU_VIRTIO_MAX_QUEUES - 2u) / 2u < 32u ? (COREMU_VIRTIO_MAX_QUEUES - 2u) / 2u : 32u)
/* Longest port name (bytes, without the NUL). */
#define VIRTIO_SERIAL_NAME_MAX 127u

/* One port as the command line gave it. */
struct virtio_serial_port_config {
    unsigned nr;                     /* port number (0 only for a console) */
    bool console;                    /* virtconsole */
    const char *name;                /* name= or NULL */
    const struct coremu_kv *chardev; /* the -chardev it uses, or NULL: no host side */
};

/* ---- The command line (hw/virtio_cmdline.c calls these) ---------------------------------------
 */

/* What the command line asks of the virtio-serial family, built while its -device list is
 * checked. Strings and lists point into the options, which outlive the board. */
struct virtio_serial_plan {
    unsigned nbuses;
    struct {
        unsigned dev_index; /* the device's place among the board's virtio devices */
        unsigned max_ports;
        uint32_t used_nrs; /* bit n: port number n is taken (0 is kept for a console) */
        bool console0;     /* a console has port number 0 */
    } bus[COREMU_MAX_LIST];
    unsigned nports;
    struct {
        unsigned bus; /* index into bus[] */
        struct virtio_serial_port_config cfg;
    } port[COREMU_MAX_LIST];
    unsigned chardev_users[COREMU_MAX_LIST]; /* ports using each -chardev */
};

/* -device DRIVER when DRIVER is virtio-serial-SUFFIX (or virtio-serial), virtconsole or
 * virtserialport: checks it into plan, adds the problems (one line each) to *errors, and sets
 * *max_ports to the ports of a new virtio-serial device the caller must add as its device
 * number dev_index (0: no device to add). A board with two transports gives SUFFIX as
 * "OWN|SECOND"; *transport is then 1 for a virtio-serial-SECOND (else 0). false when DRIVER is
 * none of these. */
bool virtio_serial_cmdline_device(const struct coremu_options *o, const struct coremu_kv *dv,
                                  const char *suffix, unsigned dev_index,
                                  struct virtio_serial_plan *plan, unsigned *errors,
                                  unsigned *max_ports, unsigned *transport);
/* After every -device: -chardev, -mon and the users of stdio. Returns the problems (one line
 * each). */
unsigned virtio_serial_cmdline_finish(const struct coremu_options *o,
                                      struct virtio_serial_plan *plan);
/* Creates the virtio-serial device that was dev_index, with its ports. */
struct coremu_virtio_device *virtio_serial_cmdline_create(const struct virtio_serial_plan *plan,
                                                          unsigned dev_index, unsigned max_ports,
                                                          struct coremu_as *as,
                                                          struct coremu_xmon *xmon, char *err,
                                                          size_t errlen);

/* A virtio-serial device with max_ports ports of which the nports in ports exist (numbers
 * checked by the caller: distinct, < max_ports). Opens each port's character device on the
 * default I/O thread (closed when the device is freed). NULL with one line in err. */
struct coremu_virtio_device *virtio_serial_new(struct coremu_as *as, struct coremu_xmon *xmon,
                                               unsigned max_ports,
                                               const struct virtio_serial_port_config *ports,
                                               unsigned nports, char *err, size_t errlen);

#endif /* COREMU_HW_VIRTIO_SERIAL_H */
