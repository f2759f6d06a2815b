#!/bin/sh
# Install Guantong from this offline archive, with no package index (内网).
#   ./install.sh [PREFIX]          default PREFIX: /opt/guantong;  PYTHON=python3.11 ./install.sh to choose Python
# Creates PREFIX/venv, installs the wheels of ./wheels only, keeps PREFIX/guantong.env (settings) and
# PREFIX/processes (the library to deploy) when they exist, and writes PREFIX/bin/guantong and
# PREFIX/bin/gunicorn, which read guantong.env before they start. Run it again to upgrade.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${1:-/opt/guantong}
PYTHON=${PYTHON:-python3}
WANT="@PYTHON_VERSION@"

fail() { echo "install.sh: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null 2>&1 || fail "no $PYTHON on PATH (set PYTHON=/path/to/python$WANT)"
HAVE=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$HAVE" = "$WANT" ] || fail "these wheels are for Python $WANT, $PYTHON is $HAVE (set PYTHON=python$WANT)"

# Only this archive's wheels: no pip configuration or PIP_* variable may point at an index.
for name in $(env | sed -n 's/^\(PIP_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$name"; done
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

mkdir -p "$PREFIX/bin"
[ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv" \
    || fail "cannot create a virtualenv (Debian: apt-get install python3-venv)"
echo "installing Guantong into $PREFIX/venv (no package index) ..."
"$PREFIX/venv/bin/python" -m pip install --quiet --no-index --find-links "$HERE/wheels" --upgrade "guantong[s3]" \
    || fail "pip could not install from $HERE/wheels"

if [ -d "$PREFIX/processes" ]; then
    rm -rf "$PREFIX/processes.new" && cp -R "$HERE/processes" "$PREFIX/processes.new"
    echo "kept $PREFIX/processes; this release's library is in $PREFIX/processes.new (compare, then deploy)"
else
    cp -R "$HERE/processes" "$PREFIX/processes"
fi

if [ ! -f "$PREFIX/guantong.env" ]; then
    umask 077
    cat > "$PREFIX/guantong.env" <<ENV
# Guantong's settings (README "Operations"); read by $PREFIX/bin/guantong and $PREFIX/bin/gunicorn.
GUANTONG_INSTANCE_DIR=$PREFIX/instance
GUANTONG_KEYS_DIR=$PREFIX/keys
GUANTONG_PROCESSES=$PREFIX/processes
# glibc: two malloc arenas per process are enough for gunicorn's 2 threads (README "Memory of a web process")
MALLOC_ARENA_MAX=2
# GUANTONG_DATABASE_URL=postgresql+psycopg://guantong@127.0.0.1:5432/guantong
# GUANTONG_HTTPS=1
# Several servers: shared rate limits and one attachment store
# GUANTONG_REDIS_URL=redis://127.0.0.1:6379/0
# GUANTONG_ATTACHMENTS=/shared/guantong/attachments
# GUANTONG_ATTACHMENT_STORE=s3://bucket/prefix   with GUANTONG_S3_ENDPOINT_URL=http://minio.example:9000
ENV
    umask 022
fi

for tool in guantong gunicorn; do
    cat > "$PREFIX/bin/$tool" <<WRAP
#!/bin/sh
set -a; . "$PREFIX/guantong.env"; set +a
exec "$PREFIX/venv/bin/$tool" "\$@"
WRAP
    chmod 755 "$PREFIX/bin/$tool"
done

"$PREFIX/bin/guantong" --help >/dev/null || fail "the installed guantong does not start"
echo "Guantong installed: $("$PREFIX/venv/bin/python" -m pip show guantong | sed -n 's/^Version: //p') in $PREFIX"
echo "next: $PREFIX/bin/guantong init-db && $PREFIX/bin/guantong deploy   (see INSTALL.md)"
