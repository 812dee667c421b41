#!/usr/bin/env bash
# Sets up a fresh Debian machine for xfer, idempotently: pnpm through corepack, the Debian packages the
# tests need (PyTorch for the worker, OpenBLAS so it is fast, NumPy/scikit-learn for reference benchmarks,
# pytest, Chromium for browser tests), then the workspace's dependencies. Safe to run again: each step
# checks first and does nothing when its part is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[36m[setup]\033[0m %s\n' "$*"; }

# 1. pnpm, pinned by package.json's packageManager (with its sha512, so corepack needs no signature keys).
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$(node -p 'require("./package.json").packageManager.split("@")[1].split("+")[0]')" ]; then
  log "enabling pnpm through corepack"
  export COREPACK_ENABLE_DOWNLOAD_PROMPT=0
  corepack enable
fi

# 2. Debian packages (only the missing ones; apt-get update only when something is missing).
packages=(python3-torch libopenblas0-pthread python3-numpy python3-sklearn python3-pytest chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 3. Workspace dependencies (the lockfile is authoritative in CI).
log "installing workspace dependencies"
if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile --reporter=append-only
else
  pnpm install --reporter=append-only
fi
log "ready"
