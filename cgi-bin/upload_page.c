/*
 * upload_page - GET /flux/upload_page: the form of Skyline's webapp upload
 * page, for people: it posts to upload_data (SPEC 4.4), then follows the
 * upload's status as upload_status reports it until it is final.
 *
 * The page is static and asks for no key: it does nothing by itself.
 * Everything it can do is a request to upload_data, which requires the
 * namespace's key from FLUX_UPLOADS_KEYS, and then to upload_status, with
 * the upload id upload_data answered. The form's fields come in the order
 * upload_data requires: key and parent_metric_namespace before the files
 * (a browser sends a form's fields in document order). Without JavaScript
 * the form still posts, and the browser shows upload_data's answer.
 * 404 unless WEBAPP_ACCEPT_DATA_UPLOADS, as upload_data itself.
 */
#include <string.h>

#include "cgi.h"

static const char page[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>Flux: upload data</title>\n<style>\n"
    "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:42em;"
    "padding:.5em 1em;color:#222}\n"
    "h1{font-size:1.4em}label{display:block;margin:.7em 0 .2em;"
    "font-weight:bold}\n"
    "input,select{font-size:1em;width:100%;box-sizing:border-box;padding:.3em}\n"
    "small{color:#555;display:block}button{font-size:1.1em;margin:1em 0;"
    "padding:.4em 1.2em}\n"
    "#result{padding:.5em;border-radius:.3em;background:#f4f6f7;"
    "overflow-wrap:anywhere}\n"
    ".failed,.error{color:#c0392b}.complete{color:#1e8449}\n"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;"
    "padding:.3em;border-bottom:1px solid #ddd;overflow-wrap:anywhere}\n"
    "</style></head><body>\n"
    "<h1>Upload data to Flux</h1>\n"
    "<p>A report (CSV, xlsx or xls, or a gz, zip or tar.gz archive of them) "
    "becomes one metric per column under the namespace. See flux(7), "
    "<code>POST /flux/upload_data</code>.</p>\n"
    "<form id=\"upload\" action=\"upload_data\" method=\"post\" "
    "enctype=\"multipart/form-data\">\n"
    "<label for=\"key\">key</label>\n"
    "<input id=\"key\" name=\"key\" type=\"password\" autocomplete=\"off\" "
    "required>\n"
    "<small>The namespace's key in FLUX_UPLOADS_KEYS.</small>\n"
    "<label for=\"parent_metric_namespace\">parent_metric_namespace</label>\n"
    "<input id=\"parent_metric_namespace\" name=\"parent_metric_namespace\" "
    "required placeholder=\"temp_monitoring.warehouse.2.012383\">\n"
    "<label for=\"timezone\">timezone</label>\n"
    "<input id=\"timezone\" name=\"timezone\" value=\"UTC\">\n"
    "<small>The time zone the report's dates are in, e.g. UTC, "
    "Europe/London, America/New_York.</small>\n"
    "<label for=\"format\">format</label>\n"
    "<select id=\"format\" name=\"format\"><option>csv</option>"
    "<option>xlsx</option><option>xls</option></select>\n"
    "<label for=\"archive\">archive</label>\n"
    "<select id=\"archive\" name=\"archive\"><option>none</option>"
    "<option>gz</option><option>zip</option><option value=\"tar_gz\">tar.gz"
    "</option></select>\n"
    "<label for=\"skip_rows\">skip_rows</label>\n"
    "<input id=\"skip_rows\" name=\"skip_rows\" value=\"0\" inputmode=\"numeric\">\n"
    "<small>Rows before the header row, skipped (none: 0).</small>\n"
    "<label for=\"header_row\">header_row</label>\n"
    "<input id=\"header_row\" name=\"header_row\" value=\"0\" "
    "inputmode=\"numeric\">\n"
    "<small>The row with the column names, counted after the skipped rows, "
    "from 0.</small>\n"
    "<label for=\"date_orientation\">date_orientation</label>\n"
    "<select id=\"date_orientation\" name=\"date_orientation\"><option "
    "value=\"rows\">rows (a date per row)</option></select>\n"
    "<label for=\"columns_to_metrics\">columns_to_metrics</label>\n"
    "<input id=\"columns_to_metrics\" name=\"columns_to_metrics\" "
    "placeholder=\"date,roof,floor\">\n"
    "<small>A name per column, the date column named date: each other column "
    "becomes the metric &lt;namespace&gt;.&lt;name&gt;.</small>\n"
    "<label for=\"resample_method\">resample_method</label>\n"
    "<select id=\"resample_method\" name=\"resample_method\"><option>mean"
    "</option><option>sum</option></select>\n"
    "<small>Data more often than a minute becomes one point a minute: the "
    "mean or the sum.</small>\n"
    "<label for=\"ignore_submitted_timestamps\">ignore_submitted_timestamps"
    "</label>\n"
    "<select id=\"ignore_submitted_timestamps\" "
    "name=\"ignore_submitted_timestamps\"><option>false</option>"
    "<option>true</option></select>\n"
    "<small>true: points not newer than a metric's last point are sent too."
    "</small>\n"
    "<label for=\"data_file\">data_file</label>\n"
    "<input id=\"data_file\" name=\"data_file\" type=\"file\" required>\n"
    "<label for=\"info_file\">info_file (optional)</label>\n"
    "<input id=\"info_file\" name=\"info_file\" type=\"file\" "
    "accept=\".json,application/json\">\n"
    "<small>An info.json; its settings win over the fields above.</small>\n"
    "<button id=\"submit\" type=\"submit\">Upload</button>\n"
    "</form>\n"
    "<div id=\"result\" hidden></div>\n"
    "<script>\n"
    "'use strict';\n"
    "const form = document.getElementById('upload');\n"
    "const out = document.getElementById('result');\n"
    "const FINAL = ['complete', 'partial', 'failed'];\n"
    "function say(cls, text) {\n"
    "  out.hidden = false; out.replaceChildren();\n"
    "  const p = document.createElement('p'); p.id = 'message';\n"
    "  p.className = cls; p.textContent = text; out.append(p);\n"
    "}\n"
    "function show(rec) {\n"
    "  say(rec.status, 'Upload ' + rec.upload_id_key + ': ' + rec.status);\n"
    "  const t = document.createElement('table'); t.id = 'record';\n"
    "  const rows = [['status', rec.status], ['error', rec.error],\n"
    "    ['points_submitted', rec.points_submitted],\n"
    "    ['started_at', rec.started_at], ['finished_at', rec.finished_at]];\n"
    "  for (const m of ['files', 'columns'])\n"
    "    for (const [k, v] of Object.entries(rec[m] || {})) rows.push([k, v]);\n"
    "  for (const [k, v] of rows) {\n"
    "    const r = t.insertRow(); r.insertCell().textContent = k;\n"
    "    r.insertCell().textContent = v === null || v === undefined ? '' : v;\n"
    "  }\n"
    "  out.append(t);\n"
    "}\n"
    "async function follow(id) {\n"
    "  try {\n"
    "    const r = await fetch('upload_status?upload_id_key=' +\n"
    "      encodeURIComponent(id), { cache: 'no-store' });\n"
    "    const j = await r.json();\n"
    "    if (!r.ok) { say('error', r.status + ': ' + j.message); return; }\n"
    "    show(j.upload);\n"
    "    if (FINAL.includes(j.upload.status)) return;\n"
    "  } catch (e) { say('error', 'upload_status: ' + e); }\n"
    "  setTimeout(() => follow(id), 2000);\n"
    "}\n"
    "form.addEventListener('submit', async (ev) => {\n"
    "  ev.preventDefault();\n"
    "  const data = new FormData(form);\n"
    "  if (!data.get('info_file') || !data.get('info_file').name)\n"
    "    data.delete('info_file');\n"
    "  say('', 'Uploading...');\n"
    "  try {\n"
    "    const r = await fetch('upload_data', { method: 'POST', body: data });\n"
    "    const j = await r.json();\n"
    "    if (!r.ok) { say('error', r.status + ': ' + j.message); return; }\n"
    "    say('pending', 'Upload ' + j.upload_id_key + ': pending');\n"
    "    follow(j.upload_id_key);\n"
    "  } catch (e) { say('error', 'upload_data: ' + e); }\n"
    "});\n"
    "</script>\n"
    "</body></html>\n";

static void
handle(struct flux_env *env, struct flux_req *req, struct flux_resp *resp)
{
	struct flux_buf	b = { 0 };

	if (!env->conf.accept_uploads) {
		flux_resp_error(resp, 404, "not found");
		return;
	}
	if (flux_req_accept(req, resp, "GET") == -1)
		return;
	if (flux_buf_add(&b, page, sizeof(page) - 1) == -1) {
		flux_resp_error(resp, 500, "internal error");
		return;
	}
	flux_resp_html(resp, 200, &b);
}

int
main(void)
{
	return flux_cgi_main("upload_page", handle);
}
