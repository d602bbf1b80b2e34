package client_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/client"
)

func TestNewRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://h", "http://", "http://h/?x=1"} {
		if _, err := client.New(u, "k"); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	c, err := client.New("http://127.0.0.1:8080/", "k")
	if err != nil || c.BaseURL() != "http://127.0.0.1:8080" {
		t.Fatalf("New = %v, %v", c, err)
	}
}

// Issue 22, item 9: a key read from admin.key keeps the file's newline, and
// a header value may not hold one; New trims the key, as the CLI and the
// dashboard do.
func TestNewTrimsTheKeyReadFromAFile(t *testing.T) {
	t.Parallel()
	if !strings.HasSuffix(adminKey, "\n") {
		t.Fatalf("admin.key reads %q, without the newline this test is about", adminKey)
	}
	for _, key := range []string{adminKey, " \t" + adminKey + "\r\n"} {
		c, err := client.New(hookgateURL, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListProjects(context.Background(), nil); err != nil {
			t.Fatalf("with the key %q: %v", key, err)
		}
	}
}
