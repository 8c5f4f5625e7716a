#!/usr/bin/env bash
# Print the tag a build of this working tree gets (make's default VERSION):
#
#   <short sha>                  the tree is clean: the commit names the build
#   <short sha>-dirty-<hash>     it has uncommitted changes; <hash> is the
#                                first 8 hex digits of a SHA-256 over the
#                                changes (the diff against HEAD and the files
#                                git does not track or ignore), so the same
#                                edits give the same tag, other edits another
#   dev                          not in a git repository (or no commit yet)
set -euo pipefail

cd "$(dirname "$0")/.."

if ! sha=$(git rev-parse --short HEAD 2>/dev/null); then
    echo dev
    exit 0
fi
if [[ -z $(git status --porcelain) ]]; then
    echo "$sha"
    exit 0
fi

# The user's diff settings (colour, external tools, renames) must not change
# the tag. An untracked file counts by its name (which holds no NUL), its size
# and its content; a symlink by its target.
changes() {
    git diff HEAD --binary --no-color --no-ext-diff --no-textconv --no-renames
    git ls-files --others --exclude-standard -z | while IFS= read -r -d '' file; do
        if [[ -L $file ]]; then
            printf 'link %s\0%s\0' "$file" "$(readlink -- "$file")"
        else
            printf 'file %s\0%s\0' "$file" "$(wc -c <"$file")"
            cat -- "$file"
        fi
    done
}
hash=$(changes | sha256sum)
echo "$sha-dirty-${hash:0:8}"
