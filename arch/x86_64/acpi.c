/*
 * coremu x86_64 — the ACPI tables (acpi.h), written from the ACPI 6.x specification: table
 * layouts from chapter 5.2, the AML encoding from chapter 20, resource descriptors from 6.4.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coremu/physmem.h>

#include "acpi.h"
#include "acpi_pm.h"

#define ACPI_OEM_ID       "COREMU"
#define ACPI_OEM_TABLE_ID "COREMUPC"
#define ACPI_CREATOR_ID   "CRMU"

/* ---- a growing byte buffer ------------------------------------------------------------------ */

struct acpi_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    bool failed; /* out of memory: every later append is dropped, the build reports it */
};

static void buf_reserve(struct acpi_buf *b, size_t extra)
{
    if (b->failed || b->len + extra <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) {
        cap *= 2;
    }
    uint8_t *data = realloc(b->data, cap);
    if (data == NULL) {
        b->failed = true;
        return;
    }
    memset(data + b->cap, 0, cap - b->cap);
    b->data = data;
    b->cap = cap;
}

static void buf_bytes(struct acpi_buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (!b->failed) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
}

static void buf_u8(struct acpi_buf *b, uint8_t v)
{
    buf_bytes(b, &v, 1);
}

/* v's n bytes, little-endian; bytes past the eighth are zero (a reserved run of n zeros). */
static void buf_le(struct acpi_buf *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        buf_u8(b, i < 8 ? (uint8_t)(v >> (8 * i)) : 0);
    }
}

static void buf_align(struct acpi_buf *b, size_t align)
{
    while (b->len % align) {
        buf_u8(b, 0);
    }
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

uint8_t x86_acpi_sum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    return sum;
}

/* ---- AML encoder ---------------------------------------------------------------------------- */

enum {
    AML_ZERO = 0x00,
    AML_ONE = 0x01,
    AML_NAME = 0x08,
    AML_BYTE = 0x0a,
    AML_WORD = 0x0b,
    AML_DWORD = 0x0c,
    AML_STRING = 0x0d,
    AML_QWORD = 0x0e,
    AML_SCOPE = 0x10,
    AML_BUFFER = 0x11,
    AML_PACKAGE = 0x12,
    AML_METHOD = 0x14,
    AML_DUAL_NAME = 0x2e,
    AML_MULTI_NAME = 0x2f,
    AML_EXT = 0x5b,
    AML_EXT_DEVICE = 0x82,
    AML_ROOT = 0x5c,
    AML_RETURN = 0xa4,
    AML_ONES = 0xff,
};

/* A NameString: "\_SB.PCI0", "^FOO", "_HID"; each segment is padded with '_' to four
 * characters. */
static void aml_name(struct acpi_buf *b, const char *path)
{
    while (*path == '\\' || *path == '^') {
        buf_u8(b, (uint8_t)*path++);
    }
    char segs[32][4];
    unsigned n = 0;
    while (*path != '\0' && n < 32) {
        unsigned k = 0;
        memset(segs[n], '_', 4);
        while (*path != '\0' && *path != '.') {
            if (k < 4) {
                segs[n][k++] = *path;
            }
            path++;
        }
        n++;
        if (*path == '.') {
            path++;
        }
    }
    if (n == 0) {
        buf_u8(b, 0x00); /* NullName */
        return;
    }
    if (n == 2) {
        buf_u8(b, AML_DUAL_NAME);
    } else if (n > 2) {
        buf_u8(b, AML_MULTI_NAME);
        buf_u8(b, (uint8_t)n);
    }
    for (unsigned i = 0; i < n; i++) {
        buf_bytes(b, segs[i], 4);
    }
}

static void aml_integer(struct acpi_buf *b, uint64_t v)
{
    if (v == 0) {
        buf_u8(b, AML_ZERO);
    } else if (v == 1) {
        buf_u8(b, AML_ONE);
    } else if (v <= 0xff) {
        buf_u8(b, AML_BYTE);
        buf_u8(b, (uint8_t)v);
    } else if (v <= 0xffff) {
        buf_u8(b, AML_WORD);
        buf_le(b, v, 2);
    } else if (v <= 0xffffffffu) {
        buf_u8(b, AML_DWORD);
        buf_le(b, v, 4);
    } else {
        buf_u8(b, AML_QWORD);
        buf_le(b, v, 8);
    }
}

static void aml_string(struct acpi_buf *b, const char *s)
{
    buf_u8(b, AML_STRING);
    buf_bytes(b, s, strlen(s) + 1);
}

/* The EISA ID of a PNP name ("PNP0A03"): three letters of five bits, four hex digits, stored
 * big-endian. */
static uint32_t aml_eisa_id(const char *id)
{
    unsigned hex = (unsigned)strtoul(id + 3, NULL, 16);
    uint8_t b0 = (uint8_t)(((id[0] - 0x40) & 0x1f) << 2 | ((id[1] - 0x40) & 0x1f) >> 3);
    uint8_t b1 = (uint8_t)(((id[1] - 0x40) & 0x07) << 5 | ((id[2] - 0x40) & 0x1f));
    return (uint32_t)b0 | (uint32_t)b1 << 8 | (uint32_t)(hex >> 8 & 0xff) << 16 |
           (uint32_t)(hex & 0xff) << 24;
}

/*
 * Objects with a PkgLength open with aml_open (the opcode bytes already written) and close with
 * aml_close, which encodes the length (of the PkgLength itself and everything after it) in 1 to
 * 4 bytes and moves the body behind it.
 */
static size_t aml_open(struct acpi_buf *b)
{
    return b->len;
}

static void aml_close(struct acpi_buf *b, size_t start)
{
    if (b->failed) {
        return;
    }
    size_t body = b->len - start;
    unsigned nbytes = 1;
    while (nbytes < 4) {
        size_t total = body + nbytes;
        size_t limit = nbytes == 1 ? 0x40 : (size_t)1 << (4 + 8 * (nbytes - 1));
        if (total < limit) {
            break;
        }
        nbytes++;
    }
    size_t total = body + nbytes;
    buf_reserve(b, nbytes);
    if (b->failed) {
        return;
    }
    memmove(b->data + start + nbytes, b->data + start, body);
    if (nbytes == 1) {
        b->data[start] = (uint8_t)total;
    } else {
        b->data[start] = (uint8_t)((nbytes - 1) << 6 | (total & 0x0f));
        for (unsigned i = 1; i < nbytes; i++) {
            b->data[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
        }
    }
    b->len += nbytes;
}

static size_t aml_scope(struct acpi_buf *b, const char *name)
{
    buf_u8(b, AML_SCOPE);
    size_t start = aml_open(b);
    aml_name(b, name);
    return start;
}

static size_t aml_device(struct acpi_buf *b, const char *name)
{
    buf_u8(b, AML_EXT);
    buf_u8(b, AML_EXT_DEVICE);
    size_t start = aml_open(b);
    aml_name(b, name);
    return start;
}

static size_t aml_method(struct acpi_buf *b, const char *name, unsigned nargs, bool serialized)
{
    buf_u8(b, AML_METHOD);
    size_t start = aml_open(b);
    aml_name(b, name);
    buf_u8(b, (uint8_t)((nargs & 7) | (serialized ? 8 : 0)));
    return start;
}

static void aml_name_integer(struct acpi_buf *b, const char *name, uint64_t v)
{
    buf_u8(b, AML_NAME);
    aml_name(b, name);
    aml_integer(b, v);
}

static void aml_name_string(struct acpi_buf *b, const char *name, const char *s)
{
    buf_u8(b, AML_NAME);
    aml_name(b, name);
    aml_string(b, s);
}

static void aml_name_eisa(struct acpi_buf *b, const char *name, const char *pnp)
{
    buf_u8(b, AML_NAME);
    aml_name(b, name);
    buf_u8(b, AML_DWORD);
    buf_le(b, aml_eisa_id(pnp), 4);
}

/* Name (name, Buffer () { resource descriptors, End Tag }): res holds the descriptors. */
static void aml_name_resources(struct acpi_buf *b, const char *name, const struct acpi_buf *res)
{
    buf_u8(b, AML_NAME);
    aml_name(b, name);
    buf_u8(b, AML_BUFFER);
    size_t start = aml_open(b);
    aml_integer(b, res->len + 2);
    buf_bytes(b, res->data, res->len);
    buf_u8(b, 0x79); /* End Tag; checksum 0: "the checksum is taken as good" */
    buf_u8(b, 0x00);
    aml_close(b, start);
}

/* ---- resource descriptors (ACPI 6.x, 6.4) --------------------------------------------------- */

static void res_io(struct acpi_buf *r, uint16_t base, uint8_t len)
{
    buf_u8(r, 0x47); /* I/O port descriptor, 7 bytes */
    buf_u8(r, 0x01); /* 16-bit decode */
    buf_le(r, base, 2);
    buf_le(r, base, 2);
    buf_u8(r, 0x01);
    buf_u8(r, len);
}

static void res_irq(struct acpi_buf *r, unsigned irq)
{
    buf_u8(r, 0x22); /* IRQ descriptor, 2 bytes: edge, active high, exclusive */
    buf_le(r, 1u << irq, 2);
}

static void res_mem32_fixed(struct acpi_buf *r, uint32_t base, uint32_t len)
{
    buf_u8(r, 0x86);
    buf_le(r, 9, 2);
    buf_u8(r, 0x01); /* read/write */
    buf_le(r, base, 4);
    buf_le(r, len, 4);
}

/* Word Address Space Descriptor of a bus-number or I/O range the bridge produces. */
static void res_word_space(struct acpi_buf *r, uint8_t type, uint8_t type_flags, uint16_t min,
                           uint16_t max)
{
    buf_u8(r, 0x88);
    buf_le(r, 13, 2);
    buf_u8(r, type);
    buf_u8(r, 0x0c); /* _MIF, _MAF fixed; positive decode; producer */
    buf_u8(r, type_flags);
    buf_le(r, 0, 2);
    buf_le(r, min, 2);
    buf_le(r, max, 2);
    buf_le(r, 0, 2);
    buf_le(r, (uint32_t)max - min + 1, 2);
}

static void res_dword_memory(struct acpi_buf *r, uint8_t type_flags, uint32_t min, uint32_t len)
{
    buf_u8(r, 0x87);
    buf_le(r, 23, 2);
    buf_u8(r, 0x00); /* memory */
    buf_u8(r, 0x0c);
    buf_u8(r, type_flags);
    buf_le(r, 0, 4);
    buf_le(r, min, 4);
    buf_le(r, (uint64_t)min + len - 1, 4);
    buf_le(r, 0, 4);
    buf_le(r, len, 4);
}

/* ---- the DSDT's AML ------------------------------------------------------------------------- */

static void dsdt_device_crs(struct acpi_buf *b, const char *name, const char *pnp, unsigned uid,
                            const struct acpi_buf *res)
{
    size_t dev = aml_device(b, name);
    aml_name_eisa(b, "_HID", pnp);
    aml_name_integer(b, "_UID", uid);
    aml_name_resources(b, "_CRS", res);
    aml_close(b, dev);
}

static void dsdt_body(struct acpi_buf *b, const struct x86_acpi_config *cfg)
{
    /* \_S5: Package { SLP_TYPa, SLP_TYPb, reserved, reserved } */
    buf_u8(b, AML_NAME);
    aml_name(b, "\\_S5");
    buf_u8(b, AML_PACKAGE);
    size_t pkg = aml_open(b);
    buf_u8(b, 4);
    aml_integer(b, cfg->s5_slp_typ);
    aml_integer(b, cfg->s5_slp_typ);
    aml_integer(b, 0);
    aml_integer(b, 0);
    aml_close(b, pkg);

    size_t sb = aml_scope(b, "\\_SB");

    for (unsigned i = 0; i < cfg->ncpus; i++) {
        char name[5];
        snprintf(name, sizeof(name), "C%03X", i & 0xfff);
        size_t dev = aml_device(b, name);
        aml_name_string(b, "_HID", "ACPI0007");
        aml_name_integer(b, "_UID", i);
        aml_close(b, dev);
    }

    struct acpi_buf res = {0};

    size_t pci = aml_device(b, "PCI0");
    aml_name_eisa(b, "_HID", "PNP0A03");
    aml_name_integer(b, "_UID", 0);
    aml_name_integer(b, "_SEG", 0);
    aml_name_integer(b, "_BBN", cfg->ecam_base ? cfg->ecam_bus_start : 0);
    res_word_space(&res, 2, 0x00, cfg->ecam_base ? cfg->ecam_bus_start : 0,
                   cfg->ecam_base ? cfg->ecam_bus_end : 0xff);
    res_io(&res, 0xcf8, 8); /* the configuration mechanism's own ports, consumed */
    res_word_space(&res, 1, 0x03, 0x0000, 0x0cf7);
    res_word_space(&res, 1, 0x03, 0x0d00, 0xffff);
    res_dword_memory(&res, 0x03, 0xa0000, 0x20000); /* VGA window, cacheable RW */
    if (cfg->pci_mem32_size != 0) {
        res_dword_memory(&res, 0x01, cfg->pci_mem32_base, cfg->pci_mem32_size);
    }
    aml_name_resources(b, "_CRS", &res);
    if (cfg->pci_intx_gsi_base != 0) {
        /* _PRT: Package { Package { address (device << 16 | 0xFFFF: any function), pin,
         * source 0 (a GSI, not a link device), GSI }, ... } for every device and pin. */
        buf_u8(b, AML_NAME);
        aml_name(b, "_PRT");
        buf_u8(b, AML_PACKAGE);
        size_t prt = aml_open(b);
        buf_u8(b, 128);
        for (unsigned dev = 0; dev < 32; dev++) {
            for (unsigned pin = 0; pin < 4; pin++) {
                buf_u8(b, AML_PACKAGE);
                size_t entry = aml_open(b);
                buf_u8(b, 4);
                buf_u8(b, AML_DWORD);
                buf_le(b, dev << 16 | 0xffffu, 4);
                aml_integer(b, pin);
                aml_integer(b, 0);
                aml_integer(b, cfg->pci_intx_gsi_base + ((dev + pin) & 3));
                aml_close(b, entry);
            }
        }
        aml_close(b, prt);
    }
    aml_close(b, pci);

    res.len = 0;
    res_io(&res, 0x3f8, 8);
    res_irq(&res, 4);
    dsdt_device_crs(b, "COM1", "PNP0501", 1, &res);

    res.len = 0;
    res_io(&res, 0x70, 2);
    res_irq(&res, 8);
    dsdt_device_crs(b, "RTC", "PNP0B00", 0, &res);

    res.len = 0;
    res_io(&res, 0x60, 1);
    res_io(&res, 0x64, 1);
    res_irq(&res, 1);
    dsdt_device_crs(b, "KBD", "PNP0303", 0, &res);

    res.len = 0;
    res_irq(&res, 12);
    dsdt_device_crs(b, "MOU", "PNP0F13", 0, &res);

    if (cfg->hpet_addr != 0) {
        res.len = 0;
        res_mem32_fixed(&res, (uint32_t)cfg->hpet_addr, 0x400);
        dsdt_device_crs(b, "HPET", "PNP0103", 0, &res);
    }

    /* Motherboard resources: the PM ports and the ECAM window, so that the OS does not hand
     * them to a device and (Linux) accepts the MCFG's window as reserved. */
    res.len = 0;
    res_io(&res, cfg->pm1a_evt_port, 4);
    res_io(&res, cfg->pm1a_cnt_port, 2);
    res_io(&res, cfg->pm_tmr_port, 4);
    if (cfg->gpe0_len != 0) {
        res_io(&res, cfg->gpe0_port, cfg->gpe0_len);
    }
    if (cfg->ecam_base != 0 && cfg->ecam_base < 0x100000000ull) {
        uint32_t len = (uint32_t)(cfg->ecam_bus_end - cfg->ecam_bus_start + 1) << 20;
        res_mem32_fixed(&res, (uint32_t)cfg->ecam_base, len);
    }
    dsdt_device_crs(b, "MBRS", "PNP0C02", 0, &res);

    /* \_SB._INI, which the OS runs before it enumerates \_SB, has nothing to set up. */
    size_t ini = aml_method(b, "_INI", 0, false);
    buf_u8(b, AML_RETURN);
    aml_integer(b, 0);
    aml_close(b, ini);

    aml_close(b, sb);
    if (res.failed) {
        b->failed = true;
    }
    free(res.data);
}

/* ---- tables --------------------------------------------------------------------------------- */

/* Starts a table at the buffer's end (8-byte aligned); returns its offset. */
static size_t table_begin(struct acpi_buf *b, const char *sig, uint8_t revision)
{
    buf_align(b, 8);
    size_t start = b->len;
    buf_bytes(b, sig, 4);
    buf_le(b, 0, 4); /* length, filled by table_end */
    buf_u8(b, revision);
    buf_u8(b, 0); /* checksum */
    buf_bytes(b, ACPI_OEM_ID, 6);
    buf_bytes(b, ACPI_OEM_TABLE_ID, 8);
    buf_le(b, 1, 4);
    buf_bytes(b, ACPI_CREATOR_ID, 4);
    buf_le(b, 1, 4);
    return start;
}

static void table_end(struct acpi_buf *b, size_t start)
{
    if (b->failed) {
        return;
    }
    uint8_t *t = b->data + start;
    put_le(t + 4, b->len - start, 4);
    t[9] = 0;
    t[9] = (uint8_t)(0x100 - x86_acpi_sum(t, b->len - start));
}

/* Generic Address Structure in system I/O space. */
static void gas_io(struct acpi_buf *b, uint16_t port, uint8_t bits, uint8_t access)
{
    buf_u8(b, 1);
    buf_u8(b, port ? bits : 0);
    buf_u8(b, 0);
    buf_u8(b, port ? access : 0);
    buf_le(b, port, 8);
}

static size_t build_facs(struct acpi_buf *b)
{
    buf_align(b, 64);
    size_t start = b->len;
    buf_bytes(b, "FACS", 4);
    buf_le(b, 64, 4);
    buf_le(b, 0, 4); /* hardware signature */
    buf_le(b, 0, 4); /* firmware waking vector */
    buf_le(b, 0, 4); /* global lock */
    buf_le(b, 0, 4); /* flags */
    buf_le(b, 0, 8); /* X firmware waking vector */
    buf_u8(b, 2);    /* version */
    buf_le(b, 0, 3);
    buf_le(b, 0, 4); /* OSPM flags */
    buf_le(b, 0, 24);
    return start;
}

static size_t build_fadt(struct acpi_buf *b, const struct x86_acpi_config *cfg, uint64_t facs,
                         uint64_t dsdt)
{
    size_t start = table_begin(b, "FACP", 6);
    buf_le(b, facs < 0x100000000ull ? facs : 0, 4);
    buf_le(b, dsdt < 0x100000000ull ? dsdt : 0, 4);
    buf_u8(b, 0); /* reserved */
    buf_u8(b, 0); /* preferred PM profile: unspecified */
    buf_le(b, cfg->sci_irq, 2);
    buf_le(b, 0, 4); /* SMI_CMD: none, always in ACPI mode */
    buf_u8(b, 0);    /* ACPI_ENABLE */
    buf_u8(b, 0);    /* ACPI_DISABLE */
    buf_u8(b, 0);    /* S4BIOS_REQ */
    buf_u8(b, 0);    /* PSTATE_CNT */
    buf_le(b, cfg->pm1a_evt_port, 4);
    buf_le(b, 0, 4); /* PM1b_EVT_BLK */
    buf_le(b, cfg->pm1a_cnt_port, 4);
    buf_le(b, 0, 4); /* PM1b_CNT_BLK */
    buf_le(b, 0, 4); /* PM2_CNT_BLK */
    buf_le(b, cfg->pm_tmr_port, 4);
    buf_le(b, cfg->gpe0_len ? cfg->gpe0_port : 0, 4);
    buf_le(b, 0, 4); /* GPE1_BLK */
    buf_u8(b, 4);    /* PM1_EVT_LEN */
    buf_u8(b, 2);    /* PM1_CNT_LEN */
    buf_u8(b, 0);    /* PM2_CNT_LEN */
    buf_u8(b, 4);    /* PM_TMR_LEN */
    buf_u8(b, cfg->gpe0_len);
    buf_u8(b, 0);       /* GPE1_BLK_LEN */
    buf_u8(b, 0);       /* GPE1_BASE */
    buf_u8(b, 0);       /* CST_CNT */
    buf_le(b, 101, 2);  /* P_LVL2_LAT > 100: C2 not supported */
    buf_le(b, 1001, 2); /* P_LVL3_LAT > 1000: C3 not supported */
    buf_le(b, 0, 2);    /* FLUSH_SIZE */
    buf_le(b, 0, 2);    /* FLUSH_STRIDE */
    buf_u8(b, 0);       /* DUTY_OFFSET */
    buf_u8(b, 0);       /* DUTY_WIDTH */
    buf_u8(b, 0);       /* DAY_ALRM */
    buf_u8(b, 0);       /* MON_ALRM */
    buf_u8(b, cfg->rtc_century_index);
    buf_le(b, 0x0003, 2); /* IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042 */
    buf_u8(b, 0);
    /* WBINVD | PROC_C1 | SLP_BUTTON (no fixed sleep button) | RESET_REG_SUP; the power button
     * is the fixed-feature one (PWR_BUTTON clear), the timer 24-bit (TMR_VAL_EXT clear). */
    buf_le(b, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10), 4);
    gas_io(b, cfg->reset_port, 8, 1);
    buf_u8(b, cfg->reset_value);
    buf_le(b, 0, 2); /* ARM_BOOT_ARCH */
    buf_u8(b, 0);    /* FADT minor version: 6.0 */
    buf_le(b, facs, 8);
    buf_le(b, dsdt, 8);
    gas_io(b, cfg->pm1a_evt_port, 32, 2);
    gas_io(b, 0, 0, 0);
    gas_io(b, cfg->pm1a_cnt_port, 16, 2);
    gas_io(b, 0, 0, 0);
    gas_io(b, 0, 0, 0);
    gas_io(b, cfg->pm_tmr_port, 32, 3);
    gas_io(b, cfg->gpe0_len ? cfg->gpe0_port : 0, (uint8_t)(cfg->gpe0_len * 8), 1);
    gas_io(b, 0, 0, 0); /* X_GPE1_BLK */
    buf_le(b, 0, 12);   /* SLEEP_CONTROL_REG (hardware-reduced only) */
    buf_le(b, 0, 12);   /* SLEEP_STATUS_REG */
    buf_le(b, 0, 8);    /* hypervisor vendor identity */
    table_end(b, start);
    return start;
}

static size_t build_dsdt(struct acpi_buf *b, const struct x86_acpi_config *cfg)
{
    size_t start = table_begin(b, "DSDT", 2); /* revision 2: 64-bit integers */
    dsdt_body(b, cfg);
    table_end(b, start);
    return start;
}

static uint32_t cpu_apic_id(const struct x86_acpi_config *cfg, unsigned i)
{
    return cfg->apic_ids ? cfg->apic_ids[i] : i;
}

static size_t build_madt(struct acpi_buf *b, const struct x86_acpi_config *cfg)
{
    size_t start = table_begin(b, "APIC", 5);
    buf_le(b, cfg->lapic_addr, 4);
    buf_le(b, cfg->pcat_compat ? 1 : 0, 4);
    bool any_x2apic = false;
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        uint32_t id = cpu_apic_id(cfg, i);
        if (id < 255 && i < 255) {
            buf_u8(b, 0); /* Processor Local APIC */
            buf_u8(b, 8);
            buf_u8(b, (uint8_t)i);
            buf_u8(b, (uint8_t)id);
            buf_le(b, 1, 4); /* enabled */
        } else {
            any_x2apic = true;
            buf_u8(b, 9); /* Processor Local x2APIC */
            buf_u8(b, 16);
            buf_le(b, 0, 2);
            buf_le(b, id, 4);
            buf_le(b, 1, 4);
            buf_le(b, i, 4);
        }
    }
    buf_u8(b, 1); /* I/O APIC */
    buf_u8(b, 12);
    buf_u8(b, cfg->ioapic_id);
    buf_u8(b, 0);
    buf_le(b, cfg->ioapic_addr, 4);
    buf_le(b, cfg->ioapic_gsi_base, 4);
    for (unsigned i = 0; i < cfg->noverrides; i++) {
        buf_u8(b, 2); /* Interrupt Source Override */
        buf_u8(b, 10);
        buf_u8(b, 0); /* ISA */
        buf_u8(b, cfg->overrides[i].isa_irq);
        buf_le(b, cfg->overrides[i].gsi, 4);
        buf_le(b, cfg->overrides[i].flags, 2);
    }
    /* LINT1 of every processor is the NMI, edge, active high. */
    buf_u8(b, 4); /* Local APIC NMI */
    buf_u8(b, 6);
    buf_u8(b, 0xff);
    buf_le(b, X86_ACPI_INTI_ACTIVE_HIGH | X86_ACPI_INTI_EDGE, 2);
    buf_u8(b, 1);
    if (any_x2apic) {
        buf_u8(b, 10); /* Local x2APIC NMI */
        buf_u8(b, 12);
        buf_le(b, X86_ACPI_INTI_ACTIVE_HIGH | X86_ACPI_INTI_EDGE, 2);
        buf_le(b, 0xffffffffu, 4);
        buf_u8(b, 1);
        buf_le(b, 0, 3);
    }
    table_end(b, start);
    return start;
}

static size_t build_hpet(struct acpi_buf *b, const struct x86_acpi_config *cfg)
{
    size_t start = table_begin(b, "HPET", 1);
    buf_le(b, cfg->hpet_block_id, 4);
    buf_u8(b, 0); /* system memory */
    buf_u8(b, 64);
    buf_u8(b, 0);
    buf_u8(b, 0);
    buf_le(b, cfg->hpet_addr, 8);
    buf_u8(b, 0);      /* HPET number */
    buf_le(b, 128, 2); /* minimum clock tick in periodic mode */
    buf_u8(b, 0);      /* no page protection */
    table_end(b, start);
    return start;
}

static size_t build_mcfg(struct acpi_buf *b, const struct x86_acpi_config *cfg)
{
    size_t start = table_begin(b, "MCFG", 1);
    buf_le(b, 0, 8);
    buf_le(b, cfg->ecam_base, 8);
    buf_le(b, 0, 2); /* segment group */
    buf_u8(b, cfg->ecam_bus_start);
    buf_u8(b, cfg->ecam_bus_end);
    buf_le(b, 0, 4);
    table_end(b, start);
    return start;
}

void x86_acpi_config_default(struct x86_acpi_config *cfg, unsigned ncpus, const uint32_t *apic_ids)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ncpus = ncpus;
    cfg->apic_ids = apic_ids;
    cfg->lapic_addr = 0xfee00000u;
    cfg->pcat_compat = true;
    uint32_t max_id = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        uint32_t id = apic_ids ? apic_ids[i] : i;
        max_id = id > max_id ? id : max_id;
    }
    /* The I/O APIC's ID is 8 bits (4 in xAPIC mode for the original parts); past the cores'
     * IDs where that fits, else 0 (I/O APIC IDs are a separate namespace on modern systems). */
    cfg->ioapic_id = max_id < 254 ? (uint8_t)(max_id + 1) : 0;
    cfg->ioapic_addr = 0xfec00000u;
    cfg->ioapic_gsi_base = 0;
    cfg->sci_irq = 9;
    cfg->noverrides = 2;
    cfg->overrides[0] = (struct x86_acpi_override){0, 2, X86_ACPI_INTI_CONFORMS};
    cfg->overrides[1] =
        (struct x86_acpi_override){9, 9, X86_ACPI_INTI_ACTIVE_HIGH | X86_ACPI_INTI_LEVEL};
    cfg->hpet_addr = 0xfed00000u;
    /* Vendor 0x8086, legacy replacement capable, 64-bit counter, 3 comparators, revision 1. */
    cfg->hpet_block_id = 0x8086u << 16 | 1u << 15 | 1u << 13 | 2u << 8 | 1u;
    cfg->pm1a_evt_port = ACPI_PM_DEFAULT_BASE + ACPI_PM_EVT_OFFSET;
    cfg->pm1a_cnt_port = ACPI_PM_DEFAULT_BASE + ACPI_PM_CNT_OFFSET;
    cfg->pm_tmr_port = ACPI_PM_DEFAULT_BASE + ACPI_PM_TMR_OFFSET;
    cfg->gpe0_port = ACPI_PM_DEFAULT_BASE + ACPI_PM_GPE0_OFFSET;
    cfg->gpe0_len = ACPI_PM_GPE0_LEN;
    cfg->s5_slp_typ = ACPI_PM_S5_SLP_TYP;
    cfg->reset_port = ACPI_PM_RESET_PORT;
    cfg->reset_value = 0x06;
    cfg->pci_intx_gsi_base = 16;
    cfg->rtc_century_index = 0x32;
}

static int acpi_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int acpi_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int x86_acpi_build(const struct x86_acpi_config *cfg, uint64_t base, struct x86_acpi_tables *out,
                   char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (cfg->ncpus == 0) {
        return acpi_error(err, errlen, "acpi: no processors to describe");
    }
    if (base % 64 != 0) {
        return acpi_error(err, errlen, "acpi: table base 0x%llx is not 64-byte aligned",
                          (unsigned long long)base);
    }
    if (cfg->noverrides > X86_ACPI_MAX_OVERRIDES || cfg->s5_slp_typ > 7 ||
        (cfg->gpe0_len % 2) != 0) {
        return acpi_error(err, errlen, "acpi: invalid machine description");
    }
    if (cfg->ecam_base != 0 && cfg->ecam_bus_end < cfg->ecam_bus_start) {
        return acpi_error(err, errlen, "acpi: ECAM bus range %u-%u is empty", cfg->ecam_bus_start,
                          cfg->ecam_bus_end);
    }

    struct acpi_buf b = {0};
    /* RSDP first (its checksums are done at the end, once the XSDT's place is known). */
    buf_bytes(&b, "RSD PTR ", 8);
    buf_u8(&b, 0);
    buf_bytes(&b, ACPI_OEM_ID, 6);
    buf_u8(&b, 2);
    buf_le(&b, 0, 4); /* RsdtAddress: no RSDT */
    buf_le(&b, X86_ACPI_RSDP_SIZE, 4);
    buf_le(&b, 0, 8); /* XsdtAddress */
    buf_u8(&b, 0);
    buf_le(&b, 0, 3);

    size_t facs = build_facs(&b);
    size_t dsdt = build_dsdt(&b, cfg);
    size_t tables[4];
    unsigned ntables = 0;
    tables[ntables++] = build_fadt(&b, cfg, base + facs, base + dsdt);
    tables[ntables++] = build_madt(&b, cfg);
    if (cfg->hpet_addr != 0) {
        tables[ntables++] = build_hpet(&b, cfg);
    }
    if (cfg->ecam_base != 0) {
        tables[ntables++] = build_mcfg(&b, cfg);
    }
    size_t xsdt = table_begin(&b, "XSDT", 1);
    for (unsigned i = 0; i < ntables; i++) {
        buf_le(&b, base + tables[i], 8);
    }
    table_end(&b, xsdt);
    buf_align(&b, 16);
    if (b.failed) {
        free(b.data);
        return acpi_error(err, errlen, "acpi: out of memory");
    }

    put_le(b.data + 24, base + xsdt, 8);
    b.data[8] = (uint8_t)(0x100 - x86_acpi_sum(b.data, 20));
    b.data[32] = (uint8_t)(0x100 - x86_acpi_sum(b.data, X86_ACPI_RSDP_SIZE));

    out->data = b.data;
    out->size = b.len;
    out->base = base;
    out->rsdp_addr = base;
    memcpy(out->rsdp, b.data, X86_ACPI_RSDP_SIZE);
    return 0;
}

int x86_acpi_install(struct coremu_as *as, const struct x86_acpi_tables *tables,
                     uint64_t bios_rsdp_addr, char *err, size_t errlen)
{
    if (bios_rsdp_addr != 0 && (bios_rsdp_addr % 16 != 0 || bios_rsdp_addr < 0xe0000 ||
                                bios_rsdp_addr + X86_ACPI_RSDP_SIZE > 0x100000)) {
        return acpi_error(err, errlen,
                          "acpi: RSDP copy at 0x%llx is not on a 16-byte boundary of "
                          "0xE0000-0xFFFFF",
                          (unsigned long long)bios_rsdp_addr);
    }
    if (coremu_as_copy_to(as, tables->base, tables->data, tables->size) != COREMU_MEM_OK) {
        return acpi_error(err, errlen, "acpi: no RAM for the tables at 0x%llx-0x%llx",
                          (unsigned long long)tables->base,
                          (unsigned long long)(tables->base + tables->size - 1));
    }
    if (bios_rsdp_addr != 0 &&
        coremu_as_copy_to(as, bios_rsdp_addr, tables->rsdp, X86_ACPI_RSDP_SIZE) != COREMU_MEM_OK) {
        return acpi_error(err, errlen, "acpi: no RAM for the RSDP copy at 0x%llx",
                          (unsigned long long)bios_rsdp_addr);
    }
    return 0;
}

void x86_acpi_tables_free(struct x86_acpi_tables *tables)
{
    free(tables->data);
    tables->data = NULL;
    tables->size = 0;
}
