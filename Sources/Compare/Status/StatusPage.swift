import Foundation
import JSONDiff

/// The live status page of the admin port (`/`): mode, readiness and the
/// latest divergences. One self-contained HTML page that reloads itself.
/// The proxy serves it; this renders it.
public enum StatusPage {
    /// - Parameters:
    ///   - mode: what the proxy is doing (`legacy primary, engine shadow`, `switching over`, ...).
    ///   - facts: extra lines from the proxy (roles, upstream health, queue depth, shadow lag).
    ///   - refreshSeconds: how often the page reloads (`nil`: never).
    public static func render(
        status: ComparatorStatus, mode: String, facts: [(String, String)] = [], generatedAt: Date,
        refreshSeconds: Int? = 5
    ) -> String {
        typealias F = ReportFormatting
        let e = HTMLReport.escape
        let r = status.readiness
        var h: [String] = []
        h.append("<!DOCTYPE html>")
        h.append("<html lang=\"en\"><head><meta charset=\"utf-8\">")
        if let refreshSeconds { h.append("<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">") }
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        h.append("<title>StateTee status</title><style>\(HTMLReport.css)</style></head><body>")
        h.append("<header><h1>StateTee</h1><p class=\"meta\">\(e(mode)) · \(e(F.isoTime(generatedAt)))</p></header>")
        h.append("<section class=\"verdict \(r.ready ? "ready" : "not-ready")\" id=\"verdict\">")
        h.append("<h2>\(r.ready ? "Ready for switchover" : "Not ready for switchover")</h2>")
        h.append(r.ready ? "<p>\(e(r.description))</p>" : "<ul>" + r.reasons.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
        h.append("</section>")
        h.append("<section id=\"counters\"><div class=\"tiles\">")
        let tiles: [(String, String, String)] = [
            ("events mirrored", "\(status.eventsMirrored)", ""),
            ("comparisons", "\(status.comparisons)", ""),
            ("consecutive clean", "\(r.consecutiveClean)", r.consecutiveClean >= r.settings.minConsecutiveClean ? "good" : "warn"),
            ("unexpected divergences", "\(status.unexpectedDivergences)", status.unexpectedDivergences > 0 ? "bad" : "good"),
            ("pending events", "\(status.pendingEvents)", ""),
            ("gaps", "\(status.gaps)", status.gaps > 0 ? "bad" : ""),
        ]
        for (label, value, cls) in tiles {
            h.append("<div class=\"tile \(cls)\"><div class=\"value\">\(e(value))</div><div class=\"label\">\(e(label))</div></div>")
        }
        h.append("</div><table class=\"facts\"><tbody>")
        var rows = facts
        rows.append(("Shadow", status.shadowReachable ? "reachable" : "unreachable"))
        rows.append(("Comparisons by outcome",
                     "\(status.cleanComparisons) clean · \(status.acceptedComparisons) accepted only · \(status.divergentComparisons) divergent · \(status.unverifiedComparisons) not judged"))
        rows.append(("Accepted divergences", "\(status.acceptedDivergences)"))
        rows.append(("Resyncs / adopted values / failures", "\(status.resyncs) / \(status.adoptedValues) / \(status.failures)"))
        rows.append(("Full games compared clean", "\(r.fullGamesObserved)"))
        rows.append(("Last sequence", "\(status.lastSequence)"))
        rows.append(("Last comparison", status.lastComparisonAt.map(F.isoTime) ?? "none yet"))
        for (k, v) in rows { h.append("<tr><th>\(e(k))</th><td>\(e(v))</td></tr>") }
        h.append("</tbody></table></section>")
        h.append("<section id=\"latest\"><h2>Latest divergences</h2>")
        if status.latestDivergences.isEmpty {
            h.append("<p class=\"none\">None.</p>")
        } else {
            h.append("<table><thead><tr><th>Time</th><th>Event</th><th>Path</th><th>Class</th><th>Primary</th><th>Shadow</th></tr></thead><tbody>")
            for latest in status.latestDivergences {
                let d = latest.divergence
                let event = latest.event.map { "#\($0.sequence) \($0.name) (\($0.clientRole) \($0.sessionID))" }
                    ?? (d.blame == .none ? "none (reconciliation)" : "#\(d.sequence)")
                let cls = d.classification == .unexpected ? "unexpected" : "accepted: \(d.knownID ?? "?")"
                h.append("<tr><td>\(e(F.clockTime(latest.time)))</td><td>\(e(event))</td><td><code>\(e(d.path))</code></td>"
                    + "<td class=\"\(d.classification == .unexpected ? "bad" : "")\">\(e(cls))</td>"
                    + "<td><code>\(e(F.compact(d.primaryValue, limit: 120)))</code></td><td><code>\(e(F.compact(d.shadowValue, limit: 120)))</code></td></tr>")
            }
            h.append("</tbody></table>")
        }
        h.append("</section><footer>Metrics: <code>/metrics</code> · times in UTC</footer></body></html>")
        return h.joined(separator: "\n") + "\n"
    }
}
