/*
 * An idle guest core (WFI/HLT: coremu_cpu_wait in a loop) must cost no host CPU, must wake
 * promptly when kicked or sent an event (and only then: not for bits it does not wait for), and
 * must wake on its timer deadline: never before it, and not much after. Timing bounds are
 * generous: the test machine is shared and loaded.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/cpu.h>

#include "unit.h"

#define IDLE_SECONDS 5
#define WAKE_ROUNDS 100
#define DEADLINE_ROUNDS 12
#define MS (1000 * 1000LL)
#define LATENCY_LIMIT_NS (50 * MS)
#define MASKED_KICKS 2000u

static struct coremu_machine *machine;
static struct coremu_cpu *core;

static _Atomic uint64_t wakeups;       /* times coremu_cpu_wait returned */
static _Atomic int64_t last_wake_ns;   /* host time of the latest return from wait */
static _Atomic int64_t expired_at_ns;  /* virtual time timer_expired last ran, or 0 */
static _Atomic uint64_t expirations;

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / COREMU_NS_PER_SEC, .tv_nsec = ns % COREMU_NS_PER_SEC};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(int64_t *values, unsigned n)
{
    qsort(values, n, sizeof(*values), compare_i64);
    return values[n / 2];
}

static void idle_run(struct coremu_cpu *cpu)
{
    for (;;) {
        coremu_cpu_wait(cpu, 0);
        atomic_store(&last_wake_ns, coremu_host_ns());
        atomic_fetch_add(&wakeups, 1);
        if (coremu_cpu_process_pending(cpu) == COREMU_CPU_LEAVE) {
            return;
        }
    }
}

static void idle_timer_expired(struct coremu_cpu *cpu)
{
    (void)cpu;
    atomic_store(&expired_at_ns, coremu_clock_ns());
    atomic_fetch_add(&expirations, 1);
}

static const struct coremu_cpu_ops idle_ops = {
    .run = idle_run,
    .timer_expired = idle_timer_expired,
};

static void read_thread_cputime(struct coremu_cpu *cpu, void *arg)
{
    (void)cpu;
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    *(int64_t *)arg = (int64_t)ts.tv_sec * COREMU_NS_PER_SEC + ts.tv_nsec;
}

static void set_deadline_fn(struct coremu_cpu *cpu, void *arg)
{
    coremu_cpu_set_deadline(cpu, *(int64_t *)arg);
}

static void record_post_fn(struct coremu_cpu *cpu, void *arg)
{
    (void)cpu;
    atomic_store((_Atomic int64_t *)arg, coremu_host_ns());
}

static void test_idle_cpu_time(void)
{
    int64_t cpu_before = 0;
    int64_t cpu_after = 0;
    /* A far deadline, so the sleep takes the timed path as a guest with a timer would. */
    int64_t far = coremu_clock_ns() + 600 * COREMU_NS_PER_SEC;

    UNIT_REQUIRE(coremu_cpu_run_sync(core, set_deadline_fn, &far), "idle: set deadline",
                 "run_sync failed");
    UNIT_REQUIRE(coremu_cpu_run_sync(core, read_thread_cputime, &cpu_before), "idle: cputime",
                 "run_sync failed");
    uint64_t wakeups_before = atomic_load(&wakeups);
    int64_t host_before = coremu_host_ns();
    sleep_ns(IDLE_SECONDS * COREMU_NS_PER_SEC);
    UNIT_REQUIRE(coremu_cpu_run_sync(core, read_thread_cputime, &cpu_after), "idle: cputime",
                 "run_sync failed");
    int64_t host_elapsed = coremu_host_ns() - host_before;
    uint64_t idle_wakeups = atomic_load(&wakeups) - wakeups_before;
    int64_t used = cpu_after - cpu_before;
    double percent = 100.0 * (double)used / (double)host_elapsed;

    printf("idle core: %.3f ms CPU over %.2f s (%.4f%%), %llu wake-ups\n", used / 1e6,
           host_elapsed / 1e9, percent, (unsigned long long)idle_wakeups);
    UNIT_CHECK(percent < 1.0, "idle: an idle core uses under 1% of a host CPU",
               "%.3f%% (%.3f ms over %.2f s)", percent, used / 1e6, host_elapsed / 1e9);

    int64_t none = INT64_MAX;
    coremu_cpu_run_sync(core, set_deadline_fn, &none);
}

static void read_tid(struct coremu_cpu *cpu, void *arg)
{
    (void)cpu;
    *(pid_t *)arg = (pid_t)syscall(SYS_gettid);
}

static void clear_arch_bit(struct coremu_cpu *cpu, void *arg)
{
    (void)arg;
    coremu_cpu_clear_pending(cpu, COREMU_PENDING_ARCH0);
}

/* The thread's voluntary context switches (each sleep that ended), -1 if unreadable. */
static long voluntary_switches(pid_t tid)
{
    char path[64];
    char line[128];
    long n = -1;
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1) {
            break;
        }
    }
    fclose(f);
    return n;
}

/* Kicks of bits a sleeper does not wait for (another core's TLB maintenance for a core in WFI)
 * must not wake it: each such wake-up costs a context switch for nothing. */
static void test_masked_kicks(void)
{
    pid_t tid = 0;
    UNIT_REQUIRE(coremu_cpu_run_sync(core, read_tid, &tid), "idle: tid", "run_sync failed");
    sleep_ns(20 * MS);
    uint64_t wakeups_before = atomic_load(&wakeups);
    long before = voluntary_switches(tid);
    for (unsigned i = 0; i < MASKED_KICKS; i++) {
        coremu_cpu_kick(core, COREMU_PENDING_ARCH0);
        sleep_ns(100 * 1000);
    }
    long after = voluntary_switches(tid);
    uint64_t returned = atomic_load(&wakeups) - wakeups_before;
    printf("masked kicks: %u kicks, %ld context switches, %llu returns from wait\n",
           MASKED_KICKS, after - before, (unsigned long long)returned);
    UNIT_CHECK(before >= 0 && after - before < MASKED_KICKS / 20 && returned == 0,
               "idle: kicks of bits the sleeper does not wait for do not wake it",
               "%ld context switches and %llu returns for %u kicks", after - before,
               (unsigned long long)returned, MASKED_KICKS);
    UNIT_REQUIRE(coremu_cpu_run_sync(core, clear_arch_bit, NULL), "idle: clear", "failed");
}

static void test_wake_latency(void)
{
    int64_t kick_latency[WAKE_ROUNDS];
    int64_t post_latency[WAKE_ROUNDS];
    unsigned kick_lost = 0;
    unsigned post_lost = 0;

    for (unsigned i = 0; i < WAKE_ROUNDS; i++) {
        /* Let the core fall asleep again first. */
        sleep_ns(2 * MS);
        uint64_t seen = atomic_load(&wakeups);
        int64_t sent = coremu_host_ns();
        coremu_cpu_kick(core, COREMU_PENDING_KICK);
        int64_t give_up = sent + 10 * COREMU_NS_PER_SEC;
        while (atomic_load(&wakeups) == seen && coremu_host_ns() < give_up) {
            sleep_ns(MS / 10);
        }
        if (atomic_load(&wakeups) == seen) {
            kick_lost++;
            kick_latency[i] = INT64_MAX;
        } else {
            kick_latency[i] = atomic_load(&last_wake_ns) - sent;
        }
    }

    for (unsigned i = 0; i < WAKE_ROUNDS; i++) {
        static _Atomic int64_t ran_at;
        sleep_ns(2 * MS);
        atomic_store(&ran_at, 0);
        int64_t sent = coremu_host_ns();
        UNIT_REQUIRE(coremu_cpu_run_async(core, record_post_fn, (void *)&ran_at), "idle: post",
                     "run_async failed");
        int64_t give_up = sent + 10 * COREMU_NS_PER_SEC;
        while (atomic_load(&ran_at) == 0 && coremu_host_ns() < give_up) {
            sleep_ns(MS / 10);
        }
        int64_t ran = atomic_load(&ran_at);
        if (ran == 0) {
            post_lost++;
            post_latency[i] = INT64_MAX;
        } else {
            post_latency[i] = ran - sent;
        }
    }

    int64_t kick_median = median(kick_latency, WAKE_ROUNDS);
    int64_t post_median = median(post_latency, WAKE_ROUNDS);
    printf("wake latency: kick median %.3f ms (max %.3f), post median %.3f ms (max %.3f)\n",
           kick_median / 1e6, kick_latency[WAKE_ROUNDS - 1] / 1e6, post_median / 1e6,
           post_latency[WAKE_ROUNDS - 1] / 1e6);
    UNIT_CHECK(kick_lost == 0, "idle: every kick wakes the core", "%u of %u kicks lost",
               kick_lost, WAKE_ROUNDS);
    UNIT_CHECK(kick_median < LATENCY_LIMIT_NS, "idle: kick wakes promptly",
               "median latency %.3f ms", kick_median / 1e6);
    UNIT_CHECK(post_lost == 0, "idle: every posted event runs", "%u of %u events lost",
               post_lost, WAKE_ROUNDS);
    UNIT_CHECK(post_median < LATENCY_LIMIT_NS, "idle: posted event runs promptly",
               "median latency %.3f ms", post_median / 1e6);
}

static void test_deadline(void)
{
    int64_t lateness[DEADLINE_ROUNDS];
    unsigned early = 0;
    unsigned missed = 0;

    for (unsigned i = 0; i < DEADLINE_ROUNDS; i++) {
        uint64_t expirations_before = atomic_load(&expirations);
        int64_t deadline = coremu_clock_ns() + (int64_t)(10 + 10 * (i % 5)) * MS;
        UNIT_REQUIRE(coremu_cpu_run_sync(core, set_deadline_fn, &deadline), "idle: deadline",
                     "run_sync failed");
        int64_t give_up = coremu_host_ns() + 10 * COREMU_NS_PER_SEC;
        while (atomic_load(&expirations) == expirations_before && coremu_host_ns() < give_up) {
            sleep_ns(MS);
        }
        if (atomic_load(&expirations) == expirations_before) {
            missed++;
            lateness[i] = INT64_MAX;
            continue;
        }
        int64_t fired = atomic_load(&expired_at_ns);
        if (fired < deadline) {
            early++;
        }
        lateness[i] = fired - deadline;
    }
    int64_t late_median = median(lateness, DEADLINE_ROUNDS);
    printf("deadline lateness: min %.3f ms, median %.3f ms, max %.3f ms\n", lateness[0] / 1e6,
           late_median / 1e6, lateness[DEADLINE_ROUNDS - 1] / 1e6);
    UNIT_CHECK(missed == 0, "idle: deadline wakes the core", "%u of %u deadlines never fired",
               missed, DEADLINE_ROUNDS);
    UNIT_CHECK(early == 0, "idle: deadline never fires early", "%u of %u fired early", early,
               DEADLINE_ROUNDS);
    UNIT_CHECK(late_median < LATENCY_LIMIT_NS, "idle: deadline fires on time",
               "median lateness %.3f ms", late_median / 1e6);
}

int main(void)
{
    alarm(280);
    setvbuf(stdout, NULL, _IOLBF, 0);

    machine = coremu_machine_new(1, &idle_ops);
    UNIT_REQUIRE(machine != NULL, "idle: machine_new", "returned NULL");
    UNIT_REQUIRE(coremu_machine_start(machine) == 0, "idle: machine_start", "failed");
    core = machine->cpus[0];
    UNIT_REQUIRE(coremu_cpu_power_on(core, 0, 0) == 0, "idle: power_on", "failed");

    test_idle_cpu_time();
    test_masked_kicks();
    test_wake_latency();
    test_deadline();

    coremu_machine_exit(machine, 0);
    int status = coremu_machine_wait(machine);
    UNIT_CHECK(status == 0, "idle: sleeping core exits", "status %d", status);
    coremu_machine_free(machine);
    return unit_done();
}
