#!/usr/bin/env bash
# Turn a bare Raspberry Pi (Raspberry Pi OS / Debian 12 or newer) into an enrolled SiteGate lane.
#
#   sudo ./provisioning/setup-lane.sh --hub https://hub.example --token lane-hz0042-a1.<secret>
#
# What only a shell can do on a bare OS comes first: the Debian packages, the `sitegate` user and
# its groups, SiteGate's source in /opt/sitegate/src and its virtualenv in /opt/sitegate/venv.
# Then it hands over to `sitegate provision` (same options), which installs the OS pieces (units,
# udev rules, journald caps, watchdog, UART), makes the device's key, enrols with the token, writes
# the configuration and runs the self-test as the lane's own user.
#
# Safe to re-run: each step checks before it acts, and a re-run that has nothing to change needs no
# network (apt and pip run only when something is missing or SiteGate's dependencies changed).
# Exit status: 0 done, 1 something to fix (the checklist says what), 3 reboot, then run it again.
# Options of its own:
#   --wheels DIR   install SiteGate's Python packages from this wheelhouse, without PyPI (and
#                  without the compiler and headers that building them from source needs)
#   --root DIR     install into DIR (an image's root file system; the tests' temporary root)
#   --dry-run      print what would be done, change nothing (passed on to sitegate provision)
#   --image        image build: everything but the key and the enrolment (pi-gen runs this)
#   --sitegate BIN use this sitegate executable instead of building the virtualenv
# Everything else (--hub, --token, --id-module, --pcsc, --board, ...) goes to sitegate provision;
# the token goes in its environment, never on a command line, and is never printed.
set -euo pipefail

ROOT=/
DRY_RUN=0
IMAGE=0
SITEGATE=""
WHEELS=""
TOKEN=""
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PASS=()
# What the lane runs with, and (unless a wheelhouse brings them built) what pip builds pyscard with.
APT_PACKAGES=(python3 python3-venv pcscd libccid pcsc-tools chrony)
BUILD_PACKAGES=(python3-dev build-essential swig libpcsclite-dev)
SERVICE_USER=sitegate
SERVICE_GROUPS=(gpio dialout i2c spi audio)
INSTALL_DIR=/opt/sitegate
# Not copied to /opt/sitegate/src: version control, virtualenvs, caches, build and run-time output.
SOURCE_EXCLUDES=(
	--exclude=.git --exclude=.venv --exclude=__pycache__ --exclude='*.pyc' --exclude=.pytest_cache
	--exclude=.mypy_cache --exclude=.ruff_cache --exclude=.hypothesis --exclude='*.egg-info'
	--exclude=node_modules --exclude=./build --exclude=./var --exclude=./artifacts --exclude=./.sitegate-source
)

say() { printf '[setup-lane] %s\n' "$*"; }
stop() {
	say "$*"
	exit 1
}

while [[ $# -gt 0 ]]; do
	case "$1" in
	--root) ROOT="$2"; PASS+=(--root "$2"); shift 2 ;;
	--dry-run) DRY_RUN=1; PASS+=(--dry-run); shift ;;
	--image) IMAGE=1; PASS+=(--image); shift ;;
	--sitegate) SITEGATE="$2"; shift 2 ;;
	--wheels) WHEELS="$2"; shift 2 ;;
	--token) TOKEN="$2"; shift 2 ;;
	--token=*) TOKEN="${1#--token=}"; shift ;;
	-h | --help) sed -n '2,23p' "$0"; exit 0 ;;
	*) PASS+=("$1"); shift ;;
	esac
done

# First, before anything can fail halfway: everything below writes where only root may.
if [[ $EUID -ne 0 && $DRY_RUN == 0 ]]; then
	stop "this sets up the whole machine and needs root: run it with sudo (sudo $0 ...), or try it with --dry-run"
fi

ROOT="${ROOT%/}/"
ROOT_OPT=()
if [[ $ROOT != / ]]; then
	ROOT_OPT=(--root "${ROOT%/}")
fi
VENV="${ROOT}${INSTALL_DIR#/}/venv"
DEST="${ROOT}${INSTALL_DIR#/}/src"

run() {
	if [[ $DRY_RUN == 1 ]]; then
		say "would run: $*"
	else
		"$@"
	fi
}
in_root() {
	if [[ $ROOT == / ]]; then
		run "$@"
	else
		run chroot "$ROOT" "$@"
	fi
}

os_field() {
	local value
	value=$(grep -m1 "^$1=" "$2" | cut -d= -f2-) || true
	value="${value#\"}"
	echo "${value%\"}"
}

check_os() {
	local release="${ROOT}etc/os-release" id="" version="" like=""
	if [[ ! -r $release ]]; then
		stop "no ${release}: not a Debian-family root; stopping"
	fi
	# Read, not sourced: the file belongs to the root being set up, which may be an image's.
	id=$(os_field ID "$release")
	like=$(os_field ID_LIKE "$release")
	version=$(os_field VERSION_ID "$release")
	if [[ $id != debian && $id != raspbian && $like != *debian* ]]; then
		stop "this is ${id}, not Raspberry Pi OS or Debian; stopping"
	fi
	if [[ ! ${version%%.*} =~ ^[0-9]+$ || ${version%%.*} -lt 12 ]]; then
		stop "Debian ${version} is too old (Python 3.11 comes with 12, bookworm); stopping"
	fi
	say "OS: ${id} ${version}"
}

# dpkg's own record in the root, one stanza per package: installed, not merely known or removed.
installed() {
	awk -v package="$1" 'BEGIN { RS = "" }
		$0 ~ "(^|\n)Package: " package "\n" && $0 ~ "\nStatus: install ok installed(\n|$)" { found = 1 }
		END { exit !found }' "${ROOT}var/lib/dpkg/status" 2>/dev/null
}

install_packages() {
	local missing=() package wanted=("${APT_PACKAGES[@]}")
	if [[ -z $WHEELS ]]; then
		wanted+=("${BUILD_PACKAGES[@]}")
	fi
	for package in "${wanted[@]}"; do
		if ! installed "$package"; then
			missing+=("$package")
		fi
	done
	if [[ ${#missing[@]} == 0 ]]; then
		say "Debian packages: all present"
	elif [[ $ROOT != / && ! -x ${ROOT}usr/bin/apt-get ]]; then
		say "Debian packages: ${ROOT} has no apt-get; install in it later: ${missing[*]}"
	else
		say "Debian packages: installing ${missing[*]}"
		# A fresh image has no package lists (or old ones): fetch them first.
		if ! in_root apt-get update -q || ! in_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends "${missing[@]}"; then
			stop "apt-get could not install ${missing[*]}: the first install needs the Debian (Raspberry Pi OS)" \
				"mirror; check the network (ping deb.debian.org) and re-run"
		fi
	fi
}

has_entry() { grep -q "^$1:" "${ROOT}etc/$2" 2>/dev/null; }
member_of() { grep -q "^$1:[^:]*:[^:]*:\(.*,\)\?$2\(,.*\)\?$" "${ROOT}etc/group" 2>/dev/null; }

create_user() {
	local group missing=()
	for group in "${SERVICE_GROUPS[@]}"; do
		if ! has_entry "$group" group; then
			say "group ${group}: creating"
			run groupadd "${ROOT_OPT[@]}" --system "$group"
		fi
	done
	if ! has_entry "$SERVICE_USER" passwd; then
		say "user ${SERVICE_USER}: creating (system user, no login, groups ${SERVICE_GROUPS[*]})"
		run useradd "${ROOT_OPT[@]}" --system --user-group --no-create-home \
			--home-dir /var/lib/sitegate --shell /usr/sbin/nologin \
			--groups "$(IFS=,; echo "${SERVICE_GROUPS[*]}")" "$SERVICE_USER"
		return
	fi
	for group in "${SERVICE_GROUPS[@]}"; do
		if ! member_of "$group" "$SERVICE_USER"; then
			missing+=("$group")
		fi
	done
	if [[ ${#missing[@]} == 0 ]]; then
		say "user ${SERVICE_USER}: present"
	else
		say "user ${SERVICE_USER}: adding to ${missing[*]}"
		run usermod "${ROOT_OPT[@]}" --append --groups "$(IFS=,; echo "${missing[*]}")" "$SERVICE_USER"
	fi
}

# The source tree as a stream of names, modes and contents only (no owners or times): its hash says
# whether /opt/sitegate/src holds this tree already.
source_stream() {
	tar -C "$SRC" "${SOURCE_EXCLUDES[@]}" --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@0 --mode=a+rX,go-w -cf - .
}

install_source() {
	# The service (User=sitegate, ProtectHome=true) cannot read a copy in someone's home: it runs
	# from /opt/sitegate/src, root's and readable by all, as an image built with pi-gen does.
	if [[ $(realpath -m "$SRC") == $(realpath -m "$DEST") ]]; then
		say "source: ${INSTALL_DIR}/src"
		return
	fi
	local digest
	digest=$(source_stream | sha256sum | cut -d' ' -f1)
	if [[ -f ${DEST}/.sitegate-source && $(cat "${DEST}/.sitegate-source") == "$digest" ]]; then
		say "source: ${INSTALL_DIR}/src is up to date"
		return
	fi
	say "source: copying ${SRC} to ${INSTALL_DIR}/src"
	if [[ $DRY_RUN == 1 ]]; then
		say "would copy ${SRC} to ${DEST}"
		return
	fi
	rm -rf "${DEST}.new"
	mkdir -p "${DEST}.new"
	tar -C "$SRC" "${SOURCE_EXCLUDES[@]}" -cf - . | tar -C "${DEST}.new" --no-same-owner -xf -
	chmod -R a+rX,go-w "${DEST}.new"
	echo "$digest" >"${DEST}.new/.sitegate-source"
	rm -rf "${DEST}.old"
	if [[ -e $DEST ]]; then
		mv "$DEST" "${DEST}.old"
	fi
	mv "${DEST}.new" "$DEST"
	rm -rf "${DEST}.old"
	UPDATED=1
}

install_venv() {
	if [[ ! -x ${VENV}/bin/python ]]; then
		say "virtualenv: creating ${INSTALL_DIR}/venv"
		in_root python3 -m venv "${INSTALL_DIR}/venv"
	fi
	# The editable install follows the source; pip runs again only when what it installed from
	# (the dependencies in pyproject.toml, the Python) changed, so a re-run needs no package index.
	local stamp="${VENV}/.sitegate-installed" want
	want="$(sha256sum <"${SRC}/pyproject.toml" | cut -d' ' -f1) $(in_root python3 --version 2>&1)"
	if [[ -x ${VENV}/bin/sitegate && -f $stamp && $(cat "$stamp") == "$want" ]]; then
		say "virtualenv: up to date (SiteGate's dependencies unchanged; pip not run)"
	else
		local from=()
		if [[ -n $WHEELS ]]; then
			if [[ $ROOT != / && $(realpath -m "$WHEELS")/ != "$(realpath -m "$ROOT")"/* ]]; then
				stop "--wheels ${WHEELS} must be inside --root ${ROOT}"
			fi
			from=(--no-index --find-links "/${WHEELS#"${ROOT}"}")
			say "virtualenv: installing SiteGate (controller) from the wheelhouse ${WHEELS}"
		else
			say "virtualenv: installing SiteGate (controller) and its Python packages from PyPI"
		fi
		if ! in_root "${INSTALL_DIR}/venv/bin/pip" install -q "${from[@]}" -e "${INSTALL_DIR}/src[controller]"; then
			stop "pip could not install SiteGate's Python packages: the first install needs PyPI" \
				"(or piwheels), or a wheelhouse brought on a USB stick (--wheels DIR); see the README"
		fi
		if [[ $DRY_RUN == 0 ]]; then
			echo "$want" >"$stamp"
		fi
		UPDATED=1
	fi
	SITEGATE="${VENV}/bin/sitegate"
	if [[ $ROOT == / && $DRY_RUN == 0 && $(readlink /usr/local/bin/sitegate || true) != "${INSTALL_DIR}/venv/bin/sitegate" ]]; then
		ln -sfn "${INSTALL_DIR}/venv/bin/sitegate" /usr/local/bin/sitegate
	fi
}

UPDATED=0
check_os
install_packages
create_user
if [[ -n $SITEGATE ]]; then
	say "virtualenv: using ${SITEGATE}"
else
	install_source
	install_venv
fi
if [[ $UPDATED == 1 && $IMAGE == 0 ]]; then
	PASS+=(--restart) # a running lane picks up the new code
fi
say "handing over to: sitegate provision ${PASS[*]}${TOKEN:+ (and the token, in its environment)}"
if [[ $DRY_RUN == 1 && ! -x ${SITEGATE:-/nonexistent} ]]; then
	say "would run: sitegate provision ${PASS[*]}"
	exit 0
fi
if [[ $IMAGE == 1 ]]; then
	say "image mode: the key and the enrolment happen on site (sudo sitegate provision --hub URL --token TOKEN)"
fi
if [[ -n $TOKEN ]]; then
	export SITEGATE_TOKEN="$TOKEN"
fi
exec "$SITEGATE" provision "${PASS[@]}"
