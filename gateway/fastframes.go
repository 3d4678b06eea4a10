package gateway

import (
	"bytes"

	"github.com/caiquan/caiquan/messages"
)

// A choice is what a player sends most, and clients write it one way:
// {"choice":{"choice":2}} on /ws, 42["choice",{"choice":2}] on Socket.IO.
// Those exact frames are read here without the general JSON path; any other
// spelling of a choice takes that path and means the same.
var (
	jsonChoicePrefix  = []byte(`{"choice":{"choice":`)
	jsonChoiceSuffix  = []byte(`}}`)
	eventChoicePrefix = []byte(`42["choice",{"choice":`)
	eventChoiceArgs   = eventChoicePrefix[2:] // an EVENT's arguments, after the packet types
	eventChoiceSuffix = []byte(`}]`)
)

// A join comes from every player once a round, and clients write it one of
// a few ways: {"join":{}} on /ws; on Socket.IO 42["join"] (the 2016 page,
// and socket.io-client's emit("join")) or 42["join",{}]. Read here, each
// costs a tenth of a microsecond and three allocations instead of about
// five microseconds and fifteen.
var (
	jsonJoin       = []byte(`{"join":{}}`)
	eventJoin      = []byte(`42["join"]`)
	eventJoinEmpty = []byte(`42["join",{}]`)
	eventJoinArgs  = eventJoin[2:] // an EVENT's arguments, after the packet types
	eventJoinArgs2 = eventJoinEmpty[2:]
)

// fastJoin returns a join envelope when data is exactly one of forms.
func fastJoin(data []byte, forms ...[]byte) (*messages.Envelope, bool) {
	for _, f := range forms {
		if bytes.Equal(data, f) {
			return &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}, true
		}
	}
	return nil, false
}

// fastChoice returns the choice envelope of data when data is prefix, a
// JSON number of one to three digits, and suffix.
func fastChoice(data, prefix, suffix []byte) (*messages.Envelope, bool) {
	rest, ok := bytes.CutPrefix(data, prefix)
	if !ok {
		return nil, false
	}
	digits, ok := bytes.CutSuffix(rest, suffix)
	if !ok || len(digits) == 0 || len(digits) > 3 || (len(digits) > 1 && digits[0] == '0') {
		return nil, false // JSON has no leading zeros: the general path refuses them
	}
	var n int32
	for _, c := range digits {
		if c < '0' || c > '9' {
			return nil, false
		}
		n = n*10 + int32(c-'0')
	}
	return &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: n}}}, true
}

// On /ws a binary join or choice is a few bytes of protobuf, always the
// same: Envelope field 2 (join) empty, or field 3 (choice) holding field 1
// as a one-byte varint. proto.Unmarshal reads them through reflection
// (about 5 % of the server's CPU at 10,000 players on the binary wire);
// these exact frames are read here, every other encoding there.
var binaryJoin = []byte{2<<3 | 2, 0}

const (
	binaryChoiceTag   = 3<<3 | 2 // Envelope.choice, length-delimited
	binaryChoiceField = 1<<3 | 0 // Choice.choice, varint
)

// fastBinary returns the join or choice envelope data encodes, when it is
// one of the frames above.
func fastBinary(data []byte) (*messages.Envelope, bool) {
	if bytes.Equal(data, binaryJoin) {
		return &messages.Envelope{Body: &messages.Envelope_Join{Join: &messages.Join{}}}, true
	}
	if len(data) == 4 && data[0] == binaryChoiceTag && data[1] == 2 && data[2] == binaryChoiceField && data[3] > 0 && data[3] < 0x80 {
		return &messages.Envelope{Body: &messages.Envelope_Choice{Choice: &messages.Choice{Choice: int32(data[3])}}}, true
	}
	return nil, false
}
