/*
 * lua_text.c - prints the text of an embedded Redis script exactly as the
 * store sends it with EVAL, so that tests/lua.bats can have Redis compile
 * it (SCRIPT LOAD): "lua_text dedup", or rollback, advance, last. Exits 2
 * on any other name.
 */
#include <stdio.h>
#include <string.h>

#include "lua/advance.lua.h"
#include "lua/dedup.lua.h"
#include "lua/last.lua.h"
#include "lua/rollback.lua.h"

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		const char	*text;
	} scripts[] = {
		{ "dedup", dedup_lua },
		{ "rollback", rollback_lua },
		{ "advance", advance_lua },
		{ "last", last_lua },
	};
	size_t	i;

	for (i = 0; argc == 2 && i < sizeof(scripts) / sizeof(scripts[0]); i++)
		if (strcmp(argv[1], scripts[i].name) == 0)
			return fputs(scripts[i].text, stdout) == EOF;
	fprintf(stderr, "usage: lua_text dedup|rollback|advance|last\n");
	return 2;
}
