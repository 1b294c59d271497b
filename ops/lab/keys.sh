# shellcheck shell=bash  # sourced by ops/lab/run after lib.sh
# Scenario k: the router's WireGuard key is rotated under a running wg-routed; the probe keys must follow.
#
# The router's wg-routed keeps running: its poller sees the device's new key and derives the probe keys again.
# The hub learns the router's new key the way an operator would tell it: `wg set` for WireGuard, and its
# wg-routed's configuration (which names the router's key) edited and the daemon restarted. Then A goes down:
# only a router whose probes are answered again (keys re-derived) fails over at once; with the old keys every MAC
# fails, every path is unusable and the tunnel waits for WireGuard's own handshake retries.

scenario_k() {
    [[ ${WGROUTED:-0} == 1 ]] || { log "scenario k needs WGROUTED=1 (it tests wg-routed's keys)"; return 1; }
    lab_up
    [[ $MODE == wgrouted ]] || { log "wg-routed did not start"; return 1; }
    (umask 077 && wg genkey >"$RUN/router-new.key")
    local new old=$RPUB
    new=$(wg pubkey <"$RUN/router-new.key")
    event "router's key rotated: $old -> $new"
    px wg set "$WG_P" peer "$new" allowed-ips $TUN_R/32,fd00:99::1/128 persistent-keepalive "$KEEPALIVE"
    px wg set "$WG_P" peer "$old" remove
    rx wg set "$WG_R" private-key "$RUN/router-new.key"
    sed -i "s|$old|$new|" "$RUN/wgrouted-peer.json"
    restart_wgrouted peer "$NS_P"
    local rotated
    rotated=$(now_ms)
    wait_for 100 0.1 rx ping -c1 -W1 $TUN_P || { log "the tunnel did not come back after the rotation"; return 1; }
    local tunnel_back=$(($(now_ms) - rotated))
    # The hub's restarted wg-routed and a round of standby probes.
    pause "${LAB_K_SETTLE:-6}"

    local hold=${LAB_K_HOLD:-8} after=${LAB_K_AFTER:-4}
    local total=$((2 + hold + after))
    start_sampler $total
    start_ping $total
    local t0 fail restore
    t0=$(now_ms)
    pause 2
    fail=$(now_ms)
    event "A down (routes withdrawn)"
    a_down
    pause "$hold"
    event "A up"
    a_up
    restore=$(now_ms)
    wait_pid "$PINGER"
    wait_pid "$SAMPLER"
    timeline "$t0"
    local rederived=no
    grep -q "has a new key ($new)" "$RUN/wgrouted-router.log" && rederived=yes
    read -r sent recv outage between first <<<"$(ping_stats "$fail" "$restore" "$fail")"
    result k "keys_rederived=$rederived" "tunnel_back_after_rotation_ms=$tunnel_back" "failover_ms=$(first_on_backup "$fail")" \
        "outage_ms=$outage" "back_on_primary_ms=$(back_on_primary "$restore")" "ping_sent=$sent ping_recv=$recv"
    lab_down
}
