/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The main window: three pages (applications, resources, instances), each
 * a list and a form; the problems the checker finds; saving, undo, and
 * watching the file on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

static const char *const ss_page_titles[SP_EDIT_KINDS] = {"Applications", "Resources", "Instances"};
static const char *const ss_nouns[SP_EDIT_KINDS] = {"application", "resource", "instance"};

void ss_a11y_label(GtkWidget *w, const char *label)
{
	gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
}

void ss_status(struct ss *s, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gtk_label_set_text(GTK_LABEL(s->status), buf);
}

/* --- a small modal question --- */

struct ss_question {
	struct ss *s;
	GtkWidget *win;
	void (*yes_cb)(struct ss *s, void *data);
	void *data;
	GDestroyNotify free_data;
};

static void ss_question_free(gpointer p)
{
	struct ss_question *q = p;

	if (q->free_data)
		q->free_data(q->data);
	g_free(q);
}

static void ss_question_yes(GtkButton *b, gpointer p)
{
	struct ss_question *q = p;

	if (q->yes_cb)
		q->yes_cb(q->s, q->data);
	gtk_window_destroy(GTK_WINDOW(q->win));
}

static void ss_question_no(GtkButton *b, gpointer p)
{
	struct ss_question *q = p;

	gtk_window_destroy(GTK_WINDOW(q->win));
}

void ss_confirm(struct ss *s, const char *title, const char *text, const char *yes,
		void (*yes_cb)(struct ss *s, void *data), void *data, GDestroyNotify free_data)
{
	struct ss_question *q = g_new0(struct ss_question, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *label = gtk_label_new(text), *no, *ok;

	*q = (struct ss_question){s, gtk_window_new(), yes_cb, data, free_data};
	gtk_window_set_title(GTK_WINDOW(q->win), title);
	gtk_window_set_modal(GTK_WINDOW(q->win), TRUE);
	gtk_window_set_transient_for(GTK_WINDOW(q->win), GTK_WINDOW(s->window));
	gtk_label_set_wrap(GTK_LABEL(label), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(label), 60);
	gtk_widget_set_margin_start(box, 18);
	gtk_widget_set_margin_end(box, 18);
	gtk_widget_set_margin_top(box, 18);
	gtk_widget_set_margin_bottom(box, 18);
	no = gtk_button_new_with_label("Cancel");
	ok = gtk_button_new_with_label(yes);
	gtk_widget_set_halign(buttons, GTK_ALIGN_END);
	/* Without yes_cb it only tells: one button that closes it. */
	if (yes_cb) {
		gtk_widget_add_css_class(ok, "destructive-action");
		gtk_box_append(GTK_BOX(buttons), no);
	}
	gtk_box_append(GTK_BOX(buttons), ok);
	gtk_box_append(GTK_BOX(box), label);
	gtk_box_append(GTK_BOX(box), buttons);
	gtk_window_set_child(GTK_WINDOW(q->win), box);
	g_signal_connect(ok, "clicked", G_CALLBACK(ss_question_yes), q);
	g_signal_connect(no, "clicked", G_CALLBACK(ss_question_no), q);
	g_object_set_data_full(G_OBJECT(q->win), "ss-question", q, ss_question_free);
	gtk_window_present(GTK_WINDOW(q->win));
}

/* --- the lists --- */

static void ss_title(struct ss *s)
{
	char buf[1200];

	snprintf(buf, sizeof(buf), "%s%s — Spectrum settings%s",
		 s->doc && s->doc->modified ? "*" : "", s->file, s->doc ? "" : " (read-only)");
	gtk_window_set_title(GTK_WINDOW(s->window), buf);
}

static void ss_fill_list(struct ss *s, enum sp_edit_kind k)
{
	GtkListBox *list = GTK_LIST_BOX(s->lists[k]);
	GtkWidget *c;
	size_t n = s->doc ? sp_edit_count(s->doc, k) : 0;

	s->building = true;
	while ((c = gtk_widget_get_first_child(GTK_WIDGET(list))))
		gtk_list_box_remove(list, c);
	if (n && (!s->selected[k][0] || !sp_edit_exists(s->doc, k, s->selected[k])))
		snprintf(s->selected[k], sizeof(s->selected[k]), "%s", sp_edit_name(s->doc, k, 0));
	if (!n)
		s->selected[k][0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *name = sp_edit_name(s->doc, k, i);
		GtkWidget *label = gtk_label_new(name);
		gtk_label_set_xalign(GTK_LABEL(label), 0);
		gtk_widget_set_margin_start(label, 8);
		gtk_widget_set_margin_top(label, 4);
		gtk_widget_set_margin_bottom(label, 4);
		gtk_list_box_append(list, label);
		if (strcmp(name, s->selected[k]) == 0)
			gtk_list_box_select_row(list, gtk_list_box_get_row_at_index(list, (int)i));
	}
	s->building = false;
}

static void ss_row_selected(GtkListBox *list, GtkListBoxRow *row, gpointer p)
{
	struct ss *s = p;
	enum sp_edit_kind k =
		(enum sp_edit_kind)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(list), "ss-kind"));
	const char *name;

	if (s->building || !row || !s->doc)
		return;
	name = sp_edit_name(s->doc, k, (size_t)gtk_list_box_row_get_index(row));
	if (!name || strcmp(name, s->selected[k]) == 0)
		return;
	snprintf(s->selected[k], sizeof(s->selected[k]), "%s", name);
	ss_build_form(s, k);
	ss_show_field_errors(s);
}

void ss_refresh_all(struct ss *s)
{
	for (int k = 0; k < SP_EDIT_KINDS; k++)
		ss_fill_list(s, k);
	ss_validate(s);
	for (int k = 0; k < SP_EDIT_KINDS; k++)
		ss_build_form(s, k);
	ss_show_field_errors(s);
	ss_title(s);
	gtk_widget_set_sensitive(s->stack, s->doc != NULL);
	gtk_widget_set_sensitive(s->undo_button, s->doc && s->doc->nundo > 0);
}

/* --- the problems --- */

static void ss_problem_activated(GtkListBox *list, GtkListBoxRow *row, gpointer p)
{
	struct ss *s = p;
	const char *place = g_object_get_data(G_OBJECT(row), "ss-place");

	/* The entity the problem is about, on its page. */
	for (int k = 0; place && s->doc && k < SP_EDIT_KINDS; k++) {
		const char *key = sp_edit_kind_key(k);
		size_t l = strlen(key);
		if (strncmp(place, key, l) != 0 || place[l] != '.')
			continue;
		char name[SP_NAME_MAX + 1];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(place + l + 1, ".["),
			 place + l + 1);
		if (!sp_edit_exists(s->doc, k, name))
			return;
		snprintf(s->selected[k], sizeof(s->selected[k]), "%s", name);
		gtk_stack_set_visible_child_name(GTK_STACK(s->stack), key);
		ss_refresh_all(s);
	}
}

void ss_validate(struct ss *s)
{
	GtkListBox *list = GTK_LIST_BOX(s->problems);
	GtkWidget *c;
	char line[2048];

	if (s->doc) {
		sp_diags_fini(&s->diags);
		sp_diags_init(&s->diags, s->file);
		sp_edit_check(s->doc, s->file, s->base_dir, s->have_host ? &s->host : NULL,
			      &s->diags);
	}
	while ((c = gtk_widget_get_first_child(GTK_WIDGET(list))))
		gtk_list_box_remove(list, c);
	for (size_t i = 0; i < s->diags.n; i++) {
		const struct sp_diag *g = &s->diags.v[i];
		GtkWidget *label, *row;
		/* The same line `spectrum check` prints. */
		sp_diag_format(&s->diags, g, line, sizeof(line));
		label = gtk_label_new(line);
		gtk_label_set_xalign(GTK_LABEL(label), 0);
		gtk_label_set_wrap(GTK_LABEL(label), TRUE);
		gtk_label_set_selectable(GTK_LABEL(label), FALSE);
		gtk_widget_add_css_class(label, g->sev == SP_SEV_ERROR ? "ss-error" : "ss-warning");
		gtk_list_box_append(list, label);
		row = gtk_widget_get_parent(label);
		g_object_set_data_full(G_OBJECT(row), "ss-place", g_strdup(g->place), g_free);
	}
	if (s->diags.n == 0) {
		GtkWidget *ok =
			gtk_label_new("No problems: the file checks as spectrum check would.");
		gtk_label_set_xalign(GTK_LABEL(ok), 0);
		gtk_list_box_append(list, ok);
	}
}

/* --- opening, watching, saving --- */

static void ss_banner(struct ss *s, const char *text, bool reload, bool keep)
{
	gtk_label_set_text(GTK_LABEL(s->banner_label), text ? text : "");
	gtk_widget_set_visible(s->banner, text != NULL);
	gtk_widget_set_visible(s->banner_reload, reload);
	gtk_widget_set_visible(s->banner_keep, keep);
}

static bool ss_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

void ss_load(struct ss *s)
{
	char *data = NULL;
	gsize len = 0;
	GError *gerr = NULL;

	sp_edit_free(s->doc);
	s->doc = NULL;
	sp_diags_fini(&s->diags);
	sp_diags_init(&s->diags, s->file);
	s->disk_known = stat(s->file, &s->disk) == 0;
	s->disk_changed = false;
	ss_banner(s, NULL, false, false);
	if (!g_file_get_contents(s->file, &data, &len, &gerr)) {
		if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			/* A new file: Save creates it. */
			s->doc = sp_edit_new();
			ss_status(s, "%s does not exist yet; Save creates it", s->file);
		} else {
			sp_diag_error(&s->diags, NULL, "cannot read the file: %s", gerr->message);
			ss_banner(s, gerr->message, true, false);
		}
		g_clear_error(&gerr);
	} else {
		s->doc = sp_edit_open(data, len, s->file, &s->diags);
		if (!s->doc) {
			char line[2048];
			sp_diag_format(&s->diags, &s->diags.v[0], line, sizeof(line));
			char *msg = g_strdup_printf(
				"Opened read-only: %s — fix the file, then Reload.", line);
			ss_banner(s, msg, true, false);
			g_free(msg);
		}
	}
	free(s->applied);
	s->applied = data ? sp_xstrdup(data) : NULL;
	g_free(data);
	ss_refresh_all(s);
}

/* Every second: has someone else written the file? */
static gboolean ss_watch(gpointer p)
{
	struct ss *s = p;
	struct stat st;
	bool exists = stat(s->file, &st) == 0;

	if (s->disk_changed)
		return G_SOURCE_CONTINUE;
	if (exists != s->disk_known || (exists && !ss_same_file(&st, &s->disk))) {
		s->disk_changed = true;
		char *msg = g_strdup_printf("%s changed on disk since it was opened.", s->file);
		ss_banner(s, msg, true, s->doc != NULL);
		g_free(msg);
	}
	return G_SOURCE_CONTINUE;
}

static void ss_reload_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;

	ss_load(s);
	ss_status(s, "Reloaded %s", s->file);
}

static void ss_keep_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;

	/* The user chose: the next save replaces what is on disk now. */
	s->disk_known = stat(s->file, &s->disk) == 0;
	s->disk_changed = false;
	ss_banner(s, NULL, false, false);
	ss_status(s, "Keeping your version; Save replaces the file on disk");
}

void ss_save(struct ss *s)
{
	struct sp_err err = {0};

	if (!s->doc) {
		ss_status(s, "Not saved: the file is open read-only (it does not parse)");
		return;
	}
	ss_watch(s);
	if (s->disk_changed) {
		ss_status(s,
			  "Not saved: %s changed on disk; Reload it, or Keep mine and save again",
			  s->file);
		return;
	}
	ss_validate(s);
	if (s->diags.errors) {
		ss_status(s, "Not saved: %zu error%s (listed under Problems); fix %s first",
			  s->diags.errors, s->diags.errors == 1 ? "" : "s",
			  s->diags.errors == 1 ? "it" : "them");
		return;
	}
	if (sp_edit_save(s->doc, s->file, &err) < 0) {
		ss_status(s, "Not saved: %s", err.msg);
		return;
	}
	s->doc->modified = false;
	s->disk_known = stat(s->file, &s->disk) == 0;
	ss_title(s);
	ss_status(s, "Saved %s%s", s->file,
		  s->diags.warnings ? " (with warnings, listed under Problems)" : "");
}

void ss_undo(struct ss *s)
{
	if (!s->doc || !sp_edit_undo(s->doc)) {
		ss_status(s, "Nothing to undo");
		return;
	}
	ss_refresh_all(s);
	ss_status(s, "Undone");
}

/* --- the buttons under each list --- */

static enum sp_edit_kind ss_button_kind(GtkWidget *b)
{
	return (enum sp_edit_kind)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "ss-kind"));
}

static void ss_add_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;
	enum sp_edit_kind k = ss_button_kind(GTK_WIDGET(b));
	struct sp_err err = {0};
	char name[SP_NAME_MAX + 1];
	const char *arg = NULL;

	if (!s->doc)
		return;
	sp_edit_free_name(s->doc, k, ss_nouns[k], name, sizeof(name));
	/* A new instance runs the application selected (or the first). */
	if (k == SP_EDIT_INST)
		arg = s->selected[SP_EDIT_APP][0] ? s->selected[SP_EDIT_APP] :
						    sp_edit_name(s->doc, SP_EDIT_APP, 0);
	if (sp_edit_add(s->doc, k, name, arg, &err) < 0) {
		ss_status(s, "%s", err.msg);
		return;
	}
	snprintf(s->selected[k], sizeof(s->selected[k]), "%s", name);
	ss_refresh_all(s);
	ss_status(s, "Added %s %s", ss_nouns[k], name);
}

static void ss_duplicate_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;
	enum sp_edit_kind k = ss_button_kind(GTK_WIDGET(b));
	struct sp_err err = {0};
	char name[SP_NAME_MAX + 1];

	if (!s->doc || !s->selected[k][0])
		return;
	sp_edit_free_name(s->doc, k, s->selected[k], name, sizeof(name));
	if (sp_edit_duplicate(s->doc, k, s->selected[k], name, &err) < 0) {
		ss_status(s, "%s", err.msg);
		return;
	}
	snprintf(s->selected[k], sizeof(s->selected[k]), "%s", name);
	ss_refresh_all(s);
	ss_status(s, "Duplicated as %s", name);
}

struct ss_victim {
	enum sp_edit_kind k;
	char name[SP_NAME_MAX + 1];
};

static void ss_delete_forced(struct ss *s, void *data)
{
	struct ss_victim *v = data;
	struct sp_err err = {0};

	if (sp_edit_delete(s->doc, v->k, v->name, true, &err) < 0) {
		ss_status(s, "%s", err.msg);
		return;
	}
	ss_refresh_all(s);
	ss_status(s, "Deleted %s %s and its bindings", ss_nouns[v->k], v->name);
}

static void ss_delete_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;
	enum sp_edit_kind k = ss_button_kind(GTK_WIDGET(b));
	struct sp_err err = {0};
	char name[SP_NAME_MAX + 1];

	if (!s->doc || !s->selected[k][0])
		return;
	snprintf(name, sizeof(name), "%s", s->selected[k]);
	if (sp_edit_delete(s->doc, k, name, false, &err) == 0) {
		ss_refresh_all(s);
		ss_status(s, "Deleted %s %s", ss_nouns[k], name);
		return;
	}
	ss_status(s, "%s", err.msg);
	if (k != SP_EDIT_RES || !sp_edit_exists(s->doc, k, name))
		return;
	/* In use: offered, explicitly, with the bindings removed. */
	struct ss_victim *v = g_new0(struct ss_victim, 1);
	char users[512];
	v->k = k;
	snprintf(v->name, sizeof(v->name), "%s", name);
	sp_edit_users(s->doc, k, name, users, sizeof(users));
	char *text = g_strdup_printf(
		"Resource %s is bound by %s.\n\nDelete it and remove those bindings?", name, users);
	ss_confirm(s, "Delete resource", text, "Delete with bindings", ss_delete_forced, v, g_free);
	g_free(text);
}

static GtkWidget *ss_list_button(struct ss *s, enum sp_edit_kind k, const char *label,
				 const char *a11y, GCallback cb)
{
	GtkWidget *b = gtk_button_new_with_label(label);

	g_object_set_data(G_OBJECT(b), "ss-kind", GINT_TO_POINTER(k));
	ss_a11y_label(b, a11y);
	g_signal_connect(b, "clicked", cb, s);
	return b;
}

static GtkWidget *ss_page_new(struct ss *s, enum sp_edit_kind k)
{
	GtkWidget *paned = gtk_paned_new(GTK_ORIENTATION_HORIZONTAL);
	GtkWidget *left = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *sw = gtk_scrolled_window_new(),
		  *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
	char a11y[3][64];

	s->lists[k] = gtk_list_box_new();
	g_object_set_data(G_OBJECT(s->lists[k]), "ss-kind", GINT_TO_POINTER(k));
	ss_a11y_label(s->lists[k], ss_page_titles[k]);
	g_signal_connect(s->lists[k], "row-selected", G_CALLBACK(ss_row_selected), s);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), s->lists[k]);
	gtk_widget_set_vexpand(sw, TRUE);
	gtk_widget_set_size_request(sw, 200, -1);
	snprintf(a11y[0], sizeof(a11y[0]), "Add %s", ss_nouns[k]);
	snprintf(a11y[1], sizeof(a11y[1]), "Duplicate %s", ss_nouns[k]);
	snprintf(a11y[2], sizeof(a11y[2]), "Delete %s", ss_nouns[k]);
	gtk_box_append(GTK_BOX(buttons),
		       ss_list_button(s, k, "Add", a11y[0], G_CALLBACK(ss_add_clicked)));
	gtk_box_append(GTK_BOX(buttons), ss_list_button(s, k, "Duplicate", a11y[1],
							G_CALLBACK(ss_duplicate_clicked)));
	gtk_box_append(GTK_BOX(buttons),
		       ss_list_button(s, k, "Delete", a11y[2], G_CALLBACK(ss_delete_clicked)));
	gtk_box_append(GTK_BOX(left), sw);
	gtk_box_append(GTK_BOX(left), buttons);
	gtk_widget_set_margin_start(left, 6);
	gtk_widget_set_margin_top(left, 6);
	gtk_widget_set_margin_bottom(left, 6);

	s->forms[k] = gtk_scrolled_window_new();
	/* Wide messages wrap instead of pushing the fields out of sight. */
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(s->forms[k]), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_widget_set_hexpand(s->forms[k], TRUE);
	gtk_paned_set_start_child(GTK_PANED(paned), left);
	gtk_paned_set_end_child(GTK_PANED(paned), s->forms[k]);
	gtk_paned_set_shrink_start_child(GTK_PANED(paned), FALSE);
	gtk_paned_set_resize_start_child(GTK_PANED(paned), FALSE);
	return paned;
}

/* --- the window --- */

static gboolean ss_shortcut_save(GtkWidget *w, GVariant *args, gpointer p)
{
	ss_save(p);
	return TRUE;
}

static gboolean ss_shortcut_undo(GtkWidget *w, GVariant *args, gpointer p)
{
	ss_undo(p);
	return TRUE;
}

static void ss_save_clicked(GtkButton *b, gpointer p)
{
	ss_save(p);
}

static void ss_undo_clicked(GtkButton *b, gpointer p)
{
	ss_undo(p);
}

static void ss_apply_clicked(GtkButton *b, gpointer p)
{
	ss_apply(p);
}

static void ss_shortcuts(struct ss *s)
{
	GtkEventController *c = gtk_shortcut_controller_new();

	/* Global: Ctrl+Z undoes the document's last edit even while an entry
	 * has the focus (entries have their own undo turned off). */
	gtk_shortcut_controller_set_scope(GTK_SHORTCUT_CONTROLLER(c), GTK_SHORTCUT_SCOPE_GLOBAL);
	gtk_shortcut_controller_add_shortcut(
		GTK_SHORTCUT_CONTROLLER(c),
		gtk_shortcut_new(gtk_shortcut_trigger_parse_string("<Control>s"),
				 gtk_callback_action_new(ss_shortcut_save, s, NULL)));
	gtk_shortcut_controller_add_shortcut(
		GTK_SHORTCUT_CONTROLLER(c),
		gtk_shortcut_new(gtk_shortcut_trigger_parse_string("<Control>z"),
				 gtk_callback_action_new(ss_shortcut_undo, s, NULL)));
	gtk_widget_add_controller(s->window, c);
}

static const char ss_css[] = ".ss-error { color: #c01c28; }\n"
			     ".ss-warning { color: #9c6e03; }\n"
			     ".ss-banner { background: #f6d32d; padding: 6px; }\n"
			     ".ss-offline { color: #77767b; }\n";

static GtkWidget *ss_banner_new(struct ss *s)
{
	s->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	s->banner_label = gtk_label_new("");
	s->banner_reload = gtk_button_new_with_label("Reload");
	s->banner_keep = gtk_button_new_with_label("Keep mine");
	gtk_label_set_wrap(GTK_LABEL(s->banner_label), TRUE);
	gtk_label_set_xalign(GTK_LABEL(s->banner_label), 0);
	gtk_widget_set_hexpand(s->banner_label, TRUE);
	gtk_widget_add_css_class(s->banner, "ss-banner");
	gtk_box_append(GTK_BOX(s->banner), s->banner_label);
	gtk_box_append(GTK_BOX(s->banner), s->banner_reload);
	gtk_box_append(GTK_BOX(s->banner), s->banner_keep);
	g_signal_connect(s->banner_reload, "clicked", G_CALLBACK(ss_reload_clicked), s);
	g_signal_connect(s->banner_keep, "clicked", G_CALLBACK(ss_keep_clicked), s);
	gtk_widget_set_visible(s->banner, FALSE);
	return s->banner;
}

static GtkWidget *ss_header(struct ss *s)
{
	GtkWidget *bar = gtk_header_bar_new();

	s->undo_button = gtk_button_new_with_label("Undo");
	s->save_button = gtk_button_new_with_label("Save");
	s->apply_button = gtk_button_new_with_label("Apply…");
	gtk_widget_set_tooltip_text(s->undo_button, "Undo the last edit (Ctrl+Z)");
	gtk_widget_set_tooltip_text(s->save_button, "Save the file (Ctrl+S)");
	gtk_widget_set_tooltip_text(
		s->apply_button,
		"Switch spectrumd to the saved file: shows what will stop, restart and start first");
	s->generations_button = gtk_button_new_with_label("Generations…");
	gtk_widget_set_tooltip_text(
		s->generations_button,
		"The configurations spectrumd ran, and rolling back to the previous one");
	ss_a11y_label(s->generations_button, "Generations");
	g_signal_connect_swapped(s->generations_button, "clicked", G_CALLBACK(ss_generations_show),
				 s);
	ss_a11y_label(s->apply_button, "Apply");
	gtk_widget_add_css_class(s->save_button, "suggested-action");
	g_signal_connect(s->undo_button, "clicked", G_CALLBACK(ss_undo_clicked), s);
	g_signal_connect(s->save_button, "clicked", G_CALLBACK(ss_save_clicked), s);
	g_signal_connect(s->apply_button, "clicked", G_CALLBACK(ss_apply_clicked), s);
	gtk_header_bar_pack_start(GTK_HEADER_BAR(bar), s->undo_button);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), s->generations_button);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), s->apply_button);
	gtk_header_bar_pack_end(GTK_HEADER_BAR(bar), s->save_button);
	return bar;
}

static char *ss_dir_of(const char *file)
{
	char *d = g_path_get_dirname(file);
	char *out = sp_xstrdup(d);

	g_free(d);
	return out;
}

struct ss *ss_new(const char *file)
{
	struct ss *s = g_new0(struct ss, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *switcher = gtk_stack_switcher_new(), *pw, *psw, *plabel, *foot;
	GtkCssProvider *css = gtk_css_provider_new();
	struct sp_err err = {0};

	s->file = sp_xstrdup(file);
	s->base_dir = ss_dir_of(file);
	s->have_host = sp_host_detect(&s->host, &err) == 0;
	sp_diags_init(&s->diags, file);

	gtk_css_provider_load_from_data(css, ss_css, -1);
	gtk_style_context_add_provider_for_display(gdk_display_get_default(),
						   GTK_STYLE_PROVIDER(css),
						   GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
	g_object_unref(css);

	s->window = gtk_window_new();
	gtk_window_set_default_size(GTK_WINDOW(s->window), 1000, 720);
	gtk_window_set_icon_name(GTK_WINDOW(s->window), "spectrum-settings");
	gtk_window_set_titlebar(GTK_WINDOW(s->window), ss_header(s));

	s->stack = gtk_stack_new();
	for (int k = 0; k < SP_EDIT_KINDS; k++)
		gtk_stack_add_titled(GTK_STACK(s->stack), ss_page_new(s, k), sp_edit_kind_key(k),
				     ss_page_titles[k]);
	gtk_stack_switcher_set_stack(GTK_STACK_SWITCHER(switcher), GTK_STACK(s->stack));
	gtk_widget_set_halign(switcher, GTK_ALIGN_CENTER);
	gtk_widget_set_margin_top(switcher, 6);
	gtk_widget_set_vexpand(s->stack, TRUE);

	s->problems = gtk_list_box_new();
	ss_a11y_label(s->problems, "Problems");
	gtk_list_box_set_selection_mode(GTK_LIST_BOX(s->problems), GTK_SELECTION_NONE);
	gtk_list_box_set_activate_on_single_click(GTK_LIST_BOX(s->problems), TRUE);
	g_signal_connect(s->problems, "row-activated", G_CALLBACK(ss_problem_activated), s);
	psw = gtk_scrolled_window_new();
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(psw), s->problems);
	gtk_scrolled_window_set_min_content_height(GTK_SCROLLED_WINDOW(psw), 110);
	plabel = gtk_label_new("Problems");
	gtk_label_set_xalign(GTK_LABEL(plabel), 0);
	gtk_widget_add_css_class(plabel, "heading");
	pw = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
	gtk_widget_set_margin_start(pw, 8);
	gtk_widget_set_margin_end(pw, 8);
	gtk_box_append(GTK_BOX(pw), plabel);
	gtk_box_append(GTK_BOX(pw), psw);

	s->status = gtk_label_new("");
	s->daemon_label = gtk_label_new("");
	gtk_label_set_xalign(GTK_LABEL(s->status), 0);
	gtk_widget_set_hexpand(s->status, TRUE);
	gtk_label_set_ellipsize(GTK_LABEL(s->status), PANGO_ELLIPSIZE_END);
	gtk_label_set_ellipsize(GTK_LABEL(s->daemon_label), PANGO_ELLIPSIZE_END);
	gtk_label_set_max_width_chars(GTK_LABEL(s->daemon_label), 48);
	gtk_label_set_xalign(GTK_LABEL(s->daemon_label), 1);
	foot = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	gtk_widget_set_margin_start(foot, 8);
	gtk_widget_set_margin_end(foot, 8);
	gtk_widget_set_margin_top(foot, 4);
	gtk_widget_set_margin_bottom(foot, 6);
	gtk_box_append(GTK_BOX(foot), s->status);
	gtk_box_append(GTK_BOX(foot), s->daemon_label);

	gtk_box_append(GTK_BOX(box), ss_banner_new(s));
	gtk_box_append(GTK_BOX(box), switcher);
	gtk_box_append(GTK_BOX(box), s->stack);
	gtk_box_append(GTK_BOX(box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL));
	gtk_box_append(GTK_BOX(box), pw);
	gtk_box_append(GTK_BOX(box), foot);
	gtk_window_set_child(GTK_WINDOW(s->window), box);
	ss_shortcuts(s);

	ss_load(s);
	if (!s->have_host)
		ss_status(s, "Host not detected (%s): instances are checked without their plans",
			  err.msg);
	g_timeout_add_seconds(1, ss_watch, s);
	ss_running_start(s);
	return s;
}
