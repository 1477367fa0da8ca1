/*
 * telegraf.c - the telegraf naming of telegraf.h.
 */
#include <string.h>

#include "telegraf.h"

static const char *
str_item(const cJSON *o, const char *name)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(f) ? f->valuestring : NULL;
}

/* One part of a name, after a dot: '.' -> '_' and '/' -> '-' in it. */
static int
add_part(struct flux_buf *b, const char *s)
{
	size_t	start = b->len;

	if ((b->len > 0 && flux_buf_add(b, ".", 1) == -1) || flux_buf_adds(b, s) == -1)
		return -1;
	for (start += (start > 0); start < b->len; start++)
		if (b->ptr[start] == '.' || b->ptr[start] == '/')
			b->ptr[start] = b->ptr[start] == '.' ? '_' : '-';
	return 0;
}

/* True when obj has what a name needs: a "name" string and "fields". */
int
flux_telegraf_is_metric(const cJSON *obj)
{
	return cJSON_IsObject(obj) && str_item(obj, "name") != NULL &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "fields"));
}

/* The fields of every object of metrics: the points the batch may carry. */
size_t
flux_telegraf_count(const cJSON *metrics)
{
	const cJSON	*obj, *fields;
	size_t		 n = 0;

	cJSON_ArrayForEach(obj, metrics)
		if (cJSON_IsObject(fields = cJSON_GetObjectItemCaseSensitive(obj,
		    "fields")))
			n += (size_t)cJSON_GetArraySize(fields);
	return n;
}

/*
 * Begin naming the fields of obj (flux_telegraf_is_metric() true), under
 * prefix P (NULL or "": none); 0, or -1 when memory ran out. The prefix
 * is taken as it is: it is the operator's, and the key's prefix rule
 * applies to the whole name later.
 */
int
flux_telegraf_open(struct flux_telegraf *t, const cJSON *obj, const char *prefix)
{
	const cJSON	*tag;

	memset(t, 0, sizeof(*t));
	t->field = cJSON_GetObjectItemCaseSensitive(obj, "fields")->child;
	t->host = str_item(cJSON_GetObjectItemCaseSensitive(obj, "tags"), "host");
	if (prefix != NULL && *prefix != '\0' && flux_buf_adds(&t->base, prefix) == -1)
		return -1;
	/* An object without a host is dropped, its names shown without one. */
	if (t->host != NULL && add_part(&t->base, t->host) == -1)
		return -1;
	/* Tags that are not an object (an array) have no keys: none is used. */
	cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(obj, "tags")) {
		if (tag->string == NULL || strcmp(tag->string, "host") == 0 ||
		    !cJSON_IsString(tag))
			continue;
		if (add_part(&t->base, tag->valuestring) == -1)
			return -1;
	}
	return add_part(&t->base, str_item(obj, "name"));
}

/*
 * The next field: its name (valid until the next call) and its value, a
 * JSON number, or NULL when the field is dropped. 1, 0 at the end, or -1
 * when memory ran out.
 */
int
flux_telegraf_next(struct flux_telegraf *t, const char **name,
    const cJSON **value)
{
	const cJSON	*f = t->field;

	if (f == NULL)
		return 0;
	t->field = f->next;
	t->name.len = 0;
	if (flux_buf_add(&t->name, t->base.ptr, t->base.len) == -1 ||
	    add_part(&t->name, f->string) == -1)
		return -1;
	*name = t->name.ptr;
	*value = (t->host != NULL && cJSON_IsNumber(f)) ? f : NULL;
	return 1;
}

void
flux_telegraf_close(struct flux_telegraf *t)
{
	flux_buf_free(&t->base);
	flux_buf_free(&t->name);
}
