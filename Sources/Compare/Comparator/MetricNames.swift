/// The Prometheus names of StateTee's comparison metrics, in one place. The
/// comparator updates all but the last two; the proxy sets
/// ``shadowLagSeconds`` and ``mirrorQueueDepth``.
public enum MetricNames {
    /// Counter: client events mirrored.
    public static let eventsMirrored = "statetee_events_mirrored_total"
    /// Counter, dimension ``kindDimension``: comparisons recorded.
    public static let comparisons = "statetee_comparisons_total"
    /// Counter, dimension ``classDimension`` (`unexpected`, `accepted`): divergences recorded.
    public static let divergences = "statetee_divergences_total"
    /// Counter: times the shadow was reloaded from the primary.
    public static let resyncs = "statetee_resyncs_total"
    /// Counter: primary values adopted into the shadow.
    public static let adoptedValues = "statetee_adopted_values_total"
    /// Counter: mirror-queue gaps.
    public static let gaps = "statetee_gaps_total"
    /// Counter, dimension ``operationDimension``: state reads, shadow writes
    /// or store writes that failed.
    public static let failures = "statetee_comparator_failures_total"
    /// Timer: how long a comparison took.
    public static let comparisonDuration = "statetee_comparison_duration_seconds"
    /// Gauge: consecutive clean comparisons.
    public static let consecutiveClean = "statetee_consecutive_clean_comparisons"
    /// Gauge: 1 when the readiness gate passes, else 0.
    public static let ready = "statetee_ready"
    /// Gauge (set by the proxy): how far the shadow is behind, in seconds.
    public static let shadowLagSeconds = "statetee_shadow_lag_seconds"
    /// Gauge (set by the proxy): events waiting in the mirror queue.
    public static let mirrorQueueDepth = "statetee_mirror_queue_depth"

    public static let kindDimension = "kind"
    public static let classDimension = "class"
    public static let operationDimension = "operation"
}
