/*
 * coremu — the virtio devices of the command line. See virtio_cmdline.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/block.h>
#include <coremu/net.h>

#include "virtio_blk.h"
#include "virtio_cmdline.h"
#include "virtio_serial.h"
#include "virtio_net.h"
#include "virtio_rng.h"

/* The -drive's interface: QEMU's default on this board is virtio. */
static const char *drive_if(const struct coremu_kv *d)
{
    const char *v = coremu_kv_get(d, "if");
    return v != NULL ? v : "virtio";
}

/* Checks the board's keys of one -drive. */
static unsigned check_drive(const struct coremu_kv *d, const char *machine)
{
    unsigned errors = 0;
    const char *iface = drive_if(d);
    const char *media = coremu_kv_get(d, "media");
    if (strcmp(iface, "virtio") != 0 && strcmp(iface, "none") != 0) {
        coremu_error("-drive if=%s: the %s machine has only if=virtio and if=none", iface, machine);
        errors++;
    }
    if (strcmp(iface, "none") == 0 && coremu_kv_get(d, "id") == NULL) {
        coremu_error("-drive if=none needs an id= for -device ...,drive=ID");
        errors++;
    }
    if (coremu_kv_get(d, "file") == NULL) {
        coremu_error("-drive: file= is required (coremu has no empty drives)");
        errors++;
    }
    if (media != NULL && strcmp(media, "disk") != 0) {
        coremu_error("-drive media=%s: only media=disk is supported (virtio has no CD-ROM)", media);
        errors++;
    }
    for (unsigned i = 0; i < d->n; i++) {
        const char *k = d->key[i];
        if (strcmp(k, "serial") == 0) {
            coremu_error("-drive serial= is not supported (QEMU removed it): use -device "
                         "virtio-blk-device,drive=ID,serial=S");
            errors++;
        }
    }
    return errors;
}

/* A -drive's index=, bus= or unit=: *out = -1 when absent (or -1). 0, or 1 after an error. */
static unsigned drive_number(const struct coremu_kv *d, const char *key, long *out)
{
    const char *v = coremu_kv_get(d, key);
    char *end;
    *out = -1;
    if (v == NULL) {
        return 0;
    }
    errno = 0;
    long n = strtol(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || errno != 0 || n < -1 || n > 65535) {
        coremu_error("-drive %s=%s: parameter '%s' expects a number", key, v, key);
        return 1;
    }
    *out = n;
    return 0;
}

/* index=, bus= and unit= as QEMU reads them for interfaces without a unit limit (virtio, none):
 * index=N is bus 0, unit N; a drive without a unit takes its bus's first free one; two drives of
 * one interface on the same bus and unit are refused. They place nothing: devices still come in
 * command-line order, as in QEMU. */
static unsigned check_drive_places(const struct coremu_options *o)
{
    long bus[COREMU_MAX_LIST], unit[COREMU_MAX_LIST];
    unsigned errors = 0;
    for (unsigned i = 0; i < o->ndrives; i++) {
        const struct coremu_kv *d = &o->drives[i];
        long index, b, u;
        unsigned e = drive_number(d, "index", &index) + drive_number(d, "bus", &b) +
                     drive_number(d, "unit", &u);
        bus[i] = unit[i] = -2; /* takes no place */
        if (e != 0) {
            errors += e;
            continue;
        }
        b = b < 0 ? 0 : b;
        if (index >= 0) {
            if (b != 0 || u != -1) {
                coremu_error("-drive %s: index cannot be used with bus and unit",
                             coremu_kv_get(d, "file") != NULL ? coremu_kv_get(d, "file") : "");
                errors++;
                continue;
            }
            u = index;
        }
        bool auto_unit = u < 0;
        for (u = auto_unit ? 0 : u;; u++) {
            unsigned j;
            for (j = 0; j < i; j++) {
                if (bus[j] == b && unit[j] == u &&
                    strcmp(drive_if(&o->drives[j]), drive_if(d)) == 0) {
                    break;
                }
            }
            if (j == i) {
                break;
            }
            if (!auto_unit) {
                const char *file = coremu_kv_get(d, "file");
                coremu_error("-drive %s: drive with bus=%ld, unit=%ld (index=%ld) exists",
                             file != NULL ? file : "", b, u, index);
                errors++;
                u = -2;
                break;
            }
        }
        bus[i] = u == -2 ? -2 : b;
        unit[i] = u;
    }
    return errors;
}

static const struct coremu_kv *find_by_id(const struct coremu_kv *list, unsigned n, const char *id,
                                          unsigned *index)
{
    for (unsigned i = 0; i < n; i++) {
        const char *v = coremu_kv_get(&list[i], "id");
        if (v != NULL && strcmp(v, id) == 0) {
            *index = i;
            return &list[i];
        }
    }
    return NULL;
}

/* Every key of kv is in allowed (NULL-terminated); else one line naming the first stranger.
 * A PCI device (what ends in "-pci") may also have addr=. */
static unsigned check_keys(const struct coremu_kv *kv, const char *what, const char *const *allowed)
{
    char err[256];
    const char *keys[16];
    unsigned n = 0;
    for (; allowed[n] != NULL && n < 14; n++) {
        keys[n] = allowed[n];
    }
    size_t wlen = strlen(what);
    if (wlen > 4 && strcmp(what + wlen - 4, "-pci") == 0) {
        keys[n++] = "addr";
    }
    keys[n] = NULL;
    if (coremu_kv_check(kv, keys, err, sizeof(err)) != 0) {
        coremu_error("%s: %s", what, err);
        return 1;
    }
    return 0;
}

/* -object: the entropy back ends. */
static unsigned check_objects(const struct coremu_options *o)
{
    static const char *const random_keys[] = {"qom-type", "id", "filename", NULL};
    static const char *const builtin_keys[] = {"qom-type", "id", NULL};
    unsigned errors = 0;
    for (unsigned i = 0; i < o->nobjects; i++) {
        const struct coremu_kv *ob = &o->objects[i];
        const char *type = coremu_kv_get(ob, "qom-type");
        if (strcmp(type, "rng-random") == 0) {
            errors += check_keys(ob, "-object rng-random", random_keys);
        } else if (strcmp(type, "rng-builtin") == 0) {
            errors += check_keys(ob, "-object rng-builtin", builtin_keys);
        } else {
            coremu_error("-object %s is not supported (rng-random and rng-builtin are)", type);
            errors++;
        }
    }
    return errors;
}

/* The entropy file of the -object named id, or NULL (an error line) when there is none. */
static const char *rng_object_file(const struct coremu_options *o, const char *device,
                                   const char *id)
{
    unsigned index;
    const struct coremu_kv *ob = find_by_id(o->objects, o->nobjects, id, &index);
    if (ob == NULL) {
        coremu_error("-device %s: rng=%s: no -object with that id", device, id);
        return NULL;
    }
    const char *file = coremu_kv_get(ob, "filename");
    return file != NULL && strcmp(coremu_kv_get(ob, "qom-type"), "rng-random") == 0
               ? file
               : VIRTIO_RNG_DEFAULT_FILE;
}

/* ---- Networks: -netdev, -nic, -net and -device virtio-net-* ------------------------------- */

/* The keys of a -nic, of a -net nic and of a -net user that are not the back end's. */
static const char *const nic_keys[] = {"model", "mac", NULL};
static const char *const net_nic_keys[] = {"type", "model", "macaddr", "id", "name", NULL};
static const char *const net_user_keys[] = {"name", NULL};

/* Where the next default MAC address comes from (QEMU counts up from ...:56). */
struct mac_counter {
    unsigned next;
};

/* mac (the option's value, or NULL for the next default) into out. 0, or 1 after an error. */
static unsigned nic_mac(const char *what, const char *key, const char *mac, struct mac_counter *c,
                        uint8_t out[6])
{
    static const uint8_t base[6] = COREMU_NET_DEFAULT_MAC;
    if (mac != NULL) {
        if (coremu_net_parse_mac(mac, out) != 0) {
            coremu_error("%s: %s=%s: expected a unicast MAC address like 52:54:00:12:34:56", what,
                         key, mac);
            return 1;
        }
        return 0;
    }
    memcpy(out, base, 6);
    out[5] = (uint8_t)(base[5] + c->next++);
    return 0;
}

/* A -nic or -net nic model=: the board's virtio NIC, or one error line. With two transports
 * (second_name not NULL), "virtio" or no model is where QEMU puts a -nic NIC: on PCI (the virt
 * board's virtio-net-pci), and *second says whether that is the second transport; naming either
 * device picks it (virtio-net-device on virt is coremu's own: QEMU refuses it there). */
static unsigned nic_model(const char *what, const char *model, const char *net_name,
                          const char *second_name, bool *second)
{
    *second = false;
    if (model == NULL || strcmp(model, "virtio") == 0) {
        *second = second_name != NULL && strcmp(second_name, "virtio-net-pci") == 0;
        return 0;
    }
    if (strcmp(model, net_name) == 0) {
        return 0;
    }
    if (second_name != NULL && strcmp(model, second_name) == 0) {
        *second = true;
        return 0;
    }
    if (second_name != NULL) {
        coremu_error("%s: model=%s is not supported (virtio, %s and %s are)", what, model,
                     second_name, net_name);
    } else {
        coremu_error("%s: model=%s is not supported (virtio, that is %s, is the only NIC)", what,
                     model, net_name);
    }
    return 1;
}

/* Checks the back end keys of kv; 0, or 1 after an error line prefixed with what. */
static unsigned check_backend(const char *what, const struct coremu_kv *kv,
                              const char *const *skip)
{
    char err[256];
    if (coremu_net_check(kv, skip, err, sizeof(err)) != 0) {
        coremu_error("%s: %s", what, err);
        return 1;
    }
    return 0;
}

/* -netdev: every back end checked. */
static unsigned check_netdevs(const struct coremu_options *o)
{
    unsigned errors = 0;
    for (unsigned i = 0; i < o->nnetdevs; i++) {
        char what[96];
        snprintf(what, sizeof(what), "-netdev %s,id=%s", coremu_kv_get(&o->netdevs[i], "type"),
                 coremu_kv_get(&o->netdevs[i], "id"));
        errors += check_backend(what, &o->netdevs[i], NULL);
    }
    return errors;
}

/* The NICs of -nic and -net, in that order, into nics[] (at most COREMU_MAX_LIST + 1);
 * second_name: the NIC of the board's second transport, or NULL. */
static unsigned check_nics(const struct coremu_options *o, const char *net_name,
                           const char *second_name, struct mac_counter *macs,
                           struct virtio_cmdline_dev *nics, unsigned *nnics)
{
    unsigned errors = 0;
    *nnics = 0;
    for (unsigned i = 0; i < o->nnics; i++) {
        const struct coremu_kv *kv = &o->nics[i];
        const char *type = coremu_kv_get(kv, "type");
        if (strcmp(type, "none") == 0) {
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "-nic %s", type);
        unsigned e = check_backend(what, kv, nic_keys);
        bool second;
        e += nic_model(what, coremu_kv_get(kv, "model"), net_name, second_name, &second);
        struct virtio_cmdline_dev d = {.kind = VIRTIO_CMDLINE_NET, .netdev = kv,
                                       .nic_keys = nic_keys, .second_transport = second};
        e += nic_mac(what, "mac", coremu_kv_get(kv, "mac"), macs, d.mac);
        if (e == 0) {
            nics[(*nnics)++] = d;
        }
        errors += e;
    }
    /* -net: QEMU joins every -net of hub 0; one nic and one user back end is what people pass,
     * and all coremu joins. */
    const struct coremu_kv *nic = NULL, *user = NULL;
    bool nic_second = false;
    for (unsigned i = 0; i < o->nnets; i++) {
        const struct coremu_kv *kv = &o->nets[i];
        const char *type = coremu_kv_get(kv, "type");
        if (strcmp(type, "none") == 0) {
            continue;
        }
        const struct coremu_kv **slot = strcmp(type, "nic") == 0 ? &nic : &user;
        if (*slot != NULL) {
            coremu_error("-net %s: coremu joins one -net nic to one -net user back end (use -nic "
                         "or -netdev and -device for more)",
                         type);
            errors++;
            continue;
        }
        *slot = kv;
        char what[64];
        snprintf(what, sizeof(what), "-net %s", type);
        if (slot == &user) {
            errors += check_backend(what, kv, net_user_keys);
            continue;
        }
        char err[256];
        if (coremu_kv_check(kv, net_nic_keys, err, sizeof(err)) != 0) {
            coremu_error("%s: %s", what, err);
            errors++;
        }
        errors += nic_model(what, coremu_kv_get(kv, "model"), net_name, second_name, &nic_second);
    }
    if (nic != NULL) {
        struct virtio_cmdline_dev d = {.kind = VIRTIO_CMDLINE_NET, .netdev = user,
                                       .nic_keys = net_user_keys, .second_transport = nic_second};
        errors += nic_mac("-net nic", "macaddr", coremu_kv_get(nic, "macaddr"), macs, d.mac);
        nics[(*nnics)++] = d;
        if (user == NULL) {
            coremu_warn("-net nic: the NIC is not connected to any back end (add -net user)");
        }
    } else if (user != NULL) {
        coremu_warn("-net user: no -net nic uses this back end");
    }
    return errors;
}

/* -device virtio-net-SUFFIX: its back end (-netdev) and MAC address into d. */
static unsigned check_net_device(const struct coremu_options *o, const struct coremu_kv *dv,
                                 const char *net_name, bool *netdev_used, struct mac_counter *macs,
                                 struct virtio_cmdline_dev *d)
{
    static const char *const keys[] = {"driver", "netdev", "mac", "id", NULL};
    char what[64];
    snprintf(what, sizeof(what), "-device %s", net_name);
    unsigned errors = check_keys(dv, what, keys);
    *d = (struct virtio_cmdline_dev){.kind = VIRTIO_CMDLINE_NET};
    const char *id = coremu_kv_get(dv, "netdev");
    if (id != NULL) {
        unsigned index;
        d->netdev = find_by_id(o->netdevs, o->nnetdevs, id, &index);
        if (d->netdev == NULL) {
            coremu_error("%s: netdev=%s: no -netdev with that id", what, id);
            errors++;
        } else if (netdev_used[index]) {
            coremu_error("%s: netdev=%s is already in use", what, id);
            errors++;
        } else {
            netdev_used[index] = true;
        }
    }
    errors += nic_mac(what, "mac", coremu_kv_get(dv, "mac"), macs, d->mac);
    return errors;
}

static unsigned add_dev(struct virtio_cmdline *plan, struct virtio_cmdline_dev d)
{
    if (plan->n == VIRTIO_CMDLINE_MAX) {
        coremu_error("too many virtio devices (at most %u)", VIRTIO_CMDLINE_MAX);
        return 1;
    }
    plan->dev[plan->n++] = d;
    return 0;
}

unsigned virtio_cmdline_check(const struct coremu_options *o, const char *machine,
                              const char *suffix, struct virtio_cmdline *plan)
{
    static const char *const blk_keys[] = {"driver", "drive", "serial", "id", NULL};
    static const char *const rng_keys[] = {"driver", "rng", "id", NULL};
    char blk_name[32], rng_name[32], net_name[32];
    bool used[COREMU_MAX_LIST] = {false};
    bool netdev_used[COREMU_MAX_LIST] = {false};
    struct virtio_cmdline_dev nics[COREMU_MAX_LIST + 1];
    unsigned nnics = 0;
    struct mac_counter macs = {0};
    unsigned errors = 0, max_ports, serial_transport;

    memset(plan, 0, sizeof(*plan));
    plan->global_snapshot = o->snapshot;
    errors += check_drive_places(o);
    /* "own|second": two transports (virtio_cmdline.h); the names below are the first's until a
     * -device names the second. */
    const char *second = strchr(suffix, '|');
    char own[16];
    snprintf(own, sizeof(own), "%.*s", second != NULL ? (int)(second - suffix) : 15, suffix);
    second = second != NULL ? second + 1 : NULL;
    snprintf(blk_name, sizeof(blk_name), "virtio-blk-%s", own);
    snprintf(rng_name, sizeof(rng_name), "virtio-rng-%s", own);
    snprintf(net_name, sizeof(net_name), "virtio-net-%s", own);
    char net_second[32];
    snprintf(net_second, sizeof(net_second), "virtio-net-%s", second != NULL ? second : "");
    errors += check_netdevs(o);
    /* QEMU gives -nic and -net NICs their MAC addresses before any -device. */
    errors += check_nics(o, net_name, second != NULL ? net_second : NULL, &macs, nics, &nnics);
    for (unsigned i = 0; i < o->ndrives; i++) {
        errors += check_drive(&o->drives[i], machine);
    }
    errors += check_objects(o);
    for (unsigned i = 0; i < o->ndevices; i++) {
        const struct coremu_kv *dv = &o->devices[i];
        const char *driver = coremu_kv_get(dv, "driver");
        unsigned planned = plan->n;
        size_t dlen = strlen(driver), slen = second != NULL ? strlen(second) : 0;
        bool on_second = second != NULL && dlen > slen + 1 && driver[dlen - slen - 1] == '-' &&
                         strcmp(driver + dlen - slen, second) == 0;
        const char *sfx = on_second ? second : own;
        snprintf(blk_name, sizeof(blk_name), "virtio-blk-%s", sfx);
        snprintf(rng_name, sizeof(rng_name), "virtio-rng-%s", sfx);
        snprintf(net_name, sizeof(net_name), "virtio-net-%s", sfx);
        if (strcmp(driver, blk_name) == 0) {
            char what[64];
            snprintf(what, sizeof(what), "-device %s", blk_name);
            errors += check_keys(dv, what, blk_keys);
            const char *id = coremu_kv_get(dv, "drive");
            unsigned index;
            const struct coremu_kv *drive =
                id != NULL ? find_by_id(o->drives, o->ndrives, id, &index) : NULL;
            if (id == NULL) {
                coremu_error("-device %s: drive= is required", blk_name);
                errors++;
            } else if (drive == NULL) {
                coremu_error("-device %s: drive=%s: no -drive with that id", blk_name, id);
                errors++;
            } else if (used[index] || strcmp(drive_if(drive), "none") != 0) {
                coremu_error("-device %s: drive=%s is already in use%s", blk_name, id,
                             used[index] ? "" : " (give it if=none)");
                errors++;
            } else {
                used[index] = true;
                errors += add_dev(plan, (struct virtio_cmdline_dev){
                                            .kind = VIRTIO_CMDLINE_BLK,
                                            .drive = drive,
                                            .serial = coremu_kv_get(dv, "serial"),
                                        });
            }
        } else if (strcmp(driver, rng_name) == 0) {
            char what[64];
            snprintf(what, sizeof(what), "-device %s", rng_name);
            errors += check_keys(dv, what, rng_keys);
            const char *id = coremu_kv_get(dv, "rng");
            const char *file =
                id != NULL ? rng_object_file(o, rng_name, id) : VIRTIO_RNG_DEFAULT_FILE;
            if (file == NULL) {
                errors++;
            } else {
                errors += add_dev(plan, (struct virtio_cmdline_dev){
                                            .kind = VIRTIO_CMDLINE_RNG,
                                            .rng_file = file,
                                        });
            }
        } else if (strcmp(driver, net_name) == 0) {
            struct virtio_cmdline_dev d;
            unsigned e = check_net_device(o, dv, net_name, netdev_used, &macs, &d);
            errors += e != 0 ? e : add_dev(plan, d);
        } else if (virtio_serial_cmdline_device(o, dv, sfx, plan->n, &plan->serial, &errors,
                                                &max_ports, &serial_transport)) {
            if (max_ports != 0) {
                errors += add_dev(plan, (struct virtio_cmdline_dev){
                                            .kind = VIRTIO_CMDLINE_SERIAL,
                                            .max_ports = max_ports,
                                        });
            }
        } else if (strncmp(driver, "virtio-", 7) == 0 &&
                   (strstr(driver, "-pci") != NULL || strstr(driver, "-device") != NULL)) {
            coremu_error("-device %s is not supported yet on the %s machine (it has %s, %s and "
                         "%s)",
                         driver, machine, blk_name, rng_name, net_name);
            errors++;
        } else {
            coremu_error("-device %s: unknown device ('%s', '%s' and '%s' are supported)", driver,
                         blk_name, rng_name, net_name);
            errors++;
        }
        if (plan->n == planned + 1) {
            plan->dev[planned].addr = coremu_kv_get(dv, "addr");
            plan->dev[planned].second_transport = on_second;
        }
    }
    errors += virtio_serial_cmdline_finish(o, &plan->serial);
    for (unsigned i = 0; i < o->ndrives; i++) {
        if (strcmp(drive_if(&o->drives[i]), "virtio") == 0) {
            errors += add_dev(plan, (struct virtio_cmdline_dev){
                                        .kind = VIRTIO_CMDLINE_BLK,
                                        .drive = &o->drives[i],
                                    });
        }
    }
    for (unsigned i = 0; i < nnics; i++) {
        errors += add_dev(plan, nics[i]);
    }
    for (unsigned i = 0; i < o->nnetdevs && errors == 0; i++) {
        if (!netdev_used[i]) {
            coremu_warn("-netdev %s,id=%s: no NIC uses this back end",
                        coremu_kv_get(&o->netdevs[i], "type"), coremu_kv_get(&o->netdevs[i], "id"));
        }
    }
    return errors;
}

struct coremu_virtio_device *virtio_cmdline_create(const struct virtio_cmdline *plan,
                                                   const struct virtio_cmdline_dev *d,
                                                   struct coremu_as *as, struct coremu_xmon *xmon,
                                                   char *err, size_t errlen)
{
    if (d->kind == VIRTIO_CMDLINE_RNG) {
        return virtio_rng_new(as, xmon, d->rng_file, err, errlen);
    }
    if (d->kind == VIRTIO_CMDLINE_SERIAL) {
        return virtio_serial_cmdline_create(&plan->serial, (unsigned)(d - plan->dev), d->max_ports,
                                            as, xmon, err, errlen);
    }
    if (d->kind == VIRTIO_CMDLINE_NET) {
        struct coremu_net *backend = NULL;
        if (d->netdev != NULL) {
            char why[256];
            backend = coremu_net_new(d->netdev, d->nic_keys, why, sizeof(why));
            if (backend == NULL) {
                /* The option it came from: its NIC keys tell. */
                const char *opt = d->nic_keys == nic_keys         ? "-nic"
                                  : d->nic_keys == net_user_keys ? "-net"
                                                                 : "-netdev";
                snprintf(err, errlen, "%s %s: %s", opt, coremu_kv_get(d->netdev, "type"), why);
                return NULL;
            }
        }
        struct coremu_virtio_device *dev = virtio_net_new(as, xmon, backend, d->mac);
        if (dev == NULL) {
            snprintf(err, errlen, "cannot create virtio-net: out of memory or threads");
        }
        return dev;
    }
    /* The block layer reads its keys of the -drive, leaves the board's (if, id...) alone and
     * names the first key that is neither. */
    struct coremu_block_options bo;
    char why[256];
    const char *file = coremu_kv_get(d->drive, "file");
    if (coremu_block_options_from_drive(d->drive, plan->global_snapshot, &bo, why, sizeof(why)) !=
        0) {
        snprintf(err, errlen, "%s", why); /* it names the -drive key itself */
        return NULL;
    }
    struct coremu_block *blk = coremu_block_open(&bo, why, sizeof(why));
    if (blk == NULL) {
        snprintf(err, errlen, "-drive %s: %s", file, why);
        return NULL;
    }
    struct coremu_virtio_device *dev = virtio_blk_new(as, xmon, blk, d->serial);
    if (dev == NULL) {
        snprintf(err, errlen, "-drive %s: cannot create virtio-blk: out of memory", file);
    }
    return dev;
}
