package mqtt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
)

// KeepAlive is the keep-alive interval a connection asks of the broker:
// a connection silent for longer is found dead by a PINGREQ that goes
// unanswered.
const KeepAlive = 30 * time.Second

// session says how to connect: the client ID, whether the broker keeps the
// session, and what to do with what it sends.
type session struct {
	clientID string
	// persistent: clean start false, and the broker keeps the session
	// for expiry after the connection ends.
	persistent bool
	expiry     time.Duration
	// manualAck: a message received is acknowledged only by Client.Ack.
	manualAck bool
	onPublish func(paho.PublishReceived) (bool, error)
	// onLost is called once the connection is lost, with why.
	onLost  func(error)
	timeout time.Duration
	// receiveMax bounds the unacknowledged messages the broker sends
	// ahead; 0 for MQTT's default, 65,535.
	receiveMax uint16
}

// ConnectError is a CONNECT the broker refused, with the CONNACK's reason
// code; Code 0 with V311 for a broker that answered in MQTT 3.1.1.
type ConnectError struct {
	Code   byte
	Reason string
	// V311: the broker speaks only MQTT 3.1.1 (or older), and refused
	// the MQTT 5 CONNECT.
	V311 bool
}

// Error says why the broker refused.
func (e *ConnectError) Error() string {
	if e.V311 {
		return "the broker speaks only MQTT 3.1.1: it refused an MQTT 5 CONNECT"
	}
	s := fmt.Sprintf("the broker refused the connection (CONNACK reason 0x%02X %s)", e.Code, connackReason(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Credentials reports whether the broker refused the credentials (or
// their lack).
func (e *ConnectError) Credentials() bool {
	return e.Code == packets.ConnackBadUsernameOrPassword || e.Code == packets.ConnackNotAuthorized
}

// connackReason names the CONNACK reason codes a broker answers most.
func connackReason(code byte) string {
	switch code {
	case packets.ConnackUnsupportedProtocolVersion:
		return "unsupported protocol version"
	case packets.ConnackBadUsernameOrPassword:
		return "bad user name or password"
	case packets.ConnackNotAuthorized:
		return "not authorized"
	case packets.ConnackServerUnavailable:
		return "server unavailable"
	case 0x89:
		return "server busy"
	case 0x85:
		return "client identifier not valid"
	}
	return "refused"
}

// connect dials c's broker and makes an MQTT 5 connection, within ctx.
func connect(ctx context.Context, dial hookgate.DialFunc, c config, s session) (*paho.Client, *paho.Connack, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	raw, err := dial(ctx, "tcp", c.addr)
	if err != nil {
		return nil, nil, err
	}
	var conn net.Conn = raw
	if c.tls != nil {
		cfg := c.tls.Clone()
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, nil, err
		}
		conn = tc
	}
	first := &firstBytes{Conn: conn}
	var lost sync.Once
	onLost := func(err error) {
		if s.onLost != nil {
			lost.Do(func() { s.onLost(err) })
		}
	}
	cfg := paho.ClientConfig{
		ClientID:                   s.clientID,
		Conn:                       packets.NewThreadSafeConn(first),
		PacketTimeout:              s.timeout,
		EnableManualAcknowledgment: s.manualAck,
		SendAcksInterval:           10 * time.Millisecond,
		OnClientError:              onLost,
		OnServerDisconnect: func(d *paho.Disconnect) {
			msg := fmt.Sprintf("the broker disconnected (reason 0x%02X)", d.ReasonCode)
			if d.Properties != nil && d.Properties.ReasonString != "" {
				msg += ": " + d.Properties.ReasonString
			}
			onLost(errors.New(msg))
		},
	}
	if s.onPublish != nil {
		cfg.OnPublishReceived = []func(paho.PublishReceived) (bool, error){s.onPublish}
	}
	client := paho.NewClient(cfg)
	cp := &paho.Connect{
		ClientID:   s.clientID,
		KeepAlive:  uint16(KeepAlive / time.Second),
		CleanStart: !s.persistent,
		Properties: &paho.ConnectProperties{RequestProblemInfo: true},
	}
	if s.receiveMax > 0 {
		cp.Properties.ReceiveMaximum = &s.receiveMax
	}
	if s.persistent {
		expiry := uint32(s.expiry / time.Second)
		cp.Properties.SessionExpiryInterval = &expiry
	}
	if c.username != "" {
		cp.Username, cp.UsernameFlag = c.username, true
		cp.Password, cp.PasswordFlag = []byte(c.password), true
	}
	ca, err := client.Connect(ctx, cp)
	if err != nil {
		if first.v311() {
			return nil, nil, &ConnectError{V311: true}
		}
		if ca != nil {
			ce := &ConnectError{Code: ca.ReasonCode}
			if ca.Properties != nil {
				ce.Reason = ca.Properties.ReasonString
			}
			return nil, nil, ce
		}
		return nil, nil, err
	}
	if ca.ReasonCode != 0 { // an MQTT 3.1.1 refusal (1-5) read as MQTT 5
		_ = client.Disconnect(&paho.Disconnect{})
		return nil, nil, &ConnectError{V311: true}
	}
	return client, ca, nil
}

// firstBytes keeps the first bytes read from a connection: a broker that
// speaks only MQTT 3.1.1 answers an MQTT 5 CONNECT with a CONNACK of
// return code 1 (unacceptable protocol version) that MQTT 5 cannot decode.
type firstBytes struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

// Read reads from the connection, keeping the first 4 bytes.
func (f *firstBytes) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	f.mu.Lock()
	if len(f.head) < 4 {
		f.head = append(f.head, p[:min(n, 4-len(f.head))]...)
	}
	f.mu.Unlock()
	return n, err
}

// v311 reports whether the broker's first answer is an MQTT 3.1.1 CONNACK
// refusing the protocol version.
func (f *firstBytes) v311() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Equal(f.head, []byte{0x20, 0x02, 0x00, 0x01})
}

// shortHash is 8 hex digits of s's SHA-256: a client ID names its pool
// without showing its URL or user.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
