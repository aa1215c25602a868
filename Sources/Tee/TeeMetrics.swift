import Metrics

/// The proxy's metrics (swift-metrics; the executable bootstraps Prometheus).
///
/// Names: `statetee_proxy_sessions`, `statetee_proxy_relayed_total{upstream}`,
/// `statetee_proxy_suppressed_total`, `statetee_proxy_mirrored_total`,
/// `statetee_proxy_mirror_dropped_total`, `statetee_proxy_mirror_gaps_total`,
/// `statetee_proxy_mirror_queue_depth`, `statetee_proxy_upstream_healthy{upstream}`,
/// `statetee_proxy_switchovers_total{action,outcome}`.
struct TeeMetrics: Sendable {
    let sessions = Meter(label: "statetee_proxy_sessions")
    let relayedLegacy = Counter(label: "statetee_proxy_relayed_total", dimensions: [("upstream", "legacy")])
    let relayedEngine = Counter(label: "statetee_proxy_relayed_total", dimensions: [("upstream", "engine")])
    let suppressed = Counter(label: "statetee_proxy_suppressed_total")
    let mirrored = Counter(label: "statetee_proxy_mirrored_total")
    let dropped = Counter(label: "statetee_proxy_mirror_dropped_total")
    let gaps = Counter(label: "statetee_proxy_mirror_gaps_total")
    let queueDepth = Gauge(label: "statetee_proxy_mirror_queue_depth")
    let healthyLegacy = Gauge(label: "statetee_proxy_upstream_healthy", dimensions: [("upstream", "legacy")])
    let healthyEngine = Gauge(label: "statetee_proxy_upstream_healthy", dimensions: [("upstream", "engine")])

    func relayed(_ upstream: UpstreamID) -> Counter { upstream == .legacy ? relayedLegacy : relayedEngine }
    func healthy(_ upstream: UpstreamID) -> Gauge { upstream == .legacy ? healthyLegacy : healthyEngine }

    func switchover(action: String, outcome: String) {
        Counter(label: "statetee_proxy_switchovers_total", dimensions: [("action", action), ("outcome", outcome)]).increment()
    }
}
