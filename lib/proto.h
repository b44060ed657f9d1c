/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol between spectrum(1) and spectrumd(8), over a UNIX
 * SOCK_SEQPACKET socket (one message per datagram, so framing is the
 * kernel's).  Requests have one fixed size and layout: the daemon never
 * allocates by a client-chosen length, and a request of any other size is
 * refused whole.  Responses are a fixed header and a bounded text body.
 * All integers are in the host's byte order (the socket is local).
 *
 * A switch names its file by passing it: the client opens it and sends
 * the descriptor with the request (SCM_RIGHTS), never a path; the daemon
 * reads at most SP_LIMIT_FILE_BYTES of it, and takes the file's name for
 * its messages and its directory for relative paths from the descriptor
 * itself (spectrumd(8), "SWITCH").  A clipboard send passes the read
 * end of a pipe, a clipboard receive (SP_FLAG_COPY) its write end, which
 * spectrumd hands on to the instance's display filter (lib/clipboard.h).  Any other request carrying a descriptor, or
 * one of these two without one, is refused.
 */
#ifndef SP_PROTO_H
#define SP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SP_PROTO_MAGIC 0x53504331u /* "SPC1" */
#define SP_PROTO_BODY_MAX 65000

enum sp_op {
	SP_OP_LIST = 1,
	SP_OP_STATUS = 2,
	SP_OP_START = 3,
	SP_OP_STOP = 4,
	SP_OP_RESTART = 5,
	SP_OP_UP = 6,	 /* start every autostart instance (all with SP_FLAG_ALL) */
	SP_OP_DOWN = 7,	 /* stop every running instance */
	SP_OP_CONSOLE = 8, /* answer carries the console socket as an fd */
	SP_OP_LOGS = 9,	 /* answer carries the console log as an fd */
	SP_OP_SWITCH = 10,	/* request carries the configuration file as an fd */
	SP_OP_ROLLBACK = 11,	/* number: the generation, 0 for the previous one */
	SP_OP_GENERATIONS = 12, /* list the generations */
	SP_OP_GC = 13,		/* number: generations to keep, 0 for "from the current on" */
	SP_OP_CLIPBOARD = 14,	/* request carries a pipe's read end: the user's paste */
};
#define SP_OP_MAX 14

#define SP_FLAG_JSON 0x1u
#define SP_FLAG_ALL 0x2u
#define SP_FLAG_KILL 0x4u
#define SP_FLAG_DRY_RUN 0x8u	 /* switch, rollback: say what would happen, change nothing */
#define SP_FLAG_NO_RESTART 0x10u /* switch, rollback: changed running instances keep running */
#define SP_FLAG_COPY 0x20u /* clipboard: receive (a pipe's write end for the guest's selection) */
#define SP_FLAGS_KNOWN                                                                      \
	(SP_FLAG_JSON | SP_FLAG_ALL | SP_FLAG_KILL | SP_FLAG_DRY_RUN | SP_FLAG_NO_RESTART | \
	 SP_FLAG_COPY)

struct sp_request {
	uint32_t magic;
	uint16_t op;
	uint16_t flags;
	char name[64];	 /* an instance name, NUL-padded; empty for LIST/UP/DOWN */
	uint32_t number; /* ROLLBACK's generation, GC's count to keep; else 0 */
	uint32_t reserved;
};

/* Response statuses: the client's exit codes. */
enum sp_reply_status {
	SP_REPLY_OK = 0,
	SP_REPLY_REFUSED = 1, /* a rule or the state forbids it */
	SP_REPLY_BAD = 2,     /* malformed request */
	SP_REPLY_SYSTEM = 3,  /* the daemon failed */
	SP_REPLY_DENIED = 4,  /* the peer may not control spectrumd */
};

struct sp_reply_header {
	uint32_t magic;
	uint32_t status;
	uint32_t len; /* bytes of body that follow, at most SP_PROTO_BODY_MAX */
};

/* Fills a request; fails (-1) if the name does not fit or op is unknown. */
int sp_request_make(struct sp_request *rq, enum sp_op op, unsigned flags, const char *name);
/* The same with a number (ROLLBACK, GC). */
int sp_request_make_number(struct sp_request *rq, enum sp_op op, unsigned flags, uint32_t number);

/*
 * Validates a received request of `len` bytes: size, magic, op, flags,
 * NUL padding and the instance name rule.  Returns 0 or -1 with a reason.
 */
int sp_request_check(const void *buf, size_t len, struct sp_request *out, struct sp_err *err);

/* Validates a received reply; *body points into buf, NUL-terminated copy
 * is the caller's job (len is checked against the datagram). */
int sp_reply_check(const void *buf, size_t len, struct sp_reply_header *hdr, const char **body,
		   struct sp_err *err);

/*
 * The verbs of the protocol, as spectrum(1) names them: the one table of
 * them, from which the client dispatches, prints its help and builds
 * requests, and by which the daemon knows which operations name an
 * instance.  Every operation 1 to SP_OP_MAX has exactly one verb.
 */
enum sp_verb_arg {
	SP_ARG_NONE,   /* or an instance name, per needs_name */
	SP_ARG_FILE,   /* a configuration file, passed as a descriptor */
	SP_ARG_NUMBER, /* an optional number (request.number) */
};

struct sp_verb {
	const char *name;
	enum sp_op op;
	bool needs_name;     /* the request names an instance */
	const char *args;    /* the synopsis after the verb */
	const char *summary; /* one line */
	const char *help;    /* the rest of `spectrum help VERB` */
	enum sp_verb_arg arg;
	bool owner_only; /* root (the daemon's own uid) only: it changes what root runs */
};

/* Ends with an entry whose name is NULL. */
extern const struct sp_verb sp_verbs[];

/* The verb called `name`, or of operation `op`; NULL if there is none. */
const struct sp_verb *sp_verb_find(const char *name);
const struct sp_verb *sp_verb_of(unsigned op);

/* True for the operations whose request carries one descriptor. */
bool sp_op_takes_fd(unsigned op);

/* The verb's name of `op`, or "?". */
const char *sp_op_name(enum sp_op op);

#endif
