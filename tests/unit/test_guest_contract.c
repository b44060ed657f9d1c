/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two halves of the guest configuration checked against each other:
 * what the host writes (sp_guest_config, lib/guest.c) is what spectrum-init
 * parses (gi_config_parse, guest/gconfig.c), with nothing refused and
 * nothing lost.
 *
 * Each golden guest configuration (the cases of tests/golden/cases.txt
 * with --guest) is checked to be the writer's text for its plan, then fed
 * to the guest's parser, whose result must hold the plan's host name,
 * root, volumes, shares, networks, environment and commands.  Every
 * instance of the examples and of the golden data file goes through the
 * writer and the parser the same way.
 *
 *   test_guest_contract SOURCE_ROOT
 */
#include <arpa/inet.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gconfig.h"
#include "guest.h"
#include "model.h"
#include "plan.h"
#include "tap.h"

static const char *src;

/* The host of tests/golden/run.sh, without looking at this one. */
static const struct sp_host host = {
	.arch = SP_ARCH_X86_64,
	.accel_forced = true,
	.forced = SP_ACCEL_TCG,
	.tsc_khz = 2600000,
	.vmm_uid_base = 524288,
	.state_dir = "/var/lib/spectrum",
	.run_dir = "/run/spectrum",
};

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* A path of the source tree, as a message shows it. */
static const char *rel(const char *path)
{
	size_t n = strlen(src);

	return strncmp(path, src, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

static const struct gi_mount *find_mount(const struct gi_config *c, enum gi_mount_kind kind,
					 const char *source)
{
	for (size_t i = 0; i < c->nmounts; i++)
		if (c->mounts[i].kind == kind && strcmp(c->mounts[i].source, source) == 0)
			return &c->mounts[i];
	return NULL;
}

static size_t count_mounts(const struct gi_config *c, enum gi_mount_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nmounts; i++)
		n += c->mounts[i].kind == kind;
	return n;
}

/* Volume i of the plan is disk serial "vol<i>", the writer's naming. */
static bool same_volumes(const struct sp_plan *p, const struct gi_config *c)
{
	if (count_mounts(c, GI_MOUNT_VOLUME) != p->ndisks)
		return false;
	for (size_t i = 0; i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		char serial[32];
		const struct gi_mount *m;

		snprintf(serial, sizeof(serial), "vol%zu", i);
		m = find_mount(c, GI_MOUNT_VOLUME, serial);
		if (!m || strcmp(m->path, d->guest_path) != 0 || strcmp(m->fstype, d->fs) != 0 ||
		    m->readonly != (d->mode == SP_MODE_RO))
			return false;
	}
	return true;
}

static bool same_shares(const struct sp_plan *p, const struct gi_config *c)
{
	if (count_mounts(c, GI_MOUNT_SHARE) != p->nshares)
		return false;
	for (size_t i = 0; i < p->nshares; i++) {
		const struct sp_plan_share *s = &p->shares[i];
		const struct gi_mount *m = find_mount(c, GI_MOUNT_SHARE, s->tag);

		if (!m || strcmp(m->path, s->guest_path) != 0 ||
		    m->readonly != (s->mode == SP_MODE_RO))
			return false;
	}
	return true;
}

/* Dotted decimal to host order, by libc rather than the guest's parser. */
static uint32_t ipv4(const char *s)
{
	struct in_addr a;

	return s[0] && inet_pton(AF_INET, s, &a) == 1 ? ntohl(a.s_addr) : 0;
}

static bool same_nets(const struct sp_plan *p, const struct gi_config *c)
{
	if (c->nnets != p->nnics)
		return false;
	for (size_t i = 0; i < p->nnics; i++) {
		const struct sp_plan_nic *n = &p->nics[i];
		const struct gi_net *g = &c->nets[i];

		if (strcmp(g->mac, n->mac) != 0 || g->address != ipv4(n->address) ||
		    g->prefix != n->prefix || g->gateway != ipv4(n->gateway))
			return false;
	}
	return true;
}

static bool same_env(const struct sp_plan *p, const struct gi_config *c)
{
	for (size_t i = 0; i < p->nenv; i++) {
		char want[4096];
		bool found = false;

		snprintf(want, sizeof(want), "%s=%s", p->env[i].name, p->env[i].value);
		for (size_t j = 0; j < c->nenv; j++)
			found = found || strcmp(c->env[j], want) == 0;
		if (!found)
			return false;
	}
	return c->env[c->nenv] == NULL;
}

static bool same_commands(const struct sp_plan *p, const struct gi_config *c)
{
	if (c->ncmds != p->ncommands)
		return false;
	for (size_t i = 0; i < p->ncommands; i++) {
		if (c->cmds[i].argc != p->commands[i].argc || c->cmds[i].argv[c->cmds[i].argc])
			return false;
		for (size_t j = 0; j < p->commands[i].argc; j++)
			if (strcmp(c->cmds[i].argv[j], p->commands[i].argv[j]) != 0)
				return false;
	}
	return true;
}

/* How many of the four scratch directories a binding takes the place of. */
static size_t bound_scratch(const struct sp_plan *p)
{
	static const char *const scratch[] = {"/run", "/tmp", "/var/tmp", "/home"};
	size_t n = 0;

	for (size_t i = 0; i < 4; i++) {
		for (size_t j = 0; j < p->ndisks; j++)
			n += strcmp(p->disks[j].guest_path, scratch[i]) == 0;
		for (size_t j = 0; j < p->nshares; j++)
			n += strcmp(p->shares[j].guest_path, scratch[i]) == 0;
	}
	return n;
}

/* The guest's parser on `text`, and what it made of the plan. */
static void check_parse(const char *place, const struct sp_plan *p, const char *text)
{
	struct gi_config c;
	char err[GI_ERR_MAX];
	int rc = gi_config_parse(text, strlen(text), &c, err, sizeof(err));

	TAP_OK(rc == 0, "%s: the guest parses it (%s)", place, rc ? err : "no error");
	if (rc == 0) {
		TAP_OK(strcmp(c.hostname, p->instance) == 0 &&
			       (c.root == GI_ROOT_PMEM) == p->root.shared,
		       "%s: host name and root", place);
		TAP_OK(same_volumes(p, &c), "%s: the same %zu volumes", place, p->ndisks);
		TAP_OK(same_shares(p, &c), "%s: the same %zu shares", place, p->nshares);
		TAP_OK(count_mounts(&c, GI_MOUNT_SCRATCH) == 4 - bound_scratch(p),
		       "%s: the scratch directories no binding takes", place);
		TAP_OK(same_nets(p, &c), "%s: the same %zu networks", place, p->nnics);
		TAP_OK(same_env(p, &c), "%s: the %zu variables", place, p->nenv);
		TAP_OK(same_commands(p, &c), "%s: the same %zu commands", place, p->ncommands);
	}
	gi_config_free(&c);
}

struct compiled {
	struct sp_config *cfg;
	struct sp_plans *plans; /* points into cfg (commands, environment) */
};

static bool compile(const char *file, const char *only, int hv, struct compiled *out)
{
	struct sp_err err = {0};
	struct sp_diags d;
	const char *why;

	sp_diags_init(&d, file);
	out->cfg = sp_config_load(file, &d);
	out->plans = out->cfg ? sp_plan_compile(out->cfg, &host, only, hv, &err) : NULL;
	why = out->plans ? "" : out->cfg ? err.msg : "the data file is refused";
	TAP_OK(out->plans != NULL, "%s %s: compiles%s%s", rel(file),
	       only ? only : "(every instance)", why[0] ? ": " : "", why);
	sp_diags_fini(&d);
	return out->plans != NULL;
}

static void compiled_free(struct compiled *c)
{
	if (c->plans)
		sp_plans_free(c->plans);
	if (c->cfg)
		sp_config_free(c->cfg);
}

/*
 * A golden file holds "exit 0", then for each plan a "# INSTANCE: INITRD"
 * line and the configuration, with a blank line between plans
 * (configuration lines never start with "#").
 */
static void check_golden(const char *name, const char *file, const char *only, int hv)
{
	char path[4096], place[256];
	struct compiled c = {0};
	char *golden, *s;
	size_t i;

	snprintf(path, sizeof(path), "%s/tests/golden/expected/%s.out", src, name);
	golden = read_text(path);
	TAP_OK(golden && strncmp(golden, "exit 0\n# ", 9) == 0, "%s: a golden file that exits 0",
	       name);
	if (!golden || strncmp(golden, "exit 0\n# ", 9) != 0 || !compile(file, only, hv, &c))
		goto out;
	s = golden + strlen("exit 0\n");
	for (i = 0; i < c.plans->n && s; i++) {
		const struct sp_plan *p = &c.plans->v[i];
		size_t len = strlen(p->instance);
		char *body = strchr(s, '\n'), *next, *want;

		snprintf(place, sizeof(place), "%s: %s", name, p->instance);
		if (!body || strncmp(s, "# ", 2) != 0 || strncmp(s + 2, p->instance, len) != 0 ||
		    s[2 + len] != ':')
			break;
		body++;
		next = strstr(body, "\n\n# ");
		if (next)
			next[1] = '\0';
		want = sp_guest_config(p);
		TAP_STR(body, want, "%s: the golden text is the writer's", place);
		free(want);
		check_parse(place, p, body);
		s = next ? next + 2 : NULL;
	}
	TAP_OK(i == c.plans->n && !s, "%s: one configuration for each of the %zu plans, in order",
	       name, c.plans->n);
out:
	compiled_free(&c);
	free(golden);
}

/* @HERE@ and @SRC@ of cases.txt, at the start of a word. */
static void expand(const char *word, char *out, size_t len)
{
	if (strncmp(word, "@HERE@", 6) == 0)
		snprintf(out, len, "%s/tests/golden%s", src, word + 6);
	else if (strncmp(word, "@SRC@", 5) == 0)
		snprintf(out, len, "%s%s", src, word + 5);
	else
		snprintf(out, len, "%s", word);
}

/* One line of cases.txt, "NAME [VAR=VALUE...] FILE [INSTANCE] [--hypervisor
 * NAME] --guest"; false if it is not a guest case. */
static bool golden_case(char *line)
{
	char *words[16], *save = NULL, file[4096] = "";
	const char *only = NULL;
	size_t n = 0;
	enum sp_hv hv;
	int hv_override = -1;

	for (char *w = strtok_r(line, " \t", &save); w && n < 16; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n < 3 || words[0][0] == '#' || strcmp(words[n - 1], "--guest") != 0)
		return false;
	for (size_t i = 1; i < n - 1; i++) {
		if (words[i][0] >= 'A' && words[i][0] <= 'Z' && strchr(words[i], '='))
			continue; /* the environment: no part of a guest's configuration */
		if (strcmp(words[i], "--hypervisor") == 0 && i + 2 < n &&
		    sp_hv_parse(words[i + 1], &hv) == 0) {
			hv_override = (int)hv;
			i++;
		} else if (!file[0]) {
			expand(words[i], file, sizeof(file));
		} else {
			only = words[i];
		}
	}
	check_golden(words[0], file, only, hv_override);
	return true;
}

static void check_golden_cases(void)
{
	char path[4096], *cases, *save = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/tests/golden/cases.txt", src);
	cases = read_text(path);
	TAP_OK(cases != NULL, "%s is read", rel(path));
	if (!cases)
		return;
	for (char *l = strtok_r(cases, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		n += golden_case(l);
	TAP_OK(n >= 4, "%zu golden guest configurations", n);
	free(cases);
}

/* Every instance of a data file, through the writer and the parser. */
static void check_file(const char *file)
{
	struct compiled c = {0};
	char place[4096];

	if (compile(file, NULL, -1, &c)) {
		for (size_t i = 0; i < c.plans->n; i++) {
			char *text = sp_guest_config(&c.plans->v[i]);
			snprintf(place, sizeof(place), "%s: %s", strrchr(file, '/') + 1,
				 c.plans->v[i].instance);
			check_parse(place, &c.plans->v[i], text);
			free(text);
		}
	}
	compiled_free(&c);
}

int main(int argc, char **argv)
{
	char path[4096];
	glob_t g;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	src = argv[1];
	check_golden_cases();
	snprintf(path, sizeof(path), "%s/tests/golden/full.json", src);
	check_file(path);
	snprintf(path, sizeof(path), "%s/examples/*.json", src);
	/* TAP_OK evaluates its condition twice: glob once, before it. */
	rc = glob(path, 0, NULL, &g);
	TAP_OK(rc == 0 && g.gl_pathc > 0, "%s: the examples", rel(path));
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		check_file(g.gl_pathv[i]);
	if (rc == 0)
		globfree(&g);
	return tap_done();
}
