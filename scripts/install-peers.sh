#!/usr/bin/env bash
# install-peers.sh builds the Go-built peers of ../shared/PEERS.md from the Go
# module proxy into "$PEERS_DIR/bin" (default ~/.cache/mimir-native/peers/bin),
# skipping every one already there: Prometheus 3.16 and promtool (installed as
# prometheus3 / promtool3, beside Debian's 2.42), Alertmanager 0.35 and amtool;
# the OpenTelemetry Collector 0.165 (installed as otelcol: scripts/otelcol, a
# small main module with go.sum checked in, wiring the otlp receiver and the
# otlphttp and debug exporters); VictoriaMetrics single-node (the benchmarks'
# ingestion and memory reference) only when asked for.
# Usage: scripts/install-peers.sh [prometheus3] [alertmanager] [otelcol] [victoriametrics]
# (default: prometheus3, alertmanager and otelcol, what the tests need).
# Put "$PEERS_DIR/bin" on PATH (or `eval "$(scripts/install-peers.sh --env)"`).
set -euo pipefail
scripts=$(cd "$(dirname "$0")" && pwd)

PEERS_DIR=${PEERS_DIR:-$HOME/.cache/mimir-native/peers}
bin="$PEERS_DIR/bin"
if [ "${1:-}" = "--env" ]; then echo "export PATH=\"$bin:\$PATH\""; exit 0; fi
mkdir -p "$bin" "$PEERS_DIR/work"
export GOFLAGS=-mod=mod GOPATH="${GOPATH:-$PEERS_DIR/gopath}" GOTOOLCHAIN=local
PROMETHEUS_VERSION=0.316.0
ALERTMANAGER_VERSION=0.35.0
VICTORIAMETRICS_VERSION=1.151.0
log() { printf 'ts=%s level=info component=install-peers msg="%s"\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

install_prometheus3() {
  if [ -x "$bin/prometheus3" ] && [ -x "$bin/promtool3" ]; then return; fi
  log "building Prometheus 3.16 and promtool (v$PROMETHEUS_VERSION, about two minutes)"
  local tmp; tmp=$(mktemp -d)
  GOBIN="$tmp" go install -p 2 -tags remove_all_sd \
    -ldflags "-X github.com/prometheus/common/version.Version=3.16.0" \
    "github.com/prometheus/prometheus/cmd/prometheus@v$PROMETHEUS_VERSION" \
    "github.com/prometheus/prometheus/cmd/promtool@v$PROMETHEUS_VERSION"
  mv "$tmp/prometheus" "$bin/prometheus3"; mv "$tmp/promtool" "$bin/promtool3"; rm -rf "$tmp"
}

install_alertmanager() {
  if [ ! -x "$bin/amtool" ]; then
    log "building amtool v$ALERTMANAGER_VERSION"
    GOBIN="$bin" go install -p 2 -ldflags "-X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION" \
      "github.com/prometheus/alertmanager/cmd/amtool@v$ALERTMANAGER_VERSION"
  fi
  if [ -x "$bin/alertmanager" ]; then return; fi
  log "building Alertmanager v$ALERTMANAGER_VERSION (module copy with placeholder UI assets)"
  local mod src
  mod=$(cd "$PEERS_DIR/work" && go mod download -json "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION" | sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p')
  src="$PEERS_DIR/work/alertmanager-$ALERTMANAGER_VERSION"
  rm -rf "$src"; cp -r "$mod" "$src"; chmod -R u+w "$src"
  for ui in elm mantine; do
    mkdir -p "$src/ui/app/dist/$ui"
    echo '<!doctype html><title>Alertmanager</title>' >"$src/ui/app/dist/$ui/index.html"
    gzip -kf "$src/ui/app/dist/$ui/index.html"
  done
  (cd "$src" && GOBIN="$bin" go install -p 2 \
    -ldflags "-X github.com/prometheus/common/version.Version=$ALERTMANAGER_VERSION" ./cmd/alertmanager)
}

install_otelcol() {
  if [ -x "$bin/otelcol" ]; then return; fi
  log "building the OpenTelemetry Collector (scripts/otelcol, pinned by its go.sum; about three minutes)"
  (cd "$scripts/otelcol" && GOFLAGS=-mod=readonly GOBIN="$bin" go install -p 2 -trimpath .)
}

install_victoriametrics() {
  if [ -x "$bin/victoria-metrics" ]; then return; fi
  log "building VictoriaMetrics single-node v$VICTORIAMETRICS_VERSION (about two minutes)"
  GOBIN="$bin" go install -p 2 \
    "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v$VICTORIAMETRICS_VERSION"
}

targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(prometheus3 alertmanager otelcol)
for t in "${targets[@]}"; do
  case "$t" in
    prometheus3) install_prometheus3 ;;
    alertmanager) install_alertmanager ;;
    otelcol) install_otelcol ;;
    victoriametrics) install_victoriametrics ;;
    *) echo "install-peers.sh: unknown peer $t" >&2; exit 2 ;;
  esac
done
log "peers ready in $bin"
