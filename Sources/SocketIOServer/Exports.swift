// The packet and JSON types of this target's public API.
@_exported import JSONValue
@_exported import SocketIOProtocol
