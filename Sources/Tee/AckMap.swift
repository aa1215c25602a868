/// Ack ids of one upstream leg: the client's ack id is replaced by a leg-local
/// id on the way up, and the leg's ack is mapped back to the client's id on the
/// way down. Ids the proxy never issued (or already answered) map to nothing,
/// so a stray or duplicate ack never reaches a client.
public struct AckMap: Sendable, Equatable {
    /// What an issued leg id stands for.
    public struct Entry: Sendable, Equatable {
        public var clientID: Int
        /// The mirror sequence of the event the ack will answer, once known.
        public var sequence: Int64?
    }

    private var nextID = 0
    private var pending: [Int: Entry] = [:]

    public init() {}

    /// The id to send on the leg for a client packet carrying `clientID`.
    public mutating func outbound(clientID: Int, sequence: Int64? = nil) -> Int {
        let id = nextID
        nextID = nextID == Int.max ? 0 : nextID + 1
        pending[id] = Entry(clientID: clientID, sequence: sequence)
        return id
    }

    /// Records the mirror sequence of the event sent with `legID` (known only once it was mirrored).
    public mutating func setSequence(_ sequence: Int64, forLegID legID: Int) {
        pending[legID]?.sequence = sequence
    }

    /// The client's id for an ack that arrived on the leg with `legID`; nil when unknown.
    public mutating func inbound(legID: Int) -> Int? {
        inboundEntry(legID: legID)?.clientID
    }

    /// The client's id and the event's sequence for an ack that arrived with `legID`; nil when unknown.
    public mutating func inboundEntry(legID: Int) -> Entry? {
        pending.removeValue(forKey: legID)
    }

    /// Acks still awaited on this leg.
    public var pendingCount: Int { pending.count }

    /// Forgets every pending ack (the leg was lost) and returns the client ids that will never be answered.
    public mutating func reset() -> [Int] {
        defer { pending = [:] }
        return pending.sorted { $0.key < $1.key }.map(\.value.clientID)
    }
}
