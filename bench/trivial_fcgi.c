/*
 * trivial_fcgi.c - the baseline FastCGI responder of bench/clients.sh: it
 * answers every request 204 and does nothing else, so its rate is the cost
 * of the deployment itself (Apache, the process manager, the FastCGI
 * protocol) with the same clients and processes as Flux's.
 */
#include <stdio.h>

#include <fcgiapp.h>

int
main(void)
{
	static const char	answer[] = "Status: 204 No Content\r\n\r\n";
	FCGX_Request		r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		/*
		 * Read the (empty) body to its end first, as every responder
		 * must: closing with the server's stdin record unread resets
		 * the connection instead of closing it.
		 */
		while (FCGX_GetChar(r.in) != EOF)
			;
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return 0;
}
