/*
 * coremu — network back ends: what QEMU calls a netdev (-netdev user,id=..., the back end half
 * of -nic user,... and -net user,...), carrying Ethernet frames between one NIC model and the
 * host.
 *
 * The one back end so far is "user": libslirp's user-mode network stack. The guest sees a
 * private network, 10.0.2.0/24 by default, with a DHCP server handing out 10.0.2.15 onwards, a
 * gateway that is the host (10.0.2.2: a connection to it reaches the host's 127.0.0.1), a DNS
 * forwarder (10.0.2.3), and IPv6 (fec0::/64) unless ipv6=off. hostfwd=tcp|udp:... rules make
 * host ports reach guest ports. socket, tap, bridge and the other QEMU back ends are refused
 * with one line naming them ("not supported yet").
 *
 * Threads and locks. Each back end runs its own thread (coremu-net): slirp's file descriptors
 * change with every guest connection and are re-read before every poll, which the I/O thread's
 * registered-descriptor loop does not fit. Two locks, never held together by the back end:
 * - the back end lock guards the network stack (libslirp is not thread-safe): the back end's
 *   thread holds it around its work, and a NIC's coremu_net_send takes it to feed a frame in on
 *   the thread that sent it (the vCPU that kicked the transmit queue), with the NIC's own lock
 *   held. So the order is: NIC lock, then back end lock.
 * - frames for the guest are queued (copied, bounded: beyond COREMU_NET_QUEUE_MAX frames or
 *   COREMU_NET_QUEUE_BYTES bytes, new frames are dropped, as a full wire would; TCP resends)
 *   under a queue lock that is a leaf. Only the back end's thread hands them to the NIC, with no
 *   back end lock held, so the NIC's receive callback may take the NIC's lock (whose holder may
 *   be waiting for the back end lock in coremu_net_send).
 * When the NIC has no room (its receive callback returns false), the frame stays at the head of
 * the queue until the NIC calls coremu_net_rx_ready (the guest gave receive buffers).
 */
#ifndef COREMU_NET_H
#define COREMU_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/options.h>

/* Largest frame either way (a jumbo-free Ethernet frame is 1514 bytes; a guest using no
 * offloads never sends more, but a frame up to this size is carried). */
#define COREMU_NET_FRAME_MAX 65536u
/* Bounds of the queue of frames for the guest, per back end. */
#define COREMU_NET_QUEUE_MAX   512u
#define COREMU_NET_QUEUE_BYTES (1024u * 1024u)

/* QEMU's first default MAC address; the next NIC without mac= gets ...:57, and so on. */
#define COREMU_NET_DEFAULT_MAC {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

struct coremu_net;

/* A frame for the guest: true when the NIC took it (or dropped it on purpose: the driver is not
 * running), false when it has no room now (the frame is offered again after
 * coremu_net_rx_ready). Called on the back end's thread only, with no back end lock held. */
typedef bool (*coremu_net_receive_fn)(void *opaque, const uint8_t *frame, size_t len);

/* Checks the back end keys of kv (a -netdev, or a -nic/-net whose type is the back end): the
 * type and its keys, their values, the hostfwd rules. Keys listed in nic_keys (NULL-terminated,
 * may be NULL) belong to the caller (model=, mac=, id=...) and are skipped. what names the
 * option in messages ("-netdev user,id=n0"). 0, or -1 with one line in err (no "what:" prefix:
 * the caller adds its own). */
int coremu_net_check(const struct coremu_kv *kv, const char *const *nic_keys, char *err,
                     size_t errlen);

/* Creates the back end kv describes (checked with coremu_net_check): the network stack and its
 * host forwarding sockets (a port already in use is an error here). It runs once attached.
 * NULL with one line in err. */
struct coremu_net *coremu_net_new(const struct coremu_kv *kv, const char *const *nic_keys,
                                  char *err, size_t errlen);

/* Connects the NIC and starts the back end's thread. Once per back end, before the machine
 * runs. 0, or -errno. */
int coremu_net_attach(struct coremu_net *net, coremu_net_receive_fn receive, void *opaque);

/* A frame from the guest (len <= COREMU_NET_FRAME_MAX, at least an Ethernet header; shorter
 * ones are dropped). Any thread; takes the back end lock. */
void coremu_net_send(struct coremu_net *net, const uint8_t *frame, size_t len);

/* The NIC has room again: the back end offers its queued frames. Any thread, any lock held
 * (it only wakes the back end's thread). */
void coremu_net_rx_ready(struct coremu_net *net);

/* Frames dropped so far because the queue for the guest was full (for tests and logs). Any
 * thread. */
uint64_t coremu_net_dropped(struct coremu_net *net);

/* Stops the thread and frees everything (host sockets closed). NULL is allowed. */
void coremu_net_free(struct coremu_net *net);

/* Parses a MAC address "52:54:00:12:34:56" (hex pairs separated by ':' or '-'). A multicast
 * address (lowest bit of the first byte set) is refused, as QEMU does. 0 or -1. */
int coremu_net_parse_mac(const char *s, uint8_t mac[6]);

#endif /* COREMU_NET_H */
