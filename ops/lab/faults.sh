# shellcheck shell=bash  # sourced by ops/lab/run after lib.sh
# Scenario s: the router's PostgreSQL frozen (SIGSTOP, every process of it) for LAB_S_FROZEN s (default 60) across two
# failovers and two failbacks. Decisions must come on time (the loop never waits on the store), and once PostgreSQL
# answers again every event must be stored, each once (the daemon's local log, ids, an idempotent append).

# SIGSTOP or SIGCONT to the router's PostgreSQL: its postmaster and every child.
pg_signal() { # STOP|CONT PID
    kill -"$1" "$2" $(pgrep -P "$2") 2>/dev/null || true
}

scenario_s() {
    [[ ${WGROUTED:-0} == 1 ]] || { log "scenario s needs WGROUTED=1 (it tests wg-routed's history)"; return 1; }
    lab_up
    [[ $MODE == wgrouted ]] || { log "wg-routed did not start"; return 1; }
    # The tunnel can be up before the daemon's first start has made its PostgreSQL cluster (initdb, a few seconds).
    local pg i
    for ((i = 0; i < 300; i++)); do
        # Under pipefail a pgrep that finds nothing yet would end the script: || true.
        pg=$(pgrep -f -- "postgres -D $RUN/wgrouted-router/postgres/data " | head -n1 || true)
        [[ -n $pg ]] && grep -q "Embedded PostgreSQL started" "$RUN/wgrouted-router.log" && break
        sleep 0.1
    done
    [[ -n $pg ]] || { log "the router's PostgreSQL is not running after 30 s"; return 1; }
    local frozen=${LAB_S_FROZEN:-60}
    local total=$((frozen + 8))
    start_sampler $total
    start_ping $total
    local t0 freeze thaw fail1 back1 fail2 back2
    t0=$(now_ms)
    pause 2
    freeze=$(now_ms)
    event "router's PostgreSQL frozen (SIGSTOP, pid $pg and children)"
    pg_signal STOP "$pg"
    local step=$(((frozen - 5) / 4))
    pause "$step"; fail1=$(now_ms); event "A down (1)"; a_down
    # Back from when A's routes are (see scenario a).
    pause "$step"; event "A up (1)"; a_up; back1=$(now_ms)
    pause "$step"; fail2=$(now_ms); event "A down (2)"; a_down
    pause "$step"; event "A up (2)"; a_up; back2=$(now_ms)
    pause $((frozen - 4 * step))
    thaw=$(now_ms)
    event "router's PostgreSQL thawed (SIGCONT)"
    pg_signal CONT "$pg"
    wait_pid "$PINGER"
    wait_pid "$SAMPLER"
    timeline "$t0"
    # Everything logged during the freeze reaches the store.
    local drained=never
    for ((i = 0; i < 120; i++)); do
        if [[ ! -e $RUN/wgrouted-router/events.log ]]; then drained=$(($(now_ms) - thaw)); break; fi
        sleep 0.5
    done
    "$WGROUTED_BIN" events --config "$RUN/wgrouted-router.json" --json --limit 1000000 >"$RUN/events-router.json" 2>"$RUN/events-router.err" || true
    local from to
    from=$(date -u -d "@${freeze:0:-3}.${freeze: -3}" +%Y-%m-%dT%H:%M:%S.%3NZ)
    to=$(date -u -d "@${thaw:0:-3}.${thaw: -3}" +%Y-%m-%dT%H:%M:%S.%3NZ)
    read -r sent recv outage between first <<<"$(ping_stats "$freeze" "$thaw" "$freeze")"
    result s "frozen_s=$frozen" \
        "failover1_ms=$(first_on_backup "$fail1") back1_ms=$(back_on_primary "$back1" "$fail2")" \
        "failover2_ms=$(first_on_backup "$fail2") back2_ms=$(back_on_primary "$back2")" \
        "outage_ms=$outage ping_sent=$sent ping_recv=$recv" \
        "log_stored_after_thaw_ms=$drained" \
        "$(jq -r --arg f "$from" --arg t "$to" '
            "events_stored=\(length) switches_while_frozen=\([.[] | select(.type == "EndpointSwitchDecided" and .at >= $f and .at <= $t)] | length)" +
            " duplicate_ids=\(length - ([.[] | .id] | unique | length)) duplicate_events=\(length - ([.[] | .type + (.data | tostring)] | unique | length))"' \
            "$RUN/events-router.json" 2>/dev/null || echo "events_stored=unreadable")"
    lab_down
}

# Scenario u: the router's primary address removed from its uplink (a DHCP lease lost, an operator's mistake), later
# added again with its routes: the tunnel leaves A at once and is back on it within a second of its return.
scenario_u() {
    lab_up
    local hold=${LAB_U_HOLD:-8} after=${LAB_U_AFTER:-4}
    local total=$((3 + hold + after))
    start_sampler $total
    start_ping $total
    local t0 fail restore
    t0=$(now_ms)
    pause 3
    fail=$(now_ms)
    event "A's address removed"
    ip -n "$NS_R" addr del $A_SRC/24 dev upa
    pause "$hold"
    restore=$(now_ms)
    event "A's address and routes added again"
    ip -n "$NS_R" addr add $A_SRC/24 dev upa
    routes_a add 2>/dev/null || true
    wait_pid "$PINGER"
    wait_pid "$SAMPLER"
    timeline "$t0"
    local end
    end=$(tail -n1 "$RUN/samples" | cut -d' ' -f1)
    read -r sent recv outage between first <<<"$(ping_stats "$fail" "$restore" "$fail")"
    result u "failover_ms=$(first_on_backup "$fail")" "back_on_primary_ms=$(back_on_primary "$restore")" "outage_ms=$outage" \
        "src_during_fault=$(sources_between $((fail + 1000)) "$restore")" "final_src=$(sources_between $((end - 1000)) "$end")" \
        "ping_sent=$sent ping_recv=$recv"
    lab_down
}
