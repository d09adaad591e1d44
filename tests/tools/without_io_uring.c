/*
 * without_io_uring [--eperm] COMMAND [ARG...]: runs COMMAND where io_uring
 * does not exist, as on a kernel built without it or in a container whose
 * seccomp policy hides it.
 *
 * A seccomp filter makes io_uring_setup, io_uring_enter and
 * io_uring_register fail with ENOSYS (what a kernel without io_uring
 * answers), or with EPERM given --eperm (what a policy that refuses it
 * answers). Every other system call is allowed. The filter is inherited
 * across execve and by every child, and cannot be removed.
 *
 * A test tool only: it lives in tests/tools/ so that it never becomes part
 * of the sockserv binary.
 *
 * Exit status: COMMAND's own, or 2 for a usage error, 1 when the filter
 * cannot be installed, 127 when COMMAND cannot be run.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The architecture this tool is built for, which is the one the filter
 * lets through: a system call made through another ABI (32-bit x86 on an
 * x86-64 kernel, say) has other numbers, so checking only the numbers would
 * miss it. */
#if defined(__x86_64__) && defined(__ILP32__)
#error "x32 is not supported"
#elif defined(__x86_64__)
#define FILTER_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define FILTER_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define FILTER_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv) && __riscv_xlen == 64
#define FILTER_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define FILTER_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define FILTER_ARCH AUDIT_ARCH_S390X
#else
#error "add this architecture's AUDIT_ARCH_ value"
#endif

#ifndef __NR_io_uring_setup
/* The same numbers on every architecture since Linux 5.1. */
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

/* x32 system calls reach the x86-64 table with this bit set. */
#define X32_SYSCALL_BIT 0x40000000u

#define LOAD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RETURN(value) BPF_STMT(BPF_RET | BPF_K, (value))

static int install_filter(unsigned errno_value)
{
    struct sock_filter code[] = {
        /* [0] Another ABI: end the process rather than guess its numbers. */
        LOAD_ARCH,
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FILTER_ARCH, 1, 0),
        RETURN(SECCOMP_RET_KILL_PROCESS),
        /* [3] */
        LOAD_NR,
#ifdef __x86_64__
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        RETURN(SECCOMP_RET_KILL_PROCESS),
#endif
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 1, 0),
        RETURN(SECCOMP_RET_ALLOW),
        RETURN(SECCOMP_RET_ERRNO | (errno_value & SECCOMP_RET_DATA)),
    };
    struct sock_fprog prog = {
        .len = (unsigned short)(sizeof(code) / sizeof(code[0])),
        .filter = code,
    };
    /* Lets an unprivileged process install a filter; it also means the
     * command can never gain privileges through a set-user-ID file. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

int main(int argc, char **argv)
{
    unsigned errno_value = ENOSYS;
    int first = 1;
    if (first < argc && strcmp(argv[first], "--eperm") == 0) {
        errno_value = EPERM;
        first++;
    }
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc || argv[first][0] == '-') {
        fprintf(stderr, "usage: without_io_uring [--eperm] COMMAND [ARG...]\n");
        return 2;
    }
    if (install_filter(errno_value) != 0) {
        fprintf(stderr, "without_io_uring: cannot install the seccomp filter: %s\n",
                strerror(errno));
        return 1;
    }
    execvp(argv[first], argv + first);
    fprintf(stderr, "without_io_uring: cannot run %s: %s\n", argv[first], strerror(errno));
    return 127;
}
