package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/hookgate/hookgate/client"
)

func newEventCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("event", "Send events and read them", true)

	var typ, data, key, file string
	var batch int
	send := &cobra.Command{
		Use:   "send --type TYPE --data JSON | --file events.jsonl",
		Short: "Send an event, or every event of a JSON Lines file in batches",
		Long: "Send one event (--type and --data), or every line of a JSON Lines file (--file; - for stdin), each\n" +
			`line an event such as {"type":"order.paid","data":{"id":1},"idempotencyKey":"order-1-paid"}.` + "\n" +
			"A file goes in batches of up to --batch events, each committed whole; a progress bar shows on a\n" +
			"terminal. If a batch is refused, the events before it stay sent and the error names its line:\n" +
			"give events idempotency keys and the whole file can be sent again safely.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if file != "" {
				if typ != "" || data != "" || key != "" {
					return errors.New("--file sends the file's events: --type, --data and --idempotency-key go in its lines")
				}
				return a.sendFile(cmd.Context(), c, file, batch, cmd.InOrStdin())
			}
			if typ == "" {
				return errors.New("--type is required (or --file)")
			}
			if data == "" {
				return errors.New("--data is required: the event's JSON, @file or - for stdin")
			}
			raw, err := readJSON("data", data, cmd.InOrStdin())
			if err != nil {
				return err
			}
			ev, err := c.SendEvent(cmd.Context(), a.project, client.EventSend{Type: typ, Data: raw, IdempotencyKey: key})
			if err != nil {
				return err
			}
			return a.show(ev, func(w io.Writer) {
				fields(w, "id", ev.ID, "type", ev.Type, "deliveries", strconv.Itoa(ev.Deliveries), "created", ts(ev.CreatedAt))
				if ev.Replayed {
					fields(w, "replayed", "true (the idempotency key answered an earlier event)")
				}
			})
		},
	}
	send.Flags().StringVar(&typ, "type", "", "event type, such as order.paid")
	send.Flags().StringVar(&data, "data", "", "the event's data: JSON, @file or - for stdin")
	send.Flags().StringVar(&key, "idempotency-key", "", "a repeat with this key within 24 h answers the first event")
	send.Flags().StringVar(&file, "file", "", "a JSON Lines file of events to send (- for stdin)")
	send.Flags().IntVar(&batch, "batch", 500, "events per request with --file (at most 1000)")

	var lo client.EventListOptions
	list := listCmd(a, "list", "List events, the newest first", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Event], error) {
			f := lo
			f.ListOptions = o
			return c.ListEvents(ctx, a.project, &f)
		},
		rows(a, []string{"ID", "TYPE", "DELIVERIES", "CREATED", "DATA"}, func(e client.Event) []string {
			return []string{e.ID, e.Type, strconv.Itoa(e.Deliveries), ts(e.CreatedAt), oneLine(string(e.Data), 60)}
		}))
	list.Flags().StringVar(&lo.Type, "type", "", "only events of this type")
	list.Flags().BoolVar(&lo.IncludeOperational, "include-operational", false, "also Hookgate's own events (webhook.test)")

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show an event with its data",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			e, err := c.GetEvent(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			return a.show(e, func(w io.Writer) {
				fields(w, "id", e.ID, "type", e.Type, "idempotency key", orDash(e.IdempotencyKey),
					"deliveries", strconv.Itoa(e.Deliveries), "created", ts(e.CreatedAt), "data", string(e.Data))
			})
		},
	}

	deliveries := listCmd(a, "deliveries ID", "List an event's deliveries, one a webhook", 1,
		func(ctx context.Context, c *client.Client, args []string, o client.ListOptions) (*client.Page[client.Delivery], error) {
			return c.ListEventDeliveries(ctx, a.project, args[0], &o)
		},
		a.showDeliveries)
	cmd.AddCommand(send, list, get, deliveries)
	return cmd
}

// sendFile sends a JSON Lines file of events in batches.
func (a *apiCmd) sendFile(ctx context.Context, c *client.Client, name string, batch int, stdin io.Reader) error {
	if batch < 1 || batch > client.MaxBatch {
		return fmt.Errorf("--batch %d: want 1 to %d", batch, client.MaxBatch)
	}
	var events []client.EventSend
	var lines []int // the file line of each event
	in := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("--file: %w", err)
		}
		defer f.Close()
		in = f
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev struct {
			Type           string          `json:"type"`
			Data           json.RawMessage `json:"data"`
			IdempotencyKey string          `json:"idempotencyKey"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			return fmt.Errorf("--file line %d: %w", n, err)
		}
		if ev.Type == "" || len(ev.Data) == 0 {
			return fmt.Errorf(`--file line %d: want {"type": …, "data": …}`, n)
		}
		events = append(events, client.EventSend{Type: ev.Type, Data: ev.Data, IdempotencyKey: ev.IdempotencyKey})
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--file: %w", err)
	}
	var bar *mpb.Bar
	var p *mpb.Progress
	if isTerminal(a.stderr) && len(events) > batch {
		p = mpb.NewWithContext(ctx, mpb.WithOutput(a.stderr), mpb.WithWidth(40))
		bar = p.AddBar(int64(len(events)), mpb.PrependDecorators(decor.Name("sending "), decor.CountersNoUnit("%d / %d")),
			mpb.AppendDecorators(decor.Percentage(decor.WC{W: 5}), decor.AverageSpeed(0, " %.0f/s", decor.WC{W: 9})))
	}
	sent, replayed, deliveries := 0, 0, 0
	var failure error
	for sent < len(events) {
		chunk := events[sent:min(sent+batch, len(events))]
		acc, err := c.SendEvents(ctx, a.project, chunk)
		if err != nil {
			failure = fmt.Errorf("the batch of lines %d–%d was refused, %d events before it were sent: %w",
				lines[sent], lines[sent+len(chunk)-1], sent, withLine(err, lines[sent:]))
			break
		}
		for _, e := range acc {
			if e.Replayed {
				replayed++
			} else {
				deliveries += e.Deliveries
			}
		}
		sent += len(chunk)
		if bar != nil {
			bar.SetCurrent(int64(sent))
		}
	}
	if p != nil {
		if failure != nil {
			bar.Abort(false)
		}
		p.Wait()
	}
	if failure != nil {
		return failure
	}
	report := map[string]int{"events": sent, "new": sent - replayed, "replayed": replayed, "deliveries": deliveries}
	return a.show(report, func(w io.Writer) {
		again := strconv.Itoa(replayed)
		if replayed > 0 {
			again += " (their idempotency keys answered events sent before)"
		}
		fields(w, "events", strconv.Itoa(sent), "new", strconv.Itoa(sent-replayed), "replayed", again, "deliveries", strconv.Itoa(deliveries))
	})
}

// withLine adds the file line to an API error naming events[i].
func withLine(err error, lines []int) error {
	var e *client.Error
	if !errors.As(err, &e) {
		return err
	}
	var i int
	var rest string
	if n, _ := fmt.Sscanf(e.Parameter, "events[%d]%s", &i, &rest); n >= 1 && i >= 0 && i < len(lines) {
		e.Detail = fmt.Sprintf("line %d: %s", lines[i], e.Detail)
	}
	return e
}

func newEventTypeCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("event-type", "Manage the project's event catalog and its schemas", true)
	show := func(t *client.EventType) error {
		return a.show(t, func(w io.Writer) {
			fields(w, "name", t.Name, "description", orDash(t.Description), "schema", orDash(string(t.Schema)),
				"created", ts(t.CreatedAt), "updated", ts(t.UpdatedAt))
		})
	}
	var desc, schema string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Add an event type; with --schema, events of this type must match it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := client.EventTypeCreate{Name: args[0], Description: desc}
			if schema != "" {
				raw, err := readJSON("schema", schema, cmd.InOrStdin())
				if err != nil {
					return err
				}
				in.Schema = raw
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.CreateEventType(cmd.Context(), a.project, in)
			if err != nil {
				return err
			}
			return show(t)
		},
	}
	create.Flags().StringVar(&desc, "description", "", "what the event means")
	create.Flags().StringVar(&schema, "schema", "", "JSON Schema of the data: JSON, @file or -")

	var udesc, uschema string
	update := &cobra.Command{
		Use:   "update NAME",
		Short: "Change an event type's description or schema",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var up client.EventTypeUpdate
			if cmd.Flags().Changed("description") {
				up.Description = &udesc
			}
			if cmd.Flags().Changed("schema") {
				raw, err := readJSON("schema", uschema, cmd.InOrStdin())
				if err != nil {
					return err
				}
				up.Schema = raw
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.UpdateEventType(cmd.Context(), a.project, args[0], up)
			if err != nil {
				return err
			}
			return show(t)
		},
	}
	update.Flags().StringVar(&udesc, "description", "", "new description")
	update.Flags().StringVar(&uschema, "schema", "", "new JSON Schema: JSON, @file or -; null removes it")

	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show an event type",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.GetEventType(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			return show(t)
		},
	}
	list := listCmd(a, "list", "List the catalog, by name", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.EventType], error) {
			return c.ListEventTypes(ctx, a.project, &o)
		},
		rows(a, []string{"NAME", "SCHEMA", "DESCRIPTION"}, func(t client.EventType) []string {
			has := "no"
			if len(t.Schema) > 0 && string(t.Schema) != "null" {
				has = "yes"
			}
			return []string{t.Name, has, orDash(t.Description)}
		}))
	del := removeCmd(a, "delete NAME", "Remove an event type from the catalog", "deleted event type",
		func(ctx context.Context, c *client.Client, name string) error {
			return c.DeleteEventType(ctx, a.project, name)
		})
	cmd.AddCommand(create, list, get, update, del)
	return cmd
}
