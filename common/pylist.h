/*
 * pylist.h - a strict reader for the one Python literal Flux meets: Vista's
 * fetch_resolution_urls, a list of str written by repr() and sent wrapped in
 * a str literal once more (skyline-flux-behaviour.md 2.3 and Q21). What
 * repr() can write is read; anything else is an error, never a guess.
 */
#ifndef FLUX_PYLIST_H
#define FLUX_PYLIST_H

#include <stddef.h>

#include "conf.h"

/*
 * How many str literals may wrap the list: Vista sends one inside the JSON
 * string ("possibly quoted twice"); one more is tolerated, not more.
 */
#define FLUX_PYLIST_MAX_WRAP 2

int	flux_pylist_parse(const char *s, size_t len, struct flux_list *out,
	    char err[]);

#endif
