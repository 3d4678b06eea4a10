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
	eventChoiceSuffix = []byte(`}]`)
)

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
