package actors

import "github.com/caiquan/caiquan/messages"

const (
	maxUIDLen    = 64
	maxUnameLen  = 64
	maxAvatarLen = 1024
)

// checkUser says what is wrong with a hello's user, or "" when it is usable.
// A uid names a player actor, so it is kept to a safe alphabet.
func checkUser(u *messages.User) string {
	switch {
	case u == nil || u.Uid == "":
		return "hello needs user.uid"
	case len(u.Uid) > maxUIDLen:
		return "user.uid is longer than 64 characters"
	case !safeUID(u.Uid):
		return "user.uid may hold only letters, digits, '-', '_' and '.'"
	case len(u.Uname) > maxUnameLen*4:
		return "user.uname is too long"
	case len(u.Uavatar) > maxAvatarLen:
		return "user.uavatar is longer than 1024 bytes"
	}
	return ""
}

func safeUID(uid string) bool {
	for _, c := range uid {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}
