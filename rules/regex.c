/*
 * regex.c - PCRE2 patterns of rules and site facts.
 *
 * Patterns are compiled in byte mode (never UTF: log lines are not always
 * valid UTF-8), JIT-compiled when the platform allows, and each keeps its
 * match data, so a run allocates nothing. Runs share one match context with
 * a match limit and a bounded JIT stack: a hostile line cannot make a rule
 * backtrack for ever; a run that hits the limit counts as no match and is
 * counted in regex_errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"

#define MATCH_LIMIT    1000000
#define HEAP_LIMIT_KIB (16 * 1024)
#define JIT_STACK_MIN  (32 * 1024)
#define JIT_STACK_MAX  (1024 * 1024)

struct regex *regex_new(const char *pattern, bool nocase, char *msg,
                        size_t msgsz)
{
	struct regex *re;
	PCRE2_UCHAR ebuf[256];
	PCRE2_SIZE eoff;
	uint32_t count = 0, esize = 0, opts = PCRE2_NEVER_UTF;
	PCRE2_SPTR table = NULL;
	int ecode;

	if (nocase)
		opts |= PCRE2_CASELESS;
	re = xcalloc(1, sizeof(*re));
	re->pattern = xstrdup(pattern);
	re->nocase = nocase;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                         opts, &ecode, &eoff, NULL);
	if (re->code == NULL) {
		pcre2_get_error_message(ecode, ebuf, sizeof(ebuf));
		snprintf(msg, msgsz, "bad regex \"%s\" at offset %zu: %s",
		         pattern, (size_t)eoff, (const char *)ebuf);
		goto fail;
	}
	re->jit = pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE) == 0;
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (re->md == NULL) {
		snprintf(msg, msgsz, "out of memory for regex \"%s\"", pattern);
		goto fail;
	}
	if (pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &count) != 0 ||
	    pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &esize) !=
	        0 ||
	    pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table) != 0) {
		snprintf(msg, msgsz, "regex \"%s\": no name table", pattern);
		goto fail;
	}
	if (count > RULES_MAX_CAPS) {
		snprintf(msg, msgsz,
		         "regex \"%s\" has more than %d named "
		         "captures",
		         pattern, RULES_MAX_CAPS);
		goto fail;
	}
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * esize;

		re->names[i].group = (uint16_t)((e[0] << 8) | e[1]);
		re->names[i].name = xstrdup((const char *)e + 2);
	}
	re->n_names = count;
	re->hs = HSM_UNKNOWN;
	return re;
fail:
	regex_free(&re);
	return NULL;
}

void regex_free(struct regex **rep)
{
	struct regex *re = *rep;

	if (re == NULL)
		return;
	for (size_t i = 0; i < re->n_names; i++)
		free(re->names[i].name);
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re);
	*rep = NULL;
}

void regex_setup(struct rules *r)
{
	r->mctx = pcre2_match_context_create(NULL);
	if (r->mctx == NULL)
		abort(); /* out of memory, like xmalloc */
	pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
	pcre2_set_heap_limit(r->mctx, HEAP_LIMIT_KIB);
	r->jstack = pcre2_jit_stack_create(JIT_STACK_MIN, JIT_STACK_MAX, NULL);
	if (r->jstack != NULL)
		pcre2_jit_stack_assign(r->mctx, NULL, r->jstack);
}

void regex_teardown(struct rules *r)
{
	pcre2_jit_stack_free(r->jstack);
	r->jstack = NULL;
	pcre2_match_context_free(r->mctx);
	r->mctx = NULL;
}

int regex_run(struct rules *r, struct regex *re, const char *p, size_t len)
{
	PCRE2_SPTR subj = (PCRE2_SPTR)(p != NULL ? p : "");
	int rc;

	r->st.regex_runs++;
	if (re->jit)
		rc =
		    pcre2_jit_match(re->code, subj, len, 0, 0, re->md, r->mctx);
	else
		rc = pcre2_match(re->code, subj, len, 0, 0, re->md, r->mctx);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	r->st.regex_errors++;
	return -1;
}

bool regex_group(const struct regex *re, const char *subject, uint32_t g,
                 struct bw_str *out)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);

	if (g >= pcre2_get_ovector_count(re->md) || ov[2 * g] == PCRE2_UNSET ||
	    ov[2 * g + 1] < ov[2 * g])
		return false;
	out->p = subject + ov[2 * g];
	out->len = (uint32_t)(ov[2 * g + 1] - ov[2 * g]);
	return true;
}

int regex_group_by_name(const struct regex *re, const char *name)
{
	for (size_t i = 0; i < re->n_names; i++)
		if (strcmp(re->names[i].name, name) == 0)
			return re->names[i].group;
	return 0;
}
