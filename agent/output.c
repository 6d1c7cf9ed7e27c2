/*
 * output.c - incidents as JSON lines or as text for a person (output.h).
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"

/* Customers listed by name in text output before "and N more", and
 * evidence lines shown (the JSON form carries every one kept). */
#define TEXT_MAX_CUSTOMERS 12
#define TEXT_MAX_EVIDENCE 5

int output_format_parse(const char *s, enum output_format *out)
{
	if (strcmp(s, "json") == 0)
		*out = OUTPUT_JSON;
	else if (strcmp(s, "text") == 0)
		*out = OUTPUT_TEXT;
	else
		return -1;
	return 0;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* An incident for a person: what, who, whose data, and a few lines of the
 * evidence. */
static void print_text(FILE *f, const struct bw_incident *inc)
{
	char t1[40], t2[40];
	const char *sev = bw_severity_name(inc->severity);
	uint64_t more;

	fprintf(f, "== %s incident %s (revision %u%s)\n", sev ? sev : "?",
		inc->id, inc->revision, inc->closed ? ", closed" : "");
	fprintf(f, "   %s\n", inc->title);
	if (inc->summary != NULL && strcmp(inc->summary, inc->title) != 0)
		fprintf(f, "   %s\n", inc->summary);
	fprintf(f, "   rule      %s (%s)\n", inc->rule, inc->category);
	fprintf(f, "   seen      %s .. %s, %llu %s, on %s\n",
		bw_time_format(inc->first_seen_us, t1, sizeof(t1)),
		bw_time_format(inc->last_seen_us, t2, sizeof(t2)),
		(unsigned long long)inc->event_count,
		plural(inc->event_count, "event", "events"), inc->host);
	if (inc->n_actor > 0) {
		fprintf(f, "   actor    ");
		for (size_t i = 0; i < inc->n_actor; i++)
			fprintf(f, " %s=%s", inc->actor[i].key,
				inc->actor[i].value);
		fprintf(f, "\n");
	}
	if (inc->n_customers == 0)
		fprintf(f, "   customers none named%s\n",
			inc->affected_unknown ? "; who is affected is not known"
					      : "");
	else
		fprintf(f, "   customers %zu%s", inc->n_customers,
			inc->affected_unknown ? " named, maybe more" : "");
	for (size_t i = 0; i < inc->n_customers && i < TEXT_MAX_CUSTOMERS; i++)
		fprintf(f, "%s%s", i == 0 ? ": " : ", ", inc->customers[i]);
	if (inc->n_customers > TEXT_MAX_CUSTOMERS)
		fprintf(f, " and %zu more",
			inc->n_customers - TEXT_MAX_CUSTOMERS);
	if (inc->n_customers > 0)
		fprintf(f, "\n");
	if (inc->n_data_kinds > 0) {
		fprintf(f, "   data     ");
		for (size_t i = 0; i < inc->n_data_kinds; i++)
			fprintf(f, " %s", inc->data_kinds[i]);
		fprintf(f, "\n");
	}
	fprintf(f, "   notify    %s\n",
		inc->notify_customers ? "customers and security team"
				      : "security team");
	for (size_t i = 0; i < inc->n_evidence && i < TEXT_MAX_EVIDENCE; i++)
		fprintf(f, "   evidence  %s  %s\n", inc->evidence[i].ref,
			inc->evidence[i].excerpt);
	more = inc->evidence_omitted;
	if (inc->n_evidence > TEXT_MAX_EVIDENCE)
		more += inc->n_evidence - TEXT_MAX_EVIDENCE;
	if (more > 0)
		fprintf(f, "   evidence  ... and %llu more %s\n",
			(unsigned long long)more, plural(more, "event", "events"));
	for (size_t i = 0; i < inc->n_steps; i++)
		fprintf(f, "   contain   %s: %s %s\n", inc->steps[i].action,
			inc->steps[i].status, inc->steps[i].detail);
	fprintf(f, "\n");
}

void output_incident(FILE *f, const struct bw_incident *inc,
		     enum output_format fmt)
{
	char *json;

	if (fmt == OUTPUT_TEXT) {
		print_text(f, inc);
		return;
	}
	json = bw_incident_to_json(inc);
	fprintf(f, "%s\n", json);
	free(json);
}
