/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forms: one per page, for the entity selected in its list.  Each
 * widget is bound to a place of the file (its diagnostic place), so that
 * the checker's messages land next to the widget they are about.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "paths.h"
#include "settings.h"

enum ss_kind {
	SS_STR,	  /* a string; empty removes the key */
	SS_INT,	  /* digits become an integer, anything else stays a string */
	SS_WORDS, /* an array of strings, split at spaces */
	SS_ENV,	  /* an object of NAME=VALUE words */
};

/* What a widget edits: its place and how its text becomes JSON. */
struct ss_bind {
	struct ss *s;
	char place[160];
	enum ss_kind kind;
	const char *on;		    /* a check button's value when on (NULL: true) */
	const char *const *choices; /* a drop-down's values; [0] NULL: remove */
};

static struct ss_bind *ss_bind_new(struct ss *s, GtkWidget *w, const char *place, enum ss_kind kind)
{
	struct ss_bind *b = g_new0(struct ss_bind, 1);

	b->s = s;
	snprintf(b->place, sizeof(b->place), "%s", place);
	b->kind = kind;
	g_object_set_data_full(G_OBJECT(w), "ss-bind", b, g_free);
	return b;
}

static gboolean ss_idle_refresh(gpointer p)
{
	ss_refresh_all(p);
	return G_SOURCE_REMOVE;
}

void ss_changed(struct ss *s, bool rebuild)
{
	if (rebuild) {
		g_idle_add(ss_idle_refresh, s);
		return;
	}
	ss_validate(s);
	ss_show_field_errors(s);
	gtk_widget_set_sensitive(s->undo_button, s->doc && s->doc->nundo > 0);
	char buf[1200];
	snprintf(buf, sizeof(buf), "*%s — Spectrum settings", s->file);
	gtk_window_set_title(GTK_WINDOW(s->window), buf);
}

/* --- text <-> JSON --- */

static char *ss_value_text(json_t *v)
{
	GString *g = g_string_new(NULL);
	const char *key;
	json_t *x;
	size_t i;

	if (json_is_string(v)) {
		g_string_append(g, json_string_value(v));
	} else if (json_is_integer(v)) {
		g_string_append_printf(g, "%lld", (long long)json_integer_value(v));
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			char *one = ss_value_text(x);
			g_string_append_printf(g, "%s%s", i ? " " : "", one);
			g_free(one);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, x)
			g_string_append_printf(g, "%s%s=%s", g->len ? " " : "", key,
					       json_is_string(x) ? json_string_value(x) : "?");
	} else if (v) {
		char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		g_string_append(g, d ? d : "");
		free(d);
	}
	return g_string_free(g, FALSE);
}

static json_t *ss_text_value(const char *t, enum ss_kind kind)
{
	gchar **words;
	json_t *v;

	if (!*t)
		return NULL;
	switch (kind) {
	case SS_INT:
		if (strspn(t, "0123456789") == strlen(t) && strlen(t) < 10)
			return json_integer(atoll(t));
		return json_string(t);
	case SS_WORDS:
	case SS_ENV:
		words = g_strsplit_set(t, " \t", -1);
		v = kind == SS_WORDS ? json_array() : json_object();
		for (gchar **w = words; *w; w++) {
			char *eq = strchr(*w, '=');
			if (!**w)
				continue;
			if (kind == SS_WORDS)
				json_array_append_new(v, json_string(*w));
			else if (eq)
				json_object_set_new(v, g_strndup(*w, (gsize)(eq - *w)),
						    json_string(eq + 1));
			else
				json_object_set_new(v, *w, json_string(""));
		}
		g_strfreev(words);
		return v;
	case SS_STR:
		break;
	}
	return json_string(t);
}

/* --- widgets --- */

static void ss_set(struct ss *s, const char *place, json_t *v, bool rebuild)
{
	struct sp_err err = {0};

	if (sp_edit_set(s->doc, place, v, &err) < 0)
		ss_status(s, "%s", err.msg);
	ss_changed(s, rebuild);
}

static void ss_entry_changed(GtkEditable *e, gpointer p)
{
	struct ss_bind *b = g_object_get_data(G_OBJECT(e), "ss-bind");

	if (b->s->building)
		return;
	ss_set(b->s, b->place, ss_text_value(gtk_editable_get_text(e), b->kind), false);
}

static void ss_check_toggled(GtkCheckButton *c, gpointer p)
{
	struct ss_bind *b = g_object_get_data(G_OBJECT(c), "ss-bind");
	bool on = gtk_check_button_get_active(c);

	if (b->s->building)
		return;
	/* Off is each key's default: the key goes. */
	ss_set(b->s, b->place, on ? (b->on ? json_string(b->on) : json_true()) : NULL, false);
}

static void ss_toggle_toggled(GtkToggleButton *t, gpointer p)
{
	struct ss_bind *b = g_object_get_data(G_OBJECT(t), "ss-bind");

	if (b->s->building)
		return;
	ss_set(b->s, b->place,
	       gtk_toggle_button_get_active(t) ? (b->on ? json_string(b->on) : json_true()) : NULL,
	       false);
}

static void ss_choice_changed(GObject *d, GParamSpec *ps, gpointer p)
{
	struct ss_bind *b = g_object_get_data(d, "ss-bind");
	guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(d));
	GtkStringList *model = GTK_STRING_LIST(gtk_drop_down_get_model(GTK_DROP_DOWN(d)));
	const char *v;

	if (b->s->building || i == GTK_INVALID_LIST_POSITION)
		return;
	v = b->choices ? b->choices[i] : gtk_string_list_get_string(model, i);
	ss_set(b->s, b->place, v ? json_string(v) : NULL, false);
}

static void ss_field_register(struct ss *s, enum sp_edit_kind k, const char *place, GtkWidget *err)
{
	if (s->nfields == SS_FIELDS_MAX)
		return;
	s->fields[s->nfields].k = k;
	snprintf(s->fields[s->nfields].place, sizeof(s->fields[0].place), "%s", place);
	s->fields[s->nfields].error = err;
	s->nfields++;
}

struct ss_form {
	struct ss *s;
	enum sp_edit_kind k;
	GtkWidget *grid;
	int row;
	char ent[96]; /* "instances.NAME" */
};

static GtkWidget *ss_error_label(void)
{
	GtkWidget *l = gtk_label_new("");

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_label_set_wrap(GTK_LABEL(l), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(l), 40);
	gtk_widget_add_css_class(l, "ss-error");
	gtk_widget_set_visible(l, FALSE);
	return l;
}

/* A labelled row with `w`, and its error label under it. */
static void ss_row(struct ss_form *f, const char *label, GtkWidget *w, const char *place)
{
	GtkWidget *l = gtk_label_new(label), *err = ss_error_label();

	gtk_label_set_xalign(GTK_LABEL(l), 1);
	gtk_widget_set_hexpand(w, TRUE);
	gtk_grid_attach(GTK_GRID(f->grid), l, 0, f->row, 1, 1);
	gtk_grid_attach(GTK_GRID(f->grid), w, 1, f->row++, 1, 1);
	gtk_grid_attach(GTK_GRID(f->grid), err, 1, f->row++, 1, 1);
	if (place)
		ss_field_register(f->s, f->k, place, err);
}

static GtkWidget *ss_entry(struct ss_form *f, const char *label, const char *key, enum ss_kind kind,
			   const char *hint)
{
	char place[160];
	GtkWidget *e = gtk_entry_new();

	snprintf(place, sizeof(place), "%s.%s", f->ent, key);
	char *text = ss_value_text(sp_edit_get(f->s->doc, place));
	gtk_editable_set_text(GTK_EDITABLE(e), text);
	g_free(text);
	/* The document's undo (Ctrl+Z) is the one that counts. */
	gtk_editable_set_enable_undo(GTK_EDITABLE(e), FALSE);
	if (hint)
		gtk_entry_set_placeholder_text(GTK_ENTRY(e), hint);
	ss_a11y_label(e, label);
	ss_bind_new(f->s, e, place, kind);
	g_signal_connect(e, "changed", G_CALLBACK(ss_entry_changed), NULL);
	ss_row(f, label, e, place);
	return e;
}

static GtkWidget *ss_check(struct ss_form *f, const char *label, const char *place, const char *on)
{
	GtkWidget *c = gtk_check_button_new_with_label(label);
	json_t *v = sp_edit_get(f->s->doc, place);
	struct ss_bind *b = ss_bind_new(f->s, c, place, SS_STR);

	b->on = on;
	gtk_check_button_set_active(
		GTK_CHECK_BUTTON(c),
		on ? json_is_string(v) && strcmp(json_string_value(v), on) == 0 : json_is_true(v));
	g_signal_connect(c, "toggled", G_CALLBACK(ss_check_toggled), NULL);
	return c;
}

/* A binding's access mode: a toggle button, pressed for "rw" (a button,
 * so that it has a "click" action on the accessibility bus). */
static GtkWidget *ss_mode_toggle(struct ss_form *f, const char *place)
{
	GtkWidget *t = gtk_toggle_button_new_with_label("Read-write");
	json_t *v = sp_edit_get(f->s->doc, place);

	ss_bind_new(f->s, t, place, SS_STR)->on = "rw";
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(t),
				     json_is_string(v) && strcmp(json_string_value(v), "rw") == 0);
	gtk_widget_set_tooltip_text(t, "Pressed: the guest may write; otherwise read-only");
	g_signal_connect(t, "toggled", G_CALLBACK(ss_toggle_toggled), NULL);
	return t;
}

/* A boolean key as a toggle button, pressed for true (a button, as the
 * mode's: GTK 4.8 gives a check button no action on the accessibility
 * bus); off removes the key, false being its default. */
static GtkWidget *ss_flag_toggle(struct ss_form *f, const char *label, const char *key,
				 const char *tip)
{
	char place[160];
	GtkWidget *t = gtk_toggle_button_new_with_label(label);

	snprintf(place, sizeof(place), "%s.%s", f->ent, key);
	ss_bind_new(f->s, t, place, SS_STR);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(t),
				     json_is_true(sp_edit_get(f->s->doc, place)));
	gtk_widget_set_tooltip_text(t, tip);
	ss_a11y_label(t, label);
	g_signal_connect(t, "toggled", G_CALLBACK(ss_toggle_toggled), NULL);
	return t;
}

/* The display grant: pressed adds "display": {} (the defaults), off
 * removes it with its keys; the form is rebuilt to show or hide them. */
static void ss_display_toggled(GtkToggleButton *t, gpointer p)
{
	struct ss_bind *b = g_object_get_data(G_OBJECT(t), "ss-bind");

	if (b->s->building)
		return;
	ss_set(b->s, b->place, gtk_toggle_button_get_active(t) ? json_object() : NULL, true);
}

static void ss_display_rows(struct ss_form *f)
{
	char place[160];
	GtkWidget *t = gtk_toggle_button_new_with_label("Windows on the desktop");

	snprintf(place, sizeof(place), "%s.display", f->ent);
	bool granted = sp_edit_get(f->s->doc, place) != NULL;
	ss_bind_new(f->s, t, place, SS_STR);
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(t), granted);
	gtk_widget_set_tooltip_text(t,
				    "Pressed: the instance may show windows on the host's desktop, "
				    "each labelled with its name");
	ss_a11y_label(t, "Display");
	g_signal_connect(t, "toggled", G_CALLBACK(ss_display_toggled), NULL);
	gtk_widget_set_halign(t, GTK_ALIGN_START);
	ss_row(f, "Display", t, NULL);
	if (!granted)
		return;
	/* The label's colour: "#rrggbb"; the checker says so otherwise. */
	ss_entry(f, "Label colour", "display.label.color", SS_STR,
		 "#rrggbb; empty: a colour chosen from the name");
}

/* A drop-down of `labels`; choosing i sets values[i] (NULL removes). */
static GtkWidget *ss_choice(struct ss_form *f, const char *label, const char *key,
			    const char *const *labels, const char *const *values)
{
	char place[160];
	GtkWidget *d = gtk_drop_down_new_from_strings(labels);
	guint sel = 0;

	snprintf(place, sizeof(place), "%s.%s", f->ent, key);
	const char *cur = sp_edit_get_str(f->s->doc, place);
	for (guint i = 0; labels[i]; i++)
		if (cur && values[i] && strcmp(values[i], cur) == 0)
			sel = i;
	gtk_drop_down_set_selected(GTK_DROP_DOWN(d), sel);
	ss_a11y_label(d, label);
	ss_bind_new(f->s, d, place, SS_STR)->choices = values;
	g_signal_connect(d, "notify::selected", G_CALLBACK(ss_choice_changed), NULL);
	ss_row(f, label, d, place);
	return d;
}

static void ss_heading(struct ss_form *f, const char *text)
{
	GtkWidget *l = gtk_label_new(text);

	gtk_label_set_xalign(GTK_LABEL(l), 0);
	gtk_widget_add_css_class(l, "heading");
	gtk_widget_set_margin_top(l, 12);
	gtk_grid_attach(GTK_GRID(f->grid), l, 0, f->row++, 2, 1);
}

/* --- the name --- */

static void ss_rename_clicked(GtkButton *btn, gpointer p)
{
	GtkWidget *entry = p;
	struct ss *s = g_object_get_data(G_OBJECT(entry), "ss");
	enum sp_edit_kind k =
		(enum sp_edit_kind)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(entry), "ss-kind"));
	const char *to = gtk_editable_get_text(GTK_EDITABLE(entry));
	struct sp_err err = {0};
	char from[SP_NAME_MAX + 1];

	snprintf(from, sizeof(from), "%s", s->selected[k]);
	if (sp_edit_rename(s->doc, k, from, to, &err) < 0) {
		ss_status(s, "Not renamed: %s", err.msg);
		return;
	}
	snprintf(s->selected[k], sizeof(s->selected[k]), "%s", to);
	ss_status(s, "Renamed %s to %s%s", from, to,
		  k == SP_EDIT_INST ? "" : " and updated the instances that refer to it");
	ss_changed(s, true);
}

static void ss_name_row(struct ss_form *f)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *e = gtk_entry_new(), *b = gtk_button_new_with_label("Rename");

	gtk_editable_set_text(GTK_EDITABLE(e), f->s->selected[f->k]);
	gtk_editable_set_enable_undo(GTK_EDITABLE(e), FALSE);
	gtk_widget_set_hexpand(e, TRUE);
	ss_a11y_label(e, "Name");
	g_object_set_data(G_OBJECT(e), "ss", f->s);
	g_object_set_data(G_OBJECT(e), "ss-kind", GINT_TO_POINTER(f->k));
	g_signal_connect(b, "clicked", G_CALLBACK(ss_rename_clicked), e);
	g_signal_connect_swapped(e, "activate", G_CALLBACK(gtk_widget_activate), b);
	gtk_box_append(GTK_BOX(box), e);
	gtk_box_append(GTK_BOX(box), b);
	ss_row(f, "Name", box, NULL);
}

/* --- applications --- */

static void ss_image_picked(GObject *d, GParamSpec *ps, gpointer p)
{
	GtkWidget *entry = p;
	guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(d));
	GtkStringList *model = GTK_STRING_LIST(gtk_drop_down_get_model(GTK_DROP_DOWN(d)));

	if (i != GTK_INVALID_LIST_POSITION && i > 0)
		gtk_editable_set_text(GTK_EDITABLE(entry), gtk_string_list_get_string(model, i));
}

/* The images present in the image store (STATE_DIR/images/NAME.erofs). */
static GtkWidget *ss_image_picker(struct ss *s, GtkWidget *entry)
{
	GtkStringList *names = gtk_string_list_new(NULL);
	char dir[SP_PATH_MAX];
	struct dirent *de;
	DIR *d;

	gtk_string_list_append(names, "Images present…");
	if (s->have_host) {
		snprintf(dir, sizeof(dir), "%s/images", s->host.state_dir);
		if ((d = opendir(dir))) {
			while ((de = readdir(d))) {
				size_t l = strlen(de->d_name);
				if (l > 6 && strcmp(de->d_name + l - 6, ".erofs") == 0) {
					char *n = g_strndup(de->d_name, l - 6);
					if (sp_name_valid(n))
						gtk_string_list_append(names, n);
					g_free(n);
				}
			}
			closedir(d);
		}
	}
	GtkWidget *dd = gtk_drop_down_new(G_LIST_MODEL(names), NULL);
	ss_a11y_label(dd, "Pick an image present");
	g_signal_connect(dd, "notify::selected", G_CALLBACK(ss_image_picked), entry);
	return dd;
}

static void ss_app_form(struct ss_form *f)
{
	static const char *const arch_labels[] = {"host default (x86_64)", "x86_64", "ppc64le",
						  "aarch64", NULL};
	static const char *const arch_values[] = {NULL, "x86_64", "ppc64le", "aarch64", NULL};
	GtkWidget *image;
	char place[160];

	ss_name_row(f);
	image = ss_entry(f, "Image", "image", SS_STR, "an image name, or a path with a /");
	ss_row(f, "", ss_image_picker(f->s, image), NULL);
	snprintf(place, sizeof(place), "%s.commands", f->ent);
	if (sp_edit_get(f->s->doc, place)) {
		char *t = ss_value_text(sp_edit_get(f->s->doc, place));
		GtkWidget *l = gtk_label_new(t);
		g_free(t);
		gtk_label_set_xalign(GTK_LABEL(l), 0);
		ss_row(f, "Commands", l, place);
	} else {
		ss_entry(f, "Command", "command", SS_WORDS, "/usr/bin/app --option");
	}
	ss_entry(f, "Environment", "env", SS_ENV, "NAME=value NAME2=value");
	ss_entry(f, "Memory", "memory", SS_STR, "512M");
	ss_entry(f, "vCPUs", "vcpus", SS_INT, "1");
	ss_choice(f, "Architecture", "arch", arch_labels, arch_values);
}

/* --- resources --- */

static const char *const ss_type_values[] = {"block", "directory", "net", "usb", "pci", NULL};

/* The keys each type has (spectrum.json(5)). */
static bool ss_type_has(const char *type, const char *key)
{
	static const char *const keys[][6] = {
		{"type", "size", "fs", "path", NULL},
		{"type", "path", NULL},
		{"type", "nat", NULL},
		{"type", "vendor", "product", "bus", "port", NULL},
		{"type", "address", NULL},
	};
	for (int t = 0; ss_type_values[t]; t++) {
		if (strcmp(type, ss_type_values[t]) != 0)
			continue;
		for (int i = 0; keys[t][i]; i++)
			if (strcmp(keys[t][i], key) == 0)
				return true;
		return false;
	}
	return true;
}

static void ss_type_changed(GObject *d, GParamSpec *ps, gpointer p)
{
	struct ss *s = p;
	guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(d));
	const char *name = s->selected[SP_EDIT_RES];
	char place[160];
	struct sp_err err = {0};

	if (s->building || i >= G_N_ELEMENTS(ss_type_values) - 1)
		return;
	snprintf(place, sizeof(place), "resources.%s.type", name);
	sp_edit_set_str(s->doc, place, ss_type_values[i], &err);
	/* The keys of the old type go: they would be unknown keys now
	 * (part of the same edit: undo brings them back with the type). */
	json_t *res = json_object_get(json_object_get(s->doc->root, "resources"), name), *v;
	const char *key;
	void *tmp;
	json_object_foreach_safe(res, tmp, key, v)
	{
		if (!ss_type_has(ss_type_values[i], key))
			json_object_del(res, key);
	}
	ss_changed(s, true);
}

struct ss_dev_pick {
	struct ss *s;
	enum sp_res_type type;
	size_t n;
	struct sp_dev_present devs[64];
};

static void ss_dev_picked(GObject *d, GParamSpec *ps, gpointer p)
{
	struct ss_dev_pick *pk = p;
	struct ss *s = pk->s;
	guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(d));
	char place[160], hex[8];
	const char *name = s->selected[SP_EDIT_RES];
	struct sp_err err = {0};

	if (s->building || i == 0 || i == GTK_INVALID_LIST_POSITION || i > pk->n)
		return;
	const struct sp_dev_present *dev = &pk->devs[i - 1];
	if (pk->type == SP_RES_PCI) {
		snprintf(place, sizeof(place), "resources.%s.address", name);
		sp_edit_set_str(s->doc, place, dev->address, &err);
	} else {
		/* By vendor:product: the device is found wherever it is
		 * plugged in. */
		snprintf(place, sizeof(place), "resources.%s.vendor", name);
		snprintf(hex, sizeof(hex), "%04x", dev->vendor);
		sp_edit_set_str(s->doc, place, hex, &err);
		snprintf(place, sizeof(place), "resources.%s.product", name);
		snprintf(hex, sizeof(hex), "%04x", dev->device);
		sp_edit_set_str(s->doc, place, hex, &err);
		snprintf(place, sizeof(place), "resources.%s.bus", name);
		sp_edit_set(s->doc, place, NULL, &err);
		snprintf(place, sizeof(place), "resources.%s.port", name);
		sp_edit_set(s->doc, place, NULL, &err);
	}
	ss_changed(s, true);
}

static void ss_device_picker(struct ss_form *f, enum sp_res_type type)
{
	struct ss_dev_pick *pk = g_new0(struct ss_dev_pick, 1);
	GtkStringList *names = gtk_string_list_new(NULL);
	GtkWidget *dd;

	pk->s = f->s;
	pk->type = type;
	pk->n = sp_devices_present(type, pk->devs, G_N_ELEMENTS(pk->devs));
	if (pk->n > G_N_ELEMENTS(pk->devs))
		pk->n = G_N_ELEMENTS(pk->devs);
	gtk_string_list_append(names, pk->n ? "Devices present…" : "No device present");
	for (size_t i = 0; i < pk->n; i++) {
		const struct sp_dev_present *d = &pk->devs[i];
		char *t =
			type == SP_RES_USB ?
				g_strdup_printf("%04x:%04x %s (bus %u port %s)", d->vendor,
						d->device, d->label, d->bus, d->port) :
				g_strdup_printf("%s (%04x:%04x)", d->address, d->vendor, d->device);
		gtk_string_list_append(names, t);
		g_free(t);
	}
	dd = gtk_drop_down_new(G_LIST_MODEL(names), NULL);
	ss_a11y_label(dd, "Pick a device present");
	g_object_set_data_full(G_OBJECT(dd), "ss-pick", pk, g_free);
	g_signal_connect(dd, "notify::selected", G_CALLBACK(ss_dev_picked), pk);
	ss_row(f, "", dd, NULL);
}

static void ss_res_form(struct ss_form *f)
{
	static const char *const type_labels[] = {"block (a disk image)", "directory (shared)",
						  "net (a network)",	  "usb (a device)",
						  "pci (a device)",	  NULL};
	char place[160];
	const char *type;
	GtkWidget *d;
	guint sel = 1;

	ss_name_row(f);
	snprintf(place, sizeof(place), "%s.type", f->ent);
	type = sp_edit_get_str(f->s->doc, place);
	for (guint i = 0; type && ss_type_values[i]; i++)
		if (strcmp(type, ss_type_values[i]) == 0)
			sel = i;
	d = gtk_drop_down_new_from_strings(type_labels);
	gtk_drop_down_set_selected(GTK_DROP_DOWN(d), sel);
	ss_a11y_label(d, "Type");
	g_signal_connect(d, "notify::selected", G_CALLBACK(ss_type_changed), f->s);
	ss_row(f, "Type", d, place);
	switch (sel) {
	case 0:
		ss_entry(f, "Size", "size", SS_STR, "1G (a new volume), or give an existing image");
		ss_entry(f, "Filesystem", "fs", SS_STR, "ext4");
		ss_entry(f, "Image path", "path", SS_STR, "an existing image on the host");
		break;
	case 1:
		ss_entry(f, "Host directory", "path", SS_STR, "/srv/shared");
		break;
	case 2:
		snprintf(place, sizeof(place), "%s.nat", f->ent);
		ss_row(f, "", ss_check(f, "NAT to the host's network", place, NULL), place);
		break;
	case 3:
		ss_entry(f, "Vendor", "vendor", SS_STR, "1050");
		ss_entry(f, "Product", "product", SS_STR, "0407");
		ss_entry(f, "Bus", "bus", SS_INT, "or bus and port");
		ss_entry(f, "Port", "port", SS_STR, "2.1");
		ss_device_picker(f, SP_RES_USB);
		break;
	case 4:
		ss_entry(f, "Address", "address", SS_STR, "0000:01:00.0");
		ss_device_picker(f, SP_RES_PCI);
		break;
	}
}

/* --- instances --- */

struct ss_bind_req {
	struct ss *s;
	char resource[SP_NAME_MAX + 1];
};

static void ss_bind_clicked(GtkButton *b, gpointer p)
{
	struct ss_bind_req *r = p;
	struct ss *s = r->s;
	struct sp_err err = {0};
	char place[160];
	const char *type;

	snprintf(place, sizeof(place), "resources.%s.type", r->resource);
	type = sp_edit_get_str(s->doc, place);
	/* A disk or directory is mounted: read-only until made rw, at a
	 * path the user gives (the checker asks for it). */
	bool mounted = type && (strcmp(type, "block") == 0 || strcmp(type, "directory") == 0);
	if (sp_edit_bind(s->doc, s->selected[SP_EDIT_INST], r->resource, NULL,
			 mounted ? "ro" : NULL, &err) < 0) {
		ss_status(s, "%s", err.msg);
		return;
	}
	ss_status(s, "Bound %s to %s", r->resource, s->selected[SP_EDIT_INST]);
	ss_changed(s, true);
}

static void ss_unbind_clicked(GtkButton *b, gpointer p)
{
	struct ss_bind_req *r = p;
	struct sp_err err = {0};

	if (sp_edit_unbind(r->s->doc, r->s->selected[SP_EDIT_INST], r->resource, &err) < 0)
		ss_status(r->s, "%s", err.msg);
	ss_changed(r->s, true);
}

static GtkWidget *ss_button_for(struct ss *s, const char *label, const char *a11y, const char *res,
				GCallback cb)
{
	GtkWidget *b = gtk_button_new_with_label(label);
	struct ss_bind_req *r = g_new0(struct ss_bind_req, 1);

	r->s = s;
	snprintf(r->resource, sizeof(r->resource), "%s", res);
	g_object_set_data_full(G_OBJECT(b), "ss-req", r, g_free);
	ss_a11y_label(b, a11y);
	g_signal_connect(b, "clicked", cb, r);
	return b;
}

static void ss_binding_row(struct ss_form *f, const char *res)
{
	char place[160], a11y[160], type_place[160];
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	const char *type;

	snprintf(type_place, sizeof(type_place), "resources.%s.type", res);
	type = sp_edit_get_str(f->s->doc, type_place);
	bool mounted = !type || strcmp(type, "block") == 0 || strcmp(type, "directory") == 0;
	if (mounted) {
		GtkWidget *e = gtk_entry_new();
		snprintf(place, sizeof(place), "%s.bindings.%s.path", f->ent, res);
		const char *path = sp_edit_get_str(f->s->doc, place);
		gtk_editable_set_text(GTK_EDITABLE(e), path ? path : "");
		gtk_editable_set_enable_undo(GTK_EDITABLE(e), FALSE);
		gtk_entry_set_placeholder_text(GTK_ENTRY(e), "guest path, like /data");
		gtk_widget_set_hexpand(e, TRUE);
		snprintf(a11y, sizeof(a11y), "Mount path of %s", res);
		ss_a11y_label(e, a11y);
		ss_bind_new(f->s, e, place, SS_STR);
		g_signal_connect(e, "changed", G_CALLBACK(ss_entry_changed), NULL);
		gtk_box_append(GTK_BOX(box), e);
		snprintf(place, sizeof(place), "%s.bindings.%s.mode", f->ent, res);
		GtkWidget *rw = ss_mode_toggle(f, place);
		snprintf(a11y, sizeof(a11y), "Read-write %s", res);
		ss_a11y_label(rw, a11y);
		gtk_box_append(GTK_BOX(box), rw);
	} else {
		GtkWidget *l =
			gtk_label_new(type ? (strcmp(type, "net") == 0 ? "network, granted whole" :
									 "device, granted whole") :
					     "");
		gtk_widget_set_hexpand(l, TRUE);
		gtk_label_set_xalign(GTK_LABEL(l), 0);
		gtk_box_append(GTK_BOX(box), l);
	}
	snprintf(a11y, sizeof(a11y), "Remove binding %s", res);
	gtk_box_append(GTK_BOX(box),
		       ss_button_for(f->s, "Remove", a11y, res, G_CALLBACK(ss_unbind_clicked)));
	snprintf(place, sizeof(place), "%s.bindings.%s", f->ent, res);
	ss_row(f, res, box, place);
}

static void ss_inst_form(struct ss_form *f)
{
	static const char *const hv_labels[] = {"default (qemu)", "qemu", "crosvm",
						"cloud-hypervisor", NULL};
	static const char *const hv_values[] = {NULL, "qemu", "crosvm", "cloud-hypervisor", NULL};
	const char *app_values[SP_LIMIT_APPLICATIONS + 2] = {0};
	char place[160];
	size_t napps = sp_edit_count(f->s->doc, SP_EDIT_APP);
	json_t *b;

	ss_name_row(f);
	for (size_t i = 0; i < napps && i < SP_LIMIT_APPLICATIONS; i++)
		app_values[i] = sp_edit_name(f->s->doc, SP_EDIT_APP, i);
	snprintf(place, sizeof(place), "%s.application", f->ent);
	const char *cur = sp_edit_get_str(f->s->doc, place);
	bool known = false;
	for (size_t i = 0; app_values[i]; i++)
		known |= cur && strcmp(cur, app_values[i]) == 0;
	if (cur && !known && napps < SP_LIMIT_APPLICATIONS)
		app_values[napps] = cur; /* what the file says, even if it is wrong */
	snprintf(place, sizeof(place), "%s.applications", f->ent);
	if (sp_edit_get(f->s->doc, place)) {
		/* Several applications in one VM: shown, kept as they are
		 * (edited in the file); the checker's words land here. */
		char *t = ss_value_text(sp_edit_get(f->s->doc, place));
		GtkWidget *l = gtk_label_new(t);
		g_free(t);
		gtk_label_set_xalign(GTK_LABEL(l), 0);
		gtk_label_set_selectable(GTK_LABEL(l), TRUE);
		gtk_widget_set_tooltip_text(l, "Several applications in one instance: "
					       "see spectrum.json(5); edit them in the file");
		ss_a11y_label(l, "Applications");
		ss_row(f, "Applications", l, place);
	} else {
		ss_choice(f, "Application", "application", app_values, app_values);
	}
	ss_entry(f, "Memory", "memory", SS_STR, "the application's");
	ss_entry(f, "vCPUs", "vcpus", SS_INT, "the application's");
	ss_choice(f, "Hypervisor", "hypervisor", hv_labels, hv_values);
	GtkWidget *flags = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	snprintf(place, sizeof(place), "%s.autostart", f->ent);
	gtk_box_append(GTK_BOX(flags), ss_check(f, "Autostart", place, NULL));
	snprintf(place, sizeof(place), "%s.restart", f->ent);
	gtk_box_append(GTK_BOX(flags), ss_check(f, "Restart on failure", place, "on-failure"));
	snprintf(place, sizeof(place), "%s.shareRoot", f->ent);
	gtk_box_append(GTK_BOX(flags), ss_check(f, "Share root image", place, NULL));
	gtk_box_append(
		GTK_BOX(flags),
		ss_flag_toggle(f, "Disposable", "disposable",
			       "Pressed: each start writes its volumes to a throwaway layer, "
			       "removed when it stops"));
	ss_row(f, "", flags, NULL);
	ss_display_rows(f);

	ss_heading(f, "Bindings");
	snprintf(place, sizeof(place), "%s.bindings", f->ent);
	b = sp_edit_get(f->s->doc, place);
	const char *res;
	json_t *v;
	if (json_is_object(b))
		json_object_foreach(b, res, v) ss_binding_row(f, res);
	GtkWidget *flow = gtk_flow_box_new();
	gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(flow), GTK_SELECTION_NONE);
	for (size_t i = 0; i < sp_edit_count(f->s->doc, SP_EDIT_RES); i++) {
		const char *r = sp_edit_name(f->s->doc, SP_EDIT_RES, i);
		char label[SP_NAME_MAX + 8];
		if (json_is_object(b) && json_object_get(b, r))
			continue;
		snprintf(label, sizeof(label), "Bind %s", r);
		gtk_flow_box_append(GTK_FLOW_BOX(flow), ss_button_for(f->s, label, label, r,
								      G_CALLBACK(ss_bind_clicked)));
	}
	ss_row(f, "Add", flow, NULL);

	ss_heading(f, "Running");
	GtkWidget *run = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	gtk_grid_attach(GTK_GRID(f->grid), run, 0, f->row++, 2, 1);
	ss_running_form(f->s, run, f->s->selected[SP_EDIT_INST]);
}

/* --- the form of a page --- */

void ss_build_form(struct ss *s, enum sp_edit_kind k)
{
	struct ss_form f = {s, k, gtk_grid_new(), 0, ""};
	size_t keep = 0;

	/* Forget this page's fields (the widgets go with the old grid). */
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].k != k)
			s->fields[keep++] = s->fields[i];
	s->nfields = keep;
	if (k == SP_EDIT_INST) {
		s->run_box = NULL;
		s->run_state = NULL;
	}
	s->building = true;
	gtk_grid_set_row_spacing(GTK_GRID(f.grid), 4);
	gtk_grid_set_column_spacing(GTK_GRID(f.grid), 12);
	gtk_widget_set_margin_start(f.grid, 12);
	gtk_widget_set_margin_end(f.grid, 12);
	gtk_widget_set_margin_top(f.grid, 12);
	gtk_widget_set_margin_bottom(f.grid, 12);
	s->entity_error[k] = ss_error_label();
	gtk_grid_attach(GTK_GRID(f.grid), s->entity_error[k], 0, f.row++, 2, 1);
	if (s->doc && s->selected[k][0]) {
		snprintf(f.ent, sizeof(f.ent), "%s.%s", sp_edit_kind_key(k), s->selected[k]);
		if (k == SP_EDIT_APP)
			ss_app_form(&f);
		else if (k == SP_EDIT_RES)
			ss_res_form(&f);
		else
			ss_inst_form(&f);
	} else {
		GtkWidget *l = gtk_label_new(s->doc ? "Nothing here yet: Add one." : "");
		gtk_grid_attach(GTK_GRID(f.grid), l, 0, f.row++, 2, 1);
	}
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(s->forms[k]), f.grid);
	s->building = false;
}

/* --- the checker's messages at their widgets --- */

/* Whether diagnostic place d is about `place` or something inside it. */
static bool ss_place_within(const char *d, const char *place)
{
	size_t l = strlen(place);

	return strncmp(d, place, l) == 0 && (d[l] == '\0' || d[l] == '.' || d[l] == '[');
}

static void ss_append(GString *g, const struct sp_diag *d)
{
	g_string_append_printf(g, "%s%s: %s", g->len ? "\n" : "",
			       d->sev == SP_SEV_ERROR ? "error" : "warning", d->msg);
}

void ss_show_field_errors(struct ss *s)
{
	GString *ent[SP_EDIT_KINDS];

	for (int k = 0; k < SP_EDIT_KINDS; k++)
		ent[k] = g_string_new(NULL);
	for (size_t i = 0; i < s->nfields; i++) {
		GString *g = g_string_new(NULL);
		for (size_t j = 0; j < s->diags.n; j++)
			if (s->diags.v[j].place &&
			    ss_place_within(s->diags.v[j].place, s->fields[i].place))
				ss_append(g, &s->diags.v[j]);
		gtk_label_set_text(GTK_LABEL(s->fields[i].error), g->str);
		gtk_widget_set_visible(s->fields[i].error, g->len > 0);
		g_string_free(g, TRUE);
	}
	/* What no field shows: the entity's own problems, at the top. */
	for (size_t j = 0; j < s->diags.n; j++) {
		const char *p = s->diags.v[j].place;
		bool shown = false;
		for (size_t i = 0; p && i < s->nfields; i++)
			shown |= ss_place_within(p, s->fields[i].place);
		for (int k = 0; p && !shown && k < SP_EDIT_KINDS; k++) {
			char e[160];
			snprintf(e, sizeof(e), "%s.%s", sp_edit_kind_key(k), s->selected[k]);
			if (s->selected[k][0] && ss_place_within(p, e))
				ss_append(ent[k], &s->diags.v[j]);
		}
	}
	for (int k = 0; k < SP_EDIT_KINDS; k++) {
		if (s->entity_error[k]) {
			gtk_label_set_text(GTK_LABEL(s->entity_error[k]), ent[k]->str);
			gtk_widget_set_visible(s->entity_error[k], ent[k]->len > 0);
		}
		g_string_free(ent[k], TRUE);
	}
}
