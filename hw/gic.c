/* placeholder: in progress */
#include "config.h"
