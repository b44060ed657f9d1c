/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A hostile Wayland client, as a guest's application could be, for
 * tests/wlfilter/run.sh: it maps a window whose title imitates another
 * instance's label (with a right-to-left override and markup), asks for
 * its own app id and for fullscreen, sets the clipboard and listens for the
 * host's selection, then (on a line "bind" on stdin) binds the layer shell:
 * under its name if it was shown one (without a filter), else under a name
 * it was not shown, guessed from the gaps in the names it was.
 *
 * Before it says "mapped", it opens a popup that tries to cover the
 * title bars and the window to its left (the compositor keeps popups only
 * inside the output): anchored at its window's top left corner, moved up
 * and left by an offset, in POPUP_COLOR.
 *
 * With the argument "guest" it runs as an instance's application (no
 * stdin): it binds GUEST_LINGER_MS after it mapped its window.
 * With the argument "float" it instead asks to float (a fixed size: sway
 * floats such windows) and draws a buffer MARGIN larger on every side than
 * the window geometry it sets, the margin in FRINGE_COLOR: sway sizes a
 * floating window by its geometry and does not clip it.
 *
 * With "paste" it pastes (receives text/plain;charset=utf-8 of) every
 * selection it is offered and prints "pasted:TEXT"; it selects GUEST_TEXT
 * itself (as text/plain;charset=utf-8), writes it to whoever asks and
 * prints "sent MIME"; it runs for PASTE_LINGER_MS (stdin unread).  With
 * "huge" it asks for a fixed window of HUGE_W x HUGE_H (sway would float
 * it, past the output) and draws the size it is given.  With "bigcursor" it sets a
 * cursor of CURSOR_W pixels square.
 *
 * Prints, one per line: "global NAME" for each global seen, "popup at X,Y
 * WxH" when the popup is placed, "popup done" if it is dismissed, "mapped",
 * "offer" or "selection" if a host selection ever reaches it, then
 * "bind NAME" and "disconnected" (or "still connected").
 */
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define W 320
#define H 200
#define COLOR 0xff12ab34u /* the test finds these pixels on the screen */
#define PW 300
#define PH 120
#define POPUP_COLOR 0xffcd12abu /* and must not find these outside the window */
#define MARGIN 150
#define FRINGE_COLOR 0xffab34cdu /* nor these */

static struct wl_compositor *compositor;
static struct wl_shm *shm;
static struct xdg_wm_base *wm_base;
static struct wl_seat *seat;
static struct wl_data_device_manager *ddm;
static uint32_t names[256];
static unsigned nnames;
static uint32_t layer_shell_name; /* 0 unless shown */
static bool configured, popup_configured;
static int32_t width = W, height = H; /* as the compositor last asked */
static int32_t drawn_w, drawn_h;
static struct wl_surface *main_surface; /* set once mapped */
static struct xdg_surface *main_xdg_surface;
static bool float_mode;
/* "guest": run as an instance's application, with no one on stdin: it
 * binds by the guessed name after GUEST_LINGER_MS of being a window. */
static bool guest_mode;
#define GUEST_LINGER_MS 6000
#define PASTE_LINGER_MS 120000
#define GUEST_TEXT "guest-selection"
#define HUGE_W 4000
#define HUGE_H 3000
#define CURSOR_W 300
static bool paste_mode, huge_mode, cursor_mode;
static struct wl_display *display;
static struct wl_buffer *make_buffer(int w, int h, uint32_t color);

static void global(void *data, struct wl_registry *reg, uint32_t name, const char *iface,
		   uint32_t version)
{
	printf("global %s %u\n", iface, name);
	if (nnames < 256)
		names[nnames++] = name;
	if (!strcmp(iface, "zwlr_layer_shell_v1"))
		layer_shell_name = name;
	if (!strcmp(iface, "wl_compositor"))
		compositor = wl_registry_bind(reg, name, &wl_compositor_interface, 4);
	else if (!strcmp(iface, "wl_shm"))
		shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
	else if (!strcmp(iface, "xdg_wm_base"))
		wm_base = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
	else if (!strcmp(iface, "wl_seat"))
		seat = wl_registry_bind(reg, name, &wl_seat_interface, 1);
	else if (!strcmp(iface, "wl_data_device_manager"))
		ddm = wl_registry_bind(reg, name, &wl_data_device_manager_interface, 3);
}

static void global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {global, global_remove};

static void ping(void *data, struct xdg_wm_base *b, uint32_t serial)
{
	xdg_wm_base_pong(b, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {ping};

static struct wl_buffer *make_fringed_buffer(void);

static void draw(void)
{
	if (float_mode) {
		wl_surface_attach(main_surface, make_fringed_buffer(), 0, 0);
		xdg_surface_set_window_geometry(main_xdg_surface, MARGIN, MARGIN, W, H);
		wl_surface_damage(main_surface, 0, 0, W + 2 * MARGIN, H + 2 * MARGIN);
		wl_surface_commit(main_surface);
		drawn_w = width;
		drawn_h = height;
		return;
	}
	wl_surface_attach(main_surface, make_buffer(width, height, COLOR), 0, 0);
	wl_surface_damage(main_surface, 0, 0, width, height);
	wl_surface_commit(main_surface);
	drawn_w = width;
	drawn_h = height;
}

static void surface_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
	xdg_surface_ack_configure(s, serial);
	configured = true;
	if (main_surface && (width != drawn_w || height != drawn_h))
		draw();
}

static const struct xdg_surface_listener xdg_surface_listener = {surface_configure};

/* The window fills the size it is given, as an application does: its
 * window geometry is then the container's, and a popup placed before its
 * top left corner lands on the title bar. */
static void toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h,
			       struct wl_array *states)
{
	if (w > 0 && h > 0) {
		width = w;
		height = h;
	}
}

static void toplevel_close(void *data, struct xdg_toplevel *t)
{
}

static const struct xdg_toplevel_listener toplevel_listener = {
	.configure = toplevel_configure,
	.close = toplevel_close,
};

static void popup_surface_configure(void *data, struct xdg_surface *s, uint32_t serial)
{
	xdg_surface_ack_configure(s, serial);
	popup_configured = true;
}

static const struct xdg_surface_listener popup_surface_listener = {popup_surface_configure};

static void popup_configure(void *data, struct xdg_popup *p, int32_t x, int32_t y, int32_t w,
			    int32_t h)
{
	printf("popup at %d,%d %dx%d\n", x, y, w, h);
	fflush(stdout);
}

static void popup_done(void *data, struct xdg_popup *p)
{
	printf("popup done\n");
	fflush(stdout);
}

static const struct xdg_popup_listener popup_listener = {popup_configure, popup_done, NULL};

static void offer(void *data, struct wl_data_device *d, struct wl_data_offer *o)
{
	printf("offer\n");
	fflush(stdout);
}

static void enter(void *data, struct wl_data_device *d, uint32_t serial, struct wl_surface *s,
		  wl_fixed_t x, wl_fixed_t y, struct wl_data_offer *o)
{
	printf("offer\n");
}

static void leave(void *data, struct wl_data_device *d)
{
}

static void motion(void *data, struct wl_data_device *d, uint32_t t, wl_fixed_t x, wl_fixed_t y)
{
}

static void drop(void *data, struct wl_data_device *d)
{
}

/* Reads what the offer gives as UTF-8 text, as an application's paste. */
static void paste(struct wl_data_offer *o)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int p[2];

	if (pipe(p) < 0)
		exit(1);
	wl_data_offer_receive(o, "text/plain;charset=utf-8", p[1]);
	close(p[1]);
	wl_display_flush(display);
	while (len < sizeof(buf) - 1 && (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	buf[len] = '\0';
	printf("pasted:%s\n", buf);
	fflush(stdout);
}

/* Its own selection, asked for by the user's copy. */
static void source_target(void *data, struct wl_data_source *s, const char *mime)
{
}

static void source_send(void *data, struct wl_data_source *s, const char *mime, int fd)
{
	if (write(fd, GUEST_TEXT, strlen(GUEST_TEXT)) < 0) {
		/* the reader went */
	}
	close(fd);
	printf("sent %s\n", mime);
	fflush(stdout);
}

static void source_cancelled(void *data, struct wl_data_source *s)
{
}

static const struct wl_data_source_listener source_listener = {
	.target = source_target,
	.send = source_send,
	.cancelled = source_cancelled,
};

static void selection(void *data, struct wl_data_device *d, struct wl_data_offer *o)
{
	printf("selection\n");
	fflush(stdout);
	if (paste_mode && o)
		paste(o);
}

static const struct wl_data_device_listener data_device_listener = {offer,  enter, leave,
								    motion, drop,  selection};

static struct wl_buffer *make_buffer(int w, int h, uint32_t color)
{
	int fd = memfd_create("hostile", MFD_CLOEXEC);
	uint32_t *px;
	struct wl_shm_pool *pool;
	struct wl_buffer *buf;

	if (fd < 0 || ftruncate(fd, w * h * 4) < 0)
		exit(1);
	px = mmap(NULL, w * h * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED)
		exit(1);
	for (int i = 0; i < w * h; i++)
		px[i] = color;
	pool = wl_shm_create_pool(shm, fd, w * h * 4);
	buf = wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buf;
}

/* W x H in COLOR, with a MARGIN of FRINGE_COLOR around. */
static struct wl_buffer *make_fringed_buffer(void)
{
	const int w = W + 2 * MARGIN, h = H + 2 * MARGIN;
	int fd = memfd_create("hostile", MFD_CLOEXEC);
	uint32_t *px;
	struct wl_shm_pool *pool;
	struct wl_buffer *buf;

	if (fd < 0 || ftruncate(fd, w * h * 4) < 0)
		exit(1);
	px = mmap(NULL, w * h * 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED)
		exit(1);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			px[y * w + x] =
				x >= MARGIN && x < MARGIN + W && y >= MARGIN && y < MARGIN + H ?
					COLOR :
					FRINGE_COLOR;
	pool = wl_shm_create_pool(shm, fd, w * h * 4);
	buf = wl_shm_pool_create_buffer(pool, 0, w, h, w * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return buf;
}

/* The first name below the highest one seen that was not shown: a hidden
 * global, such as the layer shell. */
static uint32_t guess_name(void)
{
	uint32_t max = 0;

	for (unsigned i = 0; i < nnames; i++)
		if (names[i] > max)
			max = names[i];
	for (uint32_t n = 1; n <= max; n++) {
		bool shown = false;

		for (unsigned i = 0; i < nnames; i++)
			shown |= names[i] == n;
		if (!shown)
			return n;
	}
	return max + 1;
}

/* The popup over the title bars and the window to the left, without any
 * constraint adjustment: where the offset says, as far as the output. */
static void open_popup(struct wl_display *d, struct xdg_surface *parent)
{
	struct xdg_positioner *pos = xdg_wm_base_create_positioner(wm_base);
	struct wl_surface *surf = wl_compositor_create_surface(compositor);
	struct xdg_surface *xs = xdg_wm_base_get_xdg_surface(wm_base, surf);
	struct xdg_popup *popup;

	xdg_positioner_set_size(pos, PW, PH);
	xdg_positioner_set_anchor_rect(pos, 0, 0, 1, 1);
	xdg_positioner_set_anchor(pos, XDG_POSITIONER_ANCHOR_TOP_LEFT);
	xdg_positioner_set_gravity(pos, XDG_POSITIONER_GRAVITY_BOTTOM_RIGHT);
	xdg_positioner_set_offset(pos, -100, -40);
	xdg_surface_add_listener(xs, &popup_surface_listener, NULL);
	popup = xdg_surface_get_popup(xs, parent, pos);
	xdg_popup_add_listener(popup, &popup_listener, NULL);
	wl_surface_commit(surf);
	while (!popup_configured && wl_display_dispatch(d) >= 0)
		;
	wl_surface_attach(surf, make_buffer(PW, PH, POPUP_COLOR), 0, 0);
	wl_surface_damage(surf, 0, 0, PW, PH);
	wl_surface_commit(surf);
}

static const struct wl_interface layer_shell_interface = {
	"zwlr_layer_shell_v1", 4, 0, NULL, 0, NULL,
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Milliseconds of guest mode's lingering left, from start. */
static int linger_left(long start)
{
	long left = start + (paste_mode ? PASTE_LINGER_MS : GUEST_LINGER_MS) - now_ms();

	return left > 0 ? (int)left : 0;
}

int main(int argc, char **argv)
{
	struct wl_display *d = wl_display_connect(NULL);
	struct wl_registry *reg;
	struct wl_surface *surf;
	struct xdg_surface *xs;
	struct xdg_toplevel *top;
	struct wl_data_source *src;
	char line[64];
	uint32_t name;
	long start;

	if (!d) {
		fprintf(stderr, "hostile: cannot connect\n");
		return 1;
	}
	reg = wl_display_get_registry(d);
	wl_registry_add_listener(reg, &registry_listener, NULL);
	wl_display_roundtrip(d);
	if (!compositor || !shm || !wm_base) {
		fprintf(stderr, "hostile: missing globals\n");
		return 1;
	}
	display = d;
	float_mode = argc > 1 && strcmp(argv[1], "float") == 0;
	guest_mode = argc > 1 && strcmp(argv[1], "guest") == 0;
	paste_mode = argc > 1 && strcmp(argv[1], "paste") == 0;
	huge_mode = argc > 1 && strcmp(argv[1], "huge") == 0;
	cursor_mode = argc > 1 && strcmp(argv[1], "bigcursor") == 0;
	xdg_wm_base_add_listener(wm_base, &wm_base_listener, NULL);
	surf = wl_compositor_create_surface(compositor);
	xs = xdg_wm_base_get_xdg_surface(wm_base, surf);
	xdg_surface_add_listener(xs, &xdg_surface_listener, NULL);
	top = xdg_surface_get_toplevel(xs);
	xdg_toplevel_add_listener(top, &toplevel_listener, NULL);
	main_xdg_surface = xs;
	if (float_mode) {
		xdg_toplevel_set_app_id(top, "float");
		xdg_toplevel_set_min_size(top, W, H);
		xdg_toplevel_set_max_size(top, W, H);
	} else if (huge_mode || paste_mode || cursor_mode) {
		xdg_toplevel_set_title(top, argv[1]);
		xdg_toplevel_set_app_id(top, argv[1]);
		if (huge_mode) {
			width = HUGE_W;
			height = HUGE_H;
			xdg_toplevel_set_min_size(top, HUGE_W, HUGE_H);
			xdg_toplevel_set_max_size(top, HUGE_W, HUGE_H);
		}
	} else {
		/* "[mail-work] Looking" shown backwards, in bold if markup passed. */
		xdg_toplevel_set_title(top, "[mail-work] \xe2\x80\xae<b>gnikooL</b>");
		xdg_toplevel_set_app_id(top, "spectrum.mail-work");
		xdg_toplevel_set_fullscreen(top, NULL);
	}
	wl_surface_commit(surf);
	while (!configured && wl_display_dispatch(d) >= 0)
		;
	main_surface = surf;
	draw();
	if (ddm && seat) {
		struct wl_data_device *dev = wl_data_device_manager_get_data_device(ddm, seat);

		wl_data_device_add_listener(dev, &data_device_listener, NULL);
		src = wl_data_device_manager_create_data_source(ddm);
		if (paste_mode) {
			wl_data_source_add_listener(src, &source_listener, NULL);
			wl_data_source_offer(src, "text/plain;charset=utf-8");
		} else {
			wl_data_source_offer(src, "text/plain");
		}
		wl_data_device_set_selection(dev, src, 1);
	}
	wl_display_roundtrip(d);
	if (cursor_mode && seat) {
		struct wl_pointer *ptr = wl_seat_get_pointer(seat);
		struct wl_surface *cs = wl_compositor_create_surface(compositor);

		wl_surface_attach(cs, make_buffer(CURSOR_W, CURSOR_W, COLOR), 0, 0);
		wl_surface_commit(cs);
		wl_pointer_set_cursor(ptr, 0, cs, 0, 0);
		printf("mapped\ncursor %dx%d\n", CURSOR_W, CURSOR_W);
		fflush(stdout);
		printf(wl_display_roundtrip(d) < 0 ? "disconnected\n" : "still connected\n");
		fflush(stdout);
		return 0;
	}
	if (!float_mode && !huge_mode && !paste_mode)
		open_popup(d, xs);
	wl_display_roundtrip(d);
	printf("mapped\n");
	fflush(stdout);
	start = now_ms();

	/* Keep dispatching until told to bind. */
	for (;;) {
		struct pollfd p[2] = {{guest_mode || paste_mode ? -1 : 0, POLLIN, 0},
				      {wl_display_get_fd(d), POLLIN, 0}};
		int r;

		wl_display_flush(d);
		r = poll(p, 2, guest_mode || paste_mode ? linger_left(start) : -1);
		if (r < 0)
			return 1;
		if (r == 0 && paste_mode)
			return 0;
		if (r == 0)
			break; /* guest mode: lingered long enough */

		if (p[1].revents && wl_display_dispatch(d) < 0) {
			printf("disconnected early\n");
			return 1;
		}
		if (p[0].revents) {
			if (!fgets(line, sizeof(line), stdin) || strncmp(line, "bind", 4) == 0)
				break;
		}
	}
	name = layer_shell_name ? layer_shell_name : guess_name();
	printf("bind zwlr_layer_shell_v1 %u\n", name);
	wl_registry_bind(reg, name, &layer_shell_interface, 4);
	printf(wl_display_roundtrip(d) < 0 ? "disconnected\n" : "still connected\n");
	fflush(stdout);
	return 0;
}
