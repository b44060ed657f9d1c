/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filter's state machine (see filter.h).  Trust: everything in a
 * request comes from a guest that may have taken over its kernel and the
 * waypipe that relays it; the compositor's events are trusted to follow
 * the protocol, but are still bounded before they are read.
 */
#include "filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
	NOTE_FULLSCREEN = 1 << 0,
	NOTE_SELECTION = 1 << 1,
	NOTE_DRAG = 1 << 2,
	NOTE_GLOBALS = 1 << 3,
	NOTE_POPUP = 1 << 4,
	NOTE_GEOMETRY = 1 << 5,
	NOTE_FLOAT = 1 << 6,
	NOTE_PASTE = 1 << 7,
};

bool swl_instance_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > SWL_INSTANCE_MAX || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

void swl_state_init(struct swl_state *s, const struct swl_config *cfg)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->client[1].iface = SWL_IF_DISPLAY;
}

static int fail(struct swl_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct swl_state *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* A line to log, once per kind and connection, so that a guest repeating
 * a refused request cannot flood the instance's log. */
static void note(struct swl_state *s, unsigned kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct swl_state *s, unsigned kind, const char *fmt, ...)
{
	va_list ap;

	if (s->noted & kind)
		return;
	s->noted |= kind;
	va_start(ap, fmt);
	vsnprintf(s->note, sizeof(s->note), fmt, ap);
	va_end(ap);
}

/* The table entry of an id, or NULL outside both ranges. */
static struct swl_object *object(struct swl_state *s, uint32_t id)
{
	if (id > 0 && id < SWL_CLIENT_IDS)
		return &s->client[id];
	if (id >= SWL_SERVER_ID_BASE && id - SWL_SERVER_ID_BASE < SWL_SERVER_IDS)
		return &s->server[id - SWL_SERVER_ID_BASE];
	return NULL;
}

static bool out_put(struct swl_out *o, const void *p, size_t n)
{
	if (o->cap - o->len < n)
		return false;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return true;
}

/* 1 (handled) unless r says the connection must end. */
static int handled(int r)
{
	return r < 0 ? -1 : 1;
}

static int out_msg(struct swl_state *s, struct swl_out *o, struct swl_msgbuf *m)
{
	if (!swl_msg_end(m) || !out_put(o, m->buf, m->len))
		return fail(s, "internal: output buffer full");
	return 0;
}

/* ---- titles ---- */

/* Decodes one UTF-8 sequence; returns its length, or 0 if invalid
 * (overlong, a surrogate, above U+10FFFF, cut short). */
static size_t utf8_decode(const uint8_t *p, size_t len, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n;
	uint32_t c = p[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters shown as an escape: C0 and C1 controls and DEL, the
 * bidirectional formatting characters (Bidi_Control: they reorder what
 * follows, e.g. to make a title read like another instance's label), the
 * line and paragraph separators, the BOM and the interlinear annotation
 * characters. */
static bool title_escaped(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 ||
	       c == 0x2029 || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

size_t swl_title_clean(const uint8_t *in, size_t len, char *out, size_t cap)
{
	size_t o = 0, i = 0;
	bool cut = len > SWL_TITLE_MAX;

	if (cap < SWL_TITLE_CLEAN_MAX) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	if (cut)
		len = SWL_TITLE_MAX;
	while (i < len) {
		uint32_t c;
		size_t n = utf8_decode(in + i, len - i, &c);

		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
			i++;
		} else if (title_escaped(c)) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", (unsigned)c);
			i += n;
		} else {
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
		}
	}
	if (cut) {
		memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
		o += 3;
	}
	out[o] = '\0';
	return o;
}

/* set_title(id, "[NAME] title") or "[NAME]" for an empty title. */
static int put_title(struct swl_state *s, struct swl_out *o, uint32_t id, const uint8_t *title,
		     size_t len)
{
	char clean[SWL_TITLE_CLEAN_MAX], text[SWL_TITLE_CLEAN_MAX + SWL_INSTANCE_MAX + 4];
	struct swl_msgbuf m;
	int n;

	swl_title_clean(title, len, clean, sizeof(clean));
	n = snprintf(text, sizeof(text), clean[0] ? "[%s] %s" : "[%s]%s", s->cfg.instance, clean);
	swl_msg_begin(&m, id, SWL_XDG_TOPLEVEL_SET_TITLE);
	swl_msg_string(&m, text, (size_t)n);
	return out_msg(s, o, &m);
}

/* set_app_id(id, "spectrum.NAME"): what the compositor's rules key on. */
static int put_app_id(struct swl_state *s, struct swl_out *o, uint32_t id)
{
	char text[SWL_INSTANCE_MAX + 16];
	struct swl_msgbuf m;
	int n = snprintf(text, sizeof(text), "spectrum.%s", s->cfg.instance);

	swl_msg_begin(&m, id, SWL_XDG_TOPLEVEL_SET_APP_ID);
	swl_msg_string(&m, text, (size_t)n);
	return out_msg(s, o, &m);
}

/* ---- popups ----
 *
 * sway 1.7 keeps an xdg_popup inside the output, not inside its parent
 * window, and draws all of its buffer: a guest's popup could cover another
 * window or the title bar that carries the labels.  The filter confines
 * every popup to the window of its root toplevel, by checking, not by
 * predicting:
 *
 *   - where: the compositor's xdg_popup.configure says where it put the
 *     popup (relative to its parent's window geometry).  The filter does
 *     not recompute the positioner: the compositor's word is the truth, and
 *     with xdg_wm_base capped at version 2 (protocol.c) a mapped popup is
 *     never moved again, so that word holds for the popup's life;
 *   - what: the pixels the popup's surface covers follow from its buffer's
 *     size (the filter knows every wl_buffer's size: wl_shm_pool is the
 *     only buffer factory on the allow-list), its scale and transform and
 *     its window geometry's offset; a popup may not have subsurfaces (they
 *     would draw past it) nor move its buffer by attach or offset;
 *   - the window: the toplevel's committed surface, from the origin of its
 *     window geometry (a toplevel's set_window_geometry is dropped, see
 *     request_action, so the compositor's geometry is the extents of its
 *     surface tree: they start at or before the surface's corner and
 *     reach at least as far, and the surface is never more than the
 *     window), cut to the size the compositor configured (the smaller of
 *     the last two until the guest commits after acking the last: the
 *     compositor resizes the window when it does).
 *
 * A popup whose pixels would fall outside its root's window, at its own
 * commit or when that window shrinks, is withheld: the filter commits a
 * null buffer in its stead (the protocol's own way to unmap a popup) before
 * the message that would show it or shrink the window reaches the
 * compositor, tells the guest popup_done (which the compositor may send at
 * any time) and keeps the popup unmapped for the rest of its life.  The
 * guest keeps its connection: an application's menu that does not fit is
 * not an attack.  Refusing what cannot be confined (a popup without a
 * parent, a subsurface of a popup) ends the connection.
 */

/* The record of wl_surface id, or NULL. */
static struct swl_surface *surface_of(struct swl_state *s, uint32_t id)
{
	struct swl_surface *sf;

	if (id == 0 || id >= SWL_CLIENT_IDS || s->client[id].iface != SWL_IF_SURFACE ||
	    s->client[id].a == 0)
		return NULL;
	sf = &s->surfaces[s->client[id].a - 1];
	return sf->id == id ? sf : NULL;
}

/* The record behind an xdg_surface, xdg_toplevel or xdg_popup. */
static struct swl_surface *surface_behind(struct swl_state *s, uint32_t id)
{
	const struct swl_object *obj = object(s, id);

	return obj ? surface_of(s, obj->a) : NULL;
}

static uint16_t saturate(uint32_t v)
{
	int32_t i = (int32_t)v;

	return i < 0 ? 0 : i > 0xffff ? 0xffff : (uint16_t)i;
}

static int64_t min_size(int64_t a, int64_t b) /* 0 is no bound */
{
	return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* A surface state's size in surface units: rounded up for what a surface
 * covers, down for the window it must stay in. */
static void surface_size(const struct swl_surface_state *st, bool up, int64_t *w, int64_t *h)
{
	int64_t scale = st->scale > 0 ? st->scale : 1;
	int64_t bw = st->transform & 1 ? st->bh : st->bw;
	int64_t bh = st->transform & 1 ? st->bw : st->bh;

	*w = (bw + (up ? scale - 1 : 0)) / scale;
	*h = (bh + (up ? scale - 1 : 0)) / scale;
}

/* The window geometry as the compositor computes it (the one set, cut to
 * the surface), with the surface's own box for the extents of its
 * subsurfaces, which the filter does not follow: never more than the
 * compositor's.  False if the set geometry misses the surface. */
static bool geometry(const struct swl_surface_state *st, bool up, struct swl_box *g)
{
	int64_t w, h, x1, y1;

	surface_size(st, up, &w, &h);
	*g = (struct swl_box){0, 0, w, h};
	if (!st->geom_set)
		return true;
	x1 = st->geom.x + st->geom.w < w ? st->geom.x + st->geom.w : w;
	y1 = st->geom.y + st->geom.h < h ? st->geom.y + st->geom.h : h;
	g->x = st->geom.x > 0 ? st->geom.x : 0;
	g->y = st->geom.y > 0 ? st->geom.y : 0;
	g->w = x1 - g->x;
	g->h = y1 - g->y;
	return g->w > 0 && g->h > 0;
}

/* The state a commit makes current: the buffer only if one was attached. */
static struct swl_surface_state committed(const struct swl_surface *sf)
{
	struct swl_surface_state st = sf->pending;

	if (!st.attached) {
		st.bw = sf->cur.bw;
		st.bh = sf->cur.bh;
	}
	st.attached = false;
	return st;
}

/*
 * True if a popup in state st draws only inside its root toplevel's
 * window: the places the compositor gave it and its parents add up to where
 * its window geometry goes, relative to the root's.  A popup without pixels
 * fits; one not placed yet, or not under a toplevel within SWL_POPUP_DEPTH,
 * does not.
 */
static bool popup_fits(struct swl_state *s, const struct swl_surface *p,
		       const struct swl_surface_state *st)
{
	const struct swl_surface *q = p;
	int64_t x = 0, y = 0, w, h;
	struct swl_box g, win;

	if (st->bw == 0 || st->bh == 0)
		return true;
	if (st->moved || !geometry(st, true, &g))
		return false;
	for (unsigned depth = 0; q && q->role == SWL_ROLE_POPUP; depth++) {
		if (depth == SWL_POPUP_DEPTH || !q->placed)
			return false;
		x += q->px;
		y += q->py;
		q = surface_of(s, q->parent);
	}
	if (!q || q->role != SWL_ROLE_TOPLEVEL || !geometry(&q->cur, false, &win))
		return false;
	win.w = min_size(win.w, q->size_w);
	win.h = min_size(win.h, q->size_h);
	surface_size(st, true, &w, &h);
	x -= g.x;
	y -= g.y;
	return x >= 0 && y >= 0 && x + w <= win.w && y + h <= win.h;
}

/* wl_surface.attach(id, null, 0, 0): the next commit unmaps the surface. */
static int put_null_attach(struct swl_state *s, struct swl_out *o, uint32_t id)
{
	struct swl_msgbuf m;

	swl_msg_begin(&m, id, SWL_SURFACE_ATTACH);
	swl_msg_u32(&m, 0);
	swl_msg_u32(&m, 0);
	swl_msg_u32(&m, 0);
	return out_msg(s, o, &m);
}

/* A popup that does not fit: from now on it stays unmapped.  The guest is
 * told popup_done once, and the log once per connection. */
static int withhold(struct swl_state *s, struct swl_surface *p, const struct swl_surface_state *st,
		    struct swl_out *to_client)
{
	struct swl_msgbuf m;
	int64_t w, h;

	if (p->withheld)
		return 0;
	p->withheld = true;
	surface_size(st, true, &w, &h);
	note(s, NOTE_POPUP,
	     "withheld xdg_popup#%u: its %lldx%lld pixels at %d,%d would fall outside its window",
	     p->popup, (long long)w, (long long)h, p->px, p->py);
	swl_msg_begin(&m, p->popup, SWL_XDG_POPUP_POPUP_DONE);
	return out_msg(s, to_client, &m);
}

/* Every mapped popup that no longer fits (its window shrank or went) is
 * unmapped now, before the message that changes the window passes. */
static int recheck_popups(struct swl_state *s, struct swl_out *to_server, struct swl_out *to_client)
{
	struct swl_msgbuf m;

	for (unsigned i = 0; i < SWL_SURFACES_MAX; i++) {
		struct swl_surface *p = &s->surfaces[i];

		if (p->id == 0 || p->role != SWL_ROLE_POPUP || popup_fits(s, p, &p->cur))
			continue;
		if (withhold(s, p, &p->cur, to_client) < 0 ||
		    put_null_attach(s, to_server, p->id) < 0)
			return -1;
		swl_msg_begin(&m, p->id, SWL_SURFACE_COMMIT);
		if (out_msg(s, to_server, &m) < 0)
			return -1;
		p->cur = committed(p);
		p->cur.bw = p->cur.bh = 0;
		p->pending.attached = p->pending.moved = false;
	}
	return 0;
}

static int surface_created(struct swl_state *s, uint32_t id, const char *what)
{
	for (unsigned i = 0; i < SWL_SURFACES_MAX; i++) {
		struct swl_surface *sf = &s->surfaces[i];

		if (sf->id != 0)
			continue;
		memset(sf, 0, sizeof(*sf));
		sf->id = id;
		sf->pending.scale = sf->cur.scale = 1;
		s->client[id].a = (uint16_t)(i + 1);
		return 0;
	}
	return fail(s, "%s: more than %u surfaces", what, SWL_SURFACES_MAX);
}

/* wl_surface.commit: a popup is checked in the state the commit makes
 * current; a toplevel's commit may shrink its window. */
static int surface_commit(struct swl_state *s, struct swl_surface *sf, struct swl_out *to_server,
			  struct swl_out *to_client, const char *what)
{
	struct swl_surface_state st = committed(sf);

	if (sf->role == SWL_ROLE_CURSOR && (st.bw > SWL_CURSOR_MAX || st.bh > SWL_CURSOR_MAX))
		return fail(s, "%s: a cursor of %ux%u pixels, more than %ux%u", what, st.bw, st.bh,
			    SWL_CURSOR_MAX, SWL_CURSOR_MAX);

	sf->pending.attached = sf->pending.moved = false;
	if (sf->role == SWL_ROLE_POPUP && (sf->withheld || !popup_fits(s, sf, &st))) {
		if (withhold(s, sf, &st, to_client) < 0 ||
		    put_null_attach(s, to_server, sf->id) < 0)
			return -1;
		st.bw = st.bh = 0;
	}
	sf->cur = st;
	if (sf->role != SWL_ROLE_TOPLEVEL)
		return 0;
	if (sf->acked) {
		sf->size_w = sf->next_w;
		sf->size_h = sf->next_h;
	}
	return recheck_popups(s, to_server, to_client);
}

static int surface_request(struct swl_state *s, const struct swl_header *h,
			   const struct swl_args *args, struct swl_out *to_server,
			   struct swl_out *to_client, const char *what)
{
	struct swl_surface *sf = surface_of(s, h->id);
	const struct swl_object *buf;

	if (!sf)
		return 0;
	switch (h->opcode) {
	case SWL_SURFACE_DESTROY:
		memset(sf, 0, sizeof(*sf));
		return recheck_popups(s, to_server, to_client);
	case SWL_SURFACE_ATTACH:
		buf = args->a[0].null ? NULL : object(s, args->a[0].u);
		sf->pending.attached = true;
		/* not a wl_buffer: the compositor ends the connection; until
		 * then it counts as the largest */
		sf->pending.bw = !buf ? 0 : buf->iface == SWL_IF_BUFFER ? buf->a : 0xffff;
		sf->pending.bh = !buf ? 0 : buf->iface == SWL_IF_BUFFER ? buf->b : 0xffff;
		sf->pending.moved |= args->a[1].u != 0 || args->a[2].u != 0;
		return 0;
	case SWL_SURFACE_OFFSET:
		sf->pending.moved |= args->a[0].u != 0 || args->a[1].u != 0;
		return 0;
	case SWL_SURFACE_SET_BUFFER_SCALE:
		sf->pending.scale = (int32_t)args->a[0].u;
		return 0;
	case SWL_SURFACE_SET_BUFFER_TRANSFORM:
		sf->pending.transform = (int32_t)args->a[0].u;
		return 0;
	case SWL_SURFACE_COMMIT:
		return surface_commit(s, sf, to_server, to_client, what);
	default:
		return 0;
	}
}

static unsigned popups_held(const struct swl_state *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < SWL_SURFACES_MAX; i++)
		n += s->surfaces[i].id != 0 && s->surfaces[i].role == SWL_ROLE_POPUP;
	return n;
}

/* xdg_surface.get_popup(id, parent, positioner): only under a toplevel or
 * popup of the guest's, on a surface without subsurfaces. */
static int popup_created(struct swl_state *s, const struct swl_header *h,
			 const struct swl_args *args, const char *what)
{
	struct swl_surface *sf = surface_behind(s, h->id), *parent;

	if (args->a[1].null)
		return fail(s, "%s: a popup without a parent cannot be confined", what);
	parent = surface_behind(s, args->a[1].u);
	if (!sf || !parent || (parent->role != SWL_ROLE_TOPLEVEL && parent->role != SWL_ROLE_POPUP))
		return fail(s, "%s: its surface or its parent is not a live window", what);
	if (sf->had_children)
		return fail(s, "%s: a popup with subsurfaces cannot be confined", what);
	if (popups_held(s) >= SWL_POPUPS_MAX)
		return fail(s, "%s: more than %u popups", what, SWL_POPUPS_MAX);
	sf->role = SWL_ROLE_POPUP;
	sf->parent = parent->id;
	sf->popup = args->a[0].u;
	sf->placed = sf->withheld = false;
	s->client[args->a[0].u].a = (uint16_t)sf->id;
	return 0;
}

static int xdg_surface_request(struct swl_state *s, const struct swl_header *h,
			       const struct swl_args *args, const char *what)
{
	struct swl_surface *sf = surface_behind(s, h->id);

	if (h->opcode == SWL_XDG_SURFACE_GET_POPUP)
		return popup_created(s, h, args, what);
	if (!sf)
		return 0;
	switch (h->opcode) {
	case SWL_XDG_SURFACE_GET_TOPLEVEL:
		sf->role = SWL_ROLE_TOPLEVEL;
		sf->next_w = sf->next_h = sf->size_w = sf->size_h = 0;
		s->client[args->a[0].u].a = (uint16_t)sf->id;
		return 0;
	case SWL_XDG_SURFACE_SET_WINDOW_GEOMETRY:
		if (sf->role != SWL_ROLE_POPUP)
			return 0; /* a toplevel's is dropped: request_action */
		sf->pending.geom_set = true;
		sf->pending.geom = (struct swl_box){(int32_t)args->a[0].u, (int32_t)args->a[1].u,
						    (int32_t)args->a[2].u, (int32_t)args->a[3].u};
		return 0;
	case SWL_XDG_SURFACE_ACK_CONFIGURE:
		if (args->a[0].u == sf->serial)
			sf->acked = true;
		return 0;
	default:
		return 0;
	}
}

/*
 * wl_pointer.set_cursor(serial, surface, x, y): the surface becomes a
 * cursor, which sway draws above every window wherever the pointer goes.
 * Its buffer is bounded (SWL_CURSOR_MAX square, at set_cursor and at
 * every commit): a guest's cursor cannot cover the screen, its labels
 * included, while the pointer is over its window.
 */
static int cursor_request(struct swl_state *s, const struct swl_header *h,
			  const struct swl_args *args, const char *what)
{
	struct swl_surface *sf;

	if (h->opcode != SWL_POINTER_SET_CURSOR || args->a[1].null)
		return 0;
	sf = surface_of(s, args->a[1].u);
	if (!sf || (sf->role != SWL_ROLE_NONE && sf->role != SWL_ROLE_CURSOR))
		return 0; /* another role: the compositor's protocol error */
	sf->role = SWL_ROLE_CURSOR;
	if (sf->cur.bw > SWL_CURSOR_MAX || sf->cur.bh > SWL_CURSOR_MAX)
		return fail(s, "%s: a cursor of %ux%u pixels, more than %ux%u", what, sf->cur.bw,
			    sf->cur.bh, SWL_CURSOR_MAX, SWL_CURSOR_MAX);
	return 0;
}

/* The requests that decide where a surface's pixels go: followed, and
 * what keeps popups inside their windows put before the request passes. */
static int popup_request(struct swl_state *s, const struct swl_header *h,
			 const struct swl_object *obj, const struct swl_args *args,
			 struct swl_out *to_server, struct swl_out *to_client, const char *what)
{
	struct swl_surface *sf, *parent;

	switch (obj->iface) {
	case SWL_IF_COMPOSITOR:
		if (h->opcode == SWL_COMPOSITOR_CREATE_SURFACE)
			return surface_created(s, args->a[0].u, what);
		return 0;
	case SWL_IF_SHM_POOL:
		if (h->opcode == SWL_SHM_POOL_CREATE_BUFFER) {
			s->client[args->a[0].u].a = saturate(args->a[2].u);
			s->client[args->a[0].u].b = saturate(args->a[3].u);
		}
		return 0;
	case SWL_IF_SURFACE:
		return surface_request(s, h, args, to_server, to_client, what);
	case SWL_IF_POINTER:
		return cursor_request(s, h, args, what);
	case SWL_IF_SUBCOMPOSITOR:
		if (h->opcode != SWL_SUBCOMPOSITOR_GET_SUBSURFACE)
			return 0;
		sf = surface_of(s, args->a[1].u);
		parent = surface_of(s, args->a[2].u);
		if ((sf && sf->role == SWL_ROLE_POPUP) ||
		    (parent && parent->role == SWL_ROLE_POPUP))
			return fail(s, "%s: a subsurface of a popup cannot be confined", what);
		if (parent)
			parent->had_children = true;
		return 0;
	case SWL_IF_XDG_WM_BASE:
		if (h->opcode == SWL_XDG_WM_BASE_GET_XDG_SURFACE)
			s->client[args->a[0].u].a = (uint16_t)args->a[1].u;
		return 0;
	case SWL_IF_XDG_SURFACE:
		return xdg_surface_request(s, h, args, what);
	case SWL_IF_XDG_TOPLEVEL:
	case SWL_IF_XDG_POPUP:
		/* destroy: the compositor unmaps it; a toplevel's popups
		 * (which the protocol says go first) are unmapped now */
		sf = surface_behind(s, h->id);
		if (h->opcode != 0 || !sf || sf->role == SWL_ROLE_NONE)
			return 0;
		sf->role = SWL_ROLE_NONE;
		sf->cur.bw = sf->cur.bh = 0;
		sf->withheld = false;
		return recheck_popups(s, to_server, to_client);
	default:
		return 0;
	}
}

/* The compositor's configures: a toplevel's size, a popup's place. */
static int popup_event(struct swl_state *s, const struct swl_header *h,
		       const struct swl_object *obj, const struct swl_args *args,
		       struct swl_out *to_client, struct swl_out *to_server)
{
	struct swl_surface *sf;

	if (h->opcode != 0 || (obj->iface != SWL_IF_XDG_SURFACE &&
			       obj->iface != SWL_IF_XDG_TOPLEVEL && obj->iface != SWL_IF_XDG_POPUP))
		return 0;
	sf = surface_behind(s, h->id);
	if (!sf)
		return 0;
	switch (obj->iface) {
	case SWL_IF_XDG_SURFACE:
		sf->serial = args->a[0].u;
		sf->acked = false;
		return 0;
	case SWL_IF_XDG_TOPLEVEL:
		if (sf->role != SWL_ROLE_TOPLEVEL)
			return 0;
		sf->next_w = (int32_t)args->a[0].u > 0 ? (int32_t)args->a[0].u : 0;
		sf->next_h = (int32_t)args->a[1].u > 0 ? (int32_t)args->a[1].u : 0;
		sf->size_w = (int32_t)min_size(sf->size_w, sf->next_w);
		sf->size_h = (int32_t)min_size(sf->size_h, sf->next_h);
		return recheck_popups(s, to_server, to_client);
	case SWL_IF_XDG_POPUP:
		if (sf->role != SWL_ROLE_POPUP || sf->popup != h->id)
			return 0;
		sf->placed = true;
		sf->px = (int32_t)args->a[0].u;
		sf->py = (int32_t)args->a[1].u;
		return recheck_popups(s, to_server, to_client);
	default:
		return 0;
	}
}

/* ---- requests ---- */

static const char *iface_name(const struct swl_object *obj)
{
	return swl_interfaces[obj->iface].name;
}

/* Every object argument names an object the guest holds. */
static int check_objects(struct swl_state *s, const struct swl_args *args, const char *what)
{
	for (unsigned i = 0; i < args->n; i++) {
		const struct swl_object *obj;

		if (args->a[i].type != 'o' || args->a[i].null)
			continue;
		obj = object(s, args->a[i].u);
		if (!obj || obj->iface == SWL_IF_NONE || obj->hidden)
			return fail(s, "%s: argument %u names unknown object %u", what, i + 1,
				    args->a[i].u);
	}
	return 0;
}

/* A new id from the guest: in its range and free. */
static int new_client_id(struct swl_state *s, uint32_t id, enum swl_iface iface, const char *what)
{
	if (id == 0 || id >= SWL_CLIENT_IDS)
		return fail(s, "%s: new id %u outside 1..%u", what, id, SWL_CLIENT_IDS - 1);
	if (s->client[id].iface != SWL_IF_NONE)
		return fail(s, "%s: new id %u is already in use", what, id);
	s->client[id] = (struct swl_object){.iface = (uint8_t)iface};
	return 0;
}

/* A guest's string made fit for a log line: printable ASCII, bounded. */
static const char *loggable(const uint8_t *in, char out[static 65])
{
	size_t i;

	for (i = 0; i < 64 && in && in[i]; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? (char)in[i] : '?';
	out[i] = '\0';
	return out;
}

static const struct swl_global *global_find(const struct swl_state *s, uint32_t name)
{
	for (unsigned i = 0; i < s->nglobals; i++)
		if (s->globals[i].name == name)
			return &s->globals[i];
	return NULL;
}

/* wl_registry.bind(name, interface, version, id): only a global the filter
 * offered, under its own interface name, at most at the offered version. */
static int check_bind(struct swl_state *s, const struct swl_args *args, const char *what)
{
	const struct swl_global *g = global_find(s, args->a[0].u);
	const char *want = (const char *)args->a[1].data;
	uint32_t version = args->a[2].u;
	char shown[65];

	if (!g || strcmp(want, swl_interfaces[g->iface].name) != 0)
		return fail(s, "%s of %s (name %u): not offered to guests", what,
			    loggable(args->a[1].data, shown), args->a[0].u);
	if (version == 0 || version > g->version)
		return fail(s, "%s of %s: version %u, offered %u", what, want, version, g->version);
	return new_client_id(s, args->a[3].u, (enum swl_iface)g->iface, what);
}

static int text_type(const struct swl_arg *a);

/* What the filter does with a request beyond passing it: 1 if it was
 * handled (rewritten or dropped), 0 to pass it as it is. */
static int request_action(struct swl_state *s, const struct swl_header *h,
			  const struct swl_object *obj, const struct swl_args *args,
			  struct swl_out *to_server, const char *what)
{
	switch (obj->iface) {
	case SWL_IF_XDG_TOPLEVEL:
		if (h->opcode == SWL_XDG_TOPLEVEL_SET_TITLE)
			return handled(put_title(s, to_server, h->id, args->a[0].data,
						 args->a[0].len - 1));
		if (h->opcode == SWL_XDG_TOPLEVEL_SET_APP_ID)
			return handled(put_app_id(s, to_server, h->id));
		if (h->opcode == SWL_XDG_TOPLEVEL_SET_FULLSCREEN && !s->cfg.allow_fullscreen) {
			note(s, NOTE_FULLSCREEN, "dropped %s: fullscreen is not granted", what);
			return 1;
		}
		/*
		 * A guest's windows tile (unless the user floats them):
		 * sway floats a window of a fixed size or with a parent, and
		 * does not keep a floating window inside the output, so a
		 * window larger than the output would push its own title bar,
		 * the label, off the screen.
		 */
		if (h->opcode == SWL_XDG_TOPLEVEL_SET_PARENT ||
		    h->opcode == SWL_XDG_TOPLEVEL_SET_MIN_SIZE ||
		    h->opcode == SWL_XDG_TOPLEVEL_SET_MAX_SIZE) {
			note(s, NOTE_FLOAT, "dropped %s: a guest's windows tile", what);
			return 1;
		}
		return 0;
	case SWL_IF_XDG_SURFACE:
		/*
		 * sway 1.7 sizes a floating window by its window geometry and
		 * does not clip it (measured: a buffer 150 pixels larger on
		 * every side than the geometry draws all of it past the
		 * border).  Without a geometry, the compositor takes the
		 * extents of the whole surface tree: the window is everything
		 * the toplevel draws, and its border goes around it.  The cost:
		 * a client that draws shadows outside its geometry (GTK, when
		 * floating) shows them inside its border.
		 */
		if (h->opcode == SWL_XDG_SURFACE_SET_WINDOW_GEOMETRY) {
			const struct swl_surface *sf = surface_behind(s, h->id);

			if (sf && sf->role == SWL_ROLE_TOPLEVEL) {
				note(s, NOTE_GEOMETRY,
				     "dropped %s: a toplevel's window is all it draws", what);
				return 1;
			}
		}
		return 0;
	case SWL_IF_DATA_SOURCE:
		/* Followed for the user's copy (swl_copy_request); passed. */
		if (h->opcode == SWL_DATA_SOURCE_OFFER && text_type(&args->a[0]) >= 0)
			s->client[h->id].a |= (uint16_t)(1u << text_type(&args->a[0]));
		if (h->opcode == SWL_DATA_SOURCE_DESTROY && h->id == s->guest_selection)
			s->guest_selection = 0;
		return 0;
	case SWL_IF_DATA_DEVICE:
		if (h->opcode == SWL_DATA_DEVICE_SET_SELECTION) {
			/* The guest's own selection replaces the user's paste
			 * (in the guest), and leaves it only by the user's
			 * copy. */
			swl_paste_forget(s);
			s->guest_selection = args->a[0].null ? 0 : args->a[0].u;
			note(s, NOTE_SELECTION, "dropped %s: the guest's selection stays in it",
			     what);
			return 1;
		}
		if (h->opcode == SWL_DATA_DEVICE_START_DRAG) {
			note(s, NOTE_DRAG, "dropped %s: no drag leaves a guest", what);
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* After get_toplevel: the label and app id, before the guest can map it. */
static int toplevel_created(struct swl_state *s, uint32_t id, struct swl_out *to_server)
{
	if (put_title(s, to_server, id, (const uint8_t *)"", 0) < 0)
		return -1;
	return put_app_id(s, to_server, id);
}

static int request_new_id(struct swl_state *s, const struct swl_header *h,
			  const struct swl_object *obj, const struct swl_msg *msg,
			  const struct swl_args *args, const char *what)
{
	if (obj->iface == SWL_IF_REGISTRY && h->opcode == SWL_REGISTRY_BIND)
		return check_bind(s, args, what);
	for (unsigned i = 0; i < args->n; i++)
		if (args->a[i].type == 'n')
			return new_client_id(s, args->a[i].u, msg->creates, what);
	return 0;
}

/* ---- the user's paste ----
 *
 * The guest's requests to the filter's own offers (filter.h: every
 * server id the guest may name is one): handled here, never passed to the
 * compositor, which knows nothing of them.
 */

static const char *const paste_types[] = {"text/plain;charset=utf-8", "text/plain", "UTF8_STRING"};

/* The index of a text type in paste_types, or -1. */
static int text_type(const struct swl_arg *a)
{
	for (size_t i = 0; i < sizeof(paste_types) / sizeof(paste_types[0]); i++)
		if (!a->null && strcmp((const char *)a->data, paste_types[i]) == 0)
			return (int)i;
	return -1;
}

static bool paste_type(const struct swl_arg *a)
{
	return text_type(a) >= 0;
}

static int offer_request(struct swl_state *s, const uint8_t *buf, const struct swl_header *h,
			 unsigned fds_queued, struct swl_result *res)
{
	const struct swl_interface *in = &swl_interfaces[SWL_IF_DATA_OFFER];
	uint32_t slot = h->id - SWL_SERVER_ID_BASE;
	struct swl_offer *of = slot < SWL_OFFERS_MAX ? &s->offers[slot] : NULL;
	struct swl_args args;
	const char *why;

	if (!of || !of->live)
		return fail(s, "request %u to unknown object %u", h->opcode, h->id);
	if (h->opcode >= in->nreq)
		return fail(s, "wl_data_offer#%u: unknown request %u", h->id, h->opcode);
	if (swl_args_parse(in->req[h->opcode].sig, buf + 8, h->size - 8u, &args, &why) < 0)
		return fail(s, "wl_data_offer#%u.%s: %s", h->id, in->req[h->opcode].name, why);
	if (args.nfds > fds_queued)
		return fail(s, "wl_data_offer#%u.%s: its descriptor did not come with it", h->id,
			    in->req[h->opcode].name);
	*res = (struct swl_result){.size = h->size, .nfds = args.nfds};
	if (h->opcode == SWL_DATA_OFFER_RECEIVE)
		/* Another type, or an older paste: its descriptor is closed,
		 * and the guest reads nothing. */
		res->paste_target =
			paste_type(&args.a[0]) && of->gen == s->paste_gen && s->paste_live;
	else if (h->opcode == SWL_DATA_OFFER_DESTROY)
		of->live = false; /* a server id: no delete_id follows */
	return 1;
}

static int put_offer(struct swl_state *s, struct swl_out *o, uint32_t device, uint32_t id)
{
	struct swl_msgbuf m;

	swl_msg_begin(&m, device, SWL_DATA_DEVICE_DATA_OFFER);
	swl_msg_u32(&m, id);
	if (out_msg(s, o, &m) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(paste_types) / sizeof(paste_types[0]); i++) {
		swl_msg_begin(&m, id, SWL_DATA_OFFER_OFFER);
		swl_msg_string(&m, paste_types[i], strlen(paste_types[i]));
		if (out_msg(s, o, &m) < 0)
			return -1;
	}
	swl_msg_begin(&m, device, SWL_DATA_DEVICE_SELECTION);
	swl_msg_u32(&m, id);
	return out_msg(s, o, &m);
}

/* The lowest free offer slot, or -1. */
static int offer_slot(const struct swl_state *s)
{
	for (int i = 0; i < (int)SWL_OFFERS_MAX; i++)
		if (!s->offers[i].live)
			return i;
	return -1;
}

int swl_paste_offer(struct swl_state *s, struct swl_out *to_client)
{
	int told = 0;

	s->note[0] = '\0';
	s->paste_gen++;
	s->paste_live = true;
	for (uint32_t id = 1; id < SWL_CLIENT_IDS && told < SWL_PASTE_DEVICES; id++) {
		int slot;

		if (s->client[id].iface != SWL_IF_DATA_DEVICE)
			continue;
		slot = offer_slot(s);
		if (slot < 0) {
			note(s, NOTE_PASTE, "paste not offered: the guest holds %u offers already",
			     SWL_OFFERS_MAX);
			break;
		}
		if (put_offer(s, to_client, id, SWL_SERVER_ID_BASE + (uint32_t)slot) < 0)
			return told;
		s->offers[slot] = (struct swl_offer){.live = true, .gen = s->paste_gen};
		told++;
	}
	return told;
}

void swl_paste_forget(struct swl_state *s)
{
	s->paste_live = false;
}

int swl_copy_request(struct swl_state *s, struct swl_out *to_client)
{
	uint32_t id = s->guest_selection;
	struct swl_msgbuf m;

	s->note[0] = '\0';
	if (id == 0 || id >= SWL_CLIENT_IDS || s->client[id].iface != SWL_IF_DATA_SOURCE)
		return 0;
	for (size_t i = 0; i < sizeof(paste_types) / sizeof(paste_types[0]); i++) {
		if (!(s->client[id].a & (1u << i)))
			continue;
		swl_msg_begin(&m, id, SWL_DATA_SOURCE_SEND);
		swl_msg_string(&m, paste_types[i], strlen(paste_types[i]));
		return out_msg(s, to_client, &m) < 0 ? -1 : 1;
	}
	return 0;
}

int swl_filter_request(struct swl_state *s, const uint8_t *buf, size_t len, unsigned fds_queued,
		       struct swl_out *to_server, struct swl_out *to_client, struct swl_result *res)
{
	struct swl_header h;
	struct swl_args args;
	const struct swl_object *obj;
	const struct swl_msg *msg;
	const char *why;
	char what[96];
	int r;

	s->note[0] = '\0';
	r = swl_header_read(buf, len, &h);
	if (r < 0)
		return fail(s, "request to object %u: size %u out of 8..%u or not a multiple of 4",
			    swl_get_u32(buf), swl_get_u32(buf + 4) >> 16, SWL_MSG_MAX);
	if (r == 0)
		return 0;
	if (h.id >= SWL_SERVER_ID_BASE)
		return offer_request(s, buf, &h, fds_queued, res);
	obj = object(s, h.id);
	if (!obj || obj->iface == SWL_IF_NONE || obj->hidden)
		return fail(s, "request %u to unknown object %u", h.opcode, h.id);
	if (h.opcode >= swl_interfaces[obj->iface].nreq)
		return fail(s, "%s#%u: unknown request %u", iface_name(obj), h.id, h.opcode);
	msg = &swl_interfaces[obj->iface].req[h.opcode];
	snprintf(what, sizeof(what), "%s#%u.%s", iface_name(obj), h.id, msg->name);
	if (swl_args_parse(msg->sig, buf + 8, h.size - 8u, &args, &why) < 0)
		return fail(s, "%s: %s", what, why);
	if (args.nfds > fds_queued)
		return fail(s, "%s: its descriptor did not come with it", what);
	if (check_objects(s, &args, what) < 0 || request_new_id(s, &h, obj, msg, &args, what) < 0 ||
	    popup_request(s, &h, obj, &args, to_server, to_client, what) < 0)
		return -1;
	res->size = h.size;
	res->nfds = args.nfds;
	res->pass_fds = false;
	res->paste_target = false;
	r = request_action(s, &h, obj, &args, to_server, what);
	if (r != 0)
		return r < 0 ? -1 : 1;
	if (!out_put(to_server, buf, h.size))
		return fail(s, "internal: output buffer full");
	res->pass_fds = true;
	if (obj->iface == SWL_IF_XDG_SURFACE && h.opcode == SWL_XDG_SURFACE_GET_TOPLEVEL)
		return toplevel_created(s, args.a[0].u, to_server) < 0 ? -1 : 1;
	return 1;
}

/* ---- events ---- */

/* wl_registry.global: an allowed interface is passed with its version
 * capped to what the filter knows; anything else is never shown. */
static int event_global(struct swl_state *s, const struct swl_header *h,
			const struct swl_args *args, struct swl_out *to_client)
{
	const char *name = (const char *)args->a[1].data;
	enum swl_iface iface = args->a[1].null ? SWL_IF_NONE : swl_global_find(name);
	uint32_t version = args->a[2].u;
	struct swl_global *g;
	struct swl_msgbuf m;

	if (iface == SWL_IF_NONE || version == 0)
		return 1;
	if (version > swl_interfaces[iface].version)
		version = swl_interfaces[iface].version;
	g = (struct swl_global *)global_find(s, args->a[0].u);
	if (!g) {
		if (s->nglobals == SWL_GLOBALS_MAX) {
			note(s, NOTE_GLOBALS, "more than %u globals: %s (name %u) not offered",
			     SWL_GLOBALS_MAX, name, args->a[0].u);
			return 1;
		}
		g = &s->globals[s->nglobals++];
	}
	g->name = args->a[0].u;
	g->iface = (uint8_t)iface;
	g->version = version;
	swl_msg_begin(&m, h->id, SWL_REGISTRY_GLOBAL);
	swl_msg_u32(&m, g->name);
	swl_msg_string(&m, name, strlen(name));
	swl_msg_u32(&m, version);
	return handled(out_msg(s, to_client, &m));
}

/* A selection or drag offer from the compositor (clipboard none): the
 * guest never sees it, and the filter destroys it at once so that the
 * compositor keeps no state for it.  The id stays hidden until the
 * compositor reuses it; events to it are dropped. */
static int event_data_offer(struct swl_state *s, uint32_t id, struct swl_out *to_server)
{
	struct swl_object *obj = object(s, id);
	struct swl_msgbuf m;

	if (!obj || id < SWL_SERVER_ID_BASE)
		return fail(s, "compositor: data offer with id %u outside the server's range", id);
	obj->iface = SWL_IF_DATA_OFFER;
	obj->hidden = 1;
	swl_msg_begin(&m, id, SWL_DATA_OFFER_DESTROY);
	return handled(out_msg(s, to_server, &m));
}

static int event_action(struct swl_state *s, const struct swl_header *h,
			const struct swl_object *obj, const struct swl_args *args,
			struct swl_out *to_client, struct swl_out *to_server)
{
	switch (obj->iface) {
	case SWL_IF_DISPLAY:
		if (h->opcode == SWL_DISPLAY_DELETE_ID && args->a[0].u > 0 &&
		    args->a[0].u < SWL_CLIENT_IDS)
			s->client[args->a[0].u].iface = SWL_IF_NONE;
		return 0;
	case SWL_IF_REGISTRY:
		if (h->opcode == SWL_REGISTRY_GLOBAL)
			return event_global(s, h, args, to_client);
		/* global_remove: only of a global the guest was shown */
		return global_find(s, args->a[0].u) ? 0 : 1;
	case SWL_IF_DATA_DEVICE:
		/* Clipboard none: no offer, selection or drag reaches the guest. */
		if (h->opcode == SWL_DATA_DEVICE_DATA_OFFER)
			return event_data_offer(s, args->a[0].u, to_server);
		return 1;
	default:
		return 0;
	}
}

int swl_filter_event(struct swl_state *s, const uint8_t *buf, size_t len, unsigned fds_queued,
		     struct swl_out *to_client, struct swl_out *to_server, struct swl_result *res)
{
	struct swl_header h;
	struct swl_args args;
	const struct swl_object *obj;
	const struct swl_msg *msg;
	const char *why;
	int r;

	s->note[0] = '\0';
	r = swl_header_read(buf, len, &h);
	if (r < 0)
		return fail(s, "compositor: event of size %u", swl_get_u32(buf + 4) >> 16);
	if (r == 0)
		return 0;
	obj = object(s, h.id);
	if (!obj || obj->iface == SWL_IF_NONE)
		return fail(s, "compositor: event %u to unknown object %u", h.opcode, h.id);
	if (h.opcode >= swl_interfaces[obj->iface].nev)
		return fail(s, "compositor: %s#%u: unknown event %u", iface_name(obj), h.id,
			    h.opcode);
	msg = &swl_interfaces[obj->iface].ev[h.opcode];
	if (swl_args_parse(msg->sig, buf + 8, h.size - 8u, &args, &why) < 0)
		return fail(s, "compositor: %s#%u.%s: %s", iface_name(obj), h.id, msg->name, why);
	if (args.nfds > fds_queued)
		return fail(s, "compositor: %s#%u.%s: its descriptor did not come with it",
			    iface_name(obj), h.id, msg->name);
	res->size = h.size;
	res->nfds = args.nfds;
	res->pass_fds = false;
	res->paste_target = false;
	if (obj->hidden)
		return 1; /* to a withheld offer: dropped with its descriptors */
	if (popup_event(s, &h, obj, &args, to_client, to_server) < 0)
		return -1;
	r = event_action(s, &h, obj, &args, to_client, to_server);
	if (r != 0)
		return r < 0 ? -1 : 1;
	if (!out_put(to_client, buf, h.size))
		return fail(s, "internal: output buffer full");
	res->pass_fds = true;
	return 1;
}
