# fish completion for t3 (`t3 completion fish`; README, "Shell completion")
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
