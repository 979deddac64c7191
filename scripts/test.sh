#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need,
# checks generated code and formatting, then runs every test (with the race
# detector) and a short fuzzing pass of every decoder.
#
#   scripts/test.sh          everything
#   QUICK=1 scripts/test.sh  skip the fuzzing pass
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "installing test dependencies"
# aws CLI v2 comes from Debian's awscli package (/usr/bin/aws); v1 and boto3
# come with the machine's Python. Without root or apt the v2 tests skip.
# The data-plane tests run curl, ssh and ip on the simulated internet;
# instances boot images that mmdebstrap builds. The console's test renders
# the page in headless Chromium.
debs=()
command -v mmdebstrap >/dev/null || debs+=(mmdebstrap)
/usr/bin/aws --version 2>&1 | grep -q '^aws-cli/2' || debs+=(awscli)
command -v curl >/dev/null || debs+=(curl)
command -v ssh >/dev/null || debs+=(openssh-client)
command -v ip >/dev/null || debs+=(iproute2)
command -v dig >/dev/null || debs+=(dnsutils)
command -v chromium >/dev/null || debs+=(chromium)
if [ ${#debs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${debs[@]}" >/dev/null) ||
      echo "warning: could not install ${debs[*]}; the tests that need them will skip or fail"
  else
    echo "warning: ${debs[*]} missing and cannot be installed here; the tests that need them will skip or fail"
  fi
fi
python3 -c 'import boto3' 2>/dev/null || pip install -q boto3 || echo "warning: boto3 missing; its tests will skip"
go mod download

step "generated code is up to date"
go generate ./api
if ! git diff --quiet --exit-code -- api; then
  git --no-pager diff --stat -- api
  echo "generated code is stale: run 'go generate ./api' and commit the result" >&2
  exit 1
fi

step "gofmt and go vet"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
# Off Linux there is no data plane, but cloudbox must build and serve.
GOOS=darwin go build -o /dev/null ./cmd/cloudbox

step "the instances' images (built once into a cache outside the clone, shared by every test daemon)"
export CLOUDBOX_IMAGE_DIR=${CLOUDBOX_IMAGE_DIR:-/var/cache/cloudbox/images}
if [ "$(id -u)" = 0 ]; then
  go run ./cmd/cloudbox images
fi

step "tests (race detector on)"
# The end-to-end package runs real daemons, instances, databases and
# caches (whose first boots install their engines) and clients: 15
# minutes on two quiet cores, 40 on loaded ones; the bound leaves room for
# a slow machine within CI's 90 minutes, it is not the target.
go test -race -count=1 -timeout 70m ./...

if [ -z "${QUICK:-}" ]; then
  step "fuzzing every decoder briefly (scripts/fuzz.sh runs them longer)"
  FUZZTIME=${FUZZTIME:-4s} scripts/fuzz.sh
fi
