/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "diag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_diags_init(struct sp_diags *d, const char *file)
{
	memset(d, 0, sizeof(*d));
	d->file = sp_xstrdup(file ? file : "-");
}

void sp_diags_fini(struct sp_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].place);
		free(d->v[i].msg);
	}
	free(d->file);
	memset(d, 0, sizeof(*d));
}

void sp_diag_add(struct sp_diags *d, enum sp_severity sev, const char *place, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (sev == SP_SEV_ERROR)
		d->errors++;
	else if (sev == SP_SEV_WARNING)
		d->warnings++;
	/* A file with hundreds of errors is one broken file; the first
	 * SP_DIAG_MAX tell the story, and memory stays bounded. */
	if (d->n == SP_DIAG_MAX) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d->v[d->n].sev = sev;
	d->v[d->n].place = place ? sp_xstrdup(place) : NULL;
	d->v[d->n].msg = sp_xstrdup(buf);
	d->n++;
}

void sp_diag_format(const struct sp_diags *d, const struct sp_diag *g, char *buf, size_t len)
{
	const char *sev = g->sev == SP_SEV_ERROR   ? "error" :
			  g->sev == SP_SEV_WARNING ? "warning" :
						     "note";

	if (g->place)
		snprintf(buf, len, "%s: %s: %s: %s", d->file, g->place, sev, g->msg);
	else
		snprintf(buf, len, "%s: %s: %s", d->file, sev, g->msg);
}

int sp_diag_open_file(struct sp_diags *d, const char *file, const char *kind)
{
	mode_t type;
	int fd = sp_open_regular(file, 0, &type);

	if (fd >= 0)
		return fd;
	if (type)
		sp_diag_error(d, NULL, "the file is %s, not a regular file; give the path of %s",
			      sp_file_type_name(type), kind);
	else
		sp_diag_error(d, NULL, "cannot read the file: %s", strerror(errno));
	return -1;
}
