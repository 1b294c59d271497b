# shellcheck shell=bash disable=SC2034  # sourced by ops/lab/run after lib.sh
# Scenario f: babeld chooses between two tunnels, WgRouted keeps each on a working path.
#
#   router (wgr<ID>r)  upa/upb to inet as in the other scenarios
#   peer 1 (wgr<ID>p)  pe0 198.18.3.2/24 fd00:3::2/64   (inet's pp)
#   peer 2 (wgr<ID>q)  qe0 198.18.4.2/24 fd00:4::2/64   (inet's qq)
#   tunnels: router wgr<ID>r1 198.19.1.1/30 fe80::1 <-> peer 1 wgr<ID>p1 198.19.1.2/30 fe80::2
#            router wgr<ID>r2 198.19.2.1/30 fe80::1 <-> peer 2 wgr<ID>q2 198.19.2.2/30 fe80::2
#   both peers announce 198.19.100.1/32 (on lo) with babeld; the router prefers peer 1 (an `in` filter adds 160 to
#   routes over peer 2's tunnel).
# babeld runs in all three with its default 4 s hellos; its control socket is a unix path in the run directory.

ANYCAST=198.19.100.1 PEER2_4=198.18.4.2 PEER2_6=fd00:4::2

babel_up() {
    ID=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
    NS_R=wgr${ID}r NS_I=wgr${ID}i NS_P=wgr${ID}p NS_Q=wgr${ID}q
    WG_R=wgr${ID}r1 WG_R2=wgr${ID}r2 WG_P=wgr${ID}p1 WG_Q=wgr${ID}q2
    EXTRA_NS=("$NS_Q")
    EXTRA_WG=("$WG_R2" "$WG_Q")
    WGR_ROLES=(router peer peer2)
    lab_namespaces "$NS_R" "$NS_I" "$NS_P" "$NS_Q"
    ip link add qq netns "$NS_I" type veth peer name qe0 netns "$NS_Q"
    ip -n "$NS_I" addr add 198.18.4.1/24 dev qq
    ip -n "$NS_I" addr add fd00:4::1/64 dev qq nodad
    ip -n "$NS_I" link set qq up
    local who dev a4 a6 gw4 gw6
    for who in P Q; do
        if [[ $who == P ]]; then ns=$NS_P dev=pe0 a4=198.18.3.2 a6=fd00:3::2 gw4=198.18.3.1 gw6=fd00:3::1
        else ns=$NS_Q dev=qe0 a4=198.18.4.2 a6=fd00:4::2 gw4=198.18.4.1 gw6=fd00:4::1; fi
        ip -n "$ns" addr add $a4/24 dev $dev
        ip -n "$ns" addr add $a6/64 dev $dev nodad
        ip -n "$ns" link set $dev up
        ip -n "$ns" route add default via $gw4
        ip -n "$ns" -6 route add default via $gw6
        ip -n "$ns" addr add $ANYCAST/32 dev lo
    done
    router_uplinks
    counters_up
    babel_wireguard_up
    babel_wgrouted_up
    babel_babeld_up
    # Neighbours need a few hellos, routes an update: with 4 s hellos, up to half a minute.
    wait_for 600 0.1 babel_route_via "$WG_R" || { log "babeld did not route $ANYCAST via $WG_R"; return 1; }
    log "babeld routes $ANYCAST via $WG_R"
}

# One WireGuard interface per neighbour (babeld's hellos are multicast): allowed-ips everything, babeld routes.
babel_tunnel() { # NS IFACE KEY PEERPUB LOCAL4 LISTENPORT [ENDPOINT]
    local ns=$1 itf=$2 key=$3 pub=$4 local4=$5 port=$6 endpoint=${7:-}
    start_wg "$ns" "$itf"
    eval "WGPID_${itf}=$WG_PID"
    if [[ -n $endpoint ]]; then
        ip netns exec "$ns" wg set "$itf" listen-port "$port" private-key "$key" \
            peer "$pub" allowed-ips 0.0.0.0/0,::/0 endpoint "$endpoint" persistent-keepalive "$KEEPALIVE"
    else
        ip netns exec "$ns" wg set "$itf" listen-port "$port" private-key "$key" \
            peer "$pub" allowed-ips 0.0.0.0/0,::/0 persistent-keepalive "$KEEPALIVE"
    fi
    ip -n "$ns" addr add "$local4" dev "$itf"
    # WireGuard interfaces get no link-local address by themselves; babeld speaks from one.
    local host=${local4%%/*}
    ip -n "$ns" addr add "fe80::${host##*.}/64" dev "$itf" nodad
    # A tun device is not MULTICAST by default: babeld's hellos to ff02::1:6 would get ENETUNREACH.
    ip -n "$ns" link set "$itf" multicast on
    ip -n "$ns" link set "$itf" up
}

babel_wireguard_up() {
    (umask 077 && for k in router router2 peer peer2; do wg genkey >"$RUN/$k.key"; done)
    RPUB=$(wg pubkey <"$RUN/router.key") RPUB2=$(wg pubkey <"$RUN/router2.key")
    PPUB=$(wg pubkey <"$RUN/peer.key") QPUB=$(wg pubkey <"$RUN/peer2.key")
    babel_tunnel "$NS_P" "$WG_P" "$RUN/peer.key" "$RPUB" 198.19.1.2/30 51820
    babel_tunnel "$NS_Q" "$WG_Q" "$RUN/peer2.key" "$RPUB2" 198.19.2.2/30 51820
    babel_tunnel "$NS_R" "$WG_R" "$RUN/router.key" "$PPUB" 198.19.1.1/30 51820 "$PEER4:51820"
    babel_tunnel "$NS_R" "$WG_R2" "$RUN/router2.key" "$QPUB" 198.19.2.1/30 51822 "$PEER2_4:51820"
}

# babeld in a namespace: NAME NS ROUTERID [interface lines...]
babeld_start() {
    local name=$1 ns=$2 id=$3
    shift 3
    {
        echo "router-id $id"
        echo "local-path-readwrite $RUN/babeld-$name.sock"
        for line in "$@"; do echo "$line"; done
    } >"$RUN/babeld-$name.conf"
    ip netns exec "$ns" babeld -c "$RUN/babeld-$name.conf" -I "$RUN/babeld-$name.pid" -S "$RUN/babeld-$name.state" \
        -L "$RUN/babeld-$name.log" &
    PIDS+=($!)
    eval "BABELD_$name=$!"
    wait_for 50 0.1 test -S "$RUN/babeld-$name.sock" || { log "babeld $name did not start"; return 1; }
}

babel_babeld_up() {
    local peer=("redistribute local ip $ANYCAST/32 allow" "redistribute local deny")
    # The router's RTT samples come with the peers' IHUs (every third hello of theirs): LAB_PEER_HELLO s.
    local hello=${LAB_PEER_HELLO:-4}
    babeld_start p "$NS_P" 02:00:00:00:00:02 "interface $WG_P type tunnel hello-interval $hello" "${peer[@]}"
    babeld_start q "$NS_Q" 02:00:00:00:00:03 "interface $WG_Q type tunnel hello-interval $hello" "${peer[@]}"
    # With wg-routed, the tunnel to peer 1 is left out: wg-routed adds it (babeld refuses to start with none).
    # Peer 2 is the backup: routes learnt over its tunnel cost 160 more.
    local router=("interface $WG_R2 type tunnel" "in if $WG_R2 metric 160")
    [[ $MODE == wgrouted ]] || router=("interface $WG_R type tunnel" "${router[@]}")
    babeld_start r "$NS_R" 02:00:00:00:00:01 "${router[@]}" "redistribute local deny"
}

# The device babeld's route to the anycast address leaves by: babel_route_via DEV
babel_route_via() { rx ip -o route get $ANYCAST 2>/dev/null | grep -q "dev $1 "; }

babel_wgrouted_up() {
    MODE=stock
    [[ ${WGROUTED:-0} == 1 && -x ${WGROUTED_BIN:-} ]] || return 0
    MODE=wgrouted
    local probe=${WGROUTED_PROBE_PORT:-51821} otlp=""
    cat >"$RUN/wgrouted-router.json" <<EOC
{
  "DataDirectory": "$RUN/wgrouted-router",
  "Probe": { "Port": $probe },
  "Babel": { "Control": "unix:$RUN/babeld-r.sock", "HelloIntervalMs": ${LAB_F_HELLO_MS:-4000} },
  "Interfaces": [
    { "Name": "$WG_R", "Fwmark": "0x5157", "Babel": true,
      "Peers": [ { "PublicKey": "$PPUB", "Endpoints": ["$PEER4:51820", "[$PEER6]:51820"] } ] },
    { "Name": "$WG_R2", "Fwmark": "0x5158", "Babel": true,
      "Peers": [ { "PublicKey": "$QPUB", "Endpoints": ["$PEER2_4:51820", "[$PEER2_6]:51820"] } ] } ]
}
EOC
    local role ns pub itf
    for role in peer peer2; do
        if [[ $role == peer ]]; then ns=$NS_P pub=$RPUB itf=$WG_P; else ns=$NS_Q pub=$RPUB2 itf=$WG_Q; fi
        cat >"$RUN/wgrouted-$role.json" <<EOC
{
  "DataDirectory": "$RUN/wgrouted-$role",
  "Probe": { "Port": $probe },
  "Interfaces": [ { "Name": "$itf", "Fwmark": "0x5157", "Peers": [ { "PublicKey": "$pub", "Endpoints": [] } ] } ]
}
EOC
    done
    start_wgrouted router "$NS_R" || return 1
    start_wgrouted peer "$NS_P" || return 1
    start_wgrouted peer2 "$NS_Q" || return 1
    sleep "${WGROUTED_SETTLE:-3}"
}

# A sampler of babeld's choice: "ms dev" every 20 ms for SECONDS (bounded).
start_route_sampler() { # SECONDS
    local n=$(($1 * 50)) stop=$(($(now_ms) + $1 * 1000))
    (for ((i = 0; i < n; i++)); do
        t=$(now_ms)
        ((t < stop)) || break
        echo "$t $(rx ip -o route get $ANYCAST 2>/dev/null | grep -o 'dev [^ ]*' | cut -d' ' -f2)"
        sleep 0.02
    done) >"$RUN/routes" &
    SAMPLER=$!
}

# First sample at or after FROM_MS whose device is DEV: ms after FROM_MS, or never.
route_moved_to() { # FROM_MS DEV
    awk -v from="$1" -v dev="$2" '$1 >= from && $2 == dev { print $1 - from; found = 1; exit } END { if (!found) print "never" }' "$RUN/routes"
}

scenario_f() {
    local hold=${LAB_F_HOLD:-20} after=${LAB_F_AFTER:-10}
    babel_up
    local total=$((3 + hold + after))
    start_route_sampler $total
    # Pings to the anycast address through whichever tunnel babeld chose: one every 20 ms.
    rx ping -n -i 0.02 -W 1 -w "$total" $ANYCAST >"$RUN/ping" 2>&1 &
    PINGER=$!
    PIDS+=($PINGER)
    pause 3
    local fail restore
    fail=$(now_ms)
    event "every underlay path to peer 1 dropped in inet"
    fault_add ip daddr $PEER4 drop
    fault_add ip saddr $PEER4 drop
    fault_add ip6 daddr $PEER6 drop
    fault_add ip6 saddr $PEER6 drop
    pause "$hold"
    restore=$(now_ms)
    event "peer 1 reachable again"
    fault_clear
    wait_pid "$PINGER"
    wait_pid "$SAMPLER"
    local sent recv
    sent=$(grep -o '[0-9]* packets transmitted' "$RUN/ping" | cut -d' ' -f1)
    recv=$(grep -o '[0-9]* received' "$RUN/ping" | cut -d' ' -f1)
    result f "route_to_peer2_ms=$(route_moved_to "$fail" "$WG_R2")" "route_back_to_peer1_ms=$(route_moved_to "$restore" "$WG_R")" \
        "pings_lost=$((${sent:-0} - ${recv:-0}))" "ping_sent=${sent:-0}" "fault_window_ms=$((restore - fail))"
    if [[ $MODE == wgrouted && ${LAB_F_RESTART:-1} == 1 ]]; then
        babel_restart_babeld
        babel_restart_wireguard
    fi
    lab_down
}

# wireguard-go of the router's tunnel to peer 1 killed, the interface gone, then started and configured again as
# the operator's tooling would (keys, peer, addresses; no fwmark): how long until wg-routed has it back, marked
# (its pins select by the mark) and in babeld's dump, up.
babel_restart_wireguard() {
    local pid=WGPID_$WG_R restarted marked=never babel=never i
    kill -TERM "${!pid}" 2>/dev/null || true
    wait_pid "${!pid}"
    wait_for 50 0.1 bash -c "! ip -n $NS_R link show $WG_R" || true
    rm -f "/var/run/wireguard/$WG_R.sock"
    restarted=$(now_ms)
    babel_tunnel "$NS_R" "$WG_R" "$RUN/router.key" "$PPUB" 198.19.1.1/30 51820 "$PEER4:51820"
    for ((i = 0; i < 250; i++)); do
        if [[ $marked == never && $(rx wg show "$WG_R" fwmark 2>/dev/null) == 0x5157 ]]; then
            marked=$(($(now_ms) - restarted))
        fi
        if [[ $babel == never ]] && printf 'dump\nquit\n' | timeout 1 socat - "UNIX-CONNECT:$RUN/babeld-r.sock" 2>/dev/null | grep -q "interface $WG_R up true"; then
            babel=$(($(now_ms) - restarted))
        fi
        [[ $marked != never && $babel != never ]] && break
        sleep 0.02
    done
    result f-wireguard-restart "fwmark_back_ms=$marked" "babeld_interface_up_ms=$babel"
}

# babeld on the router killed and started again: how long until the tunnel wg-routed manages is back in its dump.
babel_restart_babeld() {
    kill -TERM "$BABELD_r" 2>/dev/null || true
    wait_pid "$BABELD_r"
    local restarted back
    rm -f "$RUN/babeld-r.sock"
    restarted=$(now_ms)
    ip netns exec "$NS_R" babeld -c "$RUN/babeld-r.conf" -I "$RUN/babeld-r.pid" -S "$RUN/babeld-r.state" -L "$RUN/babeld-r.log" &
    BABELD_r=$!
    PIDS+=($BABELD_r)
    wait_for 100 0.02 test -S "$RUN/babeld-r.sock" || { log "babeld did not restart"; return 0; }
    back=never
    for ((i = 0; i < 250; i++)); do
        if printf 'dump\nquit\n' | timeout 1 socat - "UNIX-CONNECT:$RUN/babeld-r.sock" 2>/dev/null | grep -q "interface $WG_R "; then
            back=$(($(now_ms) - restarted))
            break
        fi
        sleep 0.02
    done
    result f-babeld-restart "interface_back_ms=$back"
}

# babeld's RTT for the tunnel to peer 1 (ms), from its dump; empty when it has none.
babel_rtt() {
    printf 'dump\nquit\n' | timeout 1 socat - "UNIX-CONNECT:$RUN/babeld-r.sock" 2>/dev/null |
        awk -v itf="$WG_R" '$2 == "neighbour" && $0 ~ (" if " itf " ") { for (i = 1; i < NF; i++) if ($i == "rtt") print $(i + 1) }' | head -n 1
}

# The median of five readings 0.4 s apart: babeld stamps hellos in user space, so one reading on a loaded machine can
# be a scheduling delay, not the path.
babel_rtt_median() {
    local i r rs=()
    for ((i = 0; i < 5; i++)); do
        r=$(babel_rtt)
        [[ -n $r ]] && rs+=("$r")
        if ((i < 4)); then sleep 0.4; fi
    done
    if ((${#rs[@]} > 0)); then
        printf '%s\n' "${rs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
    fi
}

# PathMismatch events the router's wg-routed stored so far: "count first-at".
mismatches() {
    "$WGROUTED_BIN" events --config "$RUN/wgrouted-router.json" --peer "$PPUB" --json 2>/dev/null |
        jq -r '[.[] | select(.type == "PathMismatch")] | "\(length) \(.[0].at // "-")"'
}

# Until babeld's RTT is below MS (or TRIES × 0.2 s pass): the time it took, or never.
wait_rtt_below() { # MS TRIES START_MS
    local i r
    for ((i = 0; i < $2; i++)); do
        r=$(babel_rtt)
        if [[ -n $r ]] && (($(echo "$r < $1" | bc) == 1)); then echo $(($(now_ms) - $3)); return; fi
        sleep 0.2
    done
    echo never
}

# g: babeld's RTT follows the underlay path wg-routed keeps the tunnel on, and the witness. Uplink B is 20 ms each
# way slower (DelayRelay); wg-routed adds the tunnel with 1 s hellos and rtt-decay 128 (90 % in 10 s).
scenario_g() {
    [[ ${WGROUTED:-0} == 1 ]] || { log "scenario g needs WGROUTED=1"; return 1; }
    local delay=${LAB_DELAY_MS:-20}
    relay_build
    LAB_F_HELLO_MS=1000 LAB_PEER_HELLO=1 babel_up
    ip netns exec "$NS_I" dotnet "$RELAY_DLL" dly0 dly1 "$delay" 4096 >"$RUN/relay.log" 2>&1 &
    PIDS+=($!)
    wait_for 100 0.1 ip -n "$NS_I" link show dly1 || { log "delay relay did not start"; return 1; }
    local d
    for d in dly0 dly1; do ip -n "$NS_I" link set $d up; done
    ip -n "$NS_I" route add default dev dly0 table 201
    ip -n "$NS_I" route add default dev dly1 table 202
    ip -n "$NS_I" -6 route add default dev dly0 table 201
    ip -n "$NS_I" -6 route add default dev dly1 table 202
    splice add B
    # Steady on A: babeld's RTT settles near the probes' (a few ms here; under 10 even on a loaded machine, where B's
    # is 40 ms and more).
    local steady on_b back wrong t
    t=$(now_ms)
    steady=$(wait_rtt_below 10 150 "$t")
    local on_a
    on_a=$(babel_rtt_median)
    event "A dropped upstream: the tunnel fails over to the delayed uplink B"
    fault_add ip saddr $A_SRC drop
    fault_add ip daddr $A_SRC drop
    pause "${LAB_G_HOLD:-15}"
    on_b=$(babel_rtt_median)
    event "A back: wg-routed fails back; babeld's RTT must follow to A's"
    fault_clear
    t=$(now_ms)
    back=$(wait_rtt_below 10 150 "$t")
    read -r quiet _ <<<"$(mismatches)"
    # Deliberately wrong: upstream, the tunnel's packets from A are steered through the delay line while the probes
    # (their own port) are not: the tunnel runs 20 ms slower than the path wg-routed measures and thinks it is on.
    event "the tunnel's packets (not the probes) delayed behind wg-routed's back"
    ix nft add table inet wgrwrong
    ix nft add chain inet wgrwrong pre '{ type filter hook prerouting priority mangle; policy accept; }'
    ix nft add rule inet wgrwrong pre iifname ra ip saddr $A_SRC udp dport 51820 meta mark set 0x77
    ip -n "$NS_I" rule add fwmark 0x77 lookup 201 pref 99
    t=$(now_ms)
    wrong=never
    local i n first
    for ((i = 0; i < 300; i++)); do
        read -r n first <<<"$(mismatches)"
        if ((n > quiet)); then wrong=$(($(now_ms) - t)); break; fi
        sleep 0.2
    done
    local rtt_wrong
    rtt_wrong=$(babel_rtt)
    ip -n "$NS_I" rule del fwmark 0x77 lookup 201 pref 99
    ix nft delete table inet wgrwrong
    result g "babel_rtt_on_A_ms=${on_a:-none}" "babel_rtt_on_B_ms=${on_b:-none}" "babel_rtt_back_on_A_after_ms=$back" \
        "settled_on_A_after_ms=$steady" "mismatches_while_right=$quiet" "witness_fired_after_ms=$wrong" "babel_rtt_when_fired_ms=${rtt_wrong:-none}"
    lab_down
}
