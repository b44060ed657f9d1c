/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Copying a byte stream both ways between two descriptors, for the two
 * ends of an instance's display channel: the host's relay (socket pair
 * to waypipe client) and spectrum-init's (a virtio-serial port to
 * waypipe server).  libc only, compiled into spectrum-init too.
 */
#ifndef SP_SPLICE_H
#define SP_SPLICE_H

/*
 * Copies between a and b (blocking descriptors: sockets, or a
 * virtio-serial port) until either side ends: end of file, a hang-up
 * with nothing left to read, or an error.  What a side sent before its
 * end is passed on first; the other side is then shut down for writing
 * (a socket) and the call returns: 0 at an end of file, -1 on an error.
 * It never waits on one side while the other has data: one poll for
 * both, one read of at most 64 KiB per turn.
 */
int sp_splice(int a, int b);

#endif
