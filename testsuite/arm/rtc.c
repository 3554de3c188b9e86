/*
 * The PL031 real-time clock as the guest reads it: prints RTCDR once ("rtc: SECONDS") so that
 * the harness can compare it with what -rtc base asked for, and checks that the counter
 * advances with time.
 */
#include "test.h"

#define RTCDR ((volatile uint32_t *)0x09010000u)

int main(void)
{
    uint32_t first = *RTCDR;
    tprintf("rtc: %u\n", first);
    /* The counter is in seconds: wait (with the generic timer, 62.5 MHz on virt) for a little
     * over one second of host time and see it move by one or two. */
    uint32_t freq;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(freq));
    uint64_t start, now;
    __asm__ volatile("mrrc p15, 1, %Q0, %R0, c14" : "=r"(start));
    do {
        __asm__ volatile("mrrc p15, 1, %Q0, %R0, c14" : "=r"(now));
    } while (now - start < (uint64_t)freq * 1100u / 1000u);
    uint32_t later = *RTCDR;
    test_check(later - first >= 1 && later - first <= 2, "rtc: RTCDR counts seconds",
               "%u then %u about 1.1 s later", first, later);
    return 0;
}
