/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the control protocol's decoders: whatever bytes a
 * local peer sends spectrumd (a request) or a daemon sends the client (a
 * reply), the checks must hold and never read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_request rq;
	struct sp_reply_header h;
	struct sp_err err = {0};
	const char *body;

	if (sp_request_check(data, size, &rq, &err) == 0) {
		/* An accepted request names a valid instance, or none. */
		if (rq.name[0] && !sp_name_valid(rq.name))
			abort();
		if (rq.op == 0 || rq.op > SP_OP_MAX)
			abort();
		/* Only rollback and gc carry a number; nothing else is hidden. */
		if ((rq.number && rq.op != SP_OP_ROLLBACK && rq.op != SP_OP_GC) || rq.reserved)
			abort();
	}
	if (sp_reply_check(data, size, &h, &body, &err) == 0) {
		if (sizeof(h) + h.len != size || h.len > SP_PROTO_BODY_MAX)
			abort();
		/* The body is within the datagram. */
		volatile char sum = 0;
		for (size_t i = 0; i < h.len; i++)
			sum = (char)(sum + body[i]);
		(void)sum;
	}
	return 0;
}
