/*
 * fuzz_post - libFuzzer harness for POST /flux/metric_data_post: the real
 * handler of cgi-bin/metric_data_post.c (single, multi and telegraf forms,
 * flags, key and prefix rules, validation, the test and 207 answers) on
 * any body. The CGI source is included with its main() renamed, so the
 * static handler runs unchanged and nothing in the program is made public
 * for the fuzzer's sake.
 *
 * It never touches the network: the config says FLUX_SEND_TO_CARBON =
 * false, and the handler's environment is marked as having failed to reach
 * Redis, so de-duplication is skipped as when Redis is down (SPEC 5).
 *
 * The first byte of the input picks the request headers (telegraf, prefix,
 * key header, X-Test-Only); the rest is the body. Every answer must be a
 * known status with a JSON body a parser accepts, 204 excepted, and a body
 * holding a \u0000 escape in a string is refused with 400 (json.h).
 */
#define main flux_post_main_unused
#include "../../cgi-bin/metric_data_post.c"
#undef main

#include <stdint.h>
#include <unistd.h>

#include "json_fuzz.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	flux_post_main_unused(void);

#define NOW 1700000000

static struct flux_env	fenv;

static void
setup(void)
{
	static const char	conf[] =
	    "FLUX_SELF_API_KEY = abcdefghij0123456789ABCDEFGHIJ01\n"
	    "FLUX_API_KEYS = zzzzzzzzzz0123456789ABCDEFGHIJ01:team.a\n"
	    "FLUX_SEND_TO_CARBON = false\n"
	    "FLUX_MAX_METRICS_PER_POST = 50\n"
	    "FLUX_LOG_LEVEL = error\n"
	    "REDIS_SOCKET_PATH = /nonexistent/redis.sock\n";
	char			path[] = "/tmp/fuzz_post.XXXXXX", err[FLUX_ERRLEN];
	int			fd;

	if ((fd = mkstemp(path)) == -1 || write(fd, conf, sizeof(conf) - 1) !=
	    (ssize_t)(sizeof(conf) - 1))
		abort();
	close(fd);
	if (flux_conf_load(path, &fenv.conf, err) == -1)
		abort();
	unlink(path);
	fenv.conf_ok = 1;
	flux_log_init("fuzz_post");
	flux_log_set_level(FLUX_LOG_ERROR);
}

static void
check(const struct flux_resp *resp)
{
	cJSON	*o;

	if (resp->status == 204) {
		if (resp->body.len != 0)
			abort();
		return;
	}
	if (resp->status != 200 && resp->status != 207 && resp->status != 400 &&
	    resp->status != 401 && resp->status != 413 && resp->status != 503)
		abort();
	if ((o = cJSON_ParseWithLength(resp->body.ptr, resp->body.len)) == NULL)
		abort();
	cJSON_Delete(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flux_req		req = { 0 };
	struct flux_resp	resp = { 0 };
	char			*env[8];
	int			 n = 0;

	if (size < 1)
		return 0;
	if (!fenv.conf_ok)
		setup();
	if (data[0] & 1)
		env[n++] = "HTTP_TELEGRAF=true";
	if (data[0] & 2)
		env[n++] = "HTTP_PREFIX=edge.pfx";
	if (data[0] & 4)
		env[n++] = (data[0] & 16) ?
		    "HTTP_KEY=zzzzzzzzzz0123456789ABCDEFGHIJ01" :
		    "HTTP_KEY=abcdefghij0123456789ABCDEFGHIJ01";
	if (data[0] & 8)
		env[n++] = "HTTP_X_TEST_ONLY=1";
	env[n] = NULL;
	req.envp = env;
	req.method = "POST";
	req.query = "";
	req.now = NOW;
	if ((req.body = malloc(size)) == NULL)
		return 0;
	memcpy(req.body, data + 1, size - 1);
	req.body[size - 1] = '\0';
	req.body_len = size - 1;
	/* As when Redis cannot be reached: no connection is attempted. */
	fenv.store = NULL;
	fenv.store_failed = 1;
	handle(&fenv, &req, &resp);
	check(&resp);
	if (resp.status != 400 && json_has_nul_escape(data + 1, size - 1))
		abort();	/* a string was read cut short */
	free(req.body);
	free(resp.metric);	/* what serve() frees after the log line */
	flux_buf_free(&resp.body);
	return 0;
}
