package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

// breakerFlags are the circuit breaker settings of webhook and project
// create and update.
type breakerFlags struct {
	failures, cooldown string
	clear              bool
}

// add declares the flags; whose names the level whose settings are taken
// otherwise ("the project's", "the server's").
func (f *breakerFlags) add(fs *pflag.FlagSet, update bool, whose string) {
	fs.StringVar(&f.failures, "breaker-failures", "", "consecutive failed attempts that open the circuit breaker, 1 to 1000; 0 turns it off; default "+whose)
	fs.StringVar(&f.cooldown, "breaker-cooldown", "", "how long an open circuit waits before its probe, 1s to 10m, such as 30s (it doubles after each failed probe, up to 10m); default "+whose)
	if update {
		fs.BoolVar(&f.clear, "breaker-default", false, "drop its own breaker settings: "+whose+" apply")
	}
}

// breaker returns the settings the flags give; nil when none is.
func (f *breakerFlags) breaker() (*client.Breaker, error) {
	if f.failures == "" && f.cooldown == "" {
		return nil, nil
	}
	var b client.Breaker
	if f.failures != "" {
		n, err := strconv.Atoi(f.failures)
		if err != nil {
			return nil, fmt.Errorf("--breaker-failures: %q is not a number", f.failures)
		}
		b.Failures = &n
	}
	if f.cooldown != "" {
		b.Cooldown = &f.cooldown
	}
	return &b, nil
}

// breakerInForce describes a webhook's breaker settings in force.
func breakerInForce(h *client.Webhook) string {
	b := h.Delivery.Breaker
	if b.Failures.Value == 0 {
		return "off (" + b.Failures.From + ")"
	}
	return fmt.Sprintf("%d failures (%s), cooldown %s (%s)", b.Failures.Value, b.Failures.From, b.Cooldown.Value, b.Cooldown.From)
}

// circuitState describes a webhook's circuit breaker as it stands.
func circuitState(c client.Circuit) string {
	s := c.State
	if c.Since != nil {
		s += " since " + ts(*c.Since)
	}
	s += fmt.Sprintf(", %d consecutive failures", c.ConsecutiveFailures)
	if c.NextProbeAt != nil {
		s += ", next probe at " + ts(*c.NextProbeAt)
	}
	return s
}

// projectBreaker describes a project's own breaker settings.
func projectBreaker(b *client.Breaker) string {
	if b == nil {
		return "the server's"
	}
	s := ""
	if b.Failures != nil {
		s = strconv.Itoa(*b.Failures) + " failures"
		if *b.Failures == 0 {
			s = "off"
		}
	}
	if b.Cooldown != nil {
		if s != "" {
			s += ", "
		}
		s += "cooldown " + *b.Cooldown
	}
	return s
}
