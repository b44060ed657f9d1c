/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spectrumd: the supervisor.  See spectrumd(8). */
#ifndef SPECTRUMD_H
#define SPECTRUMD_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "gen.h"
#include "model.h"
#include "plan.h"
#include "vm.h"

enum sd_state {
	SD_STOPPED,
	SD_STARTING, /* VMM running, guest not ready yet */
	SD_RUNNING,
	SD_STOPPING,
	SD_FAILED, /* stopped on its own with a failure */
	SD_NSTATES,
};

/* What happens to an instance; vm.c's table says what each does in each
 * state. */
enum sd_event {
	SD_EV_START,   /* a client's start, an up, a due on-failure restart */
	SD_EV_STOP,    /* a client's stop: the guest is asked to power off */
	SD_EV_KILL,    /* a stop with the kill flag: SIGTERM at once */
	SD_EV_READY,   /* the guest's "ready" */
	SD_EV_EXITED,  /* the VMM ended (its pidfd) */
	SD_EV_TIMEOUT, /* no "ready" within the ready timeout */
	SD_NEVENTS,
};

struct sd_vm {
	/* What it runs (or ran last): an instance of `cfg`, which a switch
	 * may have replaced meanwhile (struct sd, `old`). */
	const struct sp_config *cfg;
	const struct sp_instance *inst;
	struct sp_plan *plan;
	/* A switch changed its plan while it ran: its next start uses this
	 * (sd_act_start swaps it in). */
	const struct sp_config *next_cfg;
	const struct sp_instance *next_inst;
	struct sp_plan *next_plan;
	bool restart_pending; /* a switch stops it to start it again */
	bool retired;	      /* a switch removed it: dropped once stopped */
	struct sp_vm core; /* the VM's life (lib/vm.h): pid, control, status */
	enum sd_state state;
	int pidfd;    /* readable when the VMM exits, child or adopted */
	int display_pidfd; /* an adopted VM's display relay: readable when it ends */
	bool adopted; /* a dead daemon's: not our child */
	bool stop_requested;
	bool start_failed; /* stopped by us because it never came up */
	time_t started_at;
	off_t console_from; /* the console log's size at start: this run's bytes follow */
	long ready_until;   /* ms: give up waiting for the guest's "ready" */
	long restart_at;    /* ms: on-failure restart due */
	long restart_times[5];
	struct sp_err refusal; /* why the last start was refused */
	int waiter;	       /* a client waiting for start/stop to settle, or -1 */
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

/* A configuration that VMs of the table may still run: the current one,
 * or an older one until its last VM stopped. */
struct sd_set {
	struct sp_config *cfg;
	struct sp_plans *plans;
};
#define SD_OLD_MAX 16

struct sd {
	struct sp_config *cfg;
	struct sp_plans *plans;
	struct sd_set old[SD_OLD_MAX];
	size_t nold;
	const char *file;	  /* what SIGHUP reads again */
	struct sp_gen_store gens; /* STATE/generations and STATE/store */
	unsigned generation;	  /* the current one */
	unsigned epoch;		  /* bumped when the table of VMs is replaced or a
				   * VM's descriptors are made anew */
	bool hup;
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

/* vm.c */
const char *sd_state_name(enum sd_state s);
struct sd_vm *sd_vm_find(struct sd *d, const char *name);
bool sd_vm_active(const struct sd_vm *vm);
/* Runs actions[state][event]; -1 if the event was refused (a start:
 * vm->refusal says why).  Waiting clients are settled here. */
int sd_vm_event(struct sd *d, struct sd_vm *vm, enum sd_event ev);
void sd_vm_control(struct sd *d, struct sd_vm *vm); /* its control port is readable */
void sd_vm_pidfd(struct sd *d, struct sd_vm *vm);   /* its VMM exited */
void sd_vm_display_pidfd(struct sd *d, struct sd_vm *vm); /* an adopted relay ended */
void sd_vm_tick(struct sd *d, struct sd_vm *vm, long now);
long sd_vm_deadline(const struct sd_vm *vm, long next);
void sd_vm_adopt_all(struct sd *d);
long sd_vm_rss_kib(const struct sd_vm *vm);
void sd_vm_reap_helpers(struct sd *d);

/* switch.c */
/* Start-up: FILE (made a generation unless it is the current one's), or
 * the current generation when FILE is NULL; check_only records nothing.
 * Errors go to stderr; returns an exit status of spectrumd(8). */
int sd_switch_boot(struct sd *d, const char *file, bool check_only);
/* A client's switch (fd: its file), rollback, generations, gc. */
void sd_switch_request(struct sd *d, int fd, unsigned op, unsigned flags, uint32_t number,
		       int file_fd);
/* SIGHUP: d->file again. */
void sd_switch_hup(struct sd *d);
/* Drops the retired VMs that stopped, and the configurations no VM runs. */
void sd_switch_sweep(struct sd *d);
/* Replies on a control connection and closes it (server.c). */
void sd_server_answer(int fd, unsigned status, const char *body);

/* rules.c */
int sd_rules_check(struct sd *d, const struct sd_vm *vm, struct sp_err *err);

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
