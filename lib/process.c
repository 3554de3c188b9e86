/*
 * coremu — the emulator's own process: its name, its pid file and -daemonize (see
 * coremu/process.h).
 *
 * Only the main thread touches the state below, before the machine's threads start and after
 * they have finished; no lock is needed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coremu/options.h>
#include <coremu/process.h>

static int pidfile_fd = -1;    /* open and locked while we own the pid file */
static char *pidfile_path;     /* its path, for the unlink at exit */
static int daemon_ready_fd = -1; /* the daemon child's end of the pipe to its waiting parent */

static int pidfile_create(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "-pidfile %s: %s", path, strerror(errno));
        return -1;
    }
    /* Lock before writing: the file of a running emulator must never be truncated. */
    if (lockf(fd, F_TLOCK, 0) < 0) {
        int e = errno;
        close(fd);
        if (e == EACCES || e == EAGAIN) {
            snprintf(err, errlen, "-pidfile %s: locked by another process (is another coremu "
                                  "running with it?)",
                     path);
        } else {
            snprintf(err, errlen, "-pidfile %s: cannot lock it: %s", path, strerror(e));
        }
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)len) != len) {
        snprintf(err, errlen, "-pidfile %s: cannot write it: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    pidfile_path = strdup(path);
    if (pidfile_path == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    pidfile_fd = fd;
    return 0;
}

int coremu_process_setup(const struct coremu_options *o, char *err, size_t errlen)
{
    const char *process = coremu_kv_get(&o->name, "process");
    if (process != NULL) {
        char name[16]; /* the kernel keeps 15 characters and refuses longer names */
        snprintf(name, sizeof name, "%s", process);
        if (prctl(PR_SET_NAME, name, 0, 0, 0) < 0) {
            snprintf(err, errlen, "-name process=%s: %s", process, strerror(errno));
            return -1;
        }
    }
    if (o->pidfile != NULL && pidfile_create(o->pidfile, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

void coremu_process_cleanup(void)
{
    if (pidfile_fd < 0) {
        return;
    }
    /* Unlink while still holding the lock, so that no other process can have locked the same
     * file in between and lose it to this unlink. */
    unlink(pidfile_path);
    close(pidfile_fd);
    pidfile_fd = -1;
    free(pidfile_path);
    pidfile_path = NULL;
}

int coremu_process_daemonize(char *err, size_t errlen)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "-daemonize: %s", strerror(errno));
        return -1;
    }
    fflush(NULL); /* nothing buffered may be written twice */
    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "-daemonize: cannot fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (child > 0) {
        /* The parent: the shell waits for us, and we for the child to be set up. One byte
         * means ready; end of file without it means the child failed (and said why). */
        close(pipefd[1]);
        char byte;
        ssize_t n;
        do {
            n = read(pipefd[0], &byte, 1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) {
            waitpid(child, NULL, WNOHANG);
        }
        _exit(n == 1 ? 0 : 1);
    }
    close(pipefd[0]);
    daemon_ready_fd = pipefd[1];
    /* A new session: no controlling terminal, so the shell's job control and hang-ups do not
     * reach the daemon. */
    if (setsid() < 0) {
        snprintf(err, errlen, "-daemonize: setsid: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void coremu_process_daemon_ready(void)
{
    if (daemon_ready_fd < 0) {
        return;
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        fflush(NULL);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
    char byte = 1;
    ssize_t n;
    do {
        n = write(daemon_ready_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    close(daemon_ready_fd);
    daemon_ready_fd = -1;
}
