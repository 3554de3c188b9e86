/*
 * coremu — the host's processing units, through hwloc, and binding core threads to them.
 * Binding needs no privileges; when it fails (restricted cpuset, container) it is a warning.
 */
#ifndef COREMU_TOPOLOGY_H
#define COREMU_TOPOLOGY_H

/* Loads the host topology once (thread-safe). 0 or -1. */
int coremu_topology_init(void);
/* Processing units (hardware threads) the process may use; at least 1. */
unsigned coremu_topology_pus(void);
/* Physical cores; at least 1. */
unsigned coremu_topology_cores(void);
/* Binds the calling thread to the processing unit index % pus, spreading consecutive indices
 * over different cores first. 0, or -1 after printing a warning. */
int coremu_topology_bind_self(unsigned index);
/* One line describing the host ("2 cores, 2 PUs, 1 package") for -d and the benchmarks. */
const char *coremu_topology_describe(void);

#endif /* COREMU_TOPOLOGY_H */
