/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMM uids: distinct for the instances of a file whatever their order, and
 * never taken while a process holds them (with real processes: as root, of
 * a spare uid; otherwise, of our own).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "uid.h"

#define BASE 524288u
#define N 256

static char names[N][8];
static const char *name_ptrs[N + 1];

static bool all_distinct(const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (uids[i] == uids[j])
				return false;
	return true;
}

static bool in_range(const uint32_t *uids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (uids[i] < BASE || uids[i] >= BASE + SP_UID_SLOTS)
			return false;
	return true;
}

static void test_distinct(uint32_t *uids)
{
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "e%d", i);
		name_ptrs[i] = names[i];
	}
	sp_uid_assign(name_ptrs, N, BASE, uids);
	TAP_OK(all_distinct(uids, N), "e0..e255 get 256 distinct uids");
	TAP_OK(in_range(uids, N), "from the base, below base + 65536");
	TAP_OK(uids[0] != uids[181], "e0 and e181 (one uid under the old hash) differ");
	TAP_OK(sp_uid_slot("e0") != sp_uid_slot("e181"), "and so do their preferred slots");
}

/* The same names reversed, and shuffled, give each name the same uid. */
static void test_order(const uint32_t *uids)
{
	const char *rev[N];
	uint32_t got[N];
	bool same = true;

	for (int i = 0; i < N; i++)
		rev[i] = name_ptrs[N - 1 - i];
	sp_uid_assign(rev, N, BASE, got);
	for (int i = 0; i < N; i++)
		same = same && got[i] == uids[N - 1 - i];
	TAP_OK(same, "reversed order: the same name -> uid mapping");

	int perm[N];
	for (int i = 0; i < N; i++)
		perm[i] = i;
	srand(7);
	for (int i = N - 1; i > 0; i--) {
		int j = rand() % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (int i = 0; i < N; i++)
		rev[i] = name_ptrs[perm[i]];
	sp_uid_assign(rev, N, BASE, got);
	same = true;
	for (int i = 0; i < N; i++)
		same = same && got[i] == uids[perm[i]];
	TAP_OK(same, "shuffled order: the same name -> uid mapping");
}

static bool uid_taken(const uint32_t *uids, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (uids[i] == uid)
			return true;
	return false;
}

/* A new instance whose preferred slot is free moves no other. */
static void test_add(const uint32_t *uids)
{
	static char extra[16];
	uint32_t got[N + 1];
	int k = 0;

	do
		snprintf(extra, sizeof(extra), "new%d", k++);
	while (uid_taken(uids, N, BASE + sp_uid_slot(extra)));
	/* First, where it sorts before most of the others. */
	const char *with[N + 1] = {extra};
	memcpy(with + 1, name_ptrs, N * sizeof(*with));
	sp_uid_assign(with, N + 1, BASE, got);
	TAP_OK(memcmp(got + 1, uids, sizeof(*uids) * N) == 0,
	       "adding %s (a free slot) changes no other uid", extra);
	TAP_OK(got[0] == BASE + sp_uid_slot(extra), "and it gets its preferred slot");
}

/* Two names of one preferred slot: the first by strcmp keeps it, the
 * other takes the next, in either order of the file. */
static void test_collision(void)
{
	static char a[16], b[16];
	uint32_t seen[4096], got[2];
	int found = 0;

	for (int i = 0; i < 4096 && !found; i++) {
		snprintf(b, sizeof(b), "c%d", i);
		seen[i] = sp_uid_slot(b);
		for (int j = 0; j < i; j++)
			if (seen[j] == seen[i]) {
				snprintf(a, sizeof(a), "c%d", j);
				found = 1;
				break;
			}
	}
	if (!found) {
		TAP_OK(1, "collision # SKIP no two names of one slot among c0..c4095");
		return;
	}
	if (strcmp(a, b) > 0) {
		char t[16];
		memcpy(t, a, sizeof(t));
		memcpy(a, b, sizeof(t));
		memcpy(b, t, sizeof(t));
	}
	uint32_t s = sp_uid_slot(a);
	const char *ab[] = {a, b}, *ba[] = {b, a};
	sp_uid_assign(ab, 2, BASE, got);
	TAP_OK(got[0] == BASE + s && got[1] == BASE + (s + 1) % SP_UID_SLOTS,
	       "%s and %s share slot %u: %s keeps it, %s takes the next", a, b, s, a, b);
	sp_uid_assign(ba, 2, BASE, got);
	TAP_OK(got[1] == BASE + s && got[0] == BASE + (s + 1) % SP_UID_SLOTS,
	       "the same in the other order");
}

static void test_base_zero(void)
{
	uint32_t got[N];

	memset(got, 0xff, sizeof(got));
	sp_uid_assign(name_ptrs, N, 0, got);
	bool zero = true;
	for (int i = 0; i < N; i++)
		zero = zero && got[i] == 0;
	TAP_OK(zero, "base 0: every uid is 0");
	TAP_OK(sp_uid_slot("e0") < SP_UID_SLOTS, "a slot is below 65536");
}

/* A child of uid `uid` (and gid) that sleeps; with `helper`, it forks a
 * grandchild that leaves it (a VMM's helper outliving it). */
static pid_t spawn_as(uint32_t uid, bool helper)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(1);
		if (helper && fork() == 0)
			setsid();
		execlp("sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void *sleeper(void *arg)
{
	(void)arg;
	sleep(60);
	return NULL;
}

/* A child of uid `uid` whose first thread ends while a second one runs:
 * listed as a zombie, it still holds the uid. */
static pid_t spawn_threaded_as(uint32_t uid)
{
	pid_t pid = fork();
	pthread_t t;

	if (pid == 0) {
		if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0 ||
		    pthread_create(&t, NULL, sleeper, NULL) != 0)
			_exit(1);
		syscall(SYS_exit, 0); /* this thread only */
	}
	return pid;
}

/* Polls until sp_uid_check_free passes, for up to 5 s. */
static bool becomes_free(uint32_t uid)
{
	struct sp_err err = {0};
	struct timespec t = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 500; i++) {
		if (sp_uid_check_free(uid, "x", &err) == 0)
			return true;
		nanosleep(&t, NULL);
	}
	return false;
}

static void test_in_use(void)
{
	struct sp_err err = {0};
	char want[64];

	TAP_OK(sp_uid_check_free(0, "e0", &err) == 0,
	       "uid 0 (the caller's credentials) is not checked");
	TAP_OK(sp_uid_kill_all(0) < 0, "kill_all refuses uid 0");
	TAP_OK(sp_uid_kill_all(UINT32_MAX) < 0, "kill_all refuses uid -1 (\"unchanged\")");
	TAP_OK(sp_uid_kill_all(getuid()) < 0, "kill_all refuses the caller's uid");
	if (getuid() != 0) {
		/* Our own uid is held by this very process. */
		TAP_OK(sp_uid_check_free(getuid(), "e0", &err) < 0 &&
			       strstr(err.msg, "is in use by process"),
		       "our uid is in use: %s", err.msg);
		for (int i = 0; i < 9; i++)
			TAP_OK(1, "a process of a spare uid # SKIP not root");
		return;
	}
	/* A uid that nothing on this host uses, well above any account. */
	const uint32_t spare = 3999990001u;
	TAP_OK(sp_uid_check_free(spare, "e0", &err) == 0, "spare uid %u is free", spare);
	pid_t pid = spawn_as(spare, true);
	struct timespec t = {0, 200 * 1000 * 1000};
	nanosleep(&t, NULL);
	snprintf(want, sizeof(want), "uid %u of instance e0 is in use by process ", spare);
	TAP_OK(sp_uid_check_free(spare, "e0", &err) < 0 && strstr(err.msg, want),
	       "a process of the uid: %s", err.msg);
	TAP_OK(strstr(err.msg, "(sleep)") && strstr(err.msg, "; stop it first"),
	       "the message names the program and the fix");
	TAP_OK(sp_uid_check_free(spare + 1, "e1", &err) == 0, "the next uid is still free");

	TAP_OK(sp_uid_kill_all(spare) == 0, "kill_all of the uid succeeds");
	siginfo_t si = {0};
	/* Dead but not reaped: a zombie holds nothing. */
	int w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	TAP_OK(w == 0 && si.si_code == CLD_KILLED && si.si_status == SIGKILL,
	       "the process was killed (SIGKILL)");
	TAP_OK(becomes_free(spare),
	       "its helper, which had left it, is gone too, and its zombie holds nothing");
	waitpid(pid, NULL, 0);

	pid = spawn_threaded_as(spare);
	nanosleep(&t, NULL);
	snprintf(want, sizeof(want), "is in use by process %ld ", (long)pid);
	err.msg[0] = '\0';
	TAP_OK(sp_uid_check_free(spare, "e0", &err) < 0 && strstr(err.msg, want),
	       "a process whose first thread ended holds the uid: %s", err.msg);
	TAP_OK(sp_uid_kill_all(spare) == 0 && becomes_free(spare),
	       "kill_all ends its other thread too");
	waitpid(pid, NULL, 0);

	/* A hostile process that stops every process of its uid, the
	 * killer too once it has the uid: kill_all never hangs, and wins. */
	pid = fork();
	if (pid == 0) {
		if (setresgid(spare, spare, spare) < 0 || setresuid(spare, spare, spare) < 0)
			_exit(1);
		for (;;)
			kill(-1, SIGSTOP);
	}
	nanosleep(&t, NULL);
	int tries = 0, rc = -1;
	while (rc < 0 && tries++ < 50)
		rc = sp_uid_kill_all(spare);
	TAP_OK(rc == 0 && becomes_free(spare),
	       "kill_all ends a process that stops its peers (%d tries)", tries);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A relay's uid is no VMM's of its base, and 0 stays the caller's. */
static void test_relay(const uint32_t *uids)
{
	bool clash = false;

	for (size_t i = 0; i < N; i++)
		for (size_t j = 0; j < N; j++)
			if (sp_uid_relay(uids[i]) == uids[j])
				clash = true;
	TAP_OK(!clash, "no relay uid is a VMM uid of the same base");
	TAP_OK(sp_uid_relay(uids[0]) - uids[0] == SP_UID_SLOTS, "a relay is its VMM's uid + %u",
	       SP_UID_SLOTS);
	TAP_OK(sp_uid_relay(0) == 0, "no VMM uid, no relay uid");
}

int main(void)
{
	uint32_t uids[N];

	test_distinct(uids);
	test_order(uids);
	test_add(uids);
	test_relay(uids);
	test_collision();
	test_base_zero();
	test_in_use();
	return tap_done();
}
