/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filter's control channel (--control-fd): one end of a
 * SOCK_SEQPACKET socket pair that root makes when the display relay
 * starts (lib/display.c); spectrumd keeps the other.  One message is one
 * struct swl_control and exactly one descriptor: for a paste, the read
 * end of a pipe that carries the text (at most SWL_PASTE_MAX bytes, see
 * filter.h) and then ends; for a copy, the write end of a pipe that the
 * guest's selection is written into (by the guest; the user's client
 * reads at most SWL_PASTE_MAX bytes of it).  Anything else is dropped
 * with a log line.
 * Shared by spectrumd (lib/clipboard.c) and the filter (main.c).
 */
#ifndef SWL_CONTROL_H
#define SWL_CONTROL_H

#include <stdint.h>

#define SWL_CONTROL_MAGIC 0x53504350u /* "SPCP" */

enum swl_control_op {
	SWL_CONTROL_PASTE = 1, /* the descriptor: a pipe's read end with the text */
	SWL_CONTROL_COPY = 2,  /* a pipe's write end for the guest's selection */
};

struct swl_control {
	uint32_t magic;
	uint32_t op;
};

#endif
