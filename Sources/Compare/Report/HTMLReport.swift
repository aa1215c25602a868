import Foundation
import JSONDiff
import JSONValue

/// The report as one self-contained HTML page (inline CSS and SVG, no
/// script, nothing fetched): open it in any browser, attach it to a ticket.
public enum HTMLReport {
    public static func render(_ report: Report) -> String {
        typealias F = ReportFormatting
        let t = report.totals
        let r = report.readiness
        var h: [String] = []
        h.append("<!DOCTYPE html>")
        h.append("<html lang=\"en\">")
        h.append("<head>")
        h.append("<meta charset=\"utf-8\">")
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.append("<title>StateTee comparison report, \(escape(F.isoTime(report.generatedAt)))</title>")
        h.append("<style>\(css)</style>")
        h.append("</head>")
        h.append("<body>")
        h.append("<header>")
        h.append("<h1>StateTee comparison report</h1>")
        let window = report.since.map { "since " + F.isoTime($0) } ?? "all recorded data"
        h.append("<p class=\"meta\">Generated \(escape(F.isoTime(report.generatedAt))) · window: \(escape(window))</p>")
        h.append("</header>")

        // Verdict
        let verdictClass = r.ready ? "verdict ready" : "verdict not-ready"
        h.append("<section class=\"\(verdictClass)\" id=\"verdict\">")
        h.append("<h2>\(r.ready ? "Ready for switchover" : "Not ready for switchover")</h2>")
        if r.ready {
            h.append("<p>\(escape(r.description))</p>")
        } else {
            h.append("<ul>" + r.reasons.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        }
        h.append("<p class=\"counts\"><span>\(r.consecutiveClean) / \(r.settings.minConsecutiveClean) consecutive clean comparisons</span>"
            + "<span>\(r.fullGamesObserved) full game\(r.fullGamesObserved == 1 ? "" : "s") compared clean"
            + "\(r.settings.requireFullGame ? " (one required)" : "")</span></p>")
        h.append(report.hasUnexpectedDivergences
            ? "<p class=\"exit bad\">\(t.unexpectedDivergences) unexpected divergence\(t.unexpectedDivergences == 1 ? "" : "s") · exit status 1</p>"
            : "<p class=\"exit good\">No unexpected divergence · exit status 0</p>")
        h.append("</section>")

        // Totals
        h.append("<section id=\"totals\">")
        h.append("<h2>Totals</h2>")
        h.append("<div class=\"tiles\">")
        func tile(_ label: String, _ value: String, _ cls: String = "") {
            h.append("<div class=\"tile \(cls)\"><div class=\"value\">\(escape(value))</div><div class=\"label\">\(escape(label))</div></div>")
        }
        tile("events mirrored", "\(t.eventsMirrored)")
        tile("comparisons", "\(t.comparisons)")
        tile("clean share", t.cleanShare.map(F.percent) ?? "n/a", (t.cleanShare ?? 1) < 1 ? "warn" : "good")
        tile("unexpected divergences", "\(t.unexpectedDivergences)", t.unexpectedDivergences > 0 ? "bad" : "good")
        tile("accepted divergences", "\(t.acceptedDivergences)", t.acceptedDivergences > 0 ? "warn" : "")
        tile("gaps", "\(t.gaps)", t.gaps > 0 ? "bad" : "")
        h.append("</div>")
        h.append("<table class=\"facts\"><tbody>")
        var facts: [(String, String)] = [
            ("Comparisons by kind", "\(F.count(t.eventComparisons, "event")) · \(F.count(t.rangeComparisons, "range")) · \(F.count(t.reconciliations, "reconciliation")) · \(F.count(t.resyncComparisons, "resync"))"),
            ("Comparisons by outcome", "\(t.cleanComparisons) clean · \(t.acceptedComparisons) accepted only · \(t.divergentComparisons) divergent · \(t.unverifiedComparisons) not judged"),
            ("Ignored / within tolerance (counted, not listed)", "\(t.ignoredDifferences) / \(t.toleratedDifferences)"),
            ("Primary values adopted into the shadow", "\(t.adoptedValues)"),
            ("Shadow resyncs", "\(t.resyncs)"),
            ("Events lost in gaps", "\(t.eventsLost)"),
        ]
        if let first = t.firstComparisonAt, let last = t.lastComparisonAt {
            facts.append(("First / last comparison", "\(F.isoTime(first)) / \(F.isoTime(last))"))
        }
        for (k, v) in facts { h.append("<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>") }
        h.append("</tbody></table>")
        h.append("</section>")

        // Timeline
        h.append("<section id=\"timeline\">")
        h.append("<h2>Timeline</h2>")
        h.append(TimelineSVG.render(report.timeline))
        h.append("</section>")

        // By path / by event
        h.append("<section id=\"by-path\" class=\"half\">")
        h.append("<h2>Divergences by path</h2>")
        h.append(tallyTable(report.divergencesByPath, header: "Path"))
        h.append("</section>")
        h.append("<section id=\"by-event\" class=\"half\">")
        h.append("<h2>Divergences by event</h2>")
        h.append(tallyTable(report.divergencesByEvent, header: "Event"))
        h.append("</section>")

        // By triggering event
        h.append("<section id=\"by-trigger\">")
        h.append("<h2>Divergences by triggering event</h2>")
        if report.divergentEvents.isEmpty {
            h.append("<p class=\"none\">None.</p>")
        } else {
            h.append("<table><thead><tr><th class=\"num\">Seq</th><th>Event</th><th>Client</th><th>Payload</th>"
                + "<th>Blame</th><th class=\"num\">Unexpected</th><th class=\"num\">Accepted</th><th>Paths</th></tr></thead><tbody>")
            for d in report.divergentEvents {
                let name = d.event.map { "<code>\(escape($0.name))</code>" } ?? "(not stored)"
                let client = d.event.map { escape($0.clientRole) } ?? ""
                let payload = d.event.map { "<code>\(escape(F.compact($0.payload, limit: 80)))</code>" } ?? ""
                let paths = d.paths.map { "<code>\(escape($0))</code>" }.joined(separator: " ")
                h.append("<tr><td class=\"num\">\(d.sequence)</td><td>\(name)</td><td>\(client)</td><td>\(payload)</td>"
                    + "<td>\(d.blame.rawValue)</td><td class=\"num\">\(d.unexpected)</td><td class=\"num\">\(d.accepted)</td>"
                    + "<td>\(paths)</td></tr>")
            }
            h.append("</tbody></table>")
            if report.divergentEventCount > report.divergentEvents.count {
                h.append("<p>\(report.divergentEventCount - report.divergentEvents.count) more events not listed.</p>")
            }
        }
        h.append("</section>")

        // Known
        h.append("<section id=\"known\">")
        h.append("<h2>Known divergences (accepted)</h2>")
        if report.knownDivergences.isEmpty {
            h.append("<p class=\"none\">None.</p>")
        } else {
            h.append("<table><thead><tr><th>Id</th><th class=\"num\">Count</th><th>Reason</th></tr></thead><tbody>")
            for k in report.knownDivergences {
                h.append("<tr><td><code>\(escape(k.id))</code></td><td class=\"num\">\(k.count)</td><td>\(escape(k.reason))</td></tr>")
            }
            h.append("</tbody></table>")
        }
        h.append("</section>")

        // Worst
        h.append("<section id=\"worst\">")
        h.append("<h2>Worst divergences</h2>")
        if report.worst.isEmpty { h.append("<p class=\"none\">None.</p>") }
        for (i, w) in report.worst.enumerated() {
            let d = w.example
            let bad = w.classification == .unexpected
            h.append("<article class=\"divergence \(bad ? "unexpected" : "accepted")\">")
            h.append("<h3><span class=\"rank\">\(i + 1)</span><code>\(escape(w.path))</code>"
                + "<span class=\"badge \(bad ? "bad" : "warn")\">\(bad ? "unexpected" : "accepted: " + escape(w.knownID ?? "?"))</span>"
                + "<span class=\"times\">\(w.occurrences)×</span></h3>")
            var lines: [(String, String)] = [
                ("Kind", "\(d.kind) · source: \(d.source.rawValue)" + (d.sessionID.map { " · session \($0)" } ?? "")),
                ("Seen", w.firstSeen == w.lastSeen ? F.isoTime(w.firstSeen)
                    : "first \(F.isoTime(w.firstSeen)) · last \(F.isoTime(w.lastSeen))"),
                ("Triggered by", MarkdownReport.blameLine(w).replacingOccurrences(of: "`", with: "")
                    .replacingOccurrences(of: "Triggering events: ", with: "").replacingOccurrences(of: "Triggering event: ", with: "")),
            ]
            if let reason = d.reason { lines.append(("Accepted because", reason)) }
            if let detail = d.detail { lines.append(("Detail", detail)) }
            if let c = w.comparison {
                lines.append(("Comparison", "\(c.label) at \(F.isoTime(c.time))" + (c.resynced ? "; the shadow was resynced" : "")))
            }
            h.append("<table class=\"facts\"><tbody>")
            for (k, v) in lines { h.append("<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>") }
            if let e = w.event, d.blame != .none {
                h.append("<tr><th>Payload</th><td><pre>\(escape(e.payload.map { F.prettyJSON($0) } ?? "(none)"))</pre></td></tr>")
            }
            h.append("</tbody></table>")
            h.append("<div class=\"sides\">")
            h.append("<div class=\"side\"><div class=\"side-title\">Primary</div><pre>\(escape(d.primaryValue.map { F.prettyJSON($0) } ?? "(absent)"))</pre></div>")
            h.append("<div class=\"side\"><div class=\"side-title\">Shadow</div><pre>\(escape(d.shadowValue.map { F.prettyJSON($0) } ?? "(absent)"))</pre></div>")
            h.append("</div>")
            h.append("</article>")
        }
        h.append("</section>")

        // Gaps
        h.append("<section id=\"gaps\">")
        h.append("<h2>Gaps</h2>")
        if report.gaps.isEmpty {
            h.append("<p class=\"none\">None: the shadow received every mirrored event.</p>")
        } else {
            h.append("<table><thead><tr><th>Time</th><th>Sequences</th><th class=\"num\">Events lost</th></tr></thead><tbody>")
            for g in report.gaps {
                h.append("<tr><td>\(escape(F.isoTime(g.time)))</td><td>\(g.fromSequence)…\(g.toSequence)</td><td class=\"num\">\(g.count)</td></tr>")
            }
            h.append("</tbody></table>")
        }
        h.append("</section>")
        h.append("<footer>StateTee · times in UTC · this page is self-contained</footer>")
        h.append("</body>")
        h.append("</html>")
        return h.joined(separator: "\n") + "\n"
    }

    static func tallyTable(_ tallies: [DivergenceTally], header: String) -> String {
        guard !tallies.isEmpty else { return "<p class=\"none\">None.</p>" }
        var rows = ["<table><thead><tr><th>\(escape(header))</th><th class=\"num\">Unexpected</th><th class=\"num\">Accepted</th></tr></thead><tbody>"]
        for t in tallies {
            rows.append("<tr><td><code>\(escape(t.key))</code></td><td class=\"num\(t.unexpected > 0 ? " bad" : "")\">\(t.unexpected)</td><td class=\"num\">\(t.accepted)</td></tr>")
        }
        rows.append("</tbody></table>")
        return rows.joined(separator: "\n")
    }

    /// Escapes text for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static let css = """
        :root{--fg:#1d2329;--muted:#5f6b76;--line:#d8dee4;--bg:#f6f8fa;--good:#1a7f37;--bad:#c62828;--warn:#b26a00;--grey:#8c959f}
        *{box-sizing:border-box}
        body{font:15px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);margin:0 auto;max-width:1160px;padding:24px 28px 48px}
        h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
        h3{font-size:16px;margin:0 0 8px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
        .meta,.none,footer{color:var(--muted)}footer{margin-top:36px;font-size:13px}
        code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
        pre{margin:0;white-space:pre-wrap;word-break:break-word}
        table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:top}
        thead th{background:var(--bg);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}td.bad{color:var(--bad);font-weight:600}
        table.facts th{width:260px;color:var(--muted);font-weight:500}
        .verdict{border-radius:8px;padding:6px 18px 10px;margin:18px 0;border:2px solid}
        .verdict h2{border:none;margin:10px 0 6px}.verdict.ready{border-color:var(--good);background:#eaf7ee}.verdict.ready h2{color:var(--good)}
        .verdict.not-ready{border-color:var(--bad);background:#fdeeee}.verdict.not-ready h2{color:var(--bad)}
        .verdict ul{margin:4px 0 8px 20px;padding:0}.counts span{margin-right:22px;color:var(--muted)}
        .exit{font-weight:600}.exit.bad{color:var(--bad)}.exit.good{color:var(--good)}
        .tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:10px;margin:8px 0 14px}
        .tile{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
        .tile .value{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums}.tile .label{color:var(--muted);font-size:13px}
        .tile.bad .value{color:var(--bad)}.tile.warn .value{color:var(--warn)}.tile.good .value{color:var(--good)}
        .half{display:inline-block;width:49%;vertical-align:top}.half+.half{margin-left:1.5%}
        article.divergence{border:1px solid var(--line);border-left:5px solid var(--bad);border-radius:6px;padding:12px 14px;margin:14px 0}
        article.divergence.accepted{border-left-color:var(--warn)}
        .rank{background:var(--fg);color:#fff;border-radius:10px;padding:0 8px;font-size:13px}
        .badge{font-size:12px;border-radius:10px;padding:1px 8px;color:#fff}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}
        .times{color:var(--muted);font-weight:500}
        .sides{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin-top:10px}
        .side{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;max-height:360px}
        .side-title{font-weight:600;font-size:13px;color:var(--muted);margin-bottom:4px;text-transform:uppercase;letter-spacing:.04em}
        svg{max-width:100%;height:auto}svg text{font:12px -apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#57606a}
        @media (max-width:800px){.tiles{grid-template-columns:repeat(2,1fr)}.half{display:block;width:100%;margin:0!important}.sides{grid-template-columns:1fr}}
        """
}
