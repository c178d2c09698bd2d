#!/usr/bin/env bash
# OWL 2 DL profile check with the OWL API (Debian package libowlapi-java).
#
# Usage: tools/owl-profile/run.sh FILE      (Turtle .ttl, RDF/XML .rdf/.owl/.xml, N-Triples .nt)
#
# Prints one line per violation, then "violations: N".
# Exit codes: 0 no violations, 1 violations found, 2 load/parse/usage error,
#             3 setup error (OWL API / JDK missing and not root, install or build failed).
#
# Environment:
#   OWL_PROFILE_CACHE  build cache dir (default: $XDG_CACHE_HOME/owl-profile,
#                      else /tmp/owl-profile-build-$UID)
#   OWL_PROFILE_JAVA_OPTS  JVM options (default: -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
#   OWL_PROFILE_CDS=0      do not use/create the class-data-sharing archive
#   OWL_PROFILE_INSTALL=0  never install missing Debian packages (exit 3 instead); the tests set it
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$HERE/ProfileCheck.java"
OWLAPI_MARKER=/usr/share/java/owlapi-api.jar

if [ "$#" -ne 1 ]; then
    echo "usage: $0 FILE   (Turtle, RDF/XML or N-Triples ontology)" >&2
    exit 2
fi
INPUT="$1"

die_setup() { echo "owl-profile: $*" >&2; exit 3; }

# Install Debian packages quietly (root only); output goes to stderr only on failure.
apt_install() {
    if [ "${OWL_PROFILE_INSTALL:-1}" = "0" ]; then
        die_setup "missing $* (OWL_PROFILE_INSTALL=0: not installing it)"
    fi
    if [ "$(id -u)" -ne 0 ]; then
        die_setup "missing $* — not root, so not installing it. Install it with: sudo apt-get install $*"
    fi
    command -v apt-get >/dev/null 2>&1 || die_setup "missing $* and apt-get is not available"
    local log
    log="$(mktemp)"
    echo "owl-profile: installing $* with apt-get ..." >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1; then
        # package lists may be missing or stale: update once and retry
        if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
               && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >>"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            die_setup "apt-get install $* failed"
        fi
    fi
    rm -f "$log"
}

# (a) dependencies
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if [ ! -f "$OWLAPI_MARKER" ] || ! pkg_installed libowlapi-java; then
    apt_install libowlapi-java
fi
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
    apt_install default-jdk-headless
fi

# Cache dir
if [ -n "${OWL_PROFILE_CACHE:-}" ]; then
    CACHE="$OWL_PROFILE_CACHE"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then
    CACHE="$XDG_CACHE_HOME/owl-profile"
else
    CACHE="/tmp/owl-profile-build-$(id -u)"
fi
mkdir -p "$CACHE" || die_setup "cannot create cache dir $CACHE"

# (b) classpath: every jar in /usr/share/java shipped by libowlapi-java and the
# transitive closure of its installed lib*-java dependencies (Debian's jars have
# no MANIFEST Class-Path, so the package graph is the source of truth).
# Excluded: owlapi-distribution/osgidistribution (repackaged copies of the
# module jars), build-tool packages (maven/plexus/sisu/wagon/guice), and every
# SLF4J binding/bridge except slf4j-api + slf4j-nop (nop = no SLF4J log noise).
compute_classpath() {
    local -A seen=() jarseen=()
    local queue=(libowlapi-java) owl=() rest=() p d f real base
    while [ "${#queue[@]}" -gt 0 ]; do
        p="${queue[0]}"; queue=("${queue[@]:1}")
        [ -n "${seen[$p]:-}" ] && continue
        seen[$p]=1
        pkg_installed "$p" || continue
        for d in $(dpkg-query -W -f='${Depends},${Pre-Depends}' "$p" 2>/dev/null \
                   | tr ',|' '\n\n' | sed -e 's/([^)]*)//g' -e 's/:[a-z0-9]*//' | awk 'NF{print $1}'); do
            case "$d" in
                # build-tool packages that some Debian java libs depend on for
                # packaging reasons only (e.g. commons-text -> maven-jar-plugin)
                *maven*|*plexus*|*sisu*|*wagon*|*guice*|libcommons-parent-java) ;;
                lib*-java) queue+=("$d") ;;
            esac
        done
        while IFS= read -r f; do
            base="$(basename "$f")"
            case "$base" in
                owlapi-distribution*|owlapi-osgidistribution*) continue ;;
                slf4j-api*|slf4j-nop*) ;;
                slf4j-*|jcl-over-slf4j*|jul-to-slf4j*|log4j-over-slf4j*) continue ;;
            esac
            real="$(readlink -f "$f")"
            [ -f "$real" ] || continue
            [ -n "${jarseen[$real]:-}" ] && continue
            jarseen[$real]=1
            case "$base" in owlapi-*) owl+=("$real") ;; *) rest+=("$real") ;; esac
        done < <(dpkg -L "$p" 2>/dev/null | grep -E '^/usr/share/java/[^/]+\.jar$' | sort)
    done
    local IFS=:
    echo "${owl[*]}:${rest[*]}"
}

CPFILE="$CACHE/classpath"
cp_valid() {
    [ -s "$CPFILE" ] && [ "$CPFILE" -nt /var/lib/dpkg/status ] || return 1
    local j IFS=:
    for j in $(cat "$CPFILE"); do [ -f "$j" ] || return 1; done
}
if ! cp_valid; then
    CP="$(compute_classpath)"
    case "$CP" in *owlapi-api*) ;; *) die_setup "could not find the OWL API jars (dpkg -L libowlapi-java)";; esac
    printf '%s\n' "$CP" > "$CPFILE.$$" && mv -f "$CPFILE.$$" "$CPFILE"
fi
CP="$(cat "$CPFILE")"

# (c) compile once per (source, classpath, javac version) into a jar
KEY="$( { cat "$SRC"; echo "$CP"; javac -version 2>&1; } | sha256sum | cut -c1-16)"
BUILD="$CACHE/build-$KEY"
JAR="$BUILD/ProfileCheck.jar"
if [ ! -f "$JAR" ]; then
    TMP="$(mktemp -d "$CACHE/tmp.XXXXXX")"
    if ! javac -nowarn -encoding UTF-8 -cp "$CP" -d "$TMP/classes" "$SRC" >&2 \
       || ! jar cf "$TMP/ProfileCheck.jar" -C "$TMP/classes" . >&2; then
        rm -rf "$TMP"
        die_setup "compiling $SRC failed"
    fi
    rm -rf "$TMP/classes"
    # drop builds of older sources/classpaths (not touched for a day)
    find "$CACHE" -maxdepth 1 -name 'build-*' -mtime +0 -exec rm -rf {} + 2>/dev/null || true
    # atomic publish (concurrent runs are fine)
    if ! mv -T "$TMP" "$BUILD" 2>/dev/null; then rm -rf "$TMP"; fi
fi

# (d) run; exit status passes through.
# A dynamic CDS archive (class-data sharing) of the loaded OWL API classes is
# written on the first run and roughly halves JVM start-up on later runs.
# OWL_PROFILE_CDS=0 disables it.
# shellcheck disable=SC2206
JOPTS=(${OWL_PROFILE_JAVA_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1} -Xlog:cds*=off)
RUNCP="$JAR:$CP"
JSA="$BUILD/classes.jsa"
if [ "${OWL_PROFILE_CDS:-1}" = 0 ]; then
    exec java "${JOPTS[@]}" -cp "$RUNCP" ProfileCheck "$INPUT"
fi
if [ -s "$JSA" ]; then
    set +e
    java "${JOPTS[@]}" -XX:SharedArchiveFile="$JSA" -cp "$RUNCP" ProfileCheck "$INPUT"
    rc=$?
    set -e
    if [ "$rc" -lt 128 ]; then exit "$rc"; fi
    # JVM crashed or was killed: drop the archive, rerun plainly
    rm -f "$JSA"
    exec java "${JOPTS[@]}" -cp "$RUNCP" ProfileCheck "$INPUT"
fi
JSATMP="$JSA.tmp.$$"
set +e
java "${JOPTS[@]}" -XX:ArchiveClassesAtExit="$JSATMP" -cp "$RUNCP" ProfileCheck "$INPUT"
rc=$?
set -e
if [ "$rc" -le 2 ] && [ -s "$JSATMP" ]; then mv -f "$JSATMP" "$JSA"; else rm -f "$JSATMP"; fi
exit "$rc"
