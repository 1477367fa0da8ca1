#!/usr/bin/env bats
# The operator's reference: the manual pages are clean for mandoc, list
# exactly the settings and defaults of common/conf.c (as flux.conf.example
# does), README's examples work when pasted, README, INSTALL and the
# manual pages point at nothing outside the repository, and the package's
# Build-Depends name every library the build uses.
bats_require_minimum_version 1.5.0

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/upload.bash
source "$BATS_TEST_DIRNAME/lib/upload.bash"

setup_file() {
	suite_start docs redis carbon
	upload_conf
	start_apache "$FLUX_TOP/cgi-bin" "$STACK_DIR/flux.conf"
	export STACK_DIR REDIS_SOCK CARBON_PORT CARBON_PICKLE_PORT WHISPER_DIR FLUX_URL APACHE_PORT
}

teardown_file() {
	suite_stop
}

@test "the manual pages are clean for mandoc -Tlint" {
	run mandoc -Tlint -W style "$FLUX_TOP"/man/*
	# The one note allowed: a page cross-referenced is not installed here.
	left=$(grep -v "STYLE: referenced manual not found" <<<"$output" || true)
	echo "$left"
	[ -z "$left" ]
}

@test "flux.conf(5), flux.conf.example and common/conf.c list the same settings and defaults" {
	run bash "$FLUX_TOP/tests/tools/settings.sh"
	echo "$output"
	[ "$status" = 0 ]
	[ "$output" = "" ]
}

@test "flux-batch(8) and flux-batch --help name the same commands" {
	man=$(sed -n 's/^\.Op Cm \(.*\)$/\1/p' "$FLUX_TOP/man/flux-batch.8" | tr -d '|' | tr -s ' ')
	run "$FLUX_TOP/batch/flux-batch" --help
	help=$(sed -n 's/^  \([a-z]*\)  .*/\1/p' <<<"$output" | tr '\n' ' ')
	[ "$man" = "flush populate uploads check status" ]
	[ "$help" = "flush populate uploads check status " ]
}

@test "README, INSTALL and the manual pages name no file outside the repository" {
	cd "$FLUX_TOP"
	run grep -n -e SPEC -e '\.\./shared' -e 'shared folder' README.md INSTALL man/*
	[ "$status" = 1 ]
	# Every repository path they name exists, but what the build or the
	# tests make (.gitignore's), which a fresh clone has not yet.
	for p in $(grep -ohP '(?<![\w./-])(tests|man|cron|apache|debian|bench|batch|common|cgi-bin)/[\w.-]+(/[\w.-]+)*' \
	    README.md INSTALL | sort -u); do
		git check-ignore -q "$p" && continue
		[ -e "$p" ] || { echo "no such file: $p"; false; }
	done
}

# readme_blocks: README's example blocks of "## Endpoints", one file each
# ($BATS_TEST_TMPDIR/block.N), in order, without their indentation.
readme_blocks() {
	awk -v dir="$BATS_TEST_TMPDIR" '
		/^## / { in_ep = ($0 == "## Endpoints") }
		!in_ep { next }
		/^    / { if (!open) { n++; open = 1 } sub(/^    /, ""); print > (dir "/block." n); next }
		{ open = 0 }
		END { print n > (dir "/blocks") }' "$FLUX_TOP/README.md"
}

# run_block N: block N with the placeholders filled in, from the top of
# the repository; every curl's HTTP status is appended to codes, its body
# to body.N.
run_block() {
	local blk=$1 f="$BATS_TEST_TMPDIR/block.$1"
	sed -e "s/HOST/127.0.0.1:$APACHE_PORT/g" -e "s/UPLOAD_ID_KEY/${UPID:-none}/g" \
	    -e "s/UPLOAD_KEY/$UPKEY/g" -e "s/\bKEY\b/$KEY/g" "$f" > "$f.sh"
	(
		cd "$FLUX_TOP"
		curl() { command curl -sS -o "$BATS_TEST_TMPDIR/body.$blk" -w '%{http_code}\n' "$@" \
		    >> "$BATS_TEST_TMPDIR/codes"; }
		# shellcheck disable=SC1090
		source "$f.sh"
	)
}

@test "README's examples work when pasted: timestamps of now, the repository's report" {
	readme_blocks
	n=$(cat "$BATS_TEST_TMPDIR/blocks")
	[ "$n" -ge 6 ]
	start=$(( $(date +%s) - 1 ))
	for ((i = 1; i <= n; i++)); do
		: > "$BATS_TEST_TMPDIR/codes"
		run_block "$i"
		echo "block $i: $(tr '\n' ' ' < "$BATS_TEST_TMPDIR/codes")"
		# Every request answered 200 or 204 (207 would mean dropped fields).
		[ -s "$BATS_TEST_TMPDIR/codes" ]
		[ -z "$(grep -v -e '^200$' -e '^204$' "$BATS_TEST_TMPDIR/codes")" ]
		if grep -q upload_id_key "$BATS_TEST_TMPDIR/body.$i"; then
			UPID=$(jq -r .upload_id_key "$BATS_TEST_TMPDIR/body.$i")
		fi
	done
	# The points are in whisper, at the time they were sent.
	for m in vista.nodes.skyline-1.cpu.user vista.nodes.skyline-1.cpu.system a.b a.c \
	    tg.web1.cpu0.cpu.usage_idle; do
		[ "$(wait_count "$m" $((start - 60)) $(($(date +%s) + 60)) 1)" = 1 ]
	done
	[ "$(queued | wc -l)" = 1 ]
	# The upload was taken, and its status example found it.
	[ -n "${UPID:-}" ]
	[ "$(jq -r .upload.status "$BATS_TEST_TMPDIR/body.$n")" = pending ]
}

@test "README's upload example: its status says carbon would not keep a 2020 report" {
	readme_blocks
	n=$(cat "$BATS_TEST_TMPDIR/blocks")
	: > "$BATS_TEST_TMPDIR/codes"
	run_block $((n - 1))
	UPID=$(jq -r .upload_id_key "$BATS_TEST_TMPDIR/body.$((n - 1))")
	unset FLUX_NOW
	run --separate-stderr "$FLUX_TOP/batch/flux-batch" uploads
	[ "$status" = 1 ]
	run_block "$n"
	[ "$(jq -r .upload.status "$BATS_TEST_TMPDIR/body.$n")" = failed ]
	[[ "$(jq -r .upload.error "$BATS_TEST_TMPDIR/body.$n")" == "2020-05-16-11.device_id.012383.csv: column roof: 4 points older than carbon keeps, not sent (retentions 60s:7d of [default] in '$STACK_DIR/carbon/conf/storage-schemas.conf': nothing before "* ]]
}

@test "debian/control's Build-Depends names the package of every library the Makefile builds with" {
	local mod file owner missing=
	local -a files=(/usr/include/csv.h /usr/include/fcgiapp.h)
	for mod in $(sed -n 's/^PKGS = //p' "$FLUX_TOP/Makefile"); do
		files+=("$(pkg-config --variable=pcfiledir "$mod")/$mod.pc")
	done
	[ "${#files[@]}" -gt 4 ]
	deps=" $(sed -n '/^Build-Depends:/,/^[A-Z][a-z-]*: /{/^Build-Depends:/p;/^ /p}' "$FLUX_TOP/debian/control" |
	    sed -e 's/^Build-Depends://' -e 's/([^)]*)//g' | tr -d ', ' | tr '\n|' '  ') "
	for file in "${files[@]}"; do
		owner=$(dpkg -S "$file" | head -n 1 | cut -d: -f1)
		[ -n "$owner" ]
		[[ "$deps" == *" $owner "* ]] || missing+=" $owner"
	done
	echo "missing:$missing"
	[ -z "$missing" ]
}
