# shellcheck shell=bash disable=SC2034  # sourced by ops/lab/run after lib.sh
# Scenario h: attacks on the probe protocol (issue 9), with wg-routed on the router and the hub (the lab's peer).
#
#   router wgr<ID>r, inet wgr<ID>i, hub wgr<ID>p   as in lib.sh
#   attacker wgr<ID>x   xe0 198.18.4.2/24 fd00:4::2/64 (inet's xx .1); on its lo, the sources it spoofs: the router's
#                       A 198.18.1.2, B 198.18.2.2, B6 fd00:2::2, peer C's 198.18.5.2, and 198.18.6.6 / fd00:6::6
#                       (nobody's). Its tool: ops/lab/Attacker (wgr-attacker).
#   peer C   wgr<ID>c   ce0 198.18.5.2/24 (inet's cc .1), stock wireguard-go wgr<ID>c0 198.19.0.3/24: a second peer of the
#                       hub's wgr<ID>p0. Its key is in no wg-routed config: the hub's responder knows C's endpoint only
#                       from the device (Keyring), which is what refuses a move onto it.
#
# Phases, one lab, one RESULT line each (printed at the end, once the responders' 10 s summaries are in):
#   h-malformed  source port 0, truncated, oversized, version 1; then a valid probe from the router is answered
#   h-replay     A down then up (failover, failback) while the attacker captures every datagram to the hub's probe
#                port arriving from the router, and replays each 0.5 s and 10 s later from its own address, A, B (B6)
#                and nobody's; the hub's endpoints sampled every ~100 ms
#   h-flood      10,000 requests/s for 10 s with random MACs, claiming the router's key, from A's address; the
#                router's paths down and switches in the window (its store), the hub's wg-routed CPU
#   h-flood-prober  the same rate from inet (A's network) at the router's probe socket on A, claiming the hub's key:
#                the router's refusals, paths down and switches, its wg-routed CPU, a ping over the tunnel
#   h-burst      the whole capture again within 1 s from every source: the router's paths down and switches after it
#   h-hijack     the attacker holds the router's key (a malicious peer) and tries to take C's traffic: moves from C's
#                address for C's endpoint, for another port of C's address, and moves made while WireGuard's own
#                roaming (handshake initiations from C's endpoint) has put the router's endpoint on C's, so that the
#                move's previous endpoint is C's (what a switch fence would rewrite); last, a move onto C's address
#                at a port nobody uses and at once one away from it (the fence then rewrites that endpoint), and 3 s
#                later (past a fence's lifetime) C's WireGuard port changes to it, as a NAT rebinding would do
#   h-restart    the hub's wg-routed restarted; the captured moves forged with fresh timestamps (the attacker holds the
#                router's key) from the address each asks for; then one new move
# Environment: LAB_H_FLOOD_RATE (10000), LAB_H_FLOOD_S (10).

X4=198.18.4.2 X6=fd00:4::2 C4=198.18.5.2 ELSE4=198.18.6.6 ELSE6=fd00:6::6 TUN_C=198.19.0.3
ATTACKER_DLL=$LAB_DIR/Attacker/bin/Release/net10.0/wgr-attacker.dll

attacker_build() {
    if [[ -f $ATTACKER_DLL ]] && [[ -z $(find "$LAB_DIR/Attacker" "$LAB_DIR/../../Engine" \( -name '*.cs' -o -name '*.csproj' \) \
        -not -path '*/obj/*' -newer "$ATTACKER_DLL" | head -n 1) ]]; then
        return 0
    fi
    dotnet build "$LAB_DIR/Attacker/Attacker.csproj" -c Release -nologo -v q >&2
}

# wgr-attacker in a namespace: wgr_attacker NS COMMAND ...; attack COMMAND ... runs it in the attacker's. The router
# uses it too, for a valid probe of its own (its key, its address).
wgr_attacker() { local ns=$1; shift; ip netns exec "$ns" dotnet "$ATTACKER_DLL" "$@"; }
attack() { wgr_attacker "$NS_X" "$@"; }

security_up() {
    lab_up
    NS_X=wgr${ID}x NS_C=wgr${ID}c WG_C=wgr${ID}c0
    PROBE_PORT=${WGROUTED_PROBE_PORT:-51821}
    EXTRA_NS=("$NS_X" "$NS_C")
    EXTRA_WG=("$WG_C")
    namespace_add "$NS_X"
    namespace_add "$NS_C"
    ip link add xx netns "$NS_I" type veth peer name xe0 netns "$NS_X"
    ip link add cc netns "$NS_I" type veth peer name ce0 netns "$NS_C"
    ip -n "$NS_I" addr add 198.18.4.1/24 dev xx
    ip -n "$NS_I" addr add fd00:4::1/64 dev xx nodad
    ip -n "$NS_I" addr add 198.18.5.1/24 dev cc
    ip -n "$NS_I" link set xx up
    ip -n "$NS_I" link set cc up
    ip -n "$NS_X" addr add $X4/24 dev xe0
    ip -n "$NS_X" addr add $X6/64 dev xe0 nodad
    ip -n "$NS_X" link set xe0 up
    ip -n "$NS_X" route add default via 198.18.4.1
    ip -n "$NS_X" -6 route add default via fd00:4::1
    local a
    for a in $A_SRC $B_SRC $C4 $ELSE4; do ip -n "$NS_X" addr add "$a/32" dev lo; done
    for a in $B6_SRC $ELSE6; do ip -n "$NS_X" addr add "$a/128" dev lo nodad; done
    ip -n "$NS_C" addr add $C4/24 dev ce0
    ip -n "$NS_C" link set ce0 up
    ip -n "$NS_C" route add default via 198.18.5.1

    (umask 077 && wg genkey >"$RUN/c.key")
    CPUB=$(wg pubkey <"$RUN/c.key")
    start_wg "$NS_C" "$WG_C"
    px wg set "$WG_P" peer "$CPUB" allowed-ips $TUN_C/32
    ip netns exec "$NS_C" wg set "$WG_C" listen-port 51820 private-key "$RUN/c.key" \
        peer "$PPUB" allowed-ips $TUN_P/32 endpoint $PEER4:51820 persistent-keepalive "$KEEPALIVE"
    ip -n "$NS_C" addr add $TUN_C/24 dev "$WG_C"
    ip -n "$NS_C" link set "$WG_C" up
    wait_for 50 0.1 ip netns exec "$NS_C" ping -c1 -W1 $TUN_P || { log "C's tunnel did not come up"; return 1; }
    log "attacker $NS_X, peer C $NS_C ($CPUB) up"
}

# The hub's WireGuard endpoints every ~100 ms for SECONDS (bounded): "ms key endpoint" lines in $RUN/endpoints.
start_endpoint_sampler() { # SECONDS
    local n=$(($1 * 10)) stop=$(($(now_ms) + $1 * 1000))
    (for ((i = 0; i < n; i++)); do
        (($(now_ms) < stop)) || break
        t=$(now_ms)
        px wg show "$WG_P" endpoints 2>/dev/null | awk -v t="$t" '{ print t, $1, $2 }'
        sleep 0.1
    done) >>"$RUN/endpoints" &
    PIDS+=($!)
}

# The hub's switch fences (elements of the maps fence4 and fence6) every ~100 ms for SECONDS: lines
# "ms key saddr OLD udp sport PORT udp dport LISTEN -> NEW" in $RUN/fences (the key identifies a fence over time).
start_fence_sampler() { # SECONDS
    local n=$(($1 * 10)) stop=$(($(now_ms) + $1 * 1000))
    (for ((i = 0; i < n; i++)); do
        (($(now_ms) < stop)) || break
        px nft -j list table inet wgrouted 2>/dev/null |
            jq -r --arg t "$(now_ms)" '.nftables[] | select(.map) | .map.elem[]? | (.[0].elem.val.concat) as $k
                | "\($t) \($k | map(tostring) | join("/")) saddr \($k[0]) udp sport \($k[1]) udp dport \($k[2]) -> \(.[1]) timeout=\(.[0].elem.timeout // "none")"'
        sleep 0.1
    done) >>"$RUN/fences" &
    PIDS+=($!)
}

# Fence samples between FROM_MS and TO_MS whose rule matches the extended regex RE.
fence_samples() { # FROM_MS TO_MS RE
    awk -v a="$1" -v b="$2" -v re="$3" '$1 >= a && $1 <= b && $0 ~ re { n++ } END { print n + 0 }' "$RUN/fences"
}

# "fences longest_ms max_timeout_s": how many fences (by key) the hub had, the longest any key was seen (a switch
# re-asserted adds its fence again, so a key may outlive one element), and the greatest kernel timeout of an element
# ("none": one without, which would never expire).
fence_lifetimes() {
    awk '{ if (!($2 in first)) first[$2] = $1; last[$2] = $1
           t = $NF; sub(/^timeout=/, "", t); if (t == "none") none = 1; else if (t + 0 > mt) mt = t + 0 }
        END { for (h in first) { n++; if (last[h] - first[h] > m) m = last[h] - first[h] } print n + 0, m + 0, (none ? "none" : mt + 0) }' "$RUN/fences"
}

# Pings lost between the first and last reply at or after FROM_MS and up to TO_MS, from the gaps in icmp_seq
# (the ping itself runs late on loaded cores, so the count of replies alone says little): "replies lost".
ping_gaps() { # LOG FROM_MS TO_MS
    awk -v a="$2" -v b="$3" '/bytes from/ && match($0, /icmp_seq=[0-9]+/) {
            t = substr($1, 2, length($1) - 2) * 1000; s = substr($0, RSTART + 9, RLENGTH - 9) + 0
            if (t >= a && t <= b) { n++; if (lo == "" || s < lo) lo = s; if (s > hi) hi = s } }
        END { print n + 0, (n ? hi - lo + 1 - n : 0) }' "$1"
}

# Pings lost in LOG: those sent before the last one answered and not answered. A ping still in flight when ping is
# stopped (SIGINT, or its deadline) is not lost: ping's own summary counts it as lost.
ping_lost() { # LOG
    awk '/bytes from/ && match($0, /icmp_seq=[0-9]+/) { s = substr($0, RSTART + 9, RLENGTH - 9) + 0
            if (!(s in seen)) { seen[s] = 1; n++ } if (s > hi) hi = s }
        END { print hi - n }' "$1"
}

# Distinct endpoints the hub had for KEY between FROM_MS and TO_MS, comma-separated.
endpoints_of() { # KEY FROM_MS TO_MS
    awk -v k="$1" -v a="$2" -v b="$3" '$2 == k && $1 >= a && $1 <= b { print $3 }' "$RUN/endpoints" | sort -u | paste -sd, -
}

# Samples between FROM_MS and TO_MS in which the hub's endpoint for KEY matched (or with "not", did not match) the
# extended regex RE.
samples_matching() { # KEY FROM_MS TO_MS RE [not]
    awk -v k="$1" -v a="$2" -v b="$3" -v re="$4" -v not="${5:-}" \
        '$2 == k && $1 >= a && $1 <= b && (($3 ~ re) != (not == "not")) { n++ } END { print n + 0 }' "$RUN/endpoints"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# The responder's (or the prober's) refusals between FROM_MS and TO_MS, from its log's summaries ("Responder refused so far: CAUSE: N;
# ..." every 10 s, cumulative, when they changed): the first summary at or after TO_MS minus the last one at or before
# FROM_MS, as "refused_KEY=N" for each cause that grew. The log's clock is UTC HH:mm:ss.fff.
refusals_between() { # LOG FROM_MS TO_MS [WHO: Responder, Prober]
    awk -v from="$2" -v to="$3" -v who="${4:-Responder} refused so far: " '
        function day(ms) { return ms % 86400000 }
        function key(c) {
            if (c == "MAC does not match") return "bad_mac"
            if (c == "sequence number already seen or behind the replay window") return "replayed"
            if (c == "move request not newer than the last one followed from its sender") return "move_not_newer"
            if (c == "timestamp older than the freshness bound") return "stale"
            if (c == "timestamp further ahead than the freshness bound") return "future"
            if (c == "move request from an address other than the one it asks for") return "move_from_elsewhere"
            if (c == "move request for another peer'"'"'s endpoint") return "move_to_another_peers_endpoint"
            if (c == "source port 0") return "port0"
            if (c == "shorter than its type'"'"'s size") return "truncated"
            if (c == "longer than its type'"'"'s size") return "oversized"
            if (c == "unsupported probe version") return "bad_version"
            if (c == "request not padded to the request size") return "not_padded"
            if (c == "an authenticated sender over its rate") return "sender_over_rate"
            if (c == "over the pre-authentication budget") return "over_budget"
            if (c == "sender'"'"'s public key is not a configured peer") return "unknown_sender"
            return "other"
        }
        BEGIN { f = day(from); t = day(to) }
        index($0, who) {
            split($1, hms, /[:.]/)
            ms = ((hms[1] * 60 + hms[2]) * 60 + hms[3]) * 1000 + hms[4]
            # Across UTC midnight: times far below the window belong to the next day.
            if (ms < f - 43200000) ms += 86400000
            if (ms > t && done) next
            rest = substr($0, index($0, who) + length(who))
            n = split(rest, parts, /; /)
            for (i = 1; i <= n; i++) {
                p = parts[i]; at = match(p, /: [0-9]+$/)
                k = key(substr(p, 1, at - 1)); cum[k "\t" substr(p, 1, at - 1)] = substr(p, at + 2) + 0
            }
            if (ms <= f) for (c in cum) before[c] = cum[c]
            if (ms >= t) done = 1
            for (c in cum) after[c] = cum[c]
        }
        END {
            for (c in after) { split(c, kc, "\t"); d[kc[1]] += after[c] - before[c] }
            for (k in d) if (d[k] > 0) printf "refused_%s=%d\n", k, d[k]
        }' "$1" | sort | paste -sd' ' -
}

# N from "refused_KEY=N ..." (0 when absent).
refused() { # TEXT KEY
    local v
    v=$(grep -o "refused_$2=[0-9]*" <<<"$1" | cut -d= -f2)
    echo "${v:-0}"
}

# Waits (at most one summary interval and a half) until LOG has a summary at or after AFTER_MS, or until nothing can
# come any more (the refusals did not change since the last one).
wait_summary() { # LOG AFTER_MS
    local i
    for ((i = 0; i < 120; i++)); do
        [[ -n $(refusals_at_or_after "$1" "$2") ]] && return 0
        (($(now_ms) - $2 > 11000)) && return 0
        sleep 0.1
    done
}
refusals_at_or_after() { # LOG AFTER_MS
    awk -v a="$2" '/Responder refused so far: / {
            split($1, hms, /[:.]/); ms = ((hms[1] * 60 + hms[2]) * 60 + hms[3]) * 1000 + hms[4]
            d = a % 86400000; if (ms < d - 43200000) ms += 86400000
            if (ms >= d) { print; exit } }' "$1"
}

# Events in a store dump between FROM_MS and TO_MS (engine time) of TYPE, with an extra jq condition: count_events FILE TYPE FROM TO [COND]
JQ_MS='def ms: (.at | capture("^(?<s>[0-9-]+T[0-9:]+)(\\.(?<f>[0-9]+))?")) as $c
    | (($c.s + "Z") | fromdateiso8601) * 1000 + ((($c.f // "") + "000")[0:3] | tonumber);'
count_events() {
    jq --arg t "$2" --argjson a "$3" --argjson b "$4" \
        "$JQ_MS [.[] | select(.type == \$t and ms >= \$a and ms <= \$b) | select(${5:-true})] | length" "$1"
}
dump_events() { # ROLE
    "$WGROUTED_BIN" events --config "$RUN/wgrouted-$1.json" --json --limit 100000 >"$RUN/events-$1.json" 2>"$RUN/events-$1.err" ||
        { log "events of $1 unreadable: $(head -c 300 "$RUN/events-$1.err")"; echo '[]' >"$RUN/events-$1.json"; }
}

h_malformed() {
    H_MAL_FROM=$(now_ms)
    event "malformed datagrams from $X4"
    H_MAL_SENT=$(attack malformed --to $PEER4:$PROBE_PORT --from $X4)
    sleep 0.2
    # The next valid probe, from the router (its key, its address A).
    H_MAL_PROBE=$(wgr_attacker "$NS_R" probe --key "$RUN/router.key" --peer "$PPUB" --to $PEER4:$PROBE_PORT --from $A_SRC --timeout-ms 1000 || true)
    H_MAL_TO=$(now_ms)
    log "malformed: $H_MAL_SENT; then $H_MAL_PROBE"
}

h_replay() {
    H_REP_FROM=$(now_ms)
    ip netns exec "$NS_X" dotnet "$ATTACKER_DLL" capture-replay --netns "/run/netns/$NS_I" --ifaces ra,rb --port "$PROBE_PORT" \
        --seconds 11 --delays 500,10000 --from4 "$X4,$A_SRC,$B_SRC,$ELSE4" --from6 "$X6,$B6_SRC,$ELSE6" --out "$RUN/captured" \
        >"$RUN/capture.log" 2>&1 &
    local cap=$!
    PIDS+=("$cap")
    wait_for 100 0.1 grep -q capturing "$RUN/capture.log" || { log "capture did not start: $(cat "$RUN/capture.log")"; return 1; }
    pause 1
    event "replay: A down (failover), the attacker captures and replays"
    a_down
    pause 4
    event "replay: A up (failback)"
    a_up
    # Failback takes the hold-down (400 ms) and a probe or two: from then on no path has a reason to go down.
    H_REP_BACK=$(($(now_ms) + 2000))
    wait_pid "$cap"
    H_REP_TO=$(now_ms)
    H_REP_OUT=$(tail -n 1 "$RUN/capture.log")
    log "capture-replay: $H_REP_OUT"
}

# One flood measured: a ping over the tunnel meanwhile, the CPU of the wg-routed with PID (and, for the 2 s before, its
# idle CPU), the UDP receive buffer errors in namespace NS; the attack is the command after NAME and SECS.
# Sets FLOOD_OUT (the attacker's summary), FLOOD_FROM, FLOOD_TO, FLOOD_CPU, FLOOD_IDLE_CPU, FLOOD_RCVBUF,
# FLOOD_PING_REPLIES, FLOOD_PING_LOST.
flooded() { # PID NS NAME SECS COMMAND ...
    local pid=$1 ns=$2 name=$3 secs=$4 hz c0 c1 i0 i1 e0 e1 busy pinger
    shift 4
    hz=$(getconf CLK_TCK)
    rx ping -D -n -i 0.02 -W 1 -c $(((secs + 4) * 50)) -w $((secs + 5)) $TUN_P >"$RUN/ping-$name.log" 2>&1 &
    pinger=$!
    PIDS+=("$pinger")
    i0=$(cpu_ticks "$pid")
    pause 2
    i1=$(cpu_ticks "$pid")
    e0=$(ip netns exec "$ns" awk '/^Udp:/ && ++n == 2 { print $6 }' /proc/net/snmp)
    FLOOD_FROM=$(now_ms)
    c0=$(cpu_ticks "$pid")
    FLOOD_OUT=$("$@")
    c1=$(cpu_ticks "$pid")
    FLOOD_TO=$(now_ms)
    e1=$(ip netns exec "$ns" awk '/^Udp:/ && ++n == 2 { print $6 }' /proc/net/snmp)
    busy=$(grep -o 'seconds=[0-9.]*' <<<"$FLOOD_OUT" | cut -d= -f2)
    FLOOD_CPU=$(awk -v d=$((c1 - c0)) -v hz="$hz" -v s="$busy" 'BEGIN { printf "%.1f", d / hz / s * 100 }')
    FLOOD_IDLE_CPU=$(awk -v d=$((i1 - i0)) -v hz="$hz" 'BEGIN { printf "%.1f", d / hz / 2 * 100 }')
    FLOOD_RCVBUF=$((e1 - e0))
    log "$name: $FLOOD_OUT; wg-routed CPU ${FLOOD_CPU}% (idle ${FLOOD_IDLE_CPU}%), UDP receive buffer errors $FLOOD_RCVBUF"
    # Loss is detected after LossThreshold probes 250 ms apart: the window runs 1.5 s past the flood.
    pause 1.5
    wait_pid "$pinger"
    read -r FLOOD_PING_REPLIES FLOOD_PING_LOST <<<"$(ping_gaps "$RUN/ping-$name.log" "$FLOOD_FROM" "$FLOOD_TO")"
}

h_flood() {
    local rate=${LAB_H_FLOOD_RATE:-10000} secs=${LAB_H_FLOOD_S:-10}
    event "flood: $rate/s bad-MAC requests claiming the router's key from $A_SRC for $secs s"
    flooded "${WGR_PIDS[1]}" "$NS_P" flood "$secs" \
        attack flood --to $PEER4:$PROBE_PORT --from $A_SRC --sender "$RPUB" --rate "$rate" --seconds "$secs"
    H_FLOOD_OUT=$FLOOD_OUT H_FLOOD_FROM=$FLOOD_FROM H_FLOOD_TO=$FLOOD_TO H_FLOOD_CPU=$FLOOD_CPU
    H_FLOOD_IDLE_CPU=$FLOOD_IDLE_CPU H_FLOOD_RCVBUF=$FLOOD_RCVBUF
    H_FLOOD_PING_REPLIES=$FLOOD_PING_REPLIES H_FLOOD_PING_LOST=$FLOOD_PING_LOST
}

# The same flood turned on the router's prober: its probe socket on A (bound to A and upa, on a port of its own that any
# capture of its probes shows; read here from ss) gets bad-MAC datagrams claiming the hub's key. They come from inet,
# A's own uplink network (the attacker's namespace holds A's address to spoof it), from inet's address there. The
# probes' answers from the hub arrive on that socket among them.
h_flood_prober() {
    local router=${WGR_PIDS[0]} rate=${LAB_H_FLOOD_RATE:-10000} secs=${LAB_H_FLOOD_S:-10} port
    port=$(rx ss -Hunap | awk -v pid="pid=$router," -v a="$A_SRC" -v pp=":$PROBE_PORT" \
        'index($0, pid) && (index($4, a "%") == 1 || index($4, a ":") == 1) && substr($4, length($4) - length(pp) + 1) != pp {
            n = split($4, f, ":"); print f[n]; exit }')
    [[ -n $port ]] || { log "prober flood: wg-routed has no socket on $A_SRC: $(rx ss -Hunap | grep "pid=$router," | head -n 5)"; return 1; }
    event "prober flood: $rate/s bad-MAC datagrams claiming the hub's key from $A_GW to the router's probe socket $A_SRC:$port for $secs s"
    flooded "$router" "$NS_R" pflood "$secs" \
        wgr_attacker "$NS_I" flood --to $A_SRC:$port --from $A_GW --sender "$PPUB" --rate "$rate" --seconds "$secs"
    H_PFLOOD_OUT=$FLOOD_OUT H_PFLOOD_FROM=$FLOOD_FROM H_PFLOOD_TO=$FLOOD_TO H_PFLOOD_CPU=$FLOOD_CPU
    H_PFLOOD_IDLE_CPU=$FLOOD_IDLE_CPU H_PFLOOD_RCVBUF=$FLOOD_RCVBUF
    H_PFLOOD_PING_REPLIES=$FLOOD_PING_REPLIES H_PFLOOD_PING_LOST=$FLOOD_PING_LOST
}

h_hijack() {
    H_HIJ_FROM=$(now_ms)
    start_fence_sampler 30
    ip netns exec "$NS_C" ping -D -n -i 0.02 -W 1 -c 1500 -w 30 $TUN_P >"$RUN/ping-c.log" 2>&1 &
    local pinger=$!
    PIDS+=("$pinger")
    pause 1
    local key=(--key "$RUN/router.key" --peer "$PPUB" --to "$PEER4:$PROBE_PORT")
    event "hijack: moves from C's address for C's endpoint $C4:51820"
    H_HIJ_ONTO_C=$(attack move "${key[@]}" --from $C4 --requested $C4:51820 --count 5 --interval-ms 100)
    pause 0.5
    event "hijack: a move from C's address for another port of it ($C4:51830)"
    attack move "${key[@]}" --from $C4 --requested $C4:51830 >/dev/null
    # The router's keepalive (every 2 s) roams its endpoint back before the next attempt.
    pause 2.5
    H_HIJ_ROAM_FROM=$(now_ms)
    local r
    for r in 1 2 3; do
        event "hijack: handshake initiations with the router's key from C's endpoint, then a move from the attacker ($r/3)"
        attack roam --key "$RUN/router.key" --peer "$PPUB" --to $PEER4:51820 --from $C4:51820 --count 12 --interval-ms 100 >/dev/null
        attack move "${key[@]}" --from $X4 --requested $X4:51820 >/dev/null
    done
    pause 1
    kill -INT "$pinger" 2>/dev/null || true
    wait_pid "$pinger"
    H_HIJ_TRAP_FROM=$(now_ms)
    read -r H_HIJ_C_SENT H_HIJ_C_RECV < <(awk '/packets transmitted/ { print $1, $4 }' "$RUN/ping-c.log")
    H_HIJ_C_LOST=$(ping_lost "$RUN/ping-c.log")
    log "hijack: C's pings $H_HIJ_C_RECV/$H_HIJ_C_SENT answered, $H_HIJ_C_LOST lost"

    ip netns exec "$NS_C" ping -D -n -i 0.02 -W 1 -c 400 -w 8 $TUN_P >"$RUN/ping-c2.log" 2>&1 &
    pinger=$!
    PIDS+=("$pinger")
    pause 0.5
    event "hijack: a move onto $C4:51831 (nobody's endpoint), 150 ms later one onto the attacker's $X4:51820"
    # One process: the router's own wg-routed re-asserts its endpoint a few hundred ms after a foreign move.
    attack move "${key[@]}" --from "$C4,$X4" --requested "$C4:51831,$X4:51820" --interval-ms 150 >/dev/null
    # Longer than a fence lives (Fences.Lifetime, 2 s): what rewrites C's new source after this outlived its switch.
    pause 3
    H_HIJ_PORT_AT=$(now_ms)
    event "hijack: C's WireGuard port changes to 51831 (a NAT rebinding)"
    ip netns exec "$NS_C" wg set "$WG_C" listen-port 51831
    wait_pid "$pinger"
    H_HIJ_TO=$(now_ms)
    H_HIJ_FENCES_LEFT=$(px nft -j list table inet wgrouted 2>/dev/null | jq '[.nftables[] | select(.map) | .map.elem[]?] | length')
    read -r H_HIJ_C2_SENT H_HIJ_C2_RECV < <(awk '/packets transmitted/ { print $1, $4 }' "$RUN/ping-c2.log")
    H_HIJ_C2_LOST=$(ping_lost "$RUN/ping-c2.log")
    log "hijack: after C's port change, C's pings $H_HIJ_C2_RECV/$H_HIJ_C2_SENT answered, $H_HIJ_C2_LOST lost"
}

h_burst() {
    H_BURST_FROM=$(now_ms)
    event "burst: the whole capture again within 1 s from every source"
    H_BURST_OUT=$(attack burst --in "$RUN/captured" --from4 "$X4,$A_SRC,$B_SRC,$ELSE4" --from6 "$X6,$B6_SRC,$ELSE6" --within-ms 1000)
    H_BURST_TO=$(now_ms)
    log "burst: $H_BURST_OUT"
    pause 2
}

h_restart() {
    local i
    H_RST_PERSISTED=$(awk -v k="$RPUB" '$1 == k { print $2 }' "$RUN/wgrouted-peer/moves" 2>/dev/null)
    event "restart: the hub's wg-routed stopped"
    restart_wgrouted peer "$NS_P"
    H_RST_UP=never
    local t0
    t0=$(now_ms)
    for ((i = 0; i < 60; i++)); do
        if wgr_attacker "$NS_R" probe --key "$RUN/router.key" --peer "$PPUB" --to $PEER4:$PROBE_PORT --from $A_SRC --timeout-ms 500 >/dev/null 2>&1; then
            H_RST_UP=$(($(now_ms) - t0))
            break
        fi
        sleep 0.5
    done
    event "restart: the hub answers again after $H_RST_UP ms; captured moves forged with fresh timestamps"
    H_RST_FROM=$(now_ms)
    H_RST_FORGED=$(attack forge --key "$RUN/router.key" --peer "$PPUB" --in "$RUN/captured")
    log "forged: $H_RST_FORGED"
    pause 1
    H_RST_FORGED_TO=$(now_ms)
    event "restart: one new move (from B, for B)"
    H_RST_NEW=$(attack move --key "$RUN/router.key" --peer "$PPUB" --to $PEER4:$PROBE_PORT --from $B_SRC --requested $B_SRC:51820 |
        grep -o 'sequences=[0-9]*' | cut -d= -f2)
    pause 1
    H_RST_TO=$(now_ms)
}

scenario_h() {
    [[ ${WGROUTED:-0} == 1 && -x ${WGROUTED_BIN:-} ]] || { log "scenario h needs WGROUTED=1 and WGROUTED_BIN"; return 1; }
    attacker_build
    security_up
    local hub_log=$RUN/wgrouted-peer.log
    start_endpoint_sampler 240
    h_malformed
    h_replay
    h_flood
    h_flood_prober
    h_burst
    h_hijack
    # The counts of the old process are in its summaries only: one more before it stops.
    wait_summary "$hub_log" "$H_HIJ_TO"
    h_restart
    wait_summary "$RUN/wgrouted-peer.log" "$H_RST_TO"
    dump_events router
    dump_events peer
    local before=$RUN/wgrouted-peer.before-restart.log after=$RUN/wgrouted-peer.log ev_r=$RUN/events-router.json ev_p=$RUN/events-peer.json

    local r
    r=$(refusals_between "$before" "$H_MAL_FROM" "$H_MAL_TO")
    result h-malformed "$H_MAL_SENT" "$(grep -o 'answered=[a-z]*' <<<"$H_MAL_PROBE")" \
        "$(grep -o 'rtt_ms=[0-9.]*' <<<"$H_MAL_PROBE" || echo rtt_ms=none)" \
        "refused_port0=$(refused "$r" port0) refused_truncated=$(refused "$r" truncated)" \
        "refused_oversized=$(refused "$r" oversized) refused_bad_version=$(refused "$r" bad_version)"

    r=$(refusals_between "$before" "$H_REP_FROM" "$H_REP_TO")
    local own='^(198[.]18[.]1[.]2|198[.]18[.]2[.]2|[[]fd00:2::2[]]):51820$' k total=0
    for k in replayed move_not_newer stale future move_from_elsewhere sender_over_rate over_budget; do total=$((total + $(refused "$r" $k))); done
    result h-replay "$(sed 's/ send_errors=/ replay_send_errors=/' <<<"$H_REP_OUT")" \
        "endpoints_seen=$(endpoints_of "$RPUB" "$H_REP_FROM" "$H_REP_TO")" \
        "foreign_endpoint_samples=$(samples_matching "$RPUB" "$H_REP_FROM" "$H_REP_TO" "$own" not)" \
        "refused_replayed=$(refused "$r" replayed) refused_move_not_newer=$(refused "$r" move_not_newer) refused_stale=$(refused "$r" stale)" \
        "refused_move_from_elsewhere=$(refused "$r" move_from_elsewhere) refused_sender_over_rate=$(refused "$r" sender_over_rate)" \
        "refused_replay_total=$total" \
        "router_paths_down_after_failback=$(count_events "$ev_r" PathWentDown "$H_REP_BACK" "$H_REP_TO")"

    r=$(refusals_between "$before" "$H_FLOOD_FROM" "$H_FLOOD_TO")
    local end=$((H_FLOOD_TO + 1500))
    result h-flood "$H_FLOOD_OUT" "refused_bad_mac=$(refused "$r" bad_mac) refused_over_budget=$(refused "$r" over_budget)" \
        "paths_down=$(count_events "$ev_r" PathWentDown "$H_FLOOD_FROM" "$end")" \
        "switches=$(count_events "$ev_r" EndpointSwitchDecided "$H_FLOOD_FROM" "$end")" \
        "unreachable=$(count_events "$ev_r" PeerUnreachable "$H_FLOOD_FROM" "$end")" \
        "hub_cpu_pct=$H_FLOOD_CPU hub_cpu_idle_pct=$H_FLOOD_IDLE_CPU hub_udp_rcvbuf_errors=$H_FLOOD_RCVBUF" \
        "tunnel_ping_replies=$H_FLOOD_PING_REPLIES tunnel_ping_lost=$H_FLOOD_PING_LOST"

    r=$(refusals_between "$RUN/wgrouted-router.log" "$H_PFLOOD_FROM" "$H_PFLOOD_TO" Prober)
    end=$((H_PFLOOD_TO + 1500))
    result h-flood-prober "$H_PFLOOD_OUT" "refused_bad_mac=$(refused "$r" bad_mac)" \
        "paths_down=$(count_events "$ev_r" PathWentDown "$H_PFLOOD_FROM" "$end")" \
        "switches=$(count_events "$ev_r" EndpointSwitchDecided "$H_PFLOOD_FROM" "$end")" \
        "unreachable=$(count_events "$ev_r" PeerUnreachable "$H_PFLOOD_FROM" "$end")" \
        "router_cpu_pct=$H_PFLOOD_CPU router_cpu_idle_pct=$H_PFLOOD_IDLE_CPU router_udp_rcvbuf_errors=$H_PFLOOD_RCVBUF" \
        "tunnel_ping_replies=$H_PFLOOD_PING_REPLIES tunnel_ping_lost=$H_PFLOOD_PING_LOST"

    r=$(refusals_between "$before" "$H_HIJ_FROM" "$H_HIJ_TO")
    local cep="$C4:51820" c4="${C4//./[.]}" rules longest timeout
    read -r rules longest timeout <<<"$(fence_lifetimes)"
    result h-hijack "c_pings_sent=${H_HIJ_C_SENT:-0} c_pings_lost=${H_HIJ_C_LOST:-unknown}" \
        "c_endpoints=$(endpoints_of "$CPUB" "$H_HIJ_FROM" "$H_HIJ_TRAP_FROM")" \
        "moves_for_c_endpoint=$(grep -o '^sent=[0-9]*' <<<"$H_HIJ_ONTO_C" | cut -d= -f2)" \
        "refused_move_to_another_peers_endpoint=$(refused "$r" move_to_another_peers_endpoint)" \
        "followed_onto_c_endpoint=$(count_events "$ev_p" MoveFollowed "$H_HIJ_FROM" "$H_HIJ_TO" ".data.requested == \"$cep\"")" \
        "followed_onto_c_address_other_port=$(count_events "$ev_p" MoveFollowed "$H_HIJ_FROM" "$H_HIJ_TO" ".data.requested == \"$C4:51830\"")" \
        "router_endpoint_c_samples_before_roam=$(samples_matching "$RPUB" "$H_HIJ_FROM" "$H_HIJ_ROAM_FROM" "^$c4:51820\$")" \
        "router_endpoint_c_samples_roaming=$(samples_matching "$RPUB" "$H_HIJ_ROAM_FROM" "$H_HIJ_TRAP_FROM" "^$c4:51820\$")" \
        "moves_with_previous_c_endpoint=$(count_events "$ev_p" MoveFollowed "$H_HIJ_ROAM_FROM" "$H_HIJ_TRAP_FROM" ".data.previous == \"$cep\"")" \
        "fences_on_c_endpoint_samples=$(fence_samples "$H_HIJ_FROM" "$H_HIJ_PORT_AT" "saddr $c4 udp sport 51820 ")" \
        "fence_rules=$rules fence_longest_ms=$longest fence_max_timeout_s=$timeout fences_left_at_end=${H_HIJ_FENCES_LEFT:-unknown}" \
        "trap_fence_samples=$(fence_samples "$H_HIJ_TRAP_FROM" "$H_HIJ_TO" "saddr $c4 udp sport 51831 ")" \
        "trap_fence_samples_after_port_change=$(fence_samples "$H_HIJ_PORT_AT" "$H_HIJ_TO" "saddr $c4 udp sport 51831 ")" \
        "c_endpoint_on_attacker_samples=$(samples_matching "$CPUB" "$H_HIJ_PORT_AT" "$H_HIJ_TO" "^${X4//./[.]}:")" \
        "c_pings_sent_after_port_change=${H_HIJ_C2_SENT:-0} c_pings_lost_after_port_change=${H_HIJ_C2_LOST:-unknown}"

    r=$(refusals_between "$before" "$H_BURST_FROM" "$H_BURST_TO")
    end=$((H_BURST_TO + 2000))
    result h-burst "$(sed 's/ send_errors=/ burst_send_errors=/' <<<"$H_BURST_OUT")" \
        "refused_replayed=$(refused "$r" replayed) refused_stale=$(refused "$r" stale) refused_move_not_newer=$(refused "$r" move_not_newer)" \
        "refused_sender_over_rate=$(refused "$r" sender_over_rate)" \
        "paths_down=$(count_events "$ev_r" PathWentDown "$H_BURST_FROM" "$end")" \
        "switches=$(count_events "$ev_r" EndpointSwitchDecided "$H_BURST_FROM" "$end")" \
        "unreachable=$(count_events "$ev_r" PeerUnreachable "$H_BURST_FROM" "$end")"

    r=$(refusals_between "$after" "$H_RST_FROM" "$H_RST_TO")
    local forged seqs
    forged=$(grep -o 'forged=[0-9]*' <<<"$H_RST_FORGED" | cut -d= -f2)
    seqs=$(grep -o 'moves=[^ ]*' <<<"$H_RST_FORGED" | cut -d= -f2 | tr ',' '\n' | cut -d@ -f1 | paste -sd, -)
    result h-restart "answering_again_ms=$H_RST_UP forged=${forged:-0} persisted_sequence=${H_RST_PERSISTED:-none}" \
        "forged_max_sequence=$(tr ',' '\n' <<<"$seqs" | sort -n | tail -n 1)" \
        "refused_move_not_newer=$(refused "$r" move_not_newer) refused_other=$(($(refused "$r" replayed) + $(refused "$r" stale) + $(refused "$r" move_from_elsewhere)))" \
        "forged_followed=$(count_events "$ev_p" MoveFollowed "$H_RST_FROM" "$H_RST_TO" "(.data.sequence | tostring) as \$s | \"$seqs\" | split(\",\") | any(. == \$s)")" \
        "new_move_followed=$(count_events "$ev_p" MoveFollowed "$H_RST_FORGED_TO" "$H_RST_TO" ".data.sequence == ${H_RST_NEW:-0}")"
    lab_down
}
