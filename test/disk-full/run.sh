#!/usr/bin/env bash
# A full disk for real: a 4 MiB tmpfs holds the blackboard while test/disk-full/full-disk.check.ts
# fills it. Mounting needs root (sudo when not root), so this runs from .ci/run, not `npm test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
dir="$(mktemp -d "${TMPDIR:-/tmp}/clawos-full-disk-XXXXXX")"
cleanup() { $SUDO umount "$dir" 2>/dev/null || true; rmdir "$dir" 2>/dev/null || true; }
trap cleanup EXIT
$SUDO mount -t tmpfs -o size=4m,mode=0755 tmpfs "$dir"
$SUDO chown "$(id -u):$(id -g)" "$dir"
CLAWOS_FULL_DISK_DIR="$dir" node --test --test-timeout=120000 dist/test/disk-full/full-disk.check.js
