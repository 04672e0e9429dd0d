#!/usr/bin/env bash
# Part of `make test`: installs into a scratch folder with the given binary and checks what a
# user gets: both executables, the man page and the bash, zsh and fish completions name every subcommand and every
# option of `render`, and the man page lost no character of the help text.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: check-install.sh BINARY}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make --no-print-directory install-files BIN="$bin" CONFIG=debug DESTDIR="$root" PREFIX=/usr >/dev/null
share=$root/usr/share
man=$share/man/man1/stridecue.1
bash_completion=$share/bash-completion/completions/stridecue
zsh_completion=$share/zsh/site-functions/_stridecue
fish_completion=$share/fish/vendor_completions.d/stridecue.fish
failures=0
fail() { echo "check-install: $*" >&2; failures=$((failures + 1)); }

for f in "$root/usr/bin/stridecue" "$root/usr/bin/stridecue-remote" "$man" "$bash_completion" "$zsh_completion" "$fish_completion" \
         "$share/stridecue/Presets/bum-kicks.yaml"; do
    [ -s "$f" ] || fail "missing or empty: ${f#"$root"}"
done

# The installed stridecue finds the installed stridecue-remote: `play --remote` serves (its URL
# printed) before it finds no such sound device.
remote_out=$("$root/usr/bin/stridecue" play --spm 180 --duration 1s --no-keys --device stridecue-no-such-card \
    --remote 127.0.0.1:0 2>/dev/null </dev/null || true)
case "$remote_out" in
    "Coach remote: http://127.0.0.1:"*) ;;
    *) fail "the installed 'stridecue play --remote' did not run the installed stridecue-remote: $remote_out" ;;
esac

# Subcommands as `stridecue --help` lists them, preset's own subcommands too.
subcommands=$("$bin" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ { print $1 }')
preset_subcommands=$("$bin" preset --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ { print $1 }')
[ "$(echo "$subcommands" | wc -w)" -ge 8 ] || fail "found only: $subcommands"
[ "$(echo "$preset_subcommands" | wc -w)" -ge 5 ] || fail "preset has only: $preset_subcommands"
for name in $subcommands $preset_subcommands; do
    grep -q "^\.It Em $name\$" "$man" || fail "the man page lacks the subcommand $name"
    grep -qw -- "$name" "$bash_completion" || fail "bash completion lacks $name"
    grep -qw -- "$name" "$zsh_completion" || fail "zsh completion lacks $name"
    grep -qw -- "$name" "$fish_completion" || fail "fish completion lacks $name"
done
for option in $("$bin" render --help | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
    grep -qF -- "${option#--}" "$man" || fail "the man page lacks render's $option"
    grep -qF -- "$option" "$bash_completion" || fail "bash completion lacks render's $option"
done
# generate-manual drops characters outside ASCII: keep help text ASCII so the page says it all.
if "$bin" --experimental-dump-help | LC_ALL=C grep -q '[^ -~]'; then
    fail "help text holds characters outside ASCII, which the man page would drop: $("$bin" --experimental-dump-help | LC_ALL=C grep -o '[^ -~]*' | sort -u | tr '\n' ' ')"
fi
# The page renders without a warning.
if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1 || true)
    [ -z "$warnings" ] || fail "groff warns: $(echo "$warnings" | head -3)"
fi
if [ "$failures" -gt 0 ]; then
    echo "check-install: $failures problem(s)" >&2
    exit 1
fi
echo "check-install: man page and completions name $(echo $subcommands $preset_subcommands | wc -w) subcommands"
