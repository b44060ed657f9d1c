/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running compartments, through spectrumd's control socket (the
 * requests of spectrum(1), lib/proto.h): each instance's state, its
 * Start / Stop / Restart / Console log buttons, and Apply.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "settings.h"

#define SS_POLL_MS 2000
#define SS_LIST_TIMEOUT_MS 1500
/* Start and stop answer when the VM is up or down: under TCG, a while;
 * so may a switch that restarts instances. */
#define SS_ACTION_TIMEOUT_MS 180000
/* A dry run checks the file and compiles every plan (a .nix file is
 * evaluated first). */
#define SS_DRY_RUN_TIMEOUT_MS 60000
#define SS_LOG_MAX (256u << 10)

int ss_ask(enum sp_op op, unsigned flags, const char *name, int give, int timeout_ms,
	   struct sp_ctl_reply *r, struct sp_err *err)
{
	struct sp_request rq;

	r->body = NULL;
	r->passed = -1;
	if (sp_request_make(&rq, op, flags, name) < 0) {
		sp_err_set(err, "invalid request");
		return -1;
	}
	return sp_ctl_call(&rq, give, timeout_ms, r, err);
}

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
	struct sp_ctl_reply r;
	int rc = ss_ask(SP_OP_LIST, SP_FLAG_JSON, NULL, -1, SS_LIST_TIMEOUT_MS, &r, &err);
	json_t *list = NULL;

	if (rc == SP_REPLY_OK)
		list = json_loads(r.body, 0, NULL);
	else if (rc >= 0)
		snprintf(err.msg, sizeof(err.msg), "%s", *r.body ? r.body : "refused");
	if (list && !json_is_array(list)) {
		json_decref(list);
		list = NULL;
		snprintf(err.msg, sizeof(err.msg), "an answer that is not a list");
	}
	json_decref(s->running);
	s->running = list;
	snprintf(s->daemon_error, sizeof(s->daemon_error), "%s", err.msg);
	s->daemon_error[strcspn(s->daemon_error, "\n")] = '\0';
	sp_ctl_reply_free(&r);
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
	struct sp_ctl_reply r;
	struct sp_err err;
};

static void ss_action_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	struct ss_action *a = data;

	a->rc = ss_ask(a->op, 0, a->name, -1, SS_ACTION_TIMEOUT_MS, &a->r, &a->err);
	g_task_return_boolean(task, TRUE);
}

static void ss_action_free(gpointer p)
{
	struct ss_action *a = p;

	sp_ctl_reply_free(&a->r);
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
		ss_status(s, "%s %s refused: %s", sp_op_name(a->op), a->name, a->r.body);
	else if (a->op == SP_OP_LOGS && a->r.passed >= 0)
		ss_show_log(s, a->name, a->r.passed);
	else
		ss_status(s, "%s %s: %s", sp_op_name(a->op), a->name,
			  *a->r.body ? a->r.body : "done");
	ss_running_poll(s);
}

static void ss_action_run(struct ss *s, enum sp_op op, const char *name)
{
	struct ss_action *a = g_new0(struct ss_action, 1);
	GTask *t = g_task_new(NULL, NULL, ss_action_done, NULL);

	a->s = s;
	a->op = op;
	a->r.passed = -1;
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

/* --- Apply and roll back: the daemon's switch --- */

/*
 * One switch or rollback, asked twice: first as a dry run, whose lines
 * (what stops, restarts, starts, keeps running) the user confirms, then
 * for real.  The saved file is opened once, as the user, and the same
 * descriptor goes with both requests: what is switched to is what the
 * dry run showed, even if the file is saved again meanwhile.
 */
struct ss_switch {
	struct ss *s;
	enum sp_op op; /* SP_OP_SWITCH or SP_OP_ROLLBACK */
	int file;      /* the switch's file, or -1 */
	bool dry;
	int rc;
	struct sp_ctl_reply r;
	struct sp_err err;
};

static void ss_switch_free(gpointer p)
{
	struct ss_switch *w = p;

	sp_ctl_reply_free(&w->r);
	if (w->file >= 0)
		close(w->file);
	g_free(w);
}

static void ss_switch_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	struct ss_switch *w = data;

	/* The daemon reads the file from where the descriptor stands: the
	 * dry run's read moved it to the end. */
	if (w->file >= 0)
		lseek(w->file, 0, SEEK_SET);
	sp_ctl_reply_free(&w->r);
	w->rc = ss_ask(w->op, w->dry ? SP_FLAG_DRY_RUN : 0, NULL, w->file,
		       w->dry ? SS_DRY_RUN_TIMEOUT_MS : SS_ACTION_TIMEOUT_MS, &w->r, &w->err);
	g_task_return_boolean(task, TRUE);
}

static void ss_switch_done(GObject *src, GAsyncResult *res, gpointer p);

static void ss_switch_ask(struct ss_switch *w)
{
	GTask *t = g_task_new(NULL, NULL, ss_switch_done, NULL);

	w->s->switching = true;
	gtk_widget_set_sensitive(w->s->apply_button, FALSE);
	g_task_set_task_data(t, w, ss_switch_free);
	g_task_run_in_thread(t, ss_switch_thread);
	g_object_unref(t);
}

static const char *ss_switch_noun(const struct ss_switch *w)
{
	return w->op == SP_OP_SWITCH ? "Apply" : "Roll back";
}

/* The user said yes to the dry run's lines: the same request, for real. */
static void ss_switch_confirmed(struct ss *s, void *data)
{
	struct ss_switch *w = g_new0(struct ss_switch, 1), *dry = data;

	w->s = s;
	w->op = dry->op;
	w->file = dry->file >= 0 ? dup(dry->file) : -1;
	w->r.passed = -1;
	ss_status(s, "%s: switching…", ss_switch_noun(w));
	ss_switch_ask(w);
}

/* The daemon's lines on one line, for the status: "a: x; b: y". */
static char *ss_one_line(const char *body)
{
	gchar **lines = g_strsplit(body, "\n", -1);
	GString *g = g_string_new(NULL);

	for (gchar **l = lines; *l; l++)
		if (**l)
			g_string_append_printf(g, "%s%s", g->len ? "; " : "", *l);
	g_strfreev(lines);
	return g_string_free(g, FALSE);
}

static void ss_switch_result(struct ss_switch *w)
{
	struct ss *s = w->s;
	char *line = ss_one_line(w->r.body);

	if (w->dry) {
		char *text = g_strdup_printf(
			"%s\n\nspectrumd will do this (a dry run: nothing is changed yet):\n\n%s",
			w->op == SP_OP_SWITCH ?
				"Switch the running configuration to the saved file." :
				"Roll back to the previous generation.",
			*w->r.body ? w->r.body : "no instance changes\n");
		struct ss_switch *keep = g_new0(struct ss_switch, 1);
		*keep = (struct ss_switch){.s = s, .op = w->op, .file = w->file, .r.passed = -1};
		w->file = -1; /* the question keeps it until answered */
		ss_status(s, "%s: the dry run says: %s", ss_switch_noun(w), line);
		ss_confirm(s, ss_switch_noun(w), text,
			   w->op == SP_OP_SWITCH ? "Switch" : "Switch back", ss_switch_confirmed,
			   keep, ss_switch_free);
		g_free(text);
	} else {
		ss_status(s, "%s: %s", w->op == SP_OP_SWITCH ? "Applied" : "Rolled back", line);
		if (w->op == SP_OP_SWITCH) {
			free(s->applied);
			s->applied = s->doc ? sp_edit_dump(s->doc) : NULL;
		}
		ss_running_poll(s);
		ss_generations_refresh(s);
	}
	g_free(line);
}

static void ss_switch_done(GObject *src, GAsyncResult *res, gpointer p)
{
	struct ss_switch *w = g_task_get_task_data(G_TASK(res));
	struct ss *s = w->s;

	s->switching = false;
	gtk_widget_set_sensitive(s->apply_button, TRUE);
	if (w->rc < 0) {
		/* Unreachable (or it did not answer): one line, nothing done. */
		ss_status(s, "%s: %s; nothing changed", ss_switch_noun(w), w->err.msg);
	} else if (w->rc != SP_REPLY_OK) {
		/* The daemon's own refusal (the file does not check, a
		 * switch still stopping...): its lines, nothing changed. */
		char *line = ss_one_line(w->r.body),
		     *text = g_strdup_printf("%s: refused by spectrumd; nothing changed:\n\n%s",
					     ss_switch_noun(w), w->r.body);
		ss_status(s, "%s refused: %s", ss_switch_noun(w), line);
		ss_confirm(s, ss_switch_noun(w), text, "Close", NULL, NULL, NULL);
		g_free(line);
		g_free(text);
	} else {
		ss_switch_result(w);
	}
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

/*
 * Without the daemon, the editor's own comparison: which instances' plans
 * the saved file changes since it was opened (or last applied), so that
 * the one line saying the daemon is away still says what Apply would
 * touch.
 */
static void ss_offline_preview(struct ss *s, char *buf, size_t len)
{
	char *now = sp_edit_dump(s->doc);
	struct sp_config *old_cfg = ss_parse_text(s, s->applied), *new_cfg = ss_parse_text(s, now);

	buf[0] = '\0';
	if (s->have_host && sp_edit_changed(old_cfg, new_cfg, &s->host, buf, len) == 0)
		snprintf(buf, len, "none");
	sp_config_free(old_cfg);
	sp_config_free(new_cfg);
	free(now);
}

static bool ss_switch_idle(struct ss *s)
{
	if (s->switching)
		ss_status(s, "A switch is under way: wait for its answer");
	return !s->switching;
}

void ss_apply(struct ss *s)
{
	struct ss_switch *w;
	mode_t type;
	int fd;

	if (!s->doc || s->doc->modified) {
		ss_status(s, "Save first: Apply switches to what is saved");
		return;
	}
	if (!ss_switch_idle(s))
		return;
	ss_running_poll(s);
	if (!s->running) {
		char changed[1024];
		ss_offline_preview(s, changed, sizeof(changed));
		ss_status(s, "spectrumd is not reachable (%.300s): nothing applied%s%s",
			  s->daemon_error, *changed ? "; changed instances: " : "", changed);
		return;
	}
	/* Opened here, as the user: a file the user cannot read is not
	 * switched to (the daemon never opens a path a client names). */
	fd = sp_open_regular(s->file, 0, &type);
	if (fd < 0) {
		ss_status(s, "Apply: cannot read %s: %s", s->file,
			  type ? sp_file_type_name(type) : strerror(errno));
		return;
	}
	w = g_new0(struct ss_switch, 1);
	*w = (struct ss_switch){
		.s = s, .op = SP_OP_SWITCH, .file = fd, .dry = true, .r.passed = -1};
	ss_status(s, "Apply: asking spectrumd for a dry run…");
	ss_switch_ask(w);
}

void ss_rollback(struct ss *s)
{
	struct ss_switch *w;

	if (!ss_switch_idle(s))
		return;
	w = g_new0(struct ss_switch, 1);
	*w = (struct ss_switch){
		.s = s, .op = SP_OP_ROLLBACK, .file = -1, .dry = true, .r.passed = -1};
	ss_status(s, "Roll back: asking spectrumd for a dry run…");
	ss_switch_ask(w);
}
