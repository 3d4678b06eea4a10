package actors

// Client protocol versions (hello.protocol). A client names the version it
// speaks; 0, or none, is the 2016 client or an SDK from before versions,
// and is always accepted (the 2016 client cannot be updated). A named
// version below MinProtocolVersion gets upgrade_required. A version above
// ProtocolVersion is a client newer than this server; it is accepted, and
// must talk down to what this server speaks.
const (
	ProtocolVersion    = 1 // what this release speaks
	MinProtocolVersion = 1 // the oldest named version this release accepts
)

// protocolRefused says whether a hello naming version v is refused by a
// server whose oldest accepted version is min.
func protocolRefused(v, min uint32) bool {
	return v != 0 && v < min
}
