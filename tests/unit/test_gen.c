/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generation bookkeeping (lib/gen.h) in a directory of its own: commits,
 * the store by content hash, rollback's set_current, gc and its refusal,
 * and a commit killed at each of its steps.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gen.h"
#include "tap.h"

static char dir[64], image[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void hash_of(const char *text, char out[static SP_SHA256_HEX])
{
	struct sp_sha256 s;

	sp_sha256_init(&s);
	sp_sha256_update(&s, text, strlen(text));
	sp_sha256_hex(&s, out);
}

static size_t store_count(void)
{
	char cmd[256];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls %s/store | grep -c erofs$", dir);
	p = popen(cmd, "r");
	if (fscanf(p, "%zu", &n) != 1)
		n = 0;
	pclose(p);
	return n;
}

/* A generation of `config` booting the test image. */
static int commit(struct sp_gen_store *s, const char *config, unsigned *number)
{
	struct sp_gen g = {0};
	struct sp_err err = {0};
	int rc;

	g.source = strdup("/etc/spectrum/x.json");
	g.base_dir = strdup("/etc/spectrum");
	g.config = strdup(config);
	g.config_len = strlen(config);
	g.images[0].path = strdup(image);
	g.nimages = 1;
	rc = sp_gen_commit(s, &g, config, strlen(config), &err);
	if (rc < 0)
		printf("# %s\n", err.msg);
	*number = g.number;
	sp_gen_free(&g);
	return rc;
}

static unsigned current(struct sp_gen_store *s)
{
	struct sp_err err;
	unsigned n = 0;

	sp_gen_current(s, &n, &err);
	return n;
}

static void test_commit(struct sp_gen_store *s)
{
	struct sp_gen g;
	struct sp_err err = {0};
	char want[SP_SHA256_HEX], path[256];
	unsigned n1, n2, n3;
	struct stat st;

	write_file(image, "first image bytes");
	hash_of("first image bytes", want);
	{
		bool ok_ = (current(s) == 0);
		TAP_OK(ok_, "no generation yet");
	};
	{
		bool ok_ = (commit(s, "{\"v\": 1}", &n1) == 0 && n1 == 1 && current(s) == 1);
		TAP_OK(ok_, "the first commit is generation 1, current");
	};
	{
		bool ok_ = (sp_gen_read(s, 1, &g, &err) == 0 && g.current && g.nimages == 1 &&
			    strcmp(g.images[0].sha256, want) == 0 && g.config_len == 8 &&
			    memcmp(g.config, "{\"v\": 1}", 8) == 0);
		TAP_OK(ok_, "it records the model and the image's sha256");
	};
	sp_gen_free(&g);
	snprintf(path, sizeof(path), "%s/store/%s.erofs", dir, want);
	{
		bool ok_ =
			(stat(path, &st) == 0 && st.st_size == 17 && (st.st_mode & 0777) == 0444);
		TAP_OK(ok_, "the store holds the image by its hash, read-only");
	};
	{
		bool ok_ = (commit(s, "{\"v\": 2}", &n2) == 0 && n2 == 2 && store_count() == 1);
		TAP_OK(ok_, "an unchanged image is not stored twice");
	};
	unlink(image); /* a rebuild: a new file under the same name */
	write_file(image, "second image bytes, rebuilt");
	{
		bool ok_ = (commit(s, "{\"v\": 3}", &n3) == 0 && n3 == 3 && store_count() == 2);
		TAP_OK(ok_, "a rebuilt image is stored beside the old one");
	};
	{
		bool ok_ =
			(sp_gen_read(s, 1, &g, &err) == 0 && strcmp(g.images[0].sha256, want) == 0);
		TAP_OK(ok_, "generation 1 still names the bytes it booted");
	};
	{
		struct sp_plans plans = {.arena = sp_arena_new(), .n = 1};
		struct sp_plan p = {0};
		p.root.image = image;
		plans.v = &p;
		{
			bool ok_ = (sp_gen_use_store(s, &g, &plans, true, &err) == 0 &&
				    strcmp(p.root.image, path) == 0);
			TAP_OK(ok_, "its plans boot the stored bytes, not the rebuilt file");
		};
		sp_arena_free(plans.arena);
	}
	sp_gen_free(&g);
}

static void test_current_and_gc(struct sp_gen_store *s)
{
	struct sp_err err = {0};
	char report[1024], old_hash[SP_SHA256_HEX], in_use[256];
	const char *use[1] = {in_use};
	struct sp_gen *v;
	size_t n;

	{
		bool ok_ = (sp_gen_set_current(s, 1, &err) == 0 && current(s) == 1);
		TAP_OK(ok_, "set_current: a rollback to 1");
	};
	{
		bool ok_ = (sp_gen_set_current(s, 99, &err) < 0 &&
			    strstr(err.msg, "no generation 99") && current(s) == 1);
		TAP_OK(ok_, "a generation that does not exist is refused, current unchanged");
	};
	{
		bool ok_ = (sp_gen_gc(s, 1, NULL, 0, report, sizeof(report), &err) < 0 &&
			    strstr(err.msg, "would remove generation 1, the current one"));
		TAP_OK(ok_, "gc --keep 1 would remove the current generation: refused");
	};
	{
		bool ok_ = (sp_gen_list(s, &v, &n, &err) == 0 && n == 3);
		TAP_OK(ok_, "and nothing was removed");
	};
	for (size_t i = 0; i < n; i++)
		sp_gen_free(&v[i]);
	free(v);
	{
		bool ok_ = (sp_gen_gc(s, 0, NULL, 0, report, sizeof(report), &err) == 0 &&
			    strcmp(report, "nothing to remove\n") == 0);
		TAP_OK(ok_, "gc keeps the current generation and the newer ones");
	};
	hash_of("first image bytes", old_hash);
	snprintf(in_use, sizeof(in_use), "%s/store/%s.erofs", dir, old_hash);
	sp_gen_set_current(s, 3, &err);
	{
		bool ok_ = (sp_gen_gc(s, 0, use, 1, report, sizeof(report), &err) == 0 &&
			    strcmp(report, "removed generation 1\nremoved generation 2\n") == 0);
		TAP_OK(ok_, "gc removes the generations older than the current one");
	};
	{
		bool ok_ = (store_count() == 2);
		TAP_OK(ok_, "but not an image a running VM boots");
	};
	{
		bool ok_ = (sp_gen_gc(s, 0, NULL, 0, report, sizeof(report), &err) == 0 &&
			    store_count() == 1 && strstr(report, "removed image "));
		TAP_OK(ok_, "which goes once nothing uses it");
	};
}

/* A commit killed at each of its steps leaves a whole generation current. */
static void test_crash(struct sp_gen_store *s)
{
	for (int step = 1; step <= 7; step++) {
		unsigned before = current(s), after, n;
		struct sp_gen g;
		struct sp_err err = {0};
		char config[32];
		int st = 0;
		pid_t pid = fork();

		snprintf(config, sizeof(config), "{\"step\": %d}", step);
		if (pid == 0) {
			s->crash_at = step;
			commit(s, config, &n);
			_exit(0);
		}
		waitpid(pid, &st, 0);
		after = current(s);
		{
			bool ok_ = (WIFEXITED(st) && WEXITSTATUS(st) == 86 &&
				    (after == before || after > before) &&
				    sp_gen_read(s, after, &g, &err) == 0 &&
				    (after == before ||
				     memcmp(g.config, config, strlen(config)) == 0));
			TAP_OK(ok_,
			       "killed at step %d: generation %u is current and whole (was %u)",
			       step, after, before);
		};
		sp_gen_free(&g);
	}
	unsigned n;
	{
		bool ok_ = (commit(s, "{\"after\": 1}", &n) == 0 && current(s) == n);
		TAP_OK(ok_, "the next commit works, sweeping what the dead ones left");
	};
}

static void test_trust(void)
{
	struct sp_gen_store s;
	struct sp_err err = {0};
	char path[128];

	snprintf(path, sizeof(path), "%s/generations", dir);
	chmod(path, 0777);
	{
		bool ok_ = (sp_gen_open(&s, dir, &err) < 0 && strstr(err.msg, "make it"));
		TAP_OK(ok_, "a generations directory others may write is refused");
	};
	chmod(path, 0755);
	chmod(dir, 0777);
	{
		bool ok_ = (sp_gen_open(&s, dir, &err) < 0 && strstr(err.msg, "chmod go-w"));
		TAP_OK(ok_, "so is a state directory others may write");
	}
	chmod(dir, 0755);
}

int main(void)
{
	struct sp_gen_store s;
	struct sp_err err = {0};

	snprintf(dir, sizeof(dir), "/tmp/spectrum-gen.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	chmod(dir, 0755);
	snprintf(image, sizeof(image), "%s/test.erofs", dir);
	{
		bool ok_ = (sp_gen_open(&s, dir, &err) == 0);
		TAP_OK(ok_, "open a new state directory");
	};
	test_commit(&s);
	test_current_and_gc(&s);
	test_crash(&s);
	sp_gen_close(&s);
	test_trust();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
