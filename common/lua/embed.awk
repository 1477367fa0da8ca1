# embed.awk - Lua files as one C string, for Redis's EVAL. The Makefile runs
#   awk -f common/lua/embed.awk name=NAME FILE... > HEADER
# which prints "static const char NAME[] = ...;" holding the files one
# after the other. Comment lines become empty lines and indentation is
# dropped, so each EVAL sends fewer bytes while the line numbers in Redis's
# errors still count the lines of the files, from the first one on. The
# scripts keep to single quotes, no backslashes and no "??" (a C trigraph),
# so no escaping is needed; a line with any of them fails the build.
BEGIN {
	print "/* Generated from Lua files by common/lua/embed.awk (see the Makefile): do not edit. */"
}
FNR == 1 {
	if (!started)
		printf "static const char %s[] =\n", name
	started = 1
	printf "    /* %s */\n", FILENAME
}
{
	line = $0
	sub(/^[ \t]+/, "", line)
	if (line ~ /^--/)
		line = ""
	if (line ~ /[\\"]/ || index(line, "??") > 0) {
		printf "%s:%d: backslash, double quote or ?? in a script line\n", \
		    FILENAME, FNR > "/dev/stderr"
		failed = 1
		exit 1
	}
	printf "    \"%s\\n\"\n", line
}
END {
	if (!failed)
		print "    ;"
}
