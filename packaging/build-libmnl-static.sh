#!/usr/bin/env bash
# Builds libmnl.a from Debian's own libmnl source package, the version of the installed
# libmnl-dev, and installs it into DIR for `meson setup -Dmnl_archive_dir=DIR` (meson.build):
# DIR/lib/libmnl.a, DIR/include/libmnl/libmnl.h, DIR/share/doc/libmnl/copyright (the source
# package's debian/copyright, which the image carries: packaging/README.md, "Licences").
#
#   packaging/build-libmnl-static.sh DIR
#
# The source comes through apt, from MIRROR (default http://deb.debian.org/debian) and its
# -updates and -security suites, checked the way apt checks packages: the InRelease signature
# against debian-archive-keyring, the Sources index's hash in it, the .dsc's hash in the
# index, the tarballs' hashes in the .dsc. apt runs on a private deb-src list and state in
# DIR/apt, so the system's own apt lists and configuration are neither needed nor changed.
# Cached: does nothing when DIR/lib/libmnl.a was built from the same version (DIR/VERSION).
# Needs apt, dpkg-dev (dpkg-source, dpkg-buildflags, make), gcc, debian-archive-keyring.
set -euo pipefail

die() { echo "build-libmnl-static: $*" >&2; exit 1; }
log() { echo "build-libmnl-static: $*" >&2; }

[[ $# -eq 1 && $1 != -* ]] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir=$(realpath -m -- "$1")
mirror=${MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

version=$(dpkg-query -W -f='${Version}' libmnl-dev 2>/dev/null) ||
  die "libmnl-dev is not installed: its version names the source package to build (apt-get install libmnl-dev)"
if [[ -f $dir/lib/libmnl.a && $(cat "$dir/VERSION" 2>/dev/null) == "$version" ]]; then
  log "$dir/lib/libmnl.a is already built from libmnl $version"
  exit 0
fi
for tool in apt-get dpkg-source dpkg-buildflags make gcc; do
  command -v "$tool" >/dev/null || die "$tool not found (packages: apt, dpkg-dev, make, gcc)"
done
[[ -r $keyring ]] || die "$keyring not readable (package debian-archive-keyring): apt could not check the source's signature"
# The suite the installed libmnl-dev came from: this system's release.
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || die "no VERSION_CODENAME in /etc/os-release: which Debian release is this?"

# A stale or half-built DIR (another version, an interrupted run) is started afresh.
rm -rf "${dir:?}/lib" "$dir/include" "$dir/share" "$dir/source" "$dir/VERSION" "$dir/work"
apt_dir=$dir/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$dir/work"
cat >"$apt_dir/sources.list.d/debian-src.sources" <<EOF
Types: deb-src
URIs: $mirror
Suites: $codename $codename-updates
Components: main
Signed-By: $keyring

Types: deb-src
URIs: ${mirror%/debian}/debian-security
Suites: $codename-security
Components: main
Signed-By: $keyring
EOF
: >"$apt_dir/sources.list"
apt_options=(
  -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
  -o "Dir::State::status=/var/lib/dpkg/status" -o "Debug::NoLocking=true"
)

log "fetching the deb-src index of $codename from $mirror"
apt-get "${apt_options[@]}" -qq update >"$dir/work/apt-update.log" 2>&1 ||
  { cat "$dir/work/apt-update.log" >&2; die "apt-get update of the deb-src lists from $mirror failed (above)"; }
log "fetching Debian's source package libmnl $version"
(cd "$dir/work" && apt-get "${apt_options[@]}" -q source --download-only "libmnl=$version") >"$dir/work/apt-source.log" 2>&1 ||
  { cat "$dir/work/apt-source.log" >&2; die "apt-get source libmnl=$version from $mirror failed (above)"; }
# dpkg-source checks the tarballs against the .dsc's checksums again and applies Debian's patches.
dsc=$(find "$dir/work" -maxdepth 1 -name 'libmnl_*.dsc' | head -1)
[[ -n $dsc ]] || die "apt-get source left no libmnl .dsc in $dir/work"
dpkg-source -q -x "$dsc" "$dir/work/src" >"$dir/work/dpkg-source.log" 2>&1 ||
  { cat "$dir/work/dpkg-source.log" >&2; die "dpkg-source -x $dsc failed (above)"; }

# Only the static archive, with Debian's own compiler flags (-O2 and its hardening options, as
# for Debian's libmnl.so). No -fPIC: it is linked into a non-PIE executable.
log "building libmnl.a (configure --enable-static --disable-shared, make)"
# (&&: errexit does not apply inside a subshell whose status `||` tests.)
(
  cd "$dir/work/src" &&
  ./configure --quiet --enable-static --disable-shared --prefix="$dir" \
    CFLAGS="$(dpkg-buildflags --get CFLAGS)" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" &&
  make -s -j"$(nproc)" &&
  make -s install
) >"$dir/work/build.log" 2>&1 || { tail -30 "$dir/work/build.log" >&2; die "building libmnl $version failed (above; whole log: $dir/work/build.log)"; }
[[ -f $dir/lib/libmnl.a && -f $dir/include/libmnl/libmnl.h ]] ||
  die "make install left no $dir/lib/libmnl.a or $dir/include/libmnl/libmnl.h"
install -D -m 0644 "$dir/work/src/debian/copyright" "$dir/share/doc/libmnl/copyright"
echo "$version" >"$dir/VERSION"
# The source package as fetched (.dsc and tarballs, about 300 KB), for whoever relinks.
mkdir -p "$dir/source"
mv "$dir/work"/libmnl_* "$dir/source/"
rm -rf "$dir/work"
log "built $dir/lib/libmnl.a from Debian's libmnl $version"
