package main_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// hookgate listen prints each request, verifies its signature with
// --secret and answers 401 when it does not verify.
func TestListen(t *testing.T) {
	t.Parallel()
	secret := hookgate.NewSecret()
	url, out := startListen(t, "--secret", secret)

	body := `{"type":"order.created","data":{"id":1}}`
	signer, _ := signing.NewSigner(secret)
	now := time.Now().Unix()
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", url+"/hooks", strings.NewReader(body))
		req.Header.Set("webhook-id", "msg_test1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
		req.Header.Set("webhook-signature", sig)
		req.Header.Set("Authorization", "Basic c2VjcmV0OnBhc3M=")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if s := post(signer.Sign("msg_test1", now, []byte(body))); s != 204 {
		t.Fatalf("signed request answered %d", s)
	}
	if s := post("v1,AAAA"); s != 401 {
		t.Fatalf("forged request answered %d", s)
	}
	testwait.For(t, "the forged request's line", func() bool { return strings.Contains(out.String(), "INVALID") })
	got := out.String()
	for _, want := range []string{"POST /hooks -> 204", "webhook-id: msg_test1", "signature:  valid", body, "POST /hooks -> 401", "INVALID"} {
		if !strings.Contains(got, want) {
			t.Fatalf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "c2VjcmV0OnBhc3M=") {
		t.Fatalf("the Authorization value was printed:\n%s", got)
	}
}

// Issue 27, item 4: hookgate listen --jwks verifies v1a with the key each
// request names, taken from the JWKS a real server publishes, and answers
// a request signed with another key 401.
func TestListenJWKS(t *testing.T) {
	t.Parallel()
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	listener, _ := startListen(t, "--jwks", srv.URL+"/.well-known/hookgate/shop/jwks.json")
	// A webhook signing v1a to the listener: Hookgate's own request.
	if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: listener + "/hooks", Signature: &client.SignatureSettings{Scheme: "v1a"}}); err != nil {
		t.Fatal(err)
	}
	ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]int{"id": 1}})
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the delivery, verified by listen", func() bool {
		list, err := admin.ListEventDeliveries(ctx, "shop", ev.ID, nil)
		return err == nil && len(list.Data) == 1 && list.Data[0].Status == client.DeliverySucceeded
	})
	// A request signed with a key the JWKS does not list.
	body := []byte(`{"type":"order.paid"}`)
	s, _ := signing.NewSigner()
	s.WithEd25519(hookgate.NewSigningKey())
	now := time.Now().Unix()
	req, _ := http.NewRequest("POST", listener+"/hooks", bytes.NewReader(body))
	req.Header.Set("webhook-id", "msg_forged")
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("webhook-signature", s.Sign("msg_forged", now, body))
	req.Header.Set("webhook-key-id", s.KeyIDs())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a request signed with another key: %d", res.StatusCode)
	}
}

// startListen runs hookgate listen with args on a free loopback port
// until t ends, and returns its URL and what it prints after its first
// line.
func startListen(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append([]string{"listen", "--addr", "127.0.0.1:0"}, args...)...)
	out := &syncBuffer{}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "listening on http://") {
		t.Fatalf("first line %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
			_, _ = out.Write([]byte(sc.Text() + "\n"))
		}
	}()
	return strings.Fields(strings.TrimPrefix(sc.Text(), "listening on "))[0], out
}
