/*
 * coremu — the virtio devices the command line asks for, in QEMU's syntax, checked before the
 * board is built and created while it is:
 *
 *   -drive file=F[,format=raw|qcow2][,if=virtio|none][,id=ID][,media=disk][,cache=...]...
 *       if=virtio (the virt board's default interface) makes a virtio-blk device of its own;
 *       if=none only defines the drive, for -device virtio-blk-*,drive=ID.
 *   -device virtio-blk-SUFFIX,drive=ID[,serial=S][,id=X]
 *   -device virtio-rng-SUFFIX[,rng=ID][,id=X]      (no rng=: a built-in /dev/urandom source)
 *   -object rng-random,id=ID[,filename=FILE]       (default /dev/urandom)
 *   -object rng-builtin,id=ID
 *   -device virtio-serial-SUFFIX[,max_ports=N][,id=X]   (virtio-serial: the same)
 *   -device virtconsole|virtserialport[,chardev=ID][,name=NAME][,nr=N][,id=X]
 *       a port on the first virtio-serial device with room, numbered as QEMU numbers it;
 *       -chardev, -mon and the users of stdio checked as virtio_serial.h says
 *   -snapshot: every drive snapshot=on; -drive index=/bus=/unit= checked as QEMU checks them
 *   -netdev user,id=ID[,hostfwd=...][,...]         (include/coremu/net.h: the back end)
 *   -device virtio-net-SUFFIX[,netdev=ID][,mac=MAC][,id=X]
 *   -nic user[,model=virtio|virtio-net-SUFFIX][,mac=MAC][,back end keys] | -nic none
 *   -net nic[,model=...][,macaddr=MAC] -net user[,...] (QEMU's hub: one nic and one user at
 *       most, joined; more is an error that points to -nic and -netdev) | -net none
 *
 * NICs without a MAC address get QEMU's defaults in QEMU's order: 52:54:00:12:34:56 for the
 * first (-nic, then -net, then -device), counting up. A -nic or -net nic NIC of model virtio
 * goes where QEMU puts it: on PCI when the board has virtio-pci (the virt board's second
 * transport); model=virtio-net-device picks virtio-mmio. No board adds a default NIC yet
 * (QEMU's virt adds a virtio-net-pci one without -nodefaults, -nic, -net or -netdev).
 *
 * SUFFIX is the board's transport ("device" for virtio-mmio, "pci" for virtio-pci, whose
 * devices also take addr=SLOT[.FN], which the board checks). A board with two transports gives
 * both as "OWN|SECOND" ("device|pci" on the ARM virt board): a -device may name either, and says
 * which in its plan entry; if=virtio drives and the NICs of -nic/-net use OWN. Devices come in
 * QEMU's order:
 * every -device in command-line order, then every if=virtio drive in command-line order, then
 * the NICs of -nic and -net.
 * Anything else (an unknown device or property, a drive used twice or not defined, another
 * transport's name) is one error line.
 */
#ifndef COREMU_HW_VIRTIO_CMDLINE_H
#define COREMU_HW_VIRTIO_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/options.h>
#include <coremu/virtio.h>

#include "virtio_serial.h"

#define VIRTIO_CMDLINE_MAX (2 * COREMU_MAX_LIST) /* -device plus -drive if=virtio */

enum virtio_cmdline_kind {
    VIRTIO_CMDLINE_BLK,
    VIRTIO_CMDLINE_RNG,
    VIRTIO_CMDLINE_SERIAL,
    VIRTIO_CMDLINE_NET
};

/* One device to create. Strings point into the options, which outlive the board. */
struct virtio_cmdline_dev {
    enum virtio_cmdline_kind kind;
    const struct coremu_kv *drive; /* blk: the -drive list */
    const char *serial;            /* blk: serial= or NULL */
    const char *rng_file;          /* rng: the entropy file */
    unsigned max_ports;            /* serial: the ports it offers (its ports are in plan) */
    const char *addr;              /* -device addr= (PCI transports: "SLOT[.FN]") or NULL */
    bool second_transport;         /* -device named with the board's second SUFFIX */
    const struct coremu_kv *netdev; /* net: the back end's keys (-netdev, -nic, -net user) or
                                     * NULL: connected to nothing */
    const char *const *nic_keys;    /* net: keys of that list that are the NIC's, not the back
                                     * end's (NULL-terminated) */
    uint8_t mac[6];                 /* net: the MAC address */
};

struct virtio_cmdline {
    unsigned n;
    struct virtio_cmdline_dev dev[VIRTIO_CMDLINE_MAX];
    bool global_snapshot; /* -snapshot */
    /* The virtio-serial devices' ports. */
    struct virtio_serial_plan serial;
};

/* Reads -drive, -device and -object of o into plan, for a board whose virtio transport names
 * its devices virtio-*-SUFFIX. Prints one line per problem (coremu_error) and returns how many. */
unsigned virtio_cmdline_check(const struct coremu_options *o, const char *machine,
                              const char *suffix, struct virtio_cmdline *plan);

/* Creates the device d (opening its image or entropy file) on guest memory as and xmon. NULL
 * with a one-line message in err. The device is freed through dev->ops->free. */
struct coremu_virtio_device *virtio_cmdline_create(const struct virtio_cmdline *plan,
                                                   const struct virtio_cmdline_dev *d,
                                                   struct coremu_as *as, struct coremu_xmon *xmon,
                                                   char *err, size_t errlen);

#endif /* COREMU_HW_VIRTIO_CMDLINE_H */
