import JSONValue

/// The report as JSON, for CI: stable keys in a fixed order, two-space
/// indentation, times in UTC ISO 8601. `exit_status` is what
/// `statetee report` exits with.
public enum JSONReport {
    public static let formatName = "statetee-report"
    public static let formatVersion = 1

    public static func render(_ report: Report) -> String {
        ReportFormatting.prettyJSON(document(report)) + "\n"
    }

    public static func document(_ report: Report) -> JSONValue {
        typealias F = ReportFormatting
        let t = report.totals
        var totals: JSONObject = [:]
        totals["events_mirrored"] = .int(t.eventsMirrored)
        totals["comparisons"] = .int(t.comparisons)
        totals["comparisons_by_kind"] = [
            "event": .int(t.eventComparisons), "range": .int(t.rangeComparisons),
            "reconciliation": .int(t.reconciliations), "resync": .int(t.resyncComparisons),
        ]
        totals["comparisons_by_outcome"] = [
            "clean": .int(t.cleanComparisons), "accepted": .int(t.acceptedComparisons),
            "unexpected": .int(t.divergentComparisons), "unverified": .int(t.unverifiedComparisons),
        ]
        totals["clean_share"] = t.cleanShare.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null
        totals["unexpected_divergences"] = .int(t.unexpectedDivergences)
        totals["accepted_divergences"] = .int(t.acceptedDivergences)
        totals["ignored_differences"] = .int(t.ignoredDifferences)
        totals["tolerated_differences"] = .int(t.toleratedDifferences)
        totals["adopted_values"] = .int(t.adoptedValues)
        totals["resyncs"] = .int(t.resyncs)
        totals["gaps"] = .int(t.gaps)
        totals["events_lost"] = .int(t.eventsLost)
        totals["first_comparison_at"] = t.firstComparisonAt.map { .string(F.isoTime($0)) } ?? .null
        totals["last_comparison_at"] = t.lastComparisonAt.map { .string(F.isoTime($0)) } ?? .null
        totals["last_compared_sequence"] = .int(Int(t.lastComparedSequence))

        func tallies(_ list: [DivergenceTally]) -> JSONValue {
            .array(list.map { ["key": .string($0.key), "unexpected": .int($0.unexpected), "accepted": .int($0.accepted)] })
        }

        var o: JSONObject = [:]
        o["format"] = .string(formatName)
        o["version"] = .int(formatVersion)
        o["generated_at"] = .string(F.isoTime(report.generatedAt))
        o["since"] = report.since.map { .string(F.isoTime($0)) } ?? .null
        o["exit_status"] = .int(Int(report.exitStatus))
        o["verdict"] = report.readiness.json
        o["totals"] = .object(totals)
        o["divergences_by_path"] = tallies(report.divergencesByPath)
        o["divergences_by_event"] = tallies(report.divergencesByEvent)
        o["divergent_events"] = .array(report.divergentEvents.map { d in
            var item: JSONObject = [:]
            item["sequence"] = .int(Int(d.sequence))
            item["event"] = d.event.map(F.eventJSON) ?? .null
            item["blame"] = .string(d.blame.rawValue)
            item["unexpected"] = .int(d.unexpected)
            item["accepted"] = .int(d.accepted)
            item["paths"] = .array(d.paths.map(JSONValue.string))
            return .object(item)
        })
        o["divergent_event_count"] = .int(report.divergentEventCount)
        o["known_divergences"] = .array(report.knownDivergences.map {
            ["id": .string($0.id), "reason": .string($0.reason), "count": .int($0.count)]
        })
        o["worst_divergences"] = .array(report.worst.map { w in
            var item: JSONObject = [:]
            item["path"] = .string(w.path)
            item["class"] = .string(w.classification.rawValue)
            item["known_id"] = w.knownID.map(JSONValue.string) ?? .null
            item["occurrences"] = .int(w.occurrences)
            item["first_seen"] = .string(F.isoTime(w.firstSeen))
            item["last_seen"] = .string(F.isoTime(w.lastSeen))
            item["example"] = F.divergenceJSON(w.example)
            item["event"] = w.event.map(F.eventJSON) ?? .null
            item["comparison"] = w.comparison.map(F.comparisonJSON) ?? .null
            item["range_events"] = .array(w.rangeEvents.map(F.eventJSON))
            return .object(item)
        })
        o["gaps"] = .array(report.gaps.map {
            [
                "from_sequence": .int(Int($0.fromSequence)), "to_sequence": .int(Int($0.toSequence)),
                "count": .int($0.count), "time": .string(F.isoTime($0.time)),
            ]
        })
        var timeline: JSONObject = [:]
        timeline["start"] = report.timeline.start.map { .string(F.isoTime($0)) } ?? .null
        timeline["end"] = report.timeline.end.map { .string(F.isoTime($0)) } ?? .null
        timeline["buckets"] = .array(report.timeline.buckets.map { b in
            [
                "start": .string(F.isoTime(b.start)), "end": .string(F.isoTime(b.end)), "clean": .int(b.clean),
                "accepted": .int(b.accepted), "unexpected": .int(b.unexpected), "unverified": .int(b.unverified),
            ]
        })
        timeline["gaps"] = .array(report.timeline.gapTimes.map { .string(F.isoTime($0)) })
        o["timeline"] = .object(timeline)
        return .object(o)
    }
}
