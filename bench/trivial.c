/*
 * trivial.c - the baseline CGI of bench/run.sh (figure 1): it answers 204 and exits,
 * so its rate is the cost of Apache starting a process per request.
 */
#include <unistd.h>

int
main(void)
{
	static const char answer[] = "Status: 204 No Content\r\n\r\n";

	return write(STDOUT_FILENO, answer, sizeof(answer) - 1) < 0;
}
