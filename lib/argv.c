/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_argv_init(struct sp_argv *a)
{
	a->cap = 16;
	a->n = 0;
	a->v = sp_xmalloc(a->cap * sizeof(char *));
}

void sp_argv_free(struct sp_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static void sp_argv_take(struct sp_argv *a, char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap *= 2;
		a->v = sp_xrealloc(a->v, a->cap, sizeof(char *));
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void sp_argv_add(struct sp_argv *a, const char *s)
{
	sp_argv_take(a, sp_xstrdup(s));
}

static char *sp_vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *sp_vformat(const char *fmt, va_list ap)
{
	va_list ap2;
	int len;
	char *s;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		len = 0;
	s = sp_xmalloc((size_t)len + 1);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	return s;
}

void sp_argv_addf(struct sp_argv *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_argv_take(a, sp_vformat(fmt, ap));
	va_end(ap);
}

void sp_argv_opt(struct sp_argv *a, const char *opt, const char *fmt, ...)
{
	va_list ap;

	sp_argv_add(a, opt);
	va_start(ap, fmt);
	sp_argv_take(a, sp_vformat(fmt, ap));
	va_end(ap);
}

static bool sp_shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-_./:=,+@%", c)))
			return false;
	}
	return true;
}

char *sp_shell_quote(const char *s)
{
	size_t len = 2, o = 0;
	char *q;

	if (sp_shell_safe(s))
		return sp_xstrdup(s);
	for (const char *p = s; *p; p++)
		len += *p == '\'' ? 4 : 1;
	q = sp_xmalloc(len + 1);
	q[o++] = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			/* close, escaped quote, reopen */
			memcpy(q + o, "'\\''", 4);
			o += 4;
		} else {
			q[o++] = *p;
		}
	}
	q[o++] = '\'';
	q[o] = '\0';
	return q;
}
