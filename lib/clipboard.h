/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The user's paste into an instance (`spectrum clipboard send`): the
 * client sends spectrumd the read end of a pipe, spectrumd checks it and
 * forwards it to the instance's display filter over the filter's control
 * channel (wlfilter/control.h), and the client writes the text into the
 * pipe.  The user's copy (`spectrum clipboard receive`) passes the write
 * end instead, which the guest's selection writes into.  spectrumd never
 * reads the text nor waits on it.  Nor does it ever read the channel:
 * what a filter taken over by its guest sends back on it waits unread,
 * in the socket's bounded buffer, until the instance stops.
 */
#ifndef SP_CLIPBOARD_H
#define SP_CLIPBOARD_H

#include <stdbool.h>

#include "util.h"

/* True if fd is the read end of a pipe (a FIFO opened read-only), the
 * only descriptor a paste may carry; with `copy`, the write end (opened
 * write-only), the only one a copy may carry. */
bool sp_clipboard_pipe_ok(int fd, bool copy);

/*
 * Sends the pipe to the filter on its control channel, for a paste or
 * (copy) a copy, without blocking: -1 with err when the channel is full
 * (the filter is behind) or gone.
 */
int sp_clipboard_forward(int control, int pipe_fd, bool copy, struct sp_err *err);

#endif
