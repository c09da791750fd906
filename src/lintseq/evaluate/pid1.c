/* The sandbox's pid 1 when a C compiler was found (native.py builds it; forkserver.py and
 * spawn.c start it): a small init instead of a copy of the preloaded interpreter.
 *
 * spawn.c makes it pid 1 of fresh PID, mount, IPC, network, UTS and cgroup namespaces, in the
 * sample's cgroups, after forking the program's process (pid 2, its child, still waiting); it
 * then exec's this file with only its four descriptors open and an empty environment. Here:
 * non-dumpable first (while still root), the sandbox's own mounts (/proc, /proc/sys read-only,
 * /dev/pts, sized tmpfs on /tmp and /dev/shm, read-only paths under /tmp bound back), then its
 * own unprivileged uid (never the program's), no capabilities, no_new_privs, the seccomp filter;
 * only then the "go" byte that lets the program's process go on. It reads the job's limits
 * from the control pipe (written by trusted code before any of the program runs), supervises
 * the program's report (capped), its time limits and the process cap as runner._supervise does,
 * reaps every zombie of the namespace, writes one reply to the host and exits, which ends every
 * process left in the namespace. It installs no signal handler: as pid 1, no signal sent from
 * inside its namespace reaches it.
 *
 *   pid1 REPLY_FD REPORT_FD CONTROL_FD GO_FD UID TMP_MB MAX_PROCS FILTER_HEX [KEEP...]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The kernel's structures this file needs, spelled out here rather than taken from <linux/...>:
 * it builds against musl too (native.py prefers musl-gcc, whose static start-up costs a third of
 * glibc's: glibc's reads the CPU's cache layout with cpuid, which traps in a virtual machine). */
struct cap_header { uint32_t version; int pid; };   /* __user_cap_header_struct */
struct cap_data { uint32_t effective, permitted, inheritable; };  /* __user_cap_data_struct */
struct sock_filter_op { uint16_t code; uint8_t jt, jf; uint32_t k; };  /* struct sock_filter */
struct filter_prog { unsigned short len; struct sock_filter_op *filter; };  /* struct sock_fprog */
#define CAP_VERSION_3 0x20080522
#define SECCOMP_FILTER_MODE 2
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#define MAX_STEPS 100000
#define MAX_NONCE 256
#define DRAIN_MAX ((1 << 20) + 1)

static void die(void) { _exit(1); }

static void check(int ok) {
    if (ok != 0) die();
}

static long num(const char *s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s) die();
    return v;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mkdirs(char *path, int last) {
    /* mkdir -p (0755); the last component too when `last` */
    for (char *p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST) die();
            *p = '/';
        }
    }
    if (last && mkdir(path, 0755) != 0 && errno != EEXIST) die();
}

static void mounts(long tmp_mb, int nkeep, char **keep) {
    char size[64], fdpath[64];
    snprintf(size, sizeof size, "size=%ld,mode=1777", tmp_mb << 20);
    check(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)); /* nothing mounted here propagates anywhere */
    int held[64];
    if (nkeep > 64) die();
    for (int i = 0; i < nkeep; i++) /* held before the fresh tmpfs hides them (a venv under /tmp) */
        held[i] = open(keep[i], O_PATH | O_CLOEXEC);
    check(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    check(mount("/proc/sys", "/proc/sys", NULL, MS_BIND | MS_REC, NULL));
    check(mount(NULL, "/proc/sys", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
    check(mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"));
    check(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size));
    check(mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, size));
    for (int i = 0; i < nkeep; i++) {
        if (held[i] < 0)
            continue;
        struct stat st;
        check(fstat(held[i], &st));
        char *path = keep[i];
        if (S_ISDIR(st.st_mode)) {
            mkdirs(path, 1);
        } else {
            mkdirs(path, 0);
            int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            if (fd < 0) die();
            close(fd);
        }
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", held[i]);
        check(mount(fdpath, path, NULL, MS_BIND | MS_REC, NULL));
        check(mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
        close(held[i]);
    }
    check(mkdir("/tmp/home", 0777));
    check(chmod("/tmp/home", 0777));
}

static void drop(long uid, const char *filter_hex) {
    if (uid) { /* as root on the host: a uid of its own, no groups (never the program's uid) */
        check(setgroups(0, NULL));
        check(setresgid(uid, uid, uid));
        check(setresuid(uid, uid, uid));
    }
    check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)); /* again: a uid change resets it */
    check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
    struct cap_header h = {CAP_VERSION_3, 0};
    struct cap_data d[2];
    memset(d, 0, sizeof d);
    check(syscall(SYS_capset, &h, d));
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    size_t n = strlen(filter_hex);
    if (n == 0 || n % 16) die();
    static unsigned char prog[1 << 16];
    if (n / 2 > sizeof prog) die();
    for (size_t i = 0; i < n / 2; i++) {
        unsigned int byte;
        if (sscanf(filter_hex + 2 * i, "%2x", &byte) != 1) die();
        prog[i] = byte;
    }
    struct filter_prog fprog = {(unsigned short)(n / 16), (struct sock_filter_op *)prog};
    check(prctl(PR_SET_SECCOMP, SECCOMP_FILTER_MODE, &fprog, 0, 0));
}

/* the report as read so far, after a leading '\n' (so that a line at the very start counts as one) */
static char *buf;
static size_t len, room; /* len counts the leading '\n' */

static ssize_t take(int fd, size_t most) {
    if (room - len < most) {
        size_t want = room ? room : 1 << 16;
        while (want - len < most)
            want *= 2;
        char *grown = realloc(buf, want);
        if (!grown) die();
        buf = grown;
        room = want;
    }
    ssize_t n;
    do
        n = read(fd, buf + len, most);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        len += n;
    return n;
}

static size_t count(const char *from, const char *to, const char *pat) {
    size_t c = 0, m = strlen(pat);
    for (const char *p = from; p + m <= to; p++) {
        p = memmem(p, to - p, pat, m);
        if (!p)
            break;
        c++;
    }
    return c;
}

static int processes(void) {
    /* processes in this (private) PID namespace: /proc shows only those */
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (!*s)
            continue;
        while (*s >= '0' && *s <= '9')
            s++;
        n += !*s;
    }
    closedir(d);
    return n;
}

static pid_t program;
static int program_status, program_done;

static void reap(void) {
    /* every zombie of the namespace (orphans come to pid 1); the program's process's status kept */
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == program) {
            program_status = st;
            program_done = 1;
        }
    }
}

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die();
        p += w;
        n -= w;
    }
}

int main(int argc, char **argv) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* first, while still root: /proc/1/{mem,fd,environ} closed */
    prctl(PR_SET_NAME, "lintseq-pid1", 0, 0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGCHLD, SIG_DFL); /* the fork server ignores it: children would be reaped unseen */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 9)
        die();
    int reply = num(argv[1]), r = num(argv[2]), cr = num(argv[3]), go = num(argv[4]);
    long uid = num(argv[5]), tmp_mb = num(argv[6]), max_procs = num(argv[7]);
    program = 2; /* spawn.c forked it first: pid 2 of this namespace */
    mounts(tmp_mb, argc - 9, argv + 9);
    drop(uid, argv[8]);
    if (chdir("/") != 0)
        die();
    write_all(go, "1", 1); /* the program's process may go on now */
    close(go);

    /* the job's limits: "TIMEOUT CAP nNONCEHEX NSTEPS STEP..." (trusted: written before the program runs) */
    static char control[1 << 21];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof control - 1 && (n = read(cr, control + got, sizeof control - 1 - got)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die();
        got += n;
    }
    control[got] = 0;
    close(cr);
    if (!got)
        return 0; /* the sandbox was closed unused */
    char *p = control, *end;
    double timeout = strtod(p, &end);
    long cap = strtol(end, &p, 10);
    while (*p == ' ')
        p++;
    if (*p++ != 'n')
        die();
    char nonce[MAX_NONCE + 1];
    size_t nl = 0;
    while (*p && *p != ' ') {
        unsigned int byte;
        if (nl >= MAX_NONCE || sscanf(p, "%2x", &byte) != 1)
            die();
        nonce[nl++] = byte;
        p += 2;
    }
    nonce[nl] = 0;
    long nsteps = strtol(p, &end, 10);
    if (end == p || nsteps < 0 || nsteps > MAX_STEPS || cap < 0 || !(timeout >= 0))
        die();
    p = end;
    double *steps = calloc(nsteps + 1, sizeof(double));
    for (long i = 0; i < nsteps; i++) {
        steps[i] = strtod(p, &end);
        if (end == p)
            die();
        p = end;
    }
    char final[MAX_NONCE + 4];
    size_t fl = snprintf(final, sizeof final, "R %s ", nonce);

    /* the supervision, as runner._supervise */
    int timed_out = 0, reading = 1, exited = 0;
    char killed[200] = "";
    long started = 0, done = 0, late = -1;
    double step_deadline = -1;
    int pidfd = syscall(SYS_pidfd_open, program, 0);
    double deadline = now() + timeout;
    buf = NULL;
    len = room = 0;
    take(-1, 1);
    buf[0] = '\n';
    len = 1;
    for (;;) {
        reap();
        double t = now(), left = deadline - t;
        if (step_deadline >= 0 && step_deadline <= t) {
            timed_out = 1;
            late = started - 1;
            break;
        }
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (step_deadline >= 0 && step_deadline - t < left)
            left = step_deadline - t;
        if (left > 0.01)
            left = 0.01;
        struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {reading ? r : -1, POLLIN, 0}};
        struct timespec ts = {0, (long)(left * 1e9)};
        if (ppoll(fds, 2, &ts, NULL) < 0 && errno != EINTR)
            die();
        if (fds[1].revents) {
            size_t before = len;
            ssize_t c = take(r, 1 << 20);
            reading = c > 0;
            if ((long)(len - 1) > cap) {
                snprintf(killed, sizeof killed, "killed: the program wrote more than %ld bytes to the report channel", cap);
                break;
            }
            if (nsteps) { /* count whole-line starts only (JSON and escaped lines hold no raw newline) */
                const char *from = before >= 2 ? buf + before - 2 : buf;
                long begun = started + count(from, buf + len, "\nT ");
                done += count(from, buf + len, "\nD ");
                if (begun > started) /* a new input started in this chunk: its clock starts now */
                    step_deadline = now() + steps[(begun < nsteps ? begun : nsteps) - 1];
                started = begun;
                if (done >= started)
                    step_deadline = -1;
            }
            /* the runner's final line is the last it writes: the verdict is in, no need to wait */
            size_t seen = before - 1 > 200 ? before - 200 : 1; /* the last 200 bytes before this chunk, and it */
            if (len > seen && buf[len - 1] == '\n') {
                char *last = NULL;
                for (char *q = buf + seen; (q = memmem(q, buf + len - q, final, fl)); q++)
                    last = q;
                if (last && (last == buf + seen || last[-1] == '\n') && memchr(last, '\n', buf + len - last) == buf + len - 1)
                    break;
            }
        }
        if (fds[0].revents || pidfd < 0) { /* no pidfd: it was gone before pid 1 looked */
            exited = 1;
            break;
        }
        if (max_procs && processes() >= max_procs) {
            snprintf(killed, sizeof killed, "killed: the program reached the sandbox's process cap (%ld processes)", max_procs);
            break;
        }
    }
    int status = 0;
    if (exited || timed_out || killed[0]) {
        if (exited) {
            while (!program_done && waitpid(program, &program_status, 0) < 0 && errno == EINTR)
                ;
            status = program_status;
        } else {
            status = SIGKILL; /* it dies with this process, when the reply is out */
        }
        /* what is left in the pipe (bounded: a live writer could keep it full) */
        fcntl(r, F_SETFL, O_NONBLOCK);
        size_t drained = 0;
        while (!killed[0] && (long)(len - 1) <= cap && drained < DRAIN_MAX) {
            size_t before = len;
            if (take(r, 1 << 20) <= 0)
                break;
            drained += len - before;
        }
    }
    size_t size = len - 1;
    if ((long)size > cap) {
        if (!killed[0])
            snprintf(killed, sizeof killed, "killed: the program wrote more than %ld bytes to the report channel", cap);
        size = 0;
    }
    char header[512];
    int hl = snprintf(header, sizeof header, "{\"status\": %d, \"timed_out\": %s, \"killed\": \"%s\", \"size\": %zu", status,
                      timed_out ? "true" : "false", killed, size);
    if (late >= 0) {
        long i = late < nsteps - 1 ? late : nsteps - 1;
        hl += snprintf(header + hl, sizeof header - hl, ", \"input\": %ld, \"input_limit\": %.17g", late, steps[i]);
    }
    hl += snprintf(header + hl, sizeof header - hl, "}\n");
    write_all(reply, header, hl);
    write_all(reply, buf + 1, size);
    return 0;
}
