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
# The worker's voice prompts, made once here (espeak-ng's Mandarin, sox): the lane plays them from
# /opt/sitegate/prompts ([voice] prompts_dir) and never synthesises or fetches anything itself.
cd /opt/sitegate/src && /opt/sitegate/venv/bin/python -m controller.feedback.prompts /opt/sitegate/prompts
CHROOT
