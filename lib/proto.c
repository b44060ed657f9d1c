/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "proto.h"

#include <string.h>

static const char *const sp_op_names[SP_OP_MAX + 1] = {
	[SP_OP_LIST] = "list",	     [SP_OP_STATUS] = "status", [SP_OP_START] = "start",
	[SP_OP_STOP] = "stop",	     [SP_OP_RESTART] = "restart", [SP_OP_UP] = "up",
	[SP_OP_DOWN] = "down",	     [SP_OP_CONSOLE] = "console", [SP_OP_LOGS] = "logs",
};

const char *sp_op_name(enum sp_op op)
{
	return (unsigned)op <= SP_OP_MAX && sp_op_names[op] ? sp_op_names[op] : "?";
}

static bool sp_op_needs_name(unsigned op)
{
	return op != SP_OP_LIST && op != SP_OP_UP && op != SP_OP_DOWN;
}

int sp_request_make(struct sp_request *rq, enum sp_op op, unsigned flags, const char *name)
{
	memset(rq, 0, sizeof(*rq));
	if ((unsigned)op == 0 || (unsigned)op > SP_OP_MAX || (flags & ~SP_FLAGS_KNOWN))
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

int sp_request_check(const void *buf, size_t len, struct sp_request *out, struct sp_err *err)
{
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
	if (out->op == 0 || out->op > SP_OP_MAX) {
		sp_err_set(err, "unknown operation %u", out->op);
		return -1;
	}
	if (out->flags & ~SP_FLAGS_KNOWN) {
		sp_err_set(err, "unknown flags 0x%x", out->flags & ~SP_FLAGS_KNOWN);
		return -1;
	}
	if (out->reserved[0] || out->reserved[1]) {
		sp_err_set(err, "reserved fields are not zero");
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
	if (sp_op_needs_name(out->op) ? !sp_name_valid(out->name) : nlen != 0) {
		sp_err_set(err, sp_op_needs_name(out->op) ? "invalid instance name"
							   : "this operation takes no instance name");
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
