/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The uids of unprivileged VMMs: allocation, and their use on the host. */
#include "uid.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint32_t sp_uid_slot(const char *name)
{
	/* Mixed: FNV-1a alone gives e0 and e181 the same low bits.  The
	 * slot is the top 16 bits. */
	uint64_t h = sp_hash64_mix(sp_hash64(name, 0x756964)); /* "uid" */

	return (uint32_t)(h >> 48);
}

struct sp_uid_name {
	const char *name;
	size_t index;
};

static int sp_uid_name_cmp(const void *a, const void *b)
{
	const struct sp_uid_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

void sp_uid_assign(const char *const names[], size_t n, uint32_t base, uint32_t uids[])
{
	uint8_t used[SP_UID_SLOTS / 8] = {0};
	struct sp_uid_name *order;

	if (n > SP_UID_SLOTS)
		abort(); /* more instances than slots: no caller comes near */
	if (!base) {
		for (size_t i = 0; i < n; i++)
			uids[i] = 0;
		return;
	}
	/* In name order, so that the order of the file does not matter. */
	order = sp_xmalloc(n ? n * sizeof(*order) : 1);
	for (size_t i = 0; i < n; i++)
		order[i] = (struct sp_uid_name){names[i], i};
	qsort(order, n, sizeof(*order), sp_uid_name_cmp);
	for (size_t k = 0; k < n; k++) {
		uint32_t s = sp_uid_slot(order[k].name);
		while (used[s / 8] & (1u << (s % 8)))
			s = (s + 1) % SP_UID_SLOTS;
		used[s / 8] |= (uint8_t)(1u << (s % 8));
		uids[order[k].index] = base + s;
	}
	free(order);
}

/* What /proc/PID/status says of one process. */
struct sp_proc {
	char name[32];
	bool dead;		      /* a zombie, all of whose threads have ended */
	unsigned long uid[4], gid[4]; /* real, effective, saved, file system */
};

/*
 * The name, as the message shows it: the process chose it (a hostile VMM
 * may call itself anything), so only printable ASCII of it is kept.
 */
static void sp_proc_name(const char *line, char *out, size_t len)
{
	size_t i = 0;

	for (; line[i] && line[i] != '\n' && i + 1 < len; i++)
		out[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	out[i] = '\0';
}

static bool sp_proc_ids(const char *text, const char *key, unsigned long ids[4])
{
	const char *line = strstr(text, key);

	return line && sscanf(line + strlen(key), "%lu %lu %lu %lu", &ids[0], &ids[1], &ids[2],
			      &ids[3]) == 4;
}

/* The threads of a process, counted up to 2 (the status file's count
 * comes after the list of groups, which may be long). */
static int sp_proc_threads(const char *pid)
{
	char path[64];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : 2; /* gone; or unknown: counted as alive */
	while (n < 2 && (e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Reads /proc/PID/status: one read of a bounded buffer (the file is made
 * whole by the kernel at the first read, and never blocks), of which the
 * first lines, up to the ids, are all we need.  Returns 1, 0 if the process is gone, or
 * -1 with errno.
 */
static int sp_proc_read(const char *pid, struct sp_proc *proc)
{
	char path[64], text[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return errno == ESRCH ? 0 : -1;
	text[n] = '\0';
	if (strncmp(text, "Name:\t", 6) != 0 || !sp_proc_ids(text, "\nUid:", proc->uid) ||
	    !sp_proc_ids(text, "\nGid:", proc->gid)) {
		errno = EPROTO;
		return -1;
	}
	sp_proc_name(text + 6, proc->name, sizeof(proc->name));
	/* Z: a zombie, X: dead; neither can act any more, unless it is only
	 * the first thread that ended, which leaves the others running (and
	 * the process listed as a zombie). */
	const char *state = strstr(text, "\nState:\t");
	proc->dead = state && (state[8] == 'Z' || state[8] == 'X') && sp_proc_threads(pid) <= 1;
	return 1;
}

/* "uid" or "gid" if one of the process's ids is `id`, else NULL. */
static const char *sp_proc_holds(const struct sp_proc *proc, uint32_t id)
{
	for (int i = 0; i < 4; i++)
		if (proc->uid[i] == id)
			return "uid";
	for (int i = 0; i < 4; i++)
		if (proc->gid[i] == id)
			return "gid";
	return NULL;
}

/*
 * Every id counts, not only the real and effective ones: a process may
 * switch back to its saved uid, and its file-system uid opens files.  The
 * gid too, which a VMM runs as and its files are owned by.
 */
int sp_uid_check_free(uint32_t uid, const char *instance, struct sp_err *err)
{
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (!uid)
		return 0; /* the caller's own credentials: nothing to check */
	d = opendir("/proc");
	if (!d) {
		sp_err_set(err, "cannot list /proc: %s; is /proc mounted?", strerror(errno));
		return -1;
	}
	/* One entry per process: as bounded as the host's pid space. */
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		struct sp_proc proc;
		const char *held;
		int r;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		r = sp_proc_read(e->d_name, &proc);
		if (r < 0) {
			sp_err_set(err, "cannot read /proc/%s/status: %s", e->d_name,
				   strerror(errno));
			rc = -1;
		} else if (r > 0 && !proc.dead && (held = sp_proc_holds(&proc, uid))) {
			sp_err_set(
				err,
				"%s %lu of instance %s is in use by process %s (%s); stop it first",
				held, (unsigned long)uid, instance, e->d_name, proc.name);
			rc = -1;
		}
	}
	if (rc == 0 && errno) {
		sp_err_set(err, "cannot list /proc: %s", strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

/* In the child: true if it holds no effective capability. */
static bool sp_no_capabilities(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, c) < 0)
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (c[i].effective)
			return false;
	return true;
}

/*
 * The child of sp_uid_kill_all.  Why this is safe: it becomes exactly
 * `uid`, with gid `uid`, no supplementary group and (checked) no
 * capability, so kill(-1) reaches only the processes that a process of
 * that uid could signal anyway, those whose real or saved uid is `uid`
 * (never init, nor the child itself).  Before that it holds nothing of
 * the caller's a process of the uid could take: no descriptor, every
 * signal but SIGKILL and SIGSTOP blocked (no handler of the caller's
 * runs), and not dumpable (no ptrace, no /proc/PID/mem).  One kill(-1)
 * suffices: the kernel signals under the lock that fork takes to add a
 * process, so a process forked meanwhile either is signalled too or is
 * never made, its parent dying first.
 */
static void sp_uid_killer(uint32_t uid)
{
	uid_t r, e, s;
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	close_range(0, ~0U, 0);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0 ||
	    getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid || !sp_no_capabilities())
		_exit(1);
	if (kill(-1, SIGKILL) < 0 && errno != ESRCH) /* ESRCH: there was none */
		_exit(1);
	_exit(0);
}

/* Whether one of the process's uids (real, effective, saved, fs) is `uid`. */
static bool sp_proc_has_uid(const struct sp_proc *proc, uint32_t uid)
{
	for (int i = 0; i < 4; i++)
		if (proc->uid[i] == uid)
			return true;
	return false;
}

/*
 * One pass over /proc: SIGKILL to every live process holding `uid`.  Why
 * this is safe as root: the pidfd is opened before the process's ids are
 * read, so if the pid was reused by another process in between, the
 * signal goes to the pidfd's process (gone: ESRCH), never to the newcomer;
 * and a newcomer is only signalled if it holds the uid itself.  Returns
 * how many live holders it found, or -1 if /proc cannot be listed.
 */
static int sp_uid_sweep_once(uint32_t uid)
{
	struct dirent *e;
	DIR *d = opendir("/proc");
	int found = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		struct sp_proc proc;
		char *end;
		long pid;
		int fd;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1)
			continue;
		fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
		if (fd < 0)
			continue; /* gone already */
		if (sp_proc_read(e->d_name, &proc) > 0 && !proc.dead &&
		    sp_proc_has_uid(&proc, uid)) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			found++;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/*
 * When the killer lost (a process of the uid stopped it before it
 * struck), root ends the uid's processes one by one.  A process forked
 * during a pass is found by the next; a process stopped with SIGSTOP still
 * dies of SIGKILL.  Bounded: about a second of passes, then the uid is
 * left in use (and sp_uid_check_free refuses it).
 */
static int sp_uid_sweep(uint32_t uid)
{
	const struct timespec pause = {0, 5 * 1000 * 1000};

	for (int pass = 0; pass < 200; pass++) {
		int found = sp_uid_sweep_once(uid);
		if (found <= 0)
			return found;
		nanosleep(&pause, NULL);
	}
	return -1;
}

int sp_uid_kill_all(uint32_t uid)
{
	uid_t r, e, s;
	pid_t pid;
	int st;

	/* Its own uid would end the caller, and uid 0 everything; -1 is
	 * "unchanged" to setresuid. */
	if (uid == 0 || uid == (uint32_t)-1 || getresuid(&r, &e, &s) < 0 || uid == r || uid == e ||
	    uid == s)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		sp_uid_killer(uid);
	/* The child has the uid's processes as peers: one of them may stop
	 * it (SIGSTOP) before it strikes; then it ends here and the uid stays
	 * in use, instead of the caller waiting forever. */
	for (;;) {
		if (waitpid(pid, &st, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!WIFSTOPPED(st))
			break;
		kill(pid, SIGKILL);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	/* The killer could not take the uid, or was stopped by one of its
	 * processes: root sweeps them (never for the caller's own uid or
	 * uid 0, refused above). */
	return sp_uid_sweep(uid);
}
