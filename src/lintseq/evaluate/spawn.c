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
 * lintseq_serve is the fork server's whole loop (forkserver.py calls it once): it reads the
 * host's requests and watches the kill pipes in C, so that after each fork the server writes to
 * a few pages of its own, not to the Python objects a loop in Python touches. Every such page
 * is shared copy-on-write with the program's process just forked, so each write cost a fault:
 * about 290 a sandbox with the loop in Python, a third of all.
 *
 * Nothing here runs model code or reads anything a program wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

/* What the program's process gets back from lintseq_serve (which returns 0 in it). */
struct request {
    int uid, init_uid, max_procs, tmp_mb; /* the host's request: "UID INIT_UID MAX_PROCS TMP_MB" */
    int job, report, control, go;         /* its descriptors: job in, report and limits out, pid 1's "go" */
};

#define MAX_FDS 8     /* job, reply, kill, cgroup.procs files */
#define MAX_LIVE 4096 /* sandboxes started and not yet ended */

static struct pollfd watched[1 + MAX_LIVE]; /* [0]: the host's socket; then each live kill pipe */
static int pidfds[1 + MAX_LIVE];           /* pid 1 of the sandbox whose kill pipe is watched[i] */

static void close_all(const int *fds, int n) {
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* One request: 1 (rq, fds, *nfds filled), 0 (the host is gone: stop), -1 (a bad one, dropped). */
static int receive(int sock, struct request *rq, int *fds, int *nfds) {
    char text[256];
    union {
        char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {text, sizeof text - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? -1 : 0;
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && *nfds < MAX_FDS; i++)
                fds[(*nfds)++] = ((int *)CMSG_DATA(c))[i];
    if (n == 0 && *nfds == 0)
        return 0;
    text[n] = 0;
    if (*nfds < 3 || msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC) ||
        sscanf(text, "%d %d %d %d", &rq->uid, &rq->init_uid, &rq->max_procs, &rq->tmp_mb) != 4) {
        close_all(fds, *nfds);
        return -1;
    }
    return 1;
}

/* The program's process, in C before it goes back to Python (each Python step here cost
 * copy-on-write faults): its own four descriptors only, the sample's uid and no groups, no
 * capabilities, no_new_privs and the seccomp filter, non-dumpable; then it waits for pid 1's "go"
 * (pid 1 has made the mounts and dropped its own privileges) and starts in /tmp. Any failure
 * ends it (pid 1 then reports that the program's process exited). */
static void program_setup(const struct request *o, const unsigned char *filter, int filter_len) {
    int keep[4] = {o->job, o->report, o->control, o->go};
    for (int a = 1; a < 4; a++)
        for (int b = a; b > 0 && keep[b] < keep[b - 1]; b--) {
            int t = keep[b];
            keep[b] = keep[b - 1];
            keep[b - 1] = t;
        }
    int from = 0; /* the server's own descriptors (its socket, other sandboxes' pipes) go first */
    for (int i = 0; i < 4; i++) {
        if (keep[i] > from)
            syscall(SYS_close_range, from, keep[i] - 1, 0);
        from = keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
    if (o->uid && (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, o->uid, o->uid, o->uid) != 0 ||
                   syscall(SYS_setresuid, o->uid, o->uid, o->uid) != 0))
        _exit(0);
    struct { unsigned int version; int pid; } head = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
    unsigned int data[6] = {0};                                          /* every set empty */
    struct { unsigned short len; const void *filter; } prog = {(unsigned short)(filter_len / 8), filter};
    char go = 0;
    if (syscall(SYS_capset, &head, data) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        filter_len <= 0 || filter_len % 8 || prctl(PR_SET_SECCOMP, 2 /* SECCOMP_MODE_FILTER */, &prog, 0, 0) != 0 ||
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        _exit(0);
    ssize_t n;
    do
        n = read(o->go, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != '1') /* pid 1 failed its set-up (and is gone, and with it this sandbox) */
        _exit(0);
    close(o->go);
    if (chdir("/tmp") != 0)
        _exit(0);
}

/* The fork server's loop (see the top of this file). Returns 0 in each program's process, with
 * `out` filled (the caller runs PyOS_AfterFork_Child, then the program's set-up), and -1 in the
 * server when the host closed the socket. `before`/`after` are PyOS_BeforeFork and
 * PyOS_AfterFork_Parent, run around each fork as os.fork runs them. */
int lintseq_serve(int sock, unsigned long flags, const char *path, const char *filter_hex, const unsigned char *filter,
                  int filter_len, char *const *keep_paths, int nkeep_paths, void (*before)(void), void (*after)(void),
                  struct request *out) {
    int live = 0;
    watched[0] = (struct pollfd){sock, POLLIN, 0};
    for (;;) {
        if (poll(watched, 1 + live, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        for (int i = 1; i <= live; i++)
            if (watched[i].revents) { /* the host closed it: done, hung, or gone */
                syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL, NULL, 0);
                close(pidfds[i]);
                close(watched[i].fd);
                watched[i] = watched[live];
                pidfds[i] = pidfds[live];
                live--;
                i--;
            }
        if (!watched[0].revents)
            continue;
        struct request rq;
        int fds[MAX_FDS], nfds, got = receive(sock, &rq, fds, &nfds);
        if (got == 0)
            return -1;
        if (got < 0)
            continue;
        int r[2] = {-1, -1}, c[2] = {-1, -1}, g[2] = {-1, -1}, pid = -1, pidfd = -1;
        if (live < MAX_LIVE && pipe2(r, O_CLOEXEC) == 0 && pipe2(c, O_CLOEXEC) == 0 && pipe2(g, O_CLOEXEC) == 0) {
            int keep[4] = {fds[1], r[0], c[0], g[1]}; /* pid 1's: reply, report, limits, "go" */
            for (int a = 1; a < 4; a++) /* sorted, as lintseq_spawn wants them */
                for (int b = a; b > 0 && keep[b] < keep[b - 1]; b--) {
                    int t = keep[b];
                    keep[b] = keep[b - 1];
                    keep[b - 1] = t;
                }
            char num[7][16];
            int vals[7] = {fds[1], r[0], c[0], g[1], rq.init_uid, rq.tmp_mb, rq.max_procs};
            char *argv[9 + 64 + 1];
            argv[0] = (char *)path;
            for (int k = 0; k < 7; k++) {
                snprintf(num[k], sizeof num[k], "%d", vals[k]);
                argv[1 + k] = num[k];
            }
            argv[8] = (char *)filter_hex;
            int k = 0;
            for (; k < nkeep_paths && k < 64; k++)
                argv[9 + k] = keep_paths[k];
            argv[9 + k] = NULL;
            before();
            pid = lintseq_spawn(flags, fds + 3, nfds - 3, keep, 4, path, argv, &pidfd);
            if (pid == 0) {
                prctl(PR_SET_NAME, "lintseq-program", 0, 0, 0); /* what ps and perf show */
                *out = (struct request){rq.uid, rq.init_uid, rq.max_procs, rq.tmp_mb, fds[0], r[1], c[1], g[0]};
                program_setup(out, filter, filter_len);
                return 0;
            }
            after();
        }
        for (int p = 0; p < 2; p++) {
            if (r[p] >= 0)
                close(r[p]);
            if (c[p] >= 0)
                close(c[p]);
            if (g[p] >= 0)
                close(g[p]);
        }
        close(fds[0]);
        close(fds[1]);
        close_all(fds + 3, nfds - 3);
        if (pid > 0) {
            live++;
            watched[live] = (struct pollfd){fds[2], POLLIN, 0};
            pidfds[live] = pidfd;
        } else { /* the host sees the reply pipe close and reports that sample's error */
            close(fds[2]);
        }
    }
}
