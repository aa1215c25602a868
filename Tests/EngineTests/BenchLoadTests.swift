import Foundation
import JSONValue
import StateTeeTesting
import Testing

/// `statetee bench load` end to end against a real `statetee engine` it starts itself: the
/// JSON it writes, and that `--rate` paces the clients instead of running a closed loop.
/// (What is measured lives in BENCHMARKS.md; these only check the benchmark works.)
@Suite(.timeLimit(.minutes(1))) struct BenchLoadTests {
    private func bench(_ extra: [String], in directory: String) async throws -> JSONValue {
        let output = directory + "/load.json"
        let arguments = [
            "bench", "load", "--targets", "engine", "--clients", "2", "--duration", "1s", "--warmup", "200ms",
            "--event", "request_game_state", "--json", output, "--repo", Processes.root,
        ] + extra
        try await withTestProcess(try TestEnvironment.stateteeBinary(repositoryRoot: Processes.root), arguments) { process in
            let status = try await process.waitForExit(timeout: .seconds(45))
            #expect(status == 0, "\(process.stderr)")
        }
        return try JSONValue(parsing: String(decoding: try Data(contentsOf: URL(fileURLWithPath: output)), as: UTF8.self))
    }

    @Test func pacedClientsOfferTheRateAndNoMore() async throws {
        try await withTemporaryDirectory { directory in
            // Two clients offering 20 events a second together, for a one-second window
            let report = try await bench(["--rate", "20"], in: directory)
            #expect(report["rate_per_s"]?.doubleValue == 20)
            let run = try #require(report["runs"]?[0])
            #expect(run["target"] == "engine" && run["clients"] == 2)
            // About 20 answered (an engine answers thousands a second in a closed loop)
            let completed = try #require(run["completed"]?.intValue)
            #expect((12...28).contains(completed), "\(run)")
            #expect(run["disconnects"] == 0)
            #expect((run["p99_ms"]?.doubleValue ?? .infinity) < 1000)
        }
    }

    @Test func aClosedLoopIsTheDefault() async throws {
        try await withTemporaryDirectory { directory in
            let report = try await bench([], in: directory)
            #expect(report["rate_per_s"] == .null)
            let run = try #require(report["runs"]?[0])
            // Far more than a paced run's 20 in the same window
            #expect((run["completed"]?.intValue ?? 0) > 100, "\(run)")
        }
    }
}
