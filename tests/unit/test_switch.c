/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The switch diff (lib/switch.h): old plans and new plans -> what happens. */
#include <string.h>

#include "sha256.h"
#include "switch.h"
#include "tap.h"

#define PLAN(mem, img) "{\"memory_mib\": " #mem ", \"root\": {\"image\": \"" img "\"}}"

static const char *line_of(const struct sp_switch_item *it)
{
	static char buf[512];

	sp_switch_line(it, buf, sizeof(buf));
	return buf;
}

static void test_edit(void)
{
	/* a untouched and running, b's memory changed, c removed, d new
	 * autostart, e new, f changed but stopped, g removed and stopped. */
	const struct sp_switch_side old[] = {
		{"a", PLAN(128, "x"), true},  {"b", PLAN(128, "x"), true},
		{"c", PLAN(128, "x"), true},  {"f", PLAN(128, "x"), false},
		{"g", PLAN(128, "x"), false}, {"h", PLAN(128, "x"), false},
	};
	const struct sp_switch_side new_[] = {
		{"h", PLAN(128, "x"), true},  {"a", PLAN(128, "x"), true},
		{"b", PLAN(160, "x"), true},  {"d", PLAN(128, "x"), true},
		{"e", PLAN(128, "x"), false}, {"f", PLAN(128, "y"), false},
	};
	struct sp_switch_item it[12];
	size_t n = sp_switch_diff(old, 6, new_, 6, true, it);

	TAP_OK(n == 8, "one item per instance of either side (%zu)", n);
	TAP_STR(line_of(&it[0]), "h: unchanged",
		"unchanged and stopped: left stopped, even if autostart");
	TAP_STR(line_of(&it[1]), "a: unchanged, keeps running", "unchanged and running: kept");
	TAP_OK(it[1].old_index == 0 && it[1].new_index == 1, "a kept maps old 0 to new 1");
	TAP_STR(line_of(&it[2]), "b: restart (memory_mib changed)",
		"changed and running: restart, naming the field");
	TAP_STR(line_of(&it[3]), "d: start (new, autostart)", "new autostart: start");
	TAP_STR(line_of(&it[4]), "e: added, not started (no autostart)", "new: added");
	TAP_STR(line_of(&it[5]), "f: updated (root changed), not running",
		"changed, stopped: updated");
	TAP_STR(line_of(&it[6]), "c: stop (removed)", "gone and running: stop");
	TAP_OK(it[6].new_index == SP_SWITCH_NONE && it[6].old_index == 2, "c has no new side");
	TAP_STR(line_of(&it[7]), "g: removed, was not running", "gone and stopped: dropped");
}

static void test_no_restart(void)
{
	const struct sp_switch_side old[] = {{"b", PLAN(128, "x"), true}};
	const struct sp_switch_side new_[] = {{"b", "{\"memory_mib\": 160, \"vcpus\": 2}", true}};
	struct sp_switch_item it[2];
	size_t n = sp_switch_diff(old, 1, new_, 1, false, it);

	TAP_OK(n == 1 && it[0].action == SP_SW_DEFER,
	       "--no-restart: a changed running VM is deferred");
	TAP_STR(it[0].changed, "memory_mib, vcpus, root",
		"fields added, changed and removed are named");
	TAP_STR(line_of(&it[0]),
		"b: changed (memory_mib, vcpus, root), not restarted: 'spectrum restart b' applies it",
		"and the line says how to apply it");
}

static void test_empty(void)
{
	const struct sp_switch_side one[] = {{"a", PLAN(1, "x"), true}};
	struct sp_switch_item it[2];

	TAP_OK(sp_switch_diff(NULL, 0, NULL, 0, true, it) == 0, "nothing to nothing: no item");
	TAP_OK(sp_switch_diff(one, 1, one, 1, true, it) == 1 && it[0].action == SP_SW_KEEP,
	       "the same configuration keeps everything");
	TAP_OK(sp_switch_diff(one, 1, NULL, 0, true, it) == 1 && it[0].action == SP_SW_STOP,
	       "an empty configuration stops everything");
}

static void test_sha256(void)
{
	struct sp_sha256 s;
	char hex[SP_SHA256_HEX];
	char million[1001];

	sp_sha256_init(&s);
	sp_sha256_hex(&s, hex);
	TAP_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"sha256 of nothing");
	sp_sha256_init(&s);
	sp_sha256_update(&s, "abc", 3);
	sp_sha256_hex(&s, hex);
	TAP_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"sha256 of abc");
	sp_sha256_init(&s);
	sp_sha256_update(&s, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	sp_sha256_hex(&s, hex);
	TAP_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"sha256 of 56 bytes (padding into a second block)");
	memset(million, 'a', sizeof(million));
	sp_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sp_sha256_update(&s, million, i % 2 ? 999 : 1001);
	sp_sha256_hex(&s, hex);
	TAP_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"sha256 of a million a's, fed unevenly");
	TAP_OK(sp_sha256_valid(hex) && !sp_sha256_valid("abc") &&
		       !sp_sha256_valid(
			       "CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0"),
	       "store names are 64 lower-case hex digits");
}

int main(void)
{
	test_edit();
	test_no_restart();
	test_empty();
	test_sha256();
	return tap_done();
}
