/*
 * conf_table.c - prints the settings table of common/conf.c, one
 * "NAME<TAB>default" line per setting in table order ("(unset)" when a
 * setting has no default), for tests/docs.bats, which checks that
 * flux.conf(5) and flux.conf.example list the same settings and defaults.
 */
#include <stdio.h>

#include "conf.h"

int
main(void)
{
	const char	*name, *def;
	size_t		 i;

	for (i = 0; flux_conf_setting(i, &name, &def) == 0; i++)
		printf("%s\t%s\n", name, def ? def : "(unset)");
	return fflush(stdout) == 0 ? 0 : 1;
}
