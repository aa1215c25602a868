/// Errors of the proxy. A struct over a private enum, so cases can be added.
public struct TeeError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Base: Equatable, Sendable {
        case embeddedEngineMissing
        case roleStore(String)
        case adminToken(String)
        case shuttingDown
    }

    let base: Base

    /// `--shadow embedded` was asked for but no engine was given.
    public static let embeddedEngineMissing = Self(base: .embeddedEngineMissing)
    /// The durable roles could not be read.
    public static func roleStore(_ why: String) -> Self { Self(base: .roleStore(why)) }
    /// The admin token file could not be read or created.
    public static func adminToken(_ why: String) -> Self { Self(base: .adminToken(why)) }
    /// The proxy is stopping: nothing more goes to the shadow.
    public static let shuttingDown = Self(base: .shuttingDown)

    public var description: String {
        switch base {
        case .embeddedEngineMissing: "an embedded engine was configured but none was provided"
        case .roleStore(let why): "cannot read the durable roles: \(why)"
        case .adminToken(let why): "admin token: \(why)"
        case .shuttingDown: "the proxy is shutting down"
        }
    }
}
