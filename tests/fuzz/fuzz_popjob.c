/*
 * fuzz_popjob - libFuzzer harness for the populate_metric payload rules
 * (flux_popjob_from_json: every field, the metric name rules, the legacy
 * fetch_resolution_urls string, the URL checks) on any JSON document, and
 * for the queue round trip: a payload that is accepted must encode to a
 * job that decodes again and encodes to the same text. The document is read
 * with flux_json_parse, as the CGI reads it, which must refuse a \u0000
 * escape in a string.
 *
 * Build: see tests/fuzz/README.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "json_fuzz.h"
#include "popjob.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct flux_popjob *j)
{
	struct flux_popjob	 back;
	char			*text, *again, err[FLUX_ERRLEN];

	if ((text = flux_popjob_encode(j)) == NULL)
		return;
	if (flux_popjob_decode(text, &back, err) == -1)
		abort();
	if ((again = flux_popjob_encode(&back)) == NULL || strcmp(text, again) != 0)
		abort();
	free(again);
	free(text);
	flux_popjob_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flux_popjob	 j;
	char			 msg[FLUX_MSG_MAX];
	const char		*why;
	cJSON			*o;

	if ((o = flux_json_parse((const char *)data, size, &why)) == NULL)
		return 0;
	if (json_has_nul_escape(data, size))
		abort();	/* parsed: a string would be read cut short */
	if (flux_popjob_from_json(o, 0, (size & 1) ? "team.a" : NULL, &j, msg) == 0)
		round_trip(&j);
	flux_popjob_free(&j);
	if (flux_popjob_from_json(o, 1, NULL, &j, msg) == 0)
		round_trip(&j);
	flux_popjob_free(&j);
	cJSON_Delete(o);
	return 0;
}
