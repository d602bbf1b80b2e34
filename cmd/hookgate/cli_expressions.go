package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/client"
)

// newTestExpressionCmd is webhook test-expression: the API's
// testWebhookExpression.
func newTestExpressionCmd(a *apiCmd) *cobra.Command {
	var in client.ExpressionTestInput
	var event string
	var metadata []string
	cmd := &cobra.Command{
		Use:   "test-expression",
		Short: "Run a filter, a transform and transform headers on an event, without saving them, and print each result with its cost and time",
		Long: "Run the expressions given (--filter, --transform, --transform-headers; at least one) on an event, as ingest and\n" +
			"delivery would, without saving anything: the event given with --event ({\"type\", \"data\", \"id\", \"timestamp\"}: JSON,\n" +
			"@file or - for stdin) or the project's stored event --event-id, with --metadata as the webhook's own metadata.\n" +
			"An expression that does not compile is an error naming it, with the line and column; one that fails on the event,\n" +
			"or runs over its cost limit, is a result (its error is printed) and exits 0.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (event == "") == (in.EventID == "") {
				return errors.New("give the event with --event JSON (or @file, or - for stdin), or the ID of a stored event with --event-id")
			}
			if event != "" {
				raw, err := readJSON("event", event, cmd.InOrStdin())
				if err != nil {
					return err
				}
				var ev struct {
					Type      string          `json:"type"`
					Data      json.RawMessage `json:"data"`
					ID        string          `json:"id"`
					Timestamp time.Time       `json:"timestamp"`
				}
				if err := json.Unmarshal(raw, &ev); err != nil {
					return fmt.Errorf("--event: want {\"type\": …, \"data\": …}: %w", err)
				}
				in.Event = &client.SampleEvent{Type: ev.Type, ID: ev.ID, Timestamp: ev.Timestamp}
				if len(ev.Data) > 0 {
					in.Event.Data = ev.Data
				}
			}
			var err error
			if in.Metadata, err = parsePairs("metadata", metadata); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := c.TestWebhookExpression(cmd.Context(), a.project, in)
			if err != nil {
				return err
			}
			return a.show(r, func(w io.Writer) { expressionResults(w, r) })
		},
	}
	cmd.Flags().StringVar(&in.Filter, "filter", "", "a filter to try, such as 'data.total > 100'")
	cmd.Flags().StringVar(&in.Transform, "transform", "", "a transform to try, such as '{\"amount\": data.total}'")
	cmd.Flags().StringVar(&in.TransformHeaders, "transform-headers", "", "a transform headers to try, such as '{\"X-Region\": data.region}'")
	cmd.Flags().StringVar(&event, "event", "", `the event: {"type", "data", "id", "timestamp"} as JSON, @file or - for stdin`)
	cmd.Flags().StringVar(&in.EventID, "event-id", "", "the ID of a stored event of the project, instead of --event")
	cmd.Flags().StringArrayVar(&metadata, "metadata", nil, "the webhook's metadata the expressions see, NAME=VALUE (repeat the flag)")
	return cmd
}

// expressionResults writes each result of a test-expression.
func expressionResults(w io.Writer, r *client.ExpressionTest) {
	if f := r.Filter; f != nil {
		fields(w, "filter matched", strconv.FormatBool(f.Matched))
		if f.Error != "" {
			fields(w, "filter error", f.Error+" (counted as no match)")
		}
		fields(w, "filter cost", costLine(f.Cost, f.DurationUs))
	}
	if t := r.Transform; t != nil {
		if t.Error != "" {
			fields(w, "transform error", t.Error)
		} else {
			body := string(t.Body)
			if t.ContentType != "application/json" {
				var s string
				if json.Unmarshal(t.Body, &s) == nil {
					body = s
				}
			}
			fields(w, "transform body", body, "content type", t.ContentType)
		}
		fields(w, "transform cost", costLine(t.Cost, t.DurationUs))
	}
	if h := r.TransformHeaders; h != nil {
		if h.Error != "" {
			fields(w, "headers error", h.Error)
		} else {
			fields(w, "headers", pairs(h.Headers))
		}
		fields(w, "headers cost", costLine(h.Cost, h.DurationUs))
	}
}

// costLine is an evaluation's cost and time.
func costLine(cost uint64, us int64) string {
	return fmt.Sprintf("%d in %s", cost, time.Duration(us)*time.Microsecond)
}
