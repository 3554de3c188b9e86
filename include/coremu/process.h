/*
 * coremu — what the command line asks of the emulator's own process: its name (-name
 * process=P) and its pid file (-pidfile FILE). Shared by every coremu-system-* binary.
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

/* Main thread, at exit: removes the pid file that coremu_process_setup created, if any. */
void coremu_process_cleanup(void);

#endif /* COREMU_PROCESS_H */
