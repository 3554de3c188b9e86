/* placeholder: implemented in progress */
#include "config.h"
