/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian packages through apt: the dependency closure, candidate versions
 * and the cache of .deb files.
 *
 * apt runs as if ARCH were the native (and only) architecture, with a
 * binary package cache of its own:
 *
 *   -o APT::Architecture=ARCH -o APT::Architectures=ARCH
 *   -o Dir::Cache::pkgcache=$SPECTRUM_CACHE_DIR/apt/pkgcache-ARCH.bin
 *   -o Dir::Cache::srcpkgcache=
 *
 * so every dependency names a package of ARCH (or "all"), the host's
 * installed packages of other architectures play no part, and the host's
 * own apt cache is neither used nor rewritten.  apt rebuilds the file
 * when its lists change; keeping it saves a second or more per call.
 *
 * The closure: `apt-cache depends --recurse` (Depends and Pre-Depends only)
 * lists every package reachable through any alternative; from it the
 * closure is walked from the requested packages, taking of each group of
 * alternatives ("a | b") one already chosen or requested, else the first
 * real package, else the first provider of a virtual one, as apt would
 * for a fresh system (apt would also weigh priorities and installed
 * packages; name a package with -p to prefer it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* --- names ------------------------------------------------------------ */

bool si_pkg_name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len < 2 || len > 128)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("+.-", s[i])))
			return false;
	return true;
}

/* [epoch:]upstream[-revision]: alphanumerics and . + ~ - : */
bool si_pkg_version_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 128 || s[0] < '0' || s[0] > '9')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr(".+~-:", s[i])))
			return false;
	return true;
}

/* As apt-get download names them: the epoch's ':' quoted as %3a. */
char *si_deb_file_name(struct sp_arena *a, const char *name, const char *version, const char *arch)
{
	char *v = sp_arena_alloc(a, 3 * strlen(version) + 1), *o = v;

	for (const char *p = version; *p; p++) {
		if (*p == ':') {
			memcpy(o, "%3a", 3);
			o += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return sp_arena_printf(a, "%s_%s_%s.deb", name, v, arch);
}

/* --- running apt ------------------------------------------------------ */

struct si_args {
	char **v;
	size_t n, cap;
};

static void si_args_add(struct si_args *args, const char *s)
{
	if (args->n + 2 > args->cap) {
		args->cap = args->cap ? 2 * args->cap : 32;
		args->v = sp_xrealloc(args->v, args->cap, sizeof(*args->v));
	}
	args->v[args->n++] = (char *)s;
	args->v[args->n] = NULL;
}

static int si_apt_args(struct sp_arena *a, struct si_args *args, const char *tool, enum sp_arch arch,
		       struct sp_err *e)
{
	const char *da = si_deb_arch(arch);
	char *dir = sp_arena_printf(a, "%s/apt", si_cache_dir());

	if (si_mkdirs(dir, 0755, e) != 0)
		return -1;
	si_args_add(args, tool);
	si_args_add(args, "-o");
	si_args_add(args, sp_arena_printf(a, "APT::Architecture=%s", da));
	si_args_add(args, "-o");
	si_args_add(args, sp_arena_printf(a, "APT::Architectures=%s", da));
	si_args_add(args, "-o");
	si_args_add(args, sp_arena_printf(a, "Dir::Cache::pkgcache=%s/pkgcache-%s.bin", dir, da));
	si_args_add(args, "-o");
	si_args_add(args, "Dir::Cache::srcpkgcache=");
	return 0;
}

/* --- the closure -------------------------------------------------------- */

struct si_alt {
	char *name;
	bool virt;
	char **prov;
	size_t nprov, capprov;
};

struct si_group {
	struct si_alt *alt;
	size_t nalt, capalt;
};

struct si_node {
	char *name;
	bool virt;
	bool selected;
	struct si_group *g;
	size_t ng, capg;
};

struct si_graph {
	struct si_node **slot;
	size_t nslot; /* power of two */
};

static void *si_grow(struct sp_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
	void *nv;

	if (n < *cap)
		return v;
	*cap = *cap ? 2 * *cap : 4;
	nv = sp_arena_array(a, *cap, size);
	if (n)
		memcpy(nv, v, n * size);
	return nv;
}

static struct si_node **si_graph_slot(struct si_graph *gr, const char *name)
{
	size_t i = (size_t)sp_hash64(name, 0) & (gr->nslot - 1);

	while (gr->slot[i] && strcmp(gr->slot[i]->name, name) != 0)
		i = (i + 1) & (gr->nslot - 1);
	return &gr->slot[i];
}

static struct si_node *si_graph_get(struct si_graph *gr, const char *name)
{
	return *si_graph_slot(gr, name);
}

/* Strips "<...>" from a virtual package's name. */
static char *si_unbracket(char *s, bool *virt)
{
	size_t len = strlen(s);

	*virt = len >= 2 && s[0] == '<' && s[len - 1] == '>';
	if (*virt) {
		s[len - 1] = '\0';
		s++;
	}
	return s;
}

/*
 * Output of apt-cache depends:
 *
 *   jq                       a package ("<name>" if virtual)
 *     Depends: libjq1         a dependency
 *    |PreDepends: debconf     an alternative, or'ed with the next line
 *     PreDepends: <debconf-2.0>
 *       cdebconf              the packages that provide it
 *       debconf
 */
static void si_graph_parse(struct sp_arena *a, struct si_graph *gr, char *text)
{
	size_t headers = 0;
	struct si_node *cur = NULL;
	struct si_alt *alt = NULL;
	bool continues = false;

	for (const char *p = text; *p; p++)
		if ((p == text || p[-1] == '\n') && *p != ' ')
			headers++;
	gr->nslot = 64;
	while (gr->nslot < 2 * headers + 2)
		gr->nslot *= 2;
	gr->slot = sp_arena_array(a, gr->nslot, sizeof(*gr->slot));

	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] != ' ') {
			bool virt;
			char *name = si_unbracket(line, &virt);
			struct si_node **slot = si_graph_slot(gr, name);

			if (*slot) { /* a second stanza would add nothing */
				cur = NULL;
				continue;
			}
			cur = *slot = sp_arena_alloc(a, sizeof(**slot));
			cur->name = name;
			cur->virt = virt;
			alt = NULL;
			continues = false;
		} else if (strncmp(line, "    ", 4) == 0) {
			if (cur && alt) {
				alt->prov = si_grow(a, alt->prov, alt->nprov, &alt->capprov, sizeof(char *));
				alt->prov[alt->nprov++] = line + 4;
			}
		} else if (cur) {
			bool or_next = line[1] == '|';
			char *colon = strstr(line, ": ");
			struct si_group *g;

			alt = NULL;
			if (!colon)
				continue;
			*colon = '\0';
			if (strcmp(line + 2, "Depends") != 0 && strcmp(line + 2, "PreDepends") != 0) {
				continues = false;
				continue;
			}
			if (!continues) {
				cur->g = si_grow(a, cur->g, cur->ng, &cur->capg, sizeof(*cur->g));
				memset(&cur->g[cur->ng++], 0, sizeof(*cur->g));
			}
			g = &cur->g[cur->ng - 1];
			g->alt = si_grow(a, g->alt, g->nalt, &g->capalt, sizeof(*g->alt));
			alt = &g->alt[g->nalt++];
			memset(alt, 0, sizeof(*alt));
			alt->name = si_unbracket(colon + 2, &alt->virt);
			continues = or_next;
		}
	}
}

static struct si_node *si_real(struct si_graph *gr, const char *name)
{
	struct si_node *n = si_graph_get(gr, name);

	return n && !n->virt ? n : NULL;
}

static struct si_node *si_choose(struct si_graph *gr, const struct si_group *g)
{
	struct si_node *n;

	for (size_t i = 0; i < g->nalt; i++) {
		const struct si_alt *alt = &g->alt[i];

		if (!alt->virt && (n = si_real(gr, alt->name)) && n->selected)
			return n;
		for (size_t j = 0; alt->virt && j < alt->nprov; j++)
			if ((n = si_real(gr, alt->prov[j])) && n->selected)
				return n;
	}
	for (size_t i = 0; i < g->nalt; i++)
		if (!g->alt[i].virt && (n = si_real(gr, g->alt[i].name)))
			return n;
	for (size_t i = 0; i < g->nalt; i++)
		for (size_t j = 0; g->alt[i].virt && j < g->alt[i].nprov; j++)
			if ((n = si_real(gr, g->alt[i].prov[j])))
				return n;
	return NULL;
}

static int si_cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Whether dpkg (and so apt's lists) knows the architecture at all. */
static bool si_arch_configured(enum sp_arch arch)
{
	static const char *const opts[] = {"--print-architecture", "--print-foreign-architectures"};
	struct sp_err ignore = {0};
	char path[4096];

	snprintf(path, sizeof(path), "%s/arches.txt", si_tmp_dir());
	for (size_t i = 0; i < 2; i++) {
		char *argv[] = {"dpkg", (char *)opts[i], NULL}, line[64];
		FILE *f;

		if (si_run(argv, NULL, path, &ignore) != 0 || !(f = fopen(path, "r")))
			return true; /* cannot tell: say nothing about it */
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (strcmp(line, si_deb_arch(arch)) == 0) {
				fclose(f);
				return true;
			}
		}
		fclose(f);
	}
	return false;
}

static int si_unknown(enum sp_arch arch, const char *name, struct sp_err *e)
{
	if (!si_arch_configured(arch))
		return si_fail(e, SI_EXIT_FAIL,
			       "apt has no packages for %s; add them with dpkg --add-architecture %s && apt-get update",
			       sp_arch_name(arch), si_deb_arch(arch));
	return si_fail(e, SI_EXIT_FAIL,
		       "package '%s' is not known to apt for %s; check the name with apt-cache policy %s:%s "
		       "(and run apt-get update)",
		       name, sp_arch_name(arch), name, si_deb_arch(arch));
}

/* Fills the versions, digests and file names from apt-cache show. */
static int si_apt_show(struct sp_arena *a, enum sp_arch arch, struct si_pkg *pkgs, size_t n, struct sp_err *e)
{
	struct si_args args = {0};
	char *out = sp_arena_printf(a, "%s/show.txt", si_tmp_dir()), *text;
	int rc;

	if (si_apt_args(a, &args, "apt-cache", arch, e) != 0)
		return -1;
	si_args_add(&args, "show");
	si_args_add(&args, "--no-all-versions");
	for (size_t i = 0; i < n; i++)
		si_args_add(&args, pkgs[i].name);
	rc = si_run(args.v, NULL, out, e);
	free(args.v);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return si_fail(e, SI_EXIT_FAIL, "apt-cache show failed: %s", si_run_stderr());
	if (!(text = si_read_file(a, out, 1ull << 30, NULL, e)))
		return -1;

	/* Stanzas are separated by empty lines; continuation lines start
	 * with a space and are skipped. */
	struct si_pkg cur = {0};
	for (char *line = text, *next;; line = next) {
		bool end = !line || *line == '\0' || *line == '\n';

		next = line ? strchr(line, '\n') : NULL;
		if (next)
			*next++ = '\0';
		if (end) {
			if (cur.name) {
				for (size_t i = 0; i < n; i++)
					if (strcmp(pkgs[i].name, cur.name) == 0 && !pkgs[i].version) {
						pkgs[i].version = cur.version;
						pkgs[i].arch = cur.arch;
						pkgs[i].sha256 = cur.sha256;
						pkgs[i].file = cur.file; /* the pool path, for now */
						break;
					}
			}
			memset(&cur, 0, sizeof(cur));
			if (!line || !next)
				break;
			continue;
		}
		if (strncmp(line, "Package: ", 9) == 0)
			cur.name = line + 9;
		else if (strncmp(line, "Version: ", 9) == 0)
			cur.version = line + 9;
		else if (strncmp(line, "Architecture: ", 14) == 0)
			cur.arch = line + 14;
		else if (strncmp(line, "SHA256: ", 8) == 0)
			cur.sha256 = line + 8;
		else if (strncmp(line, "Filename: ", 10) == 0)
			cur.file = line + 10;
	}
	for (size_t i = 0; i < n; i++) {
		struct si_pkg *p = &pkgs[i];

		if (!p->version)
			return si_unknown(arch, p->name, e);
		if (!p->file || !p->sha256 || strlen(p->sha256) != 64 || !p->arch)
			return si_fail(e, SI_EXIT_FAIL,
				       "package '%s' %s has no archive to download it from; run apt-get update",
				       p->name, p->version);
		if (!si_pkg_version_valid(p->version) ||
		    (strcmp(p->arch, "all") != 0 && strcmp(p->arch, si_deb_arch(arch)) != 0))
			return si_fail(e, SI_EXIT_FAIL, "apt-cache show gave an unexpected record for '%s'",
				       p->name);
		p->file = si_deb_file_name(a, p->name, p->version, p->arch);
	}
	return 0;
}

int si_apt_resolve(struct sp_arena *a, enum sp_arch arch, char *const *names, size_t nnames,
		   struct si_pkg **out, size_t *nout, struct sp_err *e)
{
	struct si_args args = {0};
	char *path = sp_arena_printf(a, "%s/depends.txt", si_tmp_dir()), *text;
	struct si_graph gr = {0};
	struct si_node **queue;
	size_t nqueue = 0, nsel;
	size_t len;
	int rc;

	if (si_apt_args(a, &args, "apt-cache", arch, e) != 0)
		return -1;
	si_args_add(&args, "depends");
	si_args_add(&args, "--recurse");
	si_args_add(&args, "--no-recommends");
	si_args_add(&args, "--no-suggests");
	si_args_add(&args, "--no-conflicts");
	si_args_add(&args, "--no-breaks");
	si_args_add(&args, "--no-replaces");
	si_args_add(&args, "--no-enhances");
	for (size_t i = 0; i < nnames; i++)
		si_args_add(&args, names[i]);
	rc = si_run(args.v, NULL, path, e);
	free(args.v);
	if (rc < 0)
		return -1;
	if (!(text = si_read_file(a, path, 1ull << 30, &len, e)))
		return -1;
	if (rc != 0 && len == 0 && strstr(si_run_stderr(), "No packages found"))
		return si_unknown(arch, names[0], e);
	if (rc != 0)
		return si_fail(e, SI_EXIT_FAIL, "apt-cache depends failed: %s", si_run_stderr());
	si_graph_parse(a, &gr, text);

	for (size_t i = 0; i < nnames; i++) {
		struct si_node *n = si_graph_get(&gr, names[i]);

		if (!n)
			return si_unknown(arch, names[i], e);
		if (n->virt)
			return si_fail(e, SI_EXIT_FAIL,
				       "package '%s' is virtual for %s; name a package that provides it "
				       "(apt-cache showpkg %s lists them under Reverse Provides)",
				       names[i], sp_arch_name(arch), names[i]);
		n->selected = true;
	}

	/* Breadth first from the requested packages, in the order given. */
	queue = sp_arena_array(a, gr.nslot, sizeof(*queue));
	for (size_t i = 0; i < nnames; i++) {
		struct si_node *n = si_graph_get(&gr, names[i]);
		bool dup = false;

		for (size_t j = 0; j < nqueue; j++)
			dup = dup || queue[j] == n;
		if (!dup)
			queue[nqueue++] = n;
	}
	for (size_t q = 0; q < nqueue; q++) {
		struct si_node *n = queue[q];

		for (size_t i = 0; i < n->ng; i++) {
			struct si_node *c = si_choose(&gr, &n->g[i]);

			if (!c) {
				const struct si_group *g = &n->g[i];
				char want[512] = "";

				for (size_t j = 0; j < g->nalt; j++)
					snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
						 j ? " | " : "", g->alt[j].name);
				return si_fail(e, SI_EXIT_FAIL,
					       "package '%s' depends on '%s', which no package for %s provides; "
					       "it cannot be installed on %s",
					       n->name, want, sp_arch_name(arch), sp_arch_name(arch));
			}
			if (!c->selected) {
				c->selected = true;
				queue[nqueue++] = c;
			}
		}
	}

	nsel = nqueue;
	char **sel = sp_arena_array(a, nsel, sizeof(*sel));
	for (size_t i = 0; i < nsel; i++)
		sel[i] = queue[i]->name;
	qsort(sel, nsel, sizeof(*sel), si_cmp_str);
	*out = sp_arena_array(a, nsel, sizeof(**out));
	for (size_t i = 0; i < nsel; i++) {
		if (!si_pkg_name_valid(sel[i]))
			return si_fail(e, SI_EXIT_FAIL, "apt-cache depends gave an unexpected package name '%s'",
				       sel[i]);
		(*out)[i].name = sel[i];
	}
	*nout = nsel;
	return si_apt_show(a, arch, *out, nsel, e);
}

/* --- the cache ---------------------------------------------------------- */

/* 1 if `path` holds the package, 0 if it is absent or damaged (removed). */
static int si_cached(const char *path, const char *sha256, struct sp_err *e)
{
	char hex[SI_SHA256_HEX];
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': %s", path, strerror(errno));
	}
	if (si_file_sha256(path, hex, NULL, e) != 0)
		return -1;
	if (strcmp(hex, sha256) == 0)
		return 1;
	if (unlink(path) != 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot remove the damaged '%s': %s", path, strerror(errno));
	return 0;
}

/* Checks one package apt-get download wrote into `partial` and moves it
 * into the cache. */
static int si_fetched(struct sp_arena *a, const struct si_pkg *p, const char *partial,
		      const char *debdir, struct sp_err *e)
{
	char *from = sp_arena_printf(a, "%s/%s", partial, p->file),
	     *to = sp_arena_printf(a, "%s/%s", debdir, p->file);
	char hex[SI_SHA256_HEX];

	if (access(from, F_OK) != 0)
		return si_fail(e, SI_EXIT_FAIL,
			       "apt-get download did not write %s; run apt-get update", p->file);
	if (si_file_sha256(from, hex, NULL, e) != 0)
		return -1;
	if (strcmp(hex, p->sha256) != 0)
		return si_fail(
			e, SI_EXIT_FAIL,
			"the file does not match apt's SHA256; run apt-get update and build again");
	if (rename(from, to) != 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot move '%s' into '%s': %s", from, debdir,
			       strerror(errno));
	return 0;
}

int si_apt_fetch(struct sp_arena *a, enum sp_arch arch, const struct si_pkg *pkgs, size_t n,
		 const char *debdir, struct sp_err *e)
{
	bool *missing = sp_arena_array(a, n ? n : 1, sizeof(bool));
	size_t nmissing = 0;
	char *partial;
	struct si_args args = {0};
	int rc, ret = -1;

	if (si_mkdirs(debdir, 0755, e) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int c = si_cached(sp_arena_printf(a, "%s/%s", debdir, pkgs[i].file), pkgs[i].sha256, e);

		if (c < 0)
			return -1;
		missing[i] = !c;
		nmissing += !c;
	}
	si_progress("downloading %zu packages (%zu cached)", n, n - nmissing);
	if (nmissing == 0)
		return 0;

	/* Downloads land in a directory of their own in the cache and are
	 * moved in once whole and checked: the cache only ever holds
	 * complete files. */
	partial = sp_arena_printf(a, "%s/.partial.XXXXXX", debdir);
	if (!mkdtemp(partial))
		return si_fail(e, SI_EXIT_SYSTEM, "cannot create a directory in '%s': %s", debdir,
			       strerror(errno));
	if (si_apt_args(a, &args, "apt-get", arch, e) != 0)
		goto out;
	si_args_add(&args, "-q");
	if (geteuid() == 0) {
		/* apt's download sandbox user cannot write to a private
		 * directory; the download runs as root anyway */
		si_args_add(&args, "-o");
		si_args_add(&args, "APT::Sandbox::User=root");
	}
	si_args_add(&args, "download");
	for (size_t i = 0; i < n; i++)
		if (missing[i])
			si_args_add(&args, sp_arena_printf(a, "%s=%s", pkgs[i].name, pkgs[i].version));
	rc = si_run(args.v, partial, NULL, e);
	if (rc < 0)
		goto out;
	if (rc != 0) {
		si_fail(e, SI_EXIT_FAIL, "downloading %zu packages failed (%s); check the network and run apt-get update",
			nmissing, si_run_stderr());
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (missing[i] && si_fetched(a, &pkgs[i], partial, debdir, e) != 0) {
			sp_err_wrap(e, "downloading %s %s", pkgs[i].name, pkgs[i].version);
			goto out;
		}
	ret = 0;
out:
	free(args.v);
	si_rmtree(partial);
	return ret;
}

int si_cache_check(enum sp_arch arch, const struct si_pkg *pkgs, size_t n, const char *debdir,
		   struct sp_err *e)
{
	for (size_t i = 0; i < n; i++) {
		char path[4096], hex[SI_SHA256_HEX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", debdir, pkgs[i].file);
		if (lstat(path, &st) != 0)
			return si_fail(e, SI_EXIT_FAIL,
				       "the cached package %s %s (%s) is missing from %s; verify never downloads: "
				       "fetch it with apt-get download %s%s%s=%s in that directory",
				       pkgs[i].name, pkgs[i].version, pkgs[i].file, debdir, pkgs[i].name,
				       strcmp(pkgs[i].arch, "all") == 0 ? "" : ":",
				       strcmp(pkgs[i].arch, "all") == 0 ? "" : si_deb_arch(arch),
				       pkgs[i].version);
		if (si_file_sha256(path, hex, NULL, e) != 0)
			return -1;
		if (strcmp(hex, pkgs[i].sha256) != 0)
			return si_fail(e, SI_EXIT_FAIL,
				       "the cached %s is not the file the image was built from (SHA256 differs); "
				       "the archive may have changed it",
				       path);
	}
	return 0;
}
