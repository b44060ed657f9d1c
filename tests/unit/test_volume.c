/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An existing volume is checked on the host before a guest boots to mount
 * it: a file or block device whose ext4 magic number is where ext4 keeps
 * it.  Only that number is read; nothing here needs a file system. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "tap.h"

static char dir[] = "/tmp/sp-test-volume-XXXXXX";

static char *path(const char *name)
{
	static char buf[4][128];
	static unsigned next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* A file of `size` zero bytes, with `magic` (two bytes) at `at` if given. */
static void make(const char *name, off_t size, const unsigned char *magic, off_t at)
{
	int fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, size) < 0 || (magic && pwrite(fd, magic, 2, at) != 2))
		printf("# cannot make %s: %s\n", name, strerror(errno));
	close(fd);
}

/* sp_volume_prepare on NAME as the image of resource "data"; the message. */
static int prepare(const char *name, bool create, struct sp_err *err)
{
	struct sp_plan_disk d = {.resource = "data", .image = path(name), .create = create};

	memset(err, 0, sizeof(*err));
	return sp_volume_prepare(&d, err);
}

int main(void)
{
	static const unsigned char ext4[2] = {0x53, 0xef}, other[2] = {0xef, 0x53};
	struct sp_err err;
	int rc;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	make("ext4.img", 1 << 20, ext4, 1080);
	rc = prepare("ext4.img", false, &err);
	TAP_OK(rc == 0, "an image with the ext4 magic at byte 1080 is taken (%s)", err.msg);

	make("empty.img", 0, NULL, 0);
	rc = prepare("empty.img", false, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "volume data: ") &&
		       strstr(err.msg,
			      "/empty.img is empty (0 bytes), not an ext4 file system; remove it, or give an ext4 image"),
	       "an empty file is refused, naming the resource and the file");
	rc = prepare("empty.img", true, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "remove it and Spectrum makes a new one"),
	       "an empty volume of Spectrum's: remove it and a new one is made");

	make("zeros.img", 1 << 20, NULL, 0);
	rc = prepare("zeros.img", false, &err);
	TAP_OK(rc < 0 &&
		       strstr(err.msg,
			      "/zeros.img is not an ext4 file system (no ext4 magic number); give the path of an ext4 image"),
	       "a file without the magic is refused");
	make("swapped.img", 1 << 20, other, 1080);
	rc = prepare("swapped.img", false, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "is not an ext4 file system"),
	       "the magic's bytes in the other order are not it");
	make("short.img", 1081, NULL, 0);
	rc = prepare("short.img", true, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "is not an ext4 file system") &&
		       strstr(err.msg, "restore it from a copy"),
	       "a file that ends before the magic is refused");

	rc = mkfifo(path("fifo.img"), 0600) == 0 ? prepare("fifo.img", false, &err) : 0;
	TAP_OK(rc < 0 &&
		       strstr(err.msg, "/fifo.img is a FIFO, not an image file or a block device"),
	       "a FIFO is refused, at once");
	rc = mkdir(path("dir.img"), 0700) == 0 ? prepare("dir.img", false, &err) : 0;
	TAP_OK(rc < 0 && strstr(err.msg, "/dir.img is a directory, not an image file"),
	       "a directory is refused");
	rc = symlink("ext4.img", path("link.img")) == 0 ? prepare("link.img", false, &err) : 0;
	TAP_OK(rc < 0 && strstr(err.msg, "/link.img: is a symbolic link"),
	       "a symbolic link is not followed");
	rc = prepare("none.img", false, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "No such file or directory"),
	       "a missing image that Spectrum does not make is refused");

	unlink(path("ext4.img"));
	unlink(path("empty.img"));
	unlink(path("zeros.img"));
	unlink(path("swapped.img"));
	unlink(path("short.img"));
	unlink(path("fifo.img"));
	unlink(path("link.img"));
	rmdir(path("dir.img"));
	rmdir(dir);
	return tap_done();
}
