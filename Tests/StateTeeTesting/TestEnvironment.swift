import Foundation

/// Paths and tools for live tests.
public enum TestEnvironment {
    /// The repository root, found from a test file's `#filePath` (symlinks
    /// resolved) by walking up to the directory that holds `Package.swift`.
    public static func repositoryRoot(filePath: String = #filePath) -> String {
        var url = URL(fileURLWithPath: filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: url.appendingPathComponent("Sources").path)
            {
                return url.path
            }
            url.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// The Python with the fixtures' requirements: `$STATETEE_PYTHON`, else the repository's `.venv`.
    public static func python(repositoryRoot: String) -> String {
        if let python = ProcessInfo.processInfo.environment["STATETEE_PYTHON"], !python.isEmpty { return python }
        return repositoryRoot + "/.venv/bin/python"
    }
}
