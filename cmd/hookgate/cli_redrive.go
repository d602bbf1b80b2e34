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

// redrivePoll is how often redrive --wait reads the redrive's progress.
const redrivePoll = 500 * time.Millisecond

// newRedriveCmds are the delivery commands of redrives: start one, and read
// one.
func newRedriveCmds(a *apiCmd) []*cobra.Command {
	var f client.RedriveFilter
	var status, since, until, ids, key string
	var wait bool
	redrive := &cobra.Command{Use: "redrive", Short: "Queue again, in the background, the exhausted deliveries of a filter, or those named by --ids",
		Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			in := client.RedriveRequest{IdempotencyKey: key}
			if ids != "" {
				if cmd.Flags().Changed("webhook") || cmd.Flags().Changed("event-type") || status != "" || since != "" || until != "" {
					return fmt.Errorf("--ids names the deliveries: give it without --webhook, --event-type, --status, --since or --until")
				}
				in.IDs = strings.Split(ids, ",")
			} else {
				filter := f
				filter.Status = client.DeliveryStatus(status)
				now := time.Now()
				if since != "" {
					if filter.Since, err = parseTimeFlag("since", since, now); err != nil {
						return err
					}
				}
				if until != "" {
					if filter.Until, err = parseTimeFlag("until", until, now); err != nil {
						return err
					}
				}
				in.Filter = &filter
			}
			r, err := c.RedriveDeliveries(cmd.Context(), a.project, in)
			if err != nil {
				return err
			}
			if wait {
				if r, err = a.waitRedrive(cmd.Context(), c, r); err != nil {
					return err
				}
			}
			return a.showRedrive(r)
		}}
	redrive.Flags().StringVar(&f.Webhook, "webhook", "", "only this webhook's deliveries (ID or uid)")
	redrive.Flags().StringVar(&f.EventType, "event-type", "", "only deliveries of events of this type")
	redrive.Flags().StringVar(&status, "status", "", "only deliveries in this status: exhausted (the default, same as failed) or succeeded")
	redrive.Flags().StringVar(&since, "since", "", "only created since: an RFC 3339 time, or a duration ago such as 1h")
	redrive.Flags().StringVar(&until, "until", "", "only created before: an RFC 3339 time, or a duration ago")
	redrive.Flags().StringVar(&ids, "ids", "", "the deliveries to queue again, comma-separated (at most 1000), instead of a filter")
	redrive.Flags().StringVar(&key, "idempotency-key", "", "the same key and flags answer the redrive they started")
	redrive.Flags().BoolVar(&wait, "wait", false, "wait until the redrive ends, with its progress on a terminal")
	_ = redrive.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"exhausted", "failed", "succeeded"}, cobra.ShellCompDirectiveNoFileComp))

	get := &cobra.Command{Use: "redrive-status ID", Short: "Show a redrive's progress", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.GetRedrive(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			return a.showRedrive(r)
		}}
	return []*cobra.Command{redrive, get}
}

// waitRedrive reads r until it ends, redrawing its progress on a terminal,
// and answers its last read; a failed redrive is an error.
func (a *apiCmd) waitRedrive(ctx context.Context, c *client.Client, r *client.Redrive) (*client.Redrive, error) {
	tty := isTerminal(a.stderr)
	for r.State == client.RedriveRunning {
		if tty {
			fmt.Fprintf(a.stderr, "\rredrive %s: %d matched, %d requeued", r.ID, r.Matched, r.Requeued)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(redrivePoll):
		}
		var err error
		if r, err = c.GetRedrive(ctx, a.project, r.ID); err != nil {
			return nil, err
		}
	}
	if tty {
		fmt.Fprintf(a.stderr, "\rredrive %s: %d matched, %d requeued, %s\n", r.ID, r.Matched, r.Requeued, r.State)
	}
	if r.State == client.RedriveFailed {
		return r, fmt.Errorf("redrive %s failed: %s", r.ID, r.Error)
	}
	return r, nil
}

func (a *apiCmd) showRedrive(r *client.Redrive) error {
	return a.show(r, func(w io.Writer) {
		fields(w, "id", r.ID, "state", r.State, "matched", strconv.FormatInt(r.Matched, 10), "requeued", strconv.FormatInt(r.Requeued, 10),
			"started", ts(r.StartedAt), "finished", ts(r.FinishedAt), "error", orDash(r.Error))
	})
}
