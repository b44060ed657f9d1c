/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool sp_utf8_cont(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

/*
 * Stores `text` (`len` bytes) as the message.  Too long, it keeps the first
 * third of the room and as much of the end as fits, with "..." between;
 * both cuts fall on a character boundary.
 */
static void sp_err_fit(struct sp_err *err, const char *text, size_t len)
{
	const size_t room = sizeof(err->msg) - 1;
	size_t head = room / 3, tail;

	if (len <= room) {
		memcpy(err->msg, text, len);
		err->msg[len] = '\0';
		return;
	}
	while (head > 0 && sp_utf8_cont(text[head]))
		head--;
	tail = len - (room - head - 3);
	while (tail < len && sp_utf8_cont(text[tail]))
		tail++;
	memcpy(err->msg, text, head);
	memcpy(err->msg + head, "...", 3);
	memcpy(err->msg + head + 3, text + tail, len - tail);
	err->msg[head + 3 + len - tail] = '\0';
}

/*
 * Formats into `buf` if the text fits, else into memory of its own that
 * the caller frees (the whole text is needed to keep its end).
 */
static char *sp_vformat(char *buf, size_t cap, size_t *len, const char *fmt, va_list ap)
{
	va_list ap2;
	char *big;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(buf, cap, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		buf[0] = '\0';
		n = 0;
	}
	*len = (size_t)n;
	if ((size_t)n < cap)
		return buf;
	big = sp_xmalloc((size_t)n + 1);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	return big;
}

void sp_err_vset(struct sp_err *err, const char *fmt, va_list ap)
{
	/* formatted apart: the arguments may point into err->msg */
	char buf[sizeof(err->msg)], *text;
	size_t len;

	if (!err)
		return;
	text = sp_vformat(buf, sizeof(buf), &len, fmt, ap);
	sp_err_fit(err, text, len);
	if (text != buf)
		free(text);
	err->missing = false;
	err->place[0] = '\0';
	err->code = 0;
}

void sp_err_set(struct sp_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_err_vset(err, fmt, ap);
	va_end(ap);
}

void sp_err_wrap(struct sp_err *err, const char *fmt, ...)
{
	char cbuf[sizeof(err->msg)], jbuf[2 * sizeof(err->msg) + 2];
	char *ctx, *joined = jbuf;
	size_t clen, mlen, jlen;
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	ctx = sp_vformat(cbuf, sizeof(cbuf), &clen, fmt, ap);
	va_end(ap);
	if (clen > 0) {
		mlen = strnlen(err->msg, sizeof(err->msg) - 1);
		jlen = clen + (mlen ? 2 + mlen : 0);
		if (jlen >= sizeof(jbuf))
			joined = sp_xmalloc(jlen + 1);
		memcpy(joined, ctx, clen);
		if (mlen) {
			memcpy(joined + clen, ": ", 2);
			memcpy(joined + clen + 2, err->msg, mlen);
		}
		sp_err_fit(err, joined, jlen);
	}
	if (joined != jbuf)
		free(joined);
	if (ctx != cbuf)
		free(ctx);
}

static void sp_oom(void)
{
	/* Writing is all that is safe here; the caller has nothing to undo. */
	static const char msg[] = "spectrum: out of memory\n";
	fwrite(msg, 1, sizeof(msg) - 1, stderr);
	abort();
}

void *sp_xmalloc(size_t size)
{
	void *p = calloc(1, size ? size : 1);
	if (!p)
		sp_oom();
	return p;
}

void *sp_xrealloc(void *p, size_t n, size_t size)
{
	size_t total;

	if (size && n > SIZE_MAX / size)
		sp_oom();
	total = n * size;
	p = realloc(p, total ? total : 1);
	if (!p)
		sp_oom();
	return p;
}

char *sp_xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		sp_oom();
	return d;
}

/* Arena: a list of chunks; big requests get a chunk of their own. */
#define SP_ARENA_CHUNK 16384

struct sp_chunk {
	struct sp_chunk *next;
	size_t used;
	size_t size;
	_Alignas(max_align_t) unsigned char data[];
};

struct sp_arena {
	struct sp_chunk *head;
};

struct sp_arena *sp_arena_new(void)
{
	return sp_xmalloc(sizeof(struct sp_arena));
}

void sp_arena_free(struct sp_arena *a)
{
	if (!a)
		return;
	while (a->head) {
		struct sp_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
	free(a);
}

void *sp_arena_alloc(struct sp_arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	struct sp_chunk *c = a->head;
	size_t need;

	if (size > SIZE_MAX - align)
		sp_oom();
	need = (size + align - 1) & ~(align - 1);
	if (!c || c->size - c->used < need) {
		size_t csize = need > SP_ARENA_CHUNK ? need : SP_ARENA_CHUNK;
		c = sp_xmalloc(sizeof(*c) + csize);
		c->size = csize;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	memset(p, 0, size);
	return p;
}

void *sp_arena_array(struct sp_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		sp_oom();
	return sp_arena_alloc(a, n * size);
}

char *sp_arena_strdup(struct sp_arena *a, const char *s)
{
	size_t len = strlen(s);
	char *d = sp_arena_alloc(a, len + 1);
	memcpy(d, s, len + 1);
	return d;
}

char *sp_arena_printf(struct sp_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int len;
	char *s;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		sp_oom();
	s = sp_arena_alloc(a, (size_t)len + 1);
	vsnprintf(s, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	return s;
}

static bool sp_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool sp_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SP_NAME_MAX)
		return false;
	if (s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!sp_name_char(s[i]))
			return false;
	return true;
}

int sp_size_parse(const char *s, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	uint64_t v = 0;
	const char *p = s;
	const char *u;
	unsigned shift;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '\0' || !(u = strchr(units, *p)))
		return -1;
	shift = 10 * (unsigned)(u - units + 1);
	p++;
	if (strcmp(p, "") != 0 && strcmp(p, "iB") != 0)
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*bytes = v << shift;
	return 0;
}

void sp_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int i = 3;

	for (; i >= 0; i--) {
		unsigned shift = 10 * (unsigned)(i + 1);
		uint64_t unit = 1ull << shift;
		if (bytes >= unit && bytes % unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(bytes >> shift), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

bool sp_path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);
	return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

void sp_path_normalize(const char *path, char *out, size_t len)
{
	size_t o = 0;
	const char *p = path;

	if (len == 0)
		return;
	while (*p) {
		const char *start;
		size_t clen;

		while (*p == '/')
			p++;
		start = p;
		while (*p && *p != '/')
			p++;
		clen = (size_t)(p - start);
		if (clen == 0 || (clen == 1 && start[0] == '.'))
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o + 1 + clen >= len)
			break;
		out[o++] = '/';
		memcpy(out + o, start, clen);
		o += clen;
	}
	if (o == 0 && len > 1)
		out[o++] = '/';
	out[o] = '\0';
}

enum sp_path_problem sp_guest_path_check(const char *path)
{
	/* The guest kernel owns these trees; mounting over them breaks init. */
	static const char *const reserved[] = {"/proc", "/sys", "/dev"};
	char norm[SP_GUEST_PATH_MAX + 1];
	size_t len = strlen(path);

	if (len == 0)
		return SP_PATH_EMPTY;
	if (len > SP_GUEST_PATH_MAX)
		return SP_PATH_TOO_LONG;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return SP_PATH_BAD_CHAR;
	if (path[0] != '/')
		return SP_PATH_RELATIVE;
	sp_path_normalize(path, norm, sizeof(norm));
	if (strcmp(norm, "/") == 0)
		return SP_PATH_ROOT;
	if (strcmp(norm, path) != 0)
		return SP_PATH_NOT_NORMAL;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (sp_path_within(path, reserved[i]))
			return SP_PATH_RESERVED;
	return SP_PATH_OK;
}

unsigned sp_edit_distance(const char *a, const char *b)
{
	/* Optimal string alignment: insertions, deletions, substitutions and
	 * swaps of neighbours ("mial" -> "mail") cost one.  Keys are short;
	 * longer strings are simply "far". */
	enum { MAXLEN = 64 };
	unsigned d[3][MAXLEN + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > MAXLEN || lb > MAXLEN)
		return MAXLEN;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return d[la % 3][lb];
}

uint64_t sp_hash64(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t sp_hash64_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

bool sp_uint_parse(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (ULONG_MAX - (unsigned long)(*s - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

char *sp_path_join(struct sp_arena *a, const char *dir, const char *rel)
{
	while (rel[0] == '.' && rel[1] == '/') {
		rel += 2;
		while (*rel == '/')
			rel++;
	}
	return sp_arena_printf(a, "%s/%s", dir, rel);
}

int sp_open_regular(const char *path, int flags, mode_t *type)
{
	struct stat st;
	int fd, e;

	*type = 0;
	/* What is not a regular file is refused without being opened at
	 * all, so a device's open has no chance to do anything. */
	if (((flags & O_NOFOLLOW) ? lstat(path, &st) : stat(path, &st)) < 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		goto not_regular;
	/* It may be another file by now: O_NONBLOCK makes the open of a
	 * FIFO return at once, and fstat decides on what was opened. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		goto not_regular;
	}
	/* O_NONBLOCK was for the open only. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
not_regular:
	*type = st.st_mode & S_IFMT;
	errno = EINVAL;
	return -1;
}

const char *sp_file_type_name(mode_t type)
{
	switch (type & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "not a regular file";
}

void sp_cloexec_from(int lowfd)
{
	if (close_range((unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = lowfd; fd < 65536; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

long sp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sp_flock_wait(int fd)
{
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

ssize_t sp_recv_fd(int sock, void *buf, size_t len, int flags, int *fd, bool *extra)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	bool more = false;

	*fd = -1;
	if (n < 0) {
		if (extra)
			*extra = false;
		return n;
	}
	more = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			more = true;
			continue;
		}
		for (size_t i = 0; i < nfds; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*fd < 0) {
				*fd = got;
			} else {
				close(got);
				more = true;
			}
		}
	}
	if (extra)
		*extra = more;
	return n;
}
