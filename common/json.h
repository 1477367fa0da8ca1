/*
 * json.h - the rules every JSON reader of Flux shares, whatever parses the
 * text: the bodies of metric_data_post (telegraf too) and populate_metric,
 * info.json and upload.json, status records, queued populate jobs, and the
 * answers of remote Graphite and Prometheus servers.
 *
 * The rule that needs a scan of the text rather than of the parsed tree:
 * Flux uses every JSON string as a C string, so a string whose decoded
 * length differs from its C length, one holding the escape \u0000, would
 * be read cut short ("atk.nul\u0000.x/../../y" as "atk.nul"; cJSON decodes a
 * \u escape that is not four hex digits as a NUL too). cJSON keeps
 * no length, so the text is scanned before it is parsed, and the scanner
 * keeps its state between calls so that a streamed answer is scanned as it
 * arrives. The same scan bounds the length of a string or number, which a
 * streaming parser would otherwise buffer whole.
 */
#ifndef FLUX_JSON_H
#define FLUX_JSON_H

#include <stddef.h>

struct cJSON;

/* A scan in progress; zero it to start. */
struct flux_json_scan {
	int	state;
	int	digits;		/* of a \u escape */
	int	zeros;
	size_t	token;		/* bytes of the current string or bare token */
};

int	flux_json_scan(struct flux_json_scan *s, const char *p, size_t n,
	    size_t token_max, const char **why);
struct cJSON *flux_json_parse(const char *text, size_t len, const char **why);

#endif
