package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/caiquan/caiquan/gateway"
	"github.com/caiquan/caiquan/messages"
)

// protocol is one of the server's wires, seen from a client. The codecs are
// the gateway's own exported ones, so the tool and the server cannot
// disagree on what a message looks like; on the text wires the server's
// frames are read by a fast path first, which declines any form the
// gateway does not write and is checked against its decoder (textDecoder).
type protocol int

const (
	protoBinary protocol = iota // /ws, protobuf Envelope in binary frames
	protoJSON                   // /ws?format=json, protojson Envelope in text frames
	protoEIO3                   // Socket.IO over Engine.IO 3, as the 2016 client
	protoEIO4                   // Socket.IO over Engine.IO 4, as socket.io-client v4
)

var protocolNames = map[string]protocol{"binary": protoBinary, "json": protoJSON, "eio3": protoEIO3, "eio4": protoEIO4}

func (p protocol) String() string {
	for name, q := range protocolNames {
		if q == p {
			return name
		}
	}
	return fmt.Sprintf("protocol(%d)", int(p))
}

// defaultPath is the endpoint of p when -url names none.
func (p protocol) defaultPath() string {
	switch p {
	case protoJSON:
		return "/ws?format=json"
	case protoEIO3:
		return "/applet/websocket/socket.io//?EIO=3&transport=websocket" // the 2016 client's URL
	case protoEIO4:
		return "/applet/websocket/socket.io/?EIO=4&transport=websocket"
	default:
		return "/ws"
	}
}

func (p protocol) encode(env *messages.Envelope) (kind int, data []byte, err error) {
	switch p {
	case protoBinary:
		data, err = gateway.EncodeEnvelope(env, true)
		return websocket.BinaryMessage, data, err
	case protoJSON:
		data, err = gateway.EncodeEnvelope(env, false)
	default:
		data, err = gateway.EncodeEvent(env)
	}
	return websocket.TextMessage, data, err
}

// packet is what one server frame means to the client: a message, a
// protocol frame to answer, one to ignore, or something malformed. A
// message can come with bad set: the frame is counted malformed and the
// message still played (see textDecoder).
type packet struct {
	env    *messages.Envelope
	reply  string // an Engine.IO answer, such as the pong 3
	bad    string // why the frame is malformed; empty if it is not
	detail string // the case of bad, for the report's first case of it
	opened bool   // Engine.IO 4's namespace connect answer (40{…})
}

func (p protocol) decode(kind int, data []byte) packet {
	switch p {
	case protoBinary, protoJSON:
		binary := p == protoBinary
		if (kind == websocket.BinaryMessage) != binary {
			return packet{bad: "frame of the wrong kind"}
		}
		if !binary {
			return serverText.decode(data, false)
		}
		env, err := gateway.DecodeEnvelope(data, true)
		if err != nil {
			return packet{bad: "undecodable: " + errCode(err)}
		}
		return packet{env: env}
	}
	if kind != websocket.TextMessage {
		return packet{bad: "binary frame on Socket.IO"}
	}
	switch {
	case bytes.HasPrefix(data, []byte("42")):
		return serverText.decode(data, true)
	case bytes.HasPrefix(data, []byte("0{")):
		if !validOpen(data[1:], p) {
			return packet{bad: "bad open packet"}
		}
		return packet{}
	case string(data) == "40" && p == protoEIO3:
		return packet{}
	case bytes.HasPrefix(data, []byte("40{")) && p == protoEIO4:
		return packet{opened: true}
	case string(data) == "2" && p == protoEIO4:
		return packet{reply: "3"}
	case string(data) == "2" && p == protoEIO3:
		// The 2016 client ignores pings; the server promised never to send one.
		return packet{bad: "Engine.IO 3 ping"}
	}
	return packet{bad: "unknown Engine.IO packet"}
}

// validOpen checks the Engine.IO open packet's JSON: a session id, and the
// ping settings Engine.IO 4 clients rely on.
func validOpen(raw []byte, p protocol) bool {
	var open struct {
		SID          string `json:"sid"`
		PingInterval int    `json:"pingInterval"`
		PingTimeout  int    `json:"pingTimeout"`
	}
	if json.Unmarshal(raw, &open) != nil || open.SID == "" {
		return false
	}
	return p == protoEIO3 || (open.PingInterval > 0 && open.PingTimeout > 0)
}

func errCode(err error) string {
	if de, ok := err.(*gateway.DecodeError); ok {
		return de.Code
	}
	return strings.SplitN(err.Error(), ":", 2)[0]
}

// gatewayDecode reads a /ws JSON frame, or with event a Socket.IO event
// packet, with the gateway's own decoder, which knows every form.
func gatewayDecode(data []byte, event bool) packet {
	var env *messages.Envelope
	var err error
	if event {
		env, err = gateway.DecodeEvent(data)
	} else {
		env, err = gateway.DecodeEnvelope(data, false)
	}
	if err != nil {
		return packet{bad: "undecodable: " + errCode(err)}
	}
	return packet{env: env}
}
