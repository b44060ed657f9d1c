/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spectrum plan FILE [INSTANCE] [--json | --argv | --guest | --libvirt]
 *     [--libvirt-dir DIR] [--hypervisor NAME] */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cmd.h"
#include "guest.h"
#include "paths.h"
#include "plan_libvirt.h"

enum sp_plan_format {
	SP_FMT_SUMMARY,
	SP_FMT_JSON,
	SP_FMT_ARGV,
	SP_FMT_GUEST,
	SP_FMT_LIBVIRT,
};

struct sp_plan_opts {
	const char *file;
	const char *instance;
	enum sp_plan_format format;
	int hv;			 /* -1: each instance's own */
	const char *libvirt_dir; /* --libvirt-dir, or NULL */
};

static void sp_summary_disks(const struct sp_plan *p)
{
	char size[32];

	for (size_t i = 0; i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		printf("  disk   %s %s -> %s (%s", d->resource, d->image, d->guest_path,
		       sp_mode_name(d->mode));
		if (d->create) {
			sp_size_format(d->size, size, sizeof(size));
			printf(", %s %s, created on first use", size, d->fs);
		}
		if (d->overlay)
			printf(", disposable: writes go to %s, removed at stop", d->overlay);
		puts(")");
	}
	for (size_t i = 0; i < p->nshares; i++)
		printf("  share  %s %s -> %s (%s, virtiofs tag %s)\n", p->shares[i].resource,
		       p->shares[i].host_path, p->shares[i].guest_path,
		       sp_mode_name(p->shares[i].mode), p->shares[i].tag);
}

static void sp_summary_devices(const struct sp_plan *p)
{
	for (size_t i = 0; i < p->nnics; i++) {
		const struct sp_plan_nic *n = &p->nics[i];
		printf("  net    %s%s: %s/%u%s%s, bridge %s, tap %s, mac %s\n", n->resource,
		       n->nat ? " (nat)" : "", n->address, n->prefix, n->gateway[0] ? " via " : "",
		       n->gateway, n->bridge, n->tap, n->mac);
	}
	for (size_t i = 0; i < p->nusb; i++) {
		const struct sp_usb_id *u = &p->usb[i].id;
		if (u->by_id)
			printf("  usb    %s %04x:%04x\n", p->usb[i].resource, u->vendor, u->product);
		else
			printf("  usb    %s bus %u port %s\n", p->usb[i].resource, u->bus, u->port);
	}
	for (size_t i = 0; i < p->npci; i++)
		printf("  pci    %s %s\n", p->pci[i].resource, p->pci[i].address);
}

static void sp_print_summary(const struct sp_plan *p)
{
	char mem[32];

	sp_size_format(p->memory_mib << 20, mem, sizeof(mem));
	printf("%s: %s on %s (%s, %s), %s, %u vCPU%s\n", p->instance, p->application,
	       sp_hv_name(p->hypervisor), sp_arch_name(p->arch), sp_accel_name(p->accel), mem,
	       p->vcpus, p->vcpus == 1 ? "" : "s");
	printf("  root   %s (read-only%s)\n", p->root.image, p->root.shared ? ", shared with DAX" : "");
	if (p->root.pmem)
		printf("  pmem   %s (the image with NVDIMM labels, made by root at start)\n",
		       p->root.pmem);
	sp_summary_disks(p);
	sp_summary_devices(p);
	if (p->display.enabled)
		printf("  display label %s, fullscreen %s, clipboard %s\n", p->display.color,
		       p->display.fullscreen ? "allowed" : "refused",
		       sp_clipboard_name(p->display.clipboard));
	for (size_t i = 0; i < p->ncommands; i++) {
		/* Several applications: each one's name above its commands. */
		for (size_t k = 0; p->apps && k < p->napps; k++)
			if (p->apps[k].first == i)
				printf("  app    %s\n", p->apps[k].name);
		fputs("  run   ", stdout);
		for (size_t j = 0; j < p->commands[i].argc; j++) {
			char *q = sp_shell_quote(p->commands[i].argv[j]);
			printf(" %s", q);
			free(q);
		}
		putchar('\n');
	}
}

/* One option and its value per line, so long command lines stay readable
 * and can be pasted into a shell as they are. */
static void sp_print_argv(const struct sp_argv *a)
{
	for (size_t i = 0; i < a->n; i++) {
		char *q = sp_shell_quote(a->v[i]);
		bool starts_opt = a->v[i][0] == '-';
		bool pair = starts_opt && i + 1 < a->n && a->v[i + 1][0] != '-';
		fputs(i == 0 ? "" : " \\\n    ", stdout);
		fputs(q, stdout);
		free(q);
		if (pair || i == 0) {
			/* argv[0] keeps its subcommand ("crosvm run") on its line */
			while (i + 1 < a->n && a->v[i + 1][0] != '-') {
				q = sp_shell_quote(a->v[++i]);
				printf(" %s", q);
				free(q);
				if (pair)
					break;
			}
		}
	}
	putchar('\n');
}

static int sp_print_plan_argv(const struct sp_config *cfg, const struct sp_plan *p, bool first)
{
	struct sp_err err = {0};
	struct sp_argv a;
	int rc = 0;

	sp_argv_init(&a);
	if (sp_backend_get(p->hypervisor)->build(p, &a, &err) < 0) {
		fprintf(stderr, "%s: instances.%s: error: %s\n", cfg->file, p->instance, err.msg);
		rc = -1;
	} else {
		printf("%s# %s: %s, %s, %s\n", first ? "" : "\n", p->instance, sp_hv_name(p->hypervisor),
		       sp_arch_name(p->arch), sp_accel_name(p->accel));
		sp_print_argv(&a);
	}
	sp_argv_free(&a);
	return rc;
}

static void sp_print_json(const struct sp_plans *plans)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < plans->n; i++) {
		char *one = sp_plan_to_json(&plans->v[i]);
		json_array_append_new(arr, json_loads(one, 0, NULL));
		free(one);
	}
	s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	puts(s);
	free(s);
	json_decref(arr);
}

/* --libvirt-dir implies --libvirt; the export is of QEMU plans; one
 * domain per document on standard output. */
static int sp_plan_check_libvirt(struct sp_plan_opts *o)
{
	if (o->libvirt_dir && o->format == SP_FMT_SUMMARY)
		o->format = SP_FMT_LIBVIRT;
	if (o->libvirt_dir && o->format != SP_FMT_LIBVIRT)
		return sp_usage_error("plan", "--libvirt-dir goes with --libvirt only");
	if (o->format != SP_FMT_LIBVIRT)
		return 0;
	if (o->hv >= 0 && o->hv != SP_HV_QEMU)
		return sp_usage_error("plan",
				      "--libvirt exports QEMU plans; leave out --hypervisor");
	if (!o->instance && !o->libvirt_dir)
		return sp_usage_error(
			"plan",
			"--libvirt prints one domain: name the INSTANCE, or give --libvirt-dir DIR to write every instance's");
	if (o->libvirt_dir && !o->libvirt_dir[0])
		return sp_usage_error("plan", "--libvirt-dir needs a directory");
	o->hv = SP_HV_QEMU;
	return 0;
}

static int sp_plan_parse_args(int argc, char **argv, struct sp_plan_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"argv", no_argument, NULL, 'a'},
		{"guest", no_argument, NULL, 'g'},
		{"hypervisor", required_argument, NULL, 'H'},
		{"libvirt", no_argument, NULL, 'l'},
		{"libvirt-dir", required_argument, NULL, 'D'},
		{NULL, 0, NULL, 0},
	};
	enum sp_hv hv;
	int c;

	o->hv = -1;
	opterr = 0;
	/* ":": an option without its value is ':', not an unknown '?'. */
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* positional: FILE then INSTANCE, options may follow */
			if (!o->file)
				o->file = argv[optind];
			else if (!o->instance)
				o->instance = argv[optind];
			else
				return sp_usage_error("plan", "unexpected argument '%s'", argv[optind]);
			optind++;
			continue;
		}
		switch (c) {
		case 'j':
		case 'a':
		case 'g':
		case 'l':
			if (o->format != SP_FMT_SUMMARY)
				return sp_usage_error(
					"plan",
					"give only one of --json, --argv, --guest and --libvirt");
			o->format = c == 'j' ? SP_FMT_JSON :
				    c == 'a' ? SP_FMT_ARGV :
				    c == 'g' ? SP_FMT_GUEST :
					       SP_FMT_LIBVIRT;
			break;
		case 'D':
			o->libvirt_dir = optarg;
			break;
		case 'H':
			if (sp_hv_parse(optarg, &hv) < 0)
				return sp_usage_error("plan",
						      "unknown hypervisor '%s'; use qemu, crosvm or cloud-hypervisor",
						      optarg);
			o->hv = (int)hv;
			break;
		case ':':
			if (strcmp(argv[optind - 1], "--libvirt-dir") == 0)
				return sp_usage_error("plan", "--libvirt-dir needs a directory");
			return sp_usage_error(
				"plan",
				"--hypervisor needs a value (qemu, crosvm or cloud-hypervisor)");
		default:
			return sp_usage_error("plan", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!o->file)
		return sp_usage_error("plan", "missing FILE");
	return sp_plan_check_libvirt(o);
}

/* The export directory, absolute (libvirt takes absolute paths only). */
static int sp_libvirt_dir(const char *given, char *buf, size_t len)
{
	struct sp_err err = {0};
	char cwd[SP_PATH_MAX];
	int n;

	if (!given) {
		if (sp_env_dir("SPECTRUM_STATE_DIR", SP_STATE_DIR_DEFAULT, cwd, sizeof(cwd), &err) <
		    0) {
			sp_warnx("%s", err.msg);
			return -1;
		}
		n = snprintf(buf, len, "%s/%s", cwd, SP_LIBVIRT_DIR);
	} else if (given[0] == '/') {
		n = snprintf(buf, len, "%s", given);
	} else if (getcwd(cwd, sizeof(cwd))) {
		n = snprintf(buf, len, "%s/%s", cwd, given);
	} else {
		sp_warnx(
			"plan: cannot tell the current directory; give --libvirt-dir as an absolute path");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		sp_warnx("plan: the libvirt directory's path is too long; choose a shorter one");
		return -1;
	}
	/* "DIR/" and "DIR/." name DIR: keep the XML's paths plain. */
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

/*
 * Every instance's XML is made before anything is written: a plan libvirt
 * cannot express fails the command with nothing on disk.  Then each one's
 * initramfs (and its XML with --libvirt-dir) is written; the XML goes to
 * standard output, or its path with --libvirt-dir.
 */
static int sp_plan_libvirt(const struct sp_config *cfg, const struct sp_plans *plans,
			   const char *given_dir)
{
	struct sp_err err = {0};
	char dir[SP_PATH_MAX];
	char *xml[SP_LIMIT_INSTANCES] = {0};
	int rc = SP_EXIT_OK;

	if (sp_libvirt_dir(given_dir, dir, sizeof(dir)) < 0)
		return SP_EXIT_SYSTEM;
	for (size_t i = 0; i < plans->n && rc == SP_EXIT_OK; i++) {
		xml[i] = sp_libvirt_xml(&plans->v[i], dir, &err);
		if (!xml[i]) {
			fprintf(stderr, "%s: instances.%s: error: %s\n", cfg->file,
				plans->v[i].instance, err.msg);
			rc = SP_EXIT_INVALID;
		}
	}
	for (size_t i = 0; i < plans->n && rc == SP_EXIT_OK; i++) {
		if (sp_libvirt_write(&plans->v[i], dir, given_dir ? xml[i] : NULL, &err) < 0) {
			sp_warnx("plan: %s: %s", plans->v[i].instance, err.msg);
			rc = SP_EXIT_SYSTEM;
		} else if (given_dir) {
			printf("%s/%s.xml\n", dir, plans->v[i].instance);
		} else {
			fputs(xml[i], stdout);
		}
	}
	for (size_t i = 0; i < plans->n; i++)
		free(xml[i]);
	return rc;
}

static int sp_plan_output(const struct sp_config *cfg, const struct sp_plans *plans,
			  const struct sp_plan_opts *o)
{
	enum sp_plan_format format = o->format;
	int rc = SP_EXIT_OK;

	if (format == SP_FMT_LIBVIRT)
		return sp_plan_libvirt(cfg, plans, o->libvirt_dir);
	if (format == SP_FMT_JSON) {
		sp_print_json(plans);
		return rc;
	}
	for (size_t i = 0; i < plans->n; i++) {
		if (format == SP_FMT_GUEST) {
			char *g = sp_guest_config(&plans->v[i]);
			printf("%s# %s: %s\n%s", i ? "\n" : "", plans->v[i].instance,
			       plans->v[i].initrd, g);
			free(g);
		} else if (format == SP_FMT_ARGV) {
			if (sp_print_plan_argv(cfg, &plans->v[i], i == 0) < 0)
				rc = SP_EXIT_INVALID;
		} else {
			if (i)
				putchar('\n');
			sp_print_summary(&plans->v[i]);
		}
	}
	return rc;
}

int sp_cmd_plan(int argc, char **argv)
{
	struct sp_plan_opts o = {0};
	struct sp_plans *plans;
	struct sp_config *cfg;
	int rc = SP_EXIT_OK;

	if (sp_plan_parse_args(argc, argv, &o) != 0)
		return SP_EXIT_USAGE;
	plans = sp_compile_file(o.file, o.instance, o.hv, &cfg, &rc);
	if (!plans)
		return rc;
	rc = sp_plan_output(cfg, plans, &o);
	sp_plans_free(plans);
	sp_config_free(cfg);
	return rc;
}
