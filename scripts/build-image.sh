#!/usr/bin/env bash
# Build the olist container image (the top-level Containerfile) from this checkout, with no
# image registry: the base image is made from Debian packages with mmdebstrap, imported into
# buildah's storage, and the image built on it with `buildah bud --isolation chroot`.
#
#   scripts/build-image.sh [--tag IMAGE] [--refresh-base]
#
#   --tag IMAGE      the image to build (default localhost/olist:latest)
#   --refresh-base   remake the base image now, even if a cached one is fresh
#
# What is cached, outside the checkout (OLIST_IMAGE_CACHE, default ~/.cache/olist-image):
# the base root filesystem, as base-<key>.tar, where <key> hashes everything that goes
# into it (suite, packages, options, mmdebstrap's version, architecture). It is remade
# after OLIST_BASE_MAX_AGE_DAYS days (default 7) so that Debian's security updates reach
# the image. buildah's own layer cache (--layers) keeps the dependencies' layer until
# pyproject.toml changes, so a change to the code rebuilds only the small layers on top.
#
# Needs root (buildah's chroot isolation and mmdebstrap's root mode) and installs buildah and
# mmdebstrap with apt-get when they are missing. Exit 69 when they cannot be had.
set -euo pipefail

TAG="localhost/olist:latest"
REFRESH_BASE=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -t | --tag) TAG="${2:?--tag needs an image name}"; shift 2 ;;
        --tag=*) TAG="${1#--tag=}"; shift ;;
        --refresh-base) REFRESH_BASE=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "build-image.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${OLIST_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/olist-image}"
MAX_AGE_DAYS="${OLIST_BASE_MAX_AGE_DAYS:-7}"
EX_UNAVAILABLE=69

say() { echo "build-image.sh: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# -- prerequisites -------------------------------------------------------------------------
if [[ "$(id -u)" != "0" ]]; then
    say "needs root (buildah --isolation chroot, mmdebstrap in root mode)"
    exit "$EX_UNAVAILABLE"
fi
if ! have buildah || ! have mmdebstrap; then
    if ! have apt-get; then
        say "buildah and mmdebstrap are missing, and there is no apt-get to install them"
        exit "$EX_UNAVAILABLE"
    fi
    say "installing buildah and mmdebstrap (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends \
        buildah mmdebstrap >/dev/null; }; then
        say "apt-get could not install buildah and mmdebstrap"
        exit "$EX_UNAVAILABLE"
    fi
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/build.lock"
flock 9 # one build at a time: they share the cache and the tags

# -- the base image: Debian's python3 and nothing it does not need -------------------------
SUITE="bookworm"
# libstdc++6: numpy's, pandas' and duckdb's wheels link to it; ca-certificates: the
# webhook alert (urllib) verifies TLS with the system store.
PACKAGES="python3,python3-venv,libstdc++6,ca-certificates"
MMDEBSTRAP_OPTS=(
    --variant=essential # no apt, no init: the image runs one program
    --include="$PACKAGES"
    --aptopt='APT::Install-Recommends "false"'
    # merged /usr without the usrmerge package, which would bring perl (45 MB)
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
KEY="$(printf '%s\n' "$SUITE" "${MMDEBSTRAP_OPTS[@]}" "$(mmdebstrap --version)" \
    "$(dpkg --print-architecture)" | sha256sum | cut -c1-16)"
ROOTFS="$CACHE/base-$KEY.tar"
BASE="localhost/olist-base:$KEY"

image_id() { buildah images --quiet --no-trunc "$1" 2>/dev/null | head -1 || true; }

if [[ "$REFRESH_BASE" == 1 || ! -s "$ROOTFS" ]] \
    || [[ -n "$(find "$ROOTFS" -mmin "+$((MAX_AGE_DAYS * 24 * 60))" 2>/dev/null)" ]]; then
    say "making the base root filesystem ($SUITE: $PACKAGES) with mmdebstrap"
    start=$SECONDS
    mmdebstrap --quiet --format=tar "${MMDEBSTRAP_OPTS[@]}" "$SUITE" "$ROOTFS.partial"
    mv "$ROOTFS.partial" "$ROOTFS"
    say "base root filesystem made in $((SECONDS - start))s: $ROOTFS"
    # Drop the base image made from the previous tarball; the images built on it keep
    # their layers until they go too.
    buildah rmi "$BASE" >/dev/null 2>&1 || true
    find "$CACHE" -maxdepth 1 -name 'base-*.tar' ! -name "base-$KEY.tar" -delete
fi
if [[ -z "$(image_id "$BASE")" ]]; then
    say "importing the base image $BASE"
    container="$(buildah from scratch)"
    trap 'buildah rm "$container" >/dev/null 2>&1 || true' EXIT
    buildah add --quiet "$container" "$ROOTFS" / >/dev/null
    buildah config --created-by "mmdebstrap ${MMDEBSTRAP_OPTS[*]} $SUITE" \
        --label org.opencontainers.image.base.name="debian:$SUITE" "$container"
    buildah commit --quiet --rm "$container" "$BASE" >/dev/null
    trap - EXIT
fi

# -- the image -----------------------------------------------------------------------------
build_args=(--build-arg "BASE=$BASE")
volumes=()
# pip in the build trusts this machine's CA bundle, mounted for the build only (an index
# behind a TLS-inspecting proxy works as it does here); a package index set here is used too.
CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
if [[ -f "$CERT" ]]; then
    volumes+=(--volume "$CERT:/run/olist-build/ca.crt:ro")
    build_args+=(--build-arg "PIP_CERT=/run/olist-build/ca.crt")
fi
if [[ -n "${PIP_INDEX_URL:-}" ]]; then
    build_args+=(--build-arg "PIP_INDEX_URL=$PIP_INDEX_URL")
fi

previous="$(image_id "$TAG")"
say "building $TAG from $ROOT"
start=$SECONDS
buildah bud --isolation chroot --layers --force-rm --file "$ROOT/Containerfile" --tag "$TAG" \
    "${build_args[@]}" "${volumes[@]}" "$ROOT"
built="$(image_id "$TAG")"
# The image this tag named before is of no more use (its layers stay while another uses them).
if [[ -n "$previous" && "$previous" != "$built" ]]; then
    buildah rmi "$previous" >/dev/null 2>&1 || true
fi
size="$(buildah images --format '{{.Size}}' "$TAG" | head -1)"
say "built $TAG in $((SECONDS - start))s: $size"
