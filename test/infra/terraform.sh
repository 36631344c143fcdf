#!/usr/bin/env bash
# Terraform parses, references resolve, and it matches CloudFormation (see terraform.mjs).
set -euo pipefail
ROOT=${BF_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
node "$ROOT/test/infra/terraform.mjs" "$ROOT"
