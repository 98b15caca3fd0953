#!/bin/sh
# Build a local Debian bookworm base image without pulling from any registry: for machines that reach
# Debian's mirrors and PyPI but no image registry. Needs root, debootstrap and a running dockerd.
#
#   sudo deploy/docker/local-base-image.sh [NAME]          # default NAME: kokoro-base:bookworm
#   docker build --network host --build-arg BASE_IMAGE=kokoro-base:bookworm -t kokoro-speech .
#
# When the package index is reached through a TLS-intercepting proxy, the host's CA bundle is copied
# into the image and pip is pointed at it (/etc/pip.conf), so `pip install` in the build trusts it.
set -eu
NAME="${1:-kokoro-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
ROOT="$(mktemp -d /tmp/kokoro-base.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$ROOT" "$MIRROR"
if [ -f "$HOST_CA" ]; then
    mkdir -p "$ROOT/usr/local/share/kokoro"
    cp "$HOST_CA" "$ROOT/usr/local/share/kokoro/host-ca.crt"
    printf '[global]\ncert = /usr/local/share/kokoro/host-ca.crt\n' > "$ROOT/etc/pip.conf"
fi
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
tar -C "$ROOT" -c . | docker import -c 'ENV LANG=C.UTF-8' -c 'CMD ["python3"]' - "$NAME"
echo "built $NAME"
