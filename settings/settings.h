/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-settings(1): the window over lib/edit.h.  Every change goes
 * through an sp_edit_ operation, then the checker runs and the window
 * shows what it says; the window itself holds no configuration.
 */
#ifndef SS_SETTINGS_H
#define SS_SETTINGS_H

#include <gtk/gtk.h>
#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "ctl.h"
#include "edit.h"

#define SS_FIELDS_MAX 96

/* A widget that shows one place of the file, with its error label. */
struct ss_field {
	enum sp_edit_kind k;
	char place[160];
	GtkWidget *error;
};

struct ss {
	GtkWidget *window;
	GtkWidget *stack;
	GtkWidget *lists[SP_EDIT_KINDS];
	GtkWidget *forms[SP_EDIT_KINDS]; /* scrolled windows holding each form */
	GtkWidget *problems;		 /* list of every diagnostic */
	GtkWidget *banner, *banner_label, *banner_reload, *banner_keep;
	GtkWidget *status;	 /* the last action's outcome, one line */
	GtkWidget *daemon_label; /* spectrumd reachable or not, one line */
	GtkWidget *undo_button, *save_button, *apply_button, *generations_button;

	char *file;
	char *base_dir;
	struct sp_edit *doc; /* NULL: the file did not parse; read-only */
	struct sp_host host;
	bool have_host;
	struct sp_diags diags;

	char selected[SP_EDIT_KINDS][SP_NAME_MAX + 1];
	struct ss_field fields[SS_FIELDS_MAX];
	size_t nfields;
	GtkWidget *entity_error[SP_EDIT_KINDS]; /* a form's problems not at one field */
	bool building;				/* handlers ignore what building a form does */

	/* The file on disk as we last read or wrote it. */
	struct stat disk;
	bool disk_known;
	bool disk_changed; /* changed by someone else since */
	/* The text of the file as last applied (or opened): what the
	 * offline preview compares the saved file with when spectrumd is
	 * not reachable. */
	char *applied;

	/* spectrumd: the last LIST answer (an array), NULL if unreachable. */
	json_t *running;
	char daemon_error[1024];
	GtkWidget *run_state; /* the instance form's running section */
	GtkWidget *run_box;
	bool switching;		/* a switch or rollback is being asked or done */
	GtkWidget *generations; /* the generations window, while open */
	GtkWidget *generations_list;
};

/* window.c */
struct ss *ss_new(const char *file);
/* Opens ss->file (again): a file that does not parse is shown read-only. */
void ss_load(struct ss *s);
void ss_refresh_all(struct ss *s);
void ss_validate(struct ss *s);
void ss_status(struct ss *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void ss_save(struct ss *s);
void ss_undo(struct ss *s);

/* forms.c: the form of the entity selected on page k. */
void ss_build_form(struct ss *s, enum sp_edit_kind k);
void ss_show_field_errors(struct ss *s);
/* After an edit: check again, show it; `rebuild` also rebuilds the lists
 * and forms (later, from the main loop: the widget that asked may be one
 * of those rebuilt). */
void ss_changed(struct ss *s, bool rebuild);

/* running.c */
/*
 * One request to spectrumd (lib/ctl.h), waiting at most timeout_ms: the
 * reply's status, or -1 with err saying why the daemon was not asked.
 */
int ss_ask(enum sp_op op, unsigned flags, const char *name, int give, int timeout_ms,
	   struct sp_ctl_reply *r, struct sp_err *err);
void ss_running_start(struct ss *s);
void ss_running_poll(struct ss *s);
void ss_running_form(struct ss *s, GtkWidget *box, const char *instance);
/* Apply: the daemon's switch to the saved file, a dry run shown first. */
void ss_apply(struct ss *s);
/* The daemon's rollback to the previous generation, a dry run shown first. */
void ss_rollback(struct ss *s);

/* generations.c: the window listing spectrumd's generations. */
void ss_generations_show(struct ss *s);
/* Lists them again if the window is open. */
void ss_generations_refresh(struct ss *s);

/* A small modal question: yes_cb runs when the user picks `yes`. */
void ss_confirm(struct ss *s, const char *title, const char *text, const char *yes,
		void (*yes_cb)(struct ss *s, void *data), void *data, GDestroyNotify free_data);
/* Sets a widget's accessible name, for screen readers and the tests. */
void ss_a11y_label(GtkWidget *w, const char *label);

#endif
