/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The value syntaxes of the data file, and the small helpers behind them. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend.h"
#include "tap.h"
#include "util.h"

static void test_sizes(void)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{"512M", 0, 512ull << 20},    {"2G", 0, 2ull << 30},	 {"64MiB", 0, 64ull << 20},
		{"1K", 0, 1024},	      {"16T", 0, 16ull << 40},	 {"0M", 0, 0},
		{"16777215T", 0, 16777215ull << 40},
		{"16777216T", -1, 0},	      {"512", -1, 0},		 {"M", -1, 0},
		{"", -1, 0},		      {"1.5G", -1, 0},		 {"-1G", -1, 0},
		{"1g", -1, 0},		      {"1GB", -1, 0},		 {"1Gi", -1, 0},
		{" 1G", -1, 0},		      {"1G ", -1, 0},		 {"99999999999999999999K", -1, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int rc = sp_size_parse(cases[i].s, &v);
		TAP_OK(rc == cases[i].rc && (rc < 0 || v == cases[i].v), "size \"%s\"", cases[i].s);
	}
	char buf[32];
	sp_size_format(256ull << 20, buf, sizeof(buf));
	TAP_STR(buf, "256M", "format 256 MiB");
	sp_size_format(1ull << 30, buf, sizeof(buf));
	TAP_STR(buf, "1G", "format 1 GiB");
	sp_size_format(1536ull << 20, buf, sizeof(buf));
	TAP_STR(buf, "1536M", "format 1.5 GiB exactly in MiB");
	sp_size_format(1000, buf, sizeof(buf));
	TAP_STR(buf, "1000 bytes", "format bytes");
}

static void test_names(void)
{
	static const char *const good[] = {"a", "mail", "mail-work", "0", "a1-b2",
					   "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789a"};
	static const char *const bad[] = {"", "-a", "a-", "Mail", "a_b", "a.b", "a b", "é",
					  "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789ab"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TAP_OK(sp_name_valid(good[i]), "name \"%s\" is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TAP_OK(!sp_name_valid(bad[i]), "name \"%s\" is refused", bad[i]);
}

static void test_paths(void)
{
	static const struct {
		const char *p;
		enum sp_path_problem want;
	} cases[] = {
		{"/data", SP_PATH_OK},
		{"/home/user/Mail", SP_PATH_OK},
		{"/devices", SP_PATH_OK},
		{"/proceed", SP_PATH_OK},
		{"/home/user/My Documents", SP_PATH_OK},
		{"", SP_PATH_EMPTY},
		{"data", SP_PATH_RELATIVE},
		{"/", SP_PATH_ROOT},
		{"//", SP_PATH_ROOT},
		{"/a/../..", SP_PATH_ROOT},
		{"/a/", SP_PATH_NOT_NORMAL},
		{"/a//b", SP_PATH_NOT_NORMAL},
		{"/a/./b", SP_PATH_NOT_NORMAL},
		{"/a/../b", SP_PATH_NOT_NORMAL},
		{"/proc", SP_PATH_RESERVED},
		{"/sys/fs", SP_PATH_RESERVED},
		{"/dev", SP_PATH_RESERVED},
		{"/a\nb", SP_PATH_BAD_CHAR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		TAP_OK(sp_guest_path_check(cases[i].p) == cases[i].want, "guest path case %zu", i);

	char out[64];
	sp_path_normalize("/a/./b//c/../d/", out, sizeof(out));
	TAP_STR(out, "/a/b/d", "normalize");
	sp_path_normalize("/../..", out, sizeof(out));
	TAP_STR(out, "/", "normalize above root");
	TAP_OK(sp_path_within("/proc/1", "/proc") && !sp_path_within("/procfs", "/proc"),
	       "within");
}

static void test_uint(void)
{
	static const struct {
		const char *s;
		bool ok;
		unsigned long v;
	} cases[] = {
		{"1", true, 1},		 {"86400", true, 86400}, {"0", false, 0},
		{"86401", false, 0},	 {"", false, 0},	 {" 5", false, 0},
		{"+5", false, 0},	 {"-1", false, 0},	 {"5s", false, 0},
		{"0x10", false, 0},	 {"4294967297", false, 0},
		{"99999999999999999999999", false, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned long v = 0;
		bool ok = sp_uint_parse(cases[i].s, 1, 86400, &v);
		TAP_OK(ok == cases[i].ok && (!ok || v == cases[i].v), "number \"%s\" in 1..86400",
		       cases[i].s);
	}
}

static void test_distance(void)
{
	TAP_OK(sp_edit_distance("memory", "memroy") == 1, "swap is one edit");
	TAP_OK(sp_edit_distance("mial", "mail") == 1, "swap in a short word");
	TAP_OK(sp_edit_distance("instance", "instances") == 1, "insertion");
	TAP_OK(sp_edit_distance("", "abc") == 3, "from empty");
	TAP_OK(sp_edit_distance("kitten", "sitting") == 3, "classic");
}

static void test_quote(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"-m", "-m"},
		{"path=/a/b,readonly=on", "path=/a/b,readonly=on"},
		{"console=ttyS0 quiet", "'console=ttyS0 quiet'"},
		{"it's", "'it'\\''s'"},
		{"", "''"},
		{"$HOME", "'$HOME'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *q = sp_shell_quote(cases[i].in);
		TAP_STR(q, cases[i].out, "quote case %zu", i);
		free(q);
	}
}

static void test_hash(void)
{
	/* Published FNV-1a 64 test vectors: MACs and tap names must never
	 * change between releases, or guests would see new NICs. */
	TAP_OK(sp_hash64("", 0) == 0xcbf29ce484222325ull, "fnv1a empty");
	TAP_OK(sp_hash64("a", 0) == 0xaf63dc4c8601ec8cull, "fnv1a \"a\"");
	TAP_OK(sp_hash64("foobar", 0) == 0x85944171f73967e8ull, "fnv1a \"foobar\"");
}

static void test_argv(void)
{
	struct sp_argv a;

	sp_argv_init(&a);
	for (int i = 0; i < 100; i++)
		sp_argv_opt(&a, "-x", "%d", i);
	TAP_OK(a.n == 200 && a.v[200] == NULL, "argv grows and stays NULL-terminated");
	TAP_STR(a.v[199], "99", "argv keeps order");
	sp_argv_free(&a);
}

/* true if every multi-byte sequence in s is whole (no cut one). */
static bool utf8_whole(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = *p < 0x80	    ? 0 :
			(*p & 0xe0) == 0xc0 ? 1 :
			(*p & 0xf0) == 0xe0 ? 2 :
			(*p & 0xf8) == 0xf0 ? 3 :
					      -1;

		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *end)
{
	size_t ls = strlen(s), le = strlen(end);

	return ls >= le && strcmp(s + ls - le, end) == 0;
}

static void test_err_wrap(void)
{
	struct sp_err e = {0};
	char big[3000];

	sp_err_set(&e, "cannot create %s: %s", "/srv/mail", "No space left on device");
	sp_err_wrap(&e, "volume %s", "mail-store");
	TAP_STR(e.msg, "volume mail-store: cannot create /srv/mail: No space left on device",
		"wrap puts the context in front");
	sp_err_wrap(&e, "starting %s", "mail-work");
	TAP_STR(e.msg,
		"starting mail-work: volume mail-store: cannot create /srv/mail: No space left on device",
		"wraps chain from the outermost context to the cause");

	sp_err_set(&e, "image missing");
	e.missing = true;
	e.code = 3;
	snprintf(e.place, sizeof(e.place), "instances.a");
	sp_err_wrap(&e, "starting a");
	TAP_OK(e.missing && e.code == 3 && strcmp(e.place, "instances.a") == 0,
	       "wrap keeps place, missing and code");
	sp_err_set(&e, "other");
	TAP_OK(!e.missing && e.code == 0 && e.place[0] == '\0',
	       "set clears place, missing and code");

	sp_err_wrap(NULL, "nothing");
	TAP_OK(true, "wrap of a NULL error does nothing");
	e.msg[0] = '\0';
	sp_err_wrap(&e, "starting %s", "a");
	TAP_STR(e.msg, "starting a", "wrap of an empty message is the context alone");
	sp_err_set(&e, "cause");
	sp_err_wrap(&e, "%s", "");
	TAP_STR(e.msg, "cause", "an empty context changes nothing");
	sp_err_wrap(&e, "retrying after %s", e.msg);
	TAP_STR(e.msg, "retrying after cause: cause", "the context may quote the message itself");
	sp_err_set(&e, "again: %s", e.msg);
	TAP_STR(e.msg, "again: retrying after cause: cause", "set may quote the message itself");

	/* a cause as long as the message can be: its end survives a wrap */
	memset(big, 'x', sizeof(e.msg) - 20);
	strcpy(big + sizeof(e.msg) - 20, "; run apt-get update");
	sp_err_set(&e, "%s", big);
	TAP_OK(strlen(e.msg) == sizeof(e.msg) - 1 && ends_with(e.msg, "; run apt-get update"),
	       "a cause that just fits is whole");
	sp_err_wrap(&e, "building image %s", "mail");
	TAP_OK(strlen(e.msg) == sizeof(e.msg) - 1,
	       "a wrap that does not fit fills the message exactly");
	TAP_OK(strncmp(e.msg, "building image mail: xxx", 24) == 0, "... keeps the context");
	TAP_OK(strstr(e.msg, "x...x") != NULL, "... marks the cut in the middle");
	TAP_OK(ends_with(e.msg, "; run apt-get update"), "... keeps the end of the cause, its fix");

	/* a context longer than the whole message */
	memset(big, 'c', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sp_err_set(&e, "disk full; free some space");
	sp_err_wrap(&e, "copying %s", big);
	TAP_OK(strlen(e.msg) == sizeof(e.msg) - 1 && strncmp(e.msg, "copying ccc", 11) == 0 &&
		       ends_with(e.msg, "c: disk full; free some space"),
	       "a huge context is cut in its middle, the cause stays whole");

	/* a too long message set at once keeps its head and its end */
	memset(big, 'p', sizeof(big) - 1);
	sp_err_set(&e, "cannot read %s; check the path", big);
	TAP_OK(strlen(e.msg) == sizeof(e.msg) - 1 && strncmp(e.msg, "cannot read ppp", 15) == 0 &&
		       strstr(e.msg, "p...p") && ends_with(e.msg, "p; check the path"),
	       "a too long message set loses its middle, not its end");

	/* cuts never split a UTF-8 sequence, at either end of the "..." */
	big[0] = '\0';
	for (size_t i = 0; i < 1100; i++)
		strcat(big, i % 2 ? "\xc3\xa9" : "\xe2\x82\xac"); /* e acute, euro sign */
	for (int shift = 0; shift < 4; shift++) {
		sp_err_set(&e, "%.*s%s", shift, "abc", big);
		TAP_OK(utf8_whole(e.msg) && strstr(e.msg, "..."),
		       "UTF-8 stays whole when set cuts (shift %d)", shift);
		sp_err_set(&e, "%s", big + 2000);
		sp_err_wrap(&e, "%.*s%s", shift, "abc", big);
		TAP_OK(utf8_whole(e.msg) && strstr(e.msg, "..."),
		       "UTF-8 stays whole when wrap cuts (shift %d)", shift);
	}
}

static void test_path_join(void)
{
	struct sp_arena *a = sp_arena_new();

	TAP_STR(sp_path_join(a, ".", "x.erofs"), "./x.erofs", "join: a bare name");
	TAP_STR(sp_path_join(a, ".", "./x.erofs"), "./x.erofs", "join: no doubled ./");
	TAP_STR(sp_path_join(a, "/d", ".//./v/x.img"), "/d/v/x.img", "join: every leading ./ goes");
	TAP_STR(sp_path_join(a, "/d", "../x"), "/d/../x", "join: .. stays");
	TAP_STR(sp_path_join(a, "/d", ".hidden"), "/d/.hidden", "join: a dot file stays");
	sp_arena_free(a);
}

/* sp_open_regular refuses what is not a regular file without blocking
 * (a FIFO with no writer would hang an open(2) without O_NONBLOCK). */
static void test_open_regular(void)
{
	char dir[] = "/tmp/sp-test-util-XXXXXX", path[128];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t type;
	int fd, s;
	bool ok;

	if (!mkdtemp(dir)) {
		TAP_OK(false, "open_regular: mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ok = fd >= 0 && write(fd, "x", 1) == 1;
	TAP_OK(ok, "open_regular: a file to read");
	close(fd);
	fd = sp_open_regular(path, O_NOFOLLOW, &type);
	ok = fd >= 0 && type == 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	     (fcntl(fd, F_GETFD) & FD_CLOEXEC);
	TAP_OK(ok, "open_regular: a regular file opens, blocking, close-on-exec");
	close(fd);

	snprintf(path, sizeof(path), "%s/fifo", dir);
	ok = mkfifo(path, 0600) == 0 && sp_open_regular(path, 0, &type) < 0 && type == S_IFIFO;
	TAP_OK(ok, "open_regular: a FIFO is refused at once");
	TAP_STR(sp_file_type_name(type), "a FIFO", "open_regular: named a FIFO");
	unlink(path);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ok = s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     sp_open_regular(sa.sun_path, 0, &type) < 0 && type == S_IFSOCK;
	TAP_OK(ok, "open_regular: a socket is refused");
	close(s);
	unlink(sa.sun_path);

	ok = sp_open_regular("/dev/null", 0, &type) < 0 && type == S_IFCHR;
	TAP_OK(ok, "open_regular: a device is refused");
	ok = sp_open_regular(dir, 0, &type) < 0 && type == S_IFDIR;
	TAP_OK(ok, "open_regular: a directory is refused");
	snprintf(path, sizeof(path), "%s/link", dir);
	ok = symlink("file", path) == 0 && sp_open_regular(path, O_NOFOLLOW, &type) < 0 &&
	     type == S_IFLNK;
	TAP_OK(ok, "open_regular: with O_NOFOLLOW, a symbolic link is refused");
	fd = sp_open_regular(path, 0, &type);
	TAP_OK(fd >= 0, "open_regular: without it, a link to a file opens");
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/none", dir);
	ok = sp_open_regular(path, 0, &type) < 0 && type == 0 && errno == ENOENT;
	TAP_OK(ok, "open_regular: a missing file is ENOENT");
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);
	rmdir(dir);
}

/* Sends "hi" with n descriptors (of /dev/null) on a SOCK_SEQPACKET pair. */
static void send_fds(int sock, int n)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	int fds[3];
	struct iovec iov = {"hi", 2};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	for (int i = 0; i < n; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (n) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
	}
	sendmsg(sock, &msg, 0);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_recv_fd(void)
{
	int sv[2], fd = -2, before;
	bool extra = true, ok;
	char buf[8];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		TAP_OK(false, "socketpair");
		return;
	}
	send_fds(sv[0], 0);
	n = sp_recv_fd(sv[1], buf, sizeof(buf), 0, &fd, &extra);
	TAP_OK(n == 2 && fd == -1 && !extra, "sp_recv_fd: bytes without a descriptor");
	send_fds(sv[0], 1);
	n = sp_recv_fd(sv[1], buf, sizeof(buf), 0, &fd, &extra);
	TAP_OK(n == 2 && fd >= 0 && !extra && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	       "sp_recv_fd: one descriptor kept, close-on-exec");
	before = fd;
	close(fd);
	send_fds(sv[0], 3);
	n = sp_recv_fd(sv[1], buf, sizeof(buf), 0, &fd, &extra);
	ok = n == 2 && fd == before && extra && fcntl(before + 1, F_GETFD) < 0;
	TAP_OK(ok, "sp_recv_fd: of three, the first kept and the others closed (extra)");
	close(fd);
	n = sp_recv_fd(sv[1], buf, sizeof(buf), MSG_DONTWAIT, &fd, &extra);
	TAP_OK(n < 0 && fd == -1, "sp_recv_fd: nothing to receive");
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	test_uint();
	test_sizes();
	test_names();
	test_paths();
	test_distance();
	test_quote();
	test_hash();
	test_argv();
	test_err_wrap();
	test_path_join();
	test_open_regular();
	test_recv_fd();
	return tap_done();
}
