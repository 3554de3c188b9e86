#include "config.h"
#include <stdio.h>
int main(void)
{
    return 1;
}
