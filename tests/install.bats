#!/usr/bin/env bats
# make install and make uninstall (INSTALL, section 4): where everything
# goes, what a re-install keeps, what uninstall leaves; the cron entry that
# stays quiet until Flux is configured; the installed Apache configuration,
# whose access control no other alias of the programs can bypass, and the
# site for Vista beside it (more in apache.bats); and the
# check that stops make check at once when a tool is missing.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start install
	export STACK_DIR
}

teardown_file() {
	suite_stop
}

setup() {
	D=$(mktemp -d "$STACK_DIR/root.XXXXXX")
}

teardown() {
	stop_apache
}

# mk TARGET [VARS...]: make TARGET staged under DESTDIR=$D, as a packager would.
mk() {
	local t=$1
	shift
	run make -s -C "$FLUX_TOP" "$t" DESTDIR="$D" PREFIX=/usr "$@"
}

# mk_real TARGET: make TARGET with every directory under $D and no DESTDIR,
# as on a real system (as root: owners set).
mk_real() {
	run make -s -C "$FLUX_TOP" "$1" PREFIX="$D/usr" SYSCONFDIR="$D/etc" LOCALSTATEDIR="$D/var"
}

# cron_command FILE: the command of the cron entry (after the user field).
cron_command() { grep -v -e '^#' -e '^$' -e '^[A-Z]*=' "$1" | cut -d' ' -f7-; }

@test "make install: every file in its place, with its mode" {
	mk install
	[ "$status" = 0 ]
	for p in metric_data metric_data_post populate_metric upload_data upload_status \
	    status_page upload_page; do
		[ "$(stat -c %a "$D/usr/lib/flux/cgi-bin/$p")" = 755 ]
	done
	[ "$(stat -c %a "$D/usr/sbin/flux-batch")" = 755 ]
	[ -f "$D/usr/share/man/man5/flux.conf.5" ]
	[ -f "$D/usr/share/man/man7/flux.7" ]
	[ -f "$D/usr/share/man/man8/flux-batch.8" ]
	cmp "$FLUX_TOP/flux.conf.example" "$D/usr/share/doc/flux/flux.conf.example"
	cmp "$FLUX_TOP/flux.conf.example" "$D/etc/flux/flux.conf"
	[ "$(stat -c %a "$D/etc/flux/flux.conf")" = 640 ]
	[ "$(stat -c %a "$D/etc/cron.d/flux")" = 644 ]
	[ "$(stat -c %a "$D/etc/apache2/conf-available/flux.conf")" = 644 ]
	[ "$(stat -c %a "$D/etc/apache2/conf-available/flux-pool.conf")" = 644 ]
	[ "$(stat -c %a "$D/usr/lib/systemd/system/flux-fcgi@.service")" = 644 ]
	[ "$(stat -c %a "$D/etc/apache2/sites-available/flux-vista.conf")" = 644 ]
	for d in var/spool/flux var/lib/flux/data_uploads var/lib/flux/processed_uploads; do
		[ "$(stat -c %a "$D/$d")" = 750 ]
	done
	# Nothing under /usr/lib/cgi-bin, which Debian's Apache serves at /cgi-bin/.
	[ ! -e "$D/usr/lib/cgi-bin" ]
}

@test "the cron entry: every minute as www-data, the installed flux-batch, a right PATH" {
	mk install
	f="$D/etc/cron.d/flux"
	# cron(8) ignores a cron.d file whose name has a dot.
	[[ $(basename "$f") =~ ^[A-Za-z0-9_-]+$ ]]
	grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$f"
	grep -qx 'MAILTO=root' "$f"
	[ "$(grep -v -e '^#' -e '^$' -e '^[A-Z]*=' "$f")" = \
	    "* * * * * www-data [ -x /usr/sbin/flux-batch ] && flock -n -E 0 /run/lock/flux-batch.lock /usr/sbin/flux-batch" ]
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ]
	run grep -c @ "$f"
	[ "$output" = 0 ]
	mk install SBINDIR=/opt/flux/sbin DESTDIR="$D/other"
	grep -q ' \[ -x /opt/flux/sbin/flux-batch \] && .* /opt/flux/sbin/flux-batch$' "$D/other/etc/cron.d/flux"
}

@test "the Apache configuration names the installed CGIDIR and configuration" {
	mk install CGIDIR=/srv/flux/cgi SYSCONFDIR=/opt/etc
	f="$D/opt/etc/apache2/conf-available/flux.conf"
	grep -qx '	ScriptAlias /flux/ /srv/flux/cgi/' "$f"
	grep -qx '<Directory /srv/flux/cgi>' "$f"
	grep -qx '	SetEnv FLUX_CONF /opt/etc/flux/flux.conf' "$f"
	run grep -c @ "$f"
	[ "$output" = 0 ]
	# The site for Vista: the root paths on their own port.
	f="$D/opt/etc/apache2/sites-available/flux-vista.conf"
	grep -qx '	ScriptAliasMatch ^/(metric_data|metric_data_post|populate_metric)$ /srv/flux/cgi/$1' "$f"
	run grep -c @ "$f"
	[ "$output" = 0 ]
}

@test "a re-install keeps an edited configuration, cron entry and Apache conf" {
	mk install
	for f in etc/flux/flux.conf etc/cron.d/flux etc/apache2/conf-available/flux.conf \
	    etc/apache2/sites-available/flux-vista.conf; do
		echo "# edited" >> "$D/$f"
	done
	mk install
	[ "$status" = 0 ]
	for f in etc/flux/flux.conf etc/cron.d/flux etc/apache2/conf-available/flux.conf \
	    etc/apache2/sites-available/flux-vista.conf; do
		[ "$(tail -n 1 "$D/$f")" = "# edited" ]
		[[ $output == *"kept $D/$f"* ]]
	done
}

@test "the pool's systemd unit and Apache conf name the installed programs and sockets" {
	mk install FCGISOCKDIR=/run/fluxtest
	[ "$status" = 0 ]
	u="$D/usr/lib/systemd/system/flux-fcgi@.service"
	grep -qxF 'ExecStart=/usr/bin/spawn-fcgi -n -M 0660 -s /run/fluxtest/%i.sock -- \' "$u"
	grep -qxF "	/usr/bin/multiwatch -f \${FLUX_FCGI_CHILDREN} -s TERM -- /usr/lib/flux/cgi-bin/%i" "$u"
	grep -qx "Environment=FLUX_CONF=/etc/flux/flux.conf" "$u"
	grep -qx 'User=www-data' "$u"
	run grep -c 'ProxyPass /flux/\([a-z_]*\) "unix:/run/fluxtest/\1.sock|fcgi://\1/"' \
		"$D/etc/apache2/conf-available/flux-pool.conf"
	[ "$output" = 7 ]
	# systemd reads it without a complaint (an instance of the template).
	mkdir "$D/units"
	cp "$u" "$D/units/"
	run systemd-analyze verify --man=no "$D/units/flux-fcgi@metric_data.service"
	echo "$output"
	[ "$status" = 0 ]
	run grep flux-fcgi <<<"$output"
	[ "$status" = 1 ]
}

@test "make uninstall removes everything install made" {
	mk install
	mk uninstall
	[ "$status" = 0 ]
	[ "$(find "$D" -type f -o -type l)" = "" ]
	[ "$(find "$D" -name '*flux*')" = "" ]
}

@test "make uninstall keeps an edited configuration and a spool that holds points, and says so" {
	mk install
	echo "FLUX_SELF_API_KEY = $KEY" >> "$D/etc/flux/flux.conf"
	echo "points" > "$D/var/spool/flux/1.spool"
	touch "$D/var/spool/flux/.flux-batch.lock"
	mk uninstall
	[ "$status" = 0 ]
	[[ $output == *"kept $D/etc/flux/flux.conf: edited"* ]]
	[[ $output == *"kept $D/var/spool/flux: not empty"* ]]
	[ "$(cd "$D" && find . -type f | sort)" = "./etc/flux/flux.conf
./var/spool/flux/1.spool" ]
}

@test "as root without DESTDIR, install gives the directories to www-data and the configuration to its group" {
	[ "$EUID" -eq 0 ] || skip "needs root"
	mk_real install
	[ "$status" = 0 ]
	for d in var/spool/flux var/lib/flux/data_uploads var/lib/flux/processed_uploads; do
		[ "$(stat -c '%U:%G %a' "$D/$d")" = "www-data:www-data 750" ]
	done
	[ "$(stat -c '%U:%G %a' "$D/etc/flux/flux.conf")" = "root:www-data 640" ]
	# A group the operator chose is kept on a re-install.
	chgrp adm "$D/etc/flux/flux.conf"
	mk_real install
	[ "$(stat -c %G "$D/etc/flux/flux.conf")" = adm ]
	mk_real uninstall
	[ "$(find "$D" -name '*flux*')" = "" ]
}

@test "the cron entry is silent until Flux is configured, and once flux-batch is removed" {
	[ "$EUID" -eq 0 ] || skip "needs root to run as www-data"
	mk_real install
	# The entry's command, with its lock in the test's directory.
	mkdir "$D/run"
	chown www-data: "$D/run"
	cmd=$(cron_command "$D/etc/cron.d/flux" | sed "s|/run/lock/flux-batch.lock|$D/run/cron.lock|")
	[[ $cmd == "[ -x $D/usr/sbin/flux-batch ] && flock "* ]]
	chmod 755 "$D" "$STACK_DIR"
	# As installed: no key, so nothing to do and nothing said.
	run --separate-stderr runuser -u www-data -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    FLUX_CONF="$D/etc/flux/flux.conf" sh -c "$cmd"
	[ "$status" = 0 ]
	[ "$output$stderr" = "" ]
	# Configured: it runs, and a spool it cannot reach is an error cron mails.
	echo "FLUX_SELF_API_KEY = $KEY" >> "$D/etc/flux/flux.conf"
	echo "FLUX_SPOOL_PATH = $D/none" >> "$D/etc/flux/flux.conf"
	run --separate-stderr runuser -u www-data -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    FLUX_CONF="$D/etc/flux/flux.conf" sh -c "$cmd"
	[ "$status" = 1 ]
	[[ $stderr == *"error: cannot open lock file '$D/none/.flux-batch.lock'"* ]]
	# flux-batch removed, the entry left behind: silent.
	rm "$D/usr/sbin/flux-batch"
	run --separate-stderr runuser -u www-data -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    FLUX_CONF="$D/etc/flux/flux.conf" sh -c "$cmd"
	[ "$output$stderr" = "" ]
}

# apache_with CONF-EDIT: start the stack's Apache with the installed
# Apache configuration (after the sed script CONF-EDIT), and besides it
# an alias of the parent directory of the programs, as Debian's
# serve-cgi-bin.conf maps /usr/lib/cgi-bin; with VISTA_PORT set, the
# installed site for Vista too, on that port.
apache_with() {
	mk_real install
	mkdir -p "$STACK_DIR/apache/conf.d"
	rm -f "$STACK_DIR/apache/conf.d/"*
	sed -e "$1" "$D/etc/apache2/conf-available/flux.conf" > "$STACK_DIR/apache/conf.d/flux.conf"
	cat > "$STACK_DIR/apache/conf.d/other.conf" <<-EOF
	ScriptAlias /cgi-bin/ $D/usr/lib/
	<Directory $D/usr/lib>
		Options +ExecCGI
		Require all granted
	</Directory>
	EOF
	if [ -n "${VISTA_PORT:-}" ]; then
		sed -e "s/127.0.0.1:8000/127.0.0.1:$VISTA_PORT/g" \
		    "$D/etc/apache2/sites-available/flux-vista.conf" > "$STACK_DIR/apache/conf.d/flux-vista.conf"
	fi
	write_conf
	cp "$FLUX_CONF" "$D/etc/flux/flux.conf"
	chmod 644 "$D/etc/flux/flux.conf"
	chmod 755 "$D"
	start_apache "$D/usr/lib/flux/cgi-bin" "$D/etc/flux/flux.conf" snippet
	H="http://127.0.0.1:$APACHE_PORT"
}

# code CURL-ARGS...: the HTTP status of a request.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

@test "the installed Apache configuration serves Flux at /flux/, with its limits" {
	start_redis
	apache_with ''
	# No carbon here: the health check answers, degraded.
	[ "$(curl -s "$H/flux/metric_data?status=true" | jq -r .redis)" = ok ]
	[ "$(code "$H/flux/metric_data?status=true")" = 200 ]
	head -c 3000000 /dev/zero > "$STACK_DIR/big"
	# Over LimitRequestBody: refused by Apache, also through the other alias.
	[ "$(code --data-binary @"$STACK_DIR/big" "$H/flux/metric_data_post")" = 413 ]
	[ "$(code --data-binary @"$STACK_DIR/big" "$H/cgi-bin/flux/cgi-bin/metric_data_post")" = 413 ]
	# upload_data has its own, larger, limit: the program answers (uploads off).
	[ "$(code --data-binary @"$STACK_DIR/big" "$H/flux/upload_data")" = 404 ]
}

@test "Basic authentication in the installed configuration holds through any other alias" {
	start_redis
	# The file's own lines, uncommented in place of "Require all granted".
	apache_with '/Require all granted/d; s/^\t#\(Auth\|Require valid-user\)/\t\1/'
	grep -qx '	AuthUserFile '"$D"'/etc/flux/htpasswd' "$STACK_DIR/apache/conf.d/flux.conf"
	htpasswd -bc "$D/etc/flux/htpasswd" ops s3cret 2>/dev/null
	chmod 644 "$D/etc/flux/htpasswd"
	[ "$(code "$H/flux/metric_data?status=true")" = 401 ]
	[ "$(code -u ops:s3cret "$H/flux/metric_data?status=true")" = 200 ]
	# The programs reached through another alias: the same rules.
	[ "$(code "$H/cgi-bin/flux/cgi-bin/metric_data?status=true")" = 401 ]
	[ "$(code -u ops:s3cret "$H/cgi-bin/flux/cgi-bin/metric_data?status=true")" = 200 ]
}

@test "the site for Vista serves its addresses without the password flux.conf asks, within its limits" {
	start_redis
	VISTA_PORT=$(flux_free_port)
	apache_with '/Require all granted/d; s/^\t#\(Auth\|Require valid-user\)/\t\1/'
	htpasswd -bc "$D/etc/flux/htpasswd" ops s3cret 2>/dev/null
	chmod 644 "$D/etc/flux/htpasswd"
	V="http://127.0.0.1:$VISTA_PORT"
	[ "$(code "$H/flux/metric_data?status=true")" = 401 ]
	# Vista sends no password: its port answers its address (and no other).
	[ "$(code "$V/metric_data?status=true")" = 200 ]
	[ "$(code --interface 127.0.0.2 "$V/metric_data?status=true")" = 403 ]
	[ "$(code --interface 127.0.0.2 -u ops:s3cret "$V/metric_data?status=true")" = 403 ]
	# flux.conf's other rules hold on that port: LimitRequestBody, FLUX_CONF.
	head -c 3000000 /dev/zero > "$STACK_DIR/big"
	[ "$(code --data-binary @"$STACK_DIR/big" "$V/metric_data_post")" = 413 ]
	[ "$(code "$V/metric_data?metric=a&value=1&key=$KEY")" = 204 ]
}

@test "a missing tool stops make check at once, naming the package to install" {
	# A PATH with every tool of deps.sh but cgi-fcgi and xxd, and a dpkg that
	# knows no package.
	bin="$BATS_TEST_TMPDIR/bin"
	mkdir -p "$bin"
	printf '#!/bin/sh\nexit 1\n' > "$bin/dpkg-query"
	chmod 755 "$bin/dpkg-query"
	for t in $(awk '/^(build|test) /{for (i = 3; i <= NF; i++) print $i}' "$FLUX_TOP/tests/tools/deps.sh"); do
		case $t in cgi-fcgi|xxd) continue ;; esac
		ln -sf "$(command -v "$t")" "$bin/$t"
	done
	run --separate-stderr env PATH="$bin" "$BASH" "$FLUX_TOP/tests/tools/deps.sh" --check
	[ "$status" = 1 ]
	[[ $stderr == "missing Debian packages: "*"libfcgi-bin (cgi-fcgi) xxd (xxd)"* ]]
	[[ $stderr == *"install them with: bash tests/tools/deps.sh (or apt-get install "*"libfcgi-bin xxd)" ]]
	# make check runs that check first.
	run make -n --no-print-directory -C "$FLUX_TOP" check
	[[ ${lines[0]} == *"bash tests/tools/deps.sh --check"* ]]
}
