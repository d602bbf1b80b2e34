package client_test

import (
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
