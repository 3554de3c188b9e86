/*
 * A virtio-mmio device as a bare-metal driver on the virt board sees it, with the emulator's
 * real cores, MMIO dispatch and GIC: run with -device virtio-rng-device, which QEMU's placement
 * puts in the last of the 32 slots (0x0a003e00, SPI 47). The driver follows virtio 1.x 4.2.3:
 * probe, features, one queue, a request filled with entropy, the interrupt status and the GIC's
 * pending bit, then malicious chains (a buffer outside RAM, a loop) that must leave the device
 * asking for a reset (and the emulator running), and a reset that brings it back.
 * qemu-system-arm 7.2 (-global virtio-mmio.force-legacy=false: its virt board offers the legacy
 * version 1 by default) passes every check but the buffer past the end of RAM, which it serves.
 */
#include "test.h"

#define SLOT(n)         (0x0a000000u + 0x200u * (n))
#define RNG             SLOT(31)
#define RNG_SPI         47u
#define GICD_ISPENDR(n) ((volatile uint32_t *)(0x08000200u + 4u * (n)))

#define QSIZE 8u

static inline uint32_t rd(uint32_t base, uint32_t off)
{
    return *(volatile uint32_t *)(base + off);
}

static inline void wr(uint32_t base, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static struct desc table[QSIZE] __attribute__((aligned(16)));
static volatile uint16_t avail[2 + QSIZE + 1] __attribute__((aligned(2)));
static volatile uint32_t used[1 + 2 * QSIZE + 1] __attribute__((aligned(4)));
static uint8_t buffer[64] __attribute__((aligned(8)));
static uint16_t avail_idx;

static uint16_t used_idx(void)
{
    return (uint16_t)(used[0] >> 16);
}

/* 4.2.3.1 for one queue of QSIZE; true when the device took DRIVER_OK. */
static bool bring_up(void)
{
    for (unsigned i = 0; i < sizeof(used) / 4; i++) {
        used[i] = 0;
    }
    for (unsigned i = 0; i < sizeof(avail) / 2; i++) {
        avail[i] = 0;
    }
    avail_idx = 0;
    wr(RNG, 0x070, 0);
    wr(RNG, 0x070, 1);
    wr(RNG, 0x070, 3);
    wr(RNG, 0x024, 1);
    wr(RNG, 0x020, 1); /* VERSION_1 and nothing else */
    wr(RNG, 0x024, 0);
    wr(RNG, 0x020, 0);
    wr(RNG, 0x070, 0x0b);
    if (rd(RNG, 0x070) != 0x0b) {
        return false;
    }
    wr(RNG, 0x030, 0);
    if (rd(RNG, 0x034) < QSIZE || rd(RNG, 0x044) != 0) {
        return false;
    }
    wr(RNG, 0x038, QSIZE);
    wr(RNG, 0x080, (uint32_t)(uintptr_t)table);
    wr(RNG, 0x084, 0);
    wr(RNG, 0x090, (uint32_t)(uintptr_t)avail);
    wr(RNG, 0x094, 0);
    wr(RNG, 0x0a0, (uint32_t)(uintptr_t)used);
    wr(RNG, 0x0a4, 0);
    wr(RNG, 0x044, 1);
    wr(RNG, 0x070, 0x0f);
    return rd(RNG, 0x070) == 0x0f && rd(RNG, 0x044) == 1;
}

/* The generic timer's count (62.5 MHz on virt). */
static uint64_t now_ticks(void)
{
    uint64_t t;
    __asm__ volatile("mrrc p15, 1, %Q0, %R0, c14" : "=r"(t));
    return t;
}

/* Waits up to about a second for cond(): a device may complete a request after the notify
 * write returns (coremu serves it during the write; QEMU's entropy back end later). */
static bool wait_for(bool (*cond)(void))
{
    uint32_t freq;
    __asm__ volatile("mrc p15, 0, %0, c14, c0, 0" : "=r"(freq));
    uint64_t start = now_ticks();
    while (!cond()) {
        if (now_ticks() - start > freq) {
            return false;
        }
    }
    return true;
}

static uint16_t want_used;

static bool used_reached(void)
{
    dmb();
    return used_idx() == want_used;
}

static bool needs_reset(void)
{
    return (rd(RNG, 0x070) & 0x40) != 0;
}

/* Publishes head and kicks. */
static void kick(uint16_t head)
{
    avail[2 + avail_idx % QSIZE] = head;
    dmb();
    avail_idx++;
    avail[1] = avail_idx;
    dmb();
    wr(RNG, 0x050, 0);
}

int main(void)
{
    test_check_eq("virtio: slot 31 magic", rd(RNG, 0x000), 0x74726976u);
    test_check_eq("virtio: slot 31 version 2", rd(RNG, 0x004), 2);
    test_check_eq("virtio: slot 31 is the entropy device", rd(RNG, 0x008), 4);
    test_check_eq("virtio: slot 0 is empty", rd(SLOT(0), 0x008), 0);
    test_check_eq("virtio: slot 30 is empty", rd(SLOT(30), 0x008), 0);
    wr(RNG, 0x014, 1);
    test_check_eq("virtio: offers VERSION_1", rd(RNG, 0x010) & 1, 1);

    test_check(bring_up(), "virtio: driver initialisation", "status 0x%x", rd(RNG, 0x070));
    table[0] = (struct desc){(uint32_t)(uintptr_t)buffer, sizeof(buffer), 2 /* WRITE */, 0};
    kick(0);
    want_used = 1;
    wait_for(used_reached);
    unsigned nonzero = 0;
    for (unsigned i = 0; i < sizeof(buffer); i++) {
        nonzero += buffer[i] != 0;
    }
    test_check(used_idx() == 1 && used[1] == 0 && used[2] == sizeof(buffer) && nonzero > 32,
               "virtio: a request is filled with entropy", "used idx %u id %u len %u, %u nonzero",
               used_idx(), used[1], used[2], nonzero);
    test_check_eq("virtio: InterruptStatus says used buffer", rd(RNG, 0x060), 1);
    test_check((*GICD_ISPENDR((32 + RNG_SPI) / 32) >> ((32 + RNG_SPI) % 32)) & 1,
               "virtio: the slot's SPI is pending at the GIC", "ISPENDR 0x%x",
               *GICD_ISPENDR((32 + RNG_SPI) / 32));
    wr(RNG, 0x064, 1);
    test_check_eq("virtio: InterruptACK clears it", rd(RNG, 0x060), 0);
    test_check(((*GICD_ISPENDR((32 + RNG_SPI) / 32) >> ((32 + RNG_SPI) % 32)) & 1) == 0,
               "virtio: and the SPI is no longer pending", "ISPENDR 0x%x",
               *GICD_ISPENDR((32 + RNG_SPI) / 32));

    /* A buffer running past the end of RAM (128 MiB from 0x40000000, the default -m): nothing
     * written, the device needs a reset. */
    table[1] = (struct desc){0x48000000u - 32u, 64, 2, 0};
    kick(1);
    wait_for(needs_reset);
    test_check(used_idx() == 1 && (rd(RNG, 0x070) & 0x40) != 0 && (rd(RNG, 0x060) & 2) != 0,
               "virtio: a buffer outside RAM: NEEDS_RESET and a config interrupt",
               "used %u status 0x%x isr %u", used_idx(), rd(RNG, 0x070), rd(RNG, 0x060));

    /* After a reset, a looping chain does the same, and the emulator does not hang on it. */
    test_check(bring_up(), "virtio: initialisation after reset", "status 0x%x", rd(RNG, 0x070));
    table[2] = (struct desc){(uint32_t)(uintptr_t)buffer, 8, 1 | 2 /* NEXT, WRITE */, 3};
    table[3] = (struct desc){(uint32_t)(uintptr_t)buffer, 8, 1 | 2, 2};
    kick(2);
    wait_for(needs_reset);
    test_check(used_idx() == 0 && (rd(RNG, 0x070) & 0x40) != 0,
               "virtio: a looping chain: NEEDS_RESET", "used %u status 0x%x", used_idx(),
               rd(RNG, 0x070));

    test_check(bring_up(), "virtio: initialisation after the second reset", "status 0x%x",
               rd(RNG, 0x070));
    kick(0);
    want_used = 1;
    wait_for(used_reached);
    test_check(used_idx() == 1 && used[2] == sizeof(buffer), "virtio: serves requests again",
               "used idx %u len %u", used_idx(), used[2]);
    return 0;
}
