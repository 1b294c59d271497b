# shellcheck shell=bash disable=SC2034  # MODE, SAMPLER, PINGER are read by ops/lab/run
# The WgRouted namespace lab: topology, stock wireguard-go, failure injection, measurement, teardown.
# Sourced by ops/lab/run. Everything lives in namespaces named wgr<ID><role>; nothing touches the root
# namespace's links, routes or rules. Addresses: 198.18.0.0/15 and fd00::/8 only.
#
#   router (wgr<ID>r)  upa 198.18.1.2/24 ── ra 198.18.1.1/24            inet (wgr<ID>i)
#                          (fd00:1::2/64)      fd00:1::1/64
#                      upb 198.18.2.2/24 ── rb 198.18.2.1/24                forwarding on
#                          fd00:2::2/64        fd00:2::1/64
#                                          pp 198.18.3.1/24, fd00:3::1/64 ── pe0 198.18.3.2/24, fd00:3::2/64  peer (wgr<ID>p)
#   tunnel: router wgr<ID>r0 198.19.0.1/24 fd00:99::1/64  <->  peer wgr<ID>p0 198.19.0.2/24 fd00:99::2/64

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
KEEPALIVE=${LAB_KEEPALIVE:-2}
PING_INTERVAL=${LAB_PING_INTERVAL:-0.02}   # seconds between tunnel pings (50 pps)
A_SRC=198.18.1.2 A_GW=198.18.1.1 A6_SRC=fd00:1::2 A6_GW=fd00:1::1 B_SRC=198.18.2.2 B_GW=198.18.2.1 B6_SRC=fd00:2::2 B6_GW=fd00:2::1
PEER4=198.18.3.2 PEER6=fd00:3::2 TUN_R=198.19.0.1 TUN_P=198.19.0.2
MODE=stock
STATE_DIR=/run/wgrlab
PIDS=()
WGR_PIDS=()
LAB_UP=0
# Scenarios with more routers (f: babeld) add their namespaces, WireGuard interfaces and wg-routed roles here.
EXTRA_NS=()
EXTRA_WG=()
WGR_ROLES=(router peer)

# Background processes are started as `ip netns exec NS PROGRAM ... &` (ip execs PROGRAM), never through a
# shell function, so that $! is the program's own PID and teardown kills exactly it.
log() { printf '%s %s\n' "$(date +%T.%3N)" "$*" >&2; }
# Bash's own clock, not date(1): the samplers call it every few tens of ms, and a process start costs ~20 ms on a
# loaded VM (the route sampler's 700 samples then took 100 s instead of 14).
# stamp VAR sets VAR without the fork of a command substitution (the counters sampler's loop).
stamp() { local __us=${EPOCHREALTIME/[.,]/}; printf -v "$1" '%s' "${__us:0:${#__us}-3}"; }
now_ms() { local ms; stamp ms; echo "$ms"; }
rx() { ip netns exec "$NS_R" "$@"; }
ix() { ip netns exec "$NS_I" "$@"; }
px() { ip netns exec "$NS_P" "$@"; }
event() { echo "$(now_ms) $*" >>"$RUN/events"; log "event: $*"; }

# Poll a command until it succeeds: wait_for TRIES SLEEP CMD...
wait_for() {
    local tries=$1 pause=$2 i
    shift 2
    for ((i = 0; i < tries; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep "$pause"
    done
    return 1
}

lab_up() {
    ID=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
    NS_R=wgr${ID}r NS_I=wgr${ID}i NS_P=wgr${ID}p
    WG_R=wgr${ID}r0 WG_P=wgr${ID}p0
    lab_namespaces "$NS_R" "$NS_I" "$NS_P"

    ip -n "$NS_P" addr add 198.18.3.2/24 dev pe0
    ip -n "$NS_P" addr add fd00:3::2/64 dev pe0 nodad
    ip -n "$NS_P" link set pe0 up
    ip -n "$NS_P" route add default via 198.18.3.1
    ip -n "$NS_P" -6 route add default via fd00:3::1

    router_uplinks

    counters_up
    wireguard_up
    wgrouted_up
    wait_for 50 0.1 rx ping -c1 -W1 $TUN_P || { log "tunnel did not come up"; return 1; }
    log "tunnel up"
}

# The run directory, its record, the namespaces (router, inet, peer, and any more given) and the links from inet
# to the router's two uplinks and to the peer: lab_namespaces NS...
lab_namespaces() {
    RUN=$(mktemp -d "/tmp/wgrlab.$ID.XXXX")
    # Searchable, not listable: the daemons' embedded PostgreSQL (user postgres) passes through to their DataDirectory.
    chmod 711 "$RUN"
    : >"$RUN/events"
    LAB_UP=1
    # A record of this run, for `ops/lab/run clean` should this script be killed before its teardown.
    mkdir -p "$STATE_DIR"
    echo "$$ $RUN" >"$STATE_DIR/$ID"
    log "lab $ID: namespaces $*, run dir $RUN"
    local ns
    for ns in "$@"; do namespace_add "$ns"; done
    ix sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1
    # veths are created directly inside the namespaces.
    ip link add upa netns "$NS_R" type veth peer name ra netns "$NS_I"
    ip link add upb netns "$NS_R" type veth peer name rb netns "$NS_I"
    ip link add pp netns "$NS_I" type veth peer name pe0 netns "$NS_P"
    ip -n "$NS_I" addr add 198.18.1.1/24 dev ra
    ip -n "$NS_I" addr add fd00:1::1/64 dev ra nodad
    ip -n "$NS_I" addr add 198.18.2.1/24 dev rb
    ip -n "$NS_I" addr add fd00:2::1/64 dev rb nodad
    ip -n "$NS_I" addr add 198.18.3.1/24 dev pp
    ip -n "$NS_I" addr add fd00:3::1/64 dev pp nodad
    for l in ra rb pp; do ip -n "$NS_I" link set "$l" up; done
}

# A namespace with lo up, no reverse-path filter (the lab's paths are asymmetric on purpose) and no DAD.
namespace_add() { # NS
    ip netns add "$1"
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# The router's two uplinks: A primary (metric 100), B backup (metric 200, IPv4 and IPv6), a source rule each.
# LAB_ROUTER_IPV6=0: an IPv4-only router (IPv6 disabled in its namespace, as a host booted with it off).
# LAB_ROUTER_IPV4=0: an IPv6-only router: no IPv4 address or route on either uplink, A is fd00:1::2 (the counters
# and results name it A all the same).
router_uplinks() {
    [[ ${LAB_ROUTER_IPV6:-1} == 0 ]] && rx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    if [[ ${LAB_ROUTER_IPV4:-1} == 0 ]]; then
        ip -n "$NS_R" addr add $A6_SRC/64 dev upa nodad
        ip -n "$NS_R" addr add $B6_SRC/64 dev upb nodad
        ip -n "$NS_R" link set upa up
        ip -n "$NS_R" link set upb up
        routes_a add
        ip -n "$NS_R" -6 route add default via $B6_GW dev upb metric 200
        ip -n "$NS_R" -6 route add default via $B6_GW dev upb table 102
        ip -n "$NS_R" -6 rule add from $A6_SRC lookup 101 pref 1001
        ip -n "$NS_R" -6 rule add from $B6_SRC lookup 102 pref 1002
        return 0
    fi
    ip -n "$NS_R" addr add $A_SRC/24 dev upa
    ip -n "$NS_R" addr add $B_SRC/24 dev upb
    ip -n "$NS_R" link set upa up
    ip -n "$NS_R" link set upb up
    routes_a add
    ip -n "$NS_R" route add default via $B_GW dev upb metric 200
    ip -n "$NS_R" route add default via $B_GW dev upb table 102
    ip -n "$NS_R" rule add from $A_SRC lookup 101 pref 1001
    ip -n "$NS_R" rule add from $B_SRC lookup 102 pref 1002
    [[ ${LAB_ROUTER_IPV6:-1} == 0 ]] && return 0
    ip -n "$NS_R" addr add $B6_SRC/64 dev upb nodad
    ip -n "$NS_R" -6 route add default via $B6_GW dev upb metric 200
    ip -n "$NS_R" -6 route add default via $B6_GW dev upb table 102
    ip -n "$NS_R" -6 rule add from $B6_SRC lookup 102 pref 1002
}

# A's default routes, main (metric 100) and table 101: routes_a add|del
routes_a() {
    if [[ ${LAB_ROUTER_IPV4:-1} == 0 ]]; then
        ip -n "$NS_R" -6 route "$1" default via $A6_GW dev upa metric 100
        ip -n "$NS_R" -6 route "$1" default via $A6_GW dev upa table 101
        return 0
    fi
    ip -n "$NS_R" route "$1" default via $A_GW dev upa metric 100
    ip -n "$NS_R" route "$1" default via $A_GW dev upa table 101
}

# nftables counters: in the router, which source its WireGuard UDP leaves with (postrouting); in inet,
# what arrives from each uplink (prerouting, before any injected drop) and what the peer sends to each
# router address. Injected faults go into inet's chain `fault` (forward hook).
counters_up() {
    # On an IPv6-only router, A's counters count its IPv6 address.
    local a="ip saddr $A_SRC" toa="ip daddr $A_SRC"
    [[ ${LAB_ROUTER_IPV4:-1} == 0 ]] && a="ip6 saddr $A6_SRC" toa="ip6 daddr $A6_SRC"
    rx nft -f - <<EOF
table inet wgrlab {
    counter txA {}
    counter txB {}
    counter txB6 {}
    chain post {
        type filter hook postrouting priority 0; policy accept;
        $a udp dport 51820 counter name txA
        ip saddr $B_SRC udp dport 51820 counter name txB
        ip6 saddr $B6_SRC udp dport 51820 counter name txB6
    }
}
EOF
    ix nft -f - <<EOF
table inet wgrlab {
    counter inA {}
    counter inB {}
    counter inB6 {}
    counter toA {}
    counter toB {}
    counter toB6 {}
    counter initA {}
    chain pre {
        type filter hook prerouting priority -300; policy accept;
        iifname "ra" $a udp dport 51820 @th,64,8 1 counter name initA
        iifname "ra" $a udp dport 51820 counter name inA
        iifname "rb" ip saddr $B_SRC udp dport 51820 counter name inB
        iifname "rb" ip6 saddr $B6_SRC udp dport 51820 counter name inB6
        iifname "pp" $toa udp sport 51820 counter name toA
        iifname "pp" ip daddr $B_SRC udp sport 51820 counter name toB
        iifname "pp" ip6 daddr $B6_SRC udp sport 51820 counter name toB6
    }
    chain fault {
        type filter hook forward priority 0; policy accept;
    }
}
EOF
}

fault_add() { ix nft add rule inet wgrlab fault "$@"; }
fault_clear() { ix nft flush chain inet wgrlab fault; }

start_wg() { # NS IFACE
    ip netns exec "$1" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$2" >>"$RUN/wireguard-go.$2.log" 2>&1 &
    PIDS+=($!)
    WG_PID=$!
    wait_for 50 0.1 test -S "/var/run/wireguard/$2.sock" || { log "wireguard-go $2 did not start"; return 1; }
}

wireguard_up() {
    (umask 077 && wg genkey >"$RUN/router.key" && wg genkey >"$RUN/peer.key")
    RPUB=$(wg pubkey <"$RUN/router.key")
    PPUB=$(wg pubkey <"$RUN/peer.key")
    start_wg "$NS_R" "$WG_R"
    start_wg "$NS_P" "$WG_P"
    # The peer is a hub: no endpoint for the router, learned by roaming.
    px wg set "$WG_P" listen-port 51820 private-key "$RUN/peer.key" \
        peer "$RPUB" allowed-ips $TUN_R/32,fd00:99::1/128 persistent-keepalive "$KEEPALIVE"
    ip -n "$NS_P" addr add $TUN_P/24 dev "$WG_P"
    ip -n "$NS_P" addr add fd00:99::2/64 dev "$WG_P" nodad
    ip -n "$NS_P" link set "$WG_P" up
    # The router last: its keepalive starts the handshake at once, and the peer is ready for it.
    rx wg set "$WG_R" listen-port 51820 private-key "$RUN/router.key" \
        peer "$PPUB" allowed-ips $TUN_P/32,fd00:99::2/128 endpoint "$([[ ${LAB_ROUTER_IPV4:-1} == 0 ]] && echo "[$PEER6]" || echo $PEER4):51820" \
        persistent-keepalive "$KEEPALIVE"
    if [[ ${LAB_STOCK_PEER:-0} == 1 ]]; then
        # A preshared key on both ends: a stock peer's handshakes must read it from the device and mix it in.
        (umask 077 && wg genpsk >"$RUN/psk")
        px wg set "$WG_P" peer "$RPUB" preshared-key "$RUN/psk"
        rx wg set "$WG_R" peer "$PPUB" preshared-key "$RUN/psk"
    fi
    ip -n "$NS_R" addr add $TUN_R/24 dev "$WG_R"
    [[ ${LAB_ROUTER_IPV6:-1} == 0 ]] || ip -n "$NS_R" addr add fd00:99::1/64 dev "$WG_R" nodad
    ip -n "$NS_R" link set "$WG_R" up
}

# The WgRouted hook: WGROUTED=1 and WGROUTED_BIN=/path/to/wg-routed start the daemon in the router and the
# peer namespace with a generated config ($RUN/wgrouted-router.json, $RUN/wgrouted-peer.json). LAB_STOCK_PEER=1:
# the peer runs wireguard-go only, and the router's configuration says so ("Responder": false).
wgrouted_up() {
    MODE=stock
    [[ ${WGROUTED:-0} == 1 ]] || return 0
    if [[ -z ${WGROUTED_BIN:-} || ! -x ${WGROUTED_BIN:-} ]]; then
        log "WGROUTED=1 but WGROUTED_BIN ('${WGROUTED_BIN:-}') is not an executable: running stock only"
        return 0
    fi
    MODE=wgrouted
    local fw=${WGROUTED_FWMARK:-0x5157} probe=${WGROUTED_PROBE_PORT:-51821}
    local otlp=""
    if [[ -n ${LAB_OTLP_PORT:-} ]]; then
        otlp_bridge
        otlp='"Otlp": { "Endpoint": "http://127.0.0.1:4317" },'
    fi
    cat >"$RUN/wgrouted-router.json" <<EOF
{
  "DataDirectory": "$RUN/wgrouted-router",
  "Store": { "ConnectionString": "${WGROUTED_STORE:-}" },
  "Probe": { "Port": $probe },
  $otlp
  "Interfaces": [ { "Name": "$WG_R", "Fwmark": "$fw", "Babel": false,
      "Peers": [ { "PublicKey": "$PPUB", "Endpoints": ["$PEER4:51820", "[$PEER6]:51820"], "ProbePort": $probe,
                   "Responder": $([[ ${LAB_STOCK_PEER:-0} == 1 ]] && echo false || echo true) } ] } ]
}
EOF
    cat >"$RUN/wgrouted-peer.json" <<EOF
{
  "DataDirectory": "$RUN/wgrouted-peer",
  "Store": { "ConnectionString": "${WGROUTED_STORE:-}" },
  "Probe": { "Port": $probe },
  "Interfaces": [ { "Name": "$WG_P", "Fwmark": "$fw", "Babel": false,
      "Peers": [ { "PublicKey": "$RPUB", "Endpoints": [], "ProbePort": $probe } ] } ]
}
EOF
    start_wgrouted router "$NS_R" || return 1
    if [[ ${LAB_STOCK_PEER:-0} == 1 ]]; then
        MODE=wgrouted-stock-peer
        WGR_ROLES=(router)
    else
        start_wgrouted peer "$NS_P" || return 1
    fi
    sleep "${WGROUTED_SETTLE:-3}"
}

# wg-routed with $RUN/wgrouted-ROLE.json in a namespace, its config checked first: start_wgrouted ROLE NS
start_wgrouted() {
    local role=$1 ns=$2
    mkdir -p "$RUN/wgrouted-$role"
    "$WGROUTED_BIN" check-config --config "$RUN/wgrouted-$role.json" >&2 || { log "wgrouted-$role.json is invalid"; return 1; }
    ip netns exec "$ns" "$WGROUTED_BIN" run --config "$RUN/wgrouted-$role.json" >"$RUN/wgrouted-$role.log" 2>&1 &
    WGR_PIDS+=($!)
    log "wg-routed ($role) pid $! in $ns, config $RUN/wgrouted-$role.json, log $RUN/wgrouted-$role.log"
}

# Stops wg-routed ROLE (TERM, then KILL after WGROUTED_STOP_TIMEOUT s) and starts it again in NS with its config; the
# log of the run before is kept as wgrouted-ROLE.before-restart.log.
restart_wgrouted() { # ROLE NS
    local role=$1 ns=$2 i p keep=()
    for p in "${WGR_PIDS[@]}"; do
        if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "wgrouted-$role.json"; then
            kill -TERM "$p" 2>/dev/null || true
            for ((i = 0; i < ${WGROUTED_STOP_TIMEOUT:-20} * 10; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null || true
            wait "$p" 2>/dev/null || true
        else
            keep+=("$p")
        fi
    done
    WGR_PIDS=("${keep[@]}")
    mv "$RUN/wgrouted-$role.log" "$RUN/wgrouted-$role.before-restart.log"
    start_wgrouted "$role" "$ns"
}

# LAB_OTLP_PORT=P: the router's wg-routed exports its traces to an OTLP receiver (gRPC) on the host's 127.0.0.1:P
# (ops/traces, or a test's): socat listens on the router namespace's own 127.0.0.1:4317 and carries each
# connection over to the host's loopback (nsenter into this script's own network namespace: PID 1's may not be
# ours to open). Loopback to loopback only.
otlp_bridge() {
    [[ $LAB_OTLP_PORT =~ ^[0-9]+$ ]] || { log "LAB_OTLP_PORT '$LAB_OTLP_PORT' is not a port"; return 1; }
    ip netns exec "$NS_R" socat TCP-LISTEN:4317,bind=127.0.0.1,fork,reuseaddr \
        "SYSTEM:nsenter --net=/proc/$$/ns/net socat STDIO TCP\\:127.0.0.1\\:$LAB_OTLP_PORT" 2>>"$RUN/otlp-bridge.log" &
    PIDS+=($!)
    wait_for 5 0.05 rx bash -c 'exec 3<>/dev/tcp/127.0.0.1/4317' || log "the OTLP bridge does not listen"
    log "OTLP bridge pid $!: $NS_R 127.0.0.1:4317 -> host 127.0.0.1:$LAB_OTLP_PORT"
}

lab_down() {
    [[ $LAB_UP == 1 ]] || return 0
    LAB_UP=0
    local p i
    if [[ $MODE == wgrouted* && ${LAB_SHOW:-0} == 1 ]]; then
        echo "--- wg-routed show (router) ---"
        ip netns exec "$NS_R" "$WGROUTED_BIN" show --config "$RUN/wgrouted-router.json" 2>&1 || true
    fi
    # wg-routed first, with time to stop its embedded PostgreSQL (WGROUTED_STOP_TIMEOUT s, default 20).
    for p in "${WGR_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < ${WGROUTED_STOP_TIMEOUT:-20} * 10; i++)); do
        local alive=0
        for p in "${WGR_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for p in "${WGR_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && log "wg-routed pid $p did not stop in time: SIGKILL"
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    WGR_PIDS=()
    # An embedded PostgreSQL a daemon left behind (data directory inside this run's directory): fast shutdown.
    local pg
    for pg in $(pgrep -f -- "postgres -D $RUN/" || true); do
        log "wg-routed left PostgreSQL pid $pg running: stopping it"
        kill -INT "$pg" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do kill -0 "$pg" 2>/dev/null || break; sleep 0.1; done
    done
    [[ $MODE == wgrouted* ]] && replay_runs
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < 30; i++)); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [[ $alive == 0 ]] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    sweep_namespaces
    ip netns del "$NS_R" 2>/dev/null || true
    ip netns del "$NS_I" 2>/dev/null || true
    ip netns del "$NS_P" 2>/dev/null || true
    local x
    for x in "${EXTRA_NS[@]}"; do ip netns del "$x" 2>/dev/null || true; done
    for x in "${EXTRA_WG[@]}"; do rm -f "/var/run/wireguard/$x.sock"; done
    rm -f "$STATE_DIR/$ID"
    rm -f "/var/run/wireguard/$WG_R.sock" "/var/run/wireguard/$WG_P.sock"
    if [[ ${LAB_KEEP:-0} == 1 ]]; then log "kept $RUN"; else rm -rf "$RUN"; fi
    log "lab $ID torn down"
}

# Incident analysis of the run just done, from each daemon's store alone: `wg-routed replay --verify` must
# re-derive every recorded output. LAB_WHATIF="Section:Key=Value ..." also replays the router with those settings
# (from the scenario's fault on, where the scenario sets WHATIF_FROM);
# LAB_REPLAY_OUT=DIR keeps the router's timeline (replay-router.txt) and picture (replay-router.svg) there.
replay_runs() {
    local role out
    # Each daemon's store is its own cluster: the replays (a PostgreSQL start and stop each) run side by side.
    local -A replaying=()
    for role in "${WGR_ROLES[@]}"; do
        "$WGROUTED_BIN" replay --config "$RUN/wgrouted-$role.json" --verify --json >"$RUN/replay-$role.json" 2>"$RUN/replay-$role.err" &
        replaying[$role]=$!
    done
    for role in "${WGR_ROLES[@]}"; do
        out="$RUN/replay-$role.json"
        if wait "${replaying[$role]}"; then
            echo "RESULT scenario=replay-$role mode=$MODE verify=ok $(jq -r '[.[] | .verify.recorded] | "outputs=\(add // 0) peers=\(length)"' "$out") differences=0"
        else
            echo "RESULT scenario=replay-$role mode=$MODE verify=failed $(jq -r '[.[] | .verify.recorded] | "outputs=\(add // 0)"' "$out" 2>/dev/null) differences=$(jq '[.[] | .verify.differences | length] | add' "$out" 2>/dev/null)"
            jq -c '.[] | .verify.differences[]' "$out" 2>/dev/null | head -20 >&2 || cat "$RUN/replay-$role.err" >&2
        fi
    done
    if [[ -n ${LAB_WHATIF:-} ]]; then
        local args=() kv
        for kv in $LAB_WHATIF; do args+=(--what-if "$kv"); done
        [[ -n ${WHATIF_FROM:-} ]] && args+=(--from "$WHATIF_FROM")
        "$WGROUTED_BIN" replay --config "$RUN/wgrouted-router.json" "${args[@]}" --json >"$RUN/whatif.json" 2>&1 || true
        echo "RESULT scenario=whatif mode=$MODE settings=${LAB_WHATIF// /,} $(jq -r '.[0] as $p | ($p.whatIf.baselineDecisions | map("\(.at)|\(.reason // "unreachable")|\(.to.src // "-")")) as $a | ($p.whatIf.decisions | map("\(.at)|\(.reason // "unreachable")|\(.to.src // "-")")) as $b | "only_recorded=\(($a - $b) | map(split("|")[1]) | join(",")) only_whatif=\(($b - $a) | map(split("|")[1]) | join(",")) backup_ms=\($p.whatIf.baselineExposure.onBackupMs | floor) whatif_backup_ms=\($p.whatIf.exposure.onBackupMs | floor)"' "$RUN/whatif.json")"
    fi
    if [[ -n ${LAB_REPLAY_OUT:-} ]]; then
        mkdir -p "$LAB_REPLAY_OUT"
        "$WGROUTED_BIN" replay --config "$RUN/wgrouted-router.json" --svg "$LAB_REPLAY_OUT/replay-router.svg" >"$LAB_REPLAY_OUT/replay-router.txt" 2>&1 || true
        log "replay of the router: $LAB_REPLAY_OUT/replay-router.txt, picture $LAB_REPLAY_OUT/replay-router.svg"
    fi
}

# Whatever still runs inside this run's namespaces was started by this run (a process a daemon forked, or
# one whose PID was lost): TERM, then KILL.
sweep_namespaces() {
    local ns p left i
    for ns in "$NS_R" "$NS_I" "$NS_P" "${EXTRA_NS[@]}"; do
        [[ -e /run/netns/$ns ]] || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            log "still in $ns: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80)): SIGTERM"
            kill -TERM "$p" 2>/dev/null || true
        done
    done
    for ((i = 0; i < 30; i++)); do
        left=""
        for ns in "$NS_R" "$NS_I" "$NS_P" "${EXTRA_NS[@]}"; do
            [[ -e /run/netns/$ns ]] && left+=$(ip netns pids "$ns" 2>/dev/null)
        done
        [[ -z $left ]] && return 0
        sleep 0.1
    done
    for ns in "$NS_R" "$NS_I" "$NS_P" "${EXTRA_NS[@]}"; do
        [[ -e /run/netns/$ns ]] || continue
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    done
}

# Tears down the runs recorded in $STATE_DIR whose script is gone (killed before its own teardown).
lab_clean() {
    local f owner run
    for f in "$STATE_DIR"/*; do
        [[ -f $f ]] || continue
        read -r owner run <"$f"
        if kill -0 "$owner" 2>/dev/null && tr '\0' ' ' <"/proc/$owner/cmdline" | grep -q 'ops/lab/run'; then
            log "run $(basename "$f") is still going (pid $owner): left alone"
            continue
        fi
        ID=$(basename "$f") NS_R=wgr${ID}r NS_I=wgr${ID}i NS_P=wgr${ID}p WG_R=wgr${ID}r0 WG_P=wgr${ID}p0 RUN=$run
        PIDS=() WGR_PIDS=() LAB_UP=1 EXTRA_NS=("wgr${ID}q" "wgr${ID}x" "wgr${ID}c")
        EXTRA_WG=("wgr${ID}r1" "wgr${ID}r2" "wgr${ID}p1" "wgr${ID}q2" "wgr${ID}c0")
        [[ $RUN == /tmp/wgrlab.$ID.* ]] || RUN=/nonexistent
        for p in $(pgrep -f -- "postgres -D $RUN/" || true); do kill -INT "$p" 2>/dev/null || true; done
        lab_down
    done
}

# ---- measurement ----------------------------------------------------------------------------------

# (awk on nft's text, not jq on its JSON: the sampler's period is the lab's time resolution.)
read_counters() { # NS -> "name packets name packets ..."
    ip netns exec "$1" nft list counters table inet wgrlab |
        awk '$1 == "counter" { name = $2 } $1 == "packets" { printf "%s%s %s", sep, name, $2; sep = " " } END { print "" }'
}

# Samples both namespaces' counters every ~100 ms (plus the reads' few ms) for DURATION seconds into $RUN/samples ("MS name packets ...").
# One `nft -i` per namespace stays up and is asked again each time (a few ms): an nft started per sample took 80 ms
# idle and 500-700 ms on a loaded CI machine, and the period is the figures' resolution. Each sample is stamped
# when both answers are in, so it never claims a state earlier than it saw.
start_sampler() { # DURATION_S
    local n=$(($1 * 10)) stop=$(($(now_ms) + $1 * 1000))
    (
        to=() from=()
        for k in 0 1; do
            ns=$NS_R
            [[ $k == 1 ]] && ns=$NS_I
            fifo=$RUN/.nft-$k
            rm -f "$fifo.in" "$fifo.out"
            mkfifo "$fifo.in" "$fifo.out"
            timeout $(($1 + 5)) ip netns exec "$ns" nft -i <"$fifo.in" >"$fifo.out" 2>/dev/null &
            exec {to[k]}>"$fifo.in" {from[k]}<"$fifo.out"
        done
        for ((i = 0; i < n; i++)); do
            stamp t
            ((t < stop)) || break
            for k in 0 1; do echo "list counters table inet wgrlab" >&"${to[k]}"; done
            r=""
            for k in 0 1; do
                while IFS= read -r -t 2 -u "${from[k]}" line; do
                    [[ $line == "}" ]] && break
                    if [[ $line =~ ^[[:space:]]*counter[[:space:]]+([^[:space:]]+) ]]; then
                        name=${BASH_REMATCH[1]}
                    elif [[ $line =~ ^[[:space:]]*packets[[:space:]]+([0-9]+) ]]; then
                        r+=" $name ${BASH_REMATCH[1]}"
                    fi
                done
            done
            stamp t
            echo "$t$r" >>"$RUN/samples"
            sleep 0.1
        done
        for k in 0 1; do exec {to[k]}>&- {from[k]}<&-; done
        rm -f "$RUN"/.nft-*
        wait
    ) &
    PIDS+=($!)
    SAMPLER=$!
}

# Tunnel reachability: ping router -> peer through the tunnel, timestamped, bounded in count and time.
start_ping() { # DURATION_S [INTERVAL_S]
    local iv=${2:-$PING_INTERVAL}
    PING_IV_MS=$(awk -v i="$iv" 'BEGIN { printf "%d", i * 1000 }')
    local count
    count=$(awk -v d="$1" -v i="$iv" 'BEGIN { printf "%d", d / i }')
    ip netns exec "$NS_R" ping -D -n -i "$iv" -W 1 -c "$count" -w "$1" $TUN_P >"$RUN/ping.log" 2>&1 &
    PIDS+=($!)
    PINGER=$!
}

wait_pid() { wait "$1" 2>/dev/null || true; }

# Per-second timeline from T0: router egress source, what inet receives, where the peer sends, ping replies.
timeline() { # T0
    awk -v t0="$1" -v piv="$PING_IV_MS" '
        FILENAME ~ /events$/ { s = int(($1 - t0) / 1000); $1 = ""; ev[s] = ev[s] $0; next }
        FILENAME ~ /ping.log$/ {
            if ($0 ~ /bytes from/) {
                t = substr($1, 2, length($1) - 2) * 1000; s = int((t - t0) / 1000); rep[s]++
                if (match($0, /time=[0-9.]+/)) { rtt[s] += substr($0, RSTART + 5, RLENGTH - 5) }
                if (s > last) last = s
            }
            next
        }
        {
            t = $1; s = int((t - t0) / 1000)
            for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
            if (have) for (k in v) d[s, k] += v[k] - p[k]
            for (k in v) p[k] = v[k]
            have = 1; if (s > last) last = s
        }
        END {
            printf "%4s | %-22s | %-22s | %-22s | %-14s | %s\n", "t/s", "router tx src A/B/B6", "inet rx from A/B/B6", "peer sends to A/B/B6", "ping ok rtt", "events"
            for (s = 0; s <= last; s++) {
                src = (d[s, "txA"] > 0 ? "A" : "") (d[s, "txB"] > 0 ? "B" : "") (d[s, "txB6"] > 0 ? "6" : "")
                printf "%4d | %5d %5d %5d %-4s | %5d %5d %5d      | %5d %5d %5d      | %4d %7.2f  |%s\n", s,
                    d[s, "txA"], d[s, "txB"], d[s, "txB6"], src, d[s, "inA"], d[s, "inB"], d[s, "inB6"],
                    d[s, "toA"], d[s, "toB"], d[s, "toB6"], rep[s], (rep[s] ? rtt[s] / rep[s] : 0), ev[s]
            }
        }' "$RUN/events" "$RUN/ping.log" "$RUN/samples"
}

# ms from RESTORE_MS until the router sends only from A for good (to END_MS, by default the end of the samples), or "never".
back_on_primary() { # RESTORE_MS [END_MS]
    awk -v r="$1" -v e="${2:-}" '
        { t = $1; if (e != "" && t > e) exit; for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
          if (have && t >= r) {
              dA = v["txA"] - p["txA"]; dB = v["txB"] - p["txB"] + v["txB6"] - p["txB6"]
              if (dB > 0) cand = ""; else if (dA > 0 && cand == "") cand = t
              if (dA > 0) lastA = t
          }
          for (k in v) p[k] = v[k]; have = 1; end = t }
        END { if (cand != "" && end - lastA <= 1500) print cand - r; else print "never" }' "$RUN/samples"
}

# ms from FAIL_MS until the router first sends from B (or B6), or "never".
first_on_backup() { # FAIL_MS
    awk -v f="$1" '
        { t = $1; for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
          if (have && t >= f && res == "" && (v["txB"] - p["txB"] + v["txB6"] - p["txB6"]) > 0) res = t - f
          for (k in v) p[k] = v[k]; have = 1 }
        END { print (res == "" ? "never" : res) }' "$RUN/samples"
}

# Which sources carried the router's WireGuard UDP between FROM_MS and TO_MS: A, B, B6, combinations, none.
sources_between() { # FROM_MS TO_MS
    awk -v a="$1" -v b="$2" '
        { t = $1; for (i = 2; i < NF; i += 2) v[$i] = $(i + 1)
          if (have && t > a && t <= b) for (k in v) d[k] += v[k] - p[k]
          for (k in v) p[k] = v[k]; have = 1 }
        END { s = (d["txA"] > 0 ? "A" : "") (d["txB"] > 0 ? "B" : "") (d["txB6"] > 0 ? "B6" : ""); print (s == "" ? "none" : s) }' "$RUN/samples"
}

# Ping figures: "sent received outage_ms replies_between(FROM,TO) first_reply_after(AFTER)_ms". The outage is
# the longest gap between consecutive replies (from the first reply to the end of the samples).
ping_stats() { # FROM_MS TO_MS AFTER_MS
    local end
    end=$(tail -n1 "$RUN/samples" | cut -d' ' -f1)
    awk -v a="$1" -v b="$2" -v after="$3" -v end="$end" '
        /bytes from/ { recv++; t = substr($1, 2, length($1) - 2) * 1000
                       if (prev != "" && t - prev > best) best = t - prev
                       prev = t
                       if (t > a && t <= b) between++
                       if (t >= after && first == "") first = t - after }
        /packets transmitted/ { sent = $1 }
        END { if (prev != "" && end - prev > best) best = end - prev
              printf "%d %d %d %d %s\n", sent, recv, best, between, (first == "" ? "never" : int(first)) }' "$RUN/ping.log"
}
