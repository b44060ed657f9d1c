/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of network segments (spectrum.json(5), type "net"), for a
 * privileged caller (spectrum run or spectrumd as root): one Linux bridge
 * per segment, one tap per interface of an instance, and on a NAT segment
 * the bridge's gateway address, IPv4 forwarding and an nftables table of
 * our own.  Only a NAT segment's bridge forwards: every isolated one is
 * set not to again at each segment set-up.  The unprivileged VMM gets only
 * its taps' descriptors.
 *
 * Every object is named from the plan (sp_plan_nic), so any process can
 * find and remove what another one made.  Lifetimes:
 *   - a tap is not persistent: it disappears with its last descriptor, that
 *     is when the VMM ends, however it ends (even if its supervisor died);
 *   - a bridge, its address and its nftables table live while the bridge
 *     has a port: the bridge's port list, kept by the kernel, is the count
 *     of running instances on the segment, so it survives a supervisor
 *     crash; sp_net_release() removes a segment whose bridge has none left.
 * Changes are serialized by a lock file in the run directory, so that a
 * release never removes a bridge that a concurrent start is about to use.
 */
#ifndef SP_NET_H
#define SP_NET_H

#include "plan.h"
#include "util.h"

/*
 * Sets up each segment of the plan's interfaces if it is not up yet, and
 * makes one tap per interface attached to its bridge: fds[i] gets the tap
 * of p->nics[i] (close-on-exec).  On failure nothing it made is left, and
 * err says what failed.
 */
int sp_net_open(const struct sp_plan *p, int *fds, struct sp_err *err);

/*
 * After the VMM ended (its taps are gone with it): removes each of the
 * plan's segments whose bridge has no port left, with its nftables table.
 * Idempotent; also removes a NAT table left without its bridge.
 */
void sp_net_release(const struct sp_plan *p);

/*
 * Removes every nftables table of ours (inet spectrum_spb...) whose bridge
 * is gone or has no port: what a crash between two steps left.  Does
 * nothing when nft is not installed.
 */
void sp_net_sweep(const char *run_dir);

#endif
