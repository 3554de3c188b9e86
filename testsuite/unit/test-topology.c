/*
 * Host topology through hwloc: it loads, reports sane counts, and binding a thread either works
 * (the thread then runs on exactly one processing unit) or fails with a warning, never a crash.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <coremu/topology.h>

#include "unit.h"

#define INIT_THREADS 4

static void *init_thread(void *arg)
{
    *(int *)arg = coremu_topology_init();
    return NULL;
}

struct bind_result {
    unsigned index;
    int rc;
    cpu_set_t affinity;
    int affinity_rc;
};

static void *bind_thread(void *arg)
{
    struct bind_result *r = arg;
    r->rc = coremu_topology_bind_self(r->index);
    CPU_ZERO(&r->affinity);
    r->affinity_rc = sched_getaffinity(0, sizeof r->affinity, &r->affinity);
    return NULL;
}

static struct bind_result bind_in_thread(unsigned index)
{
    struct bind_result r = {.index = index, .rc = -2};
    pthread_t thread;
    if (pthread_create(&thread, NULL, bind_thread, &r) == 0) {
        pthread_join(thread, NULL);
    }
    return r;
}

int main(void)
{
    /* Several threads race to load the topology; pthread_once makes one of them do it. */
    pthread_t threads[INIT_THREADS];
    int results[INIT_THREADS];
    for (int i = 0; i < INIT_THREADS; i++) {
        results[i] = -2;
        UNIT_REQUIRE(pthread_create(&threads[i], NULL, init_thread, &results[i]) == 0,
                     "topology: start threads", "pthread_create failed");
    }
    bool all_ok = true;
    for (int i = 0; i < INIT_THREADS; i++) {
        pthread_join(threads[i], NULL);
        all_ok &= results[i] == 0;
    }
    UNIT_CHECK(all_ok && coremu_topology_init() == 0, "topology: init",
               "coremu_topology_init failed");

    unsigned pus = coremu_topology_pus();
    unsigned cores = coremu_topology_cores();
    const char *description = coremu_topology_describe();
    printf("host: %s\n", description != NULL ? description : "(null)");
    UNIT_CHECK(pus >= 1, "topology: at least one PU", "pus = %u", pus);
    UNIT_CHECK(cores >= 1 && cores <= pus, "topology: cores between 1 and pus",
               "cores = %u, pus = %u", cores, pus);
    UNIT_CHECK(description != NULL && description[0] != '\0', "topology: describe",
               "empty description");

    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    bool have_allowed = sched_getaffinity(0, sizeof allowed, &allowed) == 0;
    UNIT_CHECK(!have_allowed || pus <= (unsigned)CPU_COUNT(&allowed),
               "topology: pus within the process affinity", "pus = %u, affinity has %d", pus,
               CPU_COUNT(&allowed));

    struct bind_result first = bind_in_thread(0);
    UNIT_CHECK(first.rc == 0 || first.rc == -1, "topology: bind_self(0) returns 0 or -1",
               "returned %d", first.rc);
    if (first.rc == 0) {
        UNIT_CHECK(first.affinity_rc == 0 && CPU_COUNT(&first.affinity) == 1,
                   "topology: a bound thread runs on one PU", "affinity has %d CPUs",
                   CPU_COUNT(&first.affinity));
        cpu_set_t inside;
        CPU_AND(&inside, &first.affinity, &allowed);
        UNIT_CHECK(!have_allowed || CPU_EQUAL(&inside, &first.affinity),
                   "topology: bound PU is one the process may use",
                   "bound outside the process affinity");
    }

    /* Consecutive indices land on different PUs while there are PUs left; indices wrap. */
    bool spread_ok = true;
    bool wrap_ok = true;
    for (unsigned i = 0; i < 2 * pus + 1 && i < 64; i++) {
        struct bind_result r = bind_in_thread(i);
        if (r.rc != 0 && r.rc != -1) {
            spread_ok = false;
        }
        if (r.rc != 0 || first.rc != 0) {
            continue;
        }
        if (i > 0 && i < pus && CPU_EQUAL(&r.affinity, &first.affinity)) {
            spread_ok = false;
        }
        if (i % pus == 0 && !CPU_EQUAL(&r.affinity, &first.affinity)) {
            wrap_ok = false;
        }
        if (have_allowed) {
            cpu_set_t inside;
            CPU_AND(&inside, &r.affinity, &allowed);
            if (!CPU_EQUAL(&inside, &r.affinity)) {
                spread_ok = false;
            }
        }
    }
    UNIT_CHECK(spread_ok, "topology: indices spread over distinct usable PUs",
               "two indices below pus shared a PU, or a PU outside the affinity was used");
    UNIT_CHECK(wrap_ok, "topology: index wraps modulo pus", "index pus did not reuse PU 0");
    return unit_done();
}
