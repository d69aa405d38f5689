"""Every benchmark target, in one table: the benchmarks attach them to their figures, the runner reports them.

Per benchmark (the script's name without .py): figure name -> (comparison, value). A figure a benchmark
writes is held to the target of the same name here; `figures.write` refuses a table entry that the
benchmark does not measure, so the two cannot drift apart.
"""

from __future__ import annotations

TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "bench_bus": {
        "rtt_p99_ms": ("<", 5.0),  # one poll exchange on the 1 Mbit/s bus (issue 5)
        "cycle12_max_ms": ("<", 50.0),  # polling all 12 modules once
    },
    "bench_core": {
        "cython_samples_per_s": (">=", 10_000_000),  # CP window statistics + classification (issue 4)
        "cython_vs_twin_cpython": (">=", 50),
    },
    "bench_tick": {
        "micropython_full_p99_us": ("<=", 10_000),  # the control tick fits its 10 ms period
    },
    "bench_meter": {
        "micropython_driver_max_us": ("<=", 1000),  # the meter driver takes at most a tenth of a tick
    },
    "bench_rfid": {
        "micropython_driver_p99_us": ("<=", 100),  # the RFID reader driver: 99 % of ticks within 1 % of one
    },
    "bench_modbus": {
        "ours_vs_bare_reads": (
            ">=",
            0.7,
        ),  # the block reads, 16 clients, beside a bare pymodbus server (issue 16)
        "ours_p99_ms": ("<", 20.0),
    },
    "bench_loadmgmt": {
        "alloc_250_median_ms": (
            "<",
            5.0,
        ),  # one allocation round, 250 points on 21 stations, CPython (issue 17)
        "rounds_after_leave": ("<=", 1),  # set-points settled one round after a vehicle leaves
        "day_fuse_exceeded_samples": ("<=", 0),  # the simulated day never exceeds the fuse on any phase
        "round_250_cpu_median_ms": ("<", 5.0),  # the one set-point path's whole round, 250 points, CPU time
        "surplus_fuse_exceeded_samples": ("<=", 0),  # the surplus day never exceeds the fuse either
    },
    "bench_rest": {
        "req_per_s": (">=", 2000),  # JupiCore /data + WBM live state, 32 connections, 250 points (issue 12)
        "p99_ms": ("<", 50.0),
        "fresh_max_s": ("<", 1.0),  # the points' state stays fresh under that load
        "errors": ("<=", 0),
    },
    "bench_wbm": {
        "dashboard_load_ms": (
            "<",
            1000.0,
        ),  # first load with 250 points, Playwright navigation timing (issue 13)
        "status_load_ms": ("<", 1000.0),
        "change_visible_max_s": ("<", 1.5),  # a point's change to the dashboard showing it
    },
    "bench_release": {
        "card_to_contactor_p99_ms": ("<", 1500.0),  # card at the reader -> contactor closed (issue 14)
        "head_decision_p99_ms": ("<", 50.0),  # rfid_read seen -> the head's rfid command seen
        "lookup_p99_us": ("<", 20.0),  # one card against 500 whitelist entries
    },
    "bench_head": {
        "fresh_max_s": ("<", 1.0),  # 250 points, every one fresh on the WBM side
        "head_rss_mb": ("<", 300.0),
    },
    "bench_bridge": {
        "ours_lost": ("<=", 0),  # no QoS 1 message lost in a burst within the head's bound (issue 18)
    },
    "bench_ocpp": {
        # a module's status change -> its StatusNotification at the backend, 250 connectors (issue 15)
        "status_p99_s": ("<", 1.0),
        "replay_messages_per_s": (">=", 500),  # a 10,000-message offline queue delivered
    },
}
