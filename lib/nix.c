/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FILE.nix: evaluated by nix-instantiate into the JSON model of a data
 * file.  Nix is a program of its own, not a library we link: it is run
 * with a fixed argument vector, its output is bounded like a data file,
 * and what it says on standard error is turned into diagnostics in the
 * programs' own format, one line each, so that a configuration error found
 * by the Nix library (nix/) reads like one found by the C compiler:
 *
 *   desktop.nix: instances.mail-work.bindings.store.mode: error: "rwx" is not an access mode; ...
 */
#include "nix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "spawn.h"

extern char **environ;

/* What we keep of Nix's standard error: the error comes first, and a
 * trace never helps a configuration's author more than its first lines. */
#define SP_NIX_STDERR_MAX (64u << 10)
#define SP_NIX_LINES_MAX 512

/* The Spectrum Nix library starts every problem it throws with this. */
static const char sp_nix_prefix[] = "spectrum: ";

bool sp_nix_file(const char *file)
{
	size_t n = strlen(file);

	return n >= 4 && strcmp(file + n - 4, ".nix") == 0;
}

/* Looks nix-instantiate up in PATH, as a shell would. */
static bool sp_nix_find(char *out, size_t len)
{
	const char *path = getenv("PATH");
	const char *p, *end;

	if (!path)
		path = "/usr/bin:/bin";
	for (p = path;; p = end + 1) {
		size_t n;

		end = strchr(p, ':');
		n = end ? (size_t)(end - p) : strlen(p);
		/* An empty entry is the current directory. */
		if ((size_t)snprintf(out, len, "%.*s%snix-instantiate", (int)n, n ? p : ".",
				     n ? "/" : "") < len) {
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return true;
		}
		if (!end)
			return false;
	}
}

/* The same checks, with the same words, as for a JSON data file: a FIFO,
 * a socket or a device is refused before Nix could wait on it. */
static bool sp_nix_readable(const char *file, struct sp_diags *diags)
{
	int fd = sp_diag_open_file(diags, file, "a Nix file");

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* --- running nix-instantiate --- */

struct sp_nix_run {
	char *out; /* standard output, SP_LIMIT_FILE_BYTES + 1 */
	size_t out_len;
	bool too_big;
	char err[SP_NIX_STDERR_MAX + 1];
	size_t err_len;
	int status; /* waitpid() */
};

static void sp_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reads what is ready on one pipe into buf, or past cap into nothing (Nix
 * must not block on a full pipe); false at EOF or on error. */
static bool sp_nix_drain(int fd, char *buf, size_t cap, size_t *len)
{
	char sink[4096];
	ssize_t n;

	if (*len < cap)
		n = read(fd, buf + *len, cap - *len);
	else
		n = read(fd, sink, sizeof(sink));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN;
	if (n == 0)
		return false;
	if (*len < cap)
		*len += (size_t)n;
	return true;
}

static int sp_nix_spawn(char *const argv[], struct sp_nix_run *run, struct sp_diags *diags)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	struct sp_err spawn_err;
	struct pollfd p[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		sp_diag_error(diags, NULL, "cannot run nix-instantiate: %s", strerror(errno));
		goto fail;
	}
	/* The user's environment: Nix finds its configuration, store and
	 * search path (NIX_PATH) there.  argv[0] is the path found in PATH:
	 * even ENOENT then means that it cannot run (a script whose
	 * interpreter is missing), not that it is not installed. */
	struct sp_spawn s = {.argv = argv, .envp = environ, .in = -1, .out = out[1], .err = err[1]};
	if (sp_spawn_start(&s, &pid, &spawn_err) < 0) {
		sp_diag_error(diags, NULL, "%s", spawn_err.msg);
		goto fail;
	}
	sp_close(&out[1]);
	sp_close(&err[1]);

	/* Both pipes at once: Nix may fill either while we wait on the other. */
	p[0] = (struct pollfd){.fd = out[0], .events = POLLIN};
	p[1] = (struct pollfd){.fd = err[0], .events = POLLIN};
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents &&
		    !sp_nix_drain(p[0].fd, run->out, SP_LIMIT_FILE_BYTES + 1, &run->out_len)) {
			close(p[0].fd);
			p[0].fd = -1;
		}
		if (p[0].fd >= 0 && run->out_len > SP_LIMIT_FILE_BYTES) {
			/* No configuration is this big: stop Nix, not just reading. */
			run->too_big = true;
			kill(pid, SIGKILL);
			close(p[0].fd);
			p[0].fd = -1;
		}
		if (p[1].revents &&
		    !sp_nix_drain(p[1].fd, run->err, SP_NIX_STDERR_MAX, &run->err_len)) {
			close(p[1].fd);
			p[1].fd = -1;
		}
	}
	out[0] = p[0].fd;
	err[0] = p[1].fd;
	sp_close(&out[0]);
	sp_close(&err[0]);
	run->err[run->err_len] = '\0';
	if (sp_spawn_wait(pid, &run->status) < 0) {
		sp_diag_error(diags, NULL, "cannot wait for nix-instantiate: %s", strerror(errno));
		return -1;
	}
	return 0;

fail:
	sp_close(&out[0]);
	sp_close(&out[1]);
	sp_close(&err[0]);
	sp_close(&err[1]);
	return -1;
}

/* --- what Nix said --- */

/* Removes terminal colour sequences (ESC [ ... letter), makes a tab a
 * space and every other control character but the newline a '?': one
 * problem, one line. */
static void sp_nix_clean(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == 0x1b && p[1] == '[') {
			p += 2;
			while (*p && !(*p >= 0x40 && *p <= 0x7e))
				p++;
			if (!*p)
				break;
			continue;
		}
		if (c == '\t')
			c = ' ';
		*o++ = (c < 0x20 && c != '\n') || c == 0x7f ? '?' : (char)c;
	}
	*o = '\0';
}

static char *sp_trim(char *s)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	return s;
}

static bool sp_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * One line of the library, "PLACE: MESSAGE", where PLACE may hold quoted
 * keys ("a: b" is a key): the place ends at the first ": " outside quotes.
 */
static void sp_nix_library_line(char *line, struct sp_diags *diags)
{
	unsigned long more;
	bool quoted = false;
	char *p, *end;

	for (p = line; *p; p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && p[0] == ':' && p[1] == ' ')
			break;
	}
	/* The library lists at most as many problems as a diagnostic list
	 * holds, then counts the rest. */
	more = strtoul(line, &end, 10);
	if (!*p && end != line && strcmp(end, " more problems not shown") == 0) {
		diags->errors += more;
		diags->dropped += more;
		return;
	}
	if (!*p || p == line) {
		sp_diag_error(diags, NULL, "%s", line);
		return;
	}
	*p = '\0';
	sp_diag_error(diags, line, "%s", p + 2);
}

/*
 * "at /dir/x.nix:3:12:" -> place "3:12" when the position is in FILE
 * itself (as a JSON syntax error's place is), else "/dir/y.nix:3:12".
 */
static bool sp_nix_position(const char *line, const char *file, char *place, size_t len)
{
	char buf[PATH_MAX + 64], self[PATH_MAX];
	char *col, *row;
	size_t n;

	if (!sp_starts(line, "at ") || strlen(line + 3) >= sizeof(buf))
		return false;
	strcpy(buf, line + 3);
	n = strlen(buf);
	if (n && buf[n - 1] == ':')
		buf[--n] = '\0';
	col = strrchr(buf, ':');
	if (!col || col == buf || !col[1] || strspn(col + 1, "0123456789") != strlen(col + 1))
		return false;
	*col++ = '\0';
	row = strrchr(buf, ':');
	if (!row || row == buf || !row[1] || strspn(row + 1, "0123456789") != strlen(row + 1))
		return false;
	*row++ = '\0';
	if (realpath(file, self) && strcmp(self, buf) == 0)
		snprintf(place, len, "%s:%s", row, col);
	else
		snprintf(place, len, "%s:%s:%s", buf, row, col);
	return true;
}

/*
 * Nix runs with --show-trace: after an error's message and its own
 * position come traces, each starting with this, which only name a data
 * file (the library's context, nix/data.nix) for us.
 */
static const char sp_nix_trace[] = "\xe2\x80\xa6 "; /* "… " */
static const char sp_nix_data_context[] = "\xe2\x80\xa6 while reading the Spectrum data file ";

/*
 * An error of Nix's JSON parser on a data file that a Nix file imports:
 * "[json.exception.parse_error.101] parse error at line 3, column 50: WHY"
 * names neither the file nor the place as ours do.  The place becomes
 * PATH:LINE:COLUMN and the message "invalid JSON: WHY", as for a data file
 * given itself; any other error while reading it is placed at PATH.
 */
static void sp_nix_data_error(const char *path, char *msg, size_t msglen, char *place, size_t len)
{
	unsigned line, col;
	int off = -1;
	char why[1024];

	if (sscanf(msg, "[json.exception.parse_error.%*u] parse error at line %u, column %u: %n",
		   &line, &col, &off) == 2 &&
	    off > 0) {
		snprintf(place, len, "%s:%u:%u", path, line, col);
		snprintf(why, sizeof(why), "invalid JSON: %s", msg + off);
		snprintf(msg, msglen, "%s", why);
	} else {
		snprintf(place, len, "%s", path);
	}
}

/* Failures of the machine, not of the Nix code: exit status 3. */
static bool sp_nix_system_error(const char *msg)
{
	static const char *const signs[] = {
		"Permission denied",	   "cannot connect to",	    "opening lock file",
		"No space left on device", "Read-only file system", "Too many open files",
		"Cannot allocate memory",  "out of memory",	    NULL,
	};

	for (const char *const *s = signs; *s; s++)
		if (strstr(msg, *s))
			return true;
	return false;
}

/*
 * Nix reports an evaluation error as
 *
 *   error: MESSAGE
 *          MORE MESSAGE
 *
 *          at FILE:LINE:COLUMN:
 *          (source excerpt)
 *          Did you mean X?
 *
 * The message becomes the diagnostic; the position its place.
 */
static enum sp_nix_result sp_nix_errors(char *text, int status, const char *file,
					struct sp_diags *diags)
{
	char *lines[SP_NIX_LINES_MAX];
	size_t n = 0, e, i;
	char msg[1024], place[PATH_MAX + 64], *hint = NULL, *data_file = NULL;
	bool positioned = false, traced = false;
	size_t o = 0;

	sp_nix_clean(text);
	for (char *s = text; *s && n < SP_NIX_LINES_MAX;) {
		char *nl = strchr(s, '\n');
		lines[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	for (e = 0; e < n && !sp_starts(lines[e], "error: "); e++)
		;
	if (e == n) {
		/* Not an evaluation error: Nix itself failed. */
		for (i = 0; i < n && !*sp_trim(lines[i]); i++)
			;
		sp_diag_error(diags, NULL, "nix-instantiate failed with exit status %d: %s", status,
			      i < n ? sp_trim(lines[i]) : "no message");
		return SP_NIX_SYSTEM;
	}

	/* The Spectrum library's own problems: one per line.  Nix indents the
	 * lines that continue a message; anything else is not part of it. */
	if (sp_starts(lines[e] + 7, sp_nix_prefix)) {
		for (i = e; i < n; i++) {
			char *l = sp_trim(i == e ? lines[i] + 7 : lines[i]);
			if (!*l || (i > e && lines[i][0] != ' '))
				break;
			if (sp_starts(l, sp_nix_prefix))
				sp_nix_library_line(l + strlen(sp_nix_prefix), diags);
		}
		return SP_NIX_INVALID;
	}

	/* Any other error of Nix: its message on one line, and where. */
	msg[0] = '\0';
	for (i = e; i < n; i++) {
		char *l = sp_trim(i == e ? lines[i] + 7 : lines[i]);
		if (!*l || (i > e && lines[i][0] != ' '))
			break;
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s%s", o ? " " : "", l);
		if (o >= sizeof(msg))
			o = sizeof(msg) - 1;
	}
	for (; i < n; i++) {
		char *l = sp_trim(lines[i]);
		traced = traced || sp_starts(l, sp_nix_trace);
		if (sp_starts(l, "error: "))
			break; /* a second error: the first is the one */
		if (traced && !data_file && sp_starts(l, sp_nix_data_context))
			data_file = l + strlen(sp_nix_data_context);
		else if (traced)
			continue; /* positions of the trace are not the error's */
		else if (!positioned && sp_nix_position(l, file, place, sizeof(place)))
			positioned = true;
		else if (sp_starts(l, "Did you mean ") && !hint)
			hint = l;
	}
	if (data_file && !positioned) {
		sp_nix_data_error(data_file, msg, sizeof(msg), place, sizeof(place));
		positioned = true;
	}
	if (hint)
		sp_diag_error(diags, positioned ? place : NULL, "%s; did you mean %s", msg,
			      hint + strlen("Did you mean "));
	else
		sp_diag_error(diags, positioned ? place : NULL, "%s", msg);
	return !positioned && sp_nix_system_error(msg) ? SP_NIX_SYSTEM : SP_NIX_INVALID;
}

/* --- the data files read, and their own errors --- */

static const char sp_nix_data_trace[] = "trace: spectrum-data-file: ";

void sp_nix_data_fini(struct sp_nix_data *data)
{
	for (size_t i = 0; i < data->n; i++)
		free(data->files[i]);
	data->n = 0;
}

/* One trace line of nix/data.nix.  The Nix code is the user's own: a line
 * it makes up names a file the user may read anyway, which is only read
 * and checked (sp_config_load refuses what is not a regular file). */
static void sp_nix_data_add(const char *line, struct sp_nix_data *data)
{
	const char *path = line + strlen(sp_nix_data_trace);

	if (!sp_starts(line, sp_nix_data_trace) || path[0] != '/' || data->n == SP_NIX_DATA_MAX)
		return;
	for (size_t i = 0; i < data->n; i++)
		if (strcmp(data->files[i], path) == 0)
			return; /* imported twice: checked once */
	data->files[data->n++] = sp_xstrdup(path);
}

/* The trace lines in TEXT (cleaned by sp_nix_clean), left as they are. */
static void sp_nix_data_read(const char *text, struct sp_nix_data *data)
{
	char line[PATH_MAX + sizeof(sp_nix_data_trace)];

	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (n < sizeof(line)) {
			memcpy(line, s, n);
			line[n] = '\0';
			sp_nix_data_add(line, data);
		}
		if (!nl)
			break;
		s = nl + 1;
	}
}

/* Takes the first error of D at PLACE out of D. */
static bool sp_nix_take(struct sp_diags *d, const char *place)
{
	for (size_t i = 0; i < d->n; i++) {
		struct sp_diag *g = &d->v[i];

		if (g->sev != SP_SEV_ERROR || !g->place || strcmp(g->place, place) != 0)
			continue;
		free(g->place);
		free(g->msg);
		memmove(g, g + 1, (d->n - i - 1) * sizeof(*g));
		d->n--;
		d->errors--;
		return true;
	}
	return false;
}

/*
 * Only errors at the same place move: a place is a JSON path in both the
 * data file and the merged model, and the data file's message is the one
 * shown, word for word what `spectrum check FILE.json` says (its
 * did-you-mean may differ from the merged model's, which has more names).
 */
void sp_nix_blame_data(struct sp_diags *diags, const struct sp_nix_data *data,
		       void (*report)(const struct sp_diags *file_diags, void *arg), void *arg)
{
	for (size_t i = 0; i < data->n && diags->n; i++) {
		struct sp_diags own, found;

		sp_diags_init(&own, data->files[i]);
		sp_config_free(sp_config_load(data->files[i], &own));
		sp_diags_init(&found, data->files[i]);
		for (size_t j = 0; j < own.n; j++) {
			const struct sp_diag *g = &own.v[j];

			if (g->sev == SP_SEV_ERROR && g->place && sp_nix_take(diags, g->place))
				sp_diag_error(&found, g->place, "%s", g->msg);
		}
		if (found.n)
			report(&found, arg);
		sp_diags_fini(&found);
		sp_diags_fini(&own);
	}
}

enum sp_nix_result sp_nix_eval(const char *file, char **json, size_t *len, struct sp_nix_data *data,
			       struct sp_diags *diags)
{
	char prog[PATH_MAX], arg[PATH_MAX + 2];
	char *argv[16];
	size_t argc = 0;
	struct sp_nix_run *run;
	enum sp_nix_result rc;

	*json = NULL;
	*len = 0;
	data->n = 0;
	if (!sp_nix_readable(file, diags)) {
		diags->io_error = true;
		return SP_NIX_SYSTEM;
	}
	if (!sp_nix_find(prog, sizeof(prog)))
		return SP_NIX_MISSING;
	/* Nix reads "<x>" as a search path entry, a URL as something to
	 * download and "-x" as an option; "./x" is always the file. */
	if ((size_t)snprintf(arg, sizeof(arg), "%s%s", file[0] == '/' ? "" : "./", file) >=
	    sizeof(arg)) {
		sp_diag_error(diags, NULL, "cannot read the file: %s", strerror(ENAMETOOLONG));
		diags->io_error = true;
		return SP_NIX_SYSTEM;
	}
	/* The path found, whose base name Nix reads as the command. */
	argv[argc++] = prog;
	argv[argc++] = "--eval";
	argv[argc++] = "--strict";
	argv[argc++] = "--json";
	/* Traces name the data file whose JSON Nix could not parse. */
	argv[argc++] = "--show-trace";
	/* Evaluating a configuration must not build anything. */
	argv[argc++] = "--option";
	argv[argc++] = "allow-import-from-derivation";
	argv[argc++] = "false";
	/* Only root may open the local store; evaluation needs no store, and
	 * the dummy one lets every user evaluate. */
	if (geteuid() != 0) {
		argv[argc++] = "--store";
		argv[argc++] = "dummy://";
	}
	argv[argc++] = arg;
	argv[argc] = NULL;
	/* nix/data.nix names the data files it reads (sp_nix_data_read).
	 * Should this fail (no memory), none is named, and their errors are
	 * reported against FILE as the merged model's are. */
	(void)setenv("SPECTRUM_NIX_DATA_TRACE", "1", 1);

	run = sp_xmalloc(sizeof(*run));
	memset(run, 0, sizeof(*run));
	run->out = sp_xmalloc(SP_LIMIT_FILE_BYTES + 1);
	if (sp_nix_spawn(argv, run, diags) < 0) {
		diags->io_error = true;
		rc = SP_NIX_SYSTEM;
		goto out;
	}
	sp_nix_clean(run->err);
	sp_nix_data_read(run->err, data);
	if (run->too_big) {
		sp_diag_error(
			diags, NULL,
			"evaluates to more than %u KiB of JSON; a configuration this big is not a configuration",
			SP_LIMIT_FILE_BYTES >> 10);
		rc = SP_NIX_INVALID;
	} else if (WIFEXITED(run->status) && WEXITSTATUS(run->status) == 0) {
		*json = run->out;
		*len = run->out_len;
		run->out = NULL;
		rc = SP_NIX_OK;
	} else if (WIFSIGNALED(run->status)) {
		sp_diag_error(diags, NULL, "nix-instantiate was killed by signal %d (%s)",
			      WTERMSIG(run->status), strsignal(WTERMSIG(run->status)));
		diags->io_error = true;
		rc = SP_NIX_SYSTEM;
	} else {
		/* Nix may have printed part of the JSON before failing: the
		 * output is dropped, the error is what counts. */
		rc = sp_nix_errors(run->err, WEXITSTATUS(run->status), file, diags);
		if (rc == SP_NIX_SYSTEM)
			diags->io_error = true;
	}
out:
	free(run->out);
	free(run);
	return rc;
}

/* The directory relative paths in FILE start from. */
char *sp_nix_dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir;

	if (!slash)
		return sp_xstrdup(".");
	if (slash == file)
		return sp_xstrdup("/");
	dir = sp_xstrdup(file);
	dir[slash - file] = '\0';
	return dir;
}

struct sp_config *sp_nix_load(const char *file, struct sp_diags *d, char **json_out,
			      size_t *json_len, bool *missing,
			      void (*report)(const struct sp_diags *file_diags, void *arg),
			      void *arg)
{
	struct sp_config *cfg = NULL;
	struct sp_nix_data data;
	char *json = NULL, *dir;
	size_t len = 0;

	*missing = false;
	switch (sp_nix_eval(file, &json, &len, &data, d)) {
	case SP_NIX_OK:
		dir = sp_nix_dir_of(file);
		cfg = sp_config_parse(json, len, file, dir, d);
		free(dir);
		break;
	case SP_NIX_MISSING:
		*missing = true;
		break;
	case SP_NIX_INVALID:
	case SP_NIX_SYSTEM:
		break;
	}
	if (!cfg && d->errors && !d->io_error)
		sp_nix_blame_data(d, &data, report, arg);
	sp_nix_data_fini(&data);
	if (cfg && json_out) {
		*json_out = json;
		*json_len = len;
	} else {
		free(json);
	}
	return cfg;
}
