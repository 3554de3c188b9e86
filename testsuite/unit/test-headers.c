/*
 * The public interface as an outside program sees it. Building this program already required
 * every header in include/coremu/ to compile on its own (one translation unit per header, see
 * HEADER_CHECKS in Makefile.am); here the umbrella header is used the way a user of coremu.pc
 * would, and the library reports the version it was built as.
 */
#include "config.h"

#include <string.h>

#include <coremu/coremu.h>

#include "unit.h"

int main(void)
{
    const char *v = coremu_version();
    UNIT_CHECK(v != NULL && strcmp(v, PACKAGE_VERSION) == 0, "library version",
               "coremu_version() = %s, package %s", v ? v : "(null)", PACKAGE_VERSION);
    /* Types from every header are complete and usable together. */
    struct coremu_event ev = {0};
    struct coremu_torture_result tr = {0};
    struct coremu_elf_info ei = {0};
    struct coremu_options opts;
    memset(&opts, 0, sizeof(opts));
    UNIT_CHECK(ev.fn == NULL && tr.expected == 0 && ei.entry == 0 && opts.kernel == NULL,
               "public types usable together", "zero-initialised structs are not zero");
    UNIT_CHECK(coremu_log_enabled(COREMU_LOG_EXEC) == false, "logging off by default",
               "exec logging enabled without -d");
    return unit_done();
}
