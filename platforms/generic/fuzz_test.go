package generic_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/generic"
)

// fuzzModes are the platforms FuzzVerify posts to, with the header that
// carries each one's proof.
var fuzzModes = []struct {
	name, creds, header string
}{
	{"github", `{"preset":"github","secret":"` + secret + `"}`, "X-Hub-Signature-256"},
	{"shopify", `{"preset":"shopify","secret":"` + secret + `"}`, "X-Shopify-Hmac-Sha256"},
	{"stripe", `{"preset":"stripe","secret":"` + secret + `"}`, "Stripe-Signature"},
	{"hmac", `{"verification":{"type":"hmac","header":"X-Sig","algorithm":"sha512","encoding":"base64","prefix":"v1=","secret":"` + secret + `"}}`, "X-Sig"},
	{"basic", `{"verification":{"type":"basic","username":"acme","password":"` + secret + `"}}`, "Authorization"},
	{"apikey", `{"verification":{"type":"apikey","header":"X-Api-Key","key":"` + secret + `"}}`, "X-Api-Key"},
}

// properlySigned says, independently of the provider's code, whether
// value is a valid proof for body under mode: what acceptance must imply.
func properlySigned(mode int, value string, body []byte, at time.Time) bool {
	sum := func(msg ...[]byte) []byte {
		newHash := sha256.New
		if fuzzModes[mode].name == "hmac" {
			newHash = sha512.New
		}
		m := hmac.New(newHash, []byte(secret))
		for _, p := range msg {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	switch fuzzModes[mode].name {
	case "github":
		rest, ok := strings.CutPrefix(value, "sha256=")
		got, err := hex.DecodeString(rest)
		return ok && err == nil && hmac.Equal(got, sum(body))
	case "shopify":
		got, err := base64.StdEncoding.DecodeString(value)
		return err == nil && hmac.Equal(got, sum(body))
	case "hmac":
		rest, ok := strings.CutPrefix(value, "v1=")
		got, err := base64.StdEncoding.DecodeString(rest)
		return ok && err == nil && hmac.Equal(got, sum(body))
	case "stripe":
		var ts, sigs []string
		for _, el := range strings.Split(value, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(el), "=")
			switch k {
			case "t":
				ts = append(ts, v)
			case "v1":
				sigs = append(sigs, v)
			}
		}
		for _, t := range ts {
			sec, err := strconv.ParseInt(t, 10, 64)
			if err != nil || sec < at.Unix()-300 || sec > at.Unix()+300 {
				continue
			}
			want := sum([]byte(t), []byte("."), body)
			for _, s := range sigs {
				if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
					return true
				}
			}
		}
		return false
	case "basic":
		scheme, cred, _ := strings.Cut(value, " ")
		got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		return strings.EqualFold(scheme, "basic") && err == nil && string(got) == "acme:"+secret
	case "apikey":
		return value == secret
	}
	return false
}

func FuzzVerify(f *testing.F) {
	body := `{"id":"evt_1","type":"charge.succeeded"}`
	ts := now.Unix() - 5
	v1 := stripeV1(secret, ts, body)
	b := []byte(body)
	// Correctly signed seeds, so that the fuzzer mutates near-valid posts.
	f.Add(uint8(0), "POST", githubSignature(secret, body), b, "X-GitHub-Delivery", "d1")
	f.Add(uint8(1), "POST", shopifySignature(secret, body), b, "X-Shopify-Topic", "orders/create")
	f.Add(uint8(2), "POST", fmt.Sprintf("t=%d,v1=%s,v0=%s", ts, v1, v1), b, "", "")
	f.Add(uint8(2), "POST", fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, stripeV1("old", ts, body), v1), b, "Stripe-Signature", "t=1,v1=00")
	f.Add(uint8(3), "POST", "v1="+base64.StdEncoding.EncodeToString(hmac.New(sha512.New, []byte(secret)).Sum(nil)), []byte{}, "", "")
	f.Add(uint8(4), "POST", basicAuth("acme", secret), b, "", "")
	f.Add(uint8(5), "POST", secret, b, "X-Api-Key", "second")
	// Broken ones.
	f.Add(uint8(0), "GET", githubSignature(secret, body), b, "", "")
	f.Add(uint8(0), "POST", "sha256=", b, "", "")
	f.Add(uint8(1), "POST", "====", []byte("\xff\x00"), "", "")
	f.Add(uint8(2), "POST", fmt.Sprintf("t=%d,v1=%s", ts-600, stripeV1(secret, ts-600, body)), b, "", "")
	f.Add(uint8(2), "POST", "t=,v1=,=,,t", b, "Stripe-Signature", "")
	f.Add(uint8(4), "POST", "Basic Og==", b, "Authorization", "Basic")
	f.Fuzz(func(t *testing.T, mode uint8, method, value string, body []byte, extraName, extraValue string) {
		m := int(mode) % len(fuzzModes)
		creds, err := generic.New().CheckCredentials(json.RawMessage(fuzzModes[m].creds))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(fuzzModes[m].header, value)
		if extraName != "" {
			h.Add(extraName, extraValue)
		}
		in := &platforms.Inbound{Method: method, Header: h, Body: body, Now: now,
			Platform: &hookgate.Platform{ID: "plat_1", Provider: generic.Name, Credentials: creds}}
		if _, err := generic.New().Verify(in); err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
			return
		}
		if method != http.MethodPost {
			t.Fatalf("accepted method %q", method)
		}
		// The extra header may have replaced the proof: judge what was sent.
		if got := h.Get(fuzzModes[m].header); !properlySigned(m, got, body, now) {
			t.Fatalf("%s accepted %q for body %q", fuzzModes[m].name, got, body)
		}
		evs, err := generic.New().Normalize(in)
		if err != nil || len(evs) != 1 || !json.Valid(evs[0].Raw) {
			t.Fatalf("Normalize: %v, %+v", err, evs)
		}
	})
}

// FuzzCheckCredentials checks that whatever is offered as credentials, the
// answer is a *hookgate.Error about credentials or a normalized form that
// checks again to itself and redacts every secret.
func FuzzCheckCredentials(f *testing.F) {
	for _, m := range fuzzModes {
		f.Add(m.creds)
	}
	f.Add(`{"verification":{"type":"none"},"idHeader":"X-Id","eventType":"a.b"}`)
	f.Add(`{"verification":{"type":"hmac","header":"X","prefix":"p","secret":"s"},"secret":"t"}`)
	f.Add(`{"preset":"github","secret":"s","verification":null}`)
	f.Add(`{"verification":"none"}`)
	f.Fuzz(func(t *testing.T, in string) {
		p := generic.New()
		out, err := p.CheckCredentials(json.RawMessage(in))
		if err != nil {
			var he *hookgate.Error
			if !errors.As(err, &he) || !strings.HasPrefix(he.Param, "credentials") {
				t.Fatalf("error %v names no credentials field", err)
			}
			return
		}
		again, err := p.CheckCredentials(out)
		if err != nil || string(again) != string(out) {
			t.Fatalf("normalized %s checks to %s, %v", out, again, err)
		}
		var red struct {
			Secret       string `json:"secret"`
			Verification *struct {
				Secret   string `json:"secret"`
				Password string `json:"password"`
				Key      string `json:"key"`
			} `json:"verification"`
		}
		r := platforms.Redact(p, out)
		if err := json.Unmarshal(r, &red); err != nil {
			t.Fatalf("redacted %s: %v", r, err)
		}
		secrets := []string{red.Secret}
		if v := red.Verification; v != nil {
			secrets = append(secrets, v.Secret, v.Password, v.Key)
		}
		for _, s := range secrets {
			if s != "" && s != platforms.Redacted {
				t.Fatalf("redacted %s keeps a secret", r)
			}
		}
	})
}
