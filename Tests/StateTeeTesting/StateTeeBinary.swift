import Foundation

extension TestEnvironment {
    /// The `statetee` executable under test: `$STATETEE_BIN`, else the one
    /// built beside the running test bundle (`.build/<triple>/debug/`, any
    /// package that builds it, `swift build --build-tests` included), else
    /// `<repository root>/.build/debug/statetee`. Throws when none exists.
    public static func stateteeBinary(repositoryRoot: String) throws -> String {
        let fileManager = FileManager.default
        if let path = ProcessInfo.processInfo.environment["STATETEE_BIN"], !path.isEmpty {
            guard fileManager.isExecutableFile(atPath: path) else {
                throw MissingBinary(description: "STATETEE_BIN=\(path) is not an executable")
            }
            return path
        }
        var candidates: [String] = []
        // The test runner: .build/<triple>/debug/<Package>PackageTests.xctest[/...].
        var directory = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("statetee").path)
            directory.deleteLastPathComponent()
        }
        candidates.append(repositoryRoot + "/.build/debug/statetee")
        for candidate in candidates where fileManager.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw MissingBinary(
            description: "no statetee executable (build it with `swift build`, or set STATETEE_BIN); looked at \(candidates)")
    }

    public struct MissingBinary: Error, CustomStringConvertible {
        public let description: String
    }
}
