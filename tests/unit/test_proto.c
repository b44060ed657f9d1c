/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol's table of verbs, and the requests built from it. */
#include <string.h>

#include "proto.h"
#include "tap.h"

/* Every operation has one verb, found by its name, and no verb is unnamed
 * or outside the operations the daemon takes. */
static void test_verbs(void)
{
	size_t n = 0;

	for (const struct sp_verb *v = sp_verbs; v->name; v++) {
		n++;
		TAP_OK(v->op >= 1 && v->op <= SP_OP_MAX, "verb %s has an operation", v->name);
		TAP_OK(sp_verb_find(v->name) == v, "verb %s is found by its name, once", v->name);
		TAP_OK(v->args && v->summary && v->help, "verb %s has its help", v->name);
	}
	TAP_OK(n == SP_OP_MAX, "one verb per operation (%zu for %d)", n, SP_OP_MAX);
	for (unsigned op = 1; op <= SP_OP_MAX; op++)
		TAP_OK(sp_verb_of(op) && sp_verb_of(op)->op == (enum sp_op)op,
		       "operation %u has a verb", op);
	TAP_OK(!sp_verb_of(0) && !sp_verb_of(SP_OP_MAX + 1), "no verb outside 1..SP_OP_MAX");
	TAP_OK(!sp_verb_find("frob"), "an unknown name is no verb");
	TAP_STR(sp_op_name(SP_OP_LOGS), "logs", "sp_op_name reads the table");
}

/* What the client builds from a verb, the daemon accepts: with a name
 * exactly when the verb needs one. */
static void test_requests(void)
{
	for (const struct sp_verb *v = sp_verbs; v->name; v++) {
		struct sp_request rq, out;
		struct sp_err err = {0};
		const char *name = v->needs_name ? "mail-work" : NULL;
		TAP_OK(sp_request_make(&rq, v->op, 0, name) == 0 &&
			       sp_request_check(&rq, sizeof(rq), &out, &err) == 0,
		       "%s: a request as the client makes it is accepted", v->name);
		sp_request_make(&rq, v->op, 0, v->needs_name ? NULL : "mail-work");
		TAP_OK(sp_request_check(&rq, sizeof(rq), &out, &err) < 0,
		       "%s: one %s an instance name is refused", v->name,
		       v->needs_name ? "without" : "with");
	}
}

/* The number of rollback and gc: only there, and the layout stays 80 bytes. */
static void test_numbers(void)
{
	struct sp_request rq, out;
	struct sp_err err = {0};

	TAP_OK(sizeof(rq) == 80, "a request is 80 bytes, as spectrumd(8) says");
	TAP_OK(sp_request_make_number(&rq, SP_OP_ROLLBACK, SP_FLAG_DRY_RUN, 7) == 0 &&
		       sp_request_check(&rq, sizeof(rq), &out, &err) == 0 && out.number == 7 &&
		       out.flags == SP_FLAG_DRY_RUN,
	       "rollback carries its generation and the dry-run flag");
	TAP_OK(sp_request_make_number(&rq, SP_OP_LIST, 0, 7) < 0, "list takes no number");
	sp_request_make(&rq, SP_OP_STOP, 0, "mail-work");
	rq.number = 3;
	TAP_OK(sp_request_check(&rq, sizeof(rq), &out, &err) < 0 &&
		       strcmp(err.msg, "this operation takes no number") == 0,
	       "a number on another operation is refused");
	sp_request_make(&rq, SP_OP_GC, 0, NULL);
	rq.reserved = 1;
	TAP_OK(sp_request_check(&rq, sizeof(rq), &out, &err) < 0, "the reserved field must be zero");
	TAP_OK(sp_verb_find("switch")->owner_only && sp_verb_find("gc")->owner_only &&
		       !sp_verb_find("generations")->owner_only && !sp_verb_find("list")->owner_only,
	       "switch, rollback and gc are root's; listing generations is not");
}

int main(void)
{
	test_verbs();
	test_requests();
	test_numbers();
	return tap_done();
}
