package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/client"
)

func newDeliveryCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("delivery", "List deliveries, read their attempts, retry them", true)

	var filter client.DeliveryListOptions
	var status, kind, since, until string
	list := listCmd(a, "list", "List deliveries, the newest first", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Delivery], error) {
			f := filter
			f.ListOptions = o
			f.Status, f.Kind = client.DeliveryStatus(status), client.DeliveryKind(kind)
			var err error
			now := time.Now()
			if since != "" {
				if f.Since, err = parseTimeFlag("since", since, now); err != nil {
					return nil, err
				}
			}
			if until != "" {
				if f.Until, err = parseTimeFlag("until", until, now); err != nil {
					return nil, err
				}
			}
			return c.ListDeliveries(ctx, a.project, &f)
		},
		a.showDeliveries)
	list.Flags().StringVar(&filter.Webhook, "webhook", "", "only this webhook's (ID or uid)")
	list.Flags().StringVar(&filter.Event, "event", "", "only this event's")
	list.Flags().StringVar(&status, "status", "", "only in this status: pending, succeeded, failed, paused or cancelled; exhausted is failed event deliveries")
	list.Flags().StringVar(&kind, "kind", "", "only of this kind: event, trigger or probe (recovery probes)")
	list.Flags().StringVar(&filter.EventType, "event-type", "", "only of events of this type")
	list.Flags().StringVar(&since, "since", "", "only created since: an RFC 3339 time, or a duration ago such as 1h")
	list.Flags().StringVar(&until, "until", "", "only created before: an RFC 3339 time, or a duration ago")
	_ = list.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"pending", "succeeded", "failed", "paused", "cancelled", "exhausted"}, cobra.ShellCompDirectiveNoFileComp))
	_ = list.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"event", "trigger", "probe"}, cobra.ShellCompDirectiveNoFileComp))

	get := deliveryCmd(a, "get ID", "Show a delivery", func(ctx context.Context, c *client.Client, id string) (*client.Delivery, error) {
		return c.GetDelivery(ctx, a.project, id)
	})

	attempts := listCmd(a, "attempts ID", "List a delivery's attempts, the latest first, with each answer", 1,
		func(ctx context.Context, c *client.Client, args []string, o client.ListOptions) (*client.Page[client.Attempt], error) {
			return c.ListAttempts(ctx, a.project, args[0], &o)
		},
		rows(a, []string{"#", "STARTED", "NODE", "STATUS", "DURATION", "ERROR", "SENT", "RESPONSE"}, func(at client.Attempt) []string {
			return []string{strconv.Itoa(at.Attempt), ts(at.StartedAt), orDash(at.Node), strconv.Itoa(at.StatusCode), millis(at.Duration),
				orDash(at.Error), orDash(oneLine(at.RequestBody, 40)), orDash(oneLine(at.ResponseBody, 60))}
		}))

	retry := deliveryCmd(a, "retry ID", "Queue a delivery for one more attempt now", func(ctx context.Context, c *client.Client, id string) (*client.Delivery, error) {
		return c.RetryDelivery(ctx, a.project, id)
	})
	cmd.AddCommand(list, get, attempts, retry)
	cmd.AddCommand(newRedriveCmds(a)...)
	return cmd
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (a *apiCmd) showDelivery(d *client.Delivery) error {
	return a.show(d, func(w io.Writer) {
		fields(w, "id", d.ID, "status", string(d.Status), "kind", string(d.Kind), "webhook", d.WebhookID,
			"event", orDash(d.EventID), "event type", orDash(d.EventType), "attempts", strconv.Itoa(d.Attempts),
			"last status", strconv.Itoa(d.LastStatusCode), "last error", orDash(d.LastError),
			"next attempt", ts(d.NextAttemptAt), "created", ts(d.CreatedAt), "updated", ts(d.UpdatedAt))
		if d.OrderingKey != nil {
			fields(w, "ordering key", *d.OrderingKey)
		}
	})
}

func (a *apiCmd) showDeliveries(items []client.Delivery) error {
	return a.show(items, func(w io.Writer) {
		row(w, "ID", "STATUS", "WEBHOOK", "EVENT TYPE", "ATTEMPTS", "LAST", "CREATED")
		for _, d := range items {
			last := "-"
			if d.LastStatusCode != 0 {
				last = strconv.Itoa(d.LastStatusCode)
			} else if d.LastError != "" {
				last = oneLine(d.LastError, 40)
			}
			row(w, d.ID, string(d.Status), d.WebhookID, orDash(d.EventType), fmt.Sprint(d.Attempts), last, ts(d.CreatedAt))
		}
	})
}

// deliveryCmd makes a command that shows the delivery call answers for its
// one argument.
func deliveryCmd(a *apiCmd, use, short string, call func(ctx context.Context, c *client.Client, id string) (*client.Delivery, error)) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
		c, err := a.client()
		if err != nil {
			return err
		}
		d, err := call(cmd.Context(), c, args[0])
		if err != nil {
			return err
		}
		return a.showDelivery(d)
	}}
}
