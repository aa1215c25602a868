import Foundation
import JSONValue

/// The report as Markdown (GitHub flavour): for a terminal, a pull request
/// or a ticket.
public enum MarkdownReport {
    public static func render(_ report: Report) -> String {
        typealias F = ReportFormatting
        var out: [String] = []
        let t = report.totals
        out.append("# StateTee comparison report")
        out.append("")
        let window = report.since.map { "since \(F.isoTime($0))" } ?? "all recorded data"
        out.append("Generated \(F.isoTime(report.generatedAt)) · window: \(window)")
        out.append("")

        out.append("## Verdict")
        out.append("")
        let r = report.readiness
        out.append(r.ready ? "**Ready for switchover.** \(r.description)" : "**Not ready for switchover.**")
        for reason in r.reasons { out.append("- \(reason)") }
        out.append("")
        out.append(report.hasUnexpectedDivergences
            ? "**\(t.unexpectedDivergences) unexpected divergence\(t.unexpectedDivergences == 1 ? "" : "s")** (exit status 1)."
            : "No unexpected divergence (exit status 0).")
        out.append("")

        out.append("## Totals")
        out.append("")
        out.append("| | |")
        out.append("|---|---:|")
        var rows: [(String, String)] = [
            ("Events mirrored", "\(t.eventsMirrored)"),
            ("Comparisons", "\(t.comparisons) (\(F.count(t.eventComparisons, "event")), \(F.count(t.rangeComparisons, "range")), "
                + "\(F.count(t.reconciliations, "reconciliation")), \(F.count(t.resyncComparisons, "resync")))"),
            ("Clean share", t.cleanShare.map {
                "\(F.percent($0)) (\(t.cleanComparisons + t.acceptedComparisons) of \(t.comparisons))"
            } ?? "n/a"),
            ("Clean / accepted only / divergent / not judged",
             "\(t.cleanComparisons) / \(t.acceptedComparisons) / \(t.divergentComparisons) / \(t.unverifiedComparisons)"),
            ("Unexpected divergences", "\(t.unexpectedDivergences)"),
            ("Accepted divergences", "\(t.acceptedDivergences)"),
            ("Ignored / within tolerance (counted)", "\(t.ignoredDifferences) / \(t.toleratedDifferences)"),
            ("Primary values adopted", "\(t.adoptedValues)"),
            ("Shadow resyncs", "\(t.resyncs)"),
            ("Gaps", "\(t.gaps) (\(t.eventsLost) events lost)"),
        ]
        if let first = t.firstComparisonAt, let last = t.lastComparisonAt {
            rows.append(("First / last comparison", "\(F.isoTime(first)) / \(F.isoTime(last))"))
        }
        for (name, value) in rows { out.append("| \(cell(name)) | \(cell(value)) |") }
        out.append("")

        out.append("## Timeline")
        out.append("")
        if report.timeline.buckets.isEmpty {
            out.append("No comparison in the window.")
        } else {
            let symbols = report.timeline.buckets.map { b -> String in
                if b.unexpected > 0 { return "X" }
                if b.unverified > 0 { return "?" }
                if b.accepted > 0 { return "a" }
                return b.clean > 0 ? "." : " "
            }.joined()
            out.append("```text")
            out.append("\(F.clockTime(report.timeline.start!)) |\(symbols)| \(F.clockTime(report.timeline.end!)) UTC")
            out.append("```")
            out.append("")
            out.append("One column per \(report.timeline.buckets.count == 1 ? "window" : "slice of the window") "
                + "(`.` clean, `a` accepted only, `X` unexpected, `?` not judged, blank: none).")
        }
        out.append("")

        out.append("## Divergences by path")
        out.append("")
        out.append(contentsOf: tallyTable(report.divergencesByPath, header: "Path"))
        out.append("")
        out.append("## Divergences by event")
        out.append("")
        out.append(contentsOf: tallyTable(report.divergencesByEvent, header: "Event"))
        out.append("")

        out.append("## Divergences by triggering event")
        out.append("")
        if report.divergentEvents.isEmpty {
            out.append("None.")
        } else {
            out.append("| Seq | Event | Client | Payload | Blame | Unexpected | Accepted | Paths |")
            out.append("|---:|---|---|---|---|---:|---:|---|")
            for d in report.divergentEvents {
                let name = d.event.map { code($0.name) } ?? "(not stored)"
                let client = d.event.map { cell($0.clientRole) } ?? ""
                let payload = d.event.map { code(F.compact($0.payload, limit: 80)) } ?? ""
                out.append("| \(d.sequence) | \(name) | \(client) | \(payload) | \(d.blame.rawValue) | \(d.unexpected) | "
                    + "\(d.accepted) | \(d.paths.map(code).joined(separator: " "))\(d.paths.count == 8 ? " ..." : "") |")
            }
            if report.divergentEventCount > report.divergentEvents.count {
                out.append("")
                out.append("\(report.divergentEventCount - report.divergentEvents.count) more events not listed.")
            }
        }
        out.append("")

        out.append("## Known divergences (accepted)")
        out.append("")
        if report.knownDivergences.isEmpty {
            out.append("None.")
        } else {
            out.append("| Id | Count | Reason |")
            out.append("|---|---:|---|")
            for k in report.knownDivergences { out.append("| \(code(k.id)) | \(k.count) | \(cell(k.reason)) |") }
        }
        out.append("")

        out.append("## Worst divergences")
        out.append("")
        if report.worst.isEmpty {
            out.append("None.")
            out.append("")
        }
        for (i, w) in report.worst.enumerated() {
            let d = w.example
            let cls = w.classification == .unexpected ? "unexpected" : "accepted (\(w.knownID ?? "?"))"
            out.append("### \(i + 1). \(code(w.path)): \(cls), \(w.occurrences) time\(w.occurrences == 1 ? "" : "s")")
            out.append("")
            out.append("- Kind: \(d.kind) · source: \(d.source.rawValue)"
                + (d.sessionID.map { " · session \(code($0))" } ?? "")
                + (w.firstSeen == w.lastSeen ? " · seen \(F.isoTime(w.firstSeen))"
                    : " · first seen \(F.isoTime(w.firstSeen)) · last seen \(F.isoTime(w.lastSeen))"))
            if let reason = d.reason { out.append("- Reason accepted: \(reason)") }
            out.append("- " + blameLine(w))
            if let e = w.event, d.blame != .none {
                out.append("- Payload: \(code(F.compact(e.payload)))")
            }
            if let detail = d.detail { out.append("- Detail: \(detail)") }
            if let c = w.comparison {
                out.append("- Comparison \(c.label) at \(F.isoTime(c.time))" + (c.resynced ? "; the shadow was resynced" : ""))
            }
            out.append("")
            out.append("| | Primary | Shadow |")
            out.append("|---|---|---|")
            out.append("| value | \(code(F.compact(d.primaryValue, limit: 400))) | \(code(F.compact(d.shadowValue, limit: 400))) |")
            out.append("")
        }

        out.append("## Gaps")
        out.append("")
        if report.gaps.isEmpty {
            out.append("None: the shadow received every mirrored event.")
        } else {
            out.append("| Time | Sequences | Events lost |")
            out.append("|---|---|---:|")
            for g in report.gaps {
                out.append("| \(F.isoTime(g.time)) | \(g.fromSequence)...\(g.toSequence) | \(g.count) |")
            }
        }
        out.append("")
        return out.joined(separator: "\n")
    }

    static func blameLine(_ w: Report.WorstDivergence) -> String {
        let d = w.example
        switch d.blame {
        case .none:
            let after = w.event.map { "#\($0.sequence) \(code($0.name))" } ?? "#\(d.sequence)"
            return "Triggering event: none (drift found by a reconciliation after event \(after))"
        case .event, .range:
            var line = d.blame == .range
                ? "Triggering events: a range, not told apart; its first is "
                : "Triggering event: "
            if let e = w.event {
                line += "#\(e.sequence) \(code(e.name)) from session \(code(e.sessionID)) (\(e.clientRole)) "
                    + "at \(ReportFormatting.isoTime(e.receivedAt))"
            } else {
                line += "#\(d.sequence) (not stored)"
            }
            if d.blame == .range, !w.rangeEvents.isEmpty {
                line += "; range: " + w.rangeEvents.map { "#\($0.sequence) \(code($0.name))" }.joined(separator: ", ")
            }
            return line
        }
    }

    static func tallyTable(_ tallies: [DivergenceTally], header: String) -> [String] {
        guard !tallies.isEmpty else { return ["None."] }
        var lines = ["| \(header) | Unexpected | Accepted |", "|---|---:|---:|"]
        for t in tallies { lines.append("| \(code(t.key)) | \(t.unexpected) | \(t.accepted) |") }
        return lines
    }

    /// Text in a table cell: pipes escaped, one line.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    /// Inline code that survives backticks and pipes inside tables.
    static func code(_ text: String) -> String {
        let oneLine = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|")
        var fence = "`"
        while oneLine.contains(fence) { fence += "`" }
        let pad = oneLine.hasPrefix("`") || oneLine.hasSuffix("`") ? " " : ""
        return fence + pad + oneLine + pad + fence
    }
}
