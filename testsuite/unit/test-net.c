/*
 * The network back end (include/coremu/net.h, lib/net.c, lib/net_slirp.c) with frames made by
 * hand, as a guest's NIC would send them: the option checks; a DHCP DISCOVER answered with an
 * OFFER of 10.0.2.15 (router 10.0.2.2, DNS 10.0.2.3); a host connection to a hostfwd port that
 * reaches the guest as a TCP SYN to its port (after slirp asked for the guest's MAC address by
 * ARP); and backpressure: a frame the NIC has no room for is offered again after
 * coremu_net_rx_ready, not lost. Only loopback sockets this test opens are used.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <coremu/net.h>
#include <coremu/options.h>

#include "unit.h"

static const uint8_t guest_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* What the "NIC" received: the frames it took, in order, and how often it was offered one. */
struct nic {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool accept;     /* false: no room */
    unsigned offers; /* calls of the receive callback */
    unsigned n;
    uint8_t *frame[256];
    size_t len[256];
};

static bool nic_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct nic *nic = opaque;
    pthread_mutex_lock(&nic->lock);
    nic->offers++;
    bool take = nic->accept;
    if (take && nic->n < 256) {
        nic->frame[nic->n] = malloc(len);
        memcpy(nic->frame[nic->n], frame, len);
        nic->len[nic->n] = len;
        nic->n++;
    }
    pthread_cond_broadcast(&nic->cond);
    pthread_mutex_unlock(&nic->lock);
    return take;
}

static void nic_init(struct nic *nic)
{
    memset(nic, 0, sizeof(*nic));
    pthread_mutex_init(&nic->lock, NULL);
    pthread_cond_init(&nic->cond, NULL);
    nic->accept = true;
}

static void nic_destroy(struct nic *nic)
{
    for (unsigned i = 0; i < nic->n; i++) {
        free(nic->frame[i]);
    }
    pthread_mutex_destroy(&nic->lock);
    pthread_cond_destroy(&nic->cond);
}

/* Waits until a frame from index *from on satisfies match (lock not held while matching: only
 * this thread reads frames already taken); returns its index or -1 after timeout_ms. */
static int nic_wait(struct nic *nic, unsigned *from, bool (*match)(const uint8_t *, size_t, void *),
                    void *arg, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&nic->lock);
    for (;;) {
        while (*from < nic->n) {
            unsigned i = (*from)++;
            pthread_mutex_unlock(&nic->lock);
            if (match(nic->frame[i], nic->len[i], arg)) {
                return (int)i;
            }
            pthread_mutex_lock(&nic->lock);
        }
        if (pthread_cond_timedwait(&nic->cond, &nic->lock, &deadline) == ETIMEDOUT &&
            *from == nic->n) {
            pthread_mutex_unlock(&nic->lock);
            return -1;
        }
    }
}

/* ---- Frames ----------------------------------------------------------------------------- */

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += get16(p + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 header (20 bytes) for a payload of len bytes of protocol proto; returns the
 * offset of the payload. */
static size_t eth_ip(uint8_t *f, const uint8_t *dst_mac, uint32_t src, uint32_t dst, unsigned proto,
                     size_t len)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + len));
    ip[8] = 64;
    ip[9] = (uint8_t)proto;
    put16(ip + 12, src >> 16);
    put16(ip + 14, src & 0xffff);
    put16(ip + 16, dst >> 16);
    put16(ip + 18, dst & 0xffff);
    put16(ip + 10, ip_checksum(ip, 20));
    return 34;
}

/* A DHCP DISCOVER from guest_mac, broadcast. Returns the frame's length. */
static size_t dhcp_discover(uint8_t *f)
{
    uint8_t bootp[300];
    memset(bootp, 0, sizeof(bootp));
    bootp[0] = 1; /* BOOTREQUEST */
    bootp[1] = 1; /* Ethernet */
    bootp[2] = 6;
    bootp[4] = 0x12; /* xid */
    bootp[5] = 0x34;
    bootp[6] = 0x56;
    bootp[7] = 0x78;
    memcpy(bootp + 28, guest_mac, 6);
    static const uint8_t options[] = {99, 130, 83, 99, 53, 1, 1, 255}; /* cookie, DISCOVER */
    memcpy(bootp + 236, options, sizeof(options));
    size_t udp_len = 8 + sizeof(bootp);
    size_t off = eth_ip(f, bcast, 0, 0xffffffffu, 17, udp_len);
    put16(f + off, 68);
    put16(f + off + 2, 67);
    put16(f + off + 4, (unsigned)udp_len);
    put16(f + off + 6, 0); /* no UDP checksum */
    memcpy(f + off + 8, bootp, sizeof(bootp));
    return off + udp_len;
}

/* A DHCP OFFER to our xid: the UDP payload from port 67 to 68, message type 2. */
static bool is_dhcp_offer(const uint8_t *f, size_t len, void *arg)
{
    (void)arg;
    if (len < 14 + 20 + 8 + 240 || get16(f + 12) != 0x0800 || f[14 + 9] != 17) {
        return false;
    }
    size_t ihl = (f[14] & 15u) * 4u;
    const uint8_t *udp = f + 14 + ihl;
    if (get16(udp) != 67 || get16(udp + 2) != 68) {
        return false;
    }
    const uint8_t *b = udp + 8;
    return b[0] == 2 && memcmp(b + 4, "\x12\x34\x56\x78", 4) == 0;
}

/* The value of DHCP option code in the OFFER frame f (NULL if absent). */
static const uint8_t *dhcp_option(const uint8_t *f, size_t len, unsigned code, unsigned *olen)
{
    size_t ihl = (f[14] & 15u) * 4u;
    size_t p = 14 + ihl + 8 + 240;
    while (p + 2 <= len && f[p] != 255) {
        if (f[p] == 0) {
            p++;
            continue;
        }
        if (f[p] == code) {
            *olen = f[p + 1];
            return f + p + 2;
        }
        p += 2u + f[p + 1];
    }
    return NULL;
}

static bool is_arp_request_for_guest(const uint8_t *f, size_t len, void *arg)
{
    (void)arg;
    return len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 1 &&
           memcmp(f + 38, "\x0a\x00\x02\x0f", 4) == 0;
}

static bool is_arp_reply_from_host(const uint8_t *f, size_t len, void *arg)
{
    (void)arg;
    return len >= 42 && get16(f + 12) == 0x0806 && get16(f + 20) == 2 &&
           memcmp(f + 28, "\x0a\x00\x02\x02", 4) == 0 && memcmp(f + 32, guest_mac, 6) == 0;
}

/* A TCP SYN from 10.0.2.2 to 10.0.2.15:*(unsigned *)port; or an ARP request for the guest,
 * which is answered on the way (slirp asks before it sends). */
struct syn_wait {
    struct coremu_net *net;
    unsigned port;
    unsigned arps;
};

static void arp_frame(uint8_t *f, unsigned op, const uint8_t *target_mac, uint32_t target_ip,
                      const uint8_t *dst)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, guest_mac, 6);
    put16(f + 12, 0x0806);
    put16(f + 14, 1);
    put16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, op);
    memcpy(f + 22, guest_mac, 6);
    memcpy(f + 28, "\x0a\x00\x02\x0f", 4); /* 10.0.2.15 */
    memcpy(f + 32, target_mac, 6);
    put16(f + 38, target_ip >> 16);
    put16(f + 40, target_ip & 0xffff);
}

static bool is_syn_to_guest(const uint8_t *f, size_t len, void *arg)
{
    struct syn_wait *w = arg;
    if (is_arp_request_for_guest(f, len, NULL)) {
        uint8_t reply[42];
        arp_frame(reply, 2, f + 6, 0x0a000202u, f + 6);
        w->arps++;
        coremu_net_send(w->net, reply, sizeof(reply));
        return false;
    }
    if (len < 54 || get16(f + 12) != 0x0800 || f[14 + 9] != 6 ||
        memcmp(f + 14 + 16, "\x0a\x00\x02\x0f", 4) != 0 || memcmp(f, guest_mac, 6) != 0) {
        return false;
    }
    size_t ihl = (f[14] & 15u) * 4u;
    const uint8_t *tcp = f + 14 + ihl;
    return get16(tcp + 2) == w->port && (tcp[13] & 0x12) == 0x02; /* SYN without ACK */
}

/* ---- Tests ------------------------------------------------------------------------------ */

static struct coremu_kv kv_of(const char *s)
{
    struct coremu_kv kv;
    char err[256];
    UNIT_REQUIRE(coremu_kv_parse(&kv, s, "type", err, sizeof(err)) == 0, "setup: parse", "%s: %s",
                 s, err);
    return kv;
}

/* Whether checking s fails with a message containing want (NULL: must succeed). */
static void check_option(const char *s, const char *want)
{
    struct coremu_kv kv = kv_of(s);
    char err[256] = "";
    int r = coremu_net_check(&kv, NULL, err, sizeof(err));
    char name[320];
    snprintf(name, sizeof(name), "check %s", s);
    if (want == NULL) {
        UNIT_CHECK(r == 0, name, "refused: %s", err);
    } else {
        UNIT_CHECK(r != 0 && strstr(err, want) != NULL, name, "r=%d err '%s' (want '%s')", r, err,
                   want);
    }
    coremu_kv_free(&kv);
}

static void test_options(void)
{
    check_option("user,id=n0", NULL);
    check_option("user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.15:53",
                 NULL);
    check_option("user,net=192.168.76.0/24,host=192.168.76.1,dhcpstart=192.168.76.9,"
                 "dns=192.168.76.3,restrict=on,hostname=vm,ipv6=off",
                 NULL);
    check_option("user,net=10.0.2.0/255.255.255.0", NULL);
    check_option("socket,id=n0,listen=:1234", "socket back end is not supported yet");
    check_option("tap,id=n0", "tap back end is not supported yet");
    check_option("frob,id=n0", "unknown back end type 'frob'");
    check_option("user,id=n0,hostfwd=tcp:127.0.0.1:22", "expected [tcp|udp]");
    check_option("user,id=n0,hostfwd=sctp::1-:2", "protocol 'sctp'");
    check_option("user,id=n0,hostfwd=tcp::70000-:22", "bad host port '70000'");
    check_option("user,id=n0,hostfwd=tcp::22-:0", "bad guest port '0'");
    check_option("user,id=n0,hostfwd=tcp:localhost:22-:22", "not an IPv4 address");
    check_option("user,dhcpstart=10.0.3.15", "not a host address of the guest network");
    check_option("user,net=10.0.2.1/24", "host bits set");
    check_option("user,net=10.0.2.0/33", "bad prefix length");
    check_option("user,restrict=maybe", "expected on or off");
    check_option("user,ipv4=off", "ipv4=off is not supported yet");
    check_option("user,guestfwd=tcp:10.0.2.100:80-cmd:x", "guestfwd= is not supported yet");
    check_option("user,smb=/tmp", "smb= is not supported yet");
    check_option("user,model=virtio", "invalid parameter 'model'");

    struct coremu_kv kv = kv_of("user,model=virtio,mac=52:54:00:12:34:57");
    static const char *const nic_keys[] = {"model", "mac", NULL};
    char err[256] = "";
    UNIT_CHECK(coremu_net_check(&kv, nic_keys, err, sizeof(err)) == 0,
               "the NIC's keys are left to the NIC", "%s", err);
    coremu_kv_free(&kv);

    uint8_t mac[6];
    UNIT_CHECK(coremu_net_parse_mac("52:54:00:AB:cd:0f", mac) == 0 && mac[3] == 0xab &&
                   mac[4] == 0xcd && mac[5] == 0x0f,
               "a MAC address parses", "bytes %02x %02x %02x", mac[3], mac[4], mac[5]);
    UNIT_CHECK(coremu_net_parse_mac("52-54-00-12-34-56", mac) == 0, "dashes separate too", "no");
    UNIT_CHECK(coremu_net_parse_mac("01:00:5e:00:00:01", mac) != 0, "a multicast MAC is refused",
               "accepted");
    UNIT_CHECK(coremu_net_parse_mac("52:54:00:12:34", mac) != 0 &&
                   coremu_net_parse_mac("52:54:00:12:34:567", mac) != 0 &&
                   coremu_net_parse_mac("52:54:00:12:34:5g", mac) != 0,
               "malformed MACs are refused", "accepted");
}

static struct coremu_net *new_net(const char *s)
{
    struct coremu_kv kv = kv_of(s);
    char err[256] = "";
    struct coremu_net *net = coremu_net_new(&kv, NULL, err, sizeof(err));
    coremu_kv_free(&kv);
    UNIT_REQUIRE(net != NULL, "setup: back end", "%s: %s", s, err);
    return net;
}

static void test_dhcp(void)
{
    struct nic nic;
    nic_init(&nic);
    struct coremu_net *net = new_net("user,id=n0");
    UNIT_REQUIRE(coremu_net_attach(net, nic_receive, &nic) == 0, "setup: attach", "failed");
    uint8_t f[600];
    size_t len = dhcp_discover(f);
    unsigned from = 0;
    int i = -1;
    for (int tries = 0; tries < 5 && i < 0; tries++) {
        coremu_net_send(net, f, len);
        i = nic_wait(&nic, &from, is_dhcp_offer, NULL, 1000);
    }
    UNIT_CHECK(i >= 0, "DHCP DISCOVER gets an OFFER", "no offer in %u frames", nic.n);
    if (i >= 0) {
        const uint8_t *o = nic.frame[i];
        size_t ol = nic.len[i];
        size_t ihl = (o[14] & 15u) * 4u;
        const uint8_t *b = o + 14 + ihl + 8;
        unsigned n1 = 0, n3 = 0, n6 = 0;
        const uint8_t *type = dhcp_option(o, ol, 53, &n1);
        const uint8_t *router = dhcp_option(o, ol, 3, &n3);
        const uint8_t *dns = dhcp_option(o, ol, 6, &n6);
        UNIT_CHECK(memcmp(b + 16, "\x0a\x00\x02\x0f", 4) == 0 && type != NULL && type[0] == 2,
                   "the offer is 10.0.2.15", "yiaddr %u.%u.%u.%u", b[16], b[17], b[18], b[19]);
        UNIT_CHECK(router != NULL && n3 >= 4 && memcmp(router, "\x0a\x00\x02\x02", 4) == 0 &&
                       dns != NULL && n6 >= 4 && memcmp(dns, "\x0a\x00\x02\x03", 4) == 0,
                   "router 10.0.2.2, DNS 10.0.2.3", "router %p dns %p", (const void *)router,
                   (const void *)dns);
        UNIT_CHECK(memcmp(o, guest_mac, 6) == 0 || memcmp(o, bcast, 6) == 0,
                   "the offer is addressed to the guest's MAC (or broadcast)",
                   "dst %02x:%02x:%02x:%02x:%02x:%02x", o[0], o[1], o[2], o[3], o[4], o[5]);
    }
    coremu_net_free(net);
    nic_destroy(&nic);
}

/* A free TCP port on 127.0.0.1 (bound, read and released). */
static unsigned free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    UNIT_REQUIRE(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                     getsockname(s, (struct sockaddr *)&a, &al) == 0,
                 "setup: free port", "%s", strerror(errno));
    close(s);
    return ntohs(a.sin_port);
}

static void test_hostfwd(void)
{
    struct nic nic;
    nic_init(&nic);
    unsigned port = free_port();
    char opts[128];
    snprintf(opts, sizeof(opts), "user,id=n0,hostfwd=tcp:127.0.0.1:%u-:2222", port);
    struct coremu_net *net = new_net(opts);
    UNIT_REQUIRE(coremu_net_attach(net, nic_receive, &nic) == 0, "setup: attach", "failed");

    /* The same port again: already taken by the first back end. */
    struct coremu_kv kv = kv_of(opts);
    char err[256] = "";
    struct coremu_net *again = coremu_net_new(&kv, NULL, err, sizeof(err));
    coremu_kv_free(&kv);
    UNIT_CHECK(again == NULL && strstr(err, "cannot forward the host port") != NULL,
               "a host port in use is one error line", "err '%s'", err);
    coremu_net_free(again);

    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int r = connect(c, (struct sockaddr *)&a, sizeof(a));
    UNIT_CHECK(r == 0 || errno == EINPROGRESS, "the host connects to the forwarded port", "%s",
               strerror(errno));
    struct syn_wait w = {.net = net, .port = 2222};
    unsigned from = 0;
    int i = nic_wait(&nic, &from, is_syn_to_guest, &w, 10000);
    UNIT_CHECK(i >= 0, "the connection reaches the guest as a SYN to port 2222",
               "no SYN in %u frames (%u ARP requests answered)", nic.n, w.arps);
    close(c);
    coremu_net_free(net);
    nic_destroy(&nic);
}

static void test_backpressure(void)
{
    struct nic nic;
    nic_init(&nic);
    nic.accept = false;
    struct coremu_net *net = new_net("user,id=n0,ipv6=off");
    UNIT_REQUIRE(coremu_net_attach(net, nic_receive, &nic) == 0, "setup: attach", "failed");
    uint8_t f[42];
    arp_frame(f, 1, (const uint8_t *)"\0\0\0\0\0\0", 0x0a000202u, bcast); /* who has .2? */
    coremu_net_send(net, f, sizeof(f));
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&nic.lock);
    unsigned offers = nic.offers, taken = nic.n;
    nic.accept = true;
    pthread_mutex_unlock(&nic.lock);
    UNIT_CHECK(offers >= 1 && taken == 0, "a NIC without room is offered the frame, takes nothing",
               "offers %u taken %u", offers, taken);
    coremu_net_rx_ready(net);
    unsigned from = 0;
    int i = nic_wait(&nic, &from, is_arp_reply_from_host, NULL, 3000);
    UNIT_CHECK(i >= 0 && coremu_net_dropped(net) == 0,
               "after rx_ready the same frame (the ARP reply) arrives", "i %d dropped %llu", i,
               (unsigned long long)coremu_net_dropped(net));
    coremu_net_free(net);
    nic_destroy(&nic);
}

int main(void)
{
    test_options();
    test_dhcp();
    test_hostfwd();
    test_backpressure();
    return unit_done();
}
