/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state machine of spectrum-wlfilter, between one guest's Wayland
 * connection and the compositor: pure functions over byte buffers.  The
 * caller (main.c) reads bytes and descriptors, hands each direction's
 * buffer to swl_filter_request or swl_filter_event, writes what they put in
 * the output buffers and passes or closes the descriptors as told.
 */
#ifndef SWL_FILTER_H
#define SWL_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"
#include "wire.h"

#define SWL_INSTANCE_MAX 63 /* bytes of an instance's name, as spectrum's names */
#define SWL_TITLE_MAX 256   /* bytes of a guest's title kept; the rest is cut */
#define SWL_GLOBALS_MAX 128 /* globals offered on one connection */
#define SWL_WHY_MAX 256
#define SWL_SURFACES_MAX 512 /* wl_surfaces a guest holds at once */
#define SWL_POPUPS_MAX 64    /* xdg_popups a guest holds at once */
#define SWL_POPUP_DEPTH 16   /* popups nested deeper than this are never shown */

enum swl_clipboard {
	SWL_CLIPBOARD_NONE,  /* no selection or drag in either direction */
	SWL_CLIPBOARD_PASTE, /* and the user's paste (control.h) is offered */
	SWL_CLIPBOARD_COPY,  /* none, and the user may copy the guest's selection */
	SWL_CLIPBOARD_BOTH,  /* paste and copy */
};

/*
 * The user's paste (--clipboard paste): text that arrived on the control
 * channel is offered to the guest as a selection of the filter's own
 * making.  The guest never sees a compositor-created object (the only
 * one on the allow-list, wl_data_offer, is always withheld), so the
 * guest's server id range is the filter's alone: its offers take the
 * ids SWL_SERVER_ID_BASE + slot, the lowest free slot first, because
 * libwayland's clients accept a server id only at or below the count of
 * server ids they have seen (wl_map_insert_at): ids from the top of the
 * range would end the guest's connection.
 */
#define SWL_PASTE_MAX (1u << 20) /* bytes of one paste */
#define SWL_OFFERS_MAX 16	 /* the filter's offers a guest holds at once */
#define SWL_PASTE_DEVICES 4	 /* data devices told of one paste */
#define SWL_CURSOR_MAX 256	 /* a cursor's buffer: at most this many pixels square */

struct swl_offer {
	bool live;    /* the guest holds it */
	uint32_t gen; /* the paste it offers */
};

struct swl_config {
	char instance[SWL_INSTANCE_MAX + 1];
	bool allow_fullscreen;
	enum swl_clipboard clipboard;
};

struct swl_object {
	uint8_t iface;	/* enum swl_iface; SWL_IF_NONE when free */
	uint8_t hidden; /* created by the compositor, withheld from the guest */
	/*
	 * wl_buffer: a, b = its width and height (saturated at 65535);
	 * wl_surface: a = 1 + its index in swl_state.surfaces (0: none);
	 * xdg_surface, xdg_toplevel, xdg_popup: a = the wl_surface's id.
	 */
	uint16_t a, b;
};

/* A rectangle in surface-local units. */
struct swl_box {
	int64_t x, y, w, h;
};

enum swl_role {
	SWL_ROLE_NONE,
	SWL_ROLE_TOPLEVEL,
	SWL_ROLE_POPUP,
	SWL_ROLE_CURSOR, /* wl_pointer.set_cursor's: its buffer is bounded */
};

/* What one wl_surface state holds that decides where its pixels go. */
struct swl_surface_state {
	bool attached;	   /* pending: an attach since the last commit */
	uint16_t bw, bh;   /* the attached buffer's size, 0 x 0 without one */
	int32_t scale;	   /* wl_surface.set_buffer_scale */
	int32_t transform; /* wl_surface.set_buffer_transform */
	bool moved;	   /* an attach or offset with a non-zero x or y */
	bool geom_set;
	struct swl_box geom; /* xdg_surface.set_window_geometry */
};

/*
 * A wl_surface as far as confining popups needs it: the pending and
 * current states, its xdg role and, for a popup, its parent and place.
 */
struct swl_surface {
	uint32_t id; /* the wl_surface's id; 0 when the slot is free */
	uint8_t role;
	bool had_children; /* ever the parent of a wl_subsurface */
	bool withheld;	   /* a popup the filter keeps unmapped */
	struct swl_surface_state pending, cur;
	/* toplevel: the size the compositor asked for, 0 = the guest's
	 * choice; next is the last configure, size the one in force (the
	 * smaller of the two until the guest commits after acking next). */
	int32_t next_w, next_h, size_w, size_h;
	uint32_t serial; /* of the last xdg_surface.configure */
	bool acked;	 /* that configure is acked */
	/* popup: the parent's wl_surface id, the place the compositor gave
	 * (relative to the parent's window geometry) */
	uint32_t parent, popup; /* wl_surface id; the xdg_popup's id */
	bool placed;
	int32_t px, py;
};

struct swl_global {
	uint32_t name;
	uint8_t iface;
	uint32_t version; /* as offered: capped to what the filter knows */
};

struct swl_state {
	struct swl_config cfg;
	struct swl_object client[SWL_CLIENT_IDS];
	struct swl_object server[SWL_SERVER_IDS];
	struct swl_global globals[SWL_GLOBALS_MAX];
	unsigned nglobals;
	struct swl_surface surfaces[SWL_SURFACES_MAX];
	struct swl_offer offers[SWL_OFFERS_MAX];
	uint32_t paste_gen;	/* the current paste's number */
	bool paste_live;	/* it may still be read (no later selection) */
	/* The guest's wl_data_source of its last set_selection, 0 for none
	 * (its text types: a bit per paste type in its object's `a`). */
	uint32_t guest_selection;
	unsigned noted;		/* kinds of note already given on this connection */
	char why[SWL_WHY_MAX];	/* why the connection must end */
	char note[SWL_WHY_MAX]; /* a line to log about the last message, or "" */
};

/* An output buffer: the caller leaves at least SWL_OUT_ROOM bytes free in
 * each before every call (one message produces at most that much). */
#define SWL_OUT_ROOM (3 * SWL_MSG_MAX)
struct swl_out {
	uint8_t *buf;
	size_t len, cap;
};

struct swl_result {
	size_t size;   /* bytes of input the message took */
	unsigned nfds; /* descriptors of the queue it took */
	bool pass_fds; /* pass them on with the message, or close them */
	/* wl_data_offer.receive of the current paste: the caller writes
	 * the paste into its descriptor (the one taken), then closes it */
	bool paste_target;
};

/* A fresh connection: only wl_display (id 1) exists. */
void swl_state_init(struct swl_state *s, const struct swl_config *cfg);

/*
 * One message from the guest (a request) at the start of buf: 1 when it
 * was handled (res says how much it took), 0 when buf holds only part of a
 * message, -1 when the guest's connection must end (s->why says why, naming
 * the request).  fds_queued is how many descriptors have arrived and not
 * been taken yet.  s->note, when not empty, is a line to log.
 */
int swl_filter_request(struct swl_state *s, const uint8_t *buf, size_t len, unsigned fds_queued,
		       struct swl_out *to_server, struct swl_out *to_client,
		       struct swl_result *res);

/* The same for one message from the compositor (an event). */
int swl_filter_event(struct swl_state *s, const uint8_t *buf, size_t len, unsigned fds_queued,
		     struct swl_out *to_client, struct swl_out *to_server, struct swl_result *res);

/*
 * The user's paste is complete: a new offer (text/plain;charset=utf-8,
 * text/plain, UTF8_STRING) and a selection event to each of the guest's
 * data devices (at most SWL_PASTE_DEVICES), in to_client (which has
 * SWL_OUT_ROOM free).  Returns how many devices were told (0: none to
 * tell, or no free offer slot: s->note says so); a receive of an older
 * paste's offer is answered with nothing from now on.
 */
int swl_paste_offer(struct swl_state *s, struct swl_out *to_client);

/* The paste is no longer offered: its offers' receives get nothing. */
void swl_paste_forget(struct swl_state *s);

/*
 * The user's copy: asks the guest's selection for its text by a
 * wl_data_source.send event in to_client (with SWL_OUT_ROOM free), whose
 * descriptor the caller passes with it (a pipe's write end: the guest
 * writes into it, the filter never reads it).  Returns 1 when the event
 * was put, 0 when the guest has no selection with a text type (the
 * caller closes the descriptor), -1 when the output was full.
 */
int swl_copy_request(struct swl_state *s, struct swl_out *to_client);

/*
 * A guest's title made safe to show after the label: control characters,
 * bidirectional formatting characters and line separators become visible
 * escapes ("\u202e"), invalid UTF-8 becomes U+FFFD, and at most
 * SWL_TITLE_MAX bytes of the input are kept (then "…").  Writes a
 * NUL-terminated string; cap must be at least SWL_TITLE_CLEAN_MAX.
 * Returns its length.
 */
#define SWL_TITLE_CLEAN_MAX (SWL_TITLE_MAX * 6 + 4)
size_t swl_title_clean(const uint8_t *in, size_t len, char *out, size_t cap);

/* True if s may be an instance's name: 1 to 63 of a-z 0-9 '-', no '-' at
 * either end (spectrum's own rule for names). */
bool swl_instance_valid(const char *s);

#endif
