import Metrics

/// The comparator's metric handles, made once (see ``MetricNames``).
struct ComparatorMetrics: Sendable {
    let eventsMirrored: Counter
    let comparisons: [ComparisonEntry.Kind: Counter]
    let unexpected: Counter
    let accepted: Counter
    let resyncs: Counter
    let adoptedValues: Counter
    let gaps: Counter
    let duration: Metrics.Timer
    let consecutiveClean: Gauge
    let ready: Gauge
    private let failures: [String: Counter]

    static let failureOperations = ["read_primary", "read_shadow", "load_shadow", "patch_shadow", "store"]

    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        eventsMirrored = Counter(label: MetricNames.eventsMirrored, factory: factory)
        var comparisons: [ComparisonEntry.Kind: Counter] = [:]
        for kind in ComparisonEntry.Kind.allCases {
            comparisons[kind] = Counter(
                label: MetricNames.comparisons, dimensions: [(MetricNames.kindDimension, kind.rawValue)], factory: factory)
        }
        self.comparisons = comparisons
        unexpected = Counter(
            label: MetricNames.divergences, dimensions: [(MetricNames.classDimension, "unexpected")], factory: factory)
        accepted = Counter(
            label: MetricNames.divergences, dimensions: [(MetricNames.classDimension, "accepted")], factory: factory)
        resyncs = Counter(label: MetricNames.resyncs, factory: factory)
        adoptedValues = Counter(label: MetricNames.adoptedValues, factory: factory)
        gaps = Counter(label: MetricNames.gaps, factory: factory)
        duration = Metrics.Timer(label: MetricNames.comparisonDuration, factory: factory)
        consecutiveClean = Gauge(label: MetricNames.consecutiveClean, factory: factory)
        ready = Gauge(label: MetricNames.ready, factory: factory)
        var failures: [String: Counter] = [:]
        for operation in Self.failureOperations {
            failures[operation] = Counter(
                label: MetricNames.failures, dimensions: [(MetricNames.operationDimension, operation)], factory: factory)
        }
        self.failures = failures
    }

    func failed(_ operation: String) {
        failures[operation]?.increment()
    }

    func recorded(_ comparison: ComparisonEntry, readiness: Readiness) {
        comparisons[comparison.kind]?.increment()
        let rows = comparison.unexpectedCount
        if rows > 0 { unexpected.increment(by: rows) }
        if comparison.acceptedCount > 0 { accepted.increment(by: comparison.acceptedCount) }
        if comparison.adoptedCount > 0 { adoptedValues.increment(by: comparison.adoptedCount) }
        if comparison.resynced { resyncs.increment() }
        duration.recordNanoseconds(Self.nanoseconds(comparison.duration))
        consecutiveClean.record(readiness.consecutiveClean)
        ready.record(readiness.ready ? 1 : 0)
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
