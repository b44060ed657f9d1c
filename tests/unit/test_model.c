/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model and the compiler through the library API: values land where
 * they should, defaults apply, references resolve, plans follow the host.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "guest.h"
#include "model.h"
#include "plan.h"
#include "tap.h"

static const char config[] =
	"{\"version\": 1,\n"
	" \"applications\": {\n"
	"  \"mail\": {\"image\": \"mail\", \"command\": [\"/usr/bin/mutt\", \"-R\"],\n"
	"           \"env\": {\"LANG\": \"C.UTF-8\"}, \"memory\": \"512M\"},\n"
	"  \"tool\": {\"image\": \"img/tool.erofs\", \"commands\": [[\"/bin/a\"], [\"/bin/b\", \"x\"]],\n"
	"           \"arch\": \"ppc64le\", \"vcpus\": 2}},\n"
	" \"resources\": {\n"
	"  \"store\": {\"type\": \"block\", \"size\": \"1G\"},\n"
	"  \"old\": {\"type\": \"block\", \"path\": \"disks/old.img\"},\n"
	"  \"dl\": {\"type\": \"directory\", \"path\": \"/srv/dl\"},\n"
	"  \"web\": {\"type\": \"net\", \"nat\": true},\n"
	"  \"key\": {\"type\": \"usb\", \"vendor\": \"1050\", \"product\": \"0407\"},\n"
	"  \"gpu\": {\"type\": \"pci\", \"address\": \"01:00.0\"}},\n"
	" \"instances\": {\n"
	"  \"work\": {\"application\": \"mail\", \"memory\": \"1G\", \"autostart\": true,\n"
	"    \"bindings\": {\"store\": {\"path\": \"/home/user/Mail\", \"mode\": \"rw\"},\n"
	"                 \"old\": {\"path\": \"/old\"}, \"dl\": {\"path\": \"/dl\", \"mode\": \"rw\"},\n"
	"                 \"web\": {}, \"key\": {}, \"gpu\": {}}},\n"
	"  \"reader\": {\"application\": \"mail\", \"bindings\": {\"store\": {\"path\": \"/m\"}}},\n"
	"  \"ppc\": {\"application\": \"tool\"}}}\n";

static struct sp_host test_host(enum sp_arch arch, bool kvm)
{
	struct sp_host h = {
		.arch = arch,
		.kvm_usable = kvm,
		.tsc_khz = 2600000,
		.state_dir = "/state",
		.run_dir = "/run/sp",
	};
	return h;
}

static void test_model(const struct sp_config *cfg)
{
	const struct sp_application *mail = &cfg->applications[0], *tool = &cfg->applications[1];
	const struct sp_instance *work = sp_config_instance(cfg, "work");
	const struct sp_instance *reader = sp_config_instance(cfg, "reader");

	TAP_OK(cfg->napplications == 2 && cfg->nresources == 6 && cfg->ninstances == 3, "counts");
	TAP_OK(!mail->image_is_path && tool->image_is_path, "image name vs path");
	TAP_OK(mail->memory == 512ull << 20 && mail->vcpus == 1, "application defaults");
	TAP_OK(mail->arch == SP_ARCH_X86_64 && tool->arch == SP_ARCH_PPC64LE, "arch default and set");
	TAP_OK(tool->ncommands == 2 && tool->commands[1].argc == 2 &&
		       tool->commands[1].argv[2] == NULL,
	       "several commands, NULL-terminated argv");
	TAP_OK(mail->nenv == 1 && strcmp(mail->env[0].value, "C.UTF-8") == 0, "env");
	TAP_STR(cfg->resources[1].path, "/cfgdir/disks/old.img", "relative image path resolves");
	TAP_STR(cfg->resources[5].pci_address, "0000:01:00.0", "pci address normalized");
	TAP_OK(work && work->memory == 1ull << 30 && work->vcpus == 1 && work->autostart,
	       "instance override and inherited values");
	TAP_OK(work && work->nbindings == 6 && work->bindings[0].mode == SP_MODE_RW &&
		       work->bindings[1].mode == SP_MODE_RO,
	       "bindings and their modes (ro by default)");
	TAP_OK(reader && reader->memory == 512ull << 20 && !reader->autostart, "reader inherits");
	TAP_OK(!sp_config_instance(cfg, "nope"), "unknown instance");
}

static void test_plans(const struct sp_config *cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_plans *plans = sp_plan_compile(cfg, &host, NULL, -1, &err);
	const struct sp_plan *w, *ppc;

	TAP_OK(plans && plans->n == 3, "one plan per instance");
	if (!plans)
		return;
	w = &plans->v[0];
	ppc = &plans->v[2];
	TAP_STR(w->root.image, "/state/images/mail.erofs", "named image in the store");
	TAP_STR(ppc->root.image, "/cfgdir/img/tool.erofs", "image path relative to the file");
	TAP_STR(w->kernel, "/state/kernels/x86_64/vmlinux", "kernel per arch");
	TAP_STR(ppc->base_initrd, "/state/kernels/ppc64le/initrd.img", "base initrd per arch");
	TAP_STR(ppc->initrd, "/run/sp/ppc/initrd.img", "initrd with the guest config per instance");
	TAP_OK(w->accel == SP_ACCEL_TCG && ppc->accel == SP_ACCEL_TCG, "no KVM: TCG");
	TAP_STR(w->cmdline, "loglevel=3 panic=-1 tsc_early_khz=2600000", "TSC frequency under TCG");
	TAP_STR(ppc->cmdline, "loglevel=3 panic=-1", "no TSC hint for ppc64le");
	TAP_OK(w->memory_mib == 1024 && ppc->vcpus == 2, "memory and vcpus");
	TAP_OK(w->ndisks == 2 && w->disks[0].create && !w->disks[1].create, "created vs existing");
	TAP_STR(w->disks[0].image, "/state/volumes/store.img", "volume image in the state dir");
	TAP_OK(w->nshares == 1 && w->nnics == 1 && w->nusb == 1 && w->npci == 1, "device counts");
	TAP_STR(w->shares[0].socket, "/run/sp/work/fs-dl.sock", "virtiofs socket");
	TAP_OK(strlen(w->nics[0].tap) == 15 && strncmp(w->nics[0].mac, "02:", 3) == 0,
	       "tap name fits IFNAMSIZ, MAC is locally administered");
	TAP_STR(w->control_socket, "/run/sp/work/control.sock", "control socket");
	sp_plans_free(plans);

	host = test_host(SP_ARCH_X86_64, true);
	plans = sp_plan_compile(cfg, &host, "work", -1, &err);
	TAP_OK(plans && plans->n == 1 && plans->v[0].accel == SP_ACCEL_KVM &&
		       strcmp(plans->v[0].cmdline, "loglevel=3 panic=-1") == 0,
	       "usable KVM: KVM, no TSC hint");
	sp_plans_free(plans);

	host.accel_forced = true;
	host.forced = SP_ACCEL_TCG;
	plans = sp_plan_compile(cfg, &host, "ppc", -1, &err);
	TAP_OK(plans && plans->v[0].accel == SP_ACCEL_TCG, "foreign arch is always TCG");
	sp_plans_free(plans);

	plans = sp_plan_compile(cfg, &host, "ppc", SP_HV_CROSVM, &err);
	TAP_OK(!plans && strstr(err.msg, "crosvm has no ppc64le support") &&
		       strcmp(err.place, "instances.ppc") == 0,
	       "crosvm refuses ppc64le, naming the instance");
}

/* Guest RAM, TCG's translation cache, the balloon and Debian's minimum. */
static void test_memory(const struct sp_config *cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_plans *plans;

	TAP_OK(sp_plan_ram_mib(SP_ARCH_PPC64LE, 64) == 256 &&
		       sp_plan_ram_mib(SP_ARCH_PPC64LE, 256) == 256 &&
		       sp_plan_ram_mib(SP_ARCH_PPC64LE, 257) == 512 &&
		       sp_plan_ram_mib(SP_ARCH_X86_64, 64) == 64 &&
		       sp_plan_ram_mib(SP_ARCH_X86_64, 100) == 100,
	       "pseries RAM rounds up to 256 MiB blocks; x86 keeps it");
	host.kernel = SP_KERNEL_SPECTRUM;
	TAP_OK(sp_plan_kernel(&host, SP_ARCH_X86_64) == SP_KERNEL_SPECTRUM &&
		       sp_plan_kernel(&host, SP_ARCH_PPC64LE) == SP_KERNEL_SPECTRUM &&
		       sp_plan_kernel(&host, SP_ARCH_AARCH64) == SP_KERNEL_DEBIAN,
	       "by default aarch64 guests boot Debian's kernel (Spectrum's is not built for it)");
	host.kernel_set = true;
	TAP_OK(sp_plan_kernel(&host, SP_ARCH_AARCH64) == SP_KERNEL_SPECTRUM,
	       "unless SPECTRUM_KERNEL names Spectrum's");
	host.kernel_set = false;
	TAP_OK(sp_plan_tb_mib(SP_ACCEL_KVM, 128) == 0 && sp_plan_tb_mib(SP_ACCEL_KVM, 4096) == 0,
	       "KVM: no translation cache");
	TAP_OK(sp_plan_tb_mib(SP_ACCEL_TCG, 64) == 32 && sp_plan_tb_mib(SP_ACCEL_TCG, 256) == 32 &&
		       sp_plan_tb_mib(SP_ACCEL_TCG, 512) == 64 &&
		       sp_plan_tb_mib(SP_ACCEL_TCG, 1024) == 128 &&
		       sp_plan_tb_mib(SP_ACCEL_TCG, 1ull << 20) == 256,
	       "TCG: an eighth of the RAM, 32 to 256 MiB");
	TAP_OK(sp_kernel_memory_check(SP_KERNEL_SPECTRUM, "a", 64, &err) == 0 &&
		       sp_kernel_memory_check(SP_KERNEL_DEBIAN, "a", 96, &err) == 0,
	       "Spectrum's kernel in 64M, Debian's in 96M");
	TAP_OK(sp_kernel_memory_check(SP_KERNEL_DEBIAN, "small", 64, &err) < 0 &&
		       strstr(err.msg, "instance small has 64M") &&
		       strstr(err.msg, "SPECTRUM_KERNEL=debian) needs at least 96M") &&
		       !strchr(err.msg, '\n'),
	       "Debian's kernel below 96M: one line naming the instance and the fix");

	host.kernel = SP_KERNEL_SPECTRUM;
	plans = sp_plan_compile(cfg, &host, NULL, -1, &err);
	TAP_OK(plans && plans->v[0].tb_mib == 128 && plans->v[0].balloon &&
		       plans->v[2].memory_mib == 256 && plans->v[2].tb_mib == 32,
	       "plans: TCG cache for the guest's RAM, a balloon with Spectrum's kernel");
	TAP_STR(plans ? plans->v[0].kernel : NULL, "/state/kernels/spectrum-x86_64/vmlinux",
		"Spectrum's kernel from its own directory");
	sp_plans_free(plans);
	host = test_host(SP_ARCH_X86_64, true);
	plans = sp_plan_compile(cfg, &host, "work", -1, &err);
	TAP_OK(plans && plans->v[0].tb_mib == 0 && !plans->v[0].balloon,
	       "KVM with Debian's kernel: no cache size, no balloon");
	sp_plans_free(plans);
}

/* SPECTRUM_KERNEL: Spectrum's kernel unless it names Debian's. */
static void test_kernel_choice(void)
{
	struct sp_host host;
	struct sp_err err = {0};

	unsetenv("SPECTRUM_KERNEL");
	TAP_OK(sp_host_detect(&host, &err) == 0 && host.kernel == SP_KERNEL_SPECTRUM,
	       "Spectrum's kernel by default");
	setenv("SPECTRUM_KERNEL", "debian", 1);
	TAP_OK(sp_host_detect(&host, &err) == 0 && host.kernel == SP_KERNEL_DEBIAN,
	       "SPECTRUM_KERNEL=debian selects Debian's");
	setenv("SPECTRUM_KERNEL", "linux", 1);
	TAP_OK(sp_host_detect(&host, &err) < 0 && strstr(err.msg, "use debian or spectrum"),
	       "another name is refused");
	unsetenv("SPECTRUM_KERNEL");
}

static void test_stable_names(const struct sp_config *cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_plans *a = sp_plan_compile(cfg, &host, "work", -1, &err);
	struct sp_plans *b = sp_plan_compile(cfg, &host, "work", -1, &err);

	TAP_OK(a && b && strcmp(a->v[0].nics[0].mac, b->v[0].nics[0].mac) == 0 &&
		       strcmp(a->v[0].nics[0].tap, b->v[0].nics[0].tap) == 0,
	       "MAC and tap are stable");
	TAP_STR(a ? a->v[0].nics[0].mac : NULL, "02:b0:ba:0b:30:ec", "MAC value is fixed forever");
	sp_plans_free(a);
	sp_plans_free(b);
}

/* The addressing rule of spectrum.json(5): a segment's subnet from its
 * name, an instance's host number from its name; on a collision the name
 * later in byte order takes the next free one.  The order of the file
 * changes nothing. */
static const char addr_text[] =
	"{\"version\": 1,\n"
	" \"applications\": {\"a\": {\"image\": \"a\", \"command\": [\"/bin/true\"]}},\n"
	" \"resources\": {\"seg41\": {\"type\": \"net\"}, \"seg406\": {\"type\": \"net\"},\n"
	"                \"web\": {\"type\": \"net\", \"nat\": true}},\n"
	" \"instances\": {\n"
	"  \"z\": {\"application\": \"a\", \"bindings\": {\"seg41\": {}, \"seg406\": {}, \"web\": {}}},\n"
	"  \"x\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}},\n"
	"  \"y\": {\"application\": \"a\"},\n"
	"  \"m53\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}},\n"
	"  \"m1\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}}}}\n";
/* The same, every section in the opposite order. */
static const char addr_text_rev[] =
	"{\"version\": 1,\n"
	" \"applications\": {\"a\": {\"image\": \"a\", \"command\": [\"/bin/true\"]}},\n"
	" \"resources\": {\"web\": {\"type\": \"net\", \"nat\": true},\n"
	"                \"seg406\": {\"type\": \"net\"}, \"seg41\": {\"type\": \"net\"}},\n"
	" \"instances\": {\n"
	"  \"m1\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}},\n"
	"  \"m53\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}},\n"
	"  \"y\": {\"application\": \"a\"},\n"
	"  \"x\": {\"application\": \"a\", \"bindings\": {\"seg406\": {}}},\n"
	"  \"z\": {\"application\": \"a\", \"bindings\": {\"web\": {}, \"seg406\": {}, \"seg41\": {}}}}}\n";

/* INSTANCE's address on SEGMENT, from the plans of a file, or NULL. */
static const char *addr_of(const struct sp_plans *all, const char *inst, const char *seg)
{
	for (size_t i = 0; all && i < all->n; i++)
		for (size_t j = 0; strcmp(all->v[i].instance, inst) == 0 && j < all->v[i].nnics;
		     j++)
			if (strcmp(all->v[i].nics[j].resource, seg) == 0)
				return all->v[i].nics[j].address;
	return NULL;
}

static struct sp_plans *addr_plans(const char *text, struct sp_config **cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_diags d;
	struct sp_plans *all;

	sp_diags_init(&d, "addr.json");
	*cfg = sp_config_parse(text, strlen(text), "addr.json", ".", &d);
	all = *cfg ? sp_plan_compile(*cfg, &host, NULL, -1, &err) : NULL;
	TAP_OK(all && all->n == 5, "plans of the addressing config (%s)", err.msg);
	sp_diags_fini(&d);
	return all;
}

static void test_addresses(void)
{
	static const char *const pairs[][2] = {
		{"z", "seg41"},	 {"z", "seg406"},  {"z", "web"},
		{"x", "seg406"}, {"m1", "seg406"}, {"m53", "seg406"},
	};
	struct sp_config *cfg, *cfg_rev;
	struct sp_plans *all = addr_plans(addr_text, &cfg);
	struct sp_plans *rev = addr_plans(addr_text_rev, &cfg_rev);
	bool same = all && rev;

	if (all) {
		const struct sp_plan_nic *zn = all->v[0].nics;
		/* "seg41" and "seg406" hash to the same 10.207.185.0/24:
		 * "seg406", first in byte order, keeps it. */
		TAP_STR(addr_of(all, "x", "seg406"), "10.207.185.126",
			"first segment of a colliding pair, by name: its hash; x's number");
		TAP_STR(zn[0].subnet, "10.207.186.0", "second of the pair: the next subnet");
		TAP_STR(zn[0].address, "10.207.186.150", "an instance's number is its name's");
		TAP_STR(zn[1].address, "10.207.185.150", "the same on every segment");
		/* "m1" and "m53" both hash to .11: "m1" keeps it. */
		TAP_STR(addr_of(all, "m1", "seg406"), "10.207.185.11",
			"first instance of a colliding pair, by name: its hash");
		TAP_STR(addr_of(all, "m53", "seg406"), "10.207.185.12",
			"second of the pair: the next number, though first in the file");
		TAP_OK(zn[0].prefix == 24 && !zn[0].gateway[0] && !zn[1].gateway[0],
		       "/24, no gateway on an isolated segment");
		TAP_STR(zn[2].gateway, "10.31.99.1", "a NAT segment's gateway is .1");
		TAP_STR(zn[2].address, "10.31.99.150", "and its instance's number is its name's");
		TAP_OK(strcmp(all->v[1].nics[0].bridge, zn[1].bridge) == 0 &&
			       strcmp(zn[0].bridge, zn[1].bridge) != 0,
		       "one bridge per segment");
		TAP_OK(strlen(zn[0].bridge) == 15 && strncmp(zn[0].bridge, "spb", 3) == 0 &&
			       strncmp(zn[0].bridge_mac, "02:", 3) == 0,
		       "bridge name fits IFNAMSIZ, its MAC is locally administered");
		TAP_OK(all->v[2].nnics == 0, "an instance without a segment has no interface");
	}
	for (size_t i = 0; same && i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		const char *a = addr_of(all, pairs[i][0], pairs[i][1]);
		const char *b = addr_of(rev, pairs[i][0], pairs[i][1]);
		if (!a || !b || strcmp(a, b) != 0) {
			printf("# %s on %s: %s, reversed %s\n", pairs[i][0], pairs[i][1],
			       a ? a : "none", b ? b : "none");
			same = false;
		}
	}
	TAP_OK(same, "every address is the same with every section in the opposite order");
	sp_plans_free(all);
	sp_plans_free(rev);
	sp_config_free(cfg);
	sp_config_free(cfg_rev);
}

static void test_json(const struct sp_config *cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_plans *plans = sp_plan_compile(cfg, &host, "work", -1, &err);
	char *js = plans ? sp_plan_to_json(&plans->v[0]) : NULL;

	TAP_OK(js && strstr(js, "\"instance\": \"work\"") && strstr(js, "\"readonly\": true"),
	       "plan JSON");
	free(js);
	sp_plans_free(plans);
}

static void test_guest_config(const struct sp_config *cfg)
{
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_plans *plans = sp_plan_compile(cfg, &host, "work", -1, &err);
	char *g = plans ? sp_guest_config(&plans->v[0]) : NULL;

	TAP_STR(g,
		"spectrum-guest 1\n"
		"hostname work\n"
		"root disk\n"
		"modules ext4\n"
		"modules share\n"
		"modules net\n"
		"modules usb\n"
		"scratch /run\n"
		"scratch /tmp\n"
		"scratch /var/tmp\n"
		"scratch /home\n"
		"volume vol0 ext4 rw /home/user/Mail\n"
		"volume vol1 ext4 ro /old\n"
		"share dl rw /dl\n"
		"net 02:b0:ba:0b:30:ec 10.31.99.207/24 10.31.99.1\n"
		"env LANG=C.UTF-8\n"
		"cmd\n"
		"arg /usr/bin/mutt\n"
		"arg -R\n",
		"guest config of a plan");
	free(g);
	sp_plans_free(plans);
}

/* A binding at exactly a scratch path takes the place of its tmpfs; one
 * below a scratch path leaves the tmpfs under it. */
static void test_guest_scratch(void)
{
	static const char text[] =
		"{\"applications\": {\"a\": {\"image\": \"a\", \"command\": [\"/bin/a\"]}},\n"
		" \"resources\": {\"home\": {\"type\": \"block\", \"size\": \"1G\"}, \"t\": {\"type\": \"directory\", \"path\": \"/srv/t\"},\n"
		"  \"m\": {\"type\": \"block\", \"size\": \"1G\"}},\n"
		" \"instances\": {\"h\": {\"application\": \"a\", \"bindings\": {\n"
		"  \"home\": {\"path\": \"/home\", \"mode\": \"rw\"}, \"t\": {\"path\": \"/var/tmp\"},\n"
		"  \"m\": {\"path\": \"/run/m\"}}}}}\n";
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_diags d;
	struct sp_config *cfg;
	struct sp_plans *plans;
	char *g;

	sp_diags_init(&d, "h.json");
	cfg = sp_config_parse(text, strlen(text), "h.json", "/cfgdir", &d);
	plans = cfg ? sp_plan_compile(cfg, &host, "h", -1, &err) : NULL;
	g = plans ? sp_guest_config(&plans->v[0]) : NULL;
	TAP_OK(g && strstr(g, "scratch /run\nscratch /tmp\nvolume vol0 ext4 rw /home\n"),
	       "a binding at /home or /var/tmp replaces its scratch tmpfs, one below /run does not");
	TAP_OK(g && strstr(g, "share ") && strstr(g, " ro /var/tmp\n") &&
		       strstr(g, "volume vol1 ext4 ro /run/m\n"),
	       "the bindings are there");
	free(g);
	sp_plans_free(plans);
	sp_config_free(cfg);
	sp_diags_fini(&d);
}

/* Several applications in one instance: the model keeps them in order,
 * the plan runs all their commands with their names and environment, and
 * the guest configuration names each one before its commands. */
static void test_several_apps(void)
{
	static const char text[] =
		"{\"applications\": {\"ed\": {\"image\": \"a\", \"command\": [\"/bin/ed\"], \"memory\": \"512M\",\n"
		"   \"env\": {\"X\": \"1\"}},\n"
		"  \"sh\": {\"image\": \"a\", \"commands\": [[\"/bin/sh\"], [\"/bin/b\"]], \"vcpus\": 2,\n"
		"   \"env\": {\"X\": \"1\", \"Y\": \"2\"}}},\n"
		" \"instances\": {\"both\": {\"applications\": [\"sh\", \"ed\"]}, \"one\": {\"application\": \"ed\"}}}\n";
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	const struct sp_instance *both;
	struct sp_err err = {0};
	struct sp_diags d;
	struct sp_config *cfg;
	struct sp_plans *plans;
	const struct sp_plan *p;
	char *g, *json;

	sp_diags_init(&d, "m.json");
	cfg = sp_config_parse(text, strlen(text), "m.json", "/cfgdir", &d);
	both = cfg ? sp_config_instance(cfg, "both") : NULL;
	TAP_OK(both && both->napplications == 2 && both->applications[0] == 1 &&
		       both->applications[1] == 0 && both->application == 1,
	       "an instance's applications, in its order, the first as its application");
	TAP_OK(both && both->memory == 512ull << 20 && both->vcpus == 2,
	       "its memory and vCPUs default to the largest of its applications'");
	plans = cfg ? sp_plan_compile(cfg, &host, NULL, -1, &err) : NULL;
	p = plans ? &plans->v[0] : NULL;
	TAP_OK(p && p->napps == 2 && p->apps && p->ncommands == 3 &&
		       strcmp(p->application, "sh+ed") == 0,
	       "the plan runs every command of both, named \"sh+ed\"");
	TAP_OK(p && p->apps && strcmp(p->apps[0].name, "sh") == 0 && p->apps[0].first == 0 &&
		       p->apps[0].ncommands == 2 && strcmp(p->apps[1].name, "ed") == 0 &&
		       p->apps[1].first == 2 && strcmp(p->commands[2].argv[0], "/bin/ed") == 0,
	       "each application's commands are its own range");
	TAP_OK(p && p->nenv == 2, "their environment is merged, each name once");
	g = p ? sp_guest_config(p) : NULL;
	TAP_OK(g && strstr(g,
			   "app sh\ncmd\narg /bin/sh\ncmd\narg /bin/b\napp ed\ncmd\narg /bin/ed\n"),
	       "the guest configuration names each application before its commands");
	json = p ? sp_plan_to_json(p) : NULL;
	TAP_OK(json && strstr(json, "\"applications\": [") && strstr(json, "\"name\": \"ed\""),
	       "the JSON plan lists the applications");
	free(json);
	free(g);
	p = plans ? &plans->v[1] : NULL;
	g = p ? sp_guest_config(p) : NULL;
	json = p ? sp_plan_to_json(p) : NULL;
	TAP_OK(p && p->napps == 1 && !p->apps && g && !strstr(g, "app ") && json &&
		       !strstr(json, "\"applications\""),
	       "one application: no app lines, no applications key (unchanged)");
	free(json);
	free(g);
	sp_plans_free(plans);
	sp_config_free(cfg);
	sp_diags_fini(&d);
}

/* Disposable: each rw disk gets a layer in the run directory; ro disks
 * and other instances are untouched; a rw directory share is refused. */
static void test_disposable(void)
{
	static const char text[] =
		"{\"applications\": {\"a\": {\"image\": \"a\", \"command\": [\"/bin/a\"]}},\n"
		" \"resources\": {\"v\": {\"type\": \"block\", \"size\": \"1G\"}, \"w\": {\"type\": \"block\", \"size\": \"1G\"},\n"
		"  \"dir\": {\"type\": \"directory\", \"path\": \"/srv/d\"}},\n"
		" \"instances\": {\"t\": {\"application\": \"a\", \"disposable\": true, \"bindings\": {\n"
		"   \"v\": {\"path\": \"/v\", \"mode\": \"rw\"}, \"w\": {\"path\": \"/w\"}}},\n"
		"  \"k\": {\"application\": \"a\", \"bindings\": {\"v\": {\"path\": \"/v\", \"mode\": \"rw\"},\n"
		"   \"dir\": {\"path\": \"/d\", \"mode\": \"rw\"}}}}}\n";
	struct sp_host host = test_host(SP_ARCH_X86_64, false);
	struct sp_err err = {0};
	struct sp_diags d;
	struct sp_config *cfg;
	struct sp_plans *plans;
	const struct sp_plan *t, *k;

	sp_diags_init(&d, "t.json");
	cfg = sp_config_parse(text, strlen(text), "t.json", "/cfgdir", &d);
	TAP_OK(cfg && sp_config_instance(cfg, "t")->disposable &&
		       !sp_config_instance(cfg, "k")->disposable,
	       "\"disposable\" is read, false by default");
	plans = cfg ? sp_plan_compile(cfg, &host, NULL, -1, &err) : NULL;
	t = plans ? &plans->v[0] : NULL;
	k = plans ? &plans->v[1] : NULL;
	TAP_OK(t && t->disposable && t->disks[0].overlay &&
		       strcmp(t->disks[0].overlay, "/run/sp/t/overlay-vol0.qcow2") == 0 &&
		       !t->disks[1].overlay,
	       "a rw disk of a disposable instance has its layer in the run directory, an ro one none");
	TAP_OK(k && !k->disposable && !k->disks[0].overlay, "another instance's disk has none");
	TAP_OK(k && sp_plan_make_disposable(plans, (struct sp_plan *)k, &err) < 0 &&
		       strstr(err.msg, "cannot write directory dir") &&
		       strstr(err.msg, "bind it \"ro\"") && strcmp(err.place, "instances.k") == 0,
	       "run --disposable refuses a rw directory share, with the fix");
	sp_plans_free(plans);
	sp_config_free(cfg);
	sp_diags_fini(&d);
}

static void test_errors(void)
{
	struct sp_diags d;
	struct sp_config *cfg;

	sp_diags_init(&d, "x.json");
	static const char two[] = "{\"instances\": {\"a\": {\"application\": \"b\"}}, \"x\": 1}";
	cfg = sp_config_parse(two, strlen(two), "x.json", NULL, &d);
	TAP_OK(!cfg && d.errors == 2 && d.n == 2, "every error is collected");
	sp_diags_fini(&d);

	sp_diags_init(&d, "x.json");
	cfg = sp_config_parse("{}", 2, "x.json", NULL, &d);
	TAP_OK(cfg && d.errors == 0 && cfg->ninstances == 0, "empty object is a valid file");
	sp_config_free(cfg);
	sp_diags_fini(&d);
}

int main(void)
{
	struct sp_diags d;
	struct sp_config *cfg;

	sp_diags_init(&d, "test.json");
	cfg = sp_config_parse(config, strlen(config), "test.json", "/cfgdir", &d);
	TAP_OK(cfg && d.errors == 0, "the test configuration parses");
	for (size_t i = 0; i < d.n; i++)
		printf("# %s: %s\n", d.v[i].place ? d.v[i].place : "", d.v[i].msg);
	if (cfg) {
		test_model(cfg);
		test_plans(cfg);
		test_stable_names(cfg);
		test_memory(cfg);
		test_json(cfg);
		test_guest_config(cfg);
	}
	sp_config_free(cfg);
	sp_diags_fini(&d);
	test_errors();
	test_kernel_choice();
	test_addresses();
	test_guest_scratch();
	test_several_apps();
	test_disposable();
	return tap_done();
}
