/*
 * metric.c - SPEC section 3 in code. The rules are written once here and
 * every endpoint, the spool reader and flux-batch call them, so a name that
 * passes one entry point passes them all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "metric.h"
#include "util.h"

/*
 * Skyline's POST normalisation, applied to every entry point: space, '*'
 * and '\'' become '_', and runs of dots collapse to one (Skyline did one
 * pass of ".." -> ".", which left "..." as ".."; we collapse fully).
 */
void
flux_metric_normalise(char *name)
{
	char	*r, *w;

	for (r = w = name; *r != '\0'; r++) {
		if (*r == '.' && w > name && w[-1] == '.')
			continue;
		*w++ = (*r == ' ' || *r == '*' || *r == '\'') ? '_' : *r;
	}
	*w = '\0';
}

static int
allowed_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("+-%._=:", c) != NULL);
}

/*
 * NULL when name is a valid Graphite name, else the reason. No '/' (carbon
 * makes it a directory), no empty element (carbon collapses "a..b" and
 * makes ".wsp" of a trailing dot).
 */
const char *
flux_metric_invalid(const char *name)
{
	size_t	i, elem = 0, len = strlen(name);

	if (len == 0)
		return "empty name";
	if (len > FLUX_NAME_MAX)
		return "name longer than 4096 bytes";
	if (name[0] == '.' || name[len - 1] == '.')
		return "name starts or ends with a dot";
	for (i = 0; i < len; i++) {
		if (!allowed_char((unsigned char)name[i]))
			return "invalid characters in name";
		if (name[i] == '.') {
			if (elem == 0)
				return "empty element in name";
			elem = 0;
		} else if (++elem > FLUX_ELEMENT_MAX)
			return "element longer than 251 bytes";
	}
	return NULL;
}

/*
 * Check key against FLUX_SELF_API_KEY and FLUX_API_KEYS. Every known key is
 * compared in constant time, whatever matched, so timing tells nothing.
 * On success *prefix is the key's namespace prefix (NULL for none).
 */
int
flux_key_check(const struct flux_conf *c, const char *key, const char **prefix)
{
	size_t		i;
	int		found = 0;
	const char	*p = NULL;

	if (key == NULL || strlen(key) != FLUX_KEY_LEN)
		return -1;
	for (i = 0; i < FLUX_KEY_LEN; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' &&
		    key[i] <= 'Z') || (key[i] >= '0' && key[i] <= '9')))
			return -1;
	if (c->self_api_key != NULL && flux_ct_equal(key, c->self_api_key))
		found = 1;
	for (i = 0; i < c->api_keys.n; i++)
		if (flux_ct_equal(key, c->api_keys.v[i].left) && !found) {
			found = 1;
			p = c->api_keys.v[i].right;
		}
	if (!found)
		return -1;
	*prefix = (p != NULL && *p != '\0') ? p : NULL;
	return 0;
}

/*
 * The name a key with prefix P stores: name itself when it is P or starts
 * with "P.", else "P.name" (a per-metric, per-element test; Skyline's plain
 * string test let "Pfoo" through and cleared P for the rest of the request).
 * Returns a new string; the caller frees it.
 */
char *
flux_metric_prefix(const char *prefix, const char *name)
{
	size_t	pl;
	char	*out;

	if (prefix == NULL)
		return strdup(name);
	pl = strlen(prefix);
	if (strncmp(name, prefix, pl) == 0 && (name[pl] == '\0' || name[pl] == '.'))
		return strdup(name);
	if ((out = malloc(pl + strlen(name) + 2)) == NULL)
		return NULL;
	memcpy(out, prefix, pl);
	out[pl] = '.';
	memcpy(out + pl + 1, name, strlen(name) + 1);
	return out;
}

/* A timestamp is a decimal string of digits below 2^32. */
int
flux_ts_parse(const char *raw, int64_t *out)
{
	if (!flux_digits_only(raw))
		return -1;
	return flux_parse_i64(raw, 0, UINT32_MAX, out);
}

/* NULL when ts is inside [now - FLUX_MAX_AGE, now + FLUX_MAX_FUTURE]. */
static const char *
ts_check(const struct flux_conf *c, int64_t ts, int64_t now, char *buf,
    size_t len)
{
	if (ts < now - c->max_age) {
		snprintf(buf, len, "timestamp is too old, older than %lld seconds",
		    (long long)c->max_age);
		return buf;
	}
	if (ts > now + c->max_future) {
		if (c->max_future == 60)
			snprintf(buf, len, "timestamp is more than 1 minute in the future");
		else
			snprintf(buf, len, "timestamp is more than %lld seconds in the future",
			    (long long)c->max_future);
		return buf;
	}
	return NULL;
}

/* Append a point; takes ownership of name (freed even on failure). */
int
flux_points_add(struct flux_points *p, char *name, int64_t ts, double value,
    int fill)
{
	struct flux_point	*v;
	size_t			 cap;

	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 16;
		if ((v = realloc(p->v, cap * sizeof(*v))) == NULL) {
			free(name);
			return -1;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = (struct flux_point){ name, ts, value, fill, FLUX_PT_NEW };
	return 0;
}

size_t
flux_points_count(const struct flux_points *p, int state)
{
	size_t	i, n = 0;

	for (i = 0; i < p->n; i++)
		n += p->v[i].state == state;
	return n;
}

void
flux_points_free(struct flux_points *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		free(p->v[i].name);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/*
 * The whole name rule for one submitted name: normalise, check, apply the
 * key's prefix, check again (only the length can fail then). Returns the
 * name to store (caller frees), or NULL with *why the reason and *bad the
 * name to report (caller frees; NULL when memory ran out).
 */
char *
flux_metric_build(const char *raw, const char *prefix, const char **why,
    char **bad)
{
	char	*name, *full = NULL;

	*bad = NULL;
	*why = "out of memory";
	if ((name = strdup(raw)) == NULL)
		return NULL;
	flux_metric_normalise(name);
	if ((*why = flux_metric_invalid(name)) == NULL &&
	    (full = flux_metric_prefix(prefix, name)) != NULL &&
	    (*why = flux_metric_invalid(full)) == NULL) {
		free(name);
		return full;
	}
	if (full != NULL) {
		free(name);
		name = full;
	} else if (*why == NULL)
		*why = "out of memory";
	*bad = name;
	return NULL;
}

/* The parts of a point as strings: the query string's, a spool line's. */
static int
string_ts(const void *item, int64_t *ts)
{
	return flux_ts_parse(item, ts);
}

static int
string_value(const void *item, double *value)
{
	return flux_parse_double(item, value);
}

static char *
string_text(const void *item)
{
	return strdup(item);
}

const struct flux_point_form flux_point_strings = {
	string_ts, string_value, string_text
};

/* msg: "invalid <what> - <item as sent>", then " - <why>" if why is given. */
static enum flux_point_verdict
invalid(const struct flux_point_rules *r, char msg[], const char *what,
    const void *item, const char *why)
{
	char	*raw = r->form->text(item);

	flux_msgf(msg, "invalid %s - %s%s%s", what, raw ? raw : "",
	    why ? " - " : "", why ? why : "");
	free(raw);
	return FLUX_POINT_BAD;
}

/* The timestamp, its age (not for a back-fill), the value, in that order. */
static enum flux_point_verdict
check_ts_value(const struct flux_point_rules *r, const struct flux_point_in *in,
    int64_t *ts, double *value, char msg[])
{
	char	why[128];

	*ts = r->now;
	if (in->ts != NULL && r->form->ts(in->ts, ts) == -1)
		return invalid(r, msg, "timestamp", in->ts, "timestamp is not an int");
	if (in->ts != NULL && !in->fill &&
	    ts_check(r->conf, *ts, r->now, why, sizeof(why)) != NULL)
		return invalid(r, msg, "timestamp", in->ts, why);
	if (in->value == NULL)
		return flux_msgf(msg, "no value parameter passed"), FLUX_POINT_BAD;
	if (r->form->value(in->value, value) == -1)
		return invalid(r, msg, "value", in->value, NULL);
	return FLUX_POINT_OK;
}

/*
 * SPEC 3's checks of one submitted point, in their order: the name (with
 * the key's prefix), the timestamp, its age, the value. A good point is
 * added to p. A bad one gets the 400's message in msg (FLUX_MSG_MAX
 * bytes) and, when shown is not NULL, the name to show with it in
 * *shown (the name as built, or the bad one; caller frees; NULL when
 * memory ran out). FLUX_POINT_NOMEM: the point could not be added (500).
 */
enum flux_point_verdict
flux_point_check(const struct flux_point_rules *r,
    const struct flux_point_in *in, struct flux_points *p, char msg[],
    char **shown)
{
	enum flux_point_verdict	 v;
	const char		*why;
	char			*name, *bad;
	int64_t			 ts;
	double			 value;

	if (shown != NULL)
		*shown = NULL;
	if (in->metric == NULL)
		return flux_msgf(msg, "no metric parameter passed"), FLUX_POINT_BAD;
	if ((name = flux_metric_build(in->metric, r->prefix, &why, &bad)) == NULL) {
		flux_msgf(msg, "invalid metric - %s - %s", bad ? bad : in->metric, why);
		if (shown != NULL)
			*shown = bad ? bad : strdup(in->metric);
		else
			free(bad);
		return FLUX_POINT_BAD;
	}
	if ((v = check_ts_value(r, in, &ts, &value, msg)) == FLUX_POINT_OK)
		return flux_points_add(p, name, ts, value, in->fill) == 0 ?
		    FLUX_POINT_OK : FLUX_POINT_NOMEM;
	if (shown != NULL)
		*shown = name;
	else
		free(name);
	return v;
}
