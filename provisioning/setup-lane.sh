#!/usr/bin/env bash
# Turn a bare Raspberry Pi (Raspberry Pi OS / Debian 12 or newer) into an enrolled SiteGate lane.
#
#   sudo ./provisioning/setup-lane.sh --hub https://hub.example --token lane-hz0042-a1.<secret>
#
# What only a shell can do on a bare OS comes first: the Debian packages, the `sitegate` user and
# its groups, the virtualenv with SiteGate in it. Then it hands over to `sitegate provision`
# (same options), which installs the OS pieces (units, udev rules, journald caps, watchdog, UART),
# makes the device's key, enrols with the token, writes the configuration and runs the self-test.
#
# Safe to re-run: each step checks before it acts. Options of its own:
#   --root DIR     install into DIR (an image's root file system; the tests' temporary root)
#   --dry-run      print what would be done, change nothing (passed on to sitegate provision)
#   --image        image build: everything but the key and the enrolment (pi-gen runs this)
#   --sitegate BIN use this sitegate executable instead of building the virtualenv
# Everything else (--hub, --token, --id-module, --pcsc, --board, ...) goes to sitegate provision.
set -euo pipefail

ROOT=/
DRY_RUN=0
IMAGE=0
SITEGATE=""
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PASS=()
APT_PACKAGES=(python3 python3-venv python3-dev build-essential swig pcscd libpcsclite-dev libccid pcsc-tools chrony)
SERVICE_USER=sitegate
SERVICE_GROUPS=(gpio dialout)

while [[ $# -gt 0 ]]; do
	case "$1" in
	--root) ROOT="$2"; PASS+=(--root "$2"); shift 2 ;;
	--dry-run) DRY_RUN=1; PASS+=(--dry-run); shift ;;
	--image) IMAGE=1; PASS+=(--image); shift ;;
	--sitegate) SITEGATE="$2"; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) PASS+=("$1"); shift ;;
	esac
done
ROOT="${ROOT%/}/"
VENV="${ROOT}opt/sitegate/venv"

say() { printf '[setup-lane] %s\n' "$*"; }
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
		say "no ${release}: not a Debian-family root; stopping"
		exit 1
	fi
	# Read, not sourced: the file belongs to the root being set up, which may be an image's.
	id=$(os_field ID "$release")
	like=$(os_field ID_LIKE "$release")
	version=$(os_field VERSION_ID "$release")
	if [[ $id != debian && $id != raspbian && $like != *debian* ]]; then
		say "this is ${id}, not Raspberry Pi OS or Debian; stopping"
		exit 1
	fi
	if [[ ! ${version%%.*} =~ ^[0-9]+$ || ${version%%.*} -lt 12 ]]; then
		say "Debian ${version} is too old (Python 3.11 comes with 12, bookworm); stopping"
		exit 1
	fi
	say "OS: ${id} ${version}"
}

install_packages() {
	local missing=() package
	for package in "${APT_PACKAGES[@]}"; do
		if ! grep -q "^Package: ${package}\$" "${ROOT}var/lib/dpkg/status" 2>/dev/null; then
			missing+=("$package")
		fi
	done
	if [[ ${#missing[@]} == 0 ]]; then
		say "Debian packages: all present"
	elif [[ $ROOT != / && ! -x ${ROOT}usr/bin/apt-get ]]; then
		say "Debian packages: ${ROOT} has no apt-get; install in it later: ${missing[*]}"
	else
		say "Debian packages: installing ${missing[*]}"
		in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
}

has_entry() { grep -q "^$1:" "${ROOT}etc/$2" 2>/dev/null; }

create_user() {
	local group
	for group in "${SERVICE_GROUPS[@]}"; do
		if ! has_entry "$group" group; then
			say "group ${group}: creating"
			run groupadd --root "${ROOT%/}" --system "$group"
		fi
	done
	if has_entry "$SERVICE_USER" passwd; then
		say "user ${SERVICE_USER}: present"
	else
		say "user ${SERVICE_USER}: creating (system user, no login, groups ${SERVICE_GROUPS[*]})"
		run useradd --root "${ROOT%/}" --system --user-group --no-create-home \
			--home-dir /var/lib/sitegate --shell /usr/sbin/nologin \
			--groups "$(IFS=,; echo "${SERVICE_GROUPS[*]}")" "$SERVICE_USER"
	fi
}

install_venv() {
	if [[ -n $SITEGATE ]]; then
		say "virtualenv: using ${SITEGATE}"
		return
	fi
	if [[ ! -x ${VENV}/bin/python ]]; then
		say "virtualenv: creating /opt/sitegate/venv"
		in_root python3 -m venv /opt/sitegate/venv
	fi
	say "virtualenv: installing SiteGate (controller) from ${SRC}"
	local src_in_root="$SRC"
	if [[ $ROOT != / ]]; then
		src_in_root="/${SRC#"${ROOT}"}"
	fi
	# Editable: sitegate provision reads firmware/ from this source tree.
	in_root /opt/sitegate/venv/bin/pip install -q -e "${src_in_root}[controller]"
	SITEGATE="${VENV}/bin/sitegate"
	if [[ $ROOT == / && $DRY_RUN == 0 ]]; then
		ln -sf /opt/sitegate/venv/bin/sitegate /usr/local/bin/sitegate
	fi
}

check_os
install_packages
create_user
install_venv
say "handing over to: sitegate provision ${PASS[*]}"
if [[ $DRY_RUN == 1 && ! -x ${SITEGATE:-/nonexistent} ]]; then
	say "would run: sitegate provision ${PASS[*]}"
	exit 0
fi
if [[ $IMAGE == 1 ]]; then
	say "image mode: the key and the enrolment happen on site (sudo sitegate provision --hub URL --token TOKEN)"
fi
exec "$SITEGATE" provision "${PASS[@]}"
