/*
 * rules_meta.c - meta rule expressions
 *
 * DESCRIPTION
 *	A meta expression combines the hit counts of other rules (1 or 0,
 *	or the number of matches for tflags multiple) with the operators
 *	SpamAssassin allows, by precedence from tightest:
 *	    ! and unary -        * /        + -
 *	    < > <= >=            == !=      &&        ||
 *	and parentheses; numbers are decimal (123, 1.5).  The value is a
 *	double; comparisons and logic give 0 or 1; division by zero gives
 *	0.  The rule hits when the value is not zero.  meta_parse() turns
 *	the infix text into postfix once, at load.
 *
 * LIMITS
 *	META_MAX_TOKENS tokens; the evaluation stack never exceeds them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rules_int.h"
#include "str.h"

/* precedence: higher binds tighter */
static int
prec(enum meta_op op)
{
	switch (op) {
	case MOP_NOT: case MOP_NEG: return 7;
	case MOP_MUL: case MOP_DIV: return 6;
	case MOP_ADD: case MOP_SUB: return 5;
	case MOP_LT: case MOP_GT: case MOP_LE: case MOP_GE: return 4;
	case MOP_EQ: case MOP_NE: return 3;
	case MOP_AND: return 2;
	case MOP_OR: return 1;
	default: return 0;
	}
}

static bool
unary(enum meta_op op)
{
	return op == MOP_NOT || op == MOP_NEG;
}

struct mp {
	struct meta_expr *e;
	struct meta_tok ops[META_MAX_TOKENS];	/* operator stack */
	int	 paren[META_MAX_TOKENS];	/* 1 = '(' marker */
	size_t	 nops;
};

static int
emit(struct mp *p, const struct meta_tok *t, struct buf *why)
{
	if (p->e->n >= META_MAX_TOKENS) {
		buf_printf(why, "expression longer than %d tokens",
		    META_MAX_TOKENS);
		return -1;
	}
	p->e->rpn = xreallocarray(p->e->rpn, p->e->n + 1, sizeof(*p->e->rpn));
	p->e->rpn[p->e->n++] = *t;
	return 0;
}

static int
push_op(struct mp *p, enum meta_op op, int paren, struct buf *why)
{
	if (p->nops >= META_MAX_TOKENS) {
		buf_adds(why, "expression nested too deeply");
		return -1;
	}
	memset(&p->ops[p->nops], 0, sizeof(p->ops[0]));
	p->ops[p->nops].op = op;
	p->paren[p->nops++] = paren;
	return 0;
}

/* binop - two-character and one-character binary operators at s */
static int
binop(const char *s, enum meta_op *op)
{
	static const struct {
		const char *t;
		enum meta_op op;
	} ops[] = {
		{ "&&", MOP_AND }, { "||", MOP_OR }, { "<=", MOP_LE },
		{ ">=", MOP_GE }, { "==", MOP_EQ }, { "!=", MOP_NE },
		{ "<", MOP_LT }, { ">", MOP_GT }, { "+", MOP_ADD },
		{ "-", MOP_SUB }, { "*", MOP_MUL }, { "/", MOP_DIV },
	};
	size_t i, l;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		l = strlen(ops[i].t);
		if (strncmp(s, ops[i].t, l) == 0) {
			*op = ops[i].op;
			return (int)l;
		}
	}
	return 0;
}

int
meta_parse(const char *s, struct meta_expr *e, struct buf *why)
{
	struct mp *p = xcalloc(1, sizeof(*p));
	struct meta_tok t;
	const char *start = s;
	bool operand = true;	/* expecting an operand */
	enum meta_op op;
	char *end;
	int l, rc = -1;
	size_t k;

	memset(e, 0, sizeof(*e));
	p->e = e;
	for (;;) {
		while (ch_is_space((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		memset(&t, 0, sizeof(t));
		if (operand) {
			if (*s == '(') {
				if (push_op(p, MOP_OR, 1, why) < 0)
					goto out;
				s++;
			} else if (*s == '!' && s[1] != '=') {
				if (push_op(p, MOP_NOT, 0, why) < 0)
					goto out;
				s++;
			} else if (*s == '-') {
				if (push_op(p, MOP_NEG, 0, why) < 0)
					goto out;
				s++;
			} else if (ch_is_digit((unsigned char)*s) || *s == '.') {
				t.op = MOP_NUM;
				t.num = strtod(s, &end);
				if (end == s)
					goto syntax;
				s = end;
				if (emit(p, &t, why) < 0)
					goto out;
				operand = false;
			} else if (ch_is_alpha((unsigned char)*s) || *s == '_') {
				const char *b = s;

				while (ch_is_alnum((unsigned char)*s) || *s == '_')
					s++;
				t.op = MOP_RULE;
				t.name = xstrndup(b, (size_t)(s - b));
				if (emit(p, &t, why) < 0) {
					free(t.name);
					goto out;
				}
				operand = false;
			} else
				goto syntax;
			continue;
		}
		if (*s == ')') {
			while (p->nops > 0 && !p->paren[p->nops - 1]) {
				if (emit(p, &p->ops[--p->nops], why) < 0)
					goto out;
			}
			if (p->nops == 0) {
				buf_printf(why, "unbalanced ')' at column %zu",
				    (size_t)(s - start) + 1);
				goto out;
			}
			p->nops--;
			s++;
			continue;
		}
		if ((l = binop(s, &op)) == 0)
			goto syntax;
		while (p->nops > 0 && !p->paren[p->nops - 1] &&
		    (prec(p->ops[p->nops - 1].op) >= prec(op) ||
		    unary(p->ops[p->nops - 1].op))) {
			if (emit(p, &p->ops[--p->nops], why) < 0)
				goto out;
		}
		if (push_op(p, op, 0, why) < 0)
			goto out;
		s += l;
		operand = true;
	}
	if (operand) {
		buf_adds(why, e->n || p->nops ? "expression ends with an "
		    "operator" : "empty expression");
		goto out;
	}
	while (p->nops > 0) {
		if (p->paren[p->nops - 1]) {
			buf_adds(why, "unbalanced '('");
			goto out;
		}
		if (emit(p, &p->ops[--p->nops], why) < 0)
			goto out;
	}
	rc = 0;
	goto out;
syntax:
	buf_printf(why, "syntax error at column %zu near '%.20s'",
	    (size_t)(s - start) + 1, s);
out:
	free(p);
	if (rc < 0) {
		for (k = 0; k < e->n; k++)
			free(e->rpn[k].name);
		free(e->rpn);
		memset(e, 0, sizeof(*e));
	}
	return rc;
}

void
meta_release(struct meta_expr *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->rpn[i].name);
	free(e->rpn);
	memset(e, 0, sizeof(*e));
}

double
meta_eval(const struct meta_expr *e, const unsigned *counts)
{
	double st[META_MAX_TOKENS], a, b;
	size_t sp = 0, i;

	for (i = 0; i < e->n; i++) {
		const struct meta_tok *t = &e->rpn[i];

		switch (t->op) {
		case MOP_NUM:
			st[sp++] = t->num;
			continue;
		case MOP_RULE:
			st[sp++] = (double)counts[t->rule];
			continue;
		case MOP_NOT:
			st[sp - 1] = st[sp - 1] == 0;
			continue;
		case MOP_NEG:
			st[sp - 1] = -st[sp - 1];
			continue;
		default:
			break;
		}
		b = st[--sp];
		a = st[sp - 1];
		switch (t->op) {
		case MOP_MUL: a = a * b; break;
		case MOP_DIV: a = b == 0 ? 0 : a / b; break;
		case MOP_ADD: a = a + b; break;
		case MOP_SUB: a = a - b; break;
		case MOP_LT: a = a < b; break;
		case MOP_GT: a = a > b; break;
		case MOP_LE: a = a <= b; break;
		case MOP_GE: a = a >= b; break;
		case MOP_EQ: a = a == b; break;
		case MOP_NE: a = a != b; break;
		case MOP_AND: a = a != 0 && b != 0; break;
		case MOP_OR: a = a != 0 || b != 0; break;
		default: break;
		}
		st[sp - 1] = a;
	}
	return sp ? st[sp - 1] : 0;
}
