/*
 * Character devices: null, file, pty, tcp server and client, the stdio back end (raw terminal and
 * its restore on close, exit() and SIGTERM), the C-a escape of mon:stdio and the same filter on a
 * pty, and bad specifications.
 *
 * The stdio parts run in child processes (this program re-executed with --child) whose stdin and
 * stdout are a pty made here, or pipes: the terminal attributes are then checked from this side,
 * through our own descriptor of the pty's slave. Only 127.0.0.1 is used for sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <coremu/chardev.h>
#include <coremu/clock.h>
#include <coremu/iothread.h>

#include "unit.h"

#define MS      (1000 * 1000LL)
#define WAIT_MS 30000 /* deadline for things that must happen; only reached when broken */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * MS};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---- a front end that records what it receives ----------------------------------------------- */

struct rx {
    pthread_mutex_t lock;
    uint8_t buf[1 << 16];
    size_t len;
    atomic_int calls;
    atomic_size_t allow; /* what can_read answers */
    atomic_int quits;
    atomic_int quit_status;
};

static void rx_init(struct rx *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    atomic_store(&r->allow, 4096);
    atomic_store(&r->quit_status, -1);
}

static size_t rx_can_read(void *opaque)
{
    struct rx *r = opaque;
    return atomic_load(&r->allow);
}

static void rx_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct rx *r = opaque;
    pthread_mutex_lock(&r->lock);
    if (len > sizeof r->buf - r->len) {
        len = sizeof r->buf - r->len;
    }
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    pthread_mutex_unlock(&r->lock);
    atomic_fetch_add(&r->calls, 1);
}

static void rx_quit(void *opaque, int status)
{
    struct rx *r = opaque;
    atomic_store(&r->quit_status, status);
    atomic_fetch_add(&r->quits, 1);
}

static const struct coremu_chardev_handlers rx_handlers = {rx_can_read, rx_read};

static size_t rx_len(struct rx *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->len;
    pthread_mutex_unlock(&r->lock);
    return n;
}

static bool rx_wait(struct rx *r, size_t n)
{
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while (rx_len(r) < n) {
        if (coremu_host_ns() > end) {
            return false;
        }
        sleep_ms(1);
    }
    return true;
}

static bool rx_equals(struct rx *r, const void *data, size_t n)
{
    pthread_mutex_lock(&r->lock);
    bool eq = r->len == n && !memcmp(r->buf, data, n);
    pthread_mutex_unlock(&r->lock);
    return eq;
}

/* Reads from fd until n bytes arrived or the deadline passed. Returns the count. */
static size_t read_n(int fd, void *buf, size_t n)
{
    size_t got = 0;
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while (got < n) {
        int left = (int)((end - coremu_host_ns()) / MS);
        if (left <= 0) {
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0) {
            continue;
        }
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        }
    }
    return got;
}

/* Reads from fd until the text contains needle (or the deadline). */
static bool read_until(int fd, const char *needle, char *acc, size_t cap)
{
    size_t len = strlen(acc);
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while (!strstr(acc, needle)) {
        int left = (int)((end - coremu_host_ns()) / MS);
        if (left <= 0 || len + 1 >= cap) {
            return false;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0) {
            continue;
        }
        ssize_t r = read(fd, acc + len, cap - 1 - len);
        if (r > 0) {
            len += (size_t)r;
            acc[len] = '\0';
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            return false;
        }
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Runs on the chardev's I/O thread and back: everything queued before it has been handled. */
static void flag_call(void *opaque)
{
    atomic_store((atomic_int *)opaque, 1);
}

static void io_round_trip(struct coremu_iothread *io)
{
    for (int i = 0; i < 2; i++) {
        atomic_int done = 0;
        coremu_io_call(io, flag_call, &done);
        int64_t end = coremu_host_ns() + WAIT_MS * MS;
        while (!atomic_load(&done) && coremu_host_ns() < end) {
            sleep_ms(1);
        }
    }
}

/* ---- null and file --------------------------------------------------------------------------- */

static void test_null(struct coremu_iothread *io)
{
    char err[256];
    struct coremu_chardev *c = coremu_chardev_open(io, "null", err, sizeof err);
    UNIT_REQUIRE(c, "null: open", "%s", err);
    UNIT_CHECK(coremu_chardev_write(c, (const uint8_t *)"abc", 3) == 3, "null: write", "not 3");
    UNIT_CHECK(coremu_chardev_id(c) == NULL && coremu_chardev_pty_path(c) == NULL,
               "null: no id, no pty path", "unexpected");
    coremu_chardev_close(c);
    c = coremu_chardev_open(io, "null,id=n0", err, sizeof err);
    UNIT_CHECK(c && coremu_chardev_id(c) && !strcmp(coremu_chardev_id(c), "n0"),
               "null: -chardev form with id", "%s", c ? "wrong id" : err);
    coremu_chardev_close(c);
}

struct file_writer {
    struct coremu_chardev *c;
    char ch;
};

#define FILE_LINES 2000
#define FILE_LINE  32

static void *file_writer(void *arg)
{
    struct file_writer *w = arg;
    uint8_t line[FILE_LINE];
    memset(line, w->ch, sizeof line);
    line[FILE_LINE - 1] = '\n';
    for (int i = 0; i < FILE_LINES; i++) {
        coremu_chardev_write(w->c, line, sizeof line);
    }
    return NULL;
}

static void test_file(struct coremu_iothread *io, const char *dir)
{
    char path[512], spec[600], err[256], buf[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    snprintf(spec, sizeof spec, "file:%s", path);
    struct coremu_chardev *c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_REQUIRE(c, "file: open", "%s", err);
    coremu_chardev_write(c, (const uint8_t *)"hello ", 6);
    coremu_chardev_write(c, (const uint8_t *)"file\n", 5);
    coremu_chardev_close(c);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f) {
        fclose(f);
    }
    UNIT_CHECK(!strcmp(buf, "hello file\n"), "file: writes land in the file", "got '%s'", buf);

    snprintf(spec, sizeof spec, "file,id=f1,path=%s,append=on", path);
    c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_REQUIRE(c, "file: -chardev append", "%s", err);
    coremu_chardev_write(c, (const uint8_t *)"more\n", 5);
    coremu_chardev_close(c);
    f = fopen(path, "r");
    n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f) {
        fclose(f);
    }
    UNIT_CHECK(!strcmp(buf, "hello file\nmore\n"), "file: append=on", "got '%s'", buf);

    /* Two threads at once: every write lands whole. */
    snprintf(spec, sizeof spec, "file:%s", path);
    c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_REQUIRE(c, "file: reopen", "%s", err);
    struct file_writer w[2] = {{c, 'A'}, {c, 'B'}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, file_writer, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    coremu_chardev_close(c);
    f = fopen(path, "r");
    int lines = 0, torn = 0;
    char line[FILE_LINE + 8];
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        size_t len = strlen(line);
        if (len != FILE_LINE || strspn(line, line[0] == 'A' ? "A" : "B") != FILE_LINE - 1) {
            torn++;
        }
    }
    if (f) {
        fclose(f);
    }
    UNIT_CHECK(lines == 2 * FILE_LINES && torn == 0, "file: concurrent writes stay whole",
               "%d lines, %d torn", lines, torn);
    unlink(path);
}

/* ---- pty ------------------------------------------------------------------------------------- */

static void test_pty(struct coremu_iothread *io)
{
    char err[256];
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    struct coremu_chardev *c = coremu_chardev_open(io, "pty", err, sizeof err);
    UNIT_REQUIRE(c, "pty: open", "%s", err);
    const char *path = coremu_chardev_pty_path(c);
    UNIT_CHECK(path && !strncmp(path, "/dev/pts/", 9), "pty: path", "'%s'", path ? path : "");
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    int s = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    UNIT_REQUIRE(s >= 0, "pty: open the slave", "%s: %s", path, strerror(errno));

    char buf[64] = "";
    coremu_chardev_write(c, (const uint8_t *)"to the slave\n", 13);
    size_t n = read_n(s, buf, 13);
    UNIT_CHECK(n == 13 && !memcmp(buf, "to the slave\n", 13), "pty: chardev to slave",
               "got %zu bytes '%.*s'", n, (int)n, buf);

    write_all(s, "to the master", 13);
    bool ok = rx_wait(r, 13);
    UNIT_CHECK(ok && rx_equals(r, "to the master", 13), "pty: slave to read handler",
               "got %zu bytes", rx_len(r));

    /* can_read 0 holds the input until accept_input. */
    atomic_store(&r->allow, 0);
    write_all(s, "held", 4);
    io_round_trip(io);
    sleep_ms(50);
    io_round_trip(io);
    UNIT_CHECK(rx_len(r) == 13, "pty: input held while can_read is 0", "got %zu bytes", rx_len(r));
    atomic_store(&r->allow, 2); /* a little at a time */
    coremu_chardev_accept_input(c);
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while (rx_len(r) < 17 && coremu_host_ns() < end) {
        coremu_chardev_accept_input(c);
        sleep_ms(1);
    }
    UNIT_CHECK(rx_equals(r, "to the masterheld", 17), "pty: accept_input delivers held input",
               "got %zu bytes", rx_len(r));
    atomic_store(&r->allow, 4096);

    /* With nobody reading, writes never block: they are buffered, then dropped. */
    static uint8_t big[4096];
    memset(big, 'q', sizeof big);
    int64_t bad = 0;
    for (int i = 0; i < 256; i++) {
        if (coremu_chardev_write(c, big, sizeof big) != (ssize_t)sizeof big) {
            bad++;
        }
    }
    UNIT_CHECK(bad == 0, "pty: writes to a full pty return at once", "%lld short writes",
               (long long)bad);
    close(s);
    coremu_chardev_close(c);
    free(r);
}

/* ---- tcp ------------------------------------------------------------------------------------- */

/* A port that was free a moment ago on 127.0.0.1 (the open below retries if it was taken). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Opens "<pre><port><post>" on a free port. */
static struct coremu_chardev *open_server(struct coremu_iothread *io, const char *pre,
                                          const char *post, int *port, char *err, size_t errlen)
{
    for (int i = 0; i < 20; i++) {
        char spec[160];
        *port = free_port();
        snprintf(spec, sizeof spec, "%s%d%s", pre, *port, post);
        struct coremu_chardev *c = coremu_chardev_open(io, spec, err, errlen);
        if (c || !strstr(err, "in use")) {
            return c;
        }
    }
    return NULL;
}

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        return fd;
    }
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

/* One client session with a server chardev: client speaks first (so we know it was accepted),
 * then the chardev answers. */
static bool tcp_session(struct coremu_chardev *c, struct rx *r, int cl, const char *tag)
{
    size_t before = rx_len(r);
    write_all(cl, tag, strlen(tag));
    if (!rx_wait(r, before + strlen(tag))) {
        return false;
    }
    pthread_mutex_lock(&r->lock);
    bool same = !memcmp(r->buf + before, tag, strlen(tag));
    pthread_mutex_unlock(&r->lock);
    char buf[64] = "";
    coremu_chardev_write(c, (const uint8_t *)"answer", 6);
    return same && read_n(cl, buf, 6) == 6 && !memcmp(buf, "answer", 6);
}

static void test_tcp_server(struct coremu_iothread *io)
{
    char err[256];
    int port;
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    struct coremu_chardev *c =
        open_server(io, "tcp:127.0.0.1:", ",server=on,wait=off", &port, err, sizeof err);
    UNIT_REQUIRE(c, "tcp server: open wait=off", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    UNIT_CHECK(coremu_chardev_write(c, (const uint8_t *)"nobody", 6) == 6,
               "tcp server: write without a client is dropped", "short write");

    int cl = connect_local(port);
    UNIT_REQUIRE(cl >= 0, "tcp server: connect", "%s", strerror(errno));
    UNIT_CHECK(tcp_session(c, r, cl, "first"), "tcp server: bidirectional data", "failed");
    char extra[8];
    struct pollfd p = {.fd = cl, .events = POLLIN};
    UNIT_CHECK(poll(&p, 1, 0) == 0 || read(cl, extra, sizeof extra) <= 0,
               "tcp server: output before the client was not kept", "got stale bytes");

    /* The client goes; another one is served. */
    close(cl);
    cl = connect_local(port);
    UNIT_REQUIRE(cl >= 0, "tcp server: reconnect", "%s", strerror(errno));
    UNIT_CHECK(tcp_session(c, r, cl, "second"), "tcp server: next client after a disconnect",
               "failed");
    close(cl);
    coremu_chardev_close(c);

    /* QEMU's old spellings and the -chardev form. */
    rx_init(r);
    c = open_server(io, "tcp:127.0.0.1:", ",server,nowait,nodelay", &port, err, sizeof err);
    UNIT_CHECK(c != NULL, "tcp server: 'server,nowait' spelling", "%s", err);
    if (c) {
        coremu_chardev_set_handlers(c, &rx_handlers, r);
        cl = connect_local(port);
        UNIT_CHECK(cl >= 0 && tcp_session(c, r, cl, "old"), "tcp server: old spelling works",
                   "failed");
        if (cl >= 0) {
            close(cl);
        }
        coremu_chardev_close(c);
    }
    rx_init(r);
    c = open_server(io, "socket,id=s0,host=127.0.0.1,port=", ",server=on,wait=off,nodelay=on",
                    &port, err, sizeof err);
    UNIT_CHECK(c && !strcmp(coremu_chardev_id(c), "s0"), "tcp server: -chardev socket form", "%s",
               err);
    if (c) {
        coremu_chardev_set_handlers(c, &rx_handlers, r);
        cl = connect_local(port);
        UNIT_CHECK(cl >= 0 && tcp_session(c, r, cl, "chardev"), "tcp server: -chardev works",
                   "failed");
        /* Closing with a client connected. */
        coremu_chardev_close(c);
        if (cl >= 0) {
            char b;
            UNIT_CHECK(read_n(cl, &b, 1) == 0, "tcp server: close hangs up the client",
                       "read data");
            close(cl);
        }
    }
    free(r);
}

static int connect_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        return fd;
    }
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

/* Unix sockets: -serial unix:PATH,server=on,wait=off and -chardev socket,path=PATH (server and
 * client); a stale socket file is replaced, the server's file is removed at close. */
static void test_unix(struct coremu_iothread *io, const char *dir)
{
    char err[256], path[256], spec[320];
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    snprintf(path, sizeof path, "%s/u.sock", dir);
    /* A file left behind (as by a killed run) does not stop the server. */
    int stale = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (stale >= 0) {
        close(stale);
    }
    snprintf(spec, sizeof spec, "unix:%s,server=on,wait=off", path);
    struct coremu_chardev *c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_REQUIRE(c, "unix server: open over a stale file", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    int cl = connect_unix(path);
    UNIT_REQUIRE(cl >= 0, "unix server: connect", "%s", strerror(errno));
    UNIT_CHECK(tcp_session(c, r, cl, "unix"), "unix server: bidirectional data", "failed");
    close(cl);
    cl = connect_unix(path);
    UNIT_CHECK(cl >= 0 && tcp_session(c, r, cl, "again"), "unix server: next client", "failed");

    /* A client chardev on the same socket is the server's next client, once this one goes. */
    close(cl);
    snprintf(spec, sizeof spec, "socket,id=uc,path=%s", path);
    struct coremu_chardev *cc = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_CHECK(cc != NULL, "unix client: -chardev socket,path= connects", "%s", err);
    if (cc != NULL) {
        size_t before = rx_len(r);
        coremu_chardev_write(cc, (const uint8_t *)"client", 6);
        UNIT_CHECK(rx_wait(r, before + 6), "unix client: its bytes reach the server", "timeout");
        coremu_chardev_close(cc);
    }
    coremu_chardev_close(c);
    struct stat st;
    UNIT_CHECK(stat(path, &st) < 0 && errno == ENOENT, "unix server: close removes the socket",
               "%s still exists", path);
    free(r);
}

struct waiter {
    int port;
    atomic_int stop;
    int fd;
};

static void *wait_connector(void *arg)
{
    struct waiter *w = arg;
    while (!atomic_load(&w->stop)) {
        int fd = connect_local(w->port);
        if (fd >= 0) {
            w->fd = fd;
            return NULL;
        }
        sleep_ms(5);
    }
    return NULL;
}

static void test_tcp_wait(struct coremu_iothread *io)
{
    char err[256], spec[128];
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    struct coremu_chardev *c = NULL;
    for (int i = 0; i < 20 && !c; i++) {
        struct waiter w = {.port = free_port(), .fd = -1};
        pthread_t t;
        pthread_create(&t, NULL, wait_connector, &w);
        snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d,server=on", w.port);
        c = coremu_chardev_open(io, spec, err, sizeof err); /* wait=on: returns once connected */
        atomic_store(&w.stop, 1);
        pthread_join(t, NULL);
        if (!c) {
            if (w.fd >= 0) {
                close(w.fd);
            }
            if (!strstr(err, "in use")) {
                break;
            }
            continue;
        }
        coremu_chardev_set_handlers(c, &rx_handlers, r);
        UNIT_CHECK(w.fd >= 0, "tcp server: wait=on returns with a client", "no client");
        /* Connected at open: output written now reaches the client. */
        coremu_chardev_write(c, (const uint8_t *)"early", 5);
        char buf[8] = "";
        UNIT_CHECK(w.fd >= 0 && read_n(w.fd, buf, 5) == 5 && !memcmp(buf, "early", 5),
                   "tcp server: wait=on output", "got '%s'", buf);
        if (w.fd >= 0) {
            UNIT_CHECK(tcp_session(c, r, w.fd, "waited"), "tcp server: wait=on input", "failed");
            close(w.fd);
        }
    }
    UNIT_CHECK(c != NULL, "tcp server: wait=on open", "%s", err);
    coremu_chardev_close(c);
    free(r);
}

static void test_tcp_client(struct coremu_iothread *io)
{
    char err[256], spec[128];
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    UNIT_REQUIRE(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 &&
                     getsockname(ls, (struct sockaddr *)&a, &al) == 0,
                 "tcp client: bind", "%s", strerror(errno));

    /* Bound but not listening: the connection is refused. */
    snprintf(spec, sizeof spec, "tcp:127.0.0.1:%d", ntohs(a.sin_port));
    struct coremu_chardev *c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_CHECK(!c && strstr(err, "cannot connect") && strstr(err, "refused") && !strchr(err, '\n'),
               "tcp client: refused connection is an error", "'%s'", err);
    if (c) {
        coremu_chardev_close(c);
    }

    UNIT_REQUIRE(listen(ls, 1) == 0, "tcp client: listen", "%s", strerror(errno));
    c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_REQUIRE(c, "tcp client: open", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    int sv = accept(ls, NULL, NULL);
    UNIT_REQUIRE(sv >= 0, "tcp client: accept", "%s", strerror(errno));
    coremu_chardev_write(c, (const uint8_t *)"from client", 11);
    char buf[32] = "";
    UNIT_CHECK(read_n(sv, buf, 11) == 11 && !memcmp(buf, "from client", 11),
               "tcp client: chardev to peer", "got '%s'", buf);
    write_all(sv, "from server", 11);
    UNIT_CHECK(rx_wait(r, 11) && rx_equals(r, "from server", 11), "tcp client: peer to handler",
               "got %zu bytes", rx_len(r));

    /* The peer goes: writes are dropped, never an error or a SIGPIPE. */
    close(sv);
    io_round_trip(io);
    int bad = 0;
    for (int i = 0; i < 100; i++) {
        bad += coremu_chardev_write(c, (const uint8_t *)"gone", 4) != 4;
        if (i == 50) {
            io_round_trip(io);
        }
    }
    UNIT_CHECK(bad == 0, "tcp client: writes after the peer left are dropped", "%d failed", bad);
    coremu_chardev_close(c);

    snprintf(spec, sizeof spec, "socket,id=c1,host=127.0.0.1,port=%d,nodelay=on",
             ntohs(a.sin_port));
    c = coremu_chardev_open(io, spec, err, sizeof err);
    UNIT_CHECK(c != NULL, "tcp client: -chardev socket form", "%s", err);
    sv = accept(ls, NULL, NULL);
    if (c && sv >= 0) {
        coremu_chardev_write(c, (const uint8_t *)"x", 1);
        UNIT_CHECK(read_n(sv, buf, 1) == 1 && buf[0] == 'x', "tcp client: -chardev works",
                   "no data");
    }
    if (sv >= 0) {
        close(sv);
    }
    coremu_chardev_close(c);
    close(ls);
    free(r);
}

/* ---- bad specifications ---------------------------------------------------------------------- */

static void test_bad_specs(struct coremu_iothread *io)
{
    static const struct {
        const char *spec, *want;
    } cases[] = {
        {"foo", "unknown character device backend 'foo'"},
        {"file:/nonexistent-coremu-dir/x", "cannot open '/nonexistent-coremu-dir/x': "
                                           "No such file or directory"},
        {"", "empty character device specification"},
        {"file", "needs a path"},
        {"tcp:127.0.0.1", "missing port"},
        {"tcp:127.0.0.1:99999", "invalid port '99999'"},
        {"tcp:127.0.0.1:12,server=maybe", "invalid value 'maybe' for option 'server'"},
        {"tcp:127.0.0.1:12,wait=off", "needs server=on"},
        {"pty,bogus=1", "unknown option 'bogus' for character device backend 'pty'"},
        {"stdio:x", "takes no argument"},
        {"udp:127.0.0.1:5", "unknown character device backend 'udp'"},
        {"socket,id=u,path=/tmp/s,port=5", "either path= (unix) or host= and port= (tcp)"},
        {"socket,id=u,path=", "unix socket needs a path"},
        {"unix:/tmp/s,nodelay=on", "unknown option 'nodelay' for character device backend"},
        {"unix:/tmp/s,wait=off", "needs server=on"},
        {"unix:/nonexistent-coremu-dir/s,server=on,wait=off", "cannot listen on unix:"},
        {"unix:/nonexistent-coremu-dir/s", "cannot connect to unix:/nonexistent-coremu-dir/s"},
        {"tcp::99999,server", "invalid port '99999'"},
        {"tcp:127.0.0.1:0", "invalid port '0'"},
        {"mon:bogus", "unknown character device backend 'bogus'"},
        {"null,path=x", "unknown option 'path' for character device backend 'null'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "unset", name[128];
        struct coremu_chardev *c = coremu_chardev_open(io, cases[i].spec, err, sizeof err);
        snprintf(name, sizeof name, "bad spec '%s'", cases[i].spec);
        UNIT_CHECK(!c && strstr(err, cases[i].want) && !strchr(err, '\n'), name,
                   "got '%s', want '%s'", c ? "(opened)" : err, cases[i].want);
        if (c) {
            coremu_chardev_close(c);
        }
    }
}

/* ---- stdio in a child process ---------------------------------------------------------------- */

/*
 * Child protocol, on fd 3 (a socketpair): the child opens its spec, writes "READY\n", waits until
 * it received the expected number of bytes (and, with want_quit, the quit callback ran), writes
 * "RX <hex> QUIT <count> <status>\n", then reads one command byte: 'c' close and exit(0),
 * 'e' exit(0) without closing, 't' wait for a signal.
 */
static int child_main(const char *spec, size_t expect, bool want_quit, bool front_full)
{
    char err[256], line[512];
    struct coremu_iothread *io = coremu_iothread_new();
    if (!io || coremu_iothread_start(io) != 0) {
        return 10;
    }
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    if (front_full) {
        atomic_store(&r->allow, 0); /* a guest that never reads its UART */
    }
    struct coremu_chardev *c = coremu_chardev_open(io, spec, err, sizeof err);
    if (!c) {
        dprintf(3, "ERROR %s\n", err);
        return 11;
    }
    coremu_chardev_set_quit(c, rx_quit, r);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    dprintf(3, "READY\n");
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while ((rx_len(r) < expect || (want_quit && !atomic_load(&r->quits))) &&
           coremu_host_ns() < end) {
        sleep_ms(2);
    }
    size_t n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->len && n + 3 < sizeof line; i++) {
        n += (size_t)snprintf(line + n, sizeof line - n, "%02x", r->buf[i]);
    }
    line[n] = '\0';
    pthread_mutex_unlock(&r->lock);
    dprintf(3, "RX %s QUIT %d %d\n", n ? line : "-", atomic_load(&r->quits),
            atomic_load(&r->quit_status));
    char cmd = 0;
    while (read(3, &cmd, 1) < 0 && errno == EINTR) {
    }
    switch (cmd) {
    case 'c':
        coremu_chardev_close(c);
        dprintf(3, "CLOSED\n");
        coremu_iothread_free(io);
        free(r);
        return 0;
    case 'e':
        exit(0); /* atexit must restore the terminal */
    case 't':
        for (;;) {
            pause();
        }
    default:
        return 12;
    }
}

struct child {
    pid_t pid;
    int ctl;
    char report[1024];
    char pending[1024];
};

/* Starts the child with the given stdin/stdout. */
static bool child_start_mode(struct child *ch, const char *spec, size_t expect, const char *mode,
                             int in_fd, int out_fd);

static bool child_start(struct child *ch, const char *spec, size_t expect, bool want_quit,
                        int in_fd, int out_fd)
{
    return child_start_mode(ch, spec, expect, want_quit ? "quit" : "noquit", in_fd, out_fd);
}

static bool child_start_mode(struct child *ch, const char *spec, size_t expect, const char *mode,
                             int in_fd, int out_fd)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        return false;
    }
    char expect_s[32];
    snprintf(expect_s, sizeof expect_s, "%zu", expect);
    ch->pid = fork();
    if (ch->pid < 0) {
        return false;
    }
    if (ch->pid == 0) {
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(sv[1], 3);
        for (int fd = 4; fd < 256; fd++) {
            close(fd);
        }
        execl("/proc/self/exe", "test-chardev", "--child", spec, expect_s, mode, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    ch->ctl = sv[0];
    ch->report[0] = ch->pending[0] = '\0';
    return true;
}

/* Reads the next line of the child's report (lines may arrive together). */
static bool child_read_line(struct child *ch, const char *prefix)
{
    char *nl;
    while (!(nl = strchr(ch->pending, '\n'))) {
        size_t len = strlen(ch->pending);
        if (!read_until(ch->ctl, "\n", ch->pending, sizeof ch->pending) &&
            strlen(ch->pending) == len) {
            ch->report[0] = '\0';
            return false;
        }
    }
    size_t n = (size_t)(nl - ch->pending) + 1;
    memcpy(ch->report, ch->pending, n);
    ch->report[n] = '\0';
    memmove(ch->pending, ch->pending + n, strlen(ch->pending + n) + 1);
    return !strncmp(ch->report, prefix, strlen(prefix));
}

static int child_finish(struct child *ch, char cmd)
{
    int status = -1;
    if (cmd) {
        write_all(ch->ctl, &cmd, 1);
    }
    if (cmd == 't') {
        sleep_ms(20);
        kill(ch->pid, SIGTERM);
    }
    waitpid(ch->pid, &status, 0);
    close(ch->ctl);
    return status;
}

static bool same_termios(const struct termios *a, const struct termios *b)
{
    return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
           a->c_lflag == b->c_lflag && !memcmp(a->c_cc, b->c_cc, sizeof a->c_cc);
}

static void hex(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", (unsigned char)s[i]);
    }
    out[2 * n] = '\0';
}

/* One run of a stdio child on a pty. how: 'c' close, 'e' exit(), 't' SIGTERM. */
static void stdio_pty_run(const char *spec, const char *input, size_t input_len, const char *expect,
                          size_t expect_len, bool want_quit, char how, const char *label)
{
    int m, s;
    char name[160], want[256], got_out[8192] = "";
    UNIT_REQUIRE(openpty(&m, &s, NULL, NULL, NULL) == 0, "stdio: openpty", "%s", strerror(errno));
    fcntl(m, F_SETFD, FD_CLOEXEC);
    fcntl(s, F_SETFD, FD_CLOEXEC);
    struct termios before, during, after;
    memset(&before, 0, sizeof before);
    memset(&during, 0, sizeof during);
    memset(&after, 0, sizeof after);
    tcgetattr(s, &before);

    struct child ch;
    UNIT_REQUIRE(child_start(&ch, spec, expect_len, want_quit, s, s), "stdio: fork", "%s",
                 strerror(errno));
    bool ready = child_read_line(&ch, "READY");
    snprintf(name, sizeof name, "%s: child ready", label);
    UNIT_CHECK(ready, name, "'%s'", ch.report);
    if (!ready) {
        kill(ch.pid, SIGKILL);
        child_finish(&ch, 0);
        close(m);
        close(s);
        return;
    }
    tcgetattr(s, &during);
    bool mux = !strncmp(spec, "mon:", 4);
    snprintf(name, sizeof name, "%s: terminal raw while open", label);
    UNIT_CHECK(!(during.c_lflag & (ICANON | ECHO)) && !(during.c_iflag & ICRNL) &&
                   !!(during.c_lflag & ISIG) == !mux,
               name, "lflag %#o iflag %#o", (unsigned)during.c_lflag, (unsigned)during.c_iflag);

    write_all(m, input, input_len);
    bool reported = child_read_line(&ch, "RX ");
    hex(want, expect, expect_len);
    char expect_line[600];
    snprintf(expect_line, sizeof expect_line, "RX %s QUIT %d %d\n", expect_len ? want : "-",
             want_quit ? 1 : 0, want_quit ? 0 : -1);
    snprintf(name, sizeof name, "%s: input and quit as expected", label);
    UNIT_CHECK(reported && !strcmp(ch.report, expect_line), name, "got '%s' want '%s'", ch.report,
               expect_line);
    if (mux) {
        snprintf(name, sizeof name, "%s: C-a h prints the help", label);
        UNIT_CHECK(read_until(m, "C-a x", got_out, sizeof got_out), name, "output '%s'", got_out);
        snprintf(name, sizeof name, "%s: C-a x says it quits", label);
        UNIT_CHECK(read_until(m, "quit (C-a x)", got_out, sizeof got_out), name, "output '%s'",
                   got_out);
    }
    int status = child_finish(&ch, how);
    tcgetattr(s, &after);
    snprintf(name, sizeof name, "%s: child exit status", label);
    if (how == 't') {
        UNIT_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, name, "status %#x", status);
    } else {
        UNIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, name, "status %#x", status);
    }
    snprintf(name, sizeof name, "%s: terminal restored after %s", label,
             how == 'c'   ? "close"
             : how == 'e' ? "exit()"
                          : "SIGTERM");
    UNIT_CHECK(same_termios(&before, &after), name, "lflag %#o -> %#o, iflag %#o -> %#o",
               (unsigned)before.c_lflag, (unsigned)after.c_lflag, (unsigned)before.c_iflag,
               (unsigned)after.c_iflag);
    close(m);
    close(s);
}

static void test_stdio_pipe(void)
{
    int in[2], out[2];
    char got_out[8192] = "", want[64];
    UNIT_REQUIRE(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "stdio pipe: pipes", "%s",
                 strerror(errno));
    struct child ch;
    UNIT_REQUIRE(child_start(&ch, "mon:stdio", 4, true, in[0], out[1]), "stdio pipe: fork", "%s",
                 strerror(errno));
    close(in[0]);
    close(out[1]);
    bool ready = child_read_line(&ch, "READY");
    UNIT_CHECK(ready, "mon:stdio on a pipe: child ready", "'%s'", ch.report);
    /* C-a C-a is a literal C-a too; an unknown escape is swallowed. */
    static const char input[] = "x\x01\x01y\x01hz\x01q\x01x";
    write_all(in[1], input, sizeof input - 1);
    bool reported = child_read_line(&ch, "RX ");
    hex(want, "x\x01yz", 4);
    char expect_line[128];
    snprintf(expect_line, sizeof expect_line, "RX %s QUIT 1 0\n", want);
    UNIT_CHECK(reported && !strcmp(ch.report, expect_line),
               "mon:stdio on a pipe: escapes work without a terminal", "got '%s' want '%s'",
               ch.report, expect_line);
    UNIT_CHECK(read_until(out[0], "C-a x", got_out, sizeof got_out),
               "mon:stdio on a pipe: help on stdout", "output '%s'", got_out);
    int status = child_finish(&ch, 'c');
    UNIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mon:stdio on a pipe: exit",
               "status %#x", status);
    close(in[1]);
    close(out[0]);

    /* A guest that never reads: C-a x still gets through. */
    UNIT_REQUIRE(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "stdio pipe: pipes", "%s",
                 strerror(errno));
    UNIT_REQUIRE(child_start_mode(&ch, "mon:stdio", 0, "quitfull", in[0], out[1]),
                 "stdio pipe: fork", "%s", strerror(errno));
    close(in[0]);
    close(out[1]);
    ready = child_read_line(&ch, "READY");
    static const char full_input[] = "ignored by the guest\x01x";
    write_all(in[1], full_input, sizeof full_input - 1);
    reported = child_read_line(&ch, "RX ");
    UNIT_CHECK(ready && reported && !strcmp(ch.report, "RX - QUIT 1 0\n"),
               "mon:stdio: C-a x works while the front end is full", "got '%s'", ch.report);
    status = child_finish(&ch, 'c');
    UNIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mon:stdio full: exit", "status %#x",
               status);
    close(in[1]);
    close(out[0]);
}

static void test_stdio(void)
{
    /* mon:stdio: "ab", C-a a (a literal C-a), C-a h (help), "cd", C-a x (quit). */
    static const char mon_in[] = "ab\x01"
                                 "a\x01hcd\x01x";
    stdio_pty_run("mon:stdio", mon_in, sizeof mon_in - 1,
                  "ab\x01"
                  "cd",
                  5, true, 'c', "mon:stdio");
    /* Plain stdio has no escape: C-a x is data. Left through exit(). */
    stdio_pty_run("stdio", "hi\x01x", 4, "hi\x01x", 4, false, 'e', "stdio");
    stdio_pty_run("stdio,id=con,signal=on", "", 0, "", 0, false, 't', "stdio sigterm");
    stdio_pty_run("mon:stdio", "\x01x", 2, "", 0, true, 'e', "mon:stdio exit");
    test_stdio_pipe();
}

/* Two stdio chardevs cannot coexist (run in a child, so our own stdio stays untouched). */
static int child_two_stdio(void)
{
    char err[256];
    struct coremu_iothread *io = coremu_iothread_new();
    struct coremu_chardev *a = coremu_chardev_open(io, "null", err, sizeof err);
    struct coremu_chardev *b = coremu_chardev_open(io, "stdio", err, sizeof err);
    struct coremu_chardev *c = coremu_chardev_open(io, "stdio", err, sizeof err);
    int ok = a && b && !c && strstr(err, "already");
    coremu_chardev_close(b);
    struct coremu_chardev *d = coremu_chardev_open(io, "stdio", err, sizeof err);
    ok = ok && d;
    coremu_chardev_close(d);
    coremu_chardev_close(a);
    coremu_iothread_free(io);
    return ok ? 0 : 1;
}

static void test_two_stdio(void)
{
    int in[2], out[2];
    UNIT_REQUIRE(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "two stdio: pipes", "%s",
                 strerror(errno));
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execl("/proc/self/exe", "test-chardev", "--two-stdio", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    int status = -1;
    waitpid(pid, &status, 0);
    UNIT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "stdio: a second stdio chardev is refused, then allowed after close", "status %#x",
               status);
    close(in[1]);
    close(out[0]);
}

/* ---- a front end that paces its input (coremu_chardev_accept_input_at) --------------------- */

struct paced {
    struct rx rx;
    struct coremu_chardev *chr;
    int64_t open_at; /* virtual ns: can_read says 0 before it */
    atomic_int asks;
    _Atomic int64_t first_read_at;
};

static size_t paced_can_read(void *opaque)
{
    struct paced *p = opaque;
    atomic_fetch_add(&p->asks, 1);
    if (coremu_clock_ns() < p->open_at) {
        coremu_chardev_accept_input_at(p->chr, p->open_at);
        return 0;
    }
    return 4096;
}

static void paced_read(void *opaque, const uint8_t *buf, size_t len)
{
    struct paced *p = opaque;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&p->first_read_at, &zero, coremu_clock_ns());
    rx_read(&p->rx, buf, len);
}

static const struct coremu_chardev_handlers paced_handlers = {paced_can_read, paced_read};

static void test_accept_input_at(struct coremu_iothread *io)
{
    char err[256];
    struct paced *p = calloc(1, sizeof *p);
    rx_init(&p->rx);
    p->chr = coremu_chardev_open(io, "pty", err, sizeof err);
    UNIT_REQUIRE(p->chr, "accept_input_at: open pty", "%s", err);
    int s = open(coremu_chardev_pty_path(p->chr), O_RDWR | O_NOCTTY | O_CLOEXEC);
    UNIT_REQUIRE(s >= 0, "accept_input_at: open the pty's slave", "%s", strerror(errno));
    p->open_at = coremu_clock_ns() + 150 * MS;
    coremu_chardev_set_handlers(p->chr, &paced_handlers, p);
    write_all(s, "paced", 5);
    bool ok = rx_wait(&p->rx, 5);
    int64_t at = atomic_load(&p->first_read_at);
    UNIT_CHECK(ok && rx_equals(&p->rx, "paced", 5) && at >= p->open_at,
               "accept_input_at: input held until the time the front end gave",
               "got %zu bytes, %.1f ms early", rx_len(&p->rx), (p->open_at - at) / 1e6);
    /* Asked when the input came and when the time came, not in a loop meanwhile. */
    UNIT_CHECK(atomic_load(&p->asks) <= 8, "accept_input_at: the front end is not polled meanwhile",
               "can_read was asked %d times", atomic_load(&p->asks));
    close(s);
    coremu_chardev_close(p->chr);
    free(p);
}

/* ---- the C-a escape as a filter of its own, on other back ends than stdio ------------------ */

static bool quits_reach(struct rx *r, int n)
{
    int64_t end = coremu_host_ns() + WAIT_MS * MS;
    while (atomic_load(&r->quits) < n && coremu_host_ns() < end) {
        sleep_ms(1);
    }
    return atomic_load(&r->quits) == n;
}

static void test_mux_filter(struct coremu_iothread *io)
{
    char err[256], out[1024] = "";
    struct rx *r = malloc(sizeof *r);
    rx_init(r);
    struct coremu_chardev *c = coremu_chardev_open(io, "pty,mux=on", err, sizeof err);
    UNIT_REQUIRE(c, "mux: open pty,mux=on", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    coremu_chardev_set_quit(c, rx_quit, r);
    int s = open(coremu_chardev_pty_path(c), O_RDWR | O_NOCTTY | O_CLOEXEC);
    UNIT_REQUIRE(s >= 0, "mux: open the pty's slave", "%s", strerror(errno));

    /* Plain bytes pass; C-a a and C-a C-a are a literal C-a; C-a h prints the help on the same
     * chardev; an unknown escape is swallowed; an escape split across two reads still works. */
    static const char first[] = "ab\x01" "a\x01hcd\x01\x01\x01q";
    static const char want[] = "ab\x01" "cd\x01" "ef";
    write_all(s, first, sizeof first - 1);
    io_round_trip(io);
    write_all(s, "e\x01", 2);
    io_round_trip(io);
    write_all(s, "hf", 2);
    UNIT_CHECK(rx_wait(r, sizeof want - 1) && rx_equals(r, want, sizeof want - 1),
               "mux: data, literal C-a and swallowed escapes reach the front end",
               "got %zu bytes", rx_len(r));
    UNIT_CHECK(read_until(s, "C-a x", out, sizeof out), "mux: C-a h answers on the chardev",
               "output '%s'", out);
    UNIT_CHECK(atomic_load(&r->quits) == 0, "mux: no quit without C-a x", "%d quits",
               atomic_load(&r->quits));

    /* C-a x gets through even while the front end takes nothing (the filter reads ahead). */
    atomic_store(&r->allow, 0);
    write_all(s, "unread\x01x", 8);
    UNIT_CHECK(quits_reach(r, 1) && atomic_load(&r->quit_status) == 0,
               "mux: C-a x quits with status 0 while the front end is full", "%d quits, status %d",
               atomic_load(&r->quits), atomic_load(&r->quit_status));
    UNIT_CHECK(read_until(s, "quit (C-a x)", out, sizeof out), "mux: C-a x says it quits",
               "output '%s'", out);
    close(s);
    coremu_chardev_close(c);

    /* A chardev without a quit callback of its own (a device's console) reaches the default
     * one: C-a x ends the machine, not the process. */
    rx_init(r);
    c = coremu_chardev_open(io, "pty,mux=on", err, sizeof err);
    UNIT_REQUIRE(c, "mux: open pty,mux=on again", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    coremu_chardev_set_default_quit(rx_quit, r);
    s = open(coremu_chardev_pty_path(c), O_RDWR | O_NOCTTY | O_CLOEXEC);
    UNIT_REQUIRE(s >= 0, "mux: open the pty's slave", "%s", strerror(errno));
    write_all(s, "\x01x", 2);
    UNIT_CHECK(quits_reach(r, 1), "mux: C-a x reaches the default quit callback", "%d quits",
               atomic_load(&r->quits));
    coremu_chardev_set_default_quit(NULL, NULL);
    close(s);
    coremu_chardev_close(c);

    /* Without the filter, the same bytes are plain data. */
    rx_init(r);
    c = coremu_chardev_open(io, "pty", err, sizeof err);
    UNIT_REQUIRE(c, "mux: open pty", "%s", err);
    coremu_chardev_set_handlers(c, &rx_handlers, r);
    coremu_chardev_set_quit(c, rx_quit, r);
    s = open(coremu_chardev_pty_path(c), O_RDWR | O_NOCTTY | O_CLOEXEC);
    UNIT_REQUIRE(s >= 0, "mux: open the pty's slave", "%s", strerror(errno));
    write_all(s, "a\x01x", 3);
    UNIT_CHECK(rx_wait(r, 3) && rx_equals(r, "a\x01x", 3) && atomic_load(&r->quits) == 0,
               "mux: a chardev without it passes C-a x as data", "got %zu bytes, %d quits",
               rx_len(r), atomic_load(&r->quits));
    close(s);
    coremu_chardev_close(c);
    free(r);
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--child")) {
        return child_main(argv[2], strtoul(argv[3], NULL, 10), strncmp(argv[4], "quit", 4) == 0,
                          !strcmp(argv[4], "quitfull"));
    }
    if (argc == 2 && !strcmp(argv[1], "--two-stdio")) {
        return child_two_stdio();
    }
    /* A chardev must never let SIGPIPE kill its process: leave the default action on. */
    int64_t t0 = coremu_host_ns();
    char dir[] = "/tmp/test-chardev-XXXXXX";
    UNIT_REQUIRE(mkdtemp(dir), "mkdtemp", "%s", strerror(errno));

    /* The stdio tests fork: do them while this process has no threads of its own yet. */
    test_stdio();
    test_two_stdio();

    struct coremu_iothread *io = coremu_iothread_new();
    UNIT_REQUIRE(io && coremu_iothread_start(io) == 0, "iothread", "cannot start");
    test_null(io);
    test_file(io, dir);
    test_pty(io);
    test_mux_filter(io);
    test_accept_input_at(io);
    test_tcp_server(io);
    test_tcp_wait(io);
    test_tcp_client(io);
    test_unix(io, dir);
    test_bad_specs(io);
    coremu_iothread_free(io);
    rmdir(dir);
    printf("test-chardev: %.1f s\n", (coremu_host_ns() - t0) / 1e9);
    return unit_done();
}
