/*
 * Cores as host threads: naming, power on/off, run_sync, stop-the-world (alone, nested and from
 * several threads at once), machine reset, and machine exit. The "guest" is a counting loop
 * that follows the CPU-loop contract of cpu.h; its counters show which cores are executing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>
#include <coremu/topology.h>

#include "unit.h"

#define NCPUS 4
#define CONCURRENT_STOPS 300 /* per stopping thread; three stop at once */
#define MUTUAL_SYNCS 300     /* per core; two cores run_sync each other at once */

struct core_state {
    _Atomic uint64_t counter;       /* loop iterations, the sign of life */
    _Atomic uint64_t arg0, arg1;    /* power_on_arg seen on entry to run */
    _Atomic unsigned runs;          /* times run was entered */
    _Atomic unsigned leaves;        /* times run returned */
    _Atomic unsigned stops_todo;    /* stop_world calls this core should make */
    _Atomic unsigned syncs_todo;    /* run_sync calls this core should make ... */
    _Atomic unsigned sync_target;   /* ... to this core */
    _Atomic unsigned syncs_received;
    _Atomic unsigned expirations;   /* timer_expired calls */
    _Atomic int64_t expired_at;     /* virtual time of the latest one */
};

static struct core_state cores[NCPUS];
static struct coremu_machine *machine;

/* Shared by every stop_world callback. */
static _Atomic int stops_inside;        /* callbacks running right now */
static _Atomic unsigned stop_overlaps;  /* callbacks that found another one running */
static _Atomic unsigned stop_movements; /* callbacks that saw a core's counter advance */
static _Atomic unsigned stops_done;

static int64_t now_ns(void)
{
    return coremu_host_ns();
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Polls cond every millisecond for up to `seconds`; the value of cond at the end. */
#define WAIT_FOR(cond, seconds)                                                                   \
    ({                                                                                            \
        int64_t wait_end_ = now_ns() + (int64_t)(seconds) * COREMU_NS_PER_SEC;                    \
        bool wait_ok_;                                                                            \
        while (!(wait_ok_ = (cond)) && now_ns() < wait_end_) {                                    \
            sleep_ms(1);                                                                          \
        }                                                                                         \
        wait_ok_;                                                                                 \
    })

static uint64_t counter_of(unsigned i)
{
    return atomic_load_explicit(&cores[i].counter, memory_order_relaxed);
}

static void sample_counters(uint64_t out[NCPUS])
{
    for (unsigned i = 0; i < NCPUS; i++) {
        out[i] = counter_of(i);
    }
}

/* Inside a stop: no core may execute, so two samples some time apart must be equal. */
static void frozen_check_fn(void *arg)
{
    unsigned pause_ms = (unsigned)(uintptr_t)arg;
    uint64_t before[NCPUS];
    uint64_t after[NCPUS];

    if (atomic_fetch_add(&stops_inside, 1) != 0) {
        atomic_fetch_add(&stop_overlaps, 1);
    }
    sample_counters(before);
    if (pause_ms > 0) {
        sleep_ms(pause_ms);
    } else {
        for (int i = 0; i < 3; i++) {
            sched_yield();
        }
    }
    sample_counters(after);
    if (memcmp(before, after, sizeof before) != 0) {
        atomic_fetch_add(&stop_movements, 1);
    }
    atomic_fetch_sub(&stops_inside, 1);
    atomic_fetch_add(&stops_done, 1);
}

static void count_sync_fn(struct coremu_cpu *cpu, void *arg)
{
    (void)arg;
    atomic_fetch_add(&cores[cpu->index].syncs_received, 1);
}

static void fake_run(struct coremu_cpu *cpu)
{
    struct core_state *st = &cores[cpu->index];

    atomic_store(&st->arg0, cpu->power_on_arg[0]);
    atomic_store(&st->arg1, cpu->power_on_arg[1]);
    atomic_fetch_add(&st->runs, 1);
    for (;;) {
        atomic_fetch_add_explicit(&st->counter, 1, memory_order_relaxed);
        if (coremu_cpu_poll(cpu) && coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
            break;
        }
        if (atomic_load_explicit(&st->stops_todo, memory_order_relaxed) > 0) {
            coremu_machine_stop_world(cpu->machine, frozen_check_fn, NULL);
            atomic_fetch_sub(&st->stops_todo, 1);
        }
        if (atomic_load_explicit(&st->syncs_todo, memory_order_relaxed) > 0) {
            unsigned target = atomic_load(&st->sync_target);
            coremu_cpu_run_sync(cpu->machine->cpus[target], count_sync_fn, NULL);
            atomic_fetch_sub(&st->syncs_todo, 1);
        }
    }
    atomic_fetch_add(&st->leaves, 1);
}

static void fake_timer_expired(struct coremu_cpu *cpu)
{
    atomic_store(&cores[cpu->index].expired_at, coremu_clock_ns());
    atomic_fetch_add(&cores[cpu->index].expirations, 1);
}

static const struct coremu_cpu_ops fake_ops = {
    .run = fake_run,
    .timer_expired = fake_timer_expired,
};

/* Number of threads of this process named coremu-cpuN, per N (N < NCPUS). */
static unsigned count_named_threads(unsigned per_index[NCPUS])
{
    unsigned total = 0;
    memset(per_index, 0, NCPUS * sizeof(unsigned));
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char path[300];
        char comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue; /* the thread finished meanwhile */
        }
        if (fgets(comm, sizeof comm, f) == NULL) {
            comm[0] = '\0';
        }
        fclose(f);
        unsigned index;
        char extra;
        if (sscanf(comm, "coremu-cpu%u%c", &index, &extra) >= 1) {
            total++;
            if (index < NCPUS) {
                per_index[index]++;
            }
        }
    }
    closedir(dir);
    return total;
}

static bool all_named_once(void)
{
    unsigned per_index[NCPUS];
    unsigned total = count_named_threads(per_index);
    for (unsigned i = 0; i < NCPUS; i++) {
        if (per_index[i] != 1) {
            return false;
        }
    }
    return total == NCPUS;
}

static bool no_named_threads(void)
{
    unsigned per_index[NCPUS];
    return count_named_threads(per_index) == 0;
}

static bool all_counters_passed(const uint64_t mark[NCPUS], unsigned mask)
{
    for (unsigned i = 0; i < NCPUS; i++) {
        if ((mask & (1u << i)) && counter_of(i) <= mark[i] + 100) {
            return false;
        }
    }
    return true;
}

struct self_probe {
    struct coremu_cpu *target;
    _Atomic int ran_on_target; /* -1 not run, 0 wrong thread, 1 right thread */
};

static void self_probe_fn(struct coremu_cpu *cpu, void *arg)
{
    struct self_probe *probe = arg;
    atomic_store(&probe->ran_on_target, coremu_cpu_self() == probe->target && cpu == probe->target);
}

static void cpu_arg_probe_fn(struct coremu_cpu *cpu, void *arg)
{
    struct self_probe *probe = arg;
    atomic_store(&probe->ran_on_target, cpu == probe->target);
}

static void set_deadline_fn(struct coremu_cpu *cpu, void *arg)
{
    coremu_cpu_set_deadline(cpu, *(const int64_t *)arg);
}

static void power_off_fn(struct coremu_cpu *cpu, void *arg)
{
    (void)arg;
    coremu_cpu_power_off_self(cpu);
}

static void exit_fn(struct coremu_cpu *cpu, void *arg)
{
    coremu_machine_exit(cpu->machine, (int)(intptr_t)arg);
}

static void test_start_and_names(void)
{
    machine = coremu_machine_new(NCPUS, &fake_ops);
    UNIT_REQUIRE(machine != NULL, "cpu: machine_new", "returned NULL");
    UNIT_REQUIRE(coremu_machine_start(machine) == 0, "cpu: machine_start", "failed");
    UNIT_CHECK(WAIT_FOR(all_named_once(), 20), "cpu: threads named coremu-cpuN",
               "did not find exactly one thread named coremu-cpu0..%d", NCPUS - 1);

    bool all_off = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        all_off &= atomic_load(&machine->cpus[i]->power) == COREMU_CPU_OFF;
    }
    sleep_ms(20);
    for (unsigned i = 0; i < NCPUS; i++) {
        all_off &= atomic_load(&cores[i].runs) == 0;
    }
    UNIT_CHECK(all_off, "cpu: cores start powered off", "a core ran before power_on");

    struct self_probe probe = {.target = machine->cpus[3]};
    atomic_init(&probe.ran_on_target, -1);
    bool ran = coremu_cpu_run_sync(machine->cpus[3], self_probe_fn, &probe);
    UNIT_CHECK(!ran && atomic_load(&probe.ran_on_target) == -1, "cpu: run_sync to an off core",
               "returned %d, fn state %d", ran, atomic_load(&probe.ran_on_target));
}

static void test_power_on(void)
{
    int rcs[NCPUS];
    bool all_zero = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        rcs[i] = coremu_cpu_power_on(machine->cpus[i], 0x1000 + i, 0x2000 + i);
        all_zero &= rcs[i] == 0;
    }
    UNIT_CHECK(all_zero, "cpu: power_on", "returned %d %d %d %d", rcs[0], rcs[1], rcs[2], rcs[3]);
    int again = coremu_cpu_power_on(machine->cpus[0], 1, 2);
    UNIT_CHECK(again == -EALREADY || again == -EINPROGRESS, "cpu: power_on twice refused",
               "returned %d", again);

    bool started = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        started &= WAIT_FOR(atomic_load(&cores[i].runs) == 1 && counter_of(i) > 1000, 30);
    }
    UNIT_CHECK(started, "cpu: powered-on cores run", "a core did not start within 30 s");
    bool args_ok = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        args_ok &= atomic_load(&cores[i].arg0) == 0x1000 + i &&
                   atomic_load(&cores[i].arg1) == 0x2000 + i;
    }
    UNIT_CHECK(args_ok, "cpu: power_on_arg delivered", "run saw other arguments");
    again = coremu_cpu_power_on(machine->cpus[1], 1, 2);
    UNIT_CHECK(again == -EALREADY, "cpu: power_on of a running core", "returned %d", again);
}

static void test_run_sync(void)
{
    bool all_ok = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        struct self_probe probe = {.target = machine->cpus[i]};
        atomic_init(&probe.ran_on_target, -1);
        bool ran = coremu_cpu_run_sync(machine->cpus[i], self_probe_fn, &probe);
        if (!ran || atomic_load(&probe.ran_on_target) != 1) {
            all_ok = false;
            printf("core %u: run_sync returned %d, probe %d\n", i, ran,
                   atomic_load(&probe.ran_on_target));
        }
    }
    UNIT_CHECK(all_ok, "cpu: run_sync runs fn on the target's thread", "see above");

    /* Two cores calling each other at the same time must both complete. */
    unsigned before0 = atomic_load(&cores[0].syncs_received);
    unsigned before1 = atomic_load(&cores[1].syncs_received);
    atomic_store(&cores[0].sync_target, 1);
    atomic_store(&cores[1].sync_target, 0);
    atomic_store(&cores[0].syncs_todo, MUTUAL_SYNCS);
    atomic_store(&cores[1].syncs_todo, MUTUAL_SYNCS);
    bool done = WAIT_FOR(atomic_load(&cores[0].syncs_todo) == 0 &&
                             atomic_load(&cores[1].syncs_todo) == 0,
                         120);
    unsigned got0 = atomic_load(&cores[0].syncs_received) - before0;
    unsigned got1 = atomic_load(&cores[1].syncs_received) - before1;
    UNIT_CHECK(done && got0 == MUTUAL_SYNCS && got1 == MUTUAL_SYNCS,
               "cpu: cores run_sync each other without deadlock",
               "finished %d, core 0 received %u, core 1 received %u of %u", done, got0, got1,
               MUTUAL_SYNCS);
}

static void test_stop_world(void)
{
    uint64_t after[NCPUS];

    atomic_store(&stop_movements, 0);
    atomic_store(&stop_overlaps, 0);
    coremu_machine_stop_world(machine, frozen_check_fn, (void *)(uintptr_t)50);
    sample_counters(after);
    UNIT_CHECK(atomic_load(&stop_movements) == 0, "cpu: stop_world freezes every core",
               "a counter advanced while fn ran");
    UNIT_CHECK(WAIT_FOR(all_counters_passed(after, 0xf), 30), "cpu: cores resume after stop",
               "a core did not advance within 30 s after the stop");

    /* The two halves, nested. */
    atomic_store(&stop_movements, 0);
    coremu_machine_pause(machine);
    coremu_machine_pause(machine);
    frozen_check_fn((void *)(uintptr_t)20);
    /* The stopper may not wait for a parked core: run_sync runs fn at once, on its thread. */
    struct self_probe probe = {.target = machine->cpus[1]};
    atomic_init(&probe.ran_on_target, -1);
    bool ran = coremu_cpu_run_sync(machine->cpus[1], cpu_arg_probe_fn, &probe);
    UNIT_CHECK(ran && atomic_load(&probe.ran_on_target) == 1, "cpu: run_sync while stopped",
               "returned %d, probe %d", ran, atomic_load(&probe.ran_on_target));
    coremu_machine_resume(machine);
    frozen_check_fn((void *)(uintptr_t)20);
    coremu_machine_resume(machine);
    sample_counters(after);
    UNIT_CHECK(atomic_load(&stop_movements) == 0, "cpu: nested pause/resume holds the world",
               "a counter advanced while paused");
    UNIT_CHECK(WAIT_FOR(all_counters_passed(after, 0xf), 30), "cpu: cores resume after pause",
               "a core did not advance within 30 s after resume");
}

static void test_concurrent_stops(void)
{
    uint64_t after[NCPUS];
    unsigned done_before = atomic_load(&stops_done);
    int64_t start = now_ns();

    atomic_store(&stop_movements, 0);
    atomic_store(&stop_overlaps, 0);
    atomic_store(&cores[0].stops_todo, CONCURRENT_STOPS);
    atomic_store(&cores[1].stops_todo, CONCURRENT_STOPS);
    for (unsigned i = 0; i < CONCURRENT_STOPS; i++) {
        coremu_machine_stop_world(machine, frozen_check_fn, NULL);
    }
    bool finished = WAIT_FOR(atomic_load(&cores[0].stops_todo) == 0 &&
                                 atomic_load(&cores[1].stops_todo) == 0,
                             120);
    unsigned done = atomic_load(&stops_done) - done_before;
    printf("concurrent stops: %u in %.2f s\n", done, (now_ns() - start) / 1e9);
    UNIT_CHECK(finished && done == 3 * CONCURRENT_STOPS,
               "cpu: concurrent stop_world from two cores and main",
               "finished %d, %u of %u stops done", finished, done, 3 * CONCURRENT_STOPS);
    UNIT_CHECK(atomic_load(&stop_overlaps) == 0, "cpu: concurrent stops serialise",
               "%u callbacks overlapped", atomic_load(&stop_overlaps));
    UNIT_CHECK(atomic_load(&stop_movements) == 0, "cpu: concurrent stops freeze every core",
               "%u callbacks saw a counter advance", atomic_load(&stop_movements));
    sample_counters(after);
    UNIT_CHECK(WAIT_FOR(all_counters_passed(after, 0xf), 30),
               "cpu: cores resume after concurrent stops", "a core did not advance in 30 s");
}

/* A running core notices its deadline by itself, both when its pending word is clear (the poll
 * countdown) and when an architecture bit stays set (the loop then lives in process_pending). */
static void test_busy_deadline(void)
{
    struct coremu_cpu *cpu = machine->cpus[3];
    const char *names[2] = {"cpu: deadline fires in a running core",
                            "cpu: deadline fires while an arch bit stays pending"};

    for (int held = 0; held < 2; held++) {
        if (held) {
            coremu_cpu_kick(cpu, COREMU_PENDING_ARCH0);
        }
        unsigned before = atomic_load(&cores[3].expirations);
        int64_t deadline = coremu_clock_ns() + 20 * 1000 * 1000;
        UNIT_REQUIRE(coremu_cpu_run_sync(cpu, set_deadline_fn, &deadline), "cpu: set deadline",
                     "run_sync failed");
        bool fired = WAIT_FOR(atomic_load(&cores[3].expirations) == before + 1, 30);
        int64_t at = atomic_load(&cores[3].expired_at);
        UNIT_CHECK(fired && at >= deadline, names[held],
                   "fired %d, %.3f ms after the deadline", fired, (at - deadline) / 1e6);
        sleep_ms(20);
        UNIT_CHECK(atomic_load(&cores[3].expirations) == before + 1,
                   held ? "cpu: deadline is one-shot (arch bit held)" : "cpu: deadline is one-shot",
                   "timer_expired ran %u times", atomic_load(&cores[3].expirations) - before);
    }
    coremu_cpu_clear_pending(cpu, COREMU_PENDING_ARCH0);
}

static void test_power_cycle(void)
{
    struct coremu_cpu *cpu = machine->cpus[2];
    unsigned leaves_before = atomic_load(&cores[2].leaves);

    UNIT_REQUIRE(coremu_cpu_run_async(cpu, power_off_fn, NULL), "cpu: run_async", "failed");
    bool off = WAIT_FOR(atomic_load(&cores[2].leaves) == leaves_before + 1 &&
                            atomic_load(&cpu->power) == COREMU_CPU_OFF,
                        30);
    UNIT_CHECK(off, "cpu: power_off_self leaves run", "core 2 still on after 30 s");

    uint64_t frozen = counter_of(2);
    sleep_ms(20);
    UNIT_CHECK(counter_of(2) == frozen, "cpu: an off core does not run", "counter advanced");

    struct self_probe probe = {.target = cpu};
    atomic_init(&probe.ran_on_target, -1);
    UNIT_CHECK(!coremu_cpu_run_sync(cpu, self_probe_fn, &probe),
               "cpu: run_sync to a core that switched off", "returned true");

    /* A stop while a core is off must not wait for it. */
    atomic_store(&stop_movements, 0);
    coremu_machine_stop_world(machine, frozen_check_fn, NULL);
    UNIT_CHECK(atomic_load(&stop_movements) == 0, "cpu: stop_world with a core off",
               "a counter advanced");

    int rc = coremu_cpu_power_on(cpu, 77, 88);
    bool restarted = WAIT_FOR(atomic_load(&cores[2].runs) == 2 && counter_of(2) > frozen + 1000,
                              30);
    UNIT_CHECK(rc == 0 && restarted, "cpu: power_on after power_off_self",
               "power_on returned %d, restarted %d", rc, restarted);
    UNIT_CHECK(atomic_load(&cores[2].arg0) == 77 && atomic_load(&cores[2].arg1) == 88,
               "cpu: second power_on_arg delivered", "saw %" PRIu64 ", %" PRIu64,
               atomic_load(&cores[2].arg0), atomic_load(&cores[2].arg1));
}

/* The board's part of a machine reset: runs with every core off and none executing. */
struct reset_probe {
    _Atomic unsigned calls;
    _Atomic unsigned not_off;  /* cores whose power was not OFF when fn ran */
    _Atomic unsigned moved;    /* counters that advanced while fn ran */
};

static void reset_board_fn(void *arg)
{
    struct reset_probe *probe = arg;
    uint64_t before[NCPUS];
    uint64_t after[NCPUS];

    sample_counters(before);
    for (unsigned i = 0; i < NCPUS; i++) {
        if (atomic_load(&machine->cpus[i]->power) != COREMU_CPU_OFF) {
            atomic_fetch_add(&probe->not_off, 1);
        }
    }
    sleep_ms(5);
    sample_counters(after);
    for (unsigned i = 0; i < NCPUS; i++) {
        if (before[i] != after[i]) {
            atomic_fetch_add(&probe->moved, 1);
        }
    }
    atomic_fetch_add(&probe->calls, 1);
}

static void reset_from_core_fn(struct coremu_cpu *cpu, void *arg)
{
    coremu_machine_reset(cpu->machine, 0, 9, 10, reset_board_fn, arg);
}

/* Every core is on; after a reset only boot_cpu is, freshly entered with the given args, and
 * the others left their runs and stay off. */
static void check_after_reset(const char *how, struct reset_probe *probe, unsigned boot_cpu,
                              uint64_t arg0, uint64_t arg1, const unsigned runs_before[NCPUS])
{
    char name[3][160];
    snprintf(name[0], sizeof name[0], "%s: the board runs with every core off and still", how);
    snprintf(name[1], sizeof name[1], "%s: the boot core starts with its arguments", how);
    snprintf(name[2], sizeof name[2], "%s: the other cores stay off", how);

    bool done = WAIT_FOR(atomic_load(&probe->calls) == 1 &&
                             atomic_load(&cores[boot_cpu].runs) == runs_before[boot_cpu] + 1,
                         30);
    UNIT_CHECK(done, how, "board function ran %u times, boot core entered run %u times",
               atomic_load(&probe->calls), atomic_load(&cores[boot_cpu].runs) -
                                               runs_before[boot_cpu]);
    UNIT_CHECK(atomic_load(&probe->not_off) == 0 && atomic_load(&probe->moved) == 0,
               name[0],
               "%u cores not off, %u counters moved", atomic_load(&probe->not_off),
               atomic_load(&probe->moved));
    UNIT_CHECK(atomic_load(&cores[boot_cpu].arg0) == arg0 &&
                   atomic_load(&cores[boot_cpu].arg1) == arg1,
               name[1],
               "saw %" PRIu64 ", %" PRIu64, atomic_load(&cores[boot_cpu].arg0),
               atomic_load(&cores[boot_cpu].arg1));
    bool others_off = WAIT_FOR(
        ({
            bool all = true;
            for (unsigned i = 0; i < NCPUS; i++) {
                if (i != boot_cpu) {
                    all &= atomic_load(&machine->cpus[i]->power) == COREMU_CPU_OFF &&
                           atomic_load(&cores[i].leaves) == atomic_load(&cores[i].runs);
                }
            }
            all;
        }),
        30);
    uint64_t mark[NCPUS];
    sample_counters(mark);
    sleep_ms(20);
    bool still = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        if (i != boot_cpu) {
            still &= counter_of(i) == mark[i];
        }
    }
    UNIT_CHECK(others_off && still, name[2],
               "off %d, still %d", others_off, still);
}

static void power_on_all(void)
{
    for (unsigned i = 0; i < NCPUS; i++) {
        coremu_cpu_power_on(machine->cpus[i], 0, 0);
    }
    bool on = WAIT_FOR(({
                           bool all = true;
                           for (unsigned i = 0; i < NCPUS; i++) {
                               all &= atomic_load(&machine->cpus[i]->power) == COREMU_CPU_ON;
                           }
                           all;
                       }),
                       30);
    UNIT_REQUIRE(on, "cpu: every core on again", "some core did not start");
}

static void test_machine_reset(void)
{
    unsigned runs[NCPUS];

    power_on_all();
    struct reset_probe from_main = {0};
    for (unsigned i = 0; i < NCPUS; i++) {
        runs[i] = atomic_load(&cores[i].runs);
    }
    coremu_machine_reset(machine, 1, 5, 6, reset_board_fn, &from_main);
    check_after_reset("cpu: machine_reset from another thread", &from_main, 1, 5, 6, runs);

    /* From a core thread, which is itself reset: core 1 resets the machine, core 0 boots. */
    power_on_all();
    struct reset_probe from_core = {0};
    for (unsigned i = 0; i < NCPUS; i++) {
        runs[i] = atomic_load(&cores[i].runs);
    }
    UNIT_REQUIRE(coremu_cpu_run_async(machine->cpus[1], reset_from_core_fn, &from_core),
                 "cpu: run_async", "failed");
    check_after_reset("cpu: machine_reset from a core thread", &from_core, 0, 9, 10, runs);
    power_on_all();
}

static void test_exit(void)
{
    UNIT_REQUIRE(coremu_cpu_run_async(machine->cpus[1], exit_fn, (void *)(intptr_t)3),
                 "cpu: run_async", "failed");
    bool exiting = WAIT_FOR(atomic_load(&machine->exiting) != 0, 30);
    UNIT_CHECK(exiting, "cpu: machine_exit from a core thread", "machine not exiting in 30 s");
    /* Later calls keep the first status. */
    coremu_machine_exit(machine, 5);

    int status = coremu_machine_wait(machine);
    UNIT_CHECK(status == 3, "cpu: machine_wait returns the exit status", "returned %d", status);
    bool left = true;
    for (unsigned i = 0; i < NCPUS; i++) {
        left &= atomic_load(&cores[i].leaves) == atomic_load(&cores[i].runs);
    }
    UNIT_CHECK(left, "cpu: every run returned on exit", "a core's run did not return");
    /* pthread_join returns once the kernel clears the thread id, a moment before the task
     * leaves /proc/self/task: give the kernel that moment, not the emulator. */
    bool reaped = WAIT_FOR(no_named_threads(), 10);
    UNIT_CHECK(machine->threads_running == 0 && reaped, "cpu: every core thread finished",
               "%u threads still running, %s in /proc/self/task", machine->threads_running,
               reaped ? "none" : "some still");

    struct self_probe probe = {.target = machine->cpus[0]};
    atomic_init(&probe.ran_on_target, -1);
    UNIT_CHECK(!coremu_cpu_run_sync(machine->cpus[0], self_probe_fn, &probe),
               "cpu: run_sync after exit", "returned true");
    /* The finished thread will never drain its queue again: the call must be refused (and its
     * block freed), not queued for ever. */
    UNIT_CHECK(!coremu_cpu_run_async(machine->cpus[0], cpu_arg_probe_fn, &probe),
               "cpu: run_async after exit is refused", "returned true");
    coremu_machine_free(machine);
    machine = NULL;
}

static void test_exit_while_off(void)
{
    /* A machine whose cores never power on must still exit promptly. Its threads are pinned:
     * binding works or warns, and never stops the machine. */
    memset(cores, 0, sizeof cores);
    struct coremu_machine *m = coremu_machine_new(2, &fake_ops);
    UNIT_REQUIRE(m != NULL, "cpu: second machine", "machine_new failed");
    m->pin_threads = true;
    UNIT_REQUIRE(coremu_machine_start(m) == 0, "cpu: second machine", "start failed");
    coremu_cpu_power_on(m->cpus[0], 0, 0);
    UNIT_CHECK(WAIT_FOR(counter_of(0) > 1000, 30), "cpu: pinned core runs",
               "core 0 did not run within 30 s");
    coremu_machine_exit(m, 7);
    int status = coremu_machine_wait(m);
    UNIT_CHECK(status == 7, "cpu: exit with a core off", "status %d", status);
    coremu_machine_free(m);
}

/* Spinners for test_relax: every core spins in one guest loop (constant progress), or in a
 * new loop per call (progress far apart) once relax_fresh is set. */
static _Atomic int relax_fresh;
static _Atomic uint64_t relax_calls;

static void relax_run(struct coremu_cpu *cpu)
{
    uint64_t progress = 0;
    for (;;) {
        if (coremu_cpu_poll(cpu) && coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
            break;
        }
        if (atomic_load_explicit(&relax_fresh, memory_order_relaxed)) {
            progress += 2 * COREMU_RELAX_LOOP_INSNS;
        }
        coremu_cpu_relax(cpu, progress);
        atomic_fetch_add_explicit(&relax_calls, 1, memory_order_relaxed);
    }
}

static const struct coremu_cpu_ops relax_ops = {.run = relax_run};

static long voluntary_switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw;
}

/* The mean of machine->cpus_awake over ms, sampled every millisecond. */
static double mean_awake_over(struct coremu_machine *m, unsigned ms)
{
    double sum = 0;
    for (unsigned i = 0; i < ms; i++) {
        sum += atomic_load_explicit(&m->cpus_awake, memory_order_relaxed);
        sleep_ms(1);
    }
    return sum / ms;
}

/* Four spinning cores per host PU: a spin that goes on sleeps in relax instead of yielding
 * while more cores are awake than the host has PUs, so the host has room for the core the
 * spinners wait for (a guest lock holder); yielding alone keeps every core runnable. About as
 * many cores as PUs stay awake (those may yield: nobody waits for a PU then). A new loop at
 * every call (short waits) still yields. */
static void test_relax(void)
{
    unsigned pus = coremu_topology_pus();
    struct coremu_machine *m = coremu_machine_new(4 * pus, &relax_ops);
    UNIT_REQUIRE(m != NULL, "cpu: relax machine", "machine_new failed");
    UNIT_REQUIRE(coremu_machine_start(m) == 0, "cpu: relax machine", "start failed");
    for (unsigned i = 0; i < m->ncpus; i++) {
        coremu_cpu_power_on(m->cpus[i], 0, 0);
    }
    UNIT_CHECK(WAIT_FOR(atomic_load(&relax_calls) > 1000, 30), "cpu: relax cores run",
               "no relax calls in 30 s");
    sleep_ms(50); /* past the grace period of every core's spin */
    double awake = mean_awake_over(m, 200);
    UNIT_CHECK(awake < 2.5 * pus, "cpu: over-subscribed spinners sleep in relax",
               "%u cores spinning on %u PUs: %.1f awake on average", m->ncpus, pus, awake);
    uint64_t calls = atomic_load(&relax_calls);
    sleep_ms(100);
    UNIT_CHECK(atomic_load(&relax_calls) > calls, "cpu: sleeping spinners keep looking",
               "no relax call returned in 100 ms");
    /* A sleep is a voluntary context switch; a yield is not (the thread stays runnable). */
    long sleeps = voluntary_switches();
    sleep_ms(100);
    sleeps = voluntary_switches() - sleeps;
    UNIT_CHECK(sleeps > 10L * m->ncpus, "cpu: a long spin sleeps",
               "%ld voluntary switches in 100 ms", sleeps);
    atomic_store(&relax_fresh, 1);
    sleep_ms(20);
    sleeps = voluntary_switches();
    sleep_ms(100);
    sleeps = voluntary_switches() - sleeps;
    /* The main thread's own sleep counts once or twice. */
    UNIT_CHECK(sleeps < (long)m->ncpus, "cpu: short spins never sleep",
               "%ld voluntary switches in 100 ms", sleeps);
    coremu_machine_exit(m, 0);
    UNIT_CHECK(coremu_machine_wait(m) == 0, "cpu: relax machine exits", "bad status");
    coremu_machine_free(m);
}

int main(void)
{
    /* A hang is a failure, not a stuck test run. */
    alarm(280);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int64_t start = now_ns();
    test_start_and_names();
    test_power_on();
    test_run_sync();
    test_stop_world();
    test_concurrent_stops();
    test_busy_deadline();
    test_power_cycle();
    test_machine_reset();
    test_exit();
    test_exit_while_off();
    test_relax();
    printf("test-cpu: %.2f s\n", (now_ns() - start) / 1e9);
    return unit_done();
}
