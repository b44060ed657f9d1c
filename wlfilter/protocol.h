/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interfaces spectrum-wlfilter follows: every interface a guest can
 * reach from the globals it is offered, with the signature of each of its
 * requests and events up to the version the filter knows.  A guest can only
 * bind an offered global, at most at that version, so every object it holds
 * is of one of these interfaces and every message it may send is listed
 * here: the filter knows where each new id and descriptor is.
 */
#ifndef SWL_PROTOCOL_H
#define SWL_PROTOCOL_H

#include <stdint.h>

enum swl_iface {
	SWL_IF_NONE = 0, /* a free id */
	SWL_IF_DISPLAY,
	SWL_IF_REGISTRY,
	SWL_IF_CALLBACK,
	SWL_IF_COMPOSITOR,
	SWL_IF_SHM_POOL,
	SWL_IF_SHM,
	SWL_IF_BUFFER,
	SWL_IF_DATA_OFFER,
	SWL_IF_DATA_SOURCE,
	SWL_IF_DATA_DEVICE,
	SWL_IF_DATA_DEVICE_MANAGER,
	SWL_IF_SURFACE,
	SWL_IF_SEAT,
	SWL_IF_POINTER,
	SWL_IF_KEYBOARD,
	SWL_IF_TOUCH,
	SWL_IF_OUTPUT,
	SWL_IF_REGION,
	SWL_IF_SUBCOMPOSITOR,
	SWL_IF_SUBSURFACE,
	SWL_IF_XDG_WM_BASE,
	SWL_IF_XDG_POSITIONER,
	SWL_IF_XDG_SURFACE,
	SWL_IF_XDG_TOPLEVEL,
	SWL_IF_XDG_POPUP,
	SWL_IF_DECORATION_MANAGER,
	SWL_IF_TOPLEVEL_DECORATION,
	SWL_IF_COUNT,
};

struct swl_msg {
	const char *name;
	const char *sig;	/* wire.h's types; 'n' is the new id, if any */
	enum swl_iface creates; /* the interface of the new id */
};

struct swl_interface {
	const char *name;
	uint32_t version; /* the highest the filter knows: binds are capped to it */
	int global;	  /* offered to guests when the compositor has it */
	unsigned nreq, nev;
	const struct swl_msg *req, *ev;
};

extern const struct swl_interface swl_interfaces[SWL_IF_COUNT];

/* The interface offered as a global under this name, or SWL_IF_NONE. */
enum swl_iface swl_global_find(const char *name);

/* Request opcodes the filter acts on. */
enum {
	SWL_DISPLAY_GET_REGISTRY = 1,
	SWL_REGISTRY_BIND = 0,
	SWL_DATA_OFFER_RECEIVE = 1,
	SWL_DATA_OFFER_DESTROY = 2,
	SWL_POINTER_SET_CURSOR = 0,
	SWL_DATA_SOURCE_OFFER = 0,
	SWL_DATA_SOURCE_DESTROY = 1,
	SWL_XDG_TOPLEVEL_SET_PARENT = 1,
	SWL_XDG_TOPLEVEL_SET_MAX_SIZE = 7,
	SWL_XDG_TOPLEVEL_SET_MIN_SIZE = 8,
	SWL_DATA_DEVICE_START_DRAG = 0,
	SWL_DATA_DEVICE_SET_SELECTION = 1,
	SWL_XDG_SURFACE_GET_TOPLEVEL = 1,
	SWL_XDG_TOPLEVEL_SET_TITLE = 2,
	SWL_XDG_TOPLEVEL_SET_APP_ID = 3,
	SWL_XDG_TOPLEVEL_SET_FULLSCREEN = 11,
	SWL_COMPOSITOR_CREATE_SURFACE = 0,
	SWL_SHM_POOL_CREATE_BUFFER = 0,
	SWL_SURFACE_DESTROY = 0,
	SWL_SURFACE_ATTACH = 1,
	SWL_SURFACE_COMMIT = 6,
	SWL_SURFACE_SET_BUFFER_TRANSFORM = 7,
	SWL_SURFACE_SET_BUFFER_SCALE = 8,
	SWL_SURFACE_OFFSET = 10,
	SWL_SUBCOMPOSITOR_GET_SUBSURFACE = 1,
	SWL_XDG_WM_BASE_GET_XDG_SURFACE = 2,
	SWL_XDG_SURFACE_GET_POPUP = 2,
	SWL_XDG_SURFACE_SET_WINDOW_GEOMETRY = 3,
	SWL_XDG_SURFACE_ACK_CONFIGURE = 4,
	SWL_XDG_TOPLEVEL_DESTROY = 0,
	SWL_XDG_POPUP_DESTROY = 0,
};

/* Event opcodes the filter acts on. */
enum {
	SWL_DISPLAY_ERROR = 0,
	SWL_DISPLAY_DELETE_ID = 1,
	SWL_REGISTRY_GLOBAL = 0,
	SWL_REGISTRY_GLOBAL_REMOVE = 1,
	SWL_DATA_OFFER_OFFER = 0,
	SWL_DATA_SOURCE_SEND = 1,
	SWL_DATA_DEVICE_DATA_OFFER = 0,
	SWL_DATA_DEVICE_SELECTION = 5,
	SWL_XDG_SURFACE_CONFIGURE = 0,
	SWL_XDG_TOPLEVEL_CONFIGURE = 0,
	SWL_XDG_POPUP_CONFIGURE = 0,
	SWL_XDG_POPUP_POPUP_DONE = 1,
};

#endif
