# bash completion for spyglass-cli: subcommands, then each subcommand's options as its own --help
# lists them (read once per subcommand and kept for the shell session), then files.
_spyglass_cli_options()
{
    local command=$1 cached
    local -n _spyglass_out=$2
    cached="_spyglass_cli_opts_${command//-/_}"
    if [[ -z ${!cached+set} ]]; then
        printf -v "$cached" '%s' "$("${COMP_WORDS[0]}" "$command" --help 2>/dev/null | grep -o -- '--[a-z0-9-]*' | sort -u | tr '\n' ' ')"
    fi
    _spyglass_out=${!cached}
}

_spyglass_cli()
{
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        cword=$COMP_CWORD
    }
    local commands="info tokenize generate trace analyze patch ab steer-vector batch aggregate dequantize train eval render diffuse train-image compare-prompts eval-image serve --help --version"
    if [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        return
    fi
    local command=${COMP_WORDS[1]}
    case $prev in
        --device) COMPREPLY=($(compgen -W "cpu cuda cuda:0 cuda:1" -- "$cur")); return ;;
        --site) COMPREPLY=($(compgen -W "resid_pre attn_out mlp_out head" -- "$cur")); return ;;
        --lens) COMPREPLY=($(compgen -W "normed raw sublayer" -- "$cur")); return ;;
        --view) COMPREPLY=($(compgen -W "saliency lens factors projection" -- "$cur")); return ;;
        --model | --out | --tokenizer | --prompts | --positive | --negative | --factors-from | --from-png | --vae | \
            --config | --lora | --lora-dir | --text-file | --heatmaps | --trace | --init-latents)
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return
            ;;
    esac
    if [[ $cur == -* ]]; then
        local options
        _spyglass_cli_options "$command" options
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
}
complete -F _spyglass_cli spyglass-cli
