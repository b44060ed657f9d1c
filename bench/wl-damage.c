/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wl-damage: a damage-heavy Wayland client for the display benchmark.
 * It maps one xdg_toplevel of WIDTHxHEIGHT and draws FRAMES frames, each
 * a new picture over the whole window (a moving gradient: every pixel
 * changes, yet it compresses, like video or a scrolling page), one at a
 * time: commit, then wait for the frame callback.  The time from a
 * commit to its callback is a frame's round trip through whatever is
 * between the client and the compositor (waypipe, the relay, the port).
 *
 *   wl-damage [FRAMES [WIDTH HEIGHT]]      (default 120 640 480)
 *
 * Prints "wl-damage: frames N size WxH median MS p90 MS fps F MB/s B",
 * B being the pixels the client changed per second (4 bytes each).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

struct state {
	struct wl_compositor *compositor;
	struct wl_shm *shm;
	struct xdg_wm_base *wm;
	struct wl_surface *surface;
	struct xdg_surface *xsurface;
	struct xdg_toplevel *toplevel;
	struct wl_buffer *buffers[2];
	uint32_t *pixels[2];
	bool busy[2];
	bool configured, frame_done;
	int width, height;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
		   uint32_t version)
{
	struct state *s = data;

	if (strcmp(iface, wl_compositor_interface.name) == 0)
		s->compositor = wl_registry_bind(reg, name, &wl_compositor_interface, 4);
	else if (strcmp(iface, wl_shm_interface.name) == 0)
		s->shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
	else if (strcmp(iface, xdg_wm_base_interface.name) == 0)
		s->wm = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
}

static void global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {global, global_remove};

static void ping(void *data, struct xdg_wm_base *wm, uint32_t serial)
{
	xdg_wm_base_pong(wm, serial);
}

static const struct xdg_wm_base_listener wm_listener = {ping};

static void xs_configure(void *data, struct xdg_surface *xs, uint32_t serial)
{
	struct state *s = data;

	xdg_surface_ack_configure(xs, serial);
	s->configured = true;
}

static const struct xdg_surface_listener xs_listener = {xs_configure};

static void tl_configure(void *data, struct xdg_toplevel *tl, int32_t w, int32_t h,
			 struct wl_array *states)
{
}

static void tl_close(void *data, struct xdg_toplevel *tl)
{
	exit(0);
}

static const struct xdg_toplevel_listener tl_listener = {.configure = tl_configure,
							 .close = tl_close};

static void release(void *data, struct wl_buffer *buffer)
{
	*(bool *)data = false;
}

static const struct wl_buffer_listener buffer_listener = {release};

static void done(void *data, struct wl_callback *cb, uint32_t time)
{
	((struct state *)data)->frame_done = true;
	wl_callback_destroy(cb);
}

static const struct wl_callback_listener frame_listener = {done};

static void make_buffers(struct state *s)
{
	size_t stride = (size_t)s->width * 4, size = stride * (size_t)s->height;
	int fd = memfd_create("wl-damage", MFD_CLOEXEC);
	struct wl_shm_pool *pool;
	uint8_t *map;

	if (fd < 0 || ftruncate(fd, (off_t)(2 * size)) < 0)
		exit(1);
	map = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		exit(1);
	pool = wl_shm_create_pool(s->shm, fd, (int32_t)(2 * size));
	for (int i = 0; i < 2; i++) {
		s->buffers[i] =
			wl_shm_pool_create_buffer(pool, (int32_t)(i * size), s->width, s->height,
						  (int32_t)stride, WL_SHM_FORMAT_XRGB8888);
		wl_buffer_add_listener(s->buffers[i], &buffer_listener, &s->busy[i]);
		s->pixels[i] = (uint32_t *)(map + i * size);
	}
	wl_shm_pool_destroy(pool);
	close(fd);
}

/* A gradient that moves by `t`: every pixel changes every frame. */
static void draw(struct state *s, int i, int t)
{
	for (int y = 0; y < s->height; y++)
		for (int x = 0; x < s->width; x++)
			s->pixels[i][y * s->width + x] = (uint32_t)((x + t) & 0xff) << 16 |
							 (uint32_t)((y + 2 * t) & 0xff) << 8 |
							 (uint32_t)((x + y + t) & 0xff);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct state s = {.width = 640, .height = 480};
	int frames = argc > 1 ? atoi(argv[1]) : 120;
	struct wl_display *d = wl_display_connect(NULL);
	double *lat, start;

	if (argc > 3) {
		s.width = atoi(argv[2]);
		s.height = atoi(argv[3]);
	}
	if (!d || frames < 1 || s.width < 1 || s.height < 1) {
		fprintf(stderr, "wl-damage: no Wayland display, or bad arguments\n");
		return 1;
	}
	lat = calloc((size_t)frames, sizeof(*lat));
	wl_registry_add_listener(wl_display_get_registry(d), &registry_listener, &s);
	wl_display_roundtrip(d);
	if (!s.compositor || !s.shm || !s.wm)
		return 1;
	xdg_wm_base_add_listener(s.wm, &wm_listener, &s);
	s.surface = wl_compositor_create_surface(s.compositor);
	s.xsurface = xdg_wm_base_get_xdg_surface(s.wm, s.surface);
	xdg_surface_add_listener(s.xsurface, &xs_listener, &s);
	s.toplevel = xdg_surface_get_toplevel(s.xsurface);
	xdg_toplevel_add_listener(s.toplevel, &tl_listener, &s);
	xdg_toplevel_set_title(s.toplevel, "wl-damage");
	wl_surface_commit(s.surface);
	while (!s.configured)
		if (wl_display_dispatch(d) < 0)
			return 1;
	make_buffers(&s);
	start = now_ms();
	for (int f = 0; f < frames; f++) {
		int i = f % 2;
		double t0;
		while (s.busy[i])
			if (wl_display_dispatch(d) < 0)
				return 1;
		draw(&s, i, f);
		s.frame_done = false;
		wl_callback_add_listener(wl_surface_frame(s.surface), &frame_listener, &s);
		wl_surface_attach(s.surface, s.buffers[i], 0, 0);
		wl_surface_damage_buffer(s.surface, 0, 0, s.width, s.height);
		s.busy[i] = true;
		t0 = now_ms();
		wl_surface_commit(s.surface);
		while (!s.frame_done)
			if (wl_display_dispatch(d) < 0)
				return 1;
		lat[f] = now_ms() - t0;
	}
	double total = now_ms() - start;
	qsort(lat, (size_t)frames, sizeof(*lat), cmp);
	printf("wl-damage: frames %d size %dx%d median %.1f p90 %.1f fps %.1f MB/s %.1f\n", frames,
	       s.width, s.height, lat[frames / 2], lat[frames * 9 / 10], frames * 1e3 / total,
	       frames * 4.0 * s.width * s.height / total / 1e3);
	fflush(stdout);
	return 0;
}
