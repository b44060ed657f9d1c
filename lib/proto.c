/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "proto.h"

#include <string.h>

const struct sp_verb sp_verbs[] = {
	{"up", SP_OP_UP, false, "[--all]", "start the autostart instances (--all: every one)",
	 "Asks spectrumd to start every instance marked autostart, or every instance.\n",
	 SP_ARG_NONE, false},
	{"down", SP_OP_DOWN, false, "[--kill]", "stop every running instance",
	 "Asks spectrumd to stop every running instance.\n", SP_ARG_NONE, false},
	{"start", SP_OP_START, true, "INSTANCE", "start an instance under spectrumd",
	 "Starts INSTANCE and waits until its application runs.  Refused, naming the\n"
	 "holder, when a volume or device it binds is held by a running instance.\n",
	 SP_ARG_NONE, false},
	{"stop", SP_OP_STOP, true, "INSTANCE [--kill]", "stop an instance",
	 "Asks the guest to stop its application and power off, and waits; the VM is\n"
	 "killed if it does not stop in time, or at once with --kill.\n",
	 SP_ARG_NONE, false},
	{"restart", SP_OP_RESTART, true, "INSTANCE", "stop, then start an instance", "",
	 SP_ARG_NONE, false},
	{"list", SP_OP_LIST, false, "[--json]", "list instances and their state",
	 "One line per instance: state, pid, uptime, memory; --json for a JSON array.\n",
	 SP_ARG_NONE, false},
	{"status", SP_OP_STATUS, true, "INSTANCE [--json]", "show one instance",
	 "State, pid, uptime, memory, the resources it holds and why it last stopped.\n",
	 SP_ARG_NONE, false},
	{"console", SP_OP_CONSOLE, true, "INSTANCE", "attach to an instance's console",
	 "Attaches the terminal to the guest's console; Ctrl-] detaches.\n", SP_ARG_NONE, false},
	{"logs", SP_OP_LOGS, true, "INSTANCE [-f]", "print an instance's console log",
	 "Prints everything the instance's console showed; -f keeps following it.\n", SP_ARG_NONE,
	 false},
	{"switch", SP_OP_SWITCH, false, "FILE [--dry-run] [--no-restart]",
	 "make FILE the running configuration",
	 "Checks FILE (a data file or a .nix file) as 'spectrum check' does and, if it\n"
	 "has no error, makes it a new generation and applies the difference: removed\n"
	 "instances stop, changed running ones restart (only reported with\n"
	 "--no-restart), new autostart ones start, the others keep running untouched.\n"
	 "One line per instance; --dry-run prints them and changes nothing.  Root only.\n",
	 SP_ARG_FILE, true},
	{"rollback", SP_OP_ROLLBACK, false, "[N] [--dry-run] [--no-restart]",
	 "switch to the previous generation (or to generation N)",
	 "A switch to an earlier generation, with its own file and the root images it\n"
	 "booted; the same rules and output as switch.  Root only.\n",
	 SP_ARG_NUMBER, true},
	{"generations", SP_OP_GENERATIONS, false, "[--json]", "list the configuration generations",
	 "One line per generation: number, date, source file, and which is current.\n", SP_ARG_NONE,
	 false},
	{"gc", SP_OP_GC, false, "[--keep N]", "remove old generations and unused images",
	 "Removes the generations older than the current one (with --keep N: all but\n"
	 "the N newest, refused if that would remove the current one) and the stored\n"
	 "root images that no remaining generation and no running instance uses.\n"
	 "Root only.\n",
	 SP_ARG_NONE, true},
	{"clipboard", SP_OP_CLIPBOARD, true, "send | receive [INSTANCE]",
	 "paste text into an instance, or copy its selection",
	 "Reads at most 1 MiB of text from standard input and offers it to INSTANCE's\n"
	 "application as its selection (what its paste pastes), or, without INSTANCE,\n"
	 "to the instance whose window has the focus (its app id spectrum.NAME, set by\n"
	 "its display filter).  Only an instance whose data file says \"display\":\n"
	 "{\"clipboard\": \"paste\"} (or \"both\") accepts it.\n"
	 "'receive' prints the text of INSTANCE's selection (at most 1 MiB), if its\n"
	 "data file says \"clipboard\": \"copy\" or \"both\".\n"
	 "Meant for key bindings of the desktop (examples/sway/spectrum.conf):\n"
	 "  bindsym $mod+Shift+v exec wl-paste -n -t text/plain | spectrum clipboard send\n"
	 "  bindsym $mod+Shift+c exec spectrum clipboard receive | wl-copy\n",
	 SP_ARG_NONE, false},
	{NULL, 0, false, NULL, NULL, NULL, SP_ARG_NONE, false},
};

bool sp_op_takes_fd(unsigned op)
{
	return op == SP_OP_SWITCH || op == SP_OP_CLIPBOARD;
}

const struct sp_verb *sp_verb_find(const char *name)
{
	for (const struct sp_verb *v = sp_verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

const struct sp_verb *sp_verb_of(unsigned op)
{
	for (const struct sp_verb *v = sp_verbs; v->name; v++)
		if ((unsigned)v->op == op)
			return v;
	return NULL;
}

const char *sp_op_name(enum sp_op op)
{
	const struct sp_verb *v = sp_verb_of(op);
	return v ? v->name : "?";
}

int sp_request_make(struct sp_request *rq, enum sp_op op, unsigned flags, const char *name)
{
	memset(rq, 0, sizeof(*rq));
	if (!sp_verb_of(op) || (flags & ~SP_FLAGS_KNOWN))
		return -1;
	if (name && strlen(name) >= sizeof(rq->name))
		return -1;
	rq->magic = SP_PROTO_MAGIC;
	rq->op = (uint16_t)op;
	rq->flags = (uint16_t)flags;
	if (name)
		memcpy(rq->name, name, strlen(name));
	return 0;
}

int sp_request_make_number(struct sp_request *rq, enum sp_op op, unsigned flags, uint32_t number)
{
	if (sp_request_make(rq, op, flags, NULL) < 0 ||
	    (number && op != SP_OP_ROLLBACK && op != SP_OP_GC))
		return -1;
	rq->number = number;
	return 0;
}

int sp_request_check(const void *buf, size_t len, struct sp_request *out, struct sp_err *err)
{
	const struct sp_verb *verb;
	size_t nlen;

	if (len != sizeof(*out)) {
		sp_err_set(err, "request of %zu bytes; requests are %zu bytes", len, sizeof(*out));
		return -1;
	}
	memcpy(out, buf, sizeof(*out));
	if (out->magic != SP_PROTO_MAGIC) {
		sp_err_set(err, "not a Spectrum request (bad magic); client and daemon versions differ?");
		return -1;
	}
	if (!(verb = sp_verb_of(out->op))) {
		sp_err_set(err, "unknown operation %u", out->op);
		return -1;
	}
	if (out->flags & ~SP_FLAGS_KNOWN) {
		sp_err_set(err, "unknown flags 0x%x", out->flags & ~SP_FLAGS_KNOWN);
		return -1;
	}
	if (out->reserved) {
		sp_err_set(err, "reserved fields are not zero");
		return -1;
	}
	if (out->number && out->op != SP_OP_ROLLBACK && out->op != SP_OP_GC) {
		sp_err_set(err, "this operation takes no number");
		return -1;
	}
	nlen = strnlen(out->name, sizeof(out->name));
	if (nlen == sizeof(out->name)) {
		sp_err_set(err, "instance name is not terminated");
		return -1;
	}
	/* Everything after the name must be zero: no hidden payload. */
	for (size_t i = nlen; i < sizeof(out->name); i++)
		if (out->name[i]) {
			sp_err_set(err, "instance name is not NUL-padded");
			return -1;
		}
	if (verb->needs_name ? !sp_name_valid(out->name) : nlen != 0) {
		sp_err_set(err, verb->needs_name ? "invalid instance name" :
						   "this operation takes no instance name");
		return -1;
	}
	return 0;
}

int sp_reply_check(const void *buf, size_t len, struct sp_reply_header *hdr, const char **body,
		   struct sp_err *err)
{
	if (len < sizeof(*hdr)) {
		sp_err_set(err, "short reply from spectrumd");
		return -1;
	}
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->magic != SP_PROTO_MAGIC || hdr->len > SP_PROTO_BODY_MAX ||
	    hdr->len != len - sizeof(*hdr) || hdr->status > SP_REPLY_DENIED) {
		sp_err_set(err, "malformed reply from spectrumd");
		return -1;
	}
	*body = (const char *)buf + sizeof(*hdr);
	return 0;
}
