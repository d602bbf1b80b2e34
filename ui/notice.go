package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// noticeCookie carries the API's own words from a form to the page it
// redirects to, where no fixed text of done can say them: how to give a
// platform its inbound URL, when the provider does not take it from
// Hookgate. A cookie, not the URL, so that a link cannot make a page say
// it; signed with the session's CSRF token, so that only this session's
// forms can.
const noticeCookie = "hookgate_notice"

// noticeTTL is how long a notice lasts; maxNotice bounds its
// instructions, in bytes.
const (
	noticeTTL = 10 * time.Minute
	maxNotice = 1024
)

// notice is the API's answer to a registration that registered nothing.
type notice struct {
	Platform     string `json:"p"`
	InboundURL   string `json:"u"`
	Instructions string `json:"i"`
}

// noticeMAC signs a notice's payload for the session.
func noticeMAC(se *session, payload string) []byte {
	m := hmac.New(sha256.New, []byte(se.CSRF))
	m.Write([]byte("hookgate notice\x00" + payload))
	return m.Sum(nil)
}

// setNotice leaves n for the next page of the session.
func (u *UI) setNotice(w http.ResponseWriter, se *session, n notice) {
	if len(n.Instructions) > maxNotice {
		n.Instructions = strings.ToValidUTF8(n.Instructions[:maxNotice], "")
	}
	b, _ := json.Marshal(n)
	payload := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: noticeCookie, Value: payload + "." + base64.RawURLEncoding.EncodeToString(noticeMAC(se, payload)),
		Path: "/ui/", HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode, MaxAge: int(noticeTTL.Seconds())})
}

// noticeOf is the notice a form of the session left; nil when there is
// none, or its signature is not the session's.
func noticeOf(r *http.Request, se *session) *notice {
	ck, err := r.Cookie(noticeCookie)
	if err != nil {
		return nil
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || !hmac.Equal(mac, noticeMAC(se, payload)) {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil
	}
	var n notice
	if json.Unmarshal(b, &n) != nil {
		return nil
	}
	return &n
}
