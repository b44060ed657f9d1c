/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control port: a virtio-serial port named SP_GP_PORT, a line protocol
 * (guestproto.h).  Guest to host: "ready", "exit N", "error STAGE TEXT".
 * Host to guest: "poweroff".
 *
 * The port is non-blocking and every wait is a bounded poll: while the
 * host is not connected, virtio_console reports POLLHUP at once instead of
 * blocking, and a write would block until it connects.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init.h"

#define PORTS_DIR "/sys/class/virtio-ports"

static int ctl_fd = -1;
static bool searched;
/* A partial line from the host; longer lines are discarded. */
static char inbuf[SP_GP_LINE_MAX + 1];
static size_t inlen;
static bool discarding;

int gi_control_fd(void)
{
	return ctl_fd;
}

void gi_control_close(void)
{
	if (ctl_fd >= 0)
		close(ctl_fd);
	ctl_fd = -1;
}

/* Opens the port if its name has arrived; false if not (yet). */
static bool try_open(void)
{
	DIR *d = opendir(PORTS_DIR);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[300], name[64], dev[300];
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORTS_DIR "/%s/name", e->d_name);
		/* The name comes in a message after the port: empty until then. */
		if (gi_read_file(path, name, sizeof(name), &len) < 0)
			continue;
		while (len > 0 && name[len - 1] == '\n')
			name[--len] = '\0';
		if (strcmp(name, SP_GP_PORT) != 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		ctl_fd = open(dev, O_RDWR | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (ctl_fd < 0 && errno != ENOENT)
			gi_fail(SP_GP_STAGE_CONTROL, "%s: %s", dev, strerror(errno));
		found = ctl_fd >= 0;
	}
	closedir(d);
	return found;
}

void gi_control_find(bool quiet)
{
	int64_t deadline = gi_now_ms() + GI_CONTROL_WAIT_MS;

	searched = true;
	while (!try_open()) {
		if (gi_now_ms() >= deadline) {
			/* A machine started by hand: it runs, unsupervised. */
			if (!quiet)
				gi_note(SP_GP_STAGE_CONTROL,
					"no port named " SP_GP_PORT
					" after %d s; running without reports",
					GI_CONTROL_WAIT_MS / 1000);
			return;
		}
		gi_sleep_ms(GI_POLL_MS);
	}
}

bool gi_control_searched(void)
{
	return searched;
}

int gi_control_send(const char *line, int timeout_ms)
{
	int64_t deadline = gi_now_ms() + timeout_ms;
	size_t len = strlen(line), done = 0;

	if (ctl_fd < 0)
		return -1;
	while (done < len) {
		struct pollfd pfd = {.fd = ctl_fd, .events = POLLOUT};
		int64_t left = deadline - gi_now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, left < GI_POLL_MS ? (int)left : GI_POLL_MS) < 0 && errno != EINTR)
			return -1;
		if (!(pfd.revents & POLLOUT)) {
			/* POLLHUP comes at once while the host is away. */
			if (pfd.revents & POLLHUP)
				gi_sleep_ms(GI_POLL_MS);
			continue;
		}
		n = write(ctl_fd, line + done, len - done);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			done += (size_t)n;
	}
	return 0;
}

void gi_control_ready(void)
{
	if (ctl_fd < 0)
		return;
	/* The host connects as soon as it has started the VM, long before this;
	 * a host that never does has lost the instance. */
	if (gi_control_send(SP_GP_MSG_READY "\n", GI_CONNECT_WAIT_MS) < 0) {
		gi_control_close();
		gi_fail(SP_GP_STAGE_CONTROL,
			"the host did not connect to the control port within %d s",
			GI_CONNECT_WAIT_MS / 1000);
	}
}

static int handle_line(const char *line)
{
	struct sp_gp_event ev;

	if (sp_gp_line_parse(line, &ev) == SP_GP_POWEROFF)
		return GI_CTL_POWEROFF;
	/* Requests of a newer host are ignored, not fatal: the instance keeps
	 * running. */
	return 0;
}

int gi_control_read(void)
{
	int result = 0;
	char buf[256];
	ssize_t n;

	if (ctl_fd < 0)
		return 0;
	for (;;) {
		n = read(ctl_fd, buf, sizeof(buf));
		if (n == 0)
			return result | GI_CTL_HUP;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? result : result | GI_CTL_HUP;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				inbuf[inlen] = '\0';
				if (!discarding)
					result |= handle_line(inbuf);
				inlen = 0;
				discarding = false;
			} else if (inlen < sizeof(inbuf) - 1) {
				inbuf[inlen++] = buf[i];
			} else {
				discarding = true;
			}
		}
	}
}
