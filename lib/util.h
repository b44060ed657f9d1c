/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every module of libspectrum: an arena for the
 * bounded, short-lived data of one configuration or plan, an error object,
 * and the value syntaxes of the data file (sizes, names, paths).
 */
#ifndef SP_UTIL_H
#define SP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * Error object of the library and of the programs: a function that fails
 * returns -1 (or NULL) and leaves one line of text here.  The library never
 * prints.  The function that fails says what failed and what to do about it
 * (sp_err_set); each caller that knows more of what was being done puts it
 * in front (sp_err_wrap), so the line reads from the outermost context to
 * the cause: "starting mail-work: volume mail-store: cannot create ...".
 */
struct sp_err {
	char msg[1024];
	/* Where in the configuration, as a diagnostic's place ("instances.a"),
	 * or empty. */
	char place[160];
	/* The failure is a host file that does not exist yet (an image not
	 * built): `spectrum check` reports it as a warning, start refuses. */
	bool missing;
	/* What kind of failure, for a program that reports kinds apart (an
	 * exit status, a reply status); 0 when the function that failed did
	 * not say.  The library leaves it 0, but sp_ctl_call (lib/ctl.h). */
	int code;
};

/*
 * Sets the message and clears place, missing and code.  The arguments may
 * point into err->msg.  A message longer than msg loses its middle, marked
 * "...": its start says what failed and its end how to fix it.
 */
void sp_err_set(struct sp_err *err, const char *fmt, ...) SP_PRINTF(2, 3);

/* Waits for an exclusive flock on fd, through signals; returns fd, or
 * closes it and returns -1. */
int sp_flock_wait(int fd);
void sp_err_vset(struct sp_err *err, const char *fmt, va_list ap) SP_PRINTF(2, 0);
/*
 * Puts a context in front of the message: "CONTEXT: message" (just
 * "CONTEXT" if the message was empty; an empty context changes nothing).
 * place, missing and code stay.  If the whole does not fit, its middle is
 * cut as sp_err_set does: the outermost context and the end of the cause
 * stay readable.  Both functions do nothing if err is NULL, and never cut
 * a UTF-8 sequence.
 */
void sp_err_wrap(struct sp_err *err, const char *fmt, ...) SP_PRINTF(2, 3);

/*
 * Arena: everything one parsed configuration or one set of plans owns is
 * freed at once.  Inputs are bounded (see SP_LIMIT_*), so the arena stays
 * small.  Allocation failure aborts: a half-built model is worth nothing
 * and every caller would only propagate the failure.
 */
struct sp_arena;

struct sp_arena *sp_arena_new(void);
void sp_arena_free(struct sp_arena *a);
void *sp_arena_alloc(struct sp_arena *a, size_t size);
void *sp_arena_array(struct sp_arena *a, size_t n, size_t size);
char *sp_arena_strdup(struct sp_arena *a, const char *s);
char *sp_arena_printf(struct sp_arena *a, const char *fmt, ...) SP_PRINTF(2, 3);

/* Aborting allocators for code outside an arena. */
void *sp_xmalloc(size_t size);
void *sp_xrealloc(void *p, size_t n, size_t size);
char *sp_xstrdup(const char *s);

/*
 * Names of applications, resources and instances.  An instance name becomes
 * the guest's host name and a resource name part of a file name, so all
 * three follow the host name label rule of RFC 1123, lower case only:
 * 1 to 63 characters of [a-z0-9-], starting and ending with [a-z0-9].
 */
#define SP_NAME_MAX 63
bool sp_name_valid(const char *s);

/*
 * Sizes are strings: a decimal number and a binary unit, "512M", "2G",
 * "64MiB".  Units: K, M, G, T (optionally followed by "iB"), powers of 1024.
 * Returns 0 and the value in bytes, or -1 if the syntax is wrong or the
 * value does not fit in 64 bits.
 */
int sp_size_parse(const char *s, uint64_t *bytes);
/* Formats bytes with the largest exact unit: 268435456 -> "256M". */
void sp_size_format(uint64_t bytes, char *buf, size_t len);

/*
 * Guest mount paths: absolute, normalized (no empty, "." or ".."
 * component, no trailing slash), not "/" itself, and not inside the
 * kernel's own trees /proc, /sys and /dev.
 */
enum sp_path_problem {
	SP_PATH_OK = 0,
	SP_PATH_EMPTY,
	SP_PATH_RELATIVE,
	SP_PATH_ROOT,
	SP_PATH_NOT_NORMAL,
	SP_PATH_RESERVED,
	SP_PATH_TOO_LONG,
	SP_PATH_BAD_CHAR,
};
#define SP_GUEST_PATH_MAX 1024
enum sp_path_problem sp_guest_path_check(const char *path);
/* Writes the normalized form of an absolute path ("/a/./b//" -> "/a/b"). */
void sp_path_normalize(const char *path, char *out, size_t len);
/* A relative host path of a data file from its directory: "DIR/REL",
 * without REL's leading "./" (".", "./x" -> "./x", not "././x"). */
char *sp_path_join(struct sp_arena *a, const char *dir, const char *rel);
/* true if `inner` is `outer` or below it ("/proc", "/proc/x"). */
bool sp_path_within(const char *inner, const char *outer);

/* Edit distance for "did you mean" suggestions (bounded inputs). */
unsigned sp_edit_distance(const char *a, const char *b);

/* A decimal number from lo to hi, digits only (no sign, space or base
 * prefix), into *out; false if it is not one. */
bool sp_uint_parse(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);

/*
 * In a child about to exec a VMM or a file server: every descriptor from
 * `lowfd` up closes at exec, whatever the caller holds (a client
 * connection, a lock, another VM's console), so the program inherits
 * exactly the ones it is then given (by clearing FD_CLOEXEC or by dup2).
 * The loop is for kernels before close_range (5.11).
 */
void sp_cloexec_from(int lowfd);

/*
 * Opens a file that a user named, for reading, only if it is a regular
 * file, and without blocking on what it turns out to be: open(2) of a
 * FIFO waits for a writer, and opening a device may do anything.  `flags`
 * adds to O_RDONLY (O_NOFOLLOW).  Returns a close-on-exec descriptor whose
 * reads block as usual; or -1 with *type the file type (S_IFMT bits) of a
 * file that is not regular, or with *type 0 and errno from stat or open.
 */
int sp_open_regular(const char *path, int flags, mode_t *type);
/* A file type for messages: "a directory", "a FIFO", "a socket"... */
const char *sp_file_type_name(mode_t type);

/*
 * recvmsg(2) of at most `len` bytes into buf, keeping at most one
 * descriptor that came with them: the first, in *fd (close-on-exec), or
 * -1; every other one is closed at once, so that a peer cannot fill the
 * receiver's table.  *extra (if not NULL) is true when more than one
 * descriptor came, a control message was not SCM_RIGHTS, or the kernel
 * cut the control data (MSG_CTRUNC: it closed the rest).  `flags` are
 * recvmsg's (MSG_DONTWAIT, MSG_TRUNC...).  Returns recvmsg's result; on
 * -1 nothing was received.
 */
ssize_t sp_recv_fd(int sock, void *buf, size_t len, int flags, int *fd, bool *extra);

/* Milliseconds on the monotonic clock: deadlines and timeouts. */
long sp_now_ms(void);

/* 64-bit FNV-1a: stable identifiers (MAC addresses, tap names) from names. */
uint64_t sp_hash64(const char *s, uint64_t seed);
/*
 * A 64-bit finaliser for sp_hash64: FNV-1a's multiplications carry bits
 * only upward, so its low bits depend on nothing above them and names
 * collide there far more often than by chance (e0 and e181); this spreads
 * every bit over the whole word.  For a number taken from a few bits or a
 * remainder of a hash.
 */
uint64_t sp_hash64_mix(uint64_t h);

#endif
