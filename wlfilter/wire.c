/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Wayland wire format: see wire.h. */
#include "wire.h"

#include <string.h>

uint32_t swl_get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* host byte order, like libwayland */
	return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

int swl_header_read(const uint8_t *buf, size_t len, struct swl_header *h)
{
	uint32_t word;

	if (len < 8)
		return 0;
	h->id = swl_get_u32(buf);
	word = swl_get_u32(buf + 4);
	h->opcode = (uint16_t)(word & 0xffff);
	h->size = (uint16_t)(word >> 16);
	if (h->size < 8 || h->size > SWL_MSG_MAX || h->size % 4 != 0)
		return -1;
	return len >= h->size ? 1 : 0;
}

/* A string or array: a length word, then that many bytes padded to 4. */
static int parse_blob(struct swl_arg *arg, const uint8_t *body, size_t len, size_t *pos,
		      const char **why)
{
	size_t padded;

	if (len - *pos < 4) {
		*why = "message too short for its arguments";
		return -1;
	}
	arg->len = swl_get_u32(body + *pos);
	*pos += 4;
	arg->data = body + *pos;
	if (arg->len > len - *pos) {
		*why = "string or array longer than its message";
		return -1;
	}
	padded = ((size_t)arg->len + 3) & ~(size_t)3;
	if (padded > len - *pos) {
		*why = "string or array padding past its message";
		return -1;
	}
	*pos += padded;
	if (arg->len == 0) {
		arg->null = true;
		arg->data = NULL;
		return 0;
	}
	if (arg->type == 's' && arg->data[arg->len - 1] != '\0') {
		*why = "string without its terminating NUL";
		return -1;
	}
	return 0;
}

static int parse_one(struct swl_arg *arg, bool nullable, const uint8_t *body, size_t len,
		     size_t *pos, const char **why)
{
	switch (arg->type) {
	case 'h':
		return 0;
	case 's':
	case 'a':
		if (parse_blob(arg, body, len, pos, why) < 0)
			return -1;
		break;
	case 'i':
	case 'u':
	case 'f':
	case 'o':
	case 'n':
		if (len - *pos < 4) {
			*why = "message too short for its arguments";
			return -1;
		}
		arg->u = swl_get_u32(body + *pos);
		*pos += 4;
		arg->null = (arg->type == 'o' && arg->u == 0);
		if (arg->type == 'n' && arg->u == 0) {
			*why = "new id 0";
			return -1;
		}
		break;
	default:
		*why = "internal: unknown signature type";
		return -1;
	}
	if (arg->null && !nullable && arg->type != 'a') {
		*why = "null where the protocol allows none";
		return -1;
	}
	return 0;
}

int swl_args_parse(const char *sig, const uint8_t *body, size_t len, struct swl_args *out,
		   const char **why)
{
	size_t pos = 0;
	bool nullable = false;

	out->n = 0;
	out->nfds = 0;
	for (const char *t = sig; *t; t++) {
		struct swl_arg *arg;

		if (*t == '?') {
			nullable = true;
			continue;
		}
		if (out->n == SWL_ARGS_MAX) {
			*why = "internal: signature too long";
			return -1;
		}
		arg = &out->a[out->n++];
		memset(arg, 0, sizeof(*arg));
		arg->type = *t;
		if (parse_one(arg, nullable, body, len, &pos, why) < 0)
			return -1;
		if (*t == 'h')
			out->nfds++;
		nullable = false;
	}
	if (pos != len) {
		*why = "bytes left over after the arguments";
		return -1;
	}
	return 0;
}

void swl_msg_begin(struct swl_msgbuf *m, uint32_t id, uint16_t opcode)
{
	put_u32(m->buf, id);
	put_u32(m->buf + 4, opcode);
	m->len = 8;
	m->ok = true;
}

void swl_msg_u32(struct swl_msgbuf *m, uint32_t v)
{
	if (!m->ok || sizeof(m->buf) - m->len < 4) {
		m->ok = false;
		return;
	}
	put_u32(m->buf + m->len, v);
	m->len += 4;
}

void swl_msg_string(struct swl_msgbuf *m, const char *s, size_t len)
{
	size_t padded = (len + 1 + 3) & ~(size_t)3;

	if (!m->ok || sizeof(m->buf) - m->len < 4 + padded) {
		m->ok = false;
		return;
	}
	put_u32(m->buf + m->len, (uint32_t)(len + 1));
	memcpy(m->buf + m->len + 4, s, len);
	memset(m->buf + m->len + 4 + len, 0, padded - len);
	m->len += 4 + padded;
}

bool swl_msg_end(struct swl_msgbuf *m)
{
	if (!m->ok)
		return false;
	put_u32(m->buf + 4, (uint32_t)m->len << 16 | swl_get_u32(m->buf + 4));
	return true;
}
