/*
 * coremu — the host's topology through hwloc, and binding core threads to processing units.
 *
 * The topology is loaded once and never changes afterwards, so every query after the
 * pthread_once is a read of immutable data. Only the processing units that the process may use
 * count: hwloc already leaves out those outside the cgroup's cpuset, and we also intersect with
 * the process's own affinity (taskset, a scheduler's binding), so that coremu never spreads
 * onto CPUs its user withheld.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwloc.h>
#include <pthread.h>

#include <coremu/topology.h>

/* All written once inside topology_load (under topology_once), read-only afterwards. */
static pthread_once_t topology_once = PTHREAD_ONCE_INIT;
static hwloc_topology_t topology;
static bool topology_ok;
static unsigned usable_pus;
static unsigned usable_cores;
static unsigned usable_packages;
/* Usable PUs in binding order: the first PU of every core, then the second of every core... */
static hwloc_obj_t *bind_order;
static char description[128];

/* Only the first failure to bind is reported: with -smp 16 the same cause would otherwise
 * print sixteen identical lines. */
static atomic_flag bind_warned = ATOMIC_FLAG_INIT;

static unsigned fallback_pu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        return (unsigned)CPU_COUNT(&set);
    }
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (unsigned)online : 1;
}

/* The PU's core, or the PU itself on hosts where hwloc knows no cores. */
static hwloc_obj_t core_of(hwloc_obj_t pu)
{
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topology, HWLOC_OBJ_CORE, pu);
    return core != NULL ? core : pu;
}

/* Fills bind_order from the usable PUs; returns false on allocation failure. */
static bool build_bind_order(hwloc_const_bitmap_t usable)
{
    int npu_all = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PU);
    if (npu_all <= 0) {
        return false;
    }
    hwloc_obj_t *pus = calloc((size_t)npu_all, sizeof(*pus));
    hwloc_obj_t *cores = calloc((size_t)npu_all, sizeof(*cores));
    unsigned *round = calloc((size_t)npu_all, sizeof(*round)); /* PU's rank within its core */
    bind_order = calloc((size_t)npu_all, sizeof(*bind_order));
    if (pus == NULL || cores == NULL || round == NULL || bind_order == NULL) {
        free(pus);
        free(cores);
        free(round);
        free(bind_order);
        bind_order = NULL;
        return false;
    }

    unsigned npus = 0;
    unsigned ncores = 0;
    unsigned max_round = 0;
    for (int i = 0; i < npu_all; i++) {
        hwloc_obj_t pu = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PU, (unsigned)i);
        if (pu == NULL || !hwloc_bitmap_isset(usable, pu->os_index)) {
            continue;
        }
        hwloc_obj_t core = core_of(pu);
        unsigned rank = 0;
        for (unsigned j = 0; j < npus; j++) {
            if (cores[j] == core) {
                rank++;
            }
        }
        if (rank == 0) {
            ncores++;
        }
        if (rank > max_round) {
            max_round = rank;
        }
        pus[npus] = pu;
        cores[npus] = core;
        round[npus] = rank;
        npus++;
    }

    unsigned n = 0;
    for (unsigned r = 0; r <= max_round; r++) {
        for (unsigned j = 0; j < npus; j++) {
            if (round[j] == r) {
                bind_order[n++] = pus[j];
            }
        }
    }

    unsigned npackages = 0;
    int npkg_all = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_PACKAGE);
    for (int i = 0; i < npkg_all; i++) {
        hwloc_obj_t pkg = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PACKAGE, (unsigned)i);
        if (pkg != NULL && pkg->cpuset != NULL && hwloc_bitmap_intersects(pkg->cpuset, usable)) {
            npackages++;
        }
    }

    usable_pus = npus;
    usable_cores = ncores;
    usable_packages = npackages > 0 ? npackages : 1;
    free(pus);
    free(cores);
    free(round);
    return npus > 0;
}

static void topology_load(void)
{
    hwloc_bitmap_t usable = NULL;
    hwloc_bitmap_t process_set = NULL;

    if (hwloc_topology_init(&topology) != 0) {
        goto fallback;
    }
    if (hwloc_topology_load(topology) != 0) {
        hwloc_topology_destroy(topology);
        goto fallback;
    }
    usable = hwloc_bitmap_dup(hwloc_topology_get_allowed_cpuset(topology));
    process_set = hwloc_bitmap_alloc();
    if (usable == NULL || process_set == NULL) {
        goto fail_loaded;
    }
    if (hwloc_get_cpubind(topology, process_set, HWLOC_CPUBIND_PROCESS) == 0 &&
        hwloc_bitmap_intersects(usable, process_set)) {
        hwloc_bitmap_and(usable, usable, process_set);
    }
    if (!build_bind_order(usable)) {
        goto fail_loaded;
    }
    hwloc_bitmap_free(process_set);
    hwloc_bitmap_free(usable);
    topology_ok = true;
    snprintf(description, sizeof description, "%u core%s, %u PU%s, %u package%s", usable_cores,
             usable_cores == 1 ? "" : "s", usable_pus, usable_pus == 1 ? "" : "s",
             usable_packages, usable_packages == 1 ? "" : "s");
    return;

fail_loaded:
    hwloc_bitmap_free(process_set);
    hwloc_bitmap_free(usable);
    free(bind_order);
    bind_order = NULL;
    hwloc_topology_destroy(topology);
fallback:
    topology_ok = false;
    usable_pus = fallback_pu_count();
    usable_cores = usable_pus;
    usable_packages = 1;
    snprintf(description, sizeof description, "%u PU%s (host topology unavailable)", usable_pus,
             usable_pus == 1 ? "" : "s");
}

int coremu_topology_init(void)
{
    pthread_once(&topology_once, topology_load);
    return topology_ok ? 0 : -1;
}

unsigned coremu_topology_pus(void)
{
    coremu_topology_init();
    return usable_pus;
}

unsigned coremu_topology_cores(void)
{
    coremu_topology_init();
    return usable_cores;
}

const char *coremu_topology_describe(void)
{
    coremu_topology_init();
    return description;
}

static void warn_bind(unsigned index, const char *why)
{
    if (!atomic_flag_test_and_set(&bind_warned)) {
        fprintf(stderr, "coremu: warning: cannot bind thread %u to a host processing unit: %s\n",
                index, why);
    }
}

int coremu_topology_bind_self(unsigned index)
{
    if (coremu_topology_init() != 0) {
        warn_bind(index, "host topology unavailable");
        return -1;
    }
    hwloc_obj_t pu = bind_order[index % usable_pus];
    if (hwloc_set_cpubind(topology, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
        char buf[128];
        warn_bind(index, strerror_r(errno, buf, sizeof buf)); /* GNU strerror_r */
        return -1;
    }
    return 0;
}
