#!/bin/sh
# Installs sysgrade (one static binary) from a release made by `cargo xtask dist`:
#
#     curl -fsSL <release>/install.sh | sh
#
# It picks the archive for this machine from the release's sha256.sum, downloads it, checks
# its SHA-256, and only then installs `sysgrade` (copied beside its final place, then renamed
# over it, so an install that fails leaves the folder as it was). POSIX sh: dash, bash, busybox.
#
# Environment:
#   SYSGRADE_DOWNLOAD_URL  the folder of the release's files (https://…, http://… or
#                          file:///local/path); default: the URL stamped below
#   SYSGRADE_INSTALL_DIR   where to install (default: /usr/local/bin as root, else ~/.local/bin)
#   SYSGRADE_ARCH          stands in for `uname -m` (tests)
set -eu

# Stamped by `cargo xtask dist --download-url URL`; empty in the repository's copy.
DEFAULT_DOWNLOAD_URL=''

SUPPORTED='x86_64 (amd64), aarch64 (arm64)'
tmp=''
staged=''
created=''

say() {
    printf 'sysgrade install: %s\n' "$*"
}

fail() {
    printf 'sysgrade install: error: %s\n' "$*" >&2
    exit 1
}

# Removes what this script made and did not finish: the download folder, a half-copied
# binary, and the install folder itself when this run created it and left it empty.
cleanup() {
    if [ -n "$staged" ]; then rm -f -- "$staged"; fi
    if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
    if [ -n "$created" ]; then rmdir -- "$created" 2>/dev/null || true; fi
}

# The Rust target for a machine name as `uname -m` prints it.
target_for() {
    case "$1" in
        x86_64 | amd64) echo x86_64-unknown-linux-musl ;;
        aarch64 | arm64) echo aarch64-unknown-linux-musl ;;
        *) return 1 ;;
    esac
}

# fetch URL FILE: file:// is copied; anything else goes through curl or wget.
fetch() {
    case "$1" in
        file://*) cp -- "${1#file://}" "$2" ;;
        *)
            if command -v curl >/dev/null 2>&1; then
                curl -fsSL -o "$2" -- "$1"
            elif command -v wget >/dev/null 2>&1; then
                wget -q -O "$2" -- "$1"
            else
                fail "neither curl nor wget is installed: install one of them to download $1"
            fi
            ;;
    esac
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum -- "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 -- "$1" | cut -d ' ' -f 1
    else
        fail "neither sha256sum nor shasum is installed: the download cannot be verified"
    fi
}

# The line of sha256.sum (FILE) naming the archive for TARGET, as "SUM NAME".
archive_line() {
    found=''
    count=0
    while read -r sum name; do
        name=${name#\*}
        case "$sum" in *[!0-9a-f]*) continue ;; esac
        [ "${#sum}" -eq 64 ] || continue
        case "$name" in
            */* | *..*) continue ;;
            sysgrade-*-"$2".tar.gz)
                found="$sum $name"
                count=$((count + 1))
                ;;
        esac
    done <"$1"
    [ "$count" -eq 1 ] || return 1
    echo "$found"
}

# The folder to install into: SYSGRADE_INSTALL_DIR, else /usr/local/bin as root, else
# ~/.local/bin.
install_dir() {
    if [ -n "${SYSGRADE_INSTALL_DIR:-}" ]; then
        echo "$SYSGRADE_INSTALL_DIR"
    elif [ "$(id -u)" = 0 ]; then
        echo /usr/local/bin
    elif [ -n "${HOME:-}" ]; then
        echo "$HOME/.local/bin"
    else
        return 1
    fi
}

# Copies BINARY into DIR under a temporary name, checks that it runs, then renames it over
# DIR/sysgrade: the folder never holds a partial sysgrade.
put_in_place() {
    if [ ! -d "$2" ]; then
        mkdir -p -- "$2" || fail "could not create $2"
        created=$2
    fi
    staged=$(mktemp "$2/.sysgrade.install.XXXXXX") || fail "could not write into $2"
    cp -- "$1" "$staged" || fail "could not write into $2"
    chmod 755 "$staged" || fail "could not make $staged executable"
    "$staged" --version >/dev/null 2>&1 ||
        fail "the downloaded sysgrade does not run on this machine (nothing was installed)"
    mv -f -- "$staged" "$2/sysgrade" || fail "could not move sysgrade into $2"
    staged=''
    created=''
}

# The line that puts DIR on PATH, with ", $, ` and \ escaped for the double quotes.
path_line() {
    escaped=$(printf '%s' "$1" | sed 's/[\\"$`]/\\&/g')
    # shellcheck disable=SC2016 # $PATH is for the profile to expand, not this script
    printf 'export PATH="%s:$PATH"' "$escaped"
}

main() {
    trap cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM

    os=$(uname -s)
    [ "$os" = Linux ] || fail "sysgrade runs on Linux only, and this machine runs $os"
    machine=${SYSGRADE_ARCH:-$(uname -m)}
    target=$(target_for "$machine") ||
        fail "unsupported machine \"$machine\": sysgrade is built for $SUPPORTED"

    url=${SYSGRADE_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
    [ -n "$url" ] ||
        fail "no download URL: set SYSGRADE_DOWNLOAD_URL to the folder of a release's files (.../releases/latest/download), or use the install.sh attached to a release"
    url=${url%/}
    dir=$(install_dir) || fail "HOME is not set: set SYSGRADE_INSTALL_DIR to the folder to install into"

    tmp=$(mktemp -d "${TMPDIR:-/tmp}/sysgrade-install.XXXXXX") ||
        fail "could not create a temporary folder"
    fetch "$url/sha256.sum" "$tmp/sha256.sum" || fail "could not download $url/sha256.sum"
    line=$(archive_line "$tmp/sha256.sum" "$target") ||
        fail "$url/sha256.sum lists no single archive for $target (sysgrade-<version>-$target.tar.gz)"
    want=${line%% *}
    archive=${line#* }
    version=${archive#sysgrade-}
    version=${version%-"$target".tar.gz}

    fetch "$url/$archive" "$tmp/archive.tar.gz" || fail "could not download $url/$archive"
    got=$(sha256_of "$tmp/archive.tar.gz")
    [ "$got" = "$want" ] ||
        fail "checksum mismatch for $archive: sha256.sum says $want, the download is $got (nothing was installed)"

    mkdir "$tmp/unpacked"
    tar -xzf "$tmp/archive.tar.gz" -C "$tmp/unpacked" || fail "could not unpack $archive"
    binary="$tmp/unpacked/sysgrade-$version-$target/sysgrade"
    [ -f "$binary" ] || fail "$archive holds no sysgrade-$version-$target/sysgrade"

    put_in_place "$binary" "$dir"
    say "installed sysgrade $version ($target) as $dir/sysgrade, verified against sha256.sum"
    case ":$PATH:" in
        *":$dir:"*) ;;
        *)
            say "$dir is not on your PATH; add this line to your shell's profile (~/.profile, ~/.bashrc or ~/.zshrc):"
            printf '    %s\n' "$(path_line "$dir")"
            ;;
    esac
    "$dir/sysgrade" --version
    say "next: run \`sysgrade doctor\` to see what this machine can grade"
}

main "$@"
