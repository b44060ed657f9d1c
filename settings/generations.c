/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The generations window: the configurations spectrumd ran (spectrumd(8),
 * GENERATIONS), from its generations request, and "Roll back" to the
 * previous one, confirmed after the daemon's dry run as Apply is.
 */
#include <stdio.h>
#include <string.h>

#include "settings.h"

#define SS_GENERATIONS_TIMEOUT_MS 3000

/* One row: "3  2026-12-01T18:00:00Z  /etc/spectrum.json  (current)". */
static GtkWidget *ss_generation_row(json_t *g)
{
	char line[4200];
	GtkWidget *l;

	snprintf(line, sizeof(line), "%lld  %s  %s%s%s",
		 (long long)json_integer_value(json_object_get(g, "number")),
		 json_string_value(json_object_get(g, "created")) ?: "?",
		 json_string_value(json_object_get(g, "source")) ?: "?",
		 json_is_true(json_object_get(g, "current")) ? "  (current)" : "",
		 json_is_string(json_object_get(g, "kind")) &&
				 strcmp(json_string_value(json_object_get(g, "kind")), "nix") == 0 ?
			 "  (nix)" :
			 "");
	l = gtk_label_new(line);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_selectable(GTK_LABEL(l), FALSE);
	gtk_widget_set_margin_start(l, 6);
	gtk_widget_set_margin_end(l, 6);
	return l;
}

static void ss_generations_message(struct ss *s, const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_list_box_append(GTK_LIST_BOX(s->generations_list), l);
}

void ss_generations_refresh(struct ss *s)
{
	struct sp_err err = {0};
	struct sp_ctl_reply r;
	GtkWidget *c;
	json_t *list = NULL, *g;
	size_t i;
	int rc;

	if (!s->generations)
		return;
	while ((c = gtk_widget_get_first_child(s->generations_list)))
		gtk_list_box_remove(GTK_LIST_BOX(s->generations_list), c);
	rc = ss_ask(SP_OP_GENERATIONS, SP_FLAG_JSON, NULL, -1, SS_GENERATIONS_TIMEOUT_MS, &r, &err);
	if (rc < 0) {
		char *t = g_strdup_printf("spectrumd is not reachable: %s", err.msg);
		ss_generations_message(s, t);
		g_free(t);
		return;
	}
	if (rc == SP_REPLY_OK)
		list = json_loads(r.body, 0, NULL);
	if (!json_is_array(list))
		ss_generations_message(s, rc == SP_REPLY_OK ? "spectrumd's answer is not a list" :
							      r.body);
	else if (json_array_size(list) == 0)
		ss_generations_message(s, "No generation yet");
	/* Newest first: the one to roll back from is on top. */
	for (i = json_array_size(list); json_is_array(list) && i-- > 0;)
		if (json_is_object(g = json_array_get(list, i)))
			gtk_list_box_append(GTK_LIST_BOX(s->generations_list),
					    ss_generation_row(g));
	json_decref(list);
	sp_ctl_reply_free(&r);
}

static void ss_generations_destroyed(GtkWidget *w, gpointer p)
{
	struct ss *s = p;

	s->generations = NULL;
	s->generations_list = NULL;
}

void ss_generations_show(struct ss *s)
{
	GtkWidget *box, *sw, *buttons, *back, *refresh;

	if (s->generations) {
		ss_generations_refresh(s);
		gtk_window_present(GTK_WINDOW(s->generations));
		return;
	}
	s->generations = gtk_window_new();
	gtk_window_set_title(GTK_WINDOW(s->generations), "Generations");
	gtk_window_set_default_size(GTK_WINDOW(s->generations), 640, 320);
	gtk_window_set_transient_for(GTK_WINDOW(s->generations), GTK_WINDOW(s->window));
	box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	gtk_widget_set_margin_start(box, 12);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_set_margin_top(box, 12);
	gtk_widget_set_margin_bottom(box, 12);
	sw = gtk_scrolled_window_new();
	gtk_widget_set_vexpand(sw, TRUE);
	s->generations_list = gtk_list_box_new();
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(s->generations_list), GTK_SELECTION_NONE);
	ss_a11y_label(s->generations_list, "Generations");
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), s->generations_list);
	buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	gtk_widget_set_halign(buttons, GTK_ALIGN_END);
	refresh = gtk_button_new_with_label("Refresh");
	back = gtk_button_new_with_label("Roll back…");
	ss_a11y_label(back, "Roll back");
	gtk_widget_set_tooltip_text(back, "Switch to the generation before the current one: "
					  "a dry run shows what it would do first");
	g_signal_connect_swapped(refresh, "clicked", G_CALLBACK(ss_generations_refresh), s);
	g_signal_connect_swapped(back, "clicked", G_CALLBACK(ss_rollback), s);
	gtk_box_append(GTK_BOX(buttons), refresh);
	gtk_box_append(GTK_BOX(buttons), back);
	gtk_box_append(GTK_BOX(box), sw);
	gtk_box_append(GTK_BOX(box), buttons);
	gtk_window_set_child(GTK_WINDOW(s->generations), box);
	g_signal_connect(s->generations, "destroy", G_CALLBACK(ss_generations_destroyed), s);
	ss_generations_refresh(s);
	gtk_window_present(GTK_WINDOW(s->generations));
}
