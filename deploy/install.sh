#!/usr/bin/env bash
# deploy/install.sh: install StateTee on this machine (Raspberry Pi OS 64-bit,
# Debian or Ubuntu; aarch64 or x86_64). Safe to run any number of times: it
# changes only what differs, says what it changed, and a second run reports
# "nothing to change".
#
#   sudo deploy/install.sh                      build a release binary here and install everything
#   sudo deploy/install.sh --binary PATH        install a prebuilt statetee binary instead of building
#   deploy/install.sh --root DIR --binary PATH  stage into DIR (tests, images): no user, no chown
#
# Options:
#   --binary PATH     a statetee binary built for this architecture (e.g. copied
#                     from another aarch64 machine); without it the script runs
#                     swift build -c release --product statetee --static-swift-stdlib
#   --prefix DIR      where the binary and shared files go (default /usr/local)
#   --root DIR        staging root: install under DIR instead of /; the units and
#                     the config still name the real paths (PREFIX, /etc, /var/lib).
#                     With a staging root the script never creates the statetee
#                     user or changes owners (it would touch this machine, not the
#                     image): run it again on the target, or chown there.
#   --arch ARCH       aarch64 or x86_64 (default: this machine's); a staged install
#                     for another architecture needs --binary
#   --build-path DIR  SwiftPM scratch path for the build (default .build)
#   --no-legacy-venv  do not create the Python venv of the legacy fixture
#                     (PREFIX/share/statetee/venv); a real legacy brings its own Python
#   --python PATH     the python3 that creates that venv (default python3)
#   -h, --help        this text
#
# What it installs (ROOT is / unless --root):
#   ROOT/PREFIX/bin/statetee
#   ROOT/PREFIX/share/statetee/{legacy-server/,rules/,sessions/,RUNBOOK.md,statetee.env.default,venv/}
#     (the legacy fixture, the comparison rules, recorded games and their replayer)
#   ROOT/etc/systemd/system/statetee-{legacy,proxy,engine}.service
#   ROOT/etc/statetee/statetee.env (never overwritten once edited; new defaults go to statetee.env.new)
#   ROOT/var/lib/statetee and ROOT/var/lib/statetee-legacy (0750, owned by statetee)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/usr/local
root=/
binary=""
arch=""
build_path=""
legacy_venv=yes
python=python3

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "install: error: $*" >&2; exit 1; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) need_value "$@"; binary="$2"; shift 2 ;;
    --prefix) need_value "$@"; prefix="$2"; shift 2 ;;
    --root) need_value "$@"; root="$2"; shift 2 ;;
    --arch) need_value "$@"; arch="$2"; shift 2 ;;
    --build-path) need_value "$@"; build_path="$2"; shift 2 ;;
    --no-legacy-venv) legacy_venv=no; shift ;;
    --python) need_value "$@"; python="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$prefix" in /*) ;; *) die "--prefix must be an absolute path" ;; esac
prefix="${prefix%/}"; [ -n "$prefix" ] || die "--prefix / is not supported"
case "$root" in /*) ;; *) root="$(pwd)/$root" ;; esac
root="${root%/}"
staging=yes; [ -z "$root" ] && staging=no
[ "$staging" = yes ] && mkdir -p "$root"

# ------------------------------------------------------------------ architecture
normalize_arch() {
  case "$1" in
    x86_64|amd64) echo x86_64 ;;
    aarch64|arm64) echo aarch64 ;;
    armv6l|armv7l|armhf|arm)
      die "32-bit ARM ($1) is not supported: Swift on Linux needs a 64-bit OS (Raspberry Pi OS 64-bit, Pi 3 or newer)" ;;
    *) die "unsupported architecture $1 (supported: aarch64, x86_64)" ;;
  esac
}
host_arch="$(normalize_arch "$(uname -m)")"
arch="$(normalize_arch "${arch:-$host_arch}")"
if [ "$arch" = "$host_arch" ]; then
  echo "install: architecture $arch (this machine)"
else
  echo "install: architecture $arch (this machine is $host_arch: the binary cannot be tried here)"
fi

# ELF header: e_machine at byte 18 (little-endian): 62 x86_64, 183 aarch64.
elf_arch() {
  local magic class machine
  magic="$(od -An -c -N4 "$1" 2>/dev/null | tr -d ' ')"
  [ "$magic" = '177ELF' ] || { echo "not-elf"; return; }
  class="$(od -An -tu1 -j4 -N1 "$1" | tr -d ' ')"
  machine="$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')"
  case "$class:$machine" in
    2:62) echo x86_64 ;;
    2:183) echo aarch64 ;;
    *) echo "elf-class$class-machine$machine" ;;
  esac
}

if [ "$staging" = no ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (sudo $0 ...), or stage into a directory with --root DIR"
fi

# ------------------------------------------------------------------ helpers
changes=0
note() { echo "install: $*"; }
changed() { changes=$((changes + 1)); note "$*"; }

# install_file SRC DEST MODE: copy when the content differs (atomically, so a
# running binary is never overwritten in place), set the mode when it differs.
install_file() {
  local src="$1" dest="$2" mode="$3"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    if [ "$(stat -c %a "$dest")" != "${mode#0}" ]; then
      chmod "$mode" "$dest"; changed "mode $mode ${dest#"$root"}"
    fi
    return 0
  fi
  local verb=updated; [ -e "$dest" ] || verb=installed
  local tmp; tmp="$(mktemp "$dest.XXXXXX")"
  cp "$src" "$tmp"; chmod "$mode" "$tmp"; mv -f "$tmp" "$dest"
  changed "$verb ${dest#"$root"}"
}

# install_rendered SRC DEST MODE: SRC with /usr/local/ replaced by PREFIX/.
install_rendered() {
  local tmp; tmp="$(mktemp)"
  render "$1" > "$tmp"
  install_file "$tmp" "$2" "$3"
  rm -f "$tmp"
}

render() {
  if [ "$prefix" = /usr/local ]; then cat "$1"; else sed "s#/usr/local/#$prefix/#g" "$1"; fi
}

# install_tree SRC DEST [find tests...]: mirror the files of SRC that pass the
# tests; files in DEST that are not among them are removed.
install_tree() {
  local src="$1" dest="$2"; shift 2
  local rel mode
  local -A keep=()
  while IFS= read -r -d '' rel; do
    rel="${rel#./}"; keep["$rel"]=1
    mode=0644; [ -x "$src/$rel" ] && mode=0755
    install_file "$src/$rel" "$dest/$rel" "$mode"
  done < <(cd "$src" && find . -type f ! -name '*.pyc' ! -path '*/__pycache__/*' "$@" -print0 | sort -z)
  while IFS= read -r -d '' rel; do
    rel="${rel#./}"
    [ -n "${keep["$rel"]:-}" ] || { rm -f "$dest/$rel"; changed "removed ${dest#"$root"}/$rel"; }
  done < <(cd "$dest" && find . -type f -print0 | sort -z)
  find "$dest" -mindepth 1 -type d -empty -delete 2>/dev/null || true
}

# ensure_dir DIR MODE [OWNER]: create, and fix mode/owner when they differ.
ensure_dir() {
  local dir="$1" mode="$2" owner="${3:-}"
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"; chmod "$mode" "$dir"; changed "created ${dir#"$root"} ($mode)"
  elif [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then
    chmod "$mode" "$dir"; changed "mode $mode ${dir#"$root"}"
  fi
  if [ -n "$owner" ] && [ "$(stat -c %U:%G "$dir")" != "$owner" ]; then
    chown "$owner" "$dir"; changed "owner $owner ${dir#"$root"}"
  fi
}

# ------------------------------------------------------------------ the binary
if [ -n "$binary" ]; then
  [ -f "$binary" ] || die "--binary $binary: no such file"
  note "using the prebuilt binary $binary"
else
  [ "$arch" = "$host_arch" ] || die "building for $arch on a $host_arch machine is not supported: build on an $arch machine and pass --binary"
  command -v swift >/dev/null || die "no Swift toolchain (swift) found. Install one (https://www.swift.org/install/linux/, aarch64 included), or build on another $arch machine and pass --binary PATH"
  for pkg in libsqlite3-dev; do
    if command -v dpkg >/dev/null && ! dpkg -s "$pkg" >/dev/null 2>&1; then
      die "the build needs $pkg: sudo apt-get install -y $pkg"
    fi
  done
  build_args=(-c release --product statetee --static-swift-stdlib)
  [ -n "$build_path" ] && build_args+=(--scratch-path "$build_path")
  note "building: swift build ${build_args[*]} (the first build takes a while: about 5 minutes on 2 fast cores, much longer on a Pi)"
  (cd "$repo" && swift build "${build_args[@]}")
  binary="$(cd "$repo" && swift build "${build_args[@]}" --show-bin-path)/statetee"
  [ -x "$binary" ] || die "the build did not produce $binary"
fi
binary_arch="$(elf_arch "$binary")"
[ "$binary_arch" = "$arch" ] || die "$binary is for $binary_arch, not $arch"

install_file "$binary" "$root$prefix/bin/statetee" 0755

# ------------------------------------------------------------------ shared files
share="$root$prefix/share/statetee"
install_tree "$repo/fixtures/legacy-server" "$share/legacy-server" \
  ! -path './tests/*' ! -name '.gitignore' ! -name 'fetch-client.sh'
install_tree "$repo/fixtures/rules" "$share/rules"
install_tree "$repo/fixtures/sessions" "$share/sessions" ! -name '.gitignore'
install_rendered "$repo/deploy/RUNBOOK.md" "$share/RUNBOOK.md" 0644
install_rendered "$repo/deploy/statetee.env" "$share/statetee.env.default" 0644

# ------------------------------------------------------------------ units
for unit in statetee-legacy.service statetee-proxy.service statetee-engine.service; do
  install_rendered "$repo/deploy/$unit" "$root/etc/systemd/system/$unit" 0644
done

# ------------------------------------------------------------------ user and data directories
owner=""
if [ "$staging" = no ]; then
  if ! getent passwd statetee >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/statetee --no-create-home \
      --shell /usr/sbin/nologin --comment "StateTee services" statetee
    changed "created the system user statetee"
  fi
  owner="statetee:statetee"
else
  note "staging root: not creating the user statetee and not changing owners (run this script on the target to do so)"
fi
ensure_dir "$root/var/lib/statetee" 0750 "$owner"
ensure_dir "$root/var/lib/statetee-legacy" 0750 "$owner"

# ------------------------------------------------------------------ the config file
# Like a package's conffile: replaced only while nobody has edited it. The
# copy last installed is kept to tell the difference.
env_dir="$root/etc/statetee"
env_file="$env_dir/statetee.env"
pristine="$share/statetee.env.installed"
ensure_dir "$env_dir" 0755
shipped_tmp="$(mktemp)"; render "$repo/deploy/statetee.env" > "$shipped_tmp"
if [ ! -f "$env_file" ]; then
  install_file "$shipped_tmp" "$env_file" 0640
  install_file "$shipped_tmp" "$pristine" 0644
elif cmp -s "$shipped_tmp" "$env_file"; then
  install_file "$shipped_tmp" "$pristine" 0644
  [ "$(stat -c %a "$env_file")" = 640 ] || { chmod 0640 "$env_file"; changed "mode 0640 /etc/statetee/statetee.env"; }
elif [ -f "$pristine" ] && cmp -s "$pristine" "$env_file"; then
  install_file "$shipped_tmp" "$env_file" 0640
  install_file "$shipped_tmp" "$pristine" 0644
else
  note "kept your edited /etc/statetee/statetee.env; the shipped version is /etc/statetee/statetee.env.new (compare: diff /etc/statetee/statetee.env /etc/statetee/statetee.env.new)"
  install_file "$shipped_tmp" "$env_file.new" 0644
fi
rm -f "$shipped_tmp"
if [ -n "$owner" ] && [ "$(stat -c %U:%G "$env_file")" != "root:statetee" ]; then
  chown root:statetee "$env_file"; changed "owner root:statetee /etc/statetee/statetee.env"
fi

# ------------------------------------------------------------------ the legacy fixture's Python
if [ "$legacy_venv" = yes ]; then
  venv="$share/venv"
  req="$share/legacy-server/requirements.txt"
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$python" -c 'import venv, ensurepip' 2>/dev/null \
      || die "$python cannot create a venv: sudo apt-get install -y python3-venv (or pass --no-legacy-venv)"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
    changed "created the legacy fixture's Python venv ${venv#"$root"}"
  fi
fi

# ------------------------------------------------------------------ try the binary
if [ "$arch" = "$host_arch" ]; then
  if ! "$root$prefix/bin/statetee" --help >/dev/null 2>&1; then
    missing="$(ldd "$root$prefix/bin/statetee" 2>/dev/null | awk '/not found/ {print $1}' | tr '\n' ' ')"
    if [ -n "$missing" ]; then
      packages="$(for lib in $missing; do case "$lib" in
        libsqlite3.so*) echo libsqlite3-0 ;; libz.so*) echo zlib1g ;; libcurl.so*) echo libcurl4 ;;
        libxml2.so*) echo libxml2 ;; libstdc++.so*) echo libstdc++6 ;; *) echo "(the package of $lib)" ;;
      esac; done | sort -u | tr '\n' ' ')"
      die "statetee does not start: missing libraries: $missing- install them: sudo apt-get install -y $packages"
    fi
    die "statetee --help failed: run $root$prefix/bin/statetee --help to see why"
  fi
  note "the installed binary runs ($prefix/bin/statetee --help)"
fi

# ------------------------------------------------------------------ summary
if [ "$changes" -eq 0 ]; then
  note "nothing to change: everything is already installed"
else
  note "$changes change(s) made"
fi
if [ "$staging" = no ]; then
  cat <<EOF

Next (deploy/RUNBOOK.md has every step with what to expect):
  sudo systemctl daemon-reload
  # between games, once the real legacy no longer listens on 6969 (RUNBOOK step 1):
  sudo systemctl enable --now statetee-legacy.service statetee-proxy.service
  sudo statetee status --config /etc/statetee/statetee.env
EOF
else
  cat <<EOF

Staged into $root. On the target, after copying the tree:
  sudo systemctl daemon-reload
  sudo systemctl enable --now statetee-legacy.service statetee-proxy.service
EOF
fi
