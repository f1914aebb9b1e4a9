#!/bin/bash -e
# pi-gen: put the SiteGate source into the image and run the lane setup in image mode (every
# step except enrolment, which needs the site manager's one-time token and happens on site:
# `sudo sitegate provision --hub URL --token TOKEN`).
: "${SITEGATE_SRC:?set SITEGATE_SRC to the SiteGate checkout to build from}"
install -d "${ROOTFS_DIR}/opt/sitegate/src"
tar -C "${SITEGATE_SRC}" --exclude=.git --exclude=.venv --exclude='*.pyc' -cf - . \
	| tar -C "${ROOTFS_DIR}/opt/sitegate/src" -xf -
on_chroot <<'CHROOT'
/opt/sitegate/src/provisioning/setup-lane.sh --image
CHROOT
