/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Signatures of the followed interfaces, from the protocol descriptions of
 * Wayland 1.21 (wayland.xml), xdg-shell and xdg-decoration (wayland-protocols
 * 1.31), as Debian 12 ships them.  Types: see wire.h.
 */
#include "protocol.h"

#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define IFACE(nm, ver, glob, rq, evs)                                                     \
	{                                                                                 \
		.name = nm, .version = ver, .global = glob, .nreq = N(rq), .nev = N(evs), \
		.req = rq, .ev = evs                                                      \
	}

static const struct swl_msg display_req[] = {
	{"sync", "n", SWL_IF_CALLBACK},
	{"get_registry", "n", SWL_IF_REGISTRY},
};
static const struct swl_msg display_ev[] = {
	{"error", "ous", 0},
	{"delete_id", "u", 0},
};
/* bind's new id is untyped: an interface name and a version precede it. */
static const struct swl_msg registry_req[] = {
	{"bind", "usun", SWL_IF_NONE},
};
static const struct swl_msg registry_ev[] = {
	{"global", "usu", 0},
	{"global_remove", "u", 0},
};
static const struct swl_msg callback_ev[] = {
	{"done", "u", 0},
};
static const struct swl_msg compositor_req[] = {
	{"create_surface", "n", SWL_IF_SURFACE},
	{"create_region", "n", SWL_IF_REGION},
};
static const struct swl_msg shm_pool_req[] = {
	{"create_buffer", "niiiiu", SWL_IF_BUFFER},
	{"destroy", "", 0},
	{"resize", "i", 0},
};
static const struct swl_msg shm_req[] = {
	{"create_pool", "nhi", SWL_IF_SHM_POOL},
};
static const struct swl_msg shm_ev[] = {
	{"format", "u", 0},
};
static const struct swl_msg buffer_req[] = {
	{"destroy", "", 0},
};
static const struct swl_msg buffer_ev[] = {
	{"release", "", 0},
};
static const struct swl_msg data_offer_req[] = {
	{"accept", "u?s", 0}, {"receive", "sh", 0},	{"destroy", "", 0},
	{"finish", "", 0},    {"set_actions", "uu", 0},
};
static const struct swl_msg data_offer_ev[] = {
	{"offer", "s", 0},
	{"source_actions", "u", 0},
	{"action", "u", 0},
};
static const struct swl_msg data_source_req[] = {
	{"offer", "s", 0},
	{"destroy", "", 0},
	{"set_actions", "u", 0},
};
static const struct swl_msg data_source_ev[] = {
	{"target", "?s", 0},	       {"send", "sh", 0},	{"cancelled", "", 0},
	{"dnd_drop_performed", "", 0}, {"dnd_finished", "", 0}, {"action", "u", 0},
};
static const struct swl_msg data_device_req[] = {
	{"start_drag", "?oo?ou", 0},
	{"set_selection", "?ou", 0},
	{"release", "", 0},
};
static const struct swl_msg data_device_ev[] = {
	{"data_offer", "n", SWL_IF_DATA_OFFER},
	{"enter", "uoff?o", 0},
	{"leave", "", 0},
	{"motion", "uff", 0},
	{"drop", "", 0},
	{"selection", "?o", 0},
};
static const struct swl_msg data_device_manager_req[] = {
	{"create_data_source", "n", SWL_IF_DATA_SOURCE},
	{"get_data_device", "no", SWL_IF_DATA_DEVICE},
};
static const struct swl_msg surface_req[] = {
	{"destroy", "", 0},
	{"attach", "?oii", 0},
	{"damage", "iiii", 0},
	{"frame", "n", SWL_IF_CALLBACK},
	{"set_opaque_region", "?o", 0},
	{"set_input_region", "?o", 0},
	{"commit", "", 0},
	{"set_buffer_transform", "i", 0},
	{"set_buffer_scale", "i", 0},
	{"damage_buffer", "iiii", 0},
	{"offset", "ii", 0},
};
static const struct swl_msg surface_ev[] = {
	{"enter", "o", 0},
	{"leave", "o", 0},
};
static const struct swl_msg seat_req[] = {
	{"get_pointer", "n", SWL_IF_POINTER},
	{"get_keyboard", "n", SWL_IF_KEYBOARD},
	{"get_touch", "n", SWL_IF_TOUCH},
	{"release", "", 0},
};
static const struct swl_msg seat_ev[] = {
	{"capabilities", "u", 0},
	{"name", "s", 0},
};
static const struct swl_msg pointer_req[] = {
	{"set_cursor", "u?oii", 0},
	{"release", "", 0},
};
static const struct swl_msg pointer_ev[] = {
	{"enter", "uoff", 0},	    {"leave", "uo", 0},	    {"motion", "uff", 0},
	{"button", "uuuu", 0},	    {"axis", "uuf", 0},	    {"frame", "", 0},
	{"axis_source", "u", 0},    {"axis_stop", "uu", 0}, {"axis_discrete", "ui", 0},
	{"axis_value120", "ui", 0},
};
static const struct swl_msg release_req[] = {
	{"release", "", 0},
};
static const struct swl_msg keyboard_ev[] = {
	{"keymap", "uhu", 0}, {"enter", "uoa", 0},	 {"leave", "uo", 0},
	{"key", "uuuu", 0},   {"modifiers", "uuuuu", 0}, {"repeat_info", "ii", 0},
};
static const struct swl_msg touch_ev[] = {
	{"down", "uuoiff", 0}, {"up", "uui", 0},    {"motion", "uiff", 0},    {"frame", "", 0},
	{"cancel", "", 0},     {"shape", "iff", 0}, {"orientation", "if", 0},
};
static const struct swl_msg output_ev[] = {
	{"geometry", "iiiiissi", 0}, {"mode", "uiii", 0}, {"done", "", 0},
	{"scale", "i", 0},	     {"name", "s", 0},	  {"description", "s", 0},
};
static const struct swl_msg region_req[] = {
	{"destroy", "", 0},
	{"add", "iiii", 0},
	{"subtract", "iiii", 0},
};
static const struct swl_msg subcompositor_req[] = {
	{"destroy", "", 0},
	{"get_subsurface", "noo", SWL_IF_SUBSURFACE},
};
static const struct swl_msg subsurface_req[] = {
	{"destroy", "", 0},	 {"set_position", "ii", 0}, {"place_above", "o", 0},
	{"place_below", "o", 0}, {"set_sync", "", 0},	    {"set_desync", "", 0},
};
static const struct swl_msg wm_base_req[] = {
	{"destroy", "", 0},
	{"create_positioner", "n", SWL_IF_XDG_POSITIONER},
	{"get_xdg_surface", "no", SWL_IF_XDG_SURFACE},
	{"pong", "u", 0},
};
static const struct swl_msg wm_base_ev[] = {
	{"ping", "u", 0},
};
static const struct swl_msg positioner_req[] = {
	{"destroy", "", 0},
	{"set_size", "ii", 0},
	{"set_anchor_rect", "iiii", 0},
	{"set_anchor", "u", 0},
	{"set_gravity", "u", 0},
	{"set_constraint_adjustment", "u", 0},
	{"set_offset", "ii", 0},
	{"set_reactive", "", 0},
	{"set_parent_size", "ii", 0},
	{"set_parent_configure", "u", 0},
};
static const struct swl_msg xdg_surface_req[] = {
	{"destroy", "", 0},
	{"get_toplevel", "n", SWL_IF_XDG_TOPLEVEL},
	{"get_popup", "n?oo", SWL_IF_XDG_POPUP},
	{"set_window_geometry", "iiii", 0},
	{"ack_configure", "u", 0},
};
static const struct swl_msg xdg_surface_ev[] = {
	{"configure", "u", 0},
};
static const struct swl_msg toplevel_req[] = {
	{"destroy", "", 0},	     {"set_parent", "?o", 0},	      {"set_title", "s", 0},
	{"set_app_id", "s", 0},	     {"show_window_menu", "ouii", 0}, {"move", "ou", 0},
	{"resize", "ouu", 0},	     {"set_max_size", "ii", 0},	      {"set_min_size", "ii", 0},
	{"set_maximized", "", 0},    {"unset_maximized", "", 0},      {"set_fullscreen", "?o", 0},
	{"unset_fullscreen", "", 0}, {"set_minimized", "", 0},
};
static const struct swl_msg toplevel_ev[] = {
	{"configure", "iia", 0},
	{"close", "", 0},
	{"configure_bounds", "ii", 0},
	{"wm_capabilities", "a", 0},
};
static const struct swl_msg popup_req[] = {
	{"destroy", "", 0},
	{"grab", "ou", 0},
	{"reposition", "ou", 0},
};
static const struct swl_msg popup_ev[] = {
	{"configure", "iiii", 0},
	{"popup_done", "", 0},
	{"repositioned", "u", 0},
};
static const struct swl_msg decoration_manager_req[] = {
	{"destroy", "", 0},
	{"get_toplevel_decoration", "no", SWL_IF_TOPLEVEL_DECORATION},
};
static const struct swl_msg toplevel_decoration_req[] = {
	{"destroy", "", 0},
	{"set_mode", "u", 0},
	{"unset_mode", "", 0},
};
static const struct swl_msg toplevel_decoration_ev[] = {
	{"configure", "u", 0},
};
static const struct swl_msg none[1];

/*
 * The allow-list (global = 1): what foot and GTK 4.8 need to start and
 * draw with shared memory, nothing that reaches other clients' windows,
 * the screen, the clipboard outside wl_data_device (which the filter
 * mediates), input injection or focus:
 *   wl_compositor, wl_subcompositor  surfaces (GTK draws its popovers and
 *                                    CSD shadows in subsurfaces);
 *   wl_shm                           the pixels, in shared memory;
 *   wl_seat, wl_output               input to the guest's own surfaces, the
 *                                    outputs' sizes and scales;
 *   xdg_wm_base                      windows and popups, at most at
 *                                    version 2: version 3 lets the
 *                                    compositor move a mapped popup
 *                                    (xdg_popup.reposition, reactive
 *                                    positioners) before the filter hears
 *                                    where, and the filter confines popups
 *                                    by where the compositor put them
 *                                    (filter.c, "popups");
 *   wl_data_device_manager           foot and GTK 4.8 do not start without
 *                                    it; the filter passes no selection or
 *                                    drag in either direction;
 *   zxdg_decoration_manager_v1       lets foot ask for the compositor's title
 *                                    bar, the one that shows the label,
 *                                    instead of drawing its own.
 * Not offered, among others: zwlr_layer_shell_v1 (overlays above other
 * windows), zwlr_screencopy_manager_v1 and the export-dmabuf/image-copy
 * protocols (reading the screen), zwlr_data_control_manager_v1 and
 * zwp_primary_selection_device_manager_v1 (the clipboards without a user's
 * action), zwp_virtual_keyboard_manager_v1 and zwlr_virtual_pointer (input
 * into other windows), zwlr_foreign_toplevel_manager_v1 (other windows'
 * titles), xdg_activation_v1 (focus stealing), zwp_linux_dmabuf_v1 and
 * wl_drm (GPU buffers: the guests render in software; a second buffer path
 * is more surface for no gain here), zwp_text_input and input methods.
 * Versions are those of Debian 12's protocol files; sway 1.7 offers at
 * most these.
 */
const struct swl_interface swl_interfaces[SWL_IF_COUNT] = {
	[SWL_IF_NONE] = {.name = "(none)", .req = none, .ev = none},
	[SWL_IF_DISPLAY] = IFACE("wl_display", 1, 0, display_req, display_ev),
	[SWL_IF_REGISTRY] = IFACE("wl_registry", 1, 0, registry_req, registry_ev),
	[SWL_IF_CALLBACK] =
		{.name = "wl_callback", .version = 1, .req = none, .nev = 1, .ev = callback_ev},
	[SWL_IF_COMPOSITOR] = {.name = "wl_compositor",
			       .version = 5,
			       .global = 1,
			       .nreq = 2,
			       .req = compositor_req,
			       .ev = none},
	[SWL_IF_SHM_POOL] =
		{.name = "wl_shm_pool", .version = 1, .nreq = 3, .req = shm_pool_req, .ev = none},
	[SWL_IF_SHM] = IFACE("wl_shm", 1, 1, shm_req, shm_ev),
	[SWL_IF_BUFFER] = IFACE("wl_buffer", 1, 0, buffer_req, buffer_ev),
	[SWL_IF_DATA_OFFER] = IFACE("wl_data_offer", 3, 0, data_offer_req, data_offer_ev),
	[SWL_IF_DATA_SOURCE] = IFACE("wl_data_source", 3, 0, data_source_req, data_source_ev),
	[SWL_IF_DATA_DEVICE] = IFACE("wl_data_device", 3, 0, data_device_req, data_device_ev),
	[SWL_IF_DATA_DEVICE_MANAGER] = {.name = "wl_data_device_manager",
					.version = 3,
					.global = 1,
					.nreq = 2,
					.req = data_device_manager_req,
					.ev = none},
	[SWL_IF_SURFACE] = IFACE("wl_surface", 5, 0, surface_req, surface_ev),
	[SWL_IF_SEAT] = IFACE("wl_seat", 8, 1, seat_req, seat_ev),
	[SWL_IF_POINTER] = IFACE("wl_pointer", 8, 0, pointer_req, pointer_ev),
	[SWL_IF_KEYBOARD] = IFACE("wl_keyboard", 8, 0, release_req, keyboard_ev),
	[SWL_IF_TOUCH] = IFACE("wl_touch", 8, 0, release_req, touch_ev),
	[SWL_IF_OUTPUT] = IFACE("wl_output", 4, 1, release_req, output_ev),
	[SWL_IF_REGION] =
		{.name = "wl_region", .version = 1, .nreq = 3, .req = region_req, .ev = none},
	[SWL_IF_SUBCOMPOSITOR] = {.name = "wl_subcompositor",
				  .version = 1,
				  .global = 1,
				  .nreq = 2,
				  .req = subcompositor_req,
				  .ev = none},
	[SWL_IF_SUBSURFACE] = {.name = "wl_subsurface",
			       .version = 1,
			       .nreq = 6,
			       .req = subsurface_req,
			       .ev = none},
	[SWL_IF_XDG_WM_BASE] = IFACE("xdg_wm_base", 2, 1, wm_base_req, wm_base_ev),
	[SWL_IF_XDG_POSITIONER] = {.name = "xdg_positioner",
				   .version = 5,
				   .nreq = 10,
				   .req = positioner_req,
				   .ev = none},
	[SWL_IF_XDG_SURFACE] = IFACE("xdg_surface", 5, 0, xdg_surface_req, xdg_surface_ev),
	[SWL_IF_XDG_TOPLEVEL] = IFACE("xdg_toplevel", 5, 0, toplevel_req, toplevel_ev),
	[SWL_IF_XDG_POPUP] = IFACE("xdg_popup", 5, 0, popup_req, popup_ev),
	[SWL_IF_DECORATION_MANAGER] = {.name = "zxdg_decoration_manager_v1",
				       .version = 1,
				       .global = 1,
				       .nreq = 2,
				       .req = decoration_manager_req,
				       .ev = none},
	[SWL_IF_TOPLEVEL_DECORATION] = IFACE("zxdg_toplevel_decoration_v1", 1, 0,
					     toplevel_decoration_req, toplevel_decoration_ev),
};

enum swl_iface swl_global_find(const char *name)
{
	for (int i = 1; i < SWL_IF_COUNT; i++)
		if (swl_interfaces[i].global && strcmp(swl_interfaces[i].name, name) == 0)
			return (enum swl_iface)i;
	return SWL_IF_NONE;
}
