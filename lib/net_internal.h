/*
 * coremu — what the network back ends share inside libcoremu (lib/net.c, lib/net_slirp.c).
 */
#ifndef COREMU_NET_INTERNAL_H
#define COREMU_NET_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coremu/net.h>

#define NET_HOSTFWD_MAX 32

/* One hostfwd= rule. */
struct net_hostfwd {
    bool udp;
    struct in_addr host_addr; /* INADDR_ANY when not given */
    uint16_t host_port;
    struct in_addr guest_addr; /* 0: the first DHCP address */
    uint16_t guest_port;
    const char *text; /* the rule as given (points into the options), for messages */
};

/* The "user" back end's settings, checked (lib/net.c fills it from the options). */
struct net_user_config {
    struct in_addr net, mask, host, dhcp_start, dns;
    bool restricted;
    bool ipv6;
    const char *hostname;   /* NULL: none (points into the options) */
    const char *domainname; /* NULL: none */
    unsigned nhostfwd;
    struct net_hostfwd hostfwd[NET_HOSTFWD_MAX];
};

/* A frame queued for the guest. */
struct net_packet {
    struct net_packet *next;
    size_t len;
    uint8_t data[];
};

struct net_backend_ops {
    /* Starts the back end's thread (net->receive is set). 0 or -errno. */
    int (*start)(struct coremu_net *net);
    /* A frame from the guest (the back end takes its own lock). */
    void (*send)(struct coremu_net *net, const uint8_t *frame, size_t len);
    /* Wake the back end's thread so that it delivers the queue. Any thread. */
    void (*wake)(struct coremu_net *net);
    /* Stops the thread, frees the back end's own state and net itself. */
    void (*free)(struct coremu_net *net);
};

/* The part of a back end that lib/net.c owns; a back end embeds it first. */
struct coremu_net {
    const struct net_backend_ops *ops; /* immutable */
    /* The NIC. Written once by coremu_net_attach before the back end's thread is created
     * (pthread_create orders the write before the thread's reads); read by that thread only. */
    coremu_net_receive_fn receive;
    void *receive_opaque;
    /* The queue of frames for the guest. queue_lock is a leaf lock: nothing else is taken while
     * it is held. Frames are appended by whoever runs the network stack (the back end's thread,
     * or a vCPU inside coremu_net_send) and removed by the back end's thread only. */
    pthread_mutex_t queue_lock;
    struct net_packet *head, *tail; /* queue_lock */
    unsigned queued;                /* queue_lock: frames in the queue */
    size_t queued_bytes;            /* queue_lock: their bytes */
    uint64_t dropped;               /* queue_lock: frames refused because the queue was full */
};

/* Parses the back end keys of kv into cfg (type user). 0, or -1 with one line in err. */
int net_user_parse(const struct coremu_kv *kv, const char *const *nic_keys,
                   struct net_user_config *cfg, char *err, size_t errlen);
/* The "user" back end (lib/net_slirp.c). NULL with one line in err. */
struct coremu_net *net_slirp_new(const struct net_user_config *cfg, char *err, size_t errlen);

/* Initialises / destroys the generic part. */
void net_common_init(struct coremu_net *net, const struct net_backend_ops *ops);
void net_common_destroy(struct coremu_net *net);
/* Queues a copy of a frame for the guest; false when it was dropped (queue full, no memory). */
bool net_queue_frame(struct coremu_net *net, const uint8_t *frame, size_t len);
/* On the back end's thread, with no back end lock held: hands queued frames to the NIC until
 * the queue is empty or the NIC has no room. */
void net_deliver(struct coremu_net *net);

#endif /* COREMU_NET_INTERNAL_H */
