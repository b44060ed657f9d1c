/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The uids of unprivileged VMMs.  Run as root, each instance's VMM (and
 * its helpers) runs as uid = gid = SPECTRUM_VMM_UID_BASE + a slot below
 * 65536 of its own, so that no two instances share a uid: two VMMs of one
 * uid could ptrace and signal each other and open each other's files.
 *
 * The rule (also in spectrum(1) and spectrumd(8)):
 *
 *  - an instance's preferred slot is a well-mixed 16-bit hash of its name
 *    (sp_uid_slot);
 *  - the instances of a configuration take their slots in the order of
 *    their names (strcmp, bytewise), each its preferred slot if it is
 *    free, else the next free one upward (wrapping at 65536).
 *
 * So the uids of a file are distinct, depend only on the set of instance
 * names (not on their order in the file), and an instance keeps its uid
 * when another is added unless that other one's preferred slot is the
 * uid's own.  Distinct uids within a file are not enough across files or
 * over time: a uid is never reused while a process of it runs
 * (sp_uid_check_free before a start, sp_uid_kill_all after a stop).
 */
#ifndef SP_UID_H
#define SP_UID_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SP_UID_SLOTS 65536u

/*
 * An instance's display relay (lib/display.h) runs as a uid of its own,
 * not its VMM's, so a guest that escaped into its VMM cannot reach the
 * relay's connection to the compositor, and the relay (which parses what
 * the guest sends) cannot reach the VMM's descriptors: the VMM's uid +
 * SP_UID_SLOTS.  A base thus holds 2 * SP_UID_SLOTS uids: VMMs from base,
 * relays from base + SP_UID_SLOTS.  0 stays 0 (the caller's own).
 */
static inline uint32_t sp_uid_relay(uint32_t vmm_uid)
{
	return vmm_uid ? vmm_uid + SP_UID_SLOTS : 0;
}

/* The preferred slot of an instance name, in [0, SP_UID_SLOTS). */
uint32_t sp_uid_slot(const char *name);

/*
 * Gives names[i] the uid uids[i] by the rule above, from `base`; every
 * uid is 0 when base is 0 (the VMMs keep the caller's credentials).  The
 * names are distinct and at most SP_UID_SLOTS.
 */
void sp_uid_assign(const char *const names[], size_t n, uint32_t base, uint32_t uids[]);

/*
 * Fails with one line naming a process that has `uid` (or gid `uid`) as
 * its real, effective, saved or file-system id, if there is one on the
 * host: the uid of a stopped instance is free only once the last process
 * that held it is gone.  `instance` is the instance that would take it,
 * for the message.  Zombies hold nothing and are not counted (but a
 * process whose first thread ended while others run is no zombie).
 */
int sp_uid_check_free(uint32_t uid, const char *instance, struct sp_err *err);

/*
 * Ends (SIGKILL) every process that `uid` may signal: those whose real or
 * saved uid is `uid`, such as the helpers a compromised VMM forked, which
 * outlive it.  Returns 0 once done, or -1 if it could not be done: uid 0
 * or the caller's own uid (which would end the caller), or processes of
 * the uid still alive after the fallback (the uid then stays in use, and
 * sp_uid_check_free refuses it).  A helper that takes the uid strikes them
 * all at once with kill(-1); if one of them stops that helper first, root
 * ends them by pidfd, pass after pass, for about a second.
 */
int sp_uid_kill_all(uint32_t uid);

#endif
