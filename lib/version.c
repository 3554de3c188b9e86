/* coremu — the package version, for -version and for programs linked against libcoremu. */
#include "config.h"

#include <coremu/coremu.h>

const char *coremu_version(void)
{
    return PACKAGE_VERSION;
}
