#!/usr/bin/env bash
# Lints the OpenAPI document with Redocly CLI (recommended rules) and Spectral
# (spectral:oas), then generates a Python client from it with openapi-python-client.
# Fails on any Redocly or Spectral error, on any openapi-python-client warning or
# error, and when the generated client has no single therapist model (a second copy
# of TherapistDto, or a page wrapper whose items are an inline `*ItemsItem` model
# instead of a `$ref`). Prints one summary line per tool. See tests/openapi/README.md.
#
# Usage: tests/openapi/lint.sh [path/to/openapi.json]   (default: openapi/openapi.json
#        in the repo root; a relative path is taken from the current directory)
# The pinned tools are installed on first use into
#   ${PORTAL_OPENAPI_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portal-openapi-lint}
# (node/ for npm, venv/ for pip), outside the repo; needs node >= 20.19 with npm, and
# python3 >= 3.11.
set -euo pipefail

doc=${1:-}
if [[ -n $doc ]]; then
  [[ -f $doc ]] || { echo "openapi-lint: no such file: $doc" >&2; exit 2; }
  doc=$(realpath "$doc")
fi
cd "$(dirname "$0")/../.."
root=$PWD
doc=${doc:-$root/openapi/openapi.json}
[[ -f $doc ]] || { echo "openapi-lint: no such file: $doc" >&2; exit 2; }

REDOCLY_VERSION=2.77.0
SPECTRAL_VERSION=6.16.3
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
RUFF_VERSION=0.17.6 # the generator's post hooks run `ruff check --fix-only` and `ruff format`

export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
export SCARF_ANALYTICS=false DO_NOT_TRACK=1 # @scarf/scarf comes with @redocly/cli

cache=${PORTAL_OPENAPI_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/portal-openapi-lint}
node_dir=$cache/node
venv=$cache/venv
mkdir -p "$cache"

# --- install what is missing (under a lock: CI jobs may share the cache) ---------------
exec 9>"$cache/.lock"
command -v flock >/dev/null 2>&1 && flock 9

npm_version() { # package name -> installed version, or nothing
  node -e 'try { console.log(require(process.argv[1]).version) } catch (e) {}' \
    "$node_dir/node_modules/$1/package.json" 2>/dev/null || true
}
if [[ $(npm_version @redocly/cli) != "$REDOCLY_VERSION" ||
      $(npm_version @stoplight/spectral-cli) != "$SPECTRAL_VERSION" ]]; then
  command -v npm >/dev/null 2>&1 || { echo "openapi-lint: npm is not installed" >&2; exit 2; }
  echo "openapi-lint: installing @redocly/cli@$REDOCLY_VERSION and" \
    "@stoplight/spectral-cli@$SPECTRAL_VERSION into $node_dir"
  mkdir -p "$node_dir"
  # No install scripts: the only one is @scarf/scarf's (install analytics).
  if ! npm install --prefix "$node_dir" --no-audit --no-fund --save-exact --ignore-scripts \
      "@redocly/cli@$REDOCLY_VERSION" "@stoplight/spectral-cli@$SPECTRAL_VERSION" \
      >"$cache/npm-install.log" 2>&1; then
    cat "$cache/npm-install.log" >&2
    echo "openapi-lint: npm install failed" >&2
    exit 2
  fi
fi

pip_versions() {
  "$venv/bin/python" -c 'import importlib.metadata as m
print(m.version("openapi-python-client"), m.version("ruff"))' 2>/dev/null || true
}
if [[ $(pip_versions) != "$OPENAPI_PYTHON_CLIENT_VERSION $RUFF_VERSION" ]]; then
  echo "openapi-lint: installing openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" \
    "and ruff==$RUFF_VERSION into $venv"
  if ! { [[ -x $venv/bin/python ]] || python3 -m venv "$venv"; } >"$cache/pip-install.log" 2>&1 ||
     ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
       "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" "ruff==$RUFF_VERSION" \
       >>"$cache/pip-install.log" 2>&1; then
    cat "$cache/pip-install.log" >&2
    echo "openapi-lint: pip install failed (openapi-python-client needs python >= 3.11)" >&2
    exit 2
  fi
fi
exec 9>&- # unlock

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
summary=()
# Redocly prints a boxed Node.js deprecation notice on Node 20; it is not a finding.
drop_boxes() { { grep -v '[╔║╚]' || true; } | cat -s; }

# --- Redocly ----------------------------------------------------------------------------
echo "openapi-lint: redocly lint (tests/openapi/redocly.yaml) on $doc"
set +e
"$node_dir/node_modules/.bin/redocly" lint "$doc" --config tests/openapi/redocly.yaml \
  --format stylish --max-problems 10000 >"$work/redocly.log" 2>&1
rc=$?
set -e
drop_boxes <"$work/redocly.log"
errors=$(grep -cE '^ +[0-9]+:[0-9]+ +error ' "$work/redocly.log" || true)
warnings=$(grep -cE '^ +[0-9]+:[0-9]+ +warning ' "$work/redocly.log" || true)
if [[ $rc -ne 0 || $errors -ne 0 ]]; then
  status=1
  summary+=("redocly $REDOCLY_VERSION: FAIL, $errors errors, $warnings warnings (exit status $rc)")
else
  summary+=("redocly $REDOCLY_VERSION: ok, 0 errors, $warnings warnings")
fi

# --- Spectral ---------------------------------------------------------------------------
echo "openapi-lint: spectral lint (tests/openapi/spectral.yaml) on $doc"
set +e
"$node_dir/node_modules/.bin/spectral" lint "$doc" --ruleset tests/openapi/spectral.yaml \
  --fail-severity error --format stylish >"$work/spectral.log" 2>&1
rc=$?
set -e
cat "$work/spectral.log"
errors=$(grep -cE '^ *[0-9]+:[0-9]+ +error ' "$work/spectral.log" || true)
warnings=$(grep -cE '^ *[0-9]+:[0-9]+ +warning ' "$work/spectral.log" || true)
if [[ $rc -ne 0 || $errors -ne 0 ]]; then
  status=1
  summary+=("spectral $SPECTRAL_VERSION: FAIL, $errors errors, $warnings warnings (exit status $rc)")
else
  summary+=("spectral $SPECTRAL_VERSION: ok, 0 errors, $warnings warnings")
fi

# --- openapi-python-client ---------------------------------------------------------------
echo "openapi-lint: openapi-python-client generate (tests/openapi/openapi-python-client.yaml) on $doc"
client=$work/client
set +e
# The venv's bin first, so that the generator's ruff post hooks find ruff.
(cd "$work" && PATH="$venv/bin:$PATH" NO_COLOR=1 "$venv/bin/openapi-python-client" generate \
  --path "$doc" --meta none --output-path "$client" \
  --config "$root/tests/openapi/openapi-python-client.yaml" --fail-on-warning) \
  >"$work/opc.log" 2>&1
rc=$?
set -e
cat "$work/opc.log"
# Any warning or error makes it print "Warning(s) encountered while generating. ..." or
# "Error(s) encountered while generating, ...", then one block per problem headed e.g.
# "WARNING parsing GET /v1/... within admin." or "Skipping Integration" ("ruff is not
# in PATH").
opc_problems=()
if grep -qE 'encountered while generating|^WARNING|^ERROR|Skipping Integration|Unable to (parse|generate)' "$work/opc.log"; then
  opc_problems+=("it printed warnings or errors (above)")
fi
[[ $rc -eq 0 ]] || opc_problems+=("exit status $rc")
if [[ -d $client/models ]]; then
  # One therapist model: therapist_dto.py, and no other model with TherapistDto's fields
  # (an inlined copy); and no `*ItemsItem` model (page wrappers must $ref their item).
  models_out=$("$venv/bin/python" - "$client/models" <<'PY'
import ast, pathlib, sys

models = pathlib.Path(sys.argv[1])
fields = {}  # class name -> (file name, attribute names)
for path in sorted(models.glob("*.py")):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ClassDef):
            names = frozenset(
                s.target.id for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ) - {"additional_properties"}
            fields[node.name] = (path.name, names)
problems = []
if not (models / "therapist_dto.py").is_file() or "TherapistDto" not in fields:
    problems.append("no therapist model models/therapist_dto.py (class TherapistDto)")
else:
    therapist = fields["TherapistDto"][1]
    copies = sorted(f for c, (f, n) in fields.items() if n == therapist and c != "TherapistDto")
    if copies:
        problems.append("therapist model duplicated: therapist_dto.py and " + ", ".join(copies))
items = sorted({f for c, (f, _) in fields.items() if "ItemsItem" in c}
               | {p.name for p in models.glob("*items_item*.py")})
if items:
    problems.append("inline page item models (page wrappers must $ref their item): " + ", ".join(items))
print(len(fields))
for p in problems:
    print(p)
PY
)
  model_count=$(head -n1 <<<"$models_out")
  while IFS= read -r line; do
    [[ -n $line ]] && opc_problems+=("$line") && echo "openapi-lint: $line" >&2
  done < <(tail -n +2 <<<"$models_out")
else
  model_count=0
  opc_problems+=("no client was generated")
fi
if [[ ${#opc_problems[@]} -ne 0 ]]; then
  status=1
  summary+=("openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION: FAIL, $(IFS=';'; echo "${opc_problems[*]}" | sed 's/;/; /g')")
else
  summary+=("openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION: ok, no warnings, $model_count models, one therapist model, no ItemsItem")
fi

echo "--- openapi-lint summary"
printf '%s\n' "${summary[@]}"
exit "$status"
