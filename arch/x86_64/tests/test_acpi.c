/*
 * The ACPI tables (arch/x86_64/acpi.c), parsed back as an operating system reads them: RSDP ->
 * XSDT -> each table, every checksum and length, the FADT's fields, the MADT's entries for 1, 4,
 * 64 and 255 cores (and x2APIC entries for APIC IDs past 254), HPET and MCFG, and the DSDT's AML
 * disassembled by ACPICA's iasl when it is installed (Debian: acpica-tools; UNSUPPORTED
 * otherwise).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coremu/physmem.h>

#include "acpi.h"
#include "acpi_pm.h"
#include "unit.h"

#define BASE 0x7ff0000ull

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

struct parsed {
    const struct x86_acpi_tables *t;
    const uint8_t *xsdt, *fadt, *madt, *hpet, *mcfg, *dsdt, *facs;
    bool ok;
};

/* The table at guest physical address addr, when its header and length lie inside the blob. */
static const uint8_t *table_at(const struct x86_acpi_tables *t, uint64_t addr, const char *what)
{
    if (addr < t->base || addr + 36 > t->base + t->size) {
        unit_fail(what, "address 0x%llx is outside the tables", (unsigned long long)addr);
        return NULL;
    }
    const uint8_t *p = t->data + (addr - t->base);
    uint32_t len = (uint32_t)le(p + 4, 4);
    if (len < 36 || addr + len > t->base + t->size) {
        unit_fail(what, "length %u runs outside the tables", len);
        return NULL;
    }
    if (x86_acpi_sum(p, len) != 0) {
        unit_fail(what, "checksum does not sum to 0");
        return NULL;
    }
    return p;
}

static bool parse(const struct x86_acpi_tables *t, struct parsed *out, const char *tag)
{
    char name[128];
    memset(out, 0, sizeof(*out));
    out->t = t;
    const uint8_t *rsdp = t->data + (t->rsdp_addr - t->base);
    snprintf(name, sizeof(name), "%s: RSDP", tag);
    if (memcmp(rsdp, "RSD PTR ", 8) != 0 || x86_acpi_sum(rsdp, 20) != 0 ||
        x86_acpi_sum(rsdp, 36) != 0 || rsdp[15] != 2 || le(rsdp + 20, 4) != 36 ||
        memcmp(rsdp, t->rsdp, 36) != 0 || t->rsdp_addr % 16 != 0) {
        unit_fail(name, "signature, checksums, revision, length or copy wrong");
        return false;
    }
    snprintf(name, sizeof(name), "%s: XSDT", tag);
    out->xsdt = table_at(t, le(rsdp + 24, 8), name);
    if (out->xsdt == NULL || memcmp(out->xsdt, "XSDT", 4) != 0) {
        unit_fail(name, "no XSDT");
        return false;
    }
    uint32_t n = ((uint32_t)le(out->xsdt + 4, 4) - 36) / 8;
    for (uint32_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s: XSDT entry %u", tag, i);
        const uint8_t *p = table_at(t, le(out->xsdt + 36 + 8 * i, 8), name);
        if (p == NULL) {
            return false;
        }
        if (memcmp(p, "FACP", 4) == 0) {
            out->fadt = p;
        } else if (memcmp(p, "APIC", 4) == 0) {
            out->madt = p;
        } else if (memcmp(p, "HPET", 4) == 0) {
            out->hpet = p;
        } else if (memcmp(p, "MCFG", 4) == 0) {
            out->mcfg = p;
        } else {
            unit_fail(name, "unexpected table %.4s", (const char *)p);
            return false;
        }
    }
    snprintf(name, sizeof(name), "%s: FADT present", tag);
    if (out->fadt == NULL || out->madt == NULL) {
        unit_fail(name, "FADT or MADT missing from the XSDT");
        return false;
    }
    snprintf(name, sizeof(name), "%s: DSDT", tag);
    out->dsdt = table_at(t, le(out->fadt + 140, 8), name);
    if (out->dsdt == NULL || memcmp(out->dsdt, "DSDT", 4) != 0) {
        unit_fail(name, "X_DSDT does not lead to a DSDT");
        return false;
    }
    uint64_t facs = le(out->fadt + 132, 8);
    if (facs % 64 != 0 || facs < t->base || facs + 64 > t->base + t->size) {
        unit_fail(name, "X_FIRMWARE_CTRL 0x%llx misplaced", (unsigned long long)facs);
        return false;
    }
    out->facs = t->data + (facs - t->base);
    out->ok = true;
    return true;
}

static bool build(struct x86_acpi_tables *t, const struct x86_acpi_config *cfg, const char *tag)
{
    char err[200];
    if (x86_acpi_build(cfg, BASE, t, err, sizeof(err)) != 0) {
        unit_fail(tag, "build failed: %s", err);
        return false;
    }
    return true;
}

static void test_fadt(void)
{
    struct x86_acpi_config cfg;
    x86_acpi_config_default(&cfg, 2, NULL);
    cfg.ecam_base = 0xb0000000u;
    cfg.ecam_bus_start = 0;
    cfg.ecam_bus_end = 255;
    struct x86_acpi_tables t;
    struct parsed p;
    if (!build(&t, &cfg, "fadt") || !parse(&t, &p, "fadt")) {
        return;
    }
    const uint8_t *f = p.fadt;
    UNIT_CHECK(le(f + 4, 4) == 276 && f[8] == 6 && f[131] == 0, "FADT revision 6.0, 276 bytes",
               "length %u revision %u.%u", (unsigned)le(f + 4, 4), f[8], f[131]);
    UNIT_CHECK(le(f + 40, 4) == le(f + 140, 8) && le(f + 36, 4) == le(f + 132, 8),
               "FADT 32-bit DSDT/FACS pointers match the X_ ones", "mismatch");
    UNIT_CHECK(memcmp(p.facs, "FACS", 4) == 0 && le(p.facs + 4, 4) == 64 && p.facs[32] == 2,
               "FACS signature, length 64, version 2", "bad FACS");
    UNIT_CHECK(le(f + 46, 2) == 9, "FADT SCI_INT 9", "%u", (unsigned)le(f + 46, 2));
    UNIT_CHECK(le(f + 48, 4) == 0, "FADT no SMI_CMD (always ACPI mode)", "SMI_CMD set");
    UNIT_CHECK(le(f + 56, 4) == 0x600 && le(f + 64, 4) == 0x604 && le(f + 76, 4) == 0x608 &&
                   le(f + 80, 4) == 0x60c,
               "FADT PM1a_EVT/PM1a_CNT/PM_TMR/GPE0 ports", "wrong ports");
    UNIT_CHECK(f[88] == 4 && f[89] == 2 && f[91] == 4 && f[92] == 4,
               "FADT PM1_EVT_LEN 4, PM1_CNT_LEN 2, PM_TMR_LEN 4, GPE0_BLK_LEN 4", "wrong lengths");
    UNIT_CHECK(f[108] == 0x32, "FADT century index 0x32", "0x%x", f[108]);
    UNIT_CHECK(le(f + 109, 2) == 3, "FADT IAPC_BOOT_ARCH legacy devices and 8042", "0x%x",
               (unsigned)le(f + 109, 2));
    uint32_t flags = (uint32_t)le(f + 112, 4);
    UNIT_CHECK((flags & (1u << 10)) && !(flags & (1u << 20)) && !(flags & (1u << 8)) &&
                   !(flags & (1u << 4)),
               "FADT flags RESET_REG_SUP, not HW_REDUCED, 24-bit timer, fixed power button",
               "flags 0x%x", flags);
    UNIT_CHECK(f[116] == 1 && f[117] == 8 && f[119] == 1 && le(f + 120, 8) == 0xcf9 && f[128] == 6,
               "FADT RESET_REG port 0xCF9 value 0x06", "space %u width %u addr 0x%llx value %u",
               f[116], f[117], (unsigned long long)le(f + 120, 8), f[128]);
    bool gas_ok = f[148] == 1 && f[149] == 32 && le(f + 152, 8) == 0x600 && f[172] == 1 &&
                  f[173] == 16 && le(f + 176, 8) == 0x604 && f[208] == 1 && f[209] == 32 &&
                  le(f + 212, 8) == 0x608 && f[220] == 1 && f[221] == 32 && le(f + 224, 8) == 0x60c;
    UNIT_CHECK(gas_ok, "FADT X_PM1a_EVT/X_PM1a_CNT/X_PM_TMR/X_GPE0 blocks", "bad GAS");

    UNIT_CHECK(p.hpet != NULL && le(p.hpet + 4, 4) == 56 && p.hpet[40] == 0 &&
                   le(p.hpet + 44, 8) == 0xfed00000u && (le(p.hpet + 36, 4) >> 16) == 0x8086,
               "HPET table: 56 bytes, memory space, 0xFED00000", "bad HPET");
    UNIT_CHECK(p.mcfg != NULL && le(p.mcfg + 4, 4) == 60 && le(p.mcfg + 44, 8) == 0xb0000000u &&
                   le(p.mcfg + 52, 2) == 0 && p.mcfg[54] == 0 && p.mcfg[55] == 255,
               "MCFG: one ECAM window 0xB0000000 buses 0-255", "bad MCFG");

    /* The same RSDP found where a BIOS-area search would: 16-byte aligned, "RSD PTR ". */
    uint8_t bios[0x20000];
    memset(bios, 0, sizeof(bios));
    memcpy(bios + 0x10000, t.rsdp, sizeof(t.rsdp));
    int found = -1;
    for (unsigned off = 0; off < sizeof(bios); off += 16) {
        if (memcmp(bios + off, "RSD PTR ", 8) == 0 && x86_acpi_sum(bios + off, 20) == 0) {
            found = (int)off;
            break;
        }
    }
    UNIT_CHECK(found == 0x10000 && le(bios + found + 24, 8) == le(t.data + 24, 8),
               "RSDP copy for the BIOS area is self-contained", "not found");
    x86_acpi_tables_free(&t);

    x86_acpi_config_default(&cfg, 1, NULL);
    cfg.hpet_addr = 0;
    if (build(&t, &cfg, "minimal") && parse(&t, &p, "minimal")) {
        UNIT_CHECK(p.hpet == NULL && p.mcfg == NULL && le(p.xsdt + 4, 4) == 36 + 2 * 8,
                   "no HPET nor MCFG when the machine has neither", "extra tables");
    }
    x86_acpi_tables_free(&t);

    char err[200] = "";
    x86_acpi_config_default(&cfg, 0, NULL);
    UNIT_CHECK(x86_acpi_build(&cfg, BASE, &t, err, sizeof(err)) == -1 && err[0] != '\0',
               "zero cores refused with a reason", "accepted");
    x86_acpi_config_default(&cfg, 1, NULL);
    UNIT_CHECK(x86_acpi_build(&cfg, BASE + 8, &t, err, sizeof(err)) == -1,
               "misaligned base refused", "accepted");
}

static void test_madt(unsigned ncpus, bool sparse)
{
    char tag[64];
    snprintf(tag, sizeof(tag), "MADT -smp %u%s", ncpus, sparse ? " (APIC IDs 2i+1)" : "");
    uint32_t *ids = calloc(ncpus, sizeof(*ids));
    for (unsigned i = 0; i < ncpus; i++) {
        ids[i] = sparse ? 2 * i + 1 : i;
    }
    struct x86_acpi_config cfg;
    x86_acpi_config_default(&cfg, ncpus, ids);
    struct x86_acpi_tables t;
    struct parsed p;
    if (!build(&t, &cfg, tag) || !parse(&t, &p, tag)) {
        free(ids);
        return;
    }
    const uint8_t *m = p.madt;
    uint32_t len = (uint32_t)le(m + 4, 4);
    unsigned *seen = calloc(ncpus, sizeof(*seen));
    unsigned ioapics = 0, isos = 0, nmis = 0, x2nmis = 0, x2 = 0, bad = 0;
    bool iso0 = false, iso9 = false;
    uint32_t off = 44;
    while (off + 2 <= len) {
        const uint8_t *e = m + off;
        if (e[1] < 2 || off + e[1] > len) {
            bad++;
            break;
        }
        switch (e[0]) {
        case 0:
            if (e[1] != 8 || e[2] >= ncpus || ids[e[2]] != e[3] || le(e + 4, 4) != 1) {
                bad++;
            } else {
                seen[e[2]]++;
            }
            break;
        case 9: {
            uint32_t uid = (uint32_t)le(e + 12, 4);
            if (e[1] != 16 || uid >= ncpus || ids[uid] != le(e + 4, 4) || le(e + 8, 4) != 1 ||
                (ids[uid] < 255 && uid < 255)) {
                bad++;
            } else {
                seen[uid]++;
                x2++;
            }
            break;
        }
        case 1:
            ioapics += e[1] == 12 && le(e + 4, 4) == 0xfec00000u && le(e + 8, 4) == 0;
            break;
        case 2:
            isos++;
            iso0 |= e[1] == 10 && e[2] == 0 && e[3] == 0 && le(e + 4, 4) == 2;
            iso9 |= e[1] == 10 && e[3] == 9 && le(e + 4, 4) == 9 && le(e + 8, 2) == 0x0d;
            break;
        case 4:
            nmis += e[1] == 6 && e[2] == 0xff && e[5] == 1;
            break;
        case 10:
            x2nmis += e[1] == 12 && le(e + 4, 4) == 0xffffffffu && e[8] == 1;
            break;
        default:
            bad++;
        }
        off += e[1];
    }
    unsigned once = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        once += seen[i] == 1;
    }
    UNIT_CHECK(off == len && bad == 0 && once == ncpus, tag,
               "%u of %u cores described once, %u bad entries, walked %u of %u bytes", once, ncpus,
               bad, off, len);
    snprintf(tag + strlen(tag), sizeof(tag) - strlen(tag), ": other entries");
    unsigned want_x2 = 0;
    for (unsigned i = 0; i < ncpus; i++) {
        want_x2 += ids[i] >= 255 || i >= 255;
    }
    UNIT_CHECK(ioapics == 1 && isos == 2 && iso0 && iso9 && nmis == 1 &&
                   x2nmis == (want_x2 ? 1u : 0u) && x2 == want_x2 && le(m + 36, 4) == 0xfee00000u &&
                   (le(m + 40, 4) & 1),
               tag, "ioapics %u isos %u (irq0 %d sci %d) nmi %u x2nmi %u x2apic %u/%u", ioapics,
               isos, iso0, iso9, nmis, x2nmis, x2, want_x2);
    free(seen);
    free(ids);
    x86_acpi_tables_free(&t);
}

/* Finds needle in the DSDT's AML. */
static bool aml_has(const uint8_t *dsdt, const void *needle, size_t n)
{
    uint32_t len = (uint32_t)le(dsdt + 4, 4);
    for (uint32_t i = 36; i + n <= len; i++) {
        if (memcmp(dsdt + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

static int run_quiet(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *s = calloc(1, 1 << 22);
    size_t n = fread(s, 1, (1 << 22) - 1, f);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void test_dsdt(unsigned ncpus)
{
    char tag[64];
    snprintf(tag, sizeof(tag), "DSDT -smp %u", ncpus);
    struct x86_acpi_config cfg;
    x86_acpi_config_default(&cfg, ncpus, NULL);
    cfg.ecam_base = 0xb0000000u;
    cfg.ecam_bus_end = 255;
    cfg.pci_mem32_base = 0xc0000000u;
    cfg.pci_mem32_size = 0x30000000u;
    struct x86_acpi_tables t;
    struct parsed p;
    if (!build(&t, &cfg, tag) || !parse(&t, &p, tag)) {
        return;
    }
    /* Name (\_S5, Package (4) { 5, 5, 0, 0 }) as bytes. */
    static const uint8_t s5[] = {0x08, 0x5c, '_',  'S',  '5',  '_',  0x12, 0x08,
                                 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
    static const uint8_t pnp0a03[] = {0x0c, 0x41, 0xd0, 0x0a, 0x03};
    static const uint8_t pnp0501[] = {0x0c, 0x41, 0xd0, 0x05, 0x01};
    static const uint8_t pnp0b00[] = {0x0c, 0x41, 0xd0, 0x0b, 0x00};
    static const uint8_t pnp0303[] = {0x0c, 0x41, 0xd0, 0x03, 0x03};
    UNIT_CHECK(aml_has(p.dsdt, s5, sizeof(s5)) && ACPI_PM_S5_SLP_TYP == 5,
               "DSDT \\_S5 package with the PM block's soft-off SLP_TYP", "not found");
    UNIT_CHECK(aml_has(p.dsdt, pnp0a03, 5) && aml_has(p.dsdt, pnp0501, 5) &&
                   aml_has(p.dsdt, pnp0b00, 5) && aml_has(p.dsdt, pnp0303, 5),
               "DSDT EISA IDs of PCI0, COM1, RTC, KBD", "an ID is missing");
    UNIT_CHECK(p.dsdt[8] == 2, "DSDT revision 2", "%u", p.dsdt[8]);
    /* _PRT entry of device 3, INTB#: { 0x0003FFFF, 1, 0, 16 + (3 + 1) % 4 = 16 }, and of device
     * 5, INTD#: GSI 16 + (5 + 3) % 4 = 16; device 2 INTA#: GSI 18. */
    static const uint8_t prt_3b[] = {0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff,
                                     0x03, 0x00, 0x01, 0x00, 0x0a, 0x10};
    static const uint8_t prt_2a[] = {0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff,
                                     0x02, 0x00, 0x00, 0x00, 0x0a, 0x12};
    static const uint8_t prt_name[] = {0x08, '_', 'P', 'R', 'T', 0x12};
    UNIT_CHECK(aml_has(p.dsdt, prt_name, sizeof(prt_name)) &&
                   aml_has(p.dsdt, prt_3b, sizeof(prt_3b)) &&
                   aml_has(p.dsdt, prt_2a, sizeof(prt_2a)),
               "DSDT PCI0._PRT routes INTx to GSIs 16-19 by (device + pin) % 4", "not found");

    char dir[] = "/tmp/coremu-acpi-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        unit_fail(tag, "mkdtemp failed");
        x86_acpi_tables_free(&t);
        return;
    }
    char path[256], cmd[1024];
    bool keep = false;
    if (run_quiet("command -v iasl >/dev/null 2>&1") != 0) {
        printf("UNSUPPORTED: %s: iasl -d (Debian: acpica-tools) is not installed\n", tag);
    } else {
        const uint8_t *tables[] = {p.dsdt, p.fadt, p.madt, p.hpet, p.mcfg};
        const char *names[] = {"dsdt", "facp", "apic", "hpet", "mcfg"};
        for (unsigned i = 0; i < 5; i++) {
            char name[96];
            snprintf(name, sizeof(name), "%s: iasl -d %s", tag, names[i]);
            snprintf(path, sizeof(path), "%s/%s.dat", dir, names[i]);
            if (!write_file(path, tables[i], le(tables[i] + 4, 4))) {
                unit_fail(name, "cannot write %s", path);
                continue;
            }
            snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.dat >%s.log 2>&1", dir, names[i],
                     names[i]);
            int rc = run_quiet(cmd);
            snprintf(path, sizeof(path), "%s/%s.log", dir, names[i]);
            char *log = read_text(path);
            snprintf(path, sizeof(path), "%s/%s.dsl", dir, names[i]);
            char *dsl = read_text(path);
            bool clean = log != NULL && dsl != NULL && strstr(log, "rror") == NULL &&
                         strstr(log, "arning") == NULL && strstr(dsl, "**** ") == NULL &&
                         strstr(dsl, "Unknown") == NULL && strstr(dsl, "Incorrect") == NULL;
            if (i == 0 && clean) {
                clean = strstr(dsl, "EisaId (\"PNP0A03\")") &&
                        strstr(dsl, "Name (\\_S5, Package") &&
                        strstr(dsl, "EisaId (\"PNP0303\")") && strstr(dsl, "WordBusNumber") &&
                        strstr(dsl, "Method (_INI") && strstr(dsl, "Name (_PRT, Package (0x80)");
            }
            UNIT_CHECK(rc == 0 && clean, name, "iasl exit %d; output kept in %s", rc, dir);
            if (rc != 0 || !clean) {
                keep = true; /* the files stay for whoever reads the failure */
            }
            free(log);
            free(dsl);
        }
    }
    if (!keep) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        run_quiet(cmd);
    }
    x86_acpi_tables_free(&t);
}

/* The tables in guest RAM as the board installs them, found again the way an OS without
 * boot_params would: a search of 0xE0000-0xFFFFF for the RSDP, then the XSDT in RAM. */
static void test_install(void)
{
    struct coremu_as *as = coremu_as_new();
    UNIT_REQUIRE(as != NULL && coremu_as_add_ram(as, "ram", 0, 0x8000000) != NULL, "install",
                 "no RAM");
    struct x86_acpi_config cfg;
    x86_acpi_config_default(&cfg, 4, NULL);
    struct x86_acpi_tables t;
    char err[200];
    if (!build(&t, &cfg, "install")) {
        coremu_as_free(as);
        return;
    }
    UNIT_CHECK(x86_acpi_install(as, &t, 0xf0018, err, sizeof(err)) == -1 &&
                   strstr(err, "16-byte") != NULL,
               "install: misaligned RSDP copy refused", "%s", err);
    UNIT_CHECK(x86_acpi_install(as, &t, 0x90000, err, sizeof(err)) == -1,
               "install: RSDP copy outside the BIOS area refused", "accepted");
    int rc = x86_acpi_install(as, &t, 0xf5a40, err, sizeof(err));
    UNIT_CHECK(rc == 0, "install: tables and RSDP copied", "%s", err);
    uint8_t bios[0x20000];
    coremu_as_copy_from(as, 0xe0000, bios, sizeof(bios));
    uint64_t xsdt_addr = 0;
    for (unsigned off = 0; off < sizeof(bios); off += 16) {
        if (memcmp(bios + off, "RSD PTR ", 8) == 0 && x86_acpi_sum(bios + off, 20) == 0 &&
            x86_acpi_sum(bios + off, 36) == 0) {
            xsdt_addr = le(bios + off + 24, 8);
            break;
        }
    }
    uint8_t xsdt[256] = {0};
    coremu_as_copy_from(as, xsdt_addr, xsdt, sizeof(xsdt));
    uint32_t xlen = (uint32_t)le(xsdt + 4, 4);
    UNIT_CHECK(xsdt_addr >= t.base && xsdt_addr < t.base + t.size && memcmp(xsdt, "XSDT", 4) == 0 &&
                   xlen <= sizeof(xsdt) && x86_acpi_sum(xsdt, xlen) == 0,
               "install: the BIOS-area RSDP leads to the XSDT in guest RAM", "xsdt at 0x%llx",
               (unsigned long long)xsdt_addr);
    struct x86_acpi_tables far = t;
    far.base = 0x10000000;
    UNIT_CHECK(x86_acpi_install(as, &far, 0, err, sizeof(err)) == -1,
               "install: tables outside RAM refused", "accepted");
    x86_acpi_tables_free(&t);
    coremu_as_free(as);
}

int main(void)
{
    test_install();
    test_fadt();
    static const unsigned counts[] = {1, 4, 64, 255};
    for (unsigned i = 0; i < 4; i++) {
        test_madt(counts[i], false);
    }
    test_madt(255, true);
    test_madt(300, false);
    test_dsdt(1);
    test_dsdt(255);
    return unit_done();
}
