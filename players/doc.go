// Package players serves what a player may do with its own data over
// HTTP on the game listener, with the token its sockets use
// ("Authorization: Bearer <token>"):
//
//	POST   /avatar          upload a picture (multipart field "avatar", or a raw
//	                        image/png or image/jpeg body); answers {"url":"/avatars/NAME"}
//	GET    /avatars/NAME    a picture, as the server encoded it (no token needed)
//	DELETE /me              remove the player's record, leaderboard line and picture
//	GET    /me/export       the player's data as JSON
//
// A picture is PNG or JPEG by its bytes (the Content-Type a client sends is
// not believed), at most MaxAvatarBytes, at most MaxAvatarSide pixels a
// side (read from the header before anything is decoded); it is decoded
// and encoded anew, so what is served is an image and nothing else
// (metadata, trailing bytes and polyglots do not survive). NAME is made
// from the uid and the encoded picture, and says nothing more.
//
// With a content check (WeChat mode), a picture is shown to WeChat's
// img_sec_check before it is stored; a refused one is answered
// content_refused, and a check that cannot be made refuses the upload.
//
// Refusals are {"code","message"}; docs/players.md lists them.
package players
