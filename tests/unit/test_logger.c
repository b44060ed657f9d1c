/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capped log of lib/logger.c: bounded, newest lines kept, whole lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logger.h"
#include "tap.h"

static char *slurp(int fd, off_t *len)
{
	struct stat st;
	char *buf;

	fstat(fd, &st);
	buf = calloc(1, (size_t)st.st_size + 1);
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		buf[0] = '\0';
	*len = st.st_size;
	return buf;
}

static int tmpfile_fd(void)
{
	char path[] = "/tmp/spectrum-logger-test.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

static void test_lines(void)
{
	int fd = tmpfile_fd();
	off_t size = 0, len;
	bool under = true;
	char line[64], *all;

	for (int i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		if (sp_log_append(fd, &size, 4096, line, (size_t)n) < 0)
			under = false;
		if (size > 4096)
			under = false;
	}
	all = slurp(fd, &len);
	TAP_OK(under, "the log never passes its cap (4096 bytes) over 5000 lines");
	TAP_OK(len == size, "the size kept matches the file's (%lld)", (long long)len);
	TAP_OK(len >= 2048 - 16, "at least half the cap is kept after a cut (%lld)", (long long)len);
	TAP_OK(len > 10 && strcmp(all + len - 10, "line 4999\n") == 0, "the newest line is last");
	TAP_OK(strncmp(all, "line ", 5) == 0, "the log starts with a whole line");
	free(all);
	close(fd);
}

static void test_big_write(void)
{
	int fd = tmpfile_fd();
	off_t size = 0, len;
	char *big = malloc(10000), *all;

	memset(big, 'x', 10000);
	memcpy(big + 9990, "the-end-!\n", 10);
	sp_log_append(fd, &size, 1000, "old\n", 4);
	TAP_OK(sp_log_append(fd, &size, 1000, big, 10000) == 0, "a write of ten caps at once is taken");
	all = slurp(fd, &len);
	TAP_OK(len <= 1000, "and leaves the log under its cap (%lld)", (long long)len);
	TAP_OK(len >= 10 && memcmp(all + len - 10, "the-end-!\n", 10) == 0, "with its newest bytes");
	free(all);
	free(big);
	close(fd);
}

static void test_append_existing(void)
{
	int fd = tmpfile_fd();
	off_t size = 4, len;
	char *all;

	if (write(fd, "old\n", 4) != 4)
		size = 0;
	sp_log_append(fd, &size, 1000, "new\n", 4);
	all = slurp(fd, &len);
	TAP_STR(all, "old\nnew\n", "a log of an earlier run is appended to");
	free(all);
	close(fd);
}

int main(void)
{
	test_lines();
	test_big_write();
	test_append_existing();
	return tap_done();
}
