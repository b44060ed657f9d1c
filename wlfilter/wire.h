/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Wayland wire format, as far as spectrum-wlfilter reads it: a message
 * is a header (the object's id; its size in bytes << 16 | its opcode) and
 * 32-bit words of arguments; file descriptors travel beside the bytes, in
 * SCM_RIGHTS, in the order of the messages that carry them.  Pure functions
 * over byte buffers: no I/O, no allocation.
 */
#ifndef SWL_WIRE_H
#define SWL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWL_MSG_MAX 4096      /* bytes of one message: libwayland's own bound */
#define SWL_FDS_MAX 28	      /* descriptors in one sendmsg: libwayland's own bound */
#define SWL_ARGS_MAX 20	      /* arguments of one message (the longest has 9) */
#define SWL_CLIENT_IDS 65536u /* client ids are 1 .. SWL_CLIENT_IDS - 1 */
#define SWL_SERVER_ID_BASE 0xff000000u
#define SWL_SERVER_IDS 4096u /* server ids are SWL_SERVER_ID_BASE + 0 .. 4095 */

struct swl_header {
	uint32_t id;
	uint16_t opcode;
	uint16_t size; /* of the whole message, header included */
};

/*
 * One argument.  Types are those of the protocol files: i u f (32-bit
 * words), s (string), o (object id), n (new id), a (array), h (fd, no
 * bytes).  A string's or array's data point into the message.
 */
struct swl_arg {
	char type;
	bool null; /* a nullable s, o or a that is absent */
	uint32_t u;
	const uint8_t *data; /* s: len bytes, the last one NUL; a: len bytes */
	uint32_t len;
};

struct swl_args {
	struct swl_arg a[SWL_ARGS_MAX];
	unsigned n;
	unsigned nfds;
};

/* Reads the header at buf: 1 when a whole message of h->size bytes is
 * there, 0 when more bytes are needed, -1 when the header itself is wrong
 * (size not a multiple of 4, below 8 or above SWL_MSG_MAX). */
int swl_header_read(const uint8_t *buf, size_t len, struct swl_header *h);

/*
 * Parses the body (the bytes after the header) by a signature: the types
 * above, each optionally preceded by '?' (nullable).  Returns 0, or -1 with
 * *why set when the body does not match: too short, bytes left over, a
 * string without its NUL, a null where none is allowed, a zero new id.
 */
int swl_args_parse(const char *sig, const uint8_t *body, size_t len, struct swl_args *out,
		   const char **why);

/* A message being written into a fixed buffer; ok turns false (and
 * stays) when it would not fit. */
struct swl_msgbuf {
	uint8_t buf[SWL_MSG_MAX];
	size_t len;
	bool ok;
};

void swl_msg_begin(struct swl_msgbuf *m, uint32_t id, uint16_t opcode);
void swl_msg_u32(struct swl_msgbuf *m, uint32_t v);
void swl_msg_string(struct swl_msgbuf *m, const char *s, size_t len); /* len without NUL */
/* Sets the size in the header; false if the message did not fit. */
bool swl_msg_end(struct swl_msgbuf *m);

uint32_t swl_get_u32(const uint8_t *p);

#endif
