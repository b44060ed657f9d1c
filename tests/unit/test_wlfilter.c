/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-wlfilter's state machine on hostile byte streams: what a guest
 * sends (requests) and what the compositor answers (events), without
 * sockets.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "tap.h"

/* TAP_OK evaluates its condition twice; these conditions run the filter. */
#define CHECK(cond, ...)                     \
	do {                                 \
		bool check_ = (cond);        \
		TAP_OK(check_, __VA_ARGS__); \
	} while (0)

static struct swl_state *st;
static uint8_t srv_buf[8 * SWL_OUT_ROOM], cli_buf[8 * SWL_OUT_ROOM];
static struct swl_out to_srv, to_cli;
static struct swl_result res;

static void reset(bool allow_fullscreen)
{
	struct swl_config cfg = {.instance = "mail-work", .allow_fullscreen = allow_fullscreen};

	swl_state_init(st, &cfg);
	to_srv = (struct swl_out){srv_buf, 0, sizeof(srv_buf)};
	to_cli = (struct swl_out){cli_buf, 0, sizeof(cli_buf)};
}

/* A message from a format: u (uint32), s (string), e (end). */
static struct swl_msgbuf m;
static struct swl_msgbuf *build(uint32_t id, uint16_t op, const char *fmt, ...)
{
	va_list ap;

	swl_msg_begin(&m, id, op);
	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		if (*f == 'u') {
			swl_msg_u32(&m, va_arg(ap, uint32_t));
		} else {
			const char *s = va_arg(ap, const char *);
			swl_msg_string(&m, s, strlen(s));
		}
	}
	va_end(ap);
	swl_msg_end(&m);
	return &m;
}

static int req(struct swl_msgbuf *b, unsigned fds)
{
	to_srv.len = to_cli.len = 0;
	return swl_filter_request(st, b->buf, b->len, fds, &to_srv, &to_cli, &res);
}

static int ev(struct swl_msgbuf *b, unsigned fds)
{
	to_srv.len = to_cli.len = 0;
	return swl_filter_event(st, b->buf, b->len, fds, &to_cli, &to_srv, &res);
}

/* The string argument of the message at off in an output buffer. */
static const char *out_string(const uint8_t *buf, size_t off)
{
	return (const char *)buf + off + 12;
}

static uint32_t u32_at(const uint8_t *buf, size_t off)
{
	return swl_get_u32(buf + off);
}

/* A registry (id 2) with wl_compositor (name 1, offered at 6), xdg_wm_base
 * (2), wl_seat (3), wl_data_device_manager (4), wl_shm (5) and the hidden
 * zwlr_layer_shell_v1 (9); a toplevel 10 of xdg_surface 9 of surface 4. */
static void setup_window(void)
{
	req(build(1, 1, "u", 2), 0);
	ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0);
	ev(build(2, 0, "usu", 2, "xdg_wm_base", 2), 0);
	ev(build(2, 0, "usu", 3, "wl_seat", 7), 0);
	ev(build(2, 0, "usu", 4, "wl_data_device_manager", 3), 0);
	ev(build(2, 0, "usu", 5, "wl_shm", 1), 0);
	ev(build(2, 0, "usu", 9, "zwlr_layer_shell_v1", 4), 0);
	req(build(2, 0, "usuu", 1, "wl_compositor", 4, 3), 0);
	req(build(3, 0, "u", 4), 0);
	req(build(2, 0, "usuu", 2, "xdg_wm_base", 2, 5), 0);
	req(build(5, 2, "uu", 9, 4), 0);
	req(build(9, 1, "u", 10), 0);
}

static void test_globals(void)
{
	reset(false);
	CHECK(req(build(1, 1, "u", 2), 0) == 1 && to_srv.len == 12, "get_registry passes");
	CHECK(ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0) == 1 && to_cli.len > 0 &&
		      u32_at(cli_buf, to_cli.len - 4) == 5,
	      "wl_compositor offered at 6 is shown capped to 5");
	CHECK(ev(build(2, 0, "usu", 9, "zwlr_layer_shell_v1", 4), 0) == 1 && to_cli.len == 0,
	      "zwlr_layer_shell_v1 is not shown");
	CHECK(ev(build(2, 0, "usu", 10, "xdg_activation_v1", 1), 0) == 1 && to_cli.len == 0,
	      "xdg_activation_v1 is not shown");
	CHECK(ev(build(2, 1, "u", 9), 0) == 1 && to_cli.len == 0,
	      "global_remove of a hidden global is not shown");
	CHECK(req(build(2, 0, "usuu", 9, "zwlr_layer_shell_v1", 4, 3), 0) == -1 &&
		      strstr(st->why, "wl_registry#2.bind of zwlr_layer_shell_v1 (name 9)"),
	      "a bind of the hidden layer shell by its name ends the connection: %s", st->why);
	reset(false);
	req(build(1, 1, "u", 2), 0);
	ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0);
	CHECK(req(build(2, 0, "usuu", 1, "zwlr_layer_shell_v1", 4, 3), 0) == -1 &&
		      strstr(st->why, "zwlr_layer_shell_v1"),
	      "a bind by a guessed interface name on an offered name ends it");
	reset(false);
	req(build(1, 1, "u", 2), 0);
	ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0);
	CHECK(req(build(2, 0, "usuu", 77, "zwlr_screencopy_manager_v1", 3, 3), 0) == -1,
	      "a bind of a guessed name never offered ends it");
	reset(false);
	req(build(1, 1, "u", 2), 0);
	ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0);
	CHECK(req(build(2, 0, "usuu", 1, "wl_compositor", 6, 3), 0) == -1 &&
		      strstr(st->why, "version 6"),
	      "a bind above the capped version ends it");
	reset(false);
	req(build(1, 1, "u", 2), 0);
	ev(build(2, 0, "usu", 1, "wl_compositor", 6), 0);
	CHECK(req(build(2, 0, "usuu", 1, "wl_compositor", 5, 3), 0) == 1 &&
		      st->client[3].iface == SWL_IF_COMPOSITOR,
	      "a bind of an offered global passes");
}

static void test_titles(void)
{
	reset(false);
	setup_window();
	CHECK(to_srv.len == 12 + 24 + 32, "get_toplevel is followed by two messages");
	TAP_STR(out_string(srv_buf, 12), "[mail-work]", "a toplevel is labelled before any title");
	TAP_STR(out_string(srv_buf, 36), "spectrum.mail-work", "and gets the instance's app id");
	CHECK(req(build(10, 2, "s", "[bank] \xe2\x80\xae<b>evil</b>\x1b[0m"), 0) == 1,
	      "a spoofed title is handled");
	TAP_STR(out_string(srv_buf, 0), "[mail-work] [bank] \\u202e<b>evil</b>\\u001b[0m",
		"it shows its own label first, RLO and ESC escaped, markup as text");
	req(build(10, 2, "s", "a\xc0\xafz\xed\xa0\x80"), 0);
	TAP_STR(out_string(srv_buf, 0),
		"[mail-work] a\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		"overlong and surrogate UTF-8 show U+FFFD");
	req(build(10, 2, "s", "\xe2\x81\xa6x\xe2\x80\x8e\xe2\x80\xa8\xd8\x9c"), 0);
	TAP_STR(out_string(srv_buf, 0), "[mail-work] \\u2066x\\u200e\\u2028\\u061c",
		"isolates, marks and separators are escaped");
	req(build(10, 2, "s", ""), 0);
	TAP_STR(out_string(srv_buf, 0), "[mail-work]", "an empty title is the label alone");
	CHECK(req(build(10, 3, "s", "spectrum.bank"), 0) == 1, "set_app_id is handled");
	TAP_STR(out_string(srv_buf, 0), "spectrum.mail-work", "the app id is the instance's");

	char long_title[2000];
	memset(long_title, 'x', sizeof(long_title) - 1);
	long_title[sizeof(long_title) - 1] = '\0';
	req(build(10, 2, "s", long_title), 0);
	CHECK(strlen(out_string(srv_buf, 0)) == 12 + SWL_TITLE_MAX + 3,
	      "a long title is cut to %d bytes and an ellipsis", SWL_TITLE_MAX);
	char clean[SWL_TITLE_CLEAN_MAX];
	memset(long_title, 0x07, sizeof(long_title));
	CHECK(swl_title_clean((uint8_t *)long_title, sizeof(long_title), clean, sizeof(clean)) ==
		      SWL_TITLE_MAX * 6 + 3,
	      "the worst title fits its bound");
}

static void test_fullscreen(void)
{
	reset(false);
	setup_window();
	CHECK(req(build(10, 11, "u", 0), 0) == 1 && to_srv.len == 0 &&
		      strstr(st->note, "set_fullscreen"),
	      "set_fullscreen is dropped and noted: %s", st->note);
	CHECK(req(build(10, 11, "u", 0), 0) == 1 && st->note[0] == '\0',
	      "noted once per connection");
	reset(true);
	setup_window();
	CHECK(req(build(10, 11, "u", 0), 0) == 1 && to_srv.len == 12,
	      "set_fullscreen passes with --allow-fullscreen");
}

static void test_clipboard(void)
{
	reset(false);
	setup_window();
	req(build(2, 0, "usuu", 4, "wl_data_device_manager", 3, 11), 0);
	req(build(2, 0, "usuu", 3, "wl_seat", 7, 12), 0);
	CHECK(req(build(11, 1, "uu", 13, 12), 0) == 1 && to_srv.len == 16,
	      "get_data_device passes");
	CHECK(req(build(11, 0, "u", 14), 0) == 1, "create_data_source passes");
	CHECK(req(build(13, 1, "uu", 14, 5), 0) == 1 && to_srv.len == 0,
	      "set_selection is dropped");
	CHECK(req(build(13, 0, "uuuu", 14, 4, 0, 5), 0) == 1 && to_srv.len == 0,
	      "start_drag is dropped");
	CHECK(ev(build(13, 0, "u", 0xff000001), 0) == 1 && to_cli.len == 0 && to_srv.len == 8 &&
		      u32_at(srv_buf, 0) == 0xff000001 && u32_at(srv_buf, 4) == (8u << 16 | 2),
	      "a host offer is withheld and destroyed by the filter");
	CHECK(ev(build(0xff000001, 0, "s", "text/plain"), 0) == 1 && to_cli.len == 0,
	      "its offer events are dropped");
	CHECK(ev(build(13, 5, "u", 0xff000001), 0) == 1 && to_cli.len == 0,
	      "the host selection is dropped");
	CHECK(ev(build(13, 1, "uuuuu", 1, 4, 0, 0, 0xff000001), 0) == 1 && to_cli.len == 0,
	      "a drag entering is dropped");
	CHECK(req(build(0xff000001, 1, "s", "text/plain"), 1) == -1,
	      "receive on the withheld offer (its id guessed) ends the connection");
}

static void test_ids(void)
{
	reset(false);
	CHECK(req(build(7, 0, ""), 0) == -1 && strstr(st->why, "unknown object 7"),
	      "a request to an unknown object ends it: %s", st->why);
	reset(false);
	CHECK(req(build(1, 9, ""), 0) == -1 && strstr(st->why, "unknown request 9"),
	      "an unknown opcode ends it");
	reset(false);
	CHECK(req(build(1, 1, "u", 70000), 0) == -1, "a new id above the table ends it");
	reset(false);
	CHECK(req(build(1, 1, "u", 1), 0) == -1 && strstr(st->why, "already in use"),
	      "a new id in use ends it");
	reset(false);
	req(build(1, 0, "u", 2), 0);
	CHECK(st->client[2].iface == SWL_IF_CALLBACK, "sync makes a callback");
	CHECK(ev(build(2, 0, "u", 0), 0) == 1 && ev(build(1, 1, "u", 2), 0) == 1 &&
		      st->client[2].iface == SWL_IF_NONE,
	      "delete_id frees it");
	CHECK(req(build(1, 1, "u", 2), 0) == 1, "and it can be used again");
	CHECK(ev(build(55, 0, ""), 0) == -1, "an event to an unknown object ends it");
}

static void test_malformed(void)
{
	uint8_t raw[8200] = {0};
	uint32_t w[4];

	reset(false);
	w[0] = 1, w[1] = 4100u << 16 | 1;
	memcpy(raw, w, 8);
	CHECK(swl_filter_request(st, raw, sizeof(raw), 0, &to_srv, &to_cli, &res) == -1 &&
		      strstr(st->why, "size 4100"),
	      "an oversized message ends it: %s", st->why);
	w[1] = 6u << 16 | 1;
	memcpy(raw, w, 8);
	CHECK(swl_filter_request(st, raw, 16, 0, &to_srv, &to_cli, &res) == -1,
	      "a size below the header ends it");
	w[1] = 14u << 16 | 1;
	memcpy(raw, w, 8);
	CHECK(swl_filter_request(st, raw, 16, 0, &to_srv, &to_cli, &res) == -1,
	      "a size not a multiple of 4 ends it");
	w[1] = 12u << 16 | 1;
	memcpy(raw, w, 8);
	CHECK(swl_filter_request(st, raw, 10, 0, &to_srv, &to_cli, &res) == 0,
	      "a partial message waits for more");
	CHECK(swl_filter_request(st, raw, 6, 0, &to_srv, &to_cli, &res) == 0,
	      "a partial header waits for more");
	w[1] = 16u << 16 | 1;
	w[2] = 2, w[3] = 0;
	memcpy(raw, w, 16);
	CHECK(swl_filter_request(st, raw, 16, 0, &to_srv, &to_cli, &res) == -1 &&
		      strstr(st->why, "left over"),
	      "bytes after the arguments end it");
	reset(false);
	setup_window();
	struct swl_msgbuf *b = build(10, 2, "s", "abcd");
	b->buf[16] = 'x', b->buf[17] = 'y', b->buf[18] = 'z', b->buf[19] = 'w'; /* over the NUL */
	b->buf[12 + 3] = 'd';
	memcpy(b->buf + 8, &(uint32_t){8}, 4);
	CHECK(req(b, 0) == -1 && strstr(st->why, "NUL"), "a string without its NUL ends it: %s",
	      st->why);
	reset(false);
	setup_window();
	b = build(10, 2, "u", 4000);
	CHECK(req(b, 0) == -1 && strstr(st->why, "longer than its message"),
	      "a string longer than its message ends it");
	reset(false);
	setup_window();
	req(build(2, 0, "usuu", 5, "wl_shm", 1, 11), 0);
	CHECK(req(build(11, 0, "uu", 12, 4096), 0) == -1 && strstr(st->why, "descriptor"),
	      "create_pool without its descriptor ends it");
	CHECK(req(build(11, 0, "uu", 12, 4096), 3) == 1 && res.nfds == 1 && res.pass_fds,
	      "create_pool takes one descriptor and passes it");
	CHECK(req(build(10, 9, ""), 1) == 1 && res.nfds == 0,
	      "a message without descriptors takes none (the caller finds strays)");
	CHECK(req(build(4, 1, "uuu", 99, 0, 0), 0) == -1 && strstr(st->why, "unknown object 99"),
	      "an object argument naming nothing ends it");
}

/* The signature tables keep the invariants filter.c and main.c rely on:
 * at most one new id and one descriptor per message, every new id typed
 * (but bind's), every global's version known. */
static void test_tables(void)
{
	bool good = true;

	for (int i = 1; i < SWL_IF_COUNT; i++) {
		const struct swl_interface *in = &swl_interfaces[i];

		good &= in->name && in->version >= 1;
		for (unsigned k = 0; k < in->nreq + in->nev; k++) {
			bool is_req = k < in->nreq;
			const struct swl_msg *msg = is_req ? &in->req[k] : &in->ev[k - in->nreq];
			unsigned n = 0, h = 0;

			for (const char *t = msg->sig; *t; t++) {
				n += *t == 'n';
				h += *t == 'h';
				good &= strchr("?iufsoanh", *t) != NULL;
			}
			good &= n <= 1 && h <= 1;
			if (n == 1 && !(i == SWL_IF_REGISTRY && is_req))
				good &= msg->creates != SWL_IF_NONE;
			if (!good) {
				printf("# %s.%s: %s\n", in->name, msg->name, msg->sig);
				break;
			}
		}
	}
	CHECK(good, "signature tables: one new id and one descriptor at most, new ids typed");
	CHECK(swl_global_find("wl_compositor") == SWL_IF_COMPOSITOR &&
		      swl_global_find("wl_callback") == SWL_IF_NONE &&
		      swl_global_find("zwlr_layer_shell_v1") == SWL_IF_NONE,
	      "only the allow-list is offered");
}

/* ---- popups ---- */

/* setup_window, then wl_subcompositor (8), wl_shm (11) and its pool
 * (12); the toplevel configured at 400x300 and mapped with buffer 20.
 * Further buffers are 100 and up. */
static uint32_t next_buffer;
static void setup_mapped(void)
{
	setup_window();
	ev(build(2, 0, "usu", 6, "wl_subcompositor", 1), 0);
	req(build(2, 0, "usuu", 6, "wl_subcompositor", 1, 8), 0);
	req(build(2, 0, "usuu", 5, "wl_shm", 1, 11), 0);
	req(build(11, 0, "uu", 12, 1u << 24), 1);
	req(build(12, 0, "uuuuuu", 20, 0, 400, 300, 1600, 0), 0);
	ev(build(10, 0, "uuu", 400, 300, 0), 0);
	ev(build(9, 0, "u", 77), 0);
	req(build(9, 4, "u", 77), 0);
	req(build(4, 1, "uuu", 20, 0, 0), 0);
	req(build(4, 6, ""), 0);
	next_buffer = 100;
}

/* A wl_buffer of w x h from pool 12. */
static uint32_t buffer(uint32_t w, uint32_t h)
{
	req(build(12, 0, "uuuuuu", next_buffer, 0, w, h, w * 4, 0), 0);
	return next_buffer++;
}

/* Popup n (surface 10n, xdg_surface 10n+1, positioner 10n+2, xdg_popup
 * 10n+3) of xdg_surface parent, placed by the compositor at x, y. */
static int popup(uint32_t n, uint32_t parent, int32_t x, int32_t y)
{
	uint32_t b = n * 10;

	req(build(3, 0, "u", b), 0);
	req(build(5, 2, "uu", b + 1, b), 0);
	req(build(5, 1, "u", b + 2), 0);
	if (req(build(b + 1, 2, "uuu", b + 3, parent, b + 2), 0) != 1)
		return -1;
	req(build(b, 6, ""), 0);
	ev(build(b + 3, 0, "uuuu", (uint32_t)x, (uint32_t)y, 100, 50), 0);
	ev(build(b + 1, 0, "u", 90 + n), 0);
	req(build(b + 1, 4, "u", 90 + n), 0);
	return 0;
}

static bool null_attach_at(size_t off, uint32_t surface)
{
	return u32_at(srv_buf, off) == surface && u32_at(srv_buf, off + 4) == (20u << 16 | 1) &&
	       u32_at(srv_buf, off + 8) == 0;
}

static bool commit_at(size_t off, uint32_t surface)
{
	return u32_at(srv_buf, off) == surface && u32_at(srv_buf, off + 4) == (8u << 16 | 6);
}

/* The filter unmapped popup n: a null attach and a commit of its surface
 * at off of what went to the compositor. */
static bool unmapped_at(uint32_t n, size_t off)
{
	return to_srv.len >= off + 28 && null_attach_at(off, n * 10) && commit_at(off + 20, n * 10);
}

static bool done_sent(uint32_t n)
{
	return to_cli.len >= 8 && u32_at(cli_buf, 0) == n * 10 + 3 &&
	       u32_at(cli_buf, 4) == (8u << 16 | 1);
}

/* Attaches buf to popup n and commits: 1 if the commit passed as sent, 0
 * if the filter unmapped the popup in its stead, -1 otherwise. */
static int show(uint32_t n, uint32_t buf)
{
	req(build(n * 10, 1, "uuu", buf, 0, 0), 0);
	if (req(build(n * 10, 6, ""), 0) != 1)
		return -1;
	if (to_srv.len == 8 && commit_at(0, n * 10) && to_cli.len == 0)
		return 1;
	return to_srv.len == 28 && unmapped_at(n, 0) ? 0 : -1;
}

static void test_popups(void)
{
	reset(false);
	req(build(1, 1, "u", 2), 0);
	CHECK(ev(build(2, 0, "usu", 2, "xdg_wm_base", 5), 0) == 1 &&
		      u32_at(cli_buf, to_cli.len - 4) == 2,
	      "xdg_wm_base offered at 5 is shown at 2: no reposition, no reactive popups");

	reset(false);
	setup_mapped();
	CHECK(popup(3, 9, 10, 10) == 0 && show(3, buffer(100, 50)) == 1,
	      "a popup inside its window passes untouched");
	CHECK(popup(4, 9, -200, -30) == 0 && show(4, buffer(100, 50)) == 0 && done_sent(4),
	      "a popup placed outside its window is unmapped, the guest told popup_done");
	CHECK(strstr(st->note, "withheld xdg_popup#43") != NULL, "and it is logged: %s", st->note);
	CHECK(show(4, buffer(10, 10)) == 0 && to_cli.len == 0,
	      "a withheld popup stays unmapped, popup_done sent once");
	CHECK(popup(5, 9, 10, 10) == 0 && show(5, buffer(2000, 2000)) == 0,
	      "a popup with a buffer larger than its window is unmapped");
	CHECK(popup(6, 9, 10, 10) == 0 && show(6, buffer(380, 50)) == 1,
	      "a wide popup that still fits passes");

	reset(false);
	setup_mapped();
	CHECK(req(build(9, 3, "uuuu", 150, 150, 100, 100), 0) == 1 && to_srv.len == 0 &&
		      strstr(st->note, "a toplevel's window is all it draws"),
	      "a toplevel's window geometry is dropped: its window is all it draws");
	popup(3, 9, 10, 10);
	CHECK(req(build(31, 3, "uuuu", 0, 0, 100, 50), 0) == 1 && to_srv.len == 24,
	      "a popup's passes (it is counted)");
	req(build(30, 8, "u", 4), 0);
	CHECK(show(3, buffer(1520, 1160)) == 1, "a scale-4 buffer counts a quarter of its size");
	req(build(30, 8, "u", 1), 0);
	CHECK(show(3, buffer(1520, 1160)) == 0, "and the full size at scale 1");
	popup(4, 9, 10, 10);
	req(build(40, 7, "u", 1), 0);
	CHECK(show(4, buffer(380, 50)) == 0, "a buffer turned by 90 degrees is counted turned");
	popup(5, 9, 10, 10);
	req(build(51, 3, "uuuu", 50, 0, 50, 50), 0);
	CHECK(show(5, buffer(100, 50)) == 0,
	      "a window geometry offset that moves the popup's pixels out is counted");
	popup(6, 9, 10, 10);
	req(build(60, 10, "uu", (uint32_t)-50, 0), 0);
	CHECK(show(6, buffer(100, 50)) == 0, "so is a wl_surface.offset");

	reset(false);
	setup_mapped();
	popup(3, 9, 10, 10);
	req(build(3, 0, "u", 42), 0);
	CHECK(req(build(8, 1, "uuu", 41, 42, 30), 0) == -1 &&
		      strstr(st->why, "subsurface of a popup"),
	      "a subsurface of a popup ends the connection: %s", st->why);
	reset(false);
	setup_mapped();
	req(build(3, 0, "u", 30), 0);
	req(build(3, 0, "u", 32), 0);
	req(build(8, 1, "uuu", 33, 32, 30), 0);
	req(build(5, 2, "uu", 31, 30), 0);
	req(build(5, 1, "u", 34), 0);
	CHECK(req(build(31, 2, "uuu", 35, 9, 34), 0) == -1 && strstr(st->why, "with subsurfaces"),
	      "a popup on a surface with subsurfaces ends it: %s", st->why);
	reset(false);
	setup_mapped();
	req(build(3, 0, "u", 30), 0);
	req(build(5, 2, "uu", 31, 30), 0);
	req(build(5, 1, "u", 32), 0);
	CHECK(req(build(31, 2, "uuu", 33, 0, 32), 0) == -1 && strstr(st->why, "without a parent"),
	      "a popup without a parent ends it: %s", st->why);

	reset(false);
	setup_mapped();
	popup(3, 9, 10, 10);
	show(3, buffer(100, 50));
	CHECK(popup(4, 31, 80, 0) == 0 && show(4, buffer(100, 50)) == 1,
	      "a nested popup inside the toplevel's window passes");
	CHECK(popup(5, 41, 250, 0) == 0 && show(5, buffer(100, 50)) == 0,
	      "a nested popup that adds up to outside the window is unmapped");

	reset(false);
	setup_mapped();
	popup(3, 9, 250, 10);
	show(3, buffer(100, 50));
	CHECK(ev(build(10, 0, "uuu", 200, 300, 0), 0) == 1 && unmapped_at(3, 0) &&
		      to_srv.len == 28 && done_sent(3) && to_cli.len == 8 + 20,
	      "when the compositor shrinks the window, a popup now outside is unmapped first");
	reset(false);
	setup_mapped();
	popup(3, 9, 250, 10);
	show(3, buffer(100, 50));
	req(build(4, 1, "uuu", buffer(200, 300), 0, 0), 0);
	CHECK(req(build(4, 6, ""), 0) == 1 && unmapped_at(3, 0) && commit_at(28, 4),
	      "when the guest shrinks its window, the popup is unmapped before the commit");
	reset(false);
	setup_mapped();
	ev(build(10, 0, "uuu", 800, 600, 0), 0);
	ev(build(9, 0, "u", 78), 0);
	req(build(4, 1, "uuu", buffer(800, 600), 0, 0), 0);
	req(build(4, 6, ""), 0);
	popup(3, 9, 350, 10);
	CHECK(show(3, buffer(100, 50)) == 0,
	      "a larger size counts only once the guest acked it and committed");
	req(build(9, 4, "u", 78), 0);
	req(build(4, 6, ""), 0);
	popup(4, 9, 350, 10);
	CHECK(show(4, buffer(100, 50)) == 1, "and then it does");
	CHECK(req(build(10, 0, ""), 0) == 1 && unmapped_at(4, 0),
	      "a toplevel destroyed under its popup unmaps the popup first");
}

int main(void)
{
	st = malloc(sizeof(*st));
	if (!st)
		return 1;
	test_tables();
	test_globals();
	test_titles();
	test_fullscreen();
	test_clipboard();
	test_ids();
	test_malformed();
	test_popups();
	free(st);
	return tap_done();
}
