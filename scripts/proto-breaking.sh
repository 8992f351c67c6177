#!/usr/bin/env bash
# The API stays backward compatible: proto/ as it is now must not break proto/ as it was
# before its latest change. Uncommitted edits are compared with HEAD; otherwise the last
# commit that touched proto/ is compared with its parent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "proto-breaking: not a git checkout; nothing to compare against" >&2
  exit 0
fi
if ! git diff --quiet HEAD -- proto; then
  base=HEAD
else
  last=$(git log -n 1 --format=%H -- proto)
  if ! git rev-parse --verify --quiet "${last}~1" >/dev/null; then
    echo "proto-breaking: ${last} has no parent in this clone (shallow?); fetch more history" >&2
    exit 1
  fi
  base="${last}~1"
fi
npx buf breaking --against ".git#ref=$(git rev-parse "$base"),subdir=proto"
echo "proto-breaking: proto/ is compatible with $(git rev-parse --short "$base")"
