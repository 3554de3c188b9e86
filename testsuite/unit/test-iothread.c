/*
 * The I/O thread: fd callbacks, removal while data flows, calls handed over from other threads,
 * device timers on the virtual clock, and an idle loop that costs no CPU.
 *
 * Timing: nothing here asserts that something happens quickly (the machine is shared and may be
 * under ThreadSanitizer). Waits have generous deadlines, and "X did not happen" is established by
 * ordering (a later sentinel timer fired first), not by sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <coremu/clock.h>
#include <coremu/iothread.h>

#include "unit.h"

#define MS            (1000 * 1000LL)
#define WAIT_LIMIT_MS 30000 /* only ever reached when something is broken */

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {ns / COREMU_NS_PER_SEC, ns % COREMU_NS_PER_SEC};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static bool wait_until(atomic_int *v, int target)
{
    int64_t end = coremu_host_ns() + WAIT_LIMIT_MS * MS;
    while (atomic_load(v) < target) {
        if (coremu_host_ns() > end) {
            return false;
        }
        sleep_ns(MS / 2);
    }
    return true;
}

static bool on_io_thread(void)
{
    char name[32] = "";
    pthread_getname_np(pthread_self(), name, sizeof name);
    return strcmp(name, "coremu-io") == 0;
}

/* ---- fd callbacks ---------------------------------------------------------------------------- */

struct pipe_reader {
    int fd;
    atomic_int bytes;
    atomic_int calls;
    atomic_int in_cb;
    atomic_int removed;
    atomic_int late; /* callbacks that began after remove_fd returned */
    atomic_int wrong_thread;
    char first[16];
};

static void pipe_cb(void *opaque, int fd, short revents)
{
    struct pipe_reader *r = opaque;
    atomic_store(&r->in_cb, 1);
    if (atomic_load(&r->removed)) {
        atomic_fetch_add(&r->late, 1);
    }
    if (!on_io_thread()) {
        atomic_fetch_add(&r->wrong_thread, 1);
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        if (atomic_load(&r->bytes) == 0) {
            memcpy(r->first, buf,
                   (size_t)n < sizeof r->first - 1 ? (size_t)n : sizeof r->first - 1);
        }
        atomic_fetch_add(&r->bytes, (int)n);
    }
    atomic_fetch_add(&r->calls, 1);
    atomic_store(&r->in_cb, 0);
}

struct sentinel_arg {
    atomic_int fired;
};

static void sentinel_cb(void *opaque)
{
    atomic_fetch_add(&((struct sentinel_arg *)opaque)->fired, 1);
}

static void test_fd_callback(struct coremu_iothread *io)
{
    int p[2];
    UNIT_REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "fd: pipe", "%s", strerror(errno));
    struct pipe_reader *r = calloc(1, sizeof *r);
    r->fd = p[0];
    UNIT_CHECK(coremu_io_set_fd(io, p[0], POLLIN, pipe_cb, r) == 0, "fd: set_fd", "failed");
    UNIT_CHECK(write(p[1], "hello", 5) == 5, "fd: write", "%s", strerror(errno));
    bool ok = wait_until(&r->bytes, 5);
    UNIT_CHECK(ok && !strcmp(r->first, "hello"), "fd: callback reads the data",
               "bytes=%d first='%s'", atomic_load(&r->bytes), r->first);
    UNIT_CHECK(atomic_load(&r->wrong_thread) == 0, "fd: callback runs on coremu-io",
               "%d callbacks elsewhere", atomic_load(&r->wrong_thread));

    /* events 0: registered but not polled. */
    UNIT_CHECK(coremu_io_set_fd(io, p[0], 0, pipe_cb, r) == 0, "fd: hold", "failed");
    int calls = atomic_load(&r->calls);
    UNIT_CHECK(write(p[1], "x", 1) == 1, "fd: write 2", "%s", strerror(errno));
    /* The loop passes through poll() before the sentinel fires (it is armed after the write). */
    struct sentinel_arg sa = {0};
    struct coremu_timer *sentinel = coremu_timer_new(io, sentinel_cb, &sa);
    coremu_timer_mod(sentinel, coremu_clock_ns() + 20 * MS);
    wait_until(&sa.fired, 1);
    coremu_timer_free(sentinel);
    UNIT_CHECK(atomic_load(&r->calls) == calls, "fd: events 0 is not polled",
               "%d callbacks while held", atomic_load(&r->calls) - calls);
    coremu_io_set_fd(io, p[0], POLLIN, pipe_cb, r);
    ok = wait_until(&r->bytes, 6);
    UNIT_CHECK(ok && atomic_load(&r->calls) > calls, "fd: polled again after hold", "bytes=%d",
               atomic_load(&r->bytes));

    coremu_io_remove_fd(io, p[0]);
    close(p[0]);
    close(p[1]);
    free(r);
}

struct flow {
    int wfd;
    atomic_int stop;
};

static void *flow_writer(void *arg)
{
    struct flow *f = arg;
    char buf[512];
    memset(buf, 'z', sizeof buf);
    while (!atomic_load(&f->stop)) {
        if (write(f->wfd, buf, sizeof buf) < 0) {
            struct pollfd p = {.fd = f->wfd, .events = POLLOUT};
            poll(&p, 1, 5);
        }
    }
    return NULL;
}

static void test_remove_while_flowing(struct coremu_iothread *io)
{
    int rounds = 40, bad_late = 0, bad_in_cb = 0, no_data = 0;
    for (int i = 0; i < rounds; i++) {
        int p[2];
        UNIT_REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "remove: pipe", "%s", strerror(errno));
        struct pipe_reader *r = calloc(1, sizeof *r);
        struct flow f = {.wfd = p[1]};
        pthread_t w;
        pthread_create(&w, NULL, flow_writer, &f);
        coremu_io_set_fd(io, p[0], POLLIN, pipe_cb, r);
        if (!wait_until(&r->calls, 3)) {
            no_data++;
        }
        coremu_io_remove_fd(io, p[0]);
        if (atomic_load(&r->in_cb)) {
            bad_in_cb++;
        }
        atomic_store(&r->removed, 1);
        /* The writer keeps going for a moment: any callback now would be a bug. */
        sleep_ns(2 * MS);
        atomic_store(&f.stop, 1);
        pthread_join(w, NULL);
        bad_late += atomic_load(&r->late);
        close(p[0]);
        close(p[1]);
        free(r);
    }
    UNIT_CHECK(no_data == 0, "remove: data flowed", "%d rounds saw no callbacks", no_data);
    UNIT_CHECK(bad_in_cb == 0, "remove_fd: waits for the callback in flight",
               "%d rounds returned during a callback", bad_in_cb);
    UNIT_CHECK(bad_late == 0, "remove_fd: no callback afterwards", "%d late callbacks", bad_late);
}

/* ---- calls ----------------------------------------------------------------------------------- */

#define NCALLS 2000

struct call_log {
    int seq[2][NCALLS];
    int n[2];
    atomic_int total;
    atomic_int wrong_thread;
    atomic_int bad_current;
    struct coremu_iothread *io;
};

struct call_arg {
    struct call_log *log;
    int producer, index;
};

static void call_fn(void *opaque)
{
    struct call_arg *a = opaque;
    struct call_log *log = a->log;
    if (!on_io_thread()) {
        atomic_fetch_add(&log->wrong_thread, 1);
    }
    if (!coremu_iothread_is_current(log->io)) {
        atomic_fetch_add(&log->bad_current, 1);
    }
    log->seq[a->producer][log->n[a->producer]++] = a->index;
    atomic_fetch_add(&log->total, 1);
    free(a);
}

struct producer {
    struct call_log *log;
    int id;
    int failures;
};

static void *call_producer(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < NCALLS; i++) {
        struct call_arg *a = malloc(sizeof *a);
        *a = (struct call_arg){p->log, p->id, i};
        if (coremu_io_call(p->log->io, call_fn, a) != 0) {
            p->failures++;
            free(a);
        }
    }
    return NULL;
}

static void test_calls(struct coremu_iothread *io)
{
    struct call_log *log = calloc(1, sizeof *log);
    log->io = io;
    struct producer prod[2] = {{log, 0, 0}, {log, 1, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, call_producer, &prod[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    bool ok = wait_until(&log->total, 2 * NCALLS);
    UNIT_CHECK(ok && prod[0].failures == 0 && prod[1].failures == 0, "io_call: all calls ran",
               "%d of %d", atomic_load(&log->total), 2 * NCALLS);
    int disorder = 0;
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < log->n[p]; i++) {
            disorder += log->seq[p][i] != i;
        }
    }
    UNIT_CHECK(disorder == 0, "io_call: in order", "%d calls out of order", disorder);
    UNIT_CHECK(atomic_load(&log->wrong_thread) == 0, "io_call: runs on coremu-io", "%d elsewhere",
               atomic_load(&log->wrong_thread));
    UNIT_CHECK(atomic_load(&log->bad_current) == 0 && !coremu_iothread_is_current(io),
               "iothread_is_current", "wrong answer");
    free(log);
}

/* ---- timers ---------------------------------------------------------------------------------- */

struct tlog {
    pthread_mutex_t lock;
    int order[16];
    int64_t fired_at[16];
    int n;
    atomic_int count;
};

struct targ {
    struct tlog *log;
    int id;
    int64_t deadline;
    struct coremu_timer *t;
    atomic_int fires;
    atomic_int early;
    int rearm_left; /* for the self-rearming test */
    bool free_self;
};

static void tlog_cb(void *opaque)
{
    struct targ *a = opaque;
    int64_t now = coremu_clock_ns();
    if (now < a->deadline) {
        atomic_fetch_add(&a->early, 1);
    }
    pthread_mutex_lock(&a->log->lock);
    if (a->log->n < 16) {
        a->log->order[a->log->n] = a->id;
        a->log->fired_at[a->log->n] = now;
        a->log->n++;
    }
    pthread_mutex_unlock(&a->log->lock);
    atomic_fetch_add(&a->fires, 1);
    atomic_fetch_add(&a->log->count, 1);
}

static void arm(struct targ *a, int64_t deadline)
{
    a->deadline = deadline;
    coremu_timer_mod(a->t, deadline);
}

static void test_timer_order(struct coremu_iothread *io)
{
    struct tlog log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    static const int offs_ms[5] = {60, 20, 40, 10, 50};
    struct targ a[5];
    memset(a, 0, sizeof a);
    int64_t base = coremu_clock_ns();
    for (int i = 0; i < 5; i++) {
        a[i].log = &log;
        a[i].id = i;
        a[i].t = coremu_timer_new(io, tlog_cb, &a[i]);
        arm(&a[i], base + offs_ms[i] * MS);
    }
    UNIT_CHECK(coremu_timer_pending(a[0].t), "timer: pending after mod", "not pending");
    bool ok = wait_until(&log.count, 5);
    UNIT_CHECK(ok, "timer: all fire", "%d of 5", atomic_load(&log.count));
    static const int expect[5] = {3, 1, 2, 4, 0};
    int bad = 0, early = 0;
    for (int i = 0; i < 5; i++) {
        bad += log.order[i] != expect[i];
        early += atomic_load(&a[i].early);
    }
    UNIT_CHECK(!bad, "timer: deadline order", "order %d %d %d %d %d", log.order[0], log.order[1],
               log.order[2], log.order[3], log.order[4]);
    UNIT_CHECK(!early, "timer: never before its deadline", "%d early", early);
    UNIT_CHECK(!coremu_timer_pending(a[0].t), "timer: not pending after firing", "pending");
    for (int i = 0; i < 5; i++) {
        coremu_timer_free(a[i].t);
    }
}

static void test_timer_rearm_del(struct coremu_iothread *io)
{
    struct tlog log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct targ moved = {.log = &log, .id = 1}, deleted = {.log = &log, .id = 2},
                sentinel = {.log = &log, .id = 3};
    moved.t = coremu_timer_new(io, tlog_cb, &moved);
    deleted.t = coremu_timer_new(io, tlog_cb, &deleted);
    sentinel.t = coremu_timer_new(io, tlog_cb, &sentinel);
    int64_t base = coremu_clock_ns();
    arm(&moved, base + 30 * MS);
    arm(&deleted, base + 30 * MS);
    arm(&moved, base + 80 * MS); /* re-armed later before it fired */
    coremu_timer_del(deleted.t);
    UNIT_CHECK(!coremu_timer_pending(deleted.t), "timer_del: not pending", "pending");
    arm(&sentinel, base + 120 * MS);
    bool ok = wait_until(&sentinel.fires, 1);
    UNIT_CHECK(ok && atomic_load(&moved.fires) == 1 && !atomic_load(&moved.early),
               "timer: re-armed fires once at the new deadline", "fires=%d early=%d",
               atomic_load(&moved.fires), atomic_load(&moved.early));
    UNIT_CHECK(atomic_load(&deleted.fires) == 0, "timer_del: never fires", "fired %d times",
               atomic_load(&deleted.fires));
    /* A deleted timer can be armed again. */
    arm(&deleted, coremu_clock_ns() + 5 * MS);
    ok = wait_until(&deleted.fires, 1);
    UNIT_CHECK(ok, "timer: re-armed after del fires", "did not fire");
    coremu_timer_free(moved.t);
    coremu_timer_free(deleted.t);
    coremu_timer_free(sentinel.t);
}

static void self_cb(void *opaque)
{
    struct targ *a = opaque;
    atomic_fetch_add(&a->fires, 1);
    if (a->free_self) {
        coremu_timer_free(a->t);
        return;
    }
    if (--a->rearm_left > 0) {
        coremu_timer_mod(a->t, coremu_clock_ns() + MS);
    } else {
        /* The last one re-arms and then deletes itself: the delete wins. */
        coremu_timer_mod(a->t, coremu_clock_ns() + MS);
        coremu_timer_del(a->t);
    }
}

static void test_timer_self(struct coremu_iothread *io)
{
    struct tlog log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct targ self = {.log = &log, .rearm_left = 5};
    struct targ suicide = {.log = &log, .free_self = true};
    struct targ sentinel = {.log = &log, .id = 9};
    self.t = coremu_timer_new(io, self_cb, &self);
    suicide.t = coremu_timer_new(io, self_cb, &suicide);
    sentinel.t = coremu_timer_new(io, tlog_cb, &sentinel);
    coremu_timer_mod(self.t, coremu_clock_ns() + MS);
    coremu_timer_mod(suicide.t, coremu_clock_ns() + MS);
    bool ok = wait_until(&self.fires, 5) && wait_until(&suicide.fires, 1);
    UNIT_CHECK(ok, "timer: mod from its own callback", "fired %d times", atomic_load(&self.fires));
    arm(&sentinel, coremu_clock_ns() + 30 * MS);
    wait_until(&sentinel.fires, 1);
    UNIT_CHECK(atomic_load(&self.fires) == 5 && !coremu_timer_pending(self.t),
               "timer: del from its own callback", "fires=%d pending=%d", atomic_load(&self.fires),
               coremu_timer_pending(self.t));
    UNIT_CHECK(atomic_load(&suicide.fires) == 1, "timer: free from its own callback", "fires=%d",
               atomic_load(&suicide.fires));
    coremu_timer_free(self.t);
    coremu_timer_free(sentinel.t);
}

struct storm {
    struct coremu_timer *t;
    atomic_int in_cb;
    atomic_int fires;
    atomic_int stop_rearm;
    atomic_int violations;
    atomic_int done;
};

static void storm_cb(void *opaque)
{
    struct storm *s = opaque;
    atomic_store(&s->in_cb, 1);
    atomic_fetch_add(&s->fires, 1);
    if (!atomic_load(&s->stop_rearm)) {
        coremu_timer_mod(s->t, coremu_clock_ns() + 20 * 1000);
    }
    for (volatile int i = 0; i < 200; i++) {
    }
    atomic_store(&s->in_cb, 0);
}

/* Two threads arm and delete the same self-rearming timer as fast as they can. */
static void *storm_hammer(void *arg)
{
    struct storm *s = arg;
    while (!atomic_load(&s->done)) {
        coremu_timer_mod(s->t, coremu_clock_ns());
        sched_yield();
        coremu_timer_del(s->t);
    }
    return NULL;
}

static void test_timer_del_stress(struct coremu_iothread *io)
{
    struct storm *s = calloc(1, sizeof *s);
    s->t = coremu_timer_new(io, storm_cb, s);
    /* Up to 300 rounds, fewer when the machine is slow (never fewer than 20). */
    int not_fired = 0;
    int64_t budget_end = coremu_host_ns() + 3 * COREMU_NS_PER_SEC;
    for (int i = 0; i < 300 && (i < 20 || coremu_host_ns() < budget_end); i++) {
        int before = atomic_load(&s->fires);
        coremu_timer_mod(s->t, coremu_clock_ns());
        int64_t end = coremu_host_ns() + WAIT_LIMIT_MS * MS;
        while (atomic_load(&s->fires) < before + 1 + (i & 1) && coremu_host_ns() < end) {
            sleep_ns(50 * 1000);
        }
        if (atomic_load(&s->fires) == before) {
            not_fired++;
        }
        coremu_timer_del(s->t);
        if (atomic_load(&s->in_cb) || coremu_timer_pending(s->t)) {
            atomic_fetch_add(&s->violations, 1);
        }
        int after = atomic_load(&s->fires);
        sleep_ns(100 * 1000);
        if (atomic_load(&s->fires) != after) {
            atomic_fetch_add(&s->violations, 1);
        }
    }
    UNIT_CHECK(not_fired == 0, "timer stress: fired", "%d rounds without a firing", not_fired);
    UNIT_CHECK(atomic_load(&s->violations) == 0, "timer_del while firing: callback stopped",
               "%d rounds saw the callback running or pending after del",
               atomic_load(&s->violations));

    /* Concurrent mod/del from two threads while it re-arms itself, then a final del. */
    pthread_t h[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&h[i], NULL, storm_hammer, s);
    }
    sleep_ns(300 * MS);
    atomic_store(&s->done, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(h[i], NULL);
    }
    coremu_timer_del(s->t);
    UNIT_CHECK(!atomic_load(&s->in_cb) && !coremu_timer_pending(s->t),
               "timer_del: concurrent mod/del", "still running or pending");

    /* Free while it keeps re-arming itself: the callback must be finished and never rerun. */
    coremu_timer_mod(s->t, coremu_clock_ns());
    wait_until(&s->fires, atomic_load(&s->fires) + 3);
    coremu_timer_free(s->t);
    UNIT_CHECK(!atomic_load(&s->in_cb), "timer_free while firing", "callback still running");
    free(s); /* a later callback would be a use-after-free (visible under the sanitizers) */
}

/* ---- idle cost ------------------------------------------------------------------------------- */

static void get_cpuclock(void *opaque)
{
    clockid_t *cid = opaque;
    pthread_getcpuclockid(pthread_self(), cid);
}

static int64_t cpu_ns(clockid_t cid)
{
    struct timespec ts;
    clock_gettime(cid, &ts);
    return (int64_t)ts.tv_sec * COREMU_NS_PER_SEC + ts.tv_nsec;
}

static void nop_fd(void *opaque, int fd, short revents)
{
}

static void nop_timer(void *opaque)
{
}

static void test_idle(void)
{
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io && coremu_iothread_start(io) == 0, "idle: start", "failed");
    int p[2];
    UNIT_REQUIRE(pipe2(p, O_CLOEXEC) == 0, "idle: pipe", "%s", strerror(errno));
    coremu_io_set_fd(io, p[0], POLLIN, nop_fd, NULL);
    struct coremu_timer *far = coremu_timer_new(io, nop_timer, NULL);
    coremu_timer_mod(far, coremu_clock_ns() + 3600 * COREMU_NS_PER_SEC);

    static clockid_t cid;
    coremu_io_call(io, get_cpuclock, &cid);
    /* The call and a marker call run in order: once the marker ran, cid is set. */
    struct call_log *log = calloc(1, sizeof *log);
    log->io = io;
    struct call_arg *a = malloc(sizeof *a);
    *a = (struct call_arg){log, 0, 0};
    coremu_io_call(io, call_fn, a);
    UNIT_REQUIRE(wait_until(&log->total, 1), "idle: clock id", "call did not run");
    sleep_ns(100 * MS); /* let the loop settle into its sleep */
    int64_t c0 = cpu_ns(cid), w0 = coremu_host_ns();
    sleep_ns(2 * COREMU_NS_PER_SEC);
    int64_t used = cpu_ns(cid) - c0, wall = coremu_host_ns() - w0;
    UNIT_CHECK(used * 50 < wall, "idle: I/O thread uses < 2% CPU", "%.1f ms of CPU in %.1f ms",
               used / 1e6, wall / 1e6);

    /* A paused virtual clock: a timer just ahead does not fire, and the loop does not spin
     * waiting for a deadline that never comes closer. */
    struct sentinel_arg sa = {0};
    struct coremu_timer *near = coremu_timer_new(io, sentinel_cb, &sa);
    coremu_clock_pause();
    coremu_timer_mod(near, coremu_clock_ns() + 1000);
    c0 = cpu_ns(cid);
    w0 = coremu_host_ns();
    sleep_ns(300 * MS);
    used = cpu_ns(cid) - c0;
    wall = coremu_host_ns() - w0;
    UNIT_CHECK(atomic_load(&sa.fired) == 0, "paused clock: timer waits", "fired while paused");
    UNIT_CHECK(used * 10 < wall, "paused clock: no busy loop", "%.1f ms of CPU in %.1f ms",
               used / 1e6, wall / 1e6);
    coremu_clock_resume();
    UNIT_CHECK(wait_until(&sa.fired, 1), "paused clock: fires after resume", "did not fire");
    coremu_timer_free(near);

    coremu_timer_free(far);
    coremu_io_remove_fd(io, p[0]);
    close(p[0]);
    close(p[1]);
    coremu_iothread_free(io);
    free(log);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

static void *get_default(void *arg)
{
    return coremu_iothread_default();
}

static void count_call(void *opaque)
{
    atomic_fetch_add((atomic_int *)opaque, 1);
}

static void test_lifecycle(void)
{
    pthread_t t[4];
    void *r[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, get_default, NULL);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], &r[i]);
    }
    UNIT_CHECK(r[0] && r[0] == r[1] && r[1] == r[2] && r[2] == r[3] &&
                   r[0] == coremu_iothread_default(),
               "iothread_default: one loop", "%p %p %p %p", r[0], r[1], r[2], r[3]);

    /* Calls queued before free still run; a loop never started frees cleanly. */
    struct coremu_iothread *io = coremu_iothread_new();
    static atomic_int ran;
    UNIT_REQUIRE(io && coremu_iothread_start(io) == 0, "lifecycle: start", "failed");
    UNIT_CHECK(coremu_iothread_start(io) == 0, "iothread_start: idempotent", "failed");
    for (int i = 0; i < 100; i++) {
        coremu_io_call(io, count_call, &ran);
    }
    coremu_iothread_free(io);
    UNIT_CHECK(atomic_load(&ran) == 100, "iothread_free: queued calls run", "%d of 100",
               atomic_load(&ran));
    io = coremu_iothread_new();
    coremu_io_call(io, count_call, &ran);
    coremu_iothread_free(io);
    UNIT_CHECK(1, "iothread_free: never started", "unreachable");
}

int main(void)
{
    int64_t t0 = coremu_host_ns();
    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io, "iothread_new", "NULL");
    UNIT_REQUIRE(coremu_iothread_start(io) == 0, "iothread_start", "failed");

#define TIMED(call)                                                        \
    do {                                                                   \
        int64_t t1 = coremu_host_ns();                                     \
        call;                                                              \
        printf("time: %s %.2f s\n", #call, (coremu_host_ns() - t1) / 1e9); \
    } while (0)
    TIMED(test_fd_callback(io));
    TIMED(test_remove_while_flowing(io));
    TIMED(test_calls(io));
    TIMED(test_timer_order(io));
    TIMED(test_timer_rearm_del(io));
    TIMED(test_timer_self(io));
    TIMED(test_timer_del_stress(io));
    coremu_iothread_free(io);
    TIMED(test_idle());
    TIMED(test_lifecycle());
    printf("test-iothread: %.1f s\n", (coremu_host_ns() - t0) / 1e9);
    return unit_done();
}
