package actors

import (
	"context"
	"regexp"
	"time"

	"github.com/caiquan/caiquan/messages"
)

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

// ContentChecker is WeChat's content check of a player's name
// (auth.ContentCheck): nil to show it, auth.ErrRefused when it may not be
// shown, another error when the check could not be made.
type ContentChecker interface {
	CheckText(ctx context.Context, openid, text string) error
}

// contentCheckTimeout bounds one check of a hello's name.
const contentCheckTimeout = 5 * time.Second

// OwnAvatar reports whether avatar is a picture this server serves
// (POST /avatar's answer, /avatars/NAME), which was checked when it was
// uploaded. Under a content check no other avatar is shown: the server
// cannot check a picture it would have to fetch from anywhere.
func OwnAvatar(avatar string) bool { return ownAvatarRE.MatchString(avatar) }

var ownAvatarRE = regexp.MustCompile(`^/avatars/[0-9a-f]{32}\.(png|jpg)$`)
