/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket.  Trust boundary: whoever the socket's mode lets in
 * may connect (root, and the "spectrum" group when it exists), so the
 * daemon identifies each peer itself, by SO_PEERCRED, when it accepts the
 * connection and before it reads anything (root, or a member of the group,
 * may control), and answers any other peer at once.  An allowed
 * connection waits in a bounded table (daemon.h) for its one fixed-size
 * request, checked field by field (sp_request_check); the event loop polls
 * it and never waits on a client.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clipboard.h"
#include "daemon.h"
#include "paths.h"
#include "proto.h"
#include "rundir.h"

#define SD_GROUP "spectrum"

/*
 * With the spectrum group, its members reach the socket (0660, group
 * spectrum); without it, or if the socket cannot be given to it, root only
 * (0600): never everyone.  The daemon still checks every peer itself.
 */
static void sd_server_share(const char *path)
{
	struct group *g = getgrnam(SD_GROUP);

	if (g && chown(path, 0, g->gr_gid) == 0)
		chmod(path, 0660);
	else
		chmod(path, 0600);
}

int sd_server_open(struct sd *d)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t mask;
	int fd, rc;

	snprintf(d->sock_path, sizeof(d->sock_path), "%s/%s", d->host.run_dir, SP_DAEMON_SOCKET);
	if (strlen(d->sock_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	/* Non-blocking: sd_server_accept takes connections until none is left. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	unlink(d->sock_path);
	/* Bound as 0600, so that nobody else connects before
	 * sd_server_share gives the socket its mode. */
	mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(mask);
	if (rc < 0 || listen(fd, 16) < 0) {
		close(fd);
		return -1;
	}
	sd_server_share(d->sock_path);
	d->listen = fd;
	return 0;
}

static bool sd_peer_allowed(int fd, uid_t *uid_out)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd *pw;
	struct group *g;
	gid_t groups[256];
	int n = 256;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid_out = cred.uid;
	/* root, and the daemon's own user when it runs unprivileged */
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	g = getgrnam(SD_GROUP);
	pw = getpwuid(cred.uid);
	if (!g || !pw)
		return false;
	if (cred.gid == g->gr_gid)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return true;
	return false;
}

static void sd_reply(int fd, unsigned status, const char *body, int pass_fd)
{
	struct sp_reply_header h = {.magic = SP_PROTO_MAGIC, .status = status};
	size_t blen = body ? strlen(body) : 0;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2];
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};

	if (blen > SP_PROTO_BODY_MAX)
		blen = SP_PROTO_BODY_MAX;
	h.len = (uint32_t)blen;
	iov[0] = (struct iovec){&h, sizeof(h)};
	iov[1] = (struct iovec){(void *)(body ? body : ""), blen};
	if (pass_fd >= 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	/* A client that went away is no concern of ours.  The socket is
	 * non-blocking, and this is the one datagram we send on it, so it fits
	 * the peer's empty queue. */
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
	}
}

/*
 * Answers a connection whose request is not to be read, and closes it.
 * The peer may have sent its request already, and closing a SOCK_SEQPACKET
 * socket with data unread makes the peer's next receive fail with
 * ECONNRESET (our reply queued behind the error).  So: reply; shut both
 * ways, after which the peer's sends fail (EPIPE) and add nothing; drop
 * what it sent before, which ends (0) without waiting; close.
 */
static void sd_refuse(int fd, unsigned status, const char *msg)
{
	char byte;

	sd_reply(fd, status, msg, -1);
	shutdown(fd, SHUT_RDWR);
	while (recv(fd, &byte, 1, MSG_DONTWAIT | MSG_TRUNC) > 0) {
	}
	close(fd);
}

/* Several applications: each one's name and, once the guest reported
 * it, its status (null before). */
static json_t *sd_vm_apps_json(const struct sd_vm *vm)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < vm->plan->napps && i < SP_LIMIT_INSTANCE_APPS; i++) {
		int st = vm->core.app_status[i];
		json_array_append_new(arr, json_pack("{s:s, s:o}", "name", vm->plan->apps[i].name,
						     "status",
						     st >= 0 ? json_integer(st) : json_null()));
	}
	return arr;
}

void sd_server_answer(int fd, unsigned status, const char *body)
{
	sd_reply(fd, status, body, -1);
	close(fd);
}

static json_t *sd_vm_json(const struct sd_vm *vm, const struct sp_config *cfg)
{
	json_t *res = json_array();
	json_t *o;

	for (size_t i = 0; i < vm->inst->nbindings; i++) {
		const struct sp_binding *b = &vm->inst->bindings[i];
		const struct sp_resource *r = &cfg->resources[b->resource];
		json_t *one =
			json_pack("{s:s, s:s}", "name", r->name, "type", sp_res_type_name(r->type));
		/* A device or a network is granted whole: no mode applies. */
		if (sp_res_has_mode(r->type))
			json_object_set_new(one, "mode", json_string(sp_mode_name(b->mode)));
		json_array_append_new(res, one);
	}
	o = json_pack("{s:s, s:s, s:s, s:s}", "name", vm->inst->name, "state",
		      sd_state_name(vm->state), "hypervisor", sp_hv_name(vm->plan->hypervisor),
		      "arch", sp_arch_name(vm->plan->arch));
	if (sd_vm_active(vm)) {
		json_object_set_new(o, "pid", json_integer(vm->core.pid));
		json_object_set_new(o, "uptime_s", json_integer((json_int_t)(time(NULL) - vm->started_at)));
		json_object_set_new(o, "rss_kib", json_integer(sd_vm_rss_kib(vm)));
		json_object_set_new(o, "adopted", json_boolean(vm->adopted));
		/* Its display relay, 0 once it ended (or, adopted, unknown). */
		if (vm->plan->display.enabled)
			json_object_set_new(o, "display",
					    json_pack("{s:i, s:I}", "relay_pid",
						      (int)vm->core.display, "relay_uid",
						      (json_int_t)vm->plan->display.relay_uid));
	}
	json_object_set_new(o, "memory_mib", json_integer((json_int_t)vm->plan->memory_mib));
	if (vm->core.status >= 0)
		json_object_set_new(o, "status", json_integer(vm->core.status));
	if (vm->core.reason[0])
		json_object_set_new(o, "reason", json_string(vm->core.reason));
	if (vm->plan->apps)
		json_object_set_new(o, "applications", sd_vm_apps_json(vm));
	json_object_set_new(o, "resources", res);
	json_object_set_new(o, "autostart", json_boolean(vm->inst->autostart));
	return o;
}

static void sd_vm_text(const struct sd_vm *vm, const struct sp_config *cfg, char *buf, size_t len,
		       bool detail)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, len - o, "%-20s %-9s", vm->inst->name, sd_state_name(vm->state));
	if (sd_vm_active(vm) && o < len)
		o += (size_t)snprintf(buf + o, len - o, " pid %-7d up %lds rss %ldM", (int)vm->core.pid,
				      (long)(time(NULL) - vm->started_at), sd_vm_rss_kib(vm) / 1024);
	if (detail && o < len) {
		for (size_t i = 0; i < vm->inst->nbindings && o < len; i++) {
			const struct sp_binding *b = &vm->inst->bindings[i];
			const struct sp_resource *r = &cfg->resources[b->resource];
			o += (size_t)snprintf(buf + o, len - o, "%s %s", i ? "," : " holds",
					      r->name);
			if (sp_res_has_mode(r->type) && o < len)
				o += (size_t)snprintf(buf + o, len - o, "(%s)",
						      sp_mode_name(b->mode));
		}
		if (sd_vm_active(vm) && vm->plan->display.enabled && o < len)
			o += (size_t)snprintf(buf + o, len - o, "\n  display relay pid %d uid %lu",
					      (int)vm->core.display,
					      (unsigned long)vm->plan->display.relay_uid);
		if (vm->core.reason[0] && o < len)
			o += (size_t)snprintf(buf + o, len - o, "\n  %s", vm->core.reason);
	}
	if (o < len)
		snprintf(buf + o, len - o, "\n");
}

static char *sd_format(struct sd *d, const struct sd_vm *only, bool json)
{
	if (json) {
		json_t *arr = json_array();
		char *s;
		for (size_t i = 0; i < d->nvms; i++)
			if (!only || &d->vms[i] == only)
				json_array_append_new(arr, sd_vm_json(&d->vms[i], d->vms[i].cfg));
		char *j = json_dumps(only ? json_array_get(arr, 0) : arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		s = sp_xmalloc(strlen(j) + 2);
		sprintf(s, "%s\n", j);
		free(j);
		json_decref(arr);
		return s;
	}
	size_t cap = 512 * (d->nvms + 1), o = 0;
	char *s = sp_xmalloc(cap);
	for (size_t i = 0; i < d->nvms; i++)
		if (!only || &d->vms[i] == only) {
			sd_vm_text(&d->vms[i], d->vms[i].cfg, s + o, cap - o, only != NULL);
			o += strlen(s + o);
		}
	return s;
}

/* Replies now, or parks the client until the VM settles (the state
 * machine calls sd_server_settle when it does). */
static void sd_start_or_stop(struct sd *d, struct sd_vm *vm, int fd, unsigned op, unsigned flags)
{
	char why[sizeof(vm->refusal.msg) + 2];

	if (vm->waiter >= 0) {
		sd_reply(fd, SP_REPLY_REFUSED, "another request for this instance is in progress\n", -1);
		close(fd);
		return;
	}
	if (op == SP_OP_STOP && !sd_vm_active(vm)) {
		sd_vm_event(d, vm, SD_EV_STOP); /* a pending on-failure restart is off too */
		snprintf(why, sizeof(why), "%s is not running\n", vm->inst->name);
		sd_reply(fd, SP_REPLY_OK, why, -1);
		close(fd);
		return;
	}
	if ((op == SP_OP_STOP || op == SP_OP_RESTART) && sd_vm_active(vm)) {
		sd_vm_event(d, vm, flags & SP_FLAG_KILL ? SD_EV_KILL : SD_EV_STOP);
		vm->waiter = fd;
		vm->waiter_op = op;
		return;
	}
	if (sd_vm_event(d, vm, SD_EV_START) < 0) {
		snprintf(why, sizeof(why), "%s\n", vm->refusal.msg);
		sd_reply(fd, SP_REPLY_REFUSED, why, -1);
		close(fd);
		return;
	}
	vm->waiter = fd;
	vm->waiter_op = SP_OP_START;
}

void sd_server_settle(struct sd *d, struct sd_vm *vm)
{
	char msg[sizeof(vm->refusal.msg) + 80];

	if (vm->waiter < 0)
		return;
	if (vm->waiter_op == SP_OP_RESTART && !sd_vm_active(vm)) {
		if (sd_vm_event(d, vm, SD_EV_START) < 0) {
			snprintf(msg, sizeof(msg), "%s\n", vm->refusal.msg);
			sd_reply(vm->waiter, SP_REPLY_REFUSED, msg, -1);
			close(vm->waiter);
			vm->waiter = -1;
		} else {
			vm->waiter_op = SP_OP_START;
		}
		return;
	}
	if (vm->waiter_op == SP_OP_START && vm->state == SD_RUNNING) {
		snprintf(msg, sizeof(msg), "%s started (pid %d)\n", vm->inst->name, (int)vm->core.pid);
		sd_reply(vm->waiter, SP_REPLY_OK, msg, -1);
	} else if (vm->waiter_op == SP_OP_START && !sd_vm_active(vm)) {
		snprintf(msg, sizeof(msg), "%s did not start: %s\n", vm->inst->name, vm->core.reason);
		sd_reply(vm->waiter, SP_REPLY_SYSTEM, msg, -1);
	} else if (vm->waiter_op == SP_OP_STOP && !sd_vm_active(vm)) {
		snprintf(msg, sizeof(msg), "%s stopped\n", vm->inst->name);
		sd_reply(vm->waiter, SP_REPLY_OK, msg, -1);
	} else {
		return;
	}
	close(vm->waiter);
	vm->waiter = -1;
}

static void sd_all(struct sd *d, int fd, unsigned op, unsigned flags)
{
	char out[SP_PROTO_BODY_MAX];
	size_t o = 0;
	unsigned status = SP_REPLY_OK;

	out[0] = '\0';
	for (size_t i = 0; i < d->nvms; i++) {
		struct sd_vm *vm = &d->vms[i];
		if (op == SP_OP_DOWN) {
			if (sd_vm_active(vm))
				sd_vm_event(d, vm, flags & SP_FLAG_KILL ? SD_EV_KILL : SD_EV_STOP);
			continue;
		}
		if (sd_vm_active(vm) || !(vm->inst->autostart || (flags & SP_FLAG_ALL)))
			continue;
		if (sd_vm_event(d, vm, SD_EV_START) < 0) {
			status = SP_REPLY_REFUSED;
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s: %s\n", vm->inst->name,
					      vm->refusal.msg);
		} else {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%s: starting\n", vm->inst->name);
		}
		if (o >= sizeof(out))
			break;
	}
	sd_reply(fd, status, op == SP_OP_DOWN ? "stopping every running instance\n" : out, -1);
	close(fd);
}

static void sd_pass(struct sd_vm *vm, int fd, unsigned op)
{
	int pass = -1;

	if (op == SP_OP_LOGS) {
		/* Root's file in root's run directory (rundir.h), still opened
		 * without following links or blocking on anything but a file. */
		pass = sp_rundir_open_read(vm->plan->console_log);
	} else if (sd_vm_active(vm)) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->plan->console_socket);
		pass = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (pass >= 0 && connect(pass, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(pass);
			pass = -1;
		}
	}
	if (pass < 0)
		sd_reply(fd, SP_REPLY_REFUSED,
			 op == SP_OP_LOGS ? "no console log yet: the instance never ran\n"
					  : "the instance is not running, or its console is in use\n",
			 -1);
	else
		sd_reply(fd, SP_REPLY_OK, "", pass);
	if (pass >= 0)
		close(pass);
	close(fd);
}

/*
 * The user's paste or copy (lib/clipboard.h): the pipe goes to the
 * instance's display filter, if the instance's data file allows it, it
 * runs with a display, and this daemon holds its filter's control
 * channel (an adopted instance's went with the daemon that started it).
 *
 * Who may: root and the spectrum group, like start, stop and console
 * (owner_only is false).  The group's members may already type into an
 * instance's console and start and stop it; a paste is less: text the
 * caller chose, into an instance whose data file (root's) grants pastes,
 * offered to its application, which takes it only when its user pastes.
 * What is handed on is checked to be a pipe's read end (sd_conn_serve),
 * so the filter, which its guest may have taken over, gains nothing but
 * the bytes the caller writes; the daemon never reads them, and sends
 * without blocking.  A copy is the other way: the caller asked for the
 * guest's text, and passes a pipe's write end, into which the guest can
 * write at most what the caller then reads (it bounds and times that).
 */
static void sd_clipboard(struct sd_vm *vm, int fd, int pipe_fd, bool copy)
{
	const struct sp_plan_display *disp = &vm->plan->display;
	struct sp_err err = {0};
	char msg[sizeof(err.msg) + 160];
	unsigned status = SP_REPLY_REFUSED;

	if (!disp->enabled)
		snprintf(msg, sizeof(msg), "%s has no display: there is nowhere to paste\n",
			 vm->inst->name);
	else if (!sp_clipboard_allows(disp->clipboard, copy))
		snprintf(msg, sizeof(msg),
			 "%s does not allow %s: its clipboard policy is %s; give it "
			 "\"display\": {\"clipboard\": \"%s\"} in the data file\n",
			 vm->inst->name, copy ? "copying its selection" : "pastes",
			 sp_clipboard_name(disp->clipboard),
			 disp->clipboard != SP_CLIPBOARD_NONE ? "both" :
			 copy				      ? "copy" :
								"paste");
	else if (vm->state != SD_RUNNING)
		snprintf(msg, sizeof(msg), "%s is not running (%s)\n", vm->inst->name,
			 sd_state_name(vm->state));
	else if (vm->core.display_control < 0)
		snprintf(msg, sizeof(msg),
			 "%s was started by an earlier spectrumd, which held its display's "
			 "channel: restart it to paste into it\n",
			 vm->inst->name);
	else if (sp_clipboard_forward(vm->core.display_control, pipe_fd, copy, &err) < 0)
		snprintf(msg, sizeof(msg), "%s: %s\n", vm->inst->name, err.msg);
	else {
		/* A copy's answer is the text itself: nothing else on stdout. */
		msg[0] = '\0';
		if (!copy)
			snprintf(msg, sizeof(msg), "pasting into %s\n", vm->inst->name);
		status = SP_REPLY_OK;
	}
	sd_reply(fd, status, msg, -1);
	close(fd);
}

static void sd_dispatch(struct sd *d, int fd, const struct sp_request *rq, int file_fd)
{
	struct sd_vm *vm = NULL;
	char msg[200];
	char *out;

	if (rq->name[0] && !(vm = sd_vm_find(d, rq->name))) {
		snprintf(msg, sizeof(msg), "no instance named \"%s\"\n", rq->name);
		sd_reply(fd, SP_REPLY_REFUSED, msg, -1);
		close(fd);
		return;
	}
	switch (rq->op) {
	case SP_OP_LIST:
	case SP_OP_STATUS:
		out = sd_format(d, vm, rq->flags & SP_FLAG_JSON);
		sd_reply(fd, SP_REPLY_OK, out, -1);
		free(out);
		close(fd);
		return;
	case SP_OP_START:
	case SP_OP_STOP:
	case SP_OP_RESTART:
		sd_start_or_stop(d, vm, fd, rq->op, rq->flags);
		return;
	case SP_OP_UP:
	case SP_OP_DOWN:
		sd_all(d, fd, rq->op, rq->flags);
		return;
	case SP_OP_CONSOLE:
	case SP_OP_LOGS:
		sd_pass(vm, fd, rq->op);
		return;
	case SP_OP_SWITCH:
	case SP_OP_ROLLBACK:
	case SP_OP_GENERATIONS:
	case SP_OP_GC:
		sd_switch_request(d, fd, rq->op, rq->flags, rq->number, file_fd);
		return;
	case SP_OP_CLIPBOARD:
		sd_clipboard(vm, fd, file_fd, rq->flags & SP_FLAG_COPY);
		return;
	}
	close(fd);
}

/* How many connections of `uid` wait for their request. */
static size_t sd_pending_of(const struct sd *d, uid_t uid)
{
	size_t n = 0;

	for (size_t i = 0; i < d->npending; i++)
		n += d->pending[i].uid == uid;
	return n;
}

/*
 * A new connection.  The peer is checked now: SO_PEERCRED needs nothing
 * from it, so a refused peer is answered before a byte of its is read,
 * and never waited for.  An allowed one waits in the table for its
 * request, if the bounds leave room: one uid's silent connections cannot
 * fill the table, nor make another uid's wait.
 */
static void sd_conn_admit(struct sd *d, int fd, long now)
{
	char msg[200];
	uid_t uid = (uid_t)-1;

	if (!sd_peer_allowed(fd, &uid)) {
		snprintf(msg, sizeof(msg),
			 "permission denied: uid %d is neither root nor in the %s group\n",
			 (int)uid, SD_GROUP);
		sd_refuse(fd, SP_REPLY_DENIED, msg);
	} else if (d->npending >= SD_PENDING_MAX) {
		snprintf(msg, sizeof(msg),
			 "too many connections: %d wait for their request; try again\n",
			 SD_PENDING_MAX);
		sd_refuse(fd, SP_REPLY_REFUSED, msg);
	} else if (sd_pending_of(d, uid) >= SD_PENDING_PER_UID) {
		snprintf(msg, sizeof(msg),
			 "too many connections: %d of uid %d wait for their request; try again\n",
			 SD_PENDING_PER_UID, (int)uid);
		sd_refuse(fd, SP_REPLY_REFUSED, msg);
	} else {
		d->pending[d->npending++] = (struct sd_conn){fd, uid, now + SD_PENDING_MS};
	}
}

/*
 * Takes the waiting connections, at most a table's worth per call so
 * that a flood of them does not starve the loop's other events.
 */
void sd_server_accept(struct sd *d, long now)
{
	for (int i = 0; i < SD_PENDING_MAX; i++) {
		int fd = accept4(d->listen, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		sd_conn_admit(d, fd, now);
	}
}

/*
 * A pending connection is readable, or at its deadline: reads its request
 * if it came, without waiting, and answers it.  Returns false if the
 * connection is to wait longer, true once it is answered, handed on or
 * closed.
 */
/*
 * Receives the request, and the one descriptor a switch brings along
 * (*file_fd, else -1).  More descriptors than that do not fit the
 * control buffer: the kernel closes them and says so (MSG_CTRUNC), and
 * the request is refused.
 */
static ssize_t sd_conn_recv(int fd, void *buf, size_t len, int *file_fd, bool *extra)
{
	/* One byte more than a request: a longer datagram is seen as such
	 * (MSG_TRUNC gives its length), never silently cut to size. */
	return sp_recv_fd(fd, buf, len, MSG_DONTWAIT | MSG_TRUNC, file_fd, extra);
}

/* Only root, or the daemon's own uid, may change what root runs. */
static bool sd_conn_may(const struct sd_conn *c, const struct sp_request *rq, char *msg, size_t len)
{
	const struct sp_verb *verb = sp_verb_of(rq->op);

	if (!verb->owner_only || c->uid == 0 || c->uid == geteuid())
		return true;
	snprintf(msg, len,
		 "permission denied: %s changes what root runs, so only root may; run it as root\n",
		 verb->name);
	return false;
}

/*
 * A pending connection is readable, or at its deadline: reads its request
 * if it came, without waiting, and answers it.  Returns false if the
 * connection is to wait longer, true once it is answered, handed on or
 * closed.
 */
static bool sd_conn_serve(struct sd *d, const struct sd_conn *c, long now)
{
	struct sp_request rq;
	struct sp_err err = {0};
	unsigned char buf[sizeof(rq) + 1];
	char msg[sizeof(err.msg) + 64];
	int file_fd;
	bool extra;
	ssize_t n = sd_conn_recv(c->fd, buf, sizeof(buf), &file_fd, &extra);

	if (n < 0 && errno == EAGAIN) {
		if (now < c->deadline)
			return false;
		sd_refuse(c->fd, SP_REPLY_BAD, "bad request: none arrived within one second\n");
		return true;
	}
	if (n < 0) {
		close(c->fd); /* the peer is gone */
		return true;
	}
	if (sp_request_check(buf, (size_t)n, &rq, &err) < 0)
		snprintf(msg, sizeof(msg), "bad request: %s\n", err.msg);
	else if (extra || (file_fd >= 0) != sp_op_takes_fd(rq.op))
		snprintf(msg, sizeof(msg), "bad request: %s\n",
			 rq.op == SP_OP_SWITCH ? "a switch passes exactly one file descriptor" :
			 rq.op == SP_OP_CLIPBOARD ?
						 "a clipboard send passes exactly one descriptor" :
						 "this operation takes no file descriptor");
	/* The only descriptor a paste may hand on to a filter. */
	else if (rq.op == SP_OP_CLIPBOARD &&
		 !sp_clipboard_pipe_ok(file_fd, rq.flags & SP_FLAG_COPY))
		snprintf(msg, sizeof(msg),
			 "bad request: a clipboard %s passes the %s end of a pipe, nothing else\n",
			 rq.flags & SP_FLAG_COPY ? "receive" : "send",
			 rq.flags & SP_FLAG_COPY ? "write" : "read");
	else if (!sd_conn_may(c, &rq, msg, sizeof(msg))) {
		if (file_fd >= 0)
			close(file_fd);
		sd_refuse(c->fd, SP_REPLY_DENIED, msg);
		return true;
	} else {
		sd_dispatch(d, c->fd, &rq, file_fd);
		if (file_fd >= 0)
			close(file_fd);
		return true;
	}
	if (file_fd >= 0)
		close(file_fd);
	sd_refuse(c->fd, SP_REPLY_BAD, msg);
	return true;
}

size_t sd_server_pollfds(const struct sd *d, struct pollfd *fds)
{
	for (size_t i = 0; i < d->npending; i++)
		fds[i] = (struct pollfd){d->pending[i].fd, POLLIN, 0};
	return d->npending;
}

/*
 * After a poll: serves the pending connections that became readable or
 * reached their deadline, and keeps the others, in order.  `fds` is what
 * sd_server_pollfds filled; nothing is accepted in between.
 */
void sd_server_pending(struct sd *d, const struct pollfd *fds, long now)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->npending; i++) {
		struct sd_conn c = d->pending[i];
		if ((fds[i].revents || now >= c.deadline) && sd_conn_serve(d, &c, now))
			continue;
		d->pending[kept++] = c;
	}
	d->npending = kept;
}

long sd_server_deadline(const struct sd *d, long next)
{
	for (size_t i = 0; i < d->npending; i++)
		if (d->pending[i].deadline < next)
			next = d->pending[i].deadline;
	return next;
}
