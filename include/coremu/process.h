/*
 * coremu — what the command line asks of the emulator's own process: its name (-name
 * process=P), its pid file (-pidfile FILE) and running as a daemon (-daemonize). Shared by
 * every coremu-system-* binary.
 */
#ifndef COREMU_PROCESS_H
#define COREMU_PROCESS_H

#include <stddef.h>

#include <coremu/options.h>

/* Main thread, before any other thread exists: names the process (-name process=P; the kernel
 * keeps 15 characters) and creates the pid file (-pidfile): it is written with our pid and
 * locked (a POSIX record lock, held until the process ends), so that a second emulator given
 * the same file refuses to start while this one runs. 0, or -1 with a one-line message in err
 * (the file is then left as it was). */
int coremu_process_setup(const struct coremu_options *o, char *err, size_t errlen);

/* -daemonize, first half. Main thread, before any thread exists and before
 * coremu_process_setup (so that the pid file holds the daemon's pid). Forks: the parent waits
 * until the child reports that the machine is set up, then exits with status 0 (or 1 when the
 * child ends before that; its error message went to the terminal) and never returns. The child
 * starts a new session and returns 0. -1 with a message in err if it cannot fork. */
int coremu_process_daemonize(char *err, size_t errlen);

/* -daemonize, second half: in the child, once the machine is ready to run, lets the parent
 * exit and points stdin, stdout and stderr at /dev/null. Does nothing without -daemonize. */
void coremu_process_daemon_ready(void);

/* Main thread, at exit: removes the pid file that coremu_process_setup created, if any. */
void coremu_process_cleanup(void);

#endif /* COREMU_PROCESS_H */
