'''The completion scripts `t3 completion bash|zsh|fish` prints, and the answers t3 gives them.

Each TAB runs `t3` with `_T3_COMPLETE=SHELL_complete` and the command line in `COMP_WORDS` /
`COMP_CWORD` (click's protocol, parsed by click's shell classes). t3 answers one line per
candidate, the same for every shell:

    KIND<TAB>VALUE<TAB>DESCRIPTION

KIND is `plain` (offer VALUE), `dir` (let the shell complete directory names) or `file`; the
description may be empty. Neither field ever holds a tab or a newline (they are escaped), so a
description keeps its commas, colons and spaces in every shell — click's own scripts cut fish
descriptions at the first comma and split bash values at spaces.

The scripts show descriptions in all three shells: zsh (`_describe`) and fish natively; bash, which
has no descriptions, lists `VALUE  -- DESCRIPTION` when several candidates remain and inserts the
bare value when one does. They keep t3's order (most recently active thread first), say nothing
on stderr, and depend only on the shell — never on this machine — so `completions/` can be
checked against them.
'''

from __future__ import annotations

import os
from typing import Any, ClassVar

from click.shell_completion import (
    BashComplete,
    CompletionItem,
    FishComplete,
    ShellComplete,
    ZshComplete,
    split_arg_string,
)

PROG_NAME = "t3"
COMPLETE_VAR = "_T3_COMPLETE"

_BASH = r"""# bash completion for t3 (`t3 completion bash`; README, "Shell completion")
_t3_complete() {
    local line kind value about width=0 described=0 i entry
    local -a lines values abouts
    COMPREPLY=()
    mapfile -t lines < <(COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" \
        COMP_WORDS="${COMP_WORDS[*]}" COMP_CWORD="$COMP_CWORD" \
        _T3_COMPLETE=bash_complete "$1" 2>/dev/null)
    for line in "${lines[@]}"; do
        IFS=$'\t' read -r kind value about <<< "$line"
        case $kind in
            dir) compopt -o dirnames 2>/dev/null; return 0 ;;
            file) compopt -o default 2>/dev/null; return 0 ;;
            plain)
                values+=("$value")
                abouts+=("$about")
                [[ -n $about ]] && described=1
                (( ${#value} > width )) && width=${#value}
                ;;
        esac
    done
    if (( ${#values[@]} < 2 || ! described )); then
        COMPREPLY=("${values[@]}")
        return 0
    fi
    # Several candidates: bash shows COMPREPLY as the list, and inserts what all entries share,
    # which stops inside the values (they differ), never in a description.
    local columns=${COLUMNS:-80}
    for i in "${!values[@]}"; do
        entry=${values[i]}
        [[ -n ${abouts[i]} ]] &&
            printf -v entry '%-*s  -- %s' "$width" "${values[i]}" "${abouts[i]}"
        (( ${#entry} >= columns )) && entry="${entry:0:columns-2}~"
        COMPREPLY+=("$entry")
    done
}
complete -o nosort -F _t3_complete t3
"""

_ZSH = r"""#compdef t3
# zsh completion for t3 (`t3 completion zsh`; README, "Shell completion")
_t3() {
    local -a lines described bare
    local line kind value about by_title=0
    lines=("${(@f)$(COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT - 1)) \
        _T3_COMPLETE=zsh_complete ${words[1]} 2>/dev/null)}")
    # `--status=bl`: t3 answers the value; it replaces what follows the `=`, not the option.
    [[ $PREFIX == -* ]] && compset -P '*='
    for line in $lines; do
        kind=${line%%$'\t'*}
        line=${line#*$'\t'}
        value=${line%%$'\t'*}
        about=${line#*$'\t'}
        case $kind in
            dir) _path_files -/ ;;
            file) _files ;;
            plain)
                [[ $value != "$PREFIX"* ]] && by_title=1
                if [[ -n $about ]]; then
                    described+=("${value//:/\\:}:$about")
                else
                    bare+=("$value")
                fi
                ;;
        esac
    done
    # -U: t3 has filtered already, and a title match does not start with the typed word; then,
    # with several matches, only list them: inserting their common prefix would erase the word.
    # (-U drops the ignored `--option=` prefix unless it is given back with -i.)
    (( $#described )) && _describe -V t3 described -U -i "$IPREFIX"
    (( $#bare )) && compadd -U -i "$IPREFIX" -V t3 -a bare
    (( by_title && compstate[nmatches] > 1 )) && compstate[insert]=''
    return 0
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _t3 "$@"  # autoloaded from $fpath: complete now
else
    compdef _t3 t3  # sourced: register for later
fi
"""

_FISH = r"""# fish completion for t3 (`t3 completion fish`; README, "Shell completion")
function __t3_complete
    set -l token (commandline -ct)
    set -l lines (env COMP_WORDS=(commandline -cp) COMP_CWORD=$token \
        _T3_COMPLETE=fish_complete t3 2>/dev/null)
    # `--status=bl`: t3 answers the value; fish matches what it offers against the whole token.
    set -l option ''
    string match -q -- '-*=*' $token; and set option (string replace -r '=.*' '=' -- $token)
    for line in $lines
        set -l fields (string split -m 2 \t -- $line)
        switch $fields[1]
            case dir
                __fish_complete_directories $token
            case file
                __fish_complete_path $token
            case plain
                if test -n "$fields[3]"
                    printf '%s%s\t%s\n' $option $fields[2] $fields[3]
                else
                    printf '%s%s\n' $option $fields[2]
                end
        end
    end
end
complete -c t3 -f -k -a '(__t3_complete)'
"""


def _field(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class _T3Lines(ShellComplete):
    """t3's answer format and scripts, over click's parsing of the command line."""

    script: ClassVar[str]

    def source(self) -> str:
        return self.script

    def format_completion(self, item: CompletionItem[Any]) -> str:
        return f"{item.type}\t{_field(str(item.value))}\t{_field(item.help or '')}"


class T3BashComplete(_T3Lines, BashComplete):
    script = _BASH

    def get_completion_args(self) -> tuple[list[str], str]:
        """The words before the cursor, from the line as typed when the script passes it:
        bash's own `COMP_WORDS` are also split at `=` and `:`, so `--status=bl` would reach
        t3 as three words. (Without `COMP_LINE`, click's reading of `COMP_WORDS`.)"""
        line = os.environ.get("COMP_LINE", "")
        if not line:
            return super().get_completion_args()
        try:
            point = int(os.environ.get("COMP_POINT", len(line)))
        except ValueError:
            point = len(line)
        before = line[:point]
        words = split_arg_string(before)
        incomplete = "" if not before or before[-1].isspace() or not words else words.pop()
        return words[1:], incomplete


class T3ZshComplete(_T3Lines, ZshComplete):
    script = _ZSH


class T3FishComplete(_T3Lines, FishComplete):
    script = _FISH


SHELLS: dict[str, type[ShellComplete]] = {
    "bash": T3BashComplete,
    "zsh": T3ZshComplete,
    "fish": T3FishComplete,
}


def source(cli: Any, shell: str) -> str:
    """The completion script for `shell` (a key of `SHELLS`), for program `t3`. Deterministic:
    it depends only on the shell, never on this machine."""
    return SHELLS[shell](cli, {}, PROG_NAME, COMPLETE_VAR).source()
