// QEMU TCG plugin (API version 1, QEMU 7.2) for scripts/bench/e2e-insncount.sh: counts executed
// guest instructions per address in [lo, lo + 64 MiB) and, at exit, prints "address count" for
// every executed address, which the script folds into functions with the binary's symbols.
// Debian's qemu-user ships no qemu-plugin.h: the few API declarations are written out here.
// Build: gcc -shared -fPIC -O2 insnprofile.c -o libinsnprofile.so
// Use:   qemu-aarch64 -d plugin -plugin ./libinsnprofile.so,lo=0x400000 ./prog args 2> profile
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                       uint64_t imm);
extern void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define SPAN (64u << 20) /* bytes of code covered from lo; 4-byte instructions */
static uint64_t lo = 0x400000;
static uint64_t *counts;
static uint64_t outside;

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    const size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        const uint64_t va = qemu_plugin_insn_vaddr(insn);
        uint64_t *slot = va >= lo && va - lo < SPAN ? &counts[(va - lo) / 4] : &outside;
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, slot, 1);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p) {
    (void)id;
    (void)p;
    char line[64];
    for (size_t i = 0; i < SPAN / 4; i++) {
        if (!counts[i]) continue;
        snprintf(line, sizeof line, "insnprofile %llx %llu\n", (unsigned long long)(lo + 4 * i),
                 (unsigned long long)counts[i]);
        qemu_plugin_outs(line);
    }
    snprintf(line, sizeof line, "insnprofile outside %llu\n", (unsigned long long)outside);
    qemu_plugin_outs(line);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc,
                                                               char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++)
        if (!strncmp(argv[i], "lo=", 3)) lo = strtoull(argv[i] + 3, 0, 0);
    counts = calloc(SPAN / 4, sizeof *counts);
    if (!counts) return -1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
