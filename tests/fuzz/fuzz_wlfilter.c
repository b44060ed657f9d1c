/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for spectrum-wlfilter's state machine: the input is a
 * script of chunks, each for one direction (a guest's requests or the
 * compositor's events) with a number of descriptors that arrive with it,
 * handed to the filter the way main.c does.  Whatever the bytes, the
 * filter takes no more than it was given, and everything it writes is a
 * sequence of well-formed messages, every title labelled.
 *
 * Chunk: 1 byte (bit 0: event; bits 1-3: descriptors arriving; bit 4: the
 * user's paste arrives first; bit 5: the user's copy), 2 bytes of length (little end first), the
 * bytes.  The input's first byte is the configuration (bit 0:
 * --allow-fullscreen).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct dir {
	uint8_t in[4 * SWL_MSG_MAX];
	size_t len;
	unsigned fds;
};

static uint8_t out_a[SWL_OUT_ROOM], out_b[SWL_OUT_ROOM];
static struct swl_state st;

static const struct swl_object *obj(uint32_t id)
{
	if (id < SWL_CLIENT_IDS)
		return &st.client[id];
	if (id >= SWL_SERVER_ID_BASE && id - SWL_SERVER_ID_BASE < SWL_SERVER_IDS)
		return &st.server[id - SWL_SERVER_ID_BASE];
	return NULL;
}

static bool has_iface(uint32_t id, enum swl_iface iface)
{
	return obj(id) && obj(id)->iface == iface;
}

static bool is_toplevel(uint32_t id)
{
	return has_iface(id, SWL_IF_XDG_TOPLEVEL);
}

static bool withheld(uint32_t id)
{
	return obj(id) && obj(id)->hidden;
}

/* Everything written is whole messages; a set_title carries the label. */
static void check_out(const struct swl_out *o, bool to_server)
{
	size_t off = 0;

	while (off < o->len) {
		struct swl_header h;

		if (swl_header_read(o->buf + off, o->len - off, &h) != 1)
			abort();
		/* Clipboard none: nothing of a selection or drag reaches the
		 * guest, and no offer withheld from it is named to it. */
		if (!to_server && (withheld(h.id) || has_iface(h.id, SWL_IF_DATA_DEVICE)))
			abort();
		if (to_server && h.size >= 16 && is_toplevel(h.id) &&
		    h.opcode == SWL_XDG_TOPLEVEL_SET_TITLE &&
		    memcmp(o->buf + off + 12, "[fz]", 4) != 0)
			abort();
		if (to_server && h.size >= 16 && is_toplevel(h.id) &&
		    h.opcode == SWL_XDG_TOPLEVEL_SET_APP_ID &&
		    strcmp((const char *)o->buf + off + 12, "spectrum.fz") != 0)
			abort();
		off += h.size;
	}
	if (off != o->len)
		abort();
}

/* The user's paste: a data_offer, its three types and a selection to
 * each data device told, every id the filter's own live offer. */
static void paste(void)
{
	struct swl_out a = {out_a, 0, sizeof(out_a)};
	int told = swl_paste_offer(&st, &a);
	size_t off = 0;
	int n = 0;

	if (told < 0 || told > SWL_PASTE_DEVICES)
		abort();
	while (off < a.len) {
		struct swl_header h;
		uint32_t arg;

		if (swl_header_read(a.buf + off, a.len - off, &h) != 1)
			abort();
		arg = h.size >= 12 ? swl_get_u32(a.buf + off + 8) : 0;
		if (has_iface(h.id, SWL_IF_DATA_DEVICE) ?
			    (arg < SWL_SERVER_ID_BASE ||
			     !st.offers[arg - SWL_SERVER_ID_BASE].live) :
			    (h.id < SWL_SERVER_ID_BASE || h.id - SWL_SERVER_ID_BASE >= SWL_OFFERS_MAX ||
			     !st.offers[h.id - SWL_SERVER_ID_BASE].live))
			abort();
		off += h.size;
		n++;
	}
	if (n != 5 * told)
		abort();
}

/* The user's copy: at most one send event, to the guest's own source. */
static void copy(void)
{
	struct swl_out a = {out_a, 0, sizeof(out_a)};
	struct swl_header h;
	int r = swl_copy_request(&st, &a);

	if (r < 0 || r > 1 || (r == 0) != (a.len == 0))
		abort();
	if (r == 1 && (swl_header_read(a.buf, a.len, &h) != 1 || h.size != a.len ||
		       !has_iface(h.id, SWL_IF_DATA_SOURCE) || h.opcode != 1))
		abort();
}

/* Handles the whole messages waiting in one direction: false once the
 * connection has ended. */
static bool run(struct dir *d, bool events)
{
	size_t off = 0;
	bool alive = true;

	for (;;) {
		struct swl_out a = {out_a, 0, sizeof(out_a)}, b = {out_b, 0, sizeof(out_b)};
		struct swl_result res;
		int r = events ? swl_filter_event(&st, d->in + off, d->len - off, d->fds, &a, &b,
						  &res) :
				 swl_filter_request(&st, d->in + off, d->len - off, d->fds, &a, &b,
						    &res);

		if (r < 0) {
			if (!st.why[0] || strlen(st.why) >= sizeof(st.why))
				abort();
			alive = false;
			break;
		}
		if (r == 0)
			break;
		if (res.size < 8 || res.size > d->len - off || res.nfds > d->fds)
			abort();
		/* The paste is written only into a receive's one descriptor. */
		if (res.paste_target && (events || res.nfds != 1 || !st.paste_live))
			abort();
		check_out(&a, !events);
		check_out(&b, events);
		d->fds -= res.nfds;
		off += res.size;
	}
	d->len -= off;
	memmove(d->in, d->in + off, d->len);
	return alive;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dir req, ev;
	struct swl_config cfg = {.instance = "fz"};
	size_t pos = 1;

	if (size < 1)
		return 0;
	cfg.allow_fullscreen = data[0] & 1;
	swl_state_init(&st, &cfg);
	req.len = ev.len = 0;
	req.fds = ev.fds = 0;
	while (size - pos >= 3) {
		bool events = data[pos] & 1;
		unsigned fds = (data[pos] >> 1) & 7;
		size_t len = data[pos + 1] | (size_t)data[pos + 2] << 8;
		struct dir *d = events ? &ev : &req;

		if (data[pos] & 0x10)
			paste();
		if (data[pos] & 0x20)
			copy();
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (len > sizeof(d->in) - d->len)
			len = sizeof(d->in) - d->len;
		memcpy(d->in + d->len, data + pos, len);
		d->len += len;
		d->fds += fds;
		pos += len;
		if (!run(d, events))
			break;
	}
	return 0;
}
