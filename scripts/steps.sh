# Sourced by the scripts: named, timed steps. Each step prints its name and how long it is
# expected to take, runs, then prints how long it took; a step that fails prints what to do.
#
#   run_step "name" "expected" "what to do if it fails" command args...

# Exported, so a script that another one calls counts from the same start.
if [ -z "${CONVERRA_STEPS_STARTED:-}" ]; then
  export CONVERRA_STEPS_STARTED=$(date +%s)
  steps_own_clock=1
fi

_fmt_secs() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm %02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

run_step() {
  local name=$1 expected=$2 remedy=$3
  shift 3
  printf '\n== %s (expected: %s)\n' "$name" "$expected"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -ne 0 ]; then
    printf '\n!! %s failed after %s (exit %d).\n!! What to do: %s\n' "$name" "$(_fmt_secs "$took")" "$rc" "$remedy" >&2
    exit "$rc"
  fi
  printf -- '-- %s: done in %s\n' "$name" "$(_fmt_secs "$took")"
}

# Prints the time since the first script sourced this file; a script that another one
# called prints nothing, its caller gives the total.
steps_total() {
  [ "${steps_own_clock:-}" = 1 ] || return 0
  printf -- '-- %s: %s in all\n' "$1" "$(_fmt_secs $(($(date +%s) - CONVERRA_STEPS_STARTED)))"
}
