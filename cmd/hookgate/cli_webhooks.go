package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/hookgate/hookgate/client"
)

// webhookFlags are the settings of webhook create and update.
type webhookFlags struct {
	signature, signatureGrace                                 string
	uid, description, secret, method, payloadEncoding, schema string
	events, publicHeaders, queryParams                        []string
	headers, metadata                                         []string
	rateLimit                                                 int
	triggerOnly                                               bool
	authBasic                                                 string
	authNone                                                  bool
	oauthID, oauthSecret, oauthTokenURL                       string
	oauthScopes                                               []string
	then                                                      string
	retrySchedule                                             []string
	timeout                                                   string
	maxAttempts                                               int
	ordering, orderingKey                                     string
	filter, transform, transformHeaders                       string
	autoRecover                                               string
	breaker                                                   breakerFlags
	tls                                                       tlsFlags
	destination                                               destinationFlags
}

func (f *webhookFlags) add(fs *pflag.FlagSet, create bool) {
	fs.StringVar(&f.uid, "uid", "", "your own ID for the webhook, usable wherever its ID is")
	fs.StringVar(&f.description, "description", "", "what the webhook is for")
	fs.StringSliceVar(&f.events, "events", nil, "event types it receives, such as order.*,user.created; none: all")
	if create {
		fs.StringVar(&f.secret, "secret", "", "signing secret (whsec_…); default a new one")
	}
	fs.StringVar(&f.authBasic, "auth-basic", "", "authenticate to the receiver with HTTP Basic, as USER:PASSWORD")
	fs.StringVar(&f.oauthID, "oauth-client-id", "", "authenticate with OAuth2 client credentials: the client ID")
	fs.StringVar(&f.oauthSecret, "oauth-client-secret", "", "… the client secret")
	fs.StringVar(&f.oauthTokenURL, "oauth-token-url", "", "… the token endpoint")
	fs.StringSliceVar(&f.oauthScopes, "oauth-scopes", nil, "… the scopes, comma-separated")
	if !create {
		fs.BoolVar(&f.authNone, "auth-none", false, "stop authenticating to the receiver")
	}
	f.tls.add(fs, create)
	f.destination.add(fs)
	fs.StringArrayVar(&f.headers, "header", nil, "a header sent with every request, NAME=VALUE (repeat the flag)")
	fs.StringSliceVar(&f.publicHeaders, "public-header", nil, "header names shown unredacted when the webhook is read")
	fs.StringSliceVar(&f.queryParams, "query-param", nil, "query parameters triggers may set")
	fs.StringVar(&f.method, "method", "", "HTTP method: POST (default), PUT, PATCH, GET or DELETE")
	fs.StringVar(&f.payloadEncoding, "payload-encoding", "", "json (default) or base64 (trigger data sent as bytes)")
	fs.IntVar(&f.rateLimit, "rate-limit", 0, "most requests a second to the receiver; 0 for no limit")
	fs.StringArrayVar(&f.metadata, "metadata", nil, "your own NAME=VALUE labels (repeat the flag)")
	fs.StringVar(&f.schema, "schema", "", "JSON Schema that trigger data must match: JSON, @file or -")
	fs.BoolVar(&f.triggerOnly, "trigger-only", false, "the webhook is only triggered, never sent events")
	fs.StringVar(&f.then, "then", "", "a trigger of this webhook calls that webhook next with the answer (ID or uid)")
	clear := ""
	if !create {
		clear = `; "" for the project's or the server's`
	}
	fs.StringSliceVar(&f.retrySchedule, "retry-schedule", nil, "the webhook's own waits between attempts, such as 1s,1m,1h"+clear)
	fs.StringVar(&f.timeout, "timeout", "", "the webhook's own request timeout, such as 5s, at most the server's --send-timeout"+strings.Replace(clear, "project's or the ", "", 1))
	fs.StringVar(&f.ordering, "ordering", "", "fifo: the events of one ordering key arrive in the order they were accepted, one at a time; none (default): in parallel")
	fs.StringVar(&f.orderingKey, "ordering-key", "", `with --ordering fifo: a JSON Pointer into the event, such as /data/customerId, whose value is the key; "" for one key`)
	none := ""
	if !create {
		none = `; "" removes it`
	}
	fs.StringVar(&f.filter, "filter", "", "a CEL expression of type bool: only the events for which it is true are delivered, such as 'data.total > 100'"+none)
	fs.StringVar(&f.transform, "transform", "", "a CEL expression whose result (a map, a list or a string) is the body sent instead of the event's envelope"+none)
	fs.StringVar(&f.transformHeaders, "transform-headers", "", "a CEL expression whose result, a map of strings, adds headers to each request"+none)
	if create {
		fs.IntVar(&f.maxAttempts, "max-attempts", 0, "the most attempts of a delivery, the first included; default as many as the retry schedule gives")
	} else {
		fs.IntVar(&f.maxAttempts, "max-attempts", 0, "the most attempts of a delivery, the first included; 0 for as many as the retry schedule gives")
	}
	f.breaker.add(fs, !create, "the project's (or the server's)")
	fs.StringVar(&f.autoRecover, "auto-recover", "", "true or false: whether the webhook is probed, and enabled again at the first 2xx, once Hookgate disabled it"+strings.Replace(clear, " or the server's", "", 1))
	fs.StringVar(&f.signature, "signature", "", "the signatures its requests carry: v1 (HMAC with the secret; the default), v1a (Ed25519) or v1+v1a")
	if !create {
		fs.StringVar(&f.signatureGrace, "signature-grace", "", "with --signature: how long the previous scheme is still signed with, such as 24h (the default) or 0s")
	}
}

// signatureSettings is --signature (and --signature-grace); nil when not
// given.
func (f *webhookFlags) signatureSettings() *client.SignatureSettings {
	if f.signature == "" {
		return nil
	}
	return &client.SignatureSettings{Scheme: f.signature, GracePeriod: f.signatureGrace}
}

// autoRecoverFlag reads --auto-recover: true, false, or "" (nil: the
// project's setting).
func autoRecoverFlag(v string) (*bool, error) {
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fmt.Errorf("--auto-recover: want true or false, not %q", v)
	}
	return &b, nil
}

// auth builds the receiver auth the flags ask for; nil when none is set.
func (f *webhookFlags) auth() (*client.Auth, error) {
	oauth := f.oauthID != "" || f.oauthSecret != "" || f.oauthTokenURL != "" || len(f.oauthScopes) > 0
	n := 0
	for _, set := range []bool{f.authBasic != "", oauth, f.authNone} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("choose one of --auth-basic, --oauth-… and --auth-none")
	}
	switch {
	case f.authBasic != "":
		user, pass, ok := strings.Cut(f.authBasic, ":")
		if !ok || user == "" {
			return nil, errors.New("--auth-basic: want USER:PASSWORD")
		}
		return &client.Auth{Type: client.AuthBasic, Username: user, Password: pass}, nil
	case oauth:
		return &client.Auth{Type: client.AuthClientCredential, ClientID: f.oauthID, ClientSecret: f.oauthSecret, TokenURL: f.oauthTokenURL, Scopes: f.oauthScopes}, nil
	case f.authNone:
		return &client.Auth{Type: client.AuthNone}, nil
	}
	return nil, nil
}

func (f *webhookFlags) create(url string, stdin io.Reader) (client.WebhookCreate, error) {
	in := client.WebhookCreate{URL: url, UID: f.uid, Description: f.description, Events: f.events, Secret: f.secret,
		PublicHeaders: f.publicHeaders, QueryParams: f.queryParams, Method: f.method, PayloadEncoding: f.payloadEncoding,
		RateLimit: f.rateLimit, TriggerOnly: f.triggerOnly, RetrySchedule: f.retrySchedule, Timeout: f.timeout, MaxAttempts: f.maxAttempts,
		Ordering: client.Ordering(f.ordering), OrderingKey: f.orderingKey, Signature: f.signatureSettings(),
		Filter: f.filter, Transform: f.transform, TransformHeaders: f.transformHeaders}
	var err error
	if in.AutoRecover, err = autoRecoverFlag(f.autoRecover); err != nil {
		return in, err
	}
	if in.Auth, err = f.auth(); err != nil {
		return in, err
	}
	if in.TLS, err = f.tls.settings(); err != nil {
		return in, err
	}
	if in.Destination, err = f.destination.destination(url); err != nil {
		return in, err
	}
	if in.Destination != nil && in.Destination.Kind != client.DestinationHTTP {
		in.URL = "" // the broker's address is the destination's
	}
	if in.Breaker, err = f.breaker.breaker(); err != nil {
		return in, err
	}
	if in.Headers, err = parsePairs("header", f.headers); err != nil {
		return in, err
	}
	if in.Metadata, err = parsePairs("metadata", f.metadata); err != nil {
		return in, err
	}
	if f.schema != "" {
		if in.Schema, err = readJSON("schema", f.schema, stdin); err != nil {
			return in, err
		}
	}
	if f.then != "" {
		in.Then = &client.Chain{Webhook: f.then}
	}
	return in, nil
}

// update builds a change of the flags that were given.
func (f *webhookFlags) update(cmd *cobra.Command, url string) (client.WebhookUpdate, error) {
	ch := cmd.Flags().Changed
	var up client.WebhookUpdate
	var err error
	if url != "" {
		up.URL = &url
	}
	if ch("uid") {
		up.UID = &f.uid
	}
	if ch("description") {
		up.Description = &f.description
	}
	if ch("events") {
		up.Events = orEmpty(f.events)
	}
	if up.Auth, err = f.auth(); err != nil {
		return up, err
	}
	if up.TLS, err = f.tls.settings(); err != nil {
		return up, err
	}
	up.ClearTLS = f.tls.none
	if up.Destination, err = f.destination.destination(url); err != nil {
		return up, err
	}
	if up.Destination != nil && up.Destination.Kind != client.DestinationHTTP {
		up.URL = nil // the broker's address is the destination's
	}
	if ch("header") {
		if up.Headers, err = parsePairs("header", f.headers); err != nil {
			return up, err
		}
	}
	if ch("public-header") {
		up.PublicHeaders = orEmpty(f.publicHeaders)
	}
	if ch("query-param") {
		up.QueryParams = orEmpty(f.queryParams)
	}
	if ch("method") {
		up.Method = &f.method
	}
	if ch("payload-encoding") {
		up.PayloadEncoding = &f.payloadEncoding
	}
	if ch("rate-limit") {
		up.RateLimit = &f.rateLimit
	}
	if ch("metadata") {
		if up.Metadata, err = parsePairs("metadata", f.metadata); err != nil {
			return up, err
		}
	}
	if ch("schema") {
		if up.Schema, err = readJSON("schema", f.schema, cmd.InOrStdin()); err != nil {
			return up, err
		}
	}
	if ch("trigger-only") {
		up.TriggerOnly = &f.triggerOnly
	}
	if ch("then") {
		up.Then = &client.Chain{Webhook: f.then}
	}
	if ch("retry-schedule") {
		up.RetrySchedule = orEmpty(f.retrySchedule)
	}
	if ch("timeout") {
		up.Timeout, up.ClearTimeout = &f.timeout, f.timeout == ""
	}
	if ch("max-attempts") {
		up.MaxAttempts, up.ClearMaxAttempts = &f.maxAttempts, f.maxAttempts == 0
	}
	if ch("ordering") {
		o := client.Ordering(f.ordering)
		up.Ordering = &o
	}
	if ch("ordering-key") {
		up.OrderingKey = &f.orderingKey
	}
	if ch("filter") {
		up.Filter = &f.filter
	}
	if ch("transform") {
		up.Transform = &f.transform
	}
	if ch("transform-headers") {
		up.TransformHeaders = &f.transformHeaders
	}
	if ch("auto-recover") {
		if up.AutoRecover, err = autoRecoverFlag(f.autoRecover); err != nil {
			return up, err
		}
		up.ClearAutoRecover = up.AutoRecover == nil
	}
	if up.Breaker, err = f.breaker.breaker(); err != nil {
		return up, err
	}
	up.ClearBreaker = f.breaker.clear
	up.Signature = f.signatureSettings()
	return up, nil
}

// orEmpty keeps a set but empty list as an empty list (which clears the
// field) rather than nil (which leaves it).
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func newWebhookCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("webhook", "Register webhooks and manage them: secrets, activation, recovery, tests and triggers", true)
	one := func(use, short string, call func(ctx context.Context, c *client.Client, id string) (*client.Webhook, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return a.webhook1(cmd, func(c *client.Client) (*client.Webhook, error) { return call(cmd.Context(), c, args[0]) })
		}}
	}

	var cf webhookFlags
	create := &cobra.Command{
		Use:   "create URL",
		Short: "Register a webhook; its signing secret is shown. URL is the receiver's, or with --destination-kind the broker's address",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := cf.create(args[0], cmd.InOrStdin())
			if err != nil {
				return err
			}
			return a.webhook1(cmd, func(c *client.Client) (*client.Webhook, error) { return c.CreateWebhook(cmd.Context(), a.project, in) })
		},
	}
	cf.add(create.Flags(), true)

	var uf webhookFlags
	var newURL string
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Change a webhook: only the flags given change (an empty list clears one)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			up, err := uf.update(cmd, newURL)
			if err != nil {
				return err
			}
			return a.webhook1(cmd, func(c *client.Client) (*client.Webhook, error) {
				return c.UpdateWebhook(cmd.Context(), a.project, args[0], up)
			})
		},
	}
	update.Flags().StringVar(&newURL, "url", "", "new receiver URL")
	uf.add(update.Flags(), false)

	list := listCmd(a, "list", "List the project's webhooks", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Webhook], error) {
			return c.ListWebhooks(ctx, a.project, &o)
		},
		rows(a, []string{"ID", "UID", "STATUS", "EVENTS", "URL"}, func(h client.Webhook) []string {
			return []string{h.ID, orDash(h.UID), string(h.Status), subscribed(h), h.URL}
		}))

	del := removeCmd(a, "delete ID", "Delete a webhook; its unfinished deliveries are cancelled", "deleted webhook",
		func(ctx context.Context, c *client.Client, id string) error {
			return c.DeleteWebhook(ctx, a.project, id)
		})

	secret := &cobra.Command{
		Use:   "secret ID",
		Short: "Show a webhook's signing secret and its URL in full",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.secret(func(c *client.Client) (*client.Secret, error) {
				return c.GetWebhookSecret(cmd.Context(), a.project, args[0])
			})
		},
	}
	var rot client.SecretRotation
	rotate := &cobra.Command{
		Use:   "rotate-secret ID",
		Short: "Replace a webhook's signing secret; the old one keeps signing for the grace period",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.secret(func(c *client.Client) (*client.Secret, error) {
				return c.RotateWebhookSecret(cmd.Context(), a.project, args[0], rot)
			})
		},
	}
	rotate.Flags().StringVar(&rot.Secret, "secret", "", "the new secret (whsec_…); default a new one")
	rotate.Flags().StringVar(&rot.GracePeriod, "grace-period", "", "how long the old secret keeps signing, such as 24h (the default) or 0s")

	test := deliveryCmd(a, "test ID", "Send a webhook.test event to the webhook now", func(ctx context.Context, c *client.Client, id string) (*client.Delivery, error) {
		return c.TestWebhook(ctx, a.project, id)
	})

	cmd.AddCommand(create, list,
		one("get ID", "Show a webhook, by ID or uid (credentials redacted)", func(ctx context.Context, c *client.Client, id string) (*client.Webhook, error) {
			return c.GetWebhook(ctx, a.project, id)
		}),
		update, del,
		one("activate ID", "Activate a webhook; its paused deliveries resume", func(ctx context.Context, c *client.Client, id string) (*client.Webhook, error) {
			return c.ActivateWebhook(ctx, a.project, id)
		}),
		one("deactivate ID", "Deactivate a webhook; its pending deliveries wait, paused", func(ctx context.Context, c *client.Client, id string) (*client.Webhook, error) {
			return c.DeactivateWebhook(ctx, a.project, id)
		}),
		secret, rotate, newRecoverCmd(a), test, newTriggerCmd(a), newTestExpressionCmd(a),
		statsCmd(a, "stats ID", "A webhook's attempts over a window: successes, failures by class, durations, the last failure",
			func(ctx context.Context, c *client.Client, id string, opts *client.StatsOptions) (*client.Stats, error) {
				return c.GetWebhookStats(ctx, a.project, id, opts)
			}))
	return cmd
}

// webhook1 runs a call answering one webhook and shows it.
func (a *apiCmd) webhook1(cmd *cobra.Command, call func(*client.Client) (*client.Webhook, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	h, err := call(c)
	if err != nil {
		return err
	}
	return a.show(h, func(w io.Writer) {
		fields(w, "id", h.ID, "uid", orDash(h.UID), "url", h.URL, "status", string(h.Status), "events", subscribed(*h),
			"description", orDash(h.Description), "method", h.Method, "auth", string(h.Auth.Type), "headers", pairs(h.Headers),
			"rate limit", strconv.Itoa(h.RateLimit), "metadata", pairs(h.Metadata), "trigger only", strconv.FormatBool(h.TriggerOnly),
			"tls", tlsLine(h.TLS), "destination", destinationLine(h.Destination))
		d := h.Delivery
		fields(w, "retry schedule", join(d.RetrySchedule.Value)+" ("+d.RetrySchedule.From+")",
			"timeout", d.Timeout.Value+" ("+d.Timeout.From+")",
			"max attempts", strconv.Itoa(d.MaxAttempts.Value)+" ("+d.MaxAttempts.From+")",
			"auto recover", strconv.FormatBool(d.AutoRecover.Value)+" ("+d.AutoRecover.From+")",
			"breaker", breakerInForce(h), "circuit", circuitState(h.Circuit))
		if r := h.Recovery; r != nil {
			fields(w, "recovery", recoveryLine(r))
		}
		if h.Ordering == client.OrderingFIFO {
			fields(w, "ordering", "fifo, key "+orDash(h.OrderingKey))
		}
		if h.Filter != "" {
			fields(w, "filter", h.Filter)
		}
		if h.Transform != "" {
			fields(w, "transform", h.Transform)
		}
		if h.TransformHeaders != "" {
			fields(w, "transform headers", h.TransformHeaders)
		}
		if sg := h.Signature; sg.Scheme != "" && sg.Scheme != "v1" || sg.PublicKey != "" {
			fields(w, "signature", sg.Scheme, "public key", orDash(sg.PublicKey), "key id", orDash(sg.KeyID))
			if sg.PreviousScheme != "" && sg.PreviousSchemeExpiresAt != nil {
				fields(w, "previous signature", sg.PreviousScheme+" until "+ts(*sg.PreviousSchemeExpiresAt))
			}
		}
		if h.Secret != "" {
			fields(w, "secret", h.Secret)
		}
		fields(w, "created", ts(h.CreatedAt), "updated", ts(h.UpdatedAt))
	})
}

func (a *apiCmd) secret(call func(*client.Client) (*client.Secret, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	s, err := call(c)
	if err != nil {
		return err
	}
	return a.show(s, func(w io.Writer) {
		fields(w, "secret", s.Secret, "previous secret expires", ts(s.PreviousSecretExpiresAt))
		if s.URL != "" {
			fields(w, "url", s.URL)
		}
	})
}

func newRecoverCmd(a *apiCmd) *cobra.Command {
	var since string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "recover ID --since TIME",
		Short: "Queue again the webhook's deliveries failed since a time, and create those it missed",
		Long: "Queue again the webhook's deliveries failed since a time, and create those of events it missed\n" +
			"then (while deactivated, say). With --wait, follow them until the webhook has no pending\n" +
			"delivery, with a progress bar on a terminal.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			from, err := parseTimeFlag("since", since, time.Now())
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.RecoverWebhook(cmd.Context(), a.project, args[0], from)
			if err != nil {
				return err
			}
			if err := a.show(r, func(w io.Writer) {
				fields(w, "requeued", strconv.Itoa(r.Requeued), "created", strconv.Itoa(r.Created))
			}); err != nil {
				return err
			}
			if !wait || r.Requeued+r.Created == 0 {
				return nil
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return a.waitPending(ctx, c, args[0], r.Requeued+r.Created)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "RFC 3339 time, or a duration ago such as 24h")
	_ = cmd.MarkFlagRequired("since")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the webhook has no pending delivery, showing progress")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long --wait waits")
	return cmd
}

// waitPending follows a webhook's pending deliveries until there are none,
// counting total down.
func (a *apiCmd) waitPending(ctx context.Context, c *client.Client, webhook string, total int) error {
	var bar *mpb.Bar
	var p *mpb.Progress
	if isTerminal(a.stderr) {
		p = mpb.NewWithContext(ctx, mpb.WithOutput(a.stderr), mpb.WithWidth(40))
		bar = p.AddBar(int64(total), mpb.PrependDecorators(decor.Name("delivering "), decor.CountersNoUnit("%d / %d")),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.Elapsed(decor.ET_STYLE_GO, decor.WC{W: 6})))
	}
	finish := func() {
		if p != nil {
			bar.Abort(false)
			p.Wait()
		}
	}
	for {
		pending := 0
		for _, err := range c.Deliveries(ctx, a.project, &client.DeliveryListOptions{Webhook: webhook, Status: client.DeliveryPending, ListOptions: client.ListOptions{Limit: 250}}) {
			if err != nil {
				finish()
				return err
			}
			pending++
		}
		if bar != nil {
			bar.SetCurrent(int64(max(0, total-pending)))
		}
		if pending == 0 {
			finish()
			fmt.Fprintf(a.stderr, "no delivery of %s is pending\n", webhook)
			return nil
		}
		select {
		case <-ctx.Done():
			finish()
			return fmt.Errorf("still %d pending deliveries: %w", pending, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func newTriggerCmd(a *apiCmd) *cobra.Command {
	var data, timeout string
	var headers, query []string
	cmd := &cobra.Command{
		Use:   "trigger ID",
		Short: "Call the webhook now and print its receiver's answer",
		Long: "Call the webhook now, as registered (URL, auth, headers, signature), with --data as the body,\n" +
			"and print the receiver's status and body. A receiver's failure is printed too, and exits 0:\n" +
			"the call itself succeeded. Publisher keys may trigger.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := client.Trigger{Timeout: timeout}
			if data != "" {
				raw, err := readJSON("data", data, cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Data = raw
			}
			var err error
			if in.Headers, err = parsePairs("header", headers); err != nil {
				return err
			}
			q, err := parsePairs("query", query)
			if err != nil {
				return err
			}
			if q != nil {
				in.QueryParams = make(map[string]any, len(q))
				for k, v := range q {
					in.QueryParams[k] = v
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.TriggerWebhook(cmd.Context(), a.project, args[0], in)
			if err != nil {
				return err
			}
			return a.show(r, func(w io.Writer) {
				fields(w, "reference", r.ReferenceID, "status", strconv.Itoa(r.Status), "error", strconv.FormatBool(r.Error))
				if r.Reason != "" {
					fields(w, "reason", r.Reason)
				}
				for i, s := range r.Steps {
					fields(w, fmt.Sprintf("step %d", i+1), fmt.Sprintf("%s %d", s.ReferenceID, s.Status))
				}
				body := string(r.Data)
				if r.DataEncoding != "" {
					body += " (" + r.DataEncoding + ")"
				}
				if r.Truncated {
					body += " (truncated)"
				}
				fields(w, "data", body)
			})
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the request body: JSON, @file or - for stdin")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "a header to add, NAME=VALUE (repeat the flag)")
	cmd.Flags().StringArrayVar(&query, "query", nil, "a query parameter the webhook allows, NAME=VALUE (repeat the flag)")
	cmd.Flags().StringVar(&timeout, "timeout", "", "how long to wait for the receiver, such as 5s (at most the server's send timeout)")
	return cmd
}

// subscribed says which events a webhook receives: its filters, "all"
// without any, or "trigger only" for a webhook no event reaches.
func subscribed(h client.Webhook) string {
	switch {
	case h.TriggerOnly:
		return "trigger only"
	case len(h.Events) == 0:
		return "all"
	}
	return strings.Join(h.Events, ",")
}

// recoveryLine sums up a disabled webhook's recovery.
func recoveryLine(r *client.Recovery) string {
	probes := fmt.Sprintf("%d probes", r.Probes)
	if r.LastProbeAt != nil {
		probes += fmt.Sprintf(", the last at %s answered %d", ts(*r.LastProbeAt), r.LastStatusCode)
	}
	switch {
	case r.State == "probing" && r.NextProbeAt != nil:
		return fmt.Sprintf("recovering: next probe at %s (until %s); %s", ts(*r.NextProbeAt), ts(r.EndsAt), probes)
	case r.State == "gone":
		return "stopped: a probe was answered 410 Gone; " + probes
	case r.State == "ended":
		return fmt.Sprintf("ended at %s; %s", ts(r.EndsAt), probes)
	}
	return "off: autoRecover is false; " + probes
}
