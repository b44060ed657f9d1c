/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrumd [-c FILE] [-n]: the supervisor.  It compiles FILE itself (it
 * never takes plans or paths from clients; without -c, the current
 * generation's), runs in the foreground for a
 * service manager, and handles one event at a time: requests, guest
 * control lines, VMM exits, timers.  It waits only in poll(): never on a
 * client, whose connection waits in a table until its request is readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "net.h"
#include "paths.h"

/* Exit statuses, documented in spectrumd(8). */
enum {
	SD_EXIT_OK = 0,
	SD_EXIT_CONFIG = 1,
	SD_EXIT_USAGE = 2,
	SD_EXIT_SYSTEM = 3,
};

/*
 * After adoption: the network objects of segments on which no instance
 * runs any more, left by a daemon that died (its VMMs may have ended
 * since).  A segment with a running instance, adopted or started by
 * `spectrum run`, has a port on its bridge and is kept.
 */
static void sd_net_cleanup(struct sd *d)
{
	if (!d->host.vmm_uid_base)
		return;
	for (size_t i = 0; i < d->nvms; i++)
		sp_net_release(d->vms[i].plan);
	sp_net_sweep(d->host.run_dir);
}

/* One daemon per run directory. */
static int sd_lock(struct sd *d)
{
	char path[4096];
	int fd;

	if (mkdir(d->host.run_dir, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/spectrumd.lock", d->host.run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "spectrumd: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "spectrumd: another spectrumd runs on %s\n", d->host.run_dir);
		return -1;
	}
	return 0;
}

static long sd_next_deadline(struct sd *d, long now)
{
	long next = now + 1000;

	for (size_t i = 0; i < d->nvms; i++)
		next = sd_vm_deadline(&d->vms[i], next);
	return sd_server_deadline(d, next);
}

static void sd_signal(struct sd *d)
{
	struct signalfd_siginfo si;

	if (read(d->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	/* SIGCHLD: exits are seen through pidfds.  SIGTERM/SIGINT: the daemon
	 * stops; the VMs do not (a restarted daemon adopts them). */
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		d->quit = true;
	else if (si.ssi_signo == SIGHUP)
		d->hup = true; /* after this turn of the loop, not inside it */
	else if (si.ssi_signo == SIGCHLD)
		sd_vm_reap_helpers(d);
}

/* One pollfd per VM descriptor, from fds[n] on, with its VM in owner[];
 * returns the new count. */
static size_t sd_vm_pollfds(struct sd *d, struct pollfd *fds, struct sd_vm **owner, size_t n)
{
	for (size_t i = 0; i < d->nvms; i++) {
		struct sd_vm *vm = &d->vms[i];
		if (vm->pidfd >= 0) {
			owner[n] = vm;
			fds[n++] = (struct pollfd){vm->pidfd, POLLIN, 0};
		}
		if (vm->core.control >= 0) {
			owner[n] = vm;
			fds[n++] = (struct pollfd){vm->core.control, POLLIN, 0};
		}
		if (vm->display_pidfd >= 0) {
			owner[n] = vm;
			fds[n++] = (struct pollfd){vm->display_pidfd, POLLIN, 0};
		}
	}
	return n;
}

/* A VM's descriptor is ready: its guest said something, or its VMM exited. */
static void sd_vm_ready_fd(struct sd *d, struct sd_vm *vm, int fd)
{
	if (fd == vm->core.control && vm->core.control >= 0)
		sd_vm_control(d, vm);
	else if (fd == vm->pidfd && vm->pidfd >= 0)
		sd_vm_pidfd(d, vm);
	else if (fd == vm->display_pidfd && vm->display_pidfd >= 0)
		sd_vm_display_pidfd(d, vm);
}

static void sd_vm_ticks(struct sd *d, long now)
{
	for (size_t i = 0; i < d->nvms; i++)
		sd_vm_tick(d, &d->vms[i], now);
}

/*
 * The poll set is the listening socket, the signals, the connections
 * waiting for their request (fds[2] to fds[2 + np - 1]), then the VMs'
 * descriptors.  The pending connections are served before new ones are
 * accepted, which is what sd_server_pending needs.
 */
static void sd_loop(struct sd *d)
{
	size_t max = 0;
	struct pollfd *fds = NULL;
	struct sd_vm **owner = NULL;

	while (!d->quit) {
		long now = sp_now_ms();
		unsigned epoch = d->epoch;
		size_t np, n;
		/* A switch changes the number of VMs. */
		if (max < 2 + SD_PENDING_MAX + 3 * d->nvms) {
			max = 2 + SD_PENDING_MAX + 3 * d->nvms;
			fds = sp_xrealloc(fds, max, sizeof(*fds));
			owner = sp_xrealloc(owner, max, sizeof(*owner));
		}
		fds[0] = (struct pollfd){d->listen, POLLIN, 0};
		fds[1] = (struct pollfd){d->sigfd, POLLIN, 0};
		np = sd_server_pollfds(d, fds + 2);
		n = sd_vm_pollfds(d, fds, owner, 2 + np);
		long wait = sd_next_deadline(d, now) - now;
		if (poll(fds, n, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			sd_signal(d);
		sd_server_pending(d, fds + 2, sp_now_ms());
		/* A switch served just now replaced the table that owner[]
		 * points into, or a VM started (a restart, inside its old
		 * self's exit event) and its new descriptors may reuse numbers
		 * polled here: the rest is polled again next turn (poll is
		 * level-triggered, so nothing is lost). */
		for (size_t i = 2 + np; i < n && epoch == d->epoch; i++)
			if (fds[i].revents)
				sd_vm_ready_fd(d, owner[i], fds[i].fd);
		if (fds[0].revents)
			sd_server_accept(d, sp_now_ms());
		sd_vm_ticks(d, sp_now_ms());
		if (d->hup) {
			d->hup = false;
			sd_switch_hup(d);
		}
		sd_switch_sweep(d);
	}
	free(fds);
	free(owner);
}

/*
 * SPECTRUM_READY_TIMEOUT: seconds from a start to the guest's "ready".
 * The default covers a boot under TCG with room to spare; a slower host
 * (nested emulation) needs more.
 */
static int sd_ready_timeout(struct sd *d)
{
	const char *v = getenv("SPECTRUM_READY_TIMEOUT");
	unsigned long s;

	d->ready_ms = 180000;
	if (!v)
		return 0;
	if (!sp_uint_parse(v, 1, 86400, &s)) {
		fprintf(stderr,
			"spectrumd: SPECTRUM_READY_TIMEOUT=\"%s\" is not 1 to 86400 seconds; fix or unset it\n",
			v);
		return -1;
	}
	d->ready_ms = (long)s * 1000;
	return 0;
}

static int sd_usage(void)
{
	fputs("usage: spectrumd [-c FILE] [-n]\n", stderr);
	return SD_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct sd d = {.listen = -1, .sigfd = -1};
	const char *file = NULL;
	bool check_only = false;
	sigset_t mask;
	int c, rc;

	while ((c = getopt(argc, argv, "c:nh")) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'n':
			check_only = true;
			break;
		default:
			return sd_usage();
		}
	}
	if ((!file && check_only) || optind != argc)
		return sd_usage();
	if (sd_ready_timeout(&d) < 0)
		return SD_EXIT_USAGE;
	rc = sd_switch_boot(&d, file, check_only);
	if (rc != SD_EXIT_OK || check_only) {
		if (rc == SD_EXIT_OK)
			fprintf(stderr, "%s: configuration OK\n", file);
		return rc;
	}
	if (sd_lock(&d) < 0)
		return SD_EXIT_SYSTEM;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (d.sigfd < 0 || sd_server_open(&d) < 0) {
		fprintf(stderr, "spectrumd: cannot listen on %s/%s: %s\n", d.host.run_dir, SP_DAEMON_SOCKET,
			strerror(errno));
		return SD_EXIT_SYSTEM;
	}
	sd_vm_adopt_all(&d);
	sd_net_cleanup(&d);
	fprintf(stderr, "spectrumd: %zu instances from %s (generation %u); listening on %s\n",
		d.nvms, d.file, d.generation, d.sock_path);
	sd_loop(&d);
	unlink(d.sock_path);
	fprintf(stderr, "spectrumd: stopped; running VMs keep running\n");
	return SD_EXIT_OK;
}
