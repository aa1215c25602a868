// SocketIOProtocol: placeholder until its issue lands.
