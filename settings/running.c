/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running compartments, through spectrumd's control socket (the
 * requests of spectrum(1), lib/proto.h): each instance's state, its
 * Start / Stop / Restart / Console log buttons, and Apply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "settings.h"

#define SS_POLL_MS 2000
#define SS_LIST_TIMEOUT_MS 1500
/* Start and stop answer when the VM is up or down: under TCG, a while. */
#define SS_ACTION_TIMEOUT_MS 180000
#define SS_LOG_MAX (256u << 10)

static json_t *ss_running_of(struct ss *s, const char *name)
{
	size_t i;
	json_t *o;

	json_array_foreach(s->running, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

/* One line: "running, up 2m 5s, 380 MiB of 512 MiB". */
static void ss_state_line(json_t *o, char *buf, size_t len)
{
	const char *state = json_string_value(json_object_get(o, "state"));
	json_t *up = json_object_get(o, "uptime_s"), *rss = json_object_get(o, "rss_kib");
	long long mem = json_integer_value(json_object_get(o, "memory_mib"));
	size_t off = (size_t)snprintf(buf, len, "%s", state ? state : "?");

	if (json_is_integer(up) && off < len) {
		long long u = json_integer_value(up);
		off += (size_t)snprintf(buf + off, len - off, ", up %lldh %lldm %llds", u / 3600,
					u / 60 % 60, u % 60);
	}
	if (json_is_integer(rss) && off < len)
		off += (size_t)snprintf(buf + off, len - off, ", %lld MiB in use of %lld MiB",
					(long long)json_integer_value(rss) / 1024, mem);
	else if (off < len)
		snprintf(buf + off, len - off, ", %lld MiB", mem);
}

/* Each button on its own: a screen reader reads a button's own state. */
static void ss_run_buttons(struct ss *s, bool on)
{
	for (GtkWidget *c = gtk_widget_get_first_child(s->run_box); c;
	     c = gtk_widget_get_next_sibling(c))
		gtk_widget_set_sensitive(c, on);
}

static void ss_running_update(struct ss *s)
{
	const char *name = s->selected[SP_EDIT_INST];
	char line[300];
	json_t *o;

	if (s->running) {
		size_t n = 0, i;
		json_t *x;
		json_array_foreach(s->running, i, x)
		{
			const char *st = json_string_value(json_object_get(x, "state"));
			n += st && strcmp(st, "running") == 0;
		}
		snprintf(line, sizeof(line), "spectrumd: %zu of %zu instances running", n,
			 json_array_size(s->running));
		gtk_widget_remove_css_class(s->daemon_label, "ss-offline");
	} else {
		snprintf(line, sizeof(line), "spectrumd is not reachable: %.200s", s->daemon_error);
		gtk_widget_add_css_class(s->daemon_label, "ss-offline");
	}
	gtk_label_set_text(GTK_LABEL(s->daemon_label), line);
	if (!s->run_state)
		return;
	if (!s->running) {
		/* The daemon went away (or never was): the view is grey,
		 * and says so in one line. */
		snprintf(line, sizeof(line),
			 "spectrumd is not reachable (%.200s): this view is out of date",
			 s->daemon_error);
		ss_run_buttons(s, false);
	} else if (!(o = ss_running_of(s, name))) {
		snprintf(line, sizeof(line),
			 "spectrumd does not know %s: it runs the data file it was started with",
			 name);
		ss_run_buttons(s, false);
	} else {
		ss_state_line(o, line, sizeof(line));
		ss_run_buttons(s, true);
	}
	gtk_label_set_text(GTK_LABEL(s->run_state), line);
}

void ss_running_poll(struct ss *s)
{
	struct sp_err err = {0};
	char *body = NULL;
	int passed = -1;
	int rc = ss_ctl_call(SP_OP_LIST, SP_FLAG_JSON, NULL, SS_LIST_TIMEOUT_MS, &body, &passed,
			     &err);
	json_t *list = NULL;

	if (passed >= 0)
		close(passed);
	if (rc == SP_REPLY_OK)
		list = json_loads(body, 0, NULL);
	else if (rc >= 0)
		snprintf(err.msg, sizeof(err.msg), "%s", body && *body ? body : "refused");
	if (list && !json_is_array(list)) {
		json_decref(list);
		list = NULL;
		snprintf(err.msg, sizeof(err.msg), "an answer that is not a list");
	}
	json_decref(s->running);
	s->running = list;
	snprintf(s->daemon_error, sizeof(s->daemon_error), "%s", err.msg);
	s->daemon_error[strcspn(s->daemon_error, "\n")] = '\0';
	free(body);
	ss_running_update(s);
}

static gboolean ss_poll_tick(gpointer p)
{
	ss_running_poll(p);
	return G_SOURCE_CONTINUE;
}

void ss_running_start(struct ss *s)
{
	ss_running_poll(s);
	g_timeout_add(SS_POLL_MS, ss_poll_tick, s);
}

/* --- actions, in a thread: the daemon answers when the VM is up --- */

struct ss_action {
	struct ss *s;
	enum sp_op op;
	char name[SP_NAME_MAX + 1];
	int rc;
	char *body;
	int passed;
	struct sp_err err;
};

static void ss_action_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	struct ss_action *a = data;

	a->rc = ss_ctl_call(a->op, 0, a->name, SS_ACTION_TIMEOUT_MS, &a->body, &a->passed, &a->err);
	g_task_return_boolean(task, TRUE);
}

static void ss_action_free(gpointer p)
{
	struct ss_action *a = p;

	if (a->passed >= 0)
		close(a->passed);
	free(a->body);
	g_free(a);
}

static void ss_show_log(struct ss *s, const char *name, int fd)
{
	char *buf = g_malloc(SS_LOG_MAX + 1);
	size_t n = 0;
	ssize_t r;

	/* The newest part of the log: it is capped by the logger anyway. */
	while (n < SS_LOG_MAX &&
	       ((r = read(fd, buf + n, SS_LOG_MAX - n)) > 0 || (r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	buf[n] = '\0';
	GtkWidget *win = gtk_window_new(), *sw = gtk_scrolled_window_new(),
		  *tv = gtk_text_view_new();
	char *title = g_strdup_printf("Console log of %s", name);
	gtk_window_set_title(GTK_WINDOW(win), title);
	gtk_window_set_default_size(GTK_WINDOW(win), 760, 480);
	gtk_window_set_transient_for(GTK_WINDOW(win), GTK_WINDOW(s->window));
	gtk_text_view_set_editable(GTK_TEXT_VIEW(tv), FALSE);
	gtk_text_view_set_monospace(GTK_TEXT_VIEW(tv), TRUE);
	/* Guest output: shown as text, never interpreted (invalid UTF-8
	 * is replaced, not trusted). */
	char *valid = g_utf8_make_valid(buf, (gssize)n);
	gtk_text_buffer_set_text(gtk_text_view_get_buffer(GTK_TEXT_VIEW(tv)), valid, -1);
	g_free(valid);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(sw), tv);
	gtk_window_set_child(GTK_WINDOW(win), sw);
	gtk_window_present(GTK_WINDOW(win));
	g_free(title);
	g_free(buf);
}

static void ss_action_done(GObject *src, GAsyncResult *res, gpointer p)
{
	struct ss_action *a = g_task_get_task_data(G_TASK(res));
	struct ss *s = a->s;

	if (a->rc < 0)
		ss_status(s, "%s %s: %s", sp_op_name(a->op), a->name, a->err.msg);
	else if (a->rc != SP_REPLY_OK)
		ss_status(s, "%s %s refused: %s", sp_op_name(a->op), a->name,
			  a->body ? a->body : "");
	else if (a->op == SP_OP_LOGS && a->passed >= 0)
		ss_show_log(s, a->name, a->passed);
	else
		ss_status(s, "%s %s: %s", sp_op_name(a->op), a->name,
			  a->body && *a->body ? a->body : "done");
	ss_running_poll(s);
}

static void ss_action_run(struct ss *s, enum sp_op op, const char *name)
{
	struct ss_action *a = g_new0(struct ss_action, 1);
	GTask *t = g_task_new(NULL, NULL, ss_action_done, NULL);

	a->s = s;
	a->op = op;
	a->passed = -1;
	snprintf(a->name, sizeof(a->name), "%s", name);
	g_task_set_task_data(t, a, ss_action_free);
	g_task_run_in_thread(t, ss_action_thread);
	g_object_unref(t);
	ss_status(s, "%s %s…", sp_op_name(op), name);
}

static void ss_op_clicked(GtkButton *b, gpointer p)
{
	struct ss *s = p;
	enum sp_op op = (enum sp_op)GPOINTER_TO_INT(g_object_get_data(G_OBJECT(b), "ss-op"));

	ss_action_run(s, op, s->selected[SP_EDIT_INST]);
}

void ss_running_form(struct ss *s, GtkWidget *box, const char *instance)
{
	static const struct {
		const char *label;
		enum sp_op op;
	} ops[] = {{"Start", SP_OP_START},
		   {"Stop", SP_OP_STOP},
		   {"Restart", SP_OP_RESTART},
		   {"Console log", SP_OP_LOGS}};
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);

	s->run_state = gtk_label_new("");
	gtk_label_set_xalign(GTK_LABEL(s->run_state), 0);
	gtk_label_set_wrap(GTK_LABEL(s->run_state), TRUE);
	gtk_label_set_max_width_chars(GTK_LABEL(s->run_state), 40);
	ss_a11y_label(s->run_state, "Running state");
	for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
		GtkWidget *b = gtk_button_new_with_label(ops[i].label);
		g_object_set_data(G_OBJECT(b), "ss-op", GINT_TO_POINTER(ops[i].op));
		g_signal_connect(b, "clicked", G_CALLBACK(ss_op_clicked), s);
		gtk_box_append(GTK_BOX(buttons), b);
	}
	s->run_box = buttons;
	gtk_box_append(GTK_BOX(box), s->run_state);
	gtk_box_append(GTK_BOX(box), buttons);
	ss_running_update(s);
}

/* --- Apply --- */

/*
 * What Apply does with the instances a saved change touches.  Today:
 * restart each one that runs.  When spectrumd offers a switch request
 * (load the new file, restart what changed, roll back on failure), this
 * is the one function to replace: the list shown to the user stays the
 * one sp_edit_changed computes.
 */
static void ss_apply_changes(struct ss *s, void *data)
{
	gchar **names = data;

	for (gchar **n = names; *n; n++)
		ss_action_run(s, SP_OP_RESTART, *n);
	free(s->applied);
	s->applied = sp_edit_dump(s->doc);
}

static struct sp_config *ss_parse_text(const struct ss *s, const char *text)
{
	struct sp_diags d;
	struct sp_config *cfg;

	if (!text)
		return NULL;
	sp_diags_init(&d, s->file);
	cfg = sp_config_parse(text, strlen(text), s->file, s->base_dir, &d);
	sp_diags_fini(&d);
	return cfg;
}

void ss_apply(struct ss *s)
{
	char changed[4096];
	GString *run = g_string_new(NULL), *idle = g_string_new(NULL);

	if (!s->doc || s->doc->modified) {
		ss_status(s, "Save first: Apply runs what is saved");
		goto out;
	}
	if (!s->have_host) {
		ss_status(s, "Cannot compare plans: the host was not detected");
		goto out;
	}
	char *now = sp_edit_dump(s->doc);
	struct sp_config *old_cfg = ss_parse_text(s, s->applied), *new_cfg = ss_parse_text(s, now);
	size_t n = sp_edit_changed(old_cfg, new_cfg, &s->host, changed, sizeof(changed));
	sp_config_free(old_cfg);
	sp_config_free(new_cfg);
	free(now);
	if (n == 0) {
		ss_status(s, "Nothing to apply: no instance's plan changed");
		goto out;
	}
	ss_running_poll(s);
	if (!s->running) {
		ss_status(s, "Changed: %s; spectrumd is not reachable, nothing restarted", changed);
		goto out;
	}
	gchar **names = g_strsplit(changed, " ", -1);
	GPtrArray *restart = g_ptr_array_new();
	for (gchar **nm = names; *nm; nm++) {
		json_t *o = ss_running_of(s, *nm);
		const char *st = o ? json_string_value(json_object_get(o, "state")) : NULL;
		bool active = st && strcmp(st, "stopped") != 0 && strcmp(st, "failed") != 0;
		g_string_append_printf(active ? run : idle, "%s%s",
				       (active ? run : idle)->len ? ", " : "", *nm);
		if (active)
			g_ptr_array_add(restart, g_strdup(*nm));
	}
	g_ptr_array_add(restart, NULL);
	g_strfreev(names);
	char *text = g_strdup_printf(
		"The saved file changes the plans of: %s.\n\n%s%s%s%s", changed,
		run->len ? "Apply restarts these running instances: " :
			   "No changed instance is running; nothing will restart.",
		run->str, idle->len ? "\nNot running, so not restarted: " : "", idle->str);
	ss_confirm(s, "Apply", text, run->len ? "Restart them" : "OK", ss_apply_changes,
		   g_ptr_array_free(restart, FALSE), (GDestroyNotify)g_strfreev);
	g_free(text);
out:
	g_string_free(run, TRUE);
	g_string_free(idle, TRUE);
}
