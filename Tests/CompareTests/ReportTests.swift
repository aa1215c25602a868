import Compare
import Foundation
import JSONDiff
import JSONValue
import Testing

/// Compares `actual` with `Snapshots/<name>` beside this file. With
/// `STATETEE_RECORD_SNAPSHOTS=1` in the environment, or when the file does
/// not exist, it writes `actual` there instead and records an issue, so a
/// recording run never passes by accident (as swift-argument-parser's
/// `assertSnapshot` does).
func assertSnapshot(_ actual: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    let file = directory.appendingPathComponent(name)
    let record = ProcessInfo.processInfo.environment["STATETEE_RECORD_SNAPSHOTS"] == "1"
    if record || !FileManager.default.fileExists(atPath: file.path) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try actual.write(to: file, atomically: true, encoding: .utf8)
        Issue.record("Recorded snapshot \(name); run again without STATETEE_RECORD_SNAPSHOTS", sourceLocation: sourceLocation)
        return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    guard actual != expected else { return }
    let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
    let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, e.count)
    Issue.record(
        """
        \(name) differs from its snapshot at line \(line + 1) \
        (set STATETEE_RECORD_SNAPSHOTS=1 to record it again):
        expected: \(line < e.count ? e[line] : "(end)")
          actual: \(line < a.count ? a[line] : "(end)")
        """, sourceLocation: sourceLocation)
}

/// A recorded session: a short game with an accepted Q1 range, an unexpected
/// divergence (with characters that need escaping) and a missing broadcast,
/// a gap and its resync, a drift found by a reconciliation, and the end.
func reportFixtureStore() async throws -> MemoryComparisonStore {
    let store = MemoryComparisonStore()
    func at(_ s: Double) -> Date { epoch.addingTimeInterval(s) }
    func event(_ n: Int64, _ name: String, _ payload: JSONValue? = nil, session: String = "pi", role: String = "pi")
        -> MirroredEvent
    {
        MirroredEvent(sequence: n, sessionID: session, clientRole: role, name: name,
                      arguments: payload.map { [$0] } ?? [], receivedAt: at(Double(n) * 10))
    }
    let events = [
        event(1, "start_new_game"), event(2, "set_player_name", ["player_id": 1, "name": "Alice"]),
        event(3, "deployment_roll", ["player_id": 1]),
        event(4, "update_score", ["player_id": 1, "score_type": "secondary", "value": 7], session: "phone-1", role: "phone"),
        event(5, "increment_cp", ["player_id": 1, "action": "add"], session: "phone-1", role: "phone"),
        event(6, "end_turn", ["player_id": 1], session: "phone-1", role: "phone"),
        event(7, "end_turn", ["player_id": 2], session: "phone-2", role: "phone"),
        event(8, "update_score", ["player_id": 2, "score_type": "primary", "value": 3], session: "phone-2", role: "phone"),
        event(9, "increment_cp", ["player_id": 2, "action": "add"], session: "phone-2", role: "phone"),
        event(10, "concede_game", ["player_id": 2], session: "phone-2", role: "phone"),
    ]
    try await store.recordEvents(events)
    func comparison(_ kind: ComparisonEntry.Kind, _ first: Int64, _ last: Int64, at seconds: Double,
                    unexpected: Int = 0, accepted: Int = 0, resynced: Bool = false, afterGap: Bool = false,
                    starts: Bool = false, phase: String = "game_play", adopted: Int = 0) -> ComparisonEntry {
        ComparisonEntry(
            kind: kind, firstSequence: first, lastSequence: last, time: at(seconds), duration: .milliseconds(4),
            cleanCount: 3, unexpectedCount: unexpected, acceptedCount: accepted, toleratedCount: 2,
            adoptedCount: adopted, resynced: resynced, afterGap: afterGap, startsGame: starts, phase: phase)
    }
    try await store.recordComparison(comparison(.event, 1, 1, at: 10.2, starts: true, phase: "name_entry"), divergences: [])
    try await store.recordComparison(comparison(.event, 2, 2, at: 20.2, phase: "name_entry"), divergences: [])
    try await store.recordComparison(comparison(.event, 3, 3, at: 30.2, phase: "deployment_setup", adopted: 1), divergences: [])
    try await store.recordComparison(
        comparison(.range, 4, 5, at: 50.3, accepted: 2, resynced: true),
        divergences: [
            DivergenceEntry(sequence: 4, path: "/player1/primary_score", kind: "changed", primaryValue: 7, shadowValue: 0,
                            classification: .accepted, knownID: "q1-fixed", reason: "Quirk Q1 fixed in the engine."),
            DivergenceEntry(sequence: 4, path: "/player1/secondary_score", kind: "changed", primaryValue: 0, shadowValue: 7,
                            classification: .accepted, knownID: "q1-fixed", reason: "Quirk Q1 fixed in the engine."),
        ])
    try await store.recordComparison(
        comparison(.event, 6, 6, at: 60.2, unexpected: 2, resynced: true),
        divergences: [
            DivergenceEntry(sequence: 6, path: "/status_message", kind: "changed",
                            primaryValue: "Round 1 - Player 2's Turn", shadowValue: "<script>alert('x')</script> | `tick`",
                            classification: .unexpected),
            DivergenceEntry(sequence: 6, source: .stream, sessionID: "observer", path: "stream:round_update",
                            kind: "missing", primaryValue: ["round": 2], shadowValue: nil, classification: .unexpected,
                            detail: "primary message #2 of 2; the shadow sent 1"),
        ])
    try await store.recordGap(MirrorGap(fromSequence: 7, toSequence: 8, count: 2, time: at(75)))
    try await store.recordComparison(comparison(.resync, 7, 9, at: 90.2, resynced: true, afterGap: true), divergences: [])
    try await store.recordComparison(
        comparison(.reconciliation, 9, 9, at: 95.2, unexpected: 1, resynced: true),
        divergences: [
            DivergenceEntry(sequence: 9, blame: .none, path: "/player2/cp", kind: "changed", primaryValue: 2,
                            shadowValue: 1, classification: .unexpected),
        ])
    try await store.recordComparison(comparison(.event, 10, 10, at: 100.2, phase: "game_over"), divergences: [])
    return store
}

@Suite struct ReportTests {
    let generatedAt = epoch.addingTimeInterval(3600)

    func fixtureReport() async throws -> Report {
        try await Report.build(
            from: try await reportFixtureStore(), since: nil,
            settings: ReadinessSettings(minConsecutiveClean: 2, requireFullGame: true), generatedAt: generatedAt)
    }

    @Test func totalsVerdictAndWorstDivergences() async throws {
        let report = try await fixtureReport()
        let t = report.totals
        #expect(t.eventsMirrored == 10 && t.comparisons == 8)
        #expect([t.eventComparisons, t.rangeComparisons, t.reconciliations, t.resyncComparisons] == [5, 1, 1, 1] as [Int])
        #expect([t.cleanComparisons, t.acceptedComparisons, t.divergentComparisons, t.unverifiedComparisons] == [4, 1, 2, 1] as [Int])
        #expect(t.cleanShare == 5.0 / 8.0)
        #expect(t.unexpectedDivergences == 3 && t.acceptedDivergences == 2)
        #expect(t.gaps == 1 && t.eventsLost == 2 && t.resyncs == 4 && t.adoptedValues == 1 && t.toleratedDifferences == 16)
        #expect(report.exitStatus == 1)
        // By event, through each divergence's sequence
        #expect(report.divergencesByEvent.map(\.key) == ["end_turn", "update_score", "increment_cp"])
        #expect(report.divergencesByEvent.first == DivergenceTally(key: "end_turn", unexpected: 2, accepted: 0))
        #expect(report.knownDivergences.map(\.count) == [2])
        // Unexpected first, each with its triggering event
        #expect(report.worst.map(\.path) == ["/status_message", "stream:round_update", "/player2/cp",
                                             "/player1/primary_score", "/player1/secondary_score"])
        #expect(report.worst.first?.event?.name == "end_turn")
        #expect(report.worst[2].event?.name == "increment_cp")  // the last event before the drift
        #expect(report.worst[2].example.blame == .none)
        // Readiness replayed: the unexpected divergence and the gap void the game; one clean comparison since
        #expect(!report.readiness.ready)
        #expect(report.readiness.consecutiveClean == 1 && report.readiness.fullGamesObserved == 0)
        // The timeline holds every comparison once
        #expect(report.timeline.buckets.reduce(0) { $0 + $1.total } == 8)
        #expect(report.timeline.gapTimes.count == 1)
    }

    @Test func markdownSnapshot() async throws {
        try assertSnapshot(MarkdownReport.render(try await fixtureReport()), named: "report.md")
    }

    @Test func htmlSnapshot() async throws {
        try assertSnapshot(HTMLReport.render(try await fixtureReport()), named: "report.html")
    }

    @Test func jsonSnapshot() async throws {
        try assertSnapshot(JSONReport.render(try await fixtureReport()), named: "report.json")
    }

    @Test func theHTMLIsSelfContainedAndEscaped() async throws {
        let html = HTMLReport.render(try await fixtureReport())
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("@import") && !html.contains("url("))
        #expect(html.components(separatedBy: "http").count == 2)  // the SVG namespace only
        #expect(html.contains("<svg") && html.contains("</svg>"))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
    }

    @Test func theJSONIsValidWithStableKeys() async throws {
        let text = JSONReport.render(try await fixtureReport())
        let json = try JSONValue(parsing: text)
        #expect(json.objectValue?.keys == [
            "format", "version", "generated_at", "since", "exit_status", "verdict", "totals", "divergences_by_path",
            "divergences_by_event", "divergent_events", "divergent_event_count", "known_divergences",
            "worst_divergences", "gaps", "timeline",
        ])
        // Each divergence's triggering event, in sequence order.
        #expect(json["divergent_events"]?[1]?["sequence"] == 6)
        #expect(json["divergent_events"]?[1]?["event"]?["event"] == "end_turn")
        #expect(json["divergent_events"]?[1]?["unexpected"] == 2)
        #expect(json["divergent_event_count"] == 3)
        #expect(json["exit_status"] == 1)
        #expect(json["verdict"]?["ready"] == false)
        #expect(json["worst_divergences"]?[0]?["example"]?["shadow"] == "<script>alert('x')</script> | `tick`")
        #expect(json["worst_divergences"]?[0]?["event"]?["event"] == "end_turn")
    }

    @Test func theMarkdownKeepsTablesIntact() async throws {
        let md = MarkdownReport.render(try await fixtureReport())
        // The pipe and backticks inside the shadow's value do not break the table row
        #expect(md.contains("``\"<script>alert('x')</script> \\| `tick`\"``"))
        #expect(md.contains("**Not ready for switchover.**"))
    }

    @Test func anEmptyWindowReportsNothingAndExitsZero() async throws {
        let report = try await Report.build(
            from: MemoryComparisonStore(), since: epoch, settings: ReadinessSettings(), generatedAt: generatedAt)
        #expect(report.exitStatus == 0 && report.totals.comparisons == 0 && report.totals.cleanShare == nil)
        #expect(MarkdownReport.render(report).contains("No comparison in the window."))
        #expect(HTMLReport.render(report).contains("No comparison in the window."))
        #expect(try JSONValue(parsing: JSONReport.render(report))["totals"]?["clean_share"] == .null)
    }

    @Test func sinceLimitsTheWindow() async throws {
        let report = try await Report.build(
            from: try await reportFixtureStore(), since: epoch.addingTimeInterval(55),
            settings: ReadinessSettings(minConsecutiveClean: 1, requireFullGame: false), generatedAt: generatedAt)
        #expect(report.totals.comparisons == 4)
        #expect(report.totals.unexpectedDivergences == 3)
        #expect(report.totals.gaps == 1)
        #expect(report.readiness.ready)  // the last comparison, at 100.2 s, is clean
    }

    @Test func aComparatorRunReportsItsDivergence() async throws {
        // End to end through the comparator and the memory store
        let h = Harness()
        await h.play(h.event(1, "increment_cp", ["player_id": 1, "action": "add"]), primary: set("/player1/cp", 2))
        await h.play(h.event(2, "increment_cp", ["player_id": 1, "action": "add"], session: "p1", role: "phone"),
                     primary: set("/player1/cp", 3), shadow: set("/player1/cp", 4))
        let report = try await Report.build(from: h.store, since: nil, settings: ReadinessSettings(), generatedAt: generatedAt)
        #expect(report.exitStatus == 1)
        #expect(report.worst.first?.path == "/player1/cp")
        #expect(report.worst.first?.event?.sequence == 2 && report.worst.first?.event?.sessionID == "p1")
        #expect(report.divergencesByEvent == [DivergenceTally(key: "increment_cp", unexpected: 1, accepted: 0)])
    }
}

@Suite struct ReportOptionTests {
    @Test func since() {
        let now = epoch
        #expect(ReportSince.parse("2h", now: now) == now.addingTimeInterval(-7200))
        #expect(ReportSince.parse("30m", now: now) == now.addingTimeInterval(-1800))
        #expect(ReportSince.parse("15s", now: now) == now.addingTimeInterval(-15))
        #expect(ReportSince.parse("7d", now: now) == now.addingTimeInterval(-7 * 86400))
        #expect(ReportSince.parse("1w", now: now) == now.addingTimeInterval(-604_800))
        #expect(ReportSince.parse("2025-08-01T10:00:00Z", now: now) == Date(timeIntervalSince1970: 1_754_042_400))
        #expect(ReportSince.parse("2025-08-01T10:00:00.500Z", now: now) == Date(timeIntervalSince1970: 1_754_042_400.5))
        #expect(ReportSince.parse("2025-08-01T12:00:00+02:00", now: now) == Date(timeIntervalSince1970: 1_754_042_400))
        #expect(ReportSince.parse("2025-08-01", now: now) == Date(timeIntervalSince1970: 1_754_006_400))
        for bad in ["", "h", "-2h", "2x", "yesterday", "2025-13-01", "1.5h"] {
            #expect(ReportSince.parse(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func formats() {
        #expect(ReportFormat(argument: "md") == .md && ReportFormat(argument: "Markdown") == .md)
        #expect(ReportFormat(argument: "HTML") == .html && ReportFormat(argument: "json") == .json)
        #expect(ReportFormat(argument: "pdf") == nil)
    }

    @Test func timesAreUTCAndDeterministic() {
        #expect(ReportFormatting.isoTime(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ReportFormatting.isoTime(Date(timeIntervalSince1970: 1_754_042_400.25)) == "2025-08-01T10:00:00.250Z")
        #expect(ReportFormatting.isoTime(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(ReportFormatting.isoTime(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(ReportFormatting.percent(5.0 / 8.0) == "62.5%")
        #expect(ReportFormatting.duration(.milliseconds(1250)) == "1.250 s")
    }
}
