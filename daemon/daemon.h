/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spectrumd: the supervisor.  See spectrumd(8). */
#ifndef SPECTRUMD_H
#define SPECTRUMD_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "model.h"
#include "plan.h"

enum sd_state {
	SD_STOPPED,
	SD_STARTING, /* VMM running, guest not ready yet */
	SD_RUNNING,
	SD_STOPPING,
	SD_FAILED, /* stopped on its own with a failure */
};

struct sd_vm {
	const struct sp_instance *inst;
	struct sp_plan *plan;
	enum sd_state state;
	pid_t pid;
	pid_t logger; /* its logger, if our child, else -1 */
	int pidfd;   /* readable when the VMM exits, child or adopted */
	int control; /* the guest's control port, -1 until connected */
	bool child;  /* ours to reap; an adopted VMM is init's */
	bool adopted;
	bool stop_requested;
	time_t started_at;
	long connect_until; /* ms: give up connecting the control port */
	long ready_until;   /* ms: give up waiting for the guest's "ready" */
	bool start_failed;  /* stopped by us because it never came up */
	long kill_at;	    /* ms: escalate a stop */
	int kill_phase;
	long restart_at; /* ms: on-failure restart due */
	long restart_times[5];
	int status; /* the application's reported status, -1 unknown */
	char reason[256];
	char line[257];
	size_t line_len;
	bool line_overflow;
	pid_t fs_pids[SP_LIMIT_BINDINGS]; /* virtiofsd per directory share */
	size_t nfs;
	int waiter; /* a client waiting for start/stop to settle, or -1 */
	unsigned waiter_op;
};

/*
 * Control connections that were accepted from an allowed peer and wait
 * for their one request.  The loop polls them and never waits on one: a
 * peer that sends nothing holds a slot until its deadline and delays no
 * other connection, and one uid holds at most SD_PENDING_PER_UID slots,
 * so it cannot fill the table for the others.
 */
#define SD_PENDING_MAX 64    /* connections waiting, of all uids */
#define SD_PENDING_PER_UID 4 /* of one uid */
#define SD_PENDING_MS 1000   /* from accept to the request */

struct sd_conn {
	int fd;	       /* non-blocking */
	uid_t uid;     /* the peer's, from SO_PEERCRED */
	long deadline; /* ms: answered "bad request" and closed if silent by then */
};

struct sd {
	struct sp_config *cfg;
	struct sp_plans *plans;
	struct sp_host host;
	struct sd_vm *vms;
	size_t nvms;
	int listen;
	int sigfd;
	char sock_path[256];
	struct sd_conn pending[SD_PENDING_MAX];
	size_t npending;
	long ready_ms; /* a start fails without "ready" in this time */
	bool quit;
};

const char *sd_state_name(enum sd_state s);
struct sd_vm *sd_vm_find(struct sd *d, const char *name);

/* vm.c */
int sd_vm_start(struct sd *d, struct sd_vm *vm, char *why, size_t len);
void sd_vm_stop(struct sd_vm *vm, bool kill_now);
void sd_vm_adopt_all(struct sd *d);
void sd_vm_exited(struct sd *d, struct sd_vm *vm);
void sd_vm_control_read(struct sd_vm *vm);
void sd_vm_tick(struct sd *d, struct sd_vm *vm, long now);
bool sd_vm_active(const struct sd_vm *vm);
long sd_vm_rss_kib(const struct sd_vm *vm);
void sd_vm_reap_helpers(struct sd *d);

/* rules.c */
int sd_rules_check(struct sd *d, const struct sd_vm *vm, char *why, size_t len);

/* server.c */
int sd_server_open(struct sd *d);
/* New connections: a refused peer is answered at once, an allowed one
 * joins d->pending. */
void sd_server_accept(struct sd *d, long now);
/* One pollfd per pending connection, in the table's order; their count. */
size_t sd_server_pollfds(const struct sd *d, struct pollfd *fds);
/* Serves those that the poll found readable or that are at their deadline. */
void sd_server_pending(struct sd *d, const struct pollfd *fds, long now);
/* The earlier of `next` and the first deadline of a pending connection. */
long sd_server_deadline(const struct sd *d, long next);
void sd_server_settle(struct sd *d, struct sd_vm *vm);

#endif
