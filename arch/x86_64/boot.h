/*
 * coremu x86_64 — putting the -kernel (and -initrd, -append) into guest RAM, and the CPU state
 * the boot processor starts in. Two kinds of kernel, told apart by their contents:
 *
 *   - a Linux bzImage (boot protocol 2.12 or later, with the 64-bit entry point), started the
 *     way Documentation/arch/x86/boot.rst's "64-bit Boot Protocol" says: long mode, identity
 *     paging, __BOOT_CS/__BOOT_DS, RSI = the zero page (struct boot_params);
 *   - a Multiboot (version 1, specification 0.6.96) kernel: a 32-bit ELF, or any image whose
 *     header gives its load addresses (flag 16), started in 32-bit protected mode without
 *     paging, EAX = 0x2BADB002, EBX = the multiboot information. This is how bare-metal test
 *     programs run.
 *
 * The board gives the machine's memory layout as an e820-style list (the PC has RAM below
 * 640 KiB, a hole up to 1 MiB, RAM up to the PCI hole below 4 GiB, then RAM above 4 GiB);
 * the loader puts nothing outside the ranges typed X86_E820_RAM, hands the list to the kernel
 * (e820 table, multiboot memory map) and returns the entry state as a plain structure that
 * the CPU applies (struct x86_boot_state). Nothing here depends on the CPU's own types.
 *
 * Where things go (all below 576 KiB, so clear of page 0 — the real-mode interrupt table and
 * BIOS data area, which a kernel may read — and of an extended BIOS data area below 640 KiB):
 *
 *   0x01000  GDT (4 entries)
 *   0x02000  the zero page (Linux) or the multiboot information, its memory map and module list
 *   0x03000  the command line (and the multiboot module's string), at most X86_BOOT_CMDLINE_MAX
 *   0x10000  Linux only: the identity page tables, PML4, PDPT, then one page directory per GiB
 *            mapped, up to 0x90000
 *   0x100000 and up: the kernel (Linux: at pref_address, 16 MiB for Debian's), and the initrd
 *            (Linux: as high as the kernel allows; multiboot: the first page above the kernel)
 */
#ifndef COREMU_X86_BOOT_H
#define COREMU_X86_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct coremu_as;
struct coremu_board;

/* The low-memory layout above. */
#define X86_BOOT_GDT_ADDR     0x1000u
#define X86_BOOT_PARAMS_ADDR  0x2000u
#define X86_BOOT_CMDLINE_ADDR 0x3000u
#define X86_BOOT_CMDLINE_MAX  (0x10000u - X86_BOOT_CMDLINE_ADDR)
#define X86_BOOT_PGTABLE_ADDR 0x10000u
#define X86_BOOT_PGTABLE_END  0x90000u

/* GDT selectors: boot.rst's __BOOT_CS and __BOOT_DS, used for multiboot too. */
#define X86_BOOT_CS 0x10u
#define X86_BOOT_DS 0x18u

/* Control register and EFER bits the entry states use. */
#define X86_CR0_PE       (1u << 0)
#define X86_CR0_ET       (1u << 4)
#define X86_CR0_NE       (1u << 5)
#define X86_CR0_PG       (1u << 31)
#define X86_CR4_PAE      (1u << 5)
#define X86_EFER_LME     (1u << 8)
#define X86_EFER_LMA     (1u << 10)
#define X86_RFLAGS_FIXED (1u << 1) /* bit 1 always reads 1; IF (bit 9) is clear */

#define X86_MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* e820 memory types (the BIOS's INT 15h AX=E820h, as Linux's boot_params carries them). */
enum x86_e820_type {
    X86_E820_RAM = 1,
    X86_E820_RESERVED = 2,
    X86_E820_ACPI = 3, /* ACPI tables, reclaimable once read */
    X86_E820_NVS = 4,  /* ACPI non-volatile storage */
    X86_E820_UNUSABLE = 5,
};

struct x86_e820_range {
    uint64_t base;
    uint64_t size;
    uint32_t type; /* enum x86_e820_type */
};

/* At most this many ranges (the zero page's e820 table holds 128). */
#define X86_E820_MAX 128u

struct x86_boot_config {
    const char *kernel; /* -kernel: required */
    const char *initrd; /* -initrd, or NULL */
    const char *append; /* -append, or NULL */
    /* The machine's memory, in ascending order without overlaps; the guest address space must
     * have RAM wherever this says X86_E820_RAM. It must include RAM over the low boot data
     * (0x1000-0x90000). */
    const struct x86_e820_range *mem_map;
    unsigned mem_map_len;
    /* Linux: the ACPI RSDP's physical address for boot_params.acpi_rsdp_addr (0: none, the
     * kernel then searches the BIOS areas for it). Kernels before 4.20 ignore the field. */
    uint64_t acpi_rsdp_addr;
};

/*
 * The boot processor's state at the kernel's entry. Every other register (R8-R15, FS/GS
 * bases, the debug registers, CR2, ...) is 0. Every segment is flat: base 0, limit 4 GiB - 1
 * (the data segments read/write, CS execute/read), loaded from the GDT at gdtr_base, whose
 * descriptors the fields below repeat so that the CPU can fill its hidden segment state
 * without reading guest memory. LDTR and TR hold the null selector; IDTR is base 0, limit 0
 * (interrupts are off and both kinds of kernel load their own IDT before enabling them).
 * RSP is 0: neither protocol provides a stack, and both kernels set one before using it.
 */
struct x86_boot_state {
    uint64_t rip;
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    uint64_t rflags;
    uint64_t cr0, cr3, cr4;
    uint64_t efer;
    uint64_t gdtr_base;
    uint16_t gdtr_limit;
    uint16_t cs, ds, es, fs, gs, ss;
    /* true: CS is a 64-bit code segment (L = 1, D = 0) and the CPU is in long mode (64-bit
     * mode); false: CS is a 32-bit code segment (D = 1) in protected mode, paging off. */
    bool cs_long;
    uint64_t cs_descriptor;   /* the GDT entry of cs */
    uint64_t data_descriptor; /* the GDT entry of ds, es, fs, gs and ss */
};

enum x86_boot_kind {
    X86_BOOT_LINUX = 1,
    X86_BOOT_MULTIBOOT = 2,
};

struct x86_boot_region {
    uint64_t addr;
    uint64_t size; /* 0: nothing */
};

/* What x86_boot_load put where. */
struct x86_boot_info {
    enum x86_boot_kind kind;
    struct x86_boot_state state;
    /* Linux: the protected-mode part of the bzImage as loaded. Multiboot: everything the
     * kernel's segments (or its a.out-kludge ranges) cover, bss included. */
    struct x86_boot_region kernel;
    struct x86_boot_region initrd; /* -initrd (multiboot: module 0) */
    struct x86_boot_region data;   /* the low boot data: GDT up to the end of what is used */
    uint64_t params_addr;          /* the zero page, or the multiboot information */
    uint64_t cmdline_addr;
    /* Linux: the end of the range the kernel may use before it reads its memory map (the
     * load address plus init_size), and the end of what the page tables map (from 0). */
    uint64_t kernel_reserved_end;
    uint64_t identity_map_end;
};

/*
 * Loads cfg->kernel (gunzipped first when it is gzip data), and cfg->initrd and cfg->append
 * with it, into as and fills info. 0, or -1 with a one-line message in err that names the file
 * and, when more RAM would help, says to give more with -m. A file that is neither a bzImage
 * with the 64-bit entry point nor a multiboot kernel is refused, with what is supported.
 * On failure guest RAM may have been written.
 */
int x86_boot_load(struct coremu_as *as, const struct x86_boot_config *cfg,
                  struct x86_boot_info *info, char *err, size_t errlen);

/*
 * Keeps what x86_boot_load loaded (kernel, initrd, the low boot data) with
 * coremu_board_keep_image, so that a machine reset puts it back: a Linux kernel decompresses
 * over its own image, so a reboot without the copy would run garbage. Call it right after
 * x86_boot_load, before any core runs; as must be board's address space. On reset the board
 * also puts the boot processor back in info->state (the PC's reset vector would need
 * firmware, which coremu does not have). 0, or -1 with a one-line message in err.
 */
int x86_boot_keep_images(struct coremu_board *board, const struct x86_boot_info *info, char *err,
                         size_t errlen);

#endif /* COREMU_X86_BOOT_H */
