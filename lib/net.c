/*
 * coremu — network back ends: their options, the queue of frames for the guest, and the calls
 * a NIC makes. See include/coremu/net.h; the "user" back end is lib/net_slirp.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* QEMU's back end types that coremu knows and does not implement yet. */
static const char *const net_types_not_yet[] = {
    "socket", "stream", "dgram", "tap", "bridge", "l2tpv3", "vde", "netmap", "vhost-user",
    "vhost-vdpa", "af-xdp", "hubport", "vmnet-host", "vmnet-shared", "vmnet-bridged",
};

/* Keys of QEMU's user back end that coremu refuses by name. */
static const char *const user_keys_not_yet[] = {
    "guestfwd", "tftp", "bootfile", "smb", "smbserver", "dnssearch", "tftp-server-name",
    "ipv6-net", "ipv6-host", "ipv6-dns", "ipv6-prefix", "ipv6-prefixlen", "vlan",
};

static const char *const user_keys[] = {
    "type", "id", "net", "host", "dhcpstart", "dns", "restrict", "hostname", "domainname",
    "ipv4", "ipv6", "hostfwd",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static bool in_null_list(const char *const *list, const char *s)
{
    for (; list != NULL && *list != NULL; list++) {
        if (strcmp(*list, s) == 0) {
            return true;
        }
    }
    return false;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An IPv4 address in dotted form. 0 or -1. */
static int parse_ip4(const char *s, struct in_addr *out)
{
    return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

/* A decimal port in [min, 65535]. 0 or -1. */
static int parse_port(const char *s, unsigned min, uint16_t *out)
{
    char *end;
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > 65535) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* net=ADDR[/BITS|/MASK]; without a mask, the address's class decides (as QEMU does). */
static int parse_net(const char *s, struct net_user_config *cfg, char *err, size_t errlen)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (alen >= sizeof(addr)) {
        snprintf(err, errlen, "net=%s: not an IPv4 address", s);
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (parse_ip4(addr, &cfg->net) != 0) {
        snprintf(err, errlen, "net=%s: not an IPv4 address", s);
        return -1;
    }
    uint32_t a = ntohl(cfg->net.s_addr);
    uint32_t mask;
    if (slash == NULL) {
        if ((a & 0x80000000u) == 0) {
            mask = 0xff000000u;
        } else if ((a & 0xfff00000u) == 0xac100000u) {
            mask = 0xfff00000u; /* 172.16.0.0/12 */
        } else if ((a & 0xc0000000u) == 0x80000000u) {
            mask = 0xffff0000u;
        } else if ((a & 0xffff0000u) == 0xc0a80000u) {
            mask = 0xffff0000u; /* 192.168.0.0/16 */
        } else {
            mask = 0xffffff00u;
        }
    } else if (strchr(slash + 1, '.') != NULL) {
        struct in_addr m;
        if (parse_ip4(slash + 1, &m) != 0) {
            snprintf(err, errlen, "net=%s: bad netmask", s);
            return -1;
        }
        mask = ntohl(m.s_addr);
        if ((~mask & (~mask + 1)) != 0) { /* the ones must come first */
            snprintf(err, errlen, "net=%s: bad netmask", s);
            return -1;
        }
    } else {
        char *end;
        unsigned long bits = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits > 32) {
            snprintf(err, errlen, "net=%s: bad prefix length", s);
            return -1;
        }
        mask = bits == 0 ? 0 : ~0u << (32 - bits);
    }
    if (mask == 0 || (~mask) < 3) {
        snprintf(err, errlen, "net=%s: the network is too small", s);
        return -1;
    }
    if ((a & ~mask) != 0) {
        snprintf(err, errlen, "net=%s: host bits set in the network address", s);
        return -1;
    }
    cfg->mask.s_addr = htonl(mask);
    return 0;
}

/* An address of the guest network (host=, dhcpstart=, dns=): inside it, neither the network
 * address nor its broadcast. */
static int parse_member(const char *key, const char *s, const struct net_user_config *cfg,
                        struct in_addr *out, char *err, size_t errlen)
{
    if (parse_ip4(s, out) != 0) {
        snprintf(err, errlen, "%s=%s: not an IPv4 address", key, s);
        return -1;
    }
    uint32_t a = ntohl(out->s_addr), net = ntohl(cfg->net.s_addr), mask = ntohl(cfg->mask.s_addr);
    if ((a & mask) != net || (a & ~mask) == 0 || (a & ~mask) == ~mask) {
        snprintf(err, errlen, "%s=%s: not a host address of the guest network", key, s);
        return -1;
    }
    return 0;
}

/* hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int parse_hostfwd(const char *s, struct net_hostfwd *fwd, char *err, size_t errlen)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf)) {
        snprintf(err, errlen, "hostfwd=%s: too long", s);
        return -1;
    }
    strcpy(buf, s);
    memset(fwd, 0, sizeof(*fwd));
    fwd->text = s;
    char *proto = buf;
    char *haddr = strchr(proto, ':');
    char *hport = haddr != NULL ? strchr(haddr + 1, ':') : NULL;
    char *gaddr = hport != NULL ? strchr(hport + 1, '-') : NULL;
    char *gport = gaddr != NULL ? strchr(gaddr + 1, ':') : NULL;
    if (gport == NULL) {
        snprintf(err, errlen,
                 "hostfwd=%s: expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport", s);
        return -1;
    }
    *haddr++ = '\0';
    *hport++ = '\0';
    *gaddr++ = '\0';
    *gport++ = '\0';
    if (strcmp(proto, "udp") == 0) {
        fwd->udp = true;
    } else if (proto[0] != '\0' && strcmp(proto, "tcp") != 0) {
        snprintf(err, errlen, "hostfwd=%s: protocol '%s': tcp or udp", s, proto);
        return -1;
    }
    fwd->host_addr.s_addr = htonl(INADDR_ANY);
    if (haddr[0] != '\0' && parse_ip4(haddr, &fwd->host_addr) != 0) {
        snprintf(err, errlen, "hostfwd=%s: host address '%s' is not an IPv4 address", s, haddr);
        return -1;
    }
    if (parse_port(hport, 0, &fwd->host_port) != 0) {
        snprintf(err, errlen, "hostfwd=%s: bad host port '%s'", s, hport);
        return -1;
    }
    fwd->guest_addr.s_addr = 0;
    if (gaddr[0] != '\0' && parse_ip4(gaddr, &fwd->guest_addr) != 0) {
        snprintf(err, errlen, "hostfwd=%s: guest address '%s' is not an IPv4 address", s, gaddr);
        return -1;
    }
    if (parse_port(gport, 1, &fwd->guest_port) != 0) {
        snprintf(err, errlen, "hostfwd=%s: bad guest port '%s'", s, gport);
        return -1;
    }
    return 0;
}

static int parse_onoff(const char *key, const char *v, bool *out, char *err, size_t errlen)
{
    if (coremu_parse_bool(v, out) != 0) {
        snprintf(err, errlen, "%s=%s: expected on or off", key, v);
        return -1;
    }
    return 0;
}

int net_user_parse(const struct coremu_kv *kv, const char *const *nic_keys,
                   struct net_user_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ipv6 = true; /* QEMU's default */
    /* The keys: first every stranger, named. */
    for (unsigned i = 0; i < kv->n; i++) {
        const char *k = kv->key[i];
        if (in_null_list(nic_keys, k) || in_list(user_keys, ARRAY_LEN(user_keys), k)) {
            continue;
        }
        if (in_list(user_keys_not_yet, ARRAY_LEN(user_keys_not_yet), k)) {
            snprintf(err, errlen, "%s= is not supported yet", k);
        } else {
            snprintf(err, errlen, "invalid parameter '%s'", k);
        }
        return -1;
    }
    const char *v = coremu_kv_get(kv, "net");
    if (parse_net(v != NULL ? v : "10.0.2.0/24", cfg, err, errlen) != 0) {
        return -1;
    }
    uint32_t net = ntohl(cfg->net.s_addr);
    cfg->host.s_addr = htonl(net | 2);
    cfg->dns.s_addr = htonl(net | 3);
    cfg->dhcp_start.s_addr = htonl(net | 15);
    if ((v = coremu_kv_get(kv, "host")) != NULL &&
        parse_member("host", v, cfg, &cfg->host, err, errlen) != 0) {
        return -1;
    }
    if ((v = coremu_kv_get(kv, "dns")) != NULL &&
        parse_member("dns", v, cfg, &cfg->dns, err, errlen) != 0) {
        return -1;
    }
    if ((v = coremu_kv_get(kv, "dhcpstart")) != NULL &&
        parse_member("dhcpstart", v, cfg, &cfg->dhcp_start, err, errlen) != 0) {
        return -1;
    }
    bool b;
    if ((v = coremu_kv_get(kv, "restrict")) != NULL) {
        if (parse_onoff("restrict", v, &b, err, errlen) != 0) {
            return -1;
        }
        cfg->restricted = b;
    }
    if ((v = coremu_kv_get(kv, "ipv4")) != NULL) {
        if (parse_onoff("ipv4", v, &b, err, errlen) != 0) {
            return -1;
        }
        if (!b) {
            snprintf(err, errlen, "ipv4=off is not supported yet");
            return -1;
        }
    }
    if ((v = coremu_kv_get(kv, "ipv6")) != NULL &&
        parse_onoff("ipv6", v, &cfg->ipv6, err, errlen) != 0) {
        return -1;
    }
    cfg->hostname = coremu_kv_get(kv, "hostname");
    cfg->domainname = coremu_kv_get(kv, "domainname");
    for (unsigned i = 0; i < kv->n; i++) {
        if (strcmp(kv->key[i], "hostfwd") != 0) {
            continue;
        }
        if (cfg->nhostfwd == NET_HOSTFWD_MAX) {
            snprintf(err, errlen, "too many hostfwd= rules (at most %u)", NET_HOSTFWD_MAX);
            return -1;
        }
        if (parse_hostfwd(kv->value[i], &cfg->hostfwd[cfg->nhostfwd], err, errlen) != 0) {
            return -1;
        }
        cfg->nhostfwd++;
    }
    return 0;
}

/* The back end type: "user", or one line in err. */
static int check_type(const struct coremu_kv *kv, char *err, size_t errlen)
{
    const char *type = coremu_kv_get(kv, "type");
    if (type == NULL || type[0] == '\0') {
        snprintf(err, errlen, "a back end type is required (user)");
        return -1;
    }
    if (strcmp(type, "user") == 0) {
        return 0;
    }
    if (in_list(net_types_not_yet, ARRAY_LEN(net_types_not_yet), type)) {
        snprintf(err, errlen, "the %s back end is not supported yet (user is the only one)",
                 type);
    } else {
        snprintf(err, errlen, "unknown back end type '%s' (user is the only one)", type);
    }
    return -1;
}

int coremu_net_check(const struct coremu_kv *kv, const char *const *nic_keys, char *err,
                     size_t errlen)
{
    struct net_user_config cfg;
    if (check_type(kv, err, errlen) != 0) {
        return -1;
    }
    return net_user_parse(kv, nic_keys, &cfg, err, errlen);
}

struct coremu_net *coremu_net_new(const struct coremu_kv *kv, const char *const *nic_keys,
                                  char *err, size_t errlen)
{
    struct net_user_config cfg;
    if (check_type(kv, err, errlen) != 0 || net_user_parse(kv, nic_keys, &cfg, err, errlen) != 0) {
        return NULL;
    }
    return net_slirp_new(&cfg, err, errlen);
}

int coremu_net_attach(struct coremu_net *net, coremu_net_receive_fn receive, void *opaque)
{
    net->receive = receive;
    net->receive_opaque = opaque;
    return net->ops->start(net);
}

void coremu_net_send(struct coremu_net *net, const uint8_t *frame, size_t len)
{
    if (len < 14 || len > COREMU_NET_FRAME_MAX) {
        return;
    }
    net->ops->send(net, frame, len);
}

void coremu_net_rx_ready(struct coremu_net *net)
{
    net->ops->wake(net);
}

uint64_t coremu_net_dropped(struct coremu_net *net)
{
    pthread_mutex_lock(&net->queue_lock);
    uint64_t n = net->dropped;
    pthread_mutex_unlock(&net->queue_lock);
    return n;
}

void coremu_net_free(struct coremu_net *net)
{
    if (net != NULL) {
        net->ops->free(net);
    }
}

void net_common_init(struct coremu_net *net, const struct net_backend_ops *ops)
{
    net->ops = ops;
    pthread_mutex_init(&net->queue_lock, NULL);
}

void net_common_destroy(struct coremu_net *net)
{
    struct net_packet *p = net->head;
    while (p != NULL) {
        struct net_packet *next = p->next;
        free(p);
        p = next;
    }
    net->head = net->tail = NULL;
    pthread_mutex_destroy(&net->queue_lock);
}

bool net_queue_frame(struct coremu_net *net, const uint8_t *frame, size_t len)
{
    struct net_packet *p = malloc(sizeof(*p) + len);
    pthread_mutex_lock(&net->queue_lock);
    if (p == NULL || net->queued >= COREMU_NET_QUEUE_MAX ||
        net->queued_bytes + len > COREMU_NET_QUEUE_BYTES) {
        net->dropped++;
        pthread_mutex_unlock(&net->queue_lock);
        free(p);
        return false;
    }
    p->next = NULL;
    p->len = len;
    memcpy(p->data, frame, len);
    if (net->tail != NULL) {
        net->tail->next = p;
    } else {
        net->head = p;
    }
    net->tail = p;
    net->queued++;
    net->queued_bytes += len;
    pthread_mutex_unlock(&net->queue_lock);
    return true;
}

void net_deliver(struct coremu_net *net)
{
    for (;;) {
        /* Only this thread removes frames, so the head stays put while the NIC looks at it
         * without the queue lock (which the NIC's lock must not nest inside). */
        pthread_mutex_lock(&net->queue_lock);
        struct net_packet *p = net->head;
        pthread_mutex_unlock(&net->queue_lock);
        if (p == NULL || net->receive == NULL) {
            return;
        }
        if (!net->receive(net->receive_opaque, p->data, p->len)) {
            return; /* no room: coremu_net_rx_ready wakes us */
        }
        pthread_mutex_lock(&net->queue_lock);
        net->head = p->next;
        if (net->head == NULL) {
            net->tail = NULL;
        }
        net->queued--;
        net->queued_bytes -= p->len;
        pthread_mutex_unlock(&net->queue_lock);
        free(p);
    }
}

int coremu_net_parse_mac(const char *s, uint8_t mac[6])
{
    for (unsigned i = 0; i < 6; i++) {
        unsigned v = 0;
        for (unsigned j = 0; j < 2; j++) {
            char c = *s++;
            unsigned d;
            if (c >= '0' && c <= '9') {
                d = (unsigned)(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                d = (unsigned)(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                d = (unsigned)(c - 'A' + 10);
            } else {
                return -1;
            }
            v = v * 16 + d;
        }
        mac[i] = (uint8_t)v;
        if (i < 5 && *s != ':' && *s != '-') {
            return -1;
        }
        if (i < 5) {
            s++;
        }
    }
    if (*s != '\0' || (mac[0] & 1) != 0) {
        return -1;
    }
    return 0;
}
