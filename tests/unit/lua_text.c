/*
 * lua_text.c - prints the text of an embedded Redis script exactly as the
 * store sends it with EVAL, so that tests/lua.bats can have Redis compile
 * it (SCRIPT LOAD): "lua_text dedup", or rollback, advance, last,
 * confirm; with -s, the SHA1 the store calls it by with EVALSHA instead,
 * which SCRIPT LOAD must answer. Exits 2 on any other name.
 */
#include <stdio.h>
#include <string.h>

#include "lua/advance.lua.h"
#include "lua/confirm.lua.h"
#include "lua/dedup.lua.h"
#include "lua/last.lua.h"
#include "lua/rollback.lua.h"

int
main(int argc, char *argv[])
{
	static const struct {
		const char	*name;
		const char	*text;
		const char	*sha;
	} scripts[] = {
		{ "dedup", dedup_lua, dedup_lua_sha },
		{ "rollback", rollback_lua, rollback_lua_sha },
		{ "advance", advance_lua, advance_lua_sha },
		{ "last", last_lua, last_lua_sha },
		{ "confirm", confirm_lua, confirm_lua_sha },
	};
	size_t	i;
	int	sha = argc == 3 && strcmp(argv[1], "-s") == 0;

	for (i = 0; argc == 2 + sha && i < sizeof(scripts) / sizeof(scripts[0]); i++)
		if (strcmp(argv[1 + sha], scripts[i].name) == 0)
			return sha ? puts(scripts[i].sha) == EOF :
			    fputs(scripts[i].text, stdout) == EOF;
	fprintf(stderr, "usage: lua_text [-s] dedup|rollback|advance|last|confirm\n");
	return 2;
}
