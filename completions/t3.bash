# bash completion for t3 (`t3 completion bash`; README, "Shell completion")
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
