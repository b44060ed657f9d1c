/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-wlfilter: one instance's Wayland filter, between the waypipe
 * client that relays its guest and the user's compositor (see
 * man/spectrum-wlfilter.1).  This file is the I/O: a poll loop over two
 * sockets that hands whole messages to filter.c.  It needs no privileges
 * and opens nothing but the compositor's socket (and --listen's).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "filter.h"

#define PROG "spectrum-wlfilter"
#define IN_CAP (2 * SWL_MSG_MAX)
#define OUT_CAP (16 * SWL_MSG_MAX)
#define FDQ_MAX (2 * SWL_FDS_MAX)
#define WRITERS_MAX 8 /* receives of the paste being written at once */

enum {
	EXIT_USAGE = 2
};

struct opts {
	struct swl_config cfg;
	int listen_fd;
	const char *listen_path;
	const char *compositor;
	int compositor_fd; /* --compositor-fd: one guest connection, then the end */
	const char *color;
	int log_fd, ready_fd;
	int control_fd; /* --control-fd: the user's pastes (control.h), or -1 */
};

/* One end of the session: what arrived from it, what waits to go to it. */
struct side {
	const char *name;
	int fd;
	uint8_t in[IN_CAP];
	size_t in_len;
	int fds_in[FDQ_MAX];
	unsigned nfds_in;
	uint8_t out_buf[OUT_CAP];
	struct swl_out out;
	int fds_out[FDQ_MAX];
	size_t fds_out_at[FDQ_MAX]; /* where in out its message starts */
	unsigned nfds_out;
};

static struct opts o = {
	.listen_fd = -1, .compositor_fd = -1, .log_fd = 2, .ready_fd = -1, .control_fd = -1};
static struct swl_state state;
static struct side guest, comp;

static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line),
			 PROG ": %s: ", o.cfg.instance[0] ? o.cfg.instance : "-");

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(o.log_fd, line, (size_t)n) < 0) {
		/* nowhere else to say it */
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " --instance NAME (--listen-fd N | --listen PATH) "
		"(--compositor PATH | --compositor-fd N) [--color '#rrggbb'] [--allow-fullscreen] "
		"[--clipboard none|paste|copy|both] [--control-fd N] [--log-fd N] [--ready-fd N]\n");
	exit(EXIT_USAGE);
}

/* "OPTION ARG: what to give instead" on stderr, and the usage status. */
static void die_usage(const char *opt, const char *arg, const char *fix)
{
	fprintf(stderr, PROG ": %s %s: %s\n", opt, arg, fix);
	exit(EXIT_USAGE);
}

static int parse_fd(const char *s, const char *opt)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 65535)
		die_usage(opt, s, "not a descriptor number");
	if (fcntl((int)v, F_GETFD) < 0)
		die_usage(opt, s, "descriptor not open");
	return (int)v;
}

static bool color_valid(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"listen-fd", required_argument, NULL, 'L'},
		{"listen", required_argument, NULL, 'l'},
		{"compositor", required_argument, NULL, 'c'},
		{"compositor-fd", required_argument, NULL, 'f'},
		{"color", required_argument, NULL, 'C'},
		{"allow-fullscreen", no_argument, NULL, 'F'},
		{"clipboard", required_argument, NULL, 'b'},
		{"log-fd", required_argument, NULL, 'g'},
		{"ready-fd", required_argument, NULL, 'r'},
		{"control-fd", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!swl_instance_valid(optarg))
				die_usage("--instance", optarg,
					  "1 to 63 of a-z, 0-9 and '-' (not first or last)");
			strcpy(o.cfg.instance, optarg);
			break;
		case 'L':
			o.listen_fd = parse_fd(optarg, "--listen-fd");
			break;
		case 'l':
			o.listen_path = optarg;
			break;
		case 'c':
			o.compositor = optarg;
			break;
		case 'f':
			o.compositor_fd = parse_fd(optarg, "--compositor-fd");
			break;
		case 'C':
			if (!color_valid(optarg))
				die_usage("--color", optarg, "give #rrggbb, such as #c00000");
			o.color = optarg;
			break;
		case 'F':
			o.cfg.allow_fullscreen = true;
			break;
		case 'b':
			if (strcmp(optarg, "none") == 0)
				o.cfg.clipboard = SWL_CLIPBOARD_NONE;
			else if (strcmp(optarg, "paste") == 0)
				o.cfg.clipboard = SWL_CLIPBOARD_PASTE;
			else if (strcmp(optarg, "copy") == 0)
				o.cfg.clipboard = SWL_CLIPBOARD_COPY;
			else if (strcmp(optarg, "both") == 0)
				o.cfg.clipboard = SWL_CLIPBOARD_BOTH;
			else
				die_usage("--clipboard", optarg, "give none, paste, copy or both");
			break;
		case 'k':
			o.control_fd = parse_fd(optarg, "--control-fd");
			break;
		case 'g':
			o.log_fd = parse_fd(optarg, "--log-fd");
			break;
		case 'r':
			o.ready_fd = parse_fd(optarg, "--ready-fd");
			break;
		default:
			usage();
		}
	}
	if (optind != argc || !o.cfg.instance[0] || (o.compositor_fd < 0) == !o.compositor ||
	    (o.listen_fd < 0) == !o.listen_path)
		usage();
}

static int unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || unix_addr(&sa, path) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		fprintf(stderr, PROG ": cannot listen on %s: %s (remove a stale socket first)\n",
			path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A new connection to the compositor, or -1 (errno set). */
static int connect_compositor(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	if (unix_addr(&sa, o.compositor) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/*
 * --compositor-fd: a connection made for the filter (by a parent that
 * may reach the compositor's socket when the filter may not), taken as
 * the filter's own (non-blocking, closed at exec).  It cannot be made
 * again, so the filter serves one guest connection with it and ends.
 */
static int adopt_compositor(int fd)
{
	int type = 0, fl;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
		fprintf(stderr,
			PROG ": --compositor-fd %d: not a connected stream socket (give "
			     "the descriptor of a connection to the compositor)\n",
			fd);
		exit(EXIT_USAGE);
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, PROG ": --compositor-fd %d: %s\n", fd, strerror(errno));
		exit(1);
	}
	return fd;
}

static void side_reset(struct side *s, const char *name, int fd)
{
	s->name = name;
	s->fd = fd;
	s->in_len = 0;
	s->nfds_in = 0;
	s->out = (struct swl_out){.buf = s->out_buf, .len = 0, .cap = OUT_CAP};
	s->nfds_out = 0;
}

static void side_close(struct side *s)
{
	for (unsigned i = 0; i < s->nfds_in; i++)
		close(s->fds_in[i]);
	for (unsigned i = 0; i < s->nfds_out; i++)
		close(s->fds_out[i]);
	s->nfds_in = s->nfds_out = 0;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Reads bytes and descriptors: 1 read, 0 end of stream, -1 error (why set). */
static int side_read(struct side *s, const char **why)
{
	union {
		char buf[CMSG_SPACE(SWL_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {s->in + s->in_len, IN_CAP - s->in_len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(s->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return 1;
		*why = strerror(errno);
		return -1;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[SWL_FDS_MAX];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(fds, CMSG_DATA(c), nfd * sizeof(int));
		for (size_t i = 0; i < nfd; i++) {
			if (s->nfds_in == FDQ_MAX) {
				close(fds[i]);
				*why = "too many descriptors waiting for their messages";
				continue;
			}
			s->fds_in[s->nfds_in++] = fds[i];
		}
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		*why = "more than 28 descriptors in one message";
		return -1;
	}
	if (n == 0)
		return 0;
	s->in_len += (size_t)n;
	return 1;
}

/* Moves the descriptors of a handled message from one side's queue to the
 * other's (with the place of its bytes in the output), or closes them. */
static void take_fds(struct side *from, struct side *to, unsigned n, bool pass, size_t at)
{
	for (unsigned i = 0; i < n; i++) {
		if (pass && to->nfds_out < FDQ_MAX) {
			to->fds_out[to->nfds_out] = from->fds_in[i];
			to->fds_out_at[to->nfds_out++] = at;
		} else {
			close(from->fds_in[i]);
		}
	}
	from->nfds_in -= n;
	memmove(from->fds_in, from->fds_in + n, from->nfds_in * sizeof(int));
}

/* ---- the user's paste (filter.h, control.h) ----
 *
 * The text arrives through a pipe whose read end came on the control
 * channel; it is read from the poll loop without blocking, into a buffer
 * of fixed size (one byte more than a paste may have, to see one that
 * has more), then offered to the guest.  Each wl_data_offer.receive of it
 * gives a descriptor that the loop writes the text into, without
 * blocking, and closes.  Nothing here is sized by the guest.
 */
static uint8_t paste_buf[SWL_PASTE_MAX + 1];
static size_t paste_len;
static int paste_in = -1; /* the pipe being read, or -1 */
static bool paste_due;	  /* read whole, not offered yet */
static struct writer {
	int fd;
	size_t off;
} writers[WRITERS_MAX];
static unsigned nwriters;

static void writers_close(void)
{
	for (unsigned i = 0; i < nwriters; i++)
		close(writers[i].fd);
	nwriters = 0;
}

static void paste_stop_reading(void)
{
	if (paste_in >= 0)
		close(paste_in);
	paste_in = -1;
}

static bool nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

/* One end of a pipe (O_RDONLY: the read end; O_WRONLY: the write end),
 * and nothing else (spectrumd checked it too). */
static bool pipe_end(int fd, int mode)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && fl >= 0 && (fl & O_ACCMODE) == mode;
}

/*
 * The user's copy: the guest's selection is asked to write its text into
 * the pipe (its data source's send event carries the write end), which
 * the user's client reads; the filter never reads it.
 */
static void copy_start(int fd, struct side *g)
{
	size_t at = g->out.len;
	int r = 0;

	if (o.cfg.clipboard != SWL_CLIPBOARD_COPY && o.cfg.clipboard != SWL_CLIPBOARD_BOTH) {
		logline("copy refused: the clipboard policy allows no copy");
		close(fd);
		return;
	}
	if (g->out.cap - g->out.len >= SWL_OUT_ROOM && g->nfds_out < FDQ_MAX)
		r = swl_copy_request(&state, &g->out);
	if (r != 1) {
		logline("copy: the guest has no selection of text%s",
			r < 0 ? " (its output was full)" : "");
		close(fd);
		return;
	}
	g->fds_out[g->nfds_out] = fd;
	g->fds_out_at[g->nfds_out++] = at;
	logline("asked the guest's selection for the user's copy");
}

/* The first descriptor of a control message; any other is closed. */
static int control_fd_of(struct msghdr *mh)
{
	int keep = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep < 0)
				keep = fd;
			else
				close(fd);
		}
	}
	return keep;
}

/* One message of the control channel: a new paste starts (the one
 * before is no longer offered, its writes end). */
static void control_read(void)
{
	struct swl_control m;
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.buf,
			    .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(o.control_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	int fd;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		logline("control channel closed%s%s: no more pastes", n < 0 ? ": " : "",
			n < 0 ? strerror(errno) : "");
		close(o.control_fd);
		o.control_fd = -1;
		return;
	}
	fd = control_fd_of(&mh);
	if (n != sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    m.magic != SWL_CONTROL_MAGIC || fd < 0 ||
	    !(m.op == SWL_CONTROL_PASTE ? pipe_end(fd, O_RDONLY) && nonblocking(fd) :
	      m.op == SWL_CONTROL_COPY	? pipe_end(fd, O_WRONLY) :
					  false)) {
		logline("control channel: dropped a message that is not a paste or copy with its "
			"pipe");
		if (fd >= 0)
			close(fd);
		return;
	}
	if (m.op == SWL_CONTROL_COPY) {
		copy_start(fd, &guest);
		return;
	}
	if (o.cfg.clipboard != SWL_CLIPBOARD_PASTE && o.cfg.clipboard != SWL_CLIPBOARD_BOTH) {
		logline("paste refused: the clipboard policy allows no paste");
		close(fd);
		return;
	}
	paste_stop_reading();
	writers_close();
	swl_paste_forget(&state);
	paste_due = false;
	paste_len = 0;
	paste_in = fd;
}

/* Reads what the pipe holds; at its end the paste is due. */
static void paste_read(void)
{
	for (;;) {
		ssize_t n = read(paste_in, paste_buf + paste_len, sizeof(paste_buf) - paste_len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			logline("paste dropped: reading it: %s", strerror(errno));
			paste_stop_reading();
			return;
		}
		if (n == 0) {
			paste_stop_reading();
			paste_due = true;
			return;
		}
		paste_len += (size_t)n;
		if (paste_len > SWL_PASTE_MAX) {
			logline("paste dropped: more than %u bytes", SWL_PASTE_MAX);
			paste_stop_reading();
			paste_len = 0;
			return;
		}
	}
}

/* A paste read whole is offered once the guest's output has room. */
static void paste_offer(struct side *g)
{
	int told;

	if (!paste_due || g->out.cap - g->out.len < SWL_OUT_ROOM)
		return;
	paste_due = false;
	told = swl_paste_offer(&state, &g->out);
	if (state.note[0])
		logline("%s", state.note);
	logline("offered the user's paste (%zu bytes) to %d data device%s", paste_len, told,
		told == 1 ? "" : "s");
}

/* A receive of the current paste: its descriptor is written into. */
static void writer_add(int fd)
{
	if (!state.paste_live || nwriters == WRITERS_MAX || !nonblocking(fd)) {
		close(fd);
		return;
	}
	writers[nwriters++] = (struct writer){fd, 0};
}

/* Writes what the descriptor takes; false once it is done with (closed). */
static bool writer_step(struct writer *w)
{
	ssize_t n = write(w->fd, paste_buf + w->off, paste_len - w->off);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n > 0)
		w->off += (size_t)n;
	if (n > 0 && w->off < paste_len)
		return true;
	close(w->fd);
	return false;
}

/* The writers whose poll entries (from p) say they may go on. */
static void writers_run(const struct pollfd *p)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < nwriters; i++) {
		if (p[i].revents && !writer_step(&writers[i]))
			continue;
		writers[kept++] = writers[i];
	}
	nwriters = kept;
}

/* Handles the whole messages that arrived from `from`, while both outputs
 * have room: -1 when the connection must end (logged). */
static int side_process(struct side *from, struct side *to, bool requests)
{
	size_t off = 0;
	int r = 1;

	/* Room for what one message can produce: its bytes in both outputs
	 * and its descriptor (one at most, in every known signature). */
	while (to->out.cap - to->out.len >= SWL_OUT_ROOM &&
	       from->out.cap - from->out.len >= SWL_OUT_ROOM && to->nfds_out < FDQ_MAX) {
		struct swl_result res;
		size_t at = to->out.len;

		if (requests)
			r = swl_filter_request(&state, from->in + off, from->in_len - off,
					       from->nfds_in, &to->out, &from->out, &res);
		else
			r = swl_filter_event(&state, from->in + off, from->in_len - off,
					     from->nfds_in, &to->out, &from->out, &res);
		if (state.note[0])
			logline("%s", state.note);
		if (r <= 0)
			break;
		if (res.paste_target && res.nfds == 1) {
			writer_add(from->fds_in[0]);
			from->nfds_in--;
			memmove(from->fds_in, from->fds_in + 1, from->nfds_in * sizeof(int));
		} else {
			take_fds(from, to, res.nfds, res.pass_fds, at);
		}
		off += res.size;
	}
	from->in_len -= off;
	memmove(from->in, from->in + off, from->in_len);
	if (r < 0) {
		logline("closed the guest's connection: %s", state.why);
		return -1;
	}
	if (from->in_len == 0 && from->nfds_in > 0) {
		logline("closed the guest's connection: %s sent a descriptor with no message "
			"that carries one",
			requests ? "the guest" : "the compositor");
		return -1;
	}
	return 0;
}

/* Writes what waits for this side: descriptors go with the bytes of their
 * messages (never after them), at most SWL_FDS_MAX in one sendmsg. */
static int side_flush(struct side *s)
{
	union {
		char buf[CMSG_SPACE(SWL_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	unsigned nfd = s->nfds_out < SWL_FDS_MAX ? s->nfds_out : SWL_FDS_MAX;
	size_t len = nfd < s->nfds_out ? s->fds_out_at[nfd] : s->out.len;
	struct iovec iov = {s->out.buf, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (len == 0)
		return 0;
	if (nfd) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfd * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
		memcpy(CMSG_DATA(c), s->fds_out, nfd * sizeof(int));
	}
	n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	for (unsigned i = 0; i < nfd; i++)
		close(s->fds_out[i]);
	s->nfds_out -= nfd;
	memmove(s->fds_out, s->fds_out + nfd, s->nfds_out * sizeof(int));
	memmove(s->fds_out_at, s->fds_out_at + nfd, s->nfds_out * sizeof(size_t));
	for (unsigned i = 0; i < s->nfds_out; i++)
		s->fds_out_at[i] -= (size_t)n;
	s->out.len -= (size_t)n;
	memmove(s->out.buf, s->out.buf + n, s->out.len);
	return 0;
}

enum session_end {
	END_GUEST,
	END_COMPOSITOR
};

static short want_events(const struct side *self)
{
	short ev = 0;

	if (self->in_len < IN_CAP)
		ev |= POLLIN;
	if (self->out.len)
		ev |= POLLOUT;
	return ev;
}

/* Reads one side and handles what came: -1 to end the session. */
static int side_input(struct side *s, struct side *other, bool requests, short revents)
{
	const char *why = NULL;
	int r;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	r = side_read(s, &why);
	if (r < 0) {
		logline("closed the guest's connection: reading from %s: %s", s->name, why);
		return -1;
	}
	if (why) {
		logline("closed the guest's connection: %s: %s", s->name, why);
		return -1;
	}
	if (side_process(s, other, requests) < 0)
		return -1;
	return r == 0 ? -2 : 0;
}

/* One guest connection, until it or the compositor ends it. */
static enum session_end session(void)
{
	swl_state_init(&state, &o.cfg);
	for (;;) {
		struct pollfd p[4 + WRITERS_MAX] = {{guest.fd, want_events(&guest), 0},
						    {comp.fd, want_events(&comp), 0},
						    {o.control_fd, POLLIN, 0},
						    {paste_in, POLLIN, 0}};
		int r;

		for (unsigned i = 0; i < nwriters; i++)
			p[4 + i] = (struct pollfd){writers[i].fd, POLLOUT, 0};
		if (poll(p, 4 + nwriters, -1) < 0) {
			if (errno == EINTR)
				continue;
			return END_GUEST;
		}
		writers_run(p + 4);
		if (p[3].revents)
			paste_read();
		if (p[2].revents)
			control_read();
		if (p[0].revents & POLLOUT && side_flush(&guest) < 0)
			return END_GUEST;
		if (p[1].revents & POLLOUT && side_flush(&comp) < 0)
			return END_COMPOSITOR;
		r = side_input(&comp, &guest, false, p[1].revents);
		if (r == -2) {
			side_flush(&guest); /* its last words, such as a protocol error */
			return END_COMPOSITOR;
		}
		if (r < 0)
			return END_GUEST;
		r = side_input(&guest, &comp, true, p[0].revents);
		if (r < 0)
			return END_GUEST;
		/* Input left waiting for output room. */
		if ((guest.in_len && side_process(&guest, &comp, true) < 0) ||
		    (comp.in_len && side_process(&comp, &guest, false) < 0))
			return END_GUEST;
		paste_offer(&guest);
	}
}

static void announce_ready(void)
{
	if (o.ready_fd >= 0) {
		close(o.ready_fd);
		return;
	}
	printf("ready\n");
	fflush(stdout);
}

/* Waits for the next guest while watching the idle compositor connection:
 * the guest's fd, or -1 when the compositor has gone. */
static int wait_guest(int listen_fd, int comp_fd)
{
	for (;;) {
		struct pollfd p[2] = {{listen_fd, POLLIN, 0}, {comp_fd, POLLIN, 0}};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -1; /* an idle client hears nothing: this is the end */
		if (!p[0].revents)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			return fd;
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	int listen_fd, comp_fd;

	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	comp_fd = o.compositor_fd >= 0 ? adopt_compositor(o.compositor_fd) : connect_compositor();
	if (comp_fd < 0) {
		fprintf(stderr,
			PROG ": cannot connect to the compositor at %s: %s (give --compositor the "
			     "full path of its socket, such as $XDG_RUNTIME_DIR/wayland-1)\n",
			o.compositor, strerror(errno));
		return 1;
	}
	/* After the compositor answered: a failed start leaves no socket. */
	listen_fd = o.listen_path ? listen_on(o.listen_path) : o.listen_fd;
	if (o.color)
		logline("compositor rule: for_window [app_id=\"^spectrum\\.%s$\"] title_format "
			"\"<span background='%s'> %s </span> %%title\"",
			o.cfg.instance, o.color, o.cfg.instance);
	announce_ready();
	for (;;) {
		int fd = wait_guest(listen_fd, comp_fd);

		if (fd < 0)
			return 0;
		side_reset(&guest, "the guest", fd);
		side_reset(&comp, "the compositor", comp_fd);
		if (session() == END_COMPOSITOR)
			logline("the compositor closed the guest's connection");
		writers_close();
		paste_stop_reading();
		paste_due = false;
		side_close(&guest);
		side_close(&comp);
		if (o.compositor_fd >= 0)
			return 0; /* the one connection it was given */
		/* A fresh connection for the next guest; none means the
		 * compositor has gone, and so has the filter's purpose. */
		comp_fd = connect_compositor();
		if (comp_fd < 0)
			return 0;
	}
}
