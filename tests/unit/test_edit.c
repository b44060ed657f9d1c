/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The editing operations of spectrum-settings(1) (lib/edit.c), without a
 * display: references follow renames, deletes in use are refused, a file
 * we wrote is written again byte for byte, validation is the checker's.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edit.h"
#include "tap.h"

static const char config[] =
	"{\"instances\": {\"work\": {\"bindings\": {\"store\": {\"mode\": \"rw\", "
	"\"path\": \"/m\"}, \"key\": {}}, \"application\": \"mail\"}},\n"
	" \"applications\": {\"mail\": {\"memory\": \"512M\", \"image\": \"mail\", \"command\": [\"/bin/mutt\"]}},\n"
	" \"resources\": {\"store\": {\"size\": \"1G\", \"type\": \"block\"},\n"
	"  \"key\": {\"type\": \"usb\", \"vendor\": \"1050\", \"product\": \"0407\"},\n"
	"  \"dl\": {\"type\": \"directory\", \"path\": \"/srv/dl\"}}}\n";

static struct sp_host test_host(void)
{
	struct sp_host h = {.arch = SP_ARCH_X86_64,
			    .tsc_khz = 2600000,
			    .state_dir = "/state",
			    .run_dir = "/run/sp"};
	return h;
}

static struct sp_edit *open_config(void)
{
	struct sp_diags d;
	struct sp_edit *e;

	sp_diags_init(&d, "t.json");
	e = sp_edit_open(config, strlen(config), "t.json", &d);
	sp_diags_fini(&d);
	return e;
}

static void test_dump(void)
{
	struct sp_edit *e = open_config();
	char *a = sp_edit_dump(e), *b;
	struct sp_diags d;
	struct sp_edit *e2;

	TAP_OK(strstr(a, "\"applications\"") < strstr(a, "\"resources\"") &&
		       strstr(a, "\"resources\"") < strstr(a, "\"instances\""),
	       "top-level keys in the documented order");
	TAP_OK(strstr(a, "\"application\": \"mail\"") < strstr(a, "\"bindings\""),
	       "an instance's application before its bindings");
	TAP_OK(strstr(a, "\"path\": \"/m\"") < strstr(a, "\"mode\": \"rw\""), "path before mode");
	TAP_OK(strstr(a, "\"store\"") < strstr(a, "\"key\""), "entities keep the file's order");
	sp_diags_init(&d, "t.json");
	e2 = sp_edit_open(a, strlen(a), "t.json", &d);
	b = e2 ? sp_edit_dump(e2) : NULL;
	TAP_STR(b, a, "what we wrote is written again byte for byte");
	TAP_OK(a[strlen(a) - 1] == '\n', "a final newline");
	sp_diags_fini(&d);
	free(a);
	free(b);
	sp_edit_free(e);
	sp_edit_free(e2);
}

static void test_bad_file(void)
{
	static const char bad[] = "{\"applications\": {\n  \"a\": {\"image\": \"x\",}\n}}";
	struct sp_diags d;
	struct sp_edit *e;

	sp_diags_init(&d, "bad.json");
	e = sp_edit_open(bad, strlen(bad), "bad.json", &d);
	TAP_OK(!e && d.errors == 1, "a syntax error opens nothing");
	TAP_OK(d.n == 1 && d.v[0].place && strcmp(d.v[0].place, "2:22") == 0,
	       "with its line and column (%s)", d.n ? d.v[0].place : "-");
	sp_diags_fini(&d);
	sp_diags_init(&d, "arr.json");
	e = sp_edit_open("[1]", 3, "arr.json", &d);
	TAP_OK(!e && d.errors == 1, "a top level that is not an object is refused");
	sp_diags_fini(&d);
}

static void test_rename_delete(void)
{
	long r;
	struct sp_edit *e = open_config();
	struct sp_err err = {0};
	char users[128];

	r = sp_edit_rename(e, SP_EDIT_RES, "store", "mail-store", &err);
	TAP_OK(r == 0, "rename resource");
	TAP_STR(sp_edit_get_str(e, "instances.work.bindings.mail-store.mode"), "rw",
		"the binding follows the rename");
	TAP_OK(!sp_edit_get(e, "instances.work.bindings.store"), "the old binding is gone");
	TAP_STR(sp_edit_name(e, SP_EDIT_RES, 0), "mail-store", "and keeps its place");
	TAP_STR(sp_edit_name(e, SP_EDIT_INST, 0), "work", "instances stay");
	TAP_STR(sp_edit_name(e, SP_EDIT_RES, 1), "key", "the next resource stays second");
	r = sp_edit_rename(e, SP_EDIT_APP, "mail", "mutt", &err);
	TAP_OK(r == 0 && strcmp(sp_edit_get_str(e, "instances.work.application"), "mutt") == 0,
	       "renaming an application updates its instances");
	r = sp_edit_rename(e, SP_EDIT_RES, "key", "dl", &err);
	TAP_OK(r < 0 && strstr(err.msg, "already"), "rename onto an existing name refused: %s",
	       err.msg);
	r = sp_edit_rename(e, SP_EDIT_RES, "key", "Bad_Name", &err);
	TAP_OK(r < 0, "invalid name refused");

	TAP_OK(sp_edit_users(e, SP_EDIT_RES, "key", users, sizeof(users)) == 1 &&
		       strcmp(users, "work") == 0,
	       "users of a resource");
	r = sp_edit_delete(e, SP_EDIT_RES, "key", false, &err);
	TAP_OK(r < 0 && strstr(err.msg, "in use by instance work"),
	       "deleting a bound resource is refused naming the instance: %s", err.msg);
	TAP_OK(sp_edit_exists(e, SP_EDIT_RES, "key"), "and it stays");
	r = sp_edit_delete(e, SP_EDIT_APP, "mutt", true, &err);
	TAP_OK(r < 0 && strstr(err.msg, "work"),
	       "an application in use is refused even when forced");
	r = sp_edit_delete(e, SP_EDIT_RES, "key", true, &err);
	TAP_OK(r == 0 && !sp_edit_get(e, "instances.work.bindings.key") &&
		       !sp_edit_exists(e, SP_EDIT_RES, "key"),
	       "deleted explicitly with its bindings");
	r = sp_edit_delete(e, SP_EDIT_RES, "dl", false, &err);
	TAP_OK(r == 0, "an unused resource goes");
	r = sp_edit_delete(e, SP_EDIT_RES, "nope", false, &err);
	TAP_OK(r < 0, "an unknown one is refused");
	sp_edit_free(e);
}

static void test_add_bind_undo(void)
{
	long r;
	struct sp_edit *e = open_config();
	struct sp_err err = {0};
	char name[64];
	size_t n0 = e->nundo;

	sp_edit_free_name(e, SP_EDIT_INST, "work", name, sizeof(name));
	TAP_STR(name, "work-2", "a free name");
	r = sp_edit_duplicate(e, SP_EDIT_INST, "work", name, &err);
	TAP_OK(r == 0, "duplicate instance");
	TAP_STR(sp_edit_get_str(e, "instances.work-2.bindings.store.mode"), "rw",
		"the copy keeps the bindings");
	TAP_STR(sp_edit_name(e, SP_EDIT_INST, 1), "work-2", "listed after the original");
	r = sp_edit_set_str(e, "instances.work-2.bindings.store.mode", "ro", &err);
	TAP_OK(r == 0 &&
		       strcmp(sp_edit_get_str(e, "instances.work.bindings.store.mode"), "rw") == 0,
	       "changing the copy leaves the original");
	r = sp_edit_add(e, SP_EDIT_INST, "reader", "mail", &err);
	TAP_OK(r == 0, "add instance");
	r = sp_edit_bind(e, "reader", "dl", "/dl", "rw", &err);
	TAP_OK(r == 0, "bind a directory");
	r = sp_edit_bind(e, "reader", "key", NULL, NULL, &err);
	TAP_OK(r == 0, "bind a device");
	r = sp_edit_bind(e, "reader", "key", NULL, NULL, &err);
	TAP_OK(r < 0, "twice is refused");
	r = sp_edit_bind(e, "reader", "nope", NULL, NULL, &err);
	TAP_OK(r < 0, "an unknown resource too");
	r = sp_edit_set_str(e, "instances.reader.memory", "1", &err);
	TAP_OK(r == 0, "type a field");
	r = sp_edit_set_str(e, "instances.reader.memory", "1G", &err);
	TAP_OK(r == 0, "type more of it");
	r = sp_edit_set_str(e, "applications.ghost.memory", "1G", &err);
	TAP_OK(r < 0, "a field of nothing is refused");
	r = sp_edit_undo(e);
	TAP_OK(r && !sp_edit_get(e, "instances.reader.memory"),
	       "one undo takes back the typing in one field");
	r = sp_edit_undo(e);
	TAP_OK(r && !sp_edit_get(e, "instances.reader.bindings.key"),
	       "the next takes back the last binding");
	while (e->nundo > n0)
		sp_edit_undo(e);
	TAP_OK(!sp_edit_exists(e, SP_EDIT_INST, "work-2") && !sp_edit_undo(e),
	       "back to the file as opened");
	sp_edit_free(e);
}

static void test_check(void)
{
	long r;
	struct sp_edit *e = open_config();
	struct sp_host host = test_host();
	struct sp_err err = {0};
	struct sp_diags d;
	size_t errors;

	sp_diags_init(&d, "t.json");
	r = sp_edit_check(e, "t.json", "/cfg", &host, &d);
	TAP_OK(r == 0, "the file checks");
	sp_diags_fini(&d);
	sp_edit_bind(e, "work", "dl", "data", "rw", &err);
	sp_diags_init(&d, "t.json");
	errors = sp_edit_check(e, "t.json", "/cfg", &host, &d);
	TAP_OK(errors == 1 && d.v[0].place &&
		       strcmp(d.v[0].place, "instances.work.bindings.dl.path") == 0,
	       "a relative mount path is an error at its field (%s)",
	       d.n && d.v[0].place ? d.v[0].place : "-");
	TAP_OK(d.n && strstr(d.v[0].msg, "absolute"), "with the checker's message: %s",
	       d.n ? d.v[0].msg : "-");
	sp_diags_fini(&d);
	sp_edit_set_str(e, "instances.work.bindings.dl.path", "/data", &err);
	sp_diags_init(&d, "t.json");
	r = sp_edit_check(e, "t.json", "/cfg", &host, &d);
	TAP_OK(r == 0, "fixed");
	sp_diags_fini(&d);
	sp_edit_free(e);
}

static struct sp_config *parse(const char *text)
{
	struct sp_diags d;
	struct sp_config *cfg;

	sp_diags_init(&d, "t.json");
	cfg = sp_config_parse(text, strlen(text), "t.json", "/cfg", &d);
	sp_diags_fini(&d);
	return cfg;
}

static void test_changed(void)
{
	long r;
	struct sp_edit *e = open_config();
	struct sp_host host = test_host();
	struct sp_err err = {0};
	char *a = sp_edit_dump(e), *b;
	char names[256];
	struct sp_config *old_cfg = parse(a), *new_cfg;

	sp_edit_add(e, SP_EDIT_INST, "other", "mail", &err);
	sp_edit_set_str(e, "resources.key.product", "0408", &err);
	sp_edit_set_str(e, "applications.mail.memory", "512M", &err);
	b = sp_edit_dump(e);
	new_cfg = parse(b);
	TAP_OK(old_cfg && new_cfg, "both parse");
	r = sp_edit_changed(old_cfg, new_cfg, &host, names, sizeof(names));
	TAP_OK(r == 2 && strcmp(names, "work other") == 0,
	       "a changed device and a new instance restart (%s)", names);
	r = sp_edit_changed(old_cfg, old_cfg, &host, names, sizeof(names));
	TAP_OK(r == 0, "no change, no restart");
	sp_config_free(old_cfg);
	sp_config_free(new_cfg);
	free(a);
	free(b);
	sp_edit_free(e);
}

static void test_save(void)
{
	long r;
	char dir[] = "/tmp/test-edit-XXXXXX", path[64], *text, buf[4096];
	struct sp_edit *e = open_config();
	struct sp_err err = {0};
	struct stat st;
	FILE *f;
	size_t n;

	if (!mkdtemp(dir)) {
		TAP_OK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/s.json", dir);
	r = sp_edit_save(e, path, &err);
	TAP_OK(r == 0, "save a new file: %s", err.msg);
	text = sp_edit_dump(e);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	TAP_STR(buf, text, "the file holds the dump");
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644");
	chmod(path, 0600);
	sp_edit_save(e, path, &err);
	TAP_OK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	       "an existing file keeps its mode");
	if (geteuid() != 0) {
		chmod(dir, 0555);
		r = sp_edit_save(e, path, &err);
		TAP_OK(r < 0 && strstr(err.msg, "Permission denied"),
		       "an unwritable directory is reported with the reason: %s", err.msg);
		chmod(dir, 0755);
	} else {
		snprintf(path, sizeof(path), "%s/missing/s.json", dir);
		r = sp_edit_save(e, path, &err);
		TAP_OK(r < 0 && strstr(err.msg, "No such file"),
		       "an unwritable place is reported with the reason: %s", err.msg);
		snprintf(path, sizeof(path), "%s/s.json", dir);
	}
	unlink(path);
	rmdir(dir);
	free(text);
	sp_edit_free(e);
}

/* The newer instance keys: several applications, disposable. */
static const char config_many[] =
	"{\"applications\": {\"mail\": {\"image\": \"office\", \"command\": [\"/bin/mutt\"]},\n"
	"  \"notes\": {\"image\": \"office\", \"command\": [\"/bin/vi\"]}},\n"
	" \"instances\": {\"both\": {\"disposable\": true, \"bindings\": {},\n"
	"  \"restart\": \"no\", \"applications\": [\"mail\", \"notes\"]},\n"
	"  \"one\": {\"application\": \"mail\"}}}\n";

/* Whether v is the array [x, y]. */
static bool apps_are(json_t *v, const char *x, const char *y)
{
	json_t *want = json_pack("[ss]", x, y);
	bool same = json_equal(v, want);

	json_decref(want);
	return same;
}

static void test_applications_disposable(void)
{
	struct sp_diags d;
	struct sp_err err = {0};
	struct sp_edit *e, *e2;
	char *a, *b, users[128];
	int rc;

	sp_diags_init(&d, "m.json");
	e = sp_edit_open(config_many, strlen(config_many), "m.json", &d);
	sp_diags_fini(&d);
	a = sp_edit_dump(e);
	TAP_OK(strstr(a, "\"applications\": [") < strstr(a, "\"bindings\": {}") &&
		       strstr(a, "\"restart\"") < strstr(a, "\"disposable\": true"),
	       "an instance's applications before its bindings, disposable after restart");
	sp_diags_init(&d, "m.json");
	e2 = sp_edit_open(a, strlen(a), "m.json", &d);
	b = e2 ? sp_edit_dump(e2) : NULL;
	sp_diags_fini(&d);
	TAP_OK(b && strcmp(a, b) == 0, "a file with them is written again byte for byte");
	TAP_OK(apps_are(sp_edit_get(e, "instances.both.applications"), "mail", "notes") &&
		       json_is_true(sp_edit_get(e, "instances.both.disposable")),
	       "applications and disposable are kept as they were");
	TAP_OK(sp_edit_users(e, SP_EDIT_APP, "notes", users, sizeof(users)) == 1 &&
		       strcmp(users, "both") == 0,
	       "an application listed in applications is in use by that instance");
	/* TAP_OK evaluates its condition twice: each edit is made first. */
	rc = sp_edit_delete(e, SP_EDIT_APP, "notes", true, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "in use by instance both"),
	       "deleting it is refused, naming the instance: %s", err.msg);
	rc = sp_edit_rename(e, SP_EDIT_APP, "notes", "memo", &err);
	TAP_OK(rc == 0 && apps_are(sp_edit_get(e, "instances.both.applications"), "mail", "memo"),
	       "renaming it renames it in applications, in its place");
	rc = sp_edit_rename(e, SP_EDIT_APP, "mail", "post", &err);
	TAP_OK(rc == 0 && apps_are(sp_edit_get(e, "instances.both.applications"), "post", "memo") &&
		       strcmp(sp_edit_get_str(e, "instances.one.application"), "post") == 0 &&
		       !sp_edit_get(e, "instances.both.application"),
	       "an application in both kinds of instance: each renamed its way");
	free(a);
	rc = sp_edit_set(e, "instances.one.disposable", json_true(), &err);
	a = sp_edit_dump(e);
	TAP_OK(rc == 0 && strstr(a, "\"application\": \"post\",\n      \"disposable\": true"),
	       "disposable set on an instance is saved as true");
	free(a);
	free(b);
	sp_edit_free(e);
	sp_edit_free(e2);
}

int main(void)
{
	test_dump();
	test_bad_file();
	test_rename_delete();
	test_add_bind_undo();
	test_check();
	test_changed();
	test_save();
	test_applications_disposable();
	return tap_done();
}
