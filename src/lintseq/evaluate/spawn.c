/* Loaded by the fork server (forkserver.py, through ctypes) when a C compiler was found
 * (native.py builds it): one call makes a sandbox whose pid 1 is pid1.c, not a copy of the
 * preloaded interpreter, and whose program's process is a copy of the server as before.
 *
 * lintseq_spawn clones a process into the new namespaces that shares the server's memory and
 * stops the server until it exec's (CLONE_VM | CLONE_VFORK, as posix_spawn does): no copy of the
 * server's page tables for pid 1, no copy-on-write faults and no teardown of a copy. That process
 * joins the sample's cgroups, forks the program's process (pid 2: a copy of the server, as a fork
 * of the server would be), closes every descriptor but pid 1's own and exec's pid1.c with an
 * empty environment. The program's process comes back out of this call returning 0 (like fork),
 * its signal mask as it was; the server gets pid 1's pid and a pidfd for it.
 *
 * Nothing here runs model code or reads anything a program wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

struct job {
    const int *cgroups;
    int ncgroups;
    const int *keep; /* sorted: pid 1's descriptors */
    int nkeep;
    const char *path;
    char *const *argv;
};

static char stack[1 << 16] __attribute__((aligned(64)));
static void *back[5];  /* where the program's process comes back to (__builtin_setjmp) */
static sigset_t saved; /* the caller's signal mask */

static int pid1(void *arg) {
    /* runs on `stack`, in the server's memory (which it must not change), until exec */
    struct job *j = arg;
    for (int i = 0; i < j->ncgroups; i++) /* "0": the writing process; everything it starts is born inside */
        if (write(j->cgroups[i], "0", 1) != 1)
            _exit(127);
    long child = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); /* a plain fork: a copy of the server's memory */
    if (child == 0)
        __builtin_longjmp(back, 1);
    if (child < 0)
        _exit(127);
    int from = 0;
    for (int i = 0; i < j->nkeep; i++) {
        if (syscall(SYS_fcntl, j->keep[i], F_SETFD, 0) != 0) /* kept across the exec (this table's flags only) */
            _exit(127);
        if (j->keep[i] > from)
            syscall(SYS_close_range, from, j->keep[i] - 1, 0);
        from = j->keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
    char *env[] = {NULL};
    syscall(SYS_execve, j->path, j->argv, env);
    _exit(127);
}

int lintseq_spawn(unsigned long flags, const int *cgroups, int ncgroups, const int *keep, int nkeep, const char *path,
                  char *const *argv, int *pidfd) {
    static struct job j;
    j = (struct job){cgroups, ncgroups, keep, nkeep, path, argv};
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &saved); /* no handler of the server's may run in pid 1 */
    if (__builtin_setjmp(back)) {
        /* the program's process: its own copy of the server's memory, this call's frame intact */
        sigprocmask(SIG_SETMASK, &saved, NULL);
        return 0;
    }
    int pid = clone(pid1, stack + sizeof stack, flags | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &j, pidfd);
    int err = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    return pid < 0 ? -err : pid;
}
