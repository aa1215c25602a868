import Foundation
import JSONValue
import StateTeeTesting

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real processes for the parity and crash tests: the `statetee engine`
/// binary, the legacy fixture and the session replayer.
enum Processes {
    static let root = TestEnvironment.repositoryRoot()
    static var python: String { TestEnvironment.python(repositoryRoot: root) }
    static let controlToken = "engine-process-tests"

    /// `statetee engine` on 127.0.0.1, port 0, with `dataDirectory`; returns it and its port.
    static func startEngine(dataDirectory: String, seed: String?, extra: [String] = []) async throws -> (TestProcess, Int) {
        var arguments = [
            "engine", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDirectory,
            "--control-token", controlToken, "--static-dir", root + "/fixtures/legacy-server/static",
            "--log-level", "warning",
        ]
        if let seed { arguments += ["--dice-seed", seed] }
        let process = try TestProcess(try TestEnvironment.stateteeBinary(repositoryRoot: root), arguments + extra)
        do {
            return (process, try await process.listeningPort())
        } catch {
            await process.terminate()
            throw error
        }
    }

    /// The legacy fixture on 127.0.0.1, port 0, with the dice `seed`.
    static func startLegacy(seed: String, directory: String) async throws -> (TestProcess, Int) {
        let process = try TestProcess(
            python,
            [
                root + "/fixtures/legacy-server/server.py", "--port", "0", "--host", "127.0.0.1", "--seed", seed,
                "--state-file", directory + "/legacy-state.json",
            ],
            environment: ["LEGACY_SEED": ""])
        do {
            return (process, try await process.listeningPort())
        } catch {
            await process.terminate()
            throw error
        }
    }

    struct Replay {
        /// The final state a fresh client is served, times masked.
        var finalState: JSONValue
        /// `--report`: acks, warnings, final state (unmasked), trace.
        var report: JSONValue
        var stderr: String
    }

    /// `replay.py session --url url --fast --mask-times --report F`.
    static func replay(_ session: String, url: String, directory: String) async throws -> Replay {
        let reportPath = directory + "/report-\(UUID().uuidString).json"
        let process = try TestProcess(
            python,
            [
                root + "/fixtures/sessions/replay.py", session, "--url", url, "--fast", "--mask-times", "--report",
                reportPath,
            ])
        let status: Int32
        do {
            status = try await process.waitForExit(timeout: .seconds(120))
        } catch {
            await process.terminate()
            throw error
        }
        let output = process.stdoutLines.joined(separator: "\n")
        guard status == 0 else {
            throw ProcessFailure(description: "replay of \(session) exited \(status):\n\(output)\n\(process.stderr)")
        }
        let report = try JSONValue(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: reportPath))))
        return Replay(finalState: try JSONValue(parsing: output), report: report, stderr: process.stderr)
    }

    /// The session file's header seed (0 when absent, as the replayer assumes).
    static func seed(ofSession path: String) throws -> String {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let first = text.split(separator: "\n").first,
            case .object(let header) = try JSONValue(parsing: String(first)), header["event"] == nil
        else { return "0" }
        switch header["seed"] {
        case .int(let seed)?: return String(seed)
        case .bigInt(let seed)?: return seed
        default: return "0"
        }
    }

    /// Writes the header and the given (1-based, inclusive) lines of `session` to a new file.
    static func excerpt(of session: String, lines: ClosedRange<Int>, into directory: String) throws -> String {
        let all = try String(contentsOfFile: session, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let picked = [all[0]] + all[(lines.lowerBound - 1)..<min(lines.upperBound, all.count)]
        let path = directory + "/excerpt-\(lines.lowerBound)-\(lines.upperBound).jsonl"
        try (picked.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `GET /statetee/v1/state` of an engine: the stored document and its sequence.
    static func engineState(port: Int) async throws -> (state: JSONValue, sequence: JSONValue) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/statetee/v1/state")!)
        request.setValue("Bearer \(controlToken)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
            case .object(let body) = try JSONValue(parsing: Array(data)),
            let state = body["state"], let sequence = body["sequence"]
        else {
            throw ProcessFailure(description: "GET state failed: \(String(decoding: data, as: UTF8.self))")
        }
        return (state, sequence)
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    let description: String
}
