#!/usr/bin/env bash
# Installs a real OpenCL device for a machine without a GPU: PoCL 6 (an OpenCL 3.0 driver that compiles
# kernels for the CPU with LLVM 18), taken from Debian trixie and set up in PREFIX on Debian 12.
#
#   sudo tools/install-pocl.sh [PREFIX]                 # default PREFIX: ~/.cache/engine-pocl; about 25 s, 52 MB
#   export OCL_ICD_VENDORS=PREFIX/etc/OpenCL/vendors    # then Device.OpenCL(0) is this driver
#
# Why trixie's: ILGPU's OpenCL code needs the generic address space, which Debian 12's PoCL 3.1 lacks.
# How, without touching the system: apt downloads the four trixie packages with a state directory of its
# own; they are unpacked into PREFIX; the handful of functions they want from glibc 2.38 and libstdc++
# 3.4.32 (Debian 12 has 2.36 and 3.4.30) come from a small library compiled here, and the libraries'
# version requirements for those two versions are marked weak so that the loader accepts them.
set -euo pipefail
prefix=$(realpath -m "${1:-$HOME/.cache/engine-pocl}")
lib=$prefix/lib/x86_64-linux-gnu
vendors=$prefix/etc/OpenCL/vendors
if [ -f "$vendors/pocl.icd" ]; then echo "PoCL is already in $prefix; export OCL_ICD_VENDORS=$vendors"; exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Debian 12 packages: the OpenCL ICD loader, the libraries PoCL and LLVM link to, and the tools used below
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -qq ocl-icd-libopencl1 libhwloc15 libz3-4 \
  libxml2 libedit2 libffi8 libzstd1 binutils libc6-dev libgcc-12-dev g++ patchelf python3 >/dev/null

# 2. the trixie packages, from the mirror this machine already uses
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" { print $2; exit }')
keyring=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "Signed-By:" { print $2; exit }')
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' /etc/apt/sources.list)
mkdir -p "$work"/apt/{lists/partial,archives/partial,sources} "$work/unpacked"
cat > "$work/apt/sources/trixie.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: ${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}
SOURCES
: > "$work/apt/status"
private=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$work/apt/sources" -o Dir::State::Lists="$work/apt/lists"
         -o Dir::State::status="$work/apt/status" -o Dir::Cache="$work/apt" -o Debug::NoLocking=1)
apt-get "${private[@]}" update -qq 2>/dev/null
(cd "$work" && apt-get "${private[@]}" download -qq libpocl2t64 libpocl2-common libllvm18 libclang-cpp18 2>/dev/null)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/unpacked"; done

# 3. the layout libpocl expects: its plugins in ./pocl, its data in ../../share/pocl; LLVM under the names it links to
u=$work/unpacked/usr
mkdir -p "$lib/pocl" "$prefix/share" "$vendors"
cp -L "$u/lib/x86_64-linux-gnu/libpocl.so.2" "$lib/"
cp "$u"/lib/x86_64-linux-gnu/pocl/*.so "$lib/pocl/"
cp -L "$u/lib/x86_64-linux-gnu/libLLVM-18.so.1" "$lib/libLLVM-18.so.18.1"
cp -L "$u/lib/llvm-18/lib/libclang-cpp.so.18.1" "$lib/"
rm -rf "$prefix/share/pocl"
cp -r "$u/share/pocl" "$prefix/share/"

# 4. the glibc 2.38 / libstdc++ 3.4.32 functions these libraries call, forwarded to Debian 12's own
cat > "$work/compat.cpp" <<'CODE'
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <ios>
// C23's strtol family and scanf family differ from C11's only for "0b" prefixes, which PoCL and LLVM do not read
extern "C" long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
extern "C" long long __isoc23_strtoll(const char *s, char **end, int base) { return strtoll(s, end, base); }
extern "C" unsigned long __isoc23_strtoul(const char *s, char **end, int base) { return strtoul(s, end, base); }
extern "C" unsigned long long __isoc23_strtoull(const char *s, char **end, int base) { return strtoull(s, end, base); }
extern "C" int __isoc23_sscanf(const char *s, const char *format, ...) { va_list a; va_start(a, format); int n = vsscanf(s, format, a); va_end(a); return n; }
extern "C" int __isoc23_scanf(const char *format, ...) { va_list a; va_start(a, format); int n = vscanf(format, a); va_end(a); return n; }
// fmod@GLIBC_2.38 is fmod with a new version tag: call libm's of glibc 2.2.5 (looked up at run time, since
// "fmod" in this file names the new one)
template <typename F> static F older(const char *name)
{
    void *libm = dlopen("libm.so.6", RTLD_LAZY);
    void *f = libm ? dlvsym(libm, name, "GLIBC_2.2.5") : nullptr;
    if (!f) { fprintf(stderr, "libglibc238shim: %s@GLIBC_2.2.5 not found\n", name); abort(); }
    return reinterpret_cast<F>(f);
}
extern "C" double compat_fmod(double x, double y) { static auto f = older<double (*)(double, double)>("fmod"); return f(x, y); }
extern "C" float compat_fmodf(float x, float y) { static auto f = older<float (*)(float, float)>("fmodf"); return f(x, y); }
__asm__(".symver compat_fmod, fmod@@GLIBC_2.38");
__asm__(".symver compat_fmodf, fmodf@@GLIBC_2.38");
// libstdc++ 13 initialises the standard streams in this function; with libstdc++ 12 a static Init object does it
namespace std { void ios_base_library_init() {} }
static std::ios_base::Init standard_streams;
CODE
cat > "$work/compat.map" <<'MAP'
GLIBC_2.38 { global: __isoc23_strtol; __isoc23_strtoll; __isoc23_strtoul; __isoc23_strtoull; __isoc23_sscanf; __isoc23_scanf; fmod; fmodf; };
GLIBCXX_3.4.32 { global: _ZSt21ios_base_library_initv; };
COMPAT { local: *; };
MAP
g++ -O2 -fPIC -shared -Wl,--version-script="$work/compat.map" -o "$lib/libglibc238shim.so" "$work/compat.cpp" -ldl
missing=$(for f in "$lib/libpocl.so.2" "$lib/libLLVM-18.so.18.1" "$lib/libclang-cpp.so.18.1"; do
  readelf --dyn-syms -W "$f" | awk '$7 == "UND" { print $8 }'; done | grep -E '@GLIBC_2\.(3[89]|[4-9][0-9])|@GLIBCXX_3\.4\.3[1-9]' | sed 's/@.*//' | sort -u |
  while read -r s; do readelf --dyn-syms -W "$lib/libglibc238shim.so" | awk '$7 != "UND" { print $8 }' | sed 's/@.*//' | grep -qx "$s" || echo "$s"; done)
[ -z "$missing" ] || { echo "install-pocl: the trixie libraries now also need: $missing (extend compat.cpp)" >&2; exit 1; }

# 5. mark their requirements of GLIBC_2.38+ and GLIBCXX_3.4.31+ weak (VER_FLG_WEAK) in .gnu.version_r
python3 - "$lib/libpocl.so.2" "$lib/libLLVM-18.so.18.1" "$lib/libclang-cpp.so.18.1" <<'PY'
import re, struct, sys
newer = re.compile(r'GLIBC_2\.(3[89]|[4-9]\d)|GLIBCXX_3\.4\.3[1-9]')
for path in sys.argv[1:]:
    elf = bytearray(open(path, 'rb').read())
    (shoff,) = struct.unpack_from('<Q', elf, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', elf, 0x3A)
    sections = [struct.unpack_from('<IIQQQQIIQQ', elf, shoff + k * shentsize) for k in range(shnum)]
    for (_, kind, _, _, offset, _, link, count, _, _) in sections:
        if kind != 0x6FFFFFFE:          # SHT_GNU_verneed
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(count):          # Elf64_Verneed: vn_version, vn_cnt, vn_file, vn_aux, vn_next
            _, aux_count, _, aux, next_need = struct.unpack_from('<HHIII', elf, need)
            entry = need + aux
            for _ in range(aux_count):  # Elf64_Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                _, flags, _, name, next_aux = struct.unpack_from('<IHHII', elf, entry)
                text = elf[strings + name:elf.index(0, strings + name)].decode()
                if newer.fullmatch(text):
                    struct.pack_into('<H', elf, entry + 4, flags | 0x2)
                entry += next_aux
            need += next_need
    open(path, 'wb').write(elf)
PY

# 6. libpocl finds its neighbours and loads the compatibility library first (one patchelf edit per call)
patchelf --set-rpath '$ORIGIN' "$lib/libpocl.so.2"
patchelf --add-needed libglibc238shim.so "$lib/libpocl.so.2"
echo "$lib/libpocl.so.2" > "$vendors/pocl.icd"
echo "PoCL installed in $prefix; export OCL_ICD_VENDORS=$vendors"
