package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
)

// Issue 23, step 5: delivery checks its own Config. Before, only serve
// checked that the lease outlasts a request, and New took any value.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	sender := &delivery.Sender{Client: &http.Client{Timeout: 15 * time.Second}}
	for _, tc := range []struct {
		name string
		cfg  delivery.Config
		want string // "" when valid
	}{
		{"Defaults", delivery.Config{Destinations: all.New(sender)}, ""},
		{"NoDestinations", delivery.Config{}, "Destinations is required"},
		{"LeaseWithinSendTimeout", delivery.Config{Destinations: all.New(sender), Lease: 15 * time.Second}, "Lease (15s) must be longer than SendTimeout (15s)"},
		{"LeaseWithinDefaultSendTimeout", delivery.Config{Destinations: all.New(&delivery.Sender{Client: &http.Client{}}), Lease: 10 * time.Second}, "Lease (10s) must be longer than SendTimeout (15s)"},
		{"NodeTimeoutTooShort", delivery.Config{Destinations: all.New(sender), NodeTimeout: 2 * time.Second}, "NodeTimeout must be at least 3s"},
		{"PerEndpointAboveMax", delivery.Config{Destinations: all.New(sender), PerEndpoint: 10, MaxPerEndpoint: 5}, "PerEndpoint must be positive and at most MaxPerEndpoint, itself at most 1024"},
		{"MaxPerEndpointTooLarge", delivery.Config{Destinations: all.New(sender), MaxPerEndpoint: 2000}, "itself at most 1024"},
		{"PerEndpointAboveDefaultMax", delivery.Config{Destinations: all.New(sender), PerEndpoint: 100}, ""},
		{"EmptyRecoverySchedule", delivery.Config{Destinations: all.New(sender), RecoverySchedule: hookgate.Schedule{}}, "RecoverySchedule must have at least one wait"},
		{"BreakerOff", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Failures: hookgate.BreakerOff}}, ""},
		{"BreakerBounds", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Failures: 1000, Cooldown: 10 * time.Minute}}, ""},
		{"BreakerFailuresTooMany", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Failures: 1001}}, "Breaker.Failures (1001) must be between 1 and 1000"},
		{"BreakerFailuresNegative", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Failures: -2}}, "Breaker.Failures (-2) must be between 1 and 1000"},
		{"BreakerCooldownTooShort", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Cooldown: 500 * time.Millisecond}}, "Breaker.Cooldown (500ms) must be between 1s and 10m"},
		{"BreakerCooldownTooLong", delivery.Config{Destinations: all.New(sender), Breaker: hookgate.Breaker{Cooldown: 11 * time.Minute}}, "Breaker.Cooldown (11m) must be between 1s and 10m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate(nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// The errors name the fields as the caller does: serve, by its flags.
func TestConfigValidateNames(t *testing.T) {
	t.Parallel()
	cfg := delivery.Config{Destinations: all.New(&delivery.Sender{Client: &http.Client{Timeout: 15 * time.Second}}), Lease: 10 * time.Second}
	err := cfg.Validate(map[string]string{"Lease": "--lease", "SendTimeout": "--send-timeout"})
	if err == nil || err.Error() != "--lease (10s) must be longer than --send-timeout (15s)" {
		t.Fatalf("Validate = %v", err)
	}
}

// New refuses a configuration that breaks a rule, a mistake of the
// program, rather than run a dispatcher whose requests outlive their claims.
func TestNewRefusesALeaseWithinTheSendTimeout(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a lease shorter than the send timeout")
		}
	}()
	delivery.New(delivery.Config{Queue: nil, Destinations: all.New(&delivery.Sender{Client: &http.Client{Timeout: time.Minute}}), Lease: 30 * time.Second})
}

// WithDefaults fills what is unset and keeps what is set; an unset
// MaxPerEndpoint is never below PerEndpoint.
func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	c := delivery.Config{PerEndpoint: 100, Lease: time.Hour}.WithDefaults()
	if c.Lease != time.Hour || c.MaxPerEndpoint != 100 || c.NodeTimeout != delivery.DefaultNodeTimeout || c.Node == "" || c.Logger == nil || c.Now == nil {
		t.Fatalf("WithDefaults = %+v", c)
	}
}
