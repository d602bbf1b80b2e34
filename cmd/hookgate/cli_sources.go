package main

import (
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

// sourceFlags configure a source's broker and event type on create and
// update.
type sourceFlags struct {
	url, stream, group, bodyField, username, password, token string
	typeHeader, typePointer, typeDefault                     string
}

func (f *sourceFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "the broker's address, such as redis://host:6379/0")
	fs.StringVar(&f.stream, "stream", "", "redis-stream: the stream to read")
	fs.StringVar(&f.group, "group", "", "redis-stream: the consumer group (default hookgate)")
	fs.StringVar(&f.bodyField, "body-field", "", "redis-stream: the entry's field that holds the message (default body); the others are its headers")
	fs.StringVar(&f.username, "username", "", "the broker's user, with --password")
	fs.StringVar(&f.password, "password", "", "the broker's password (******** keeps the stored one on update)")
	fs.StringVar(&f.token, "token", "", "the broker's token, for kinds that take one instead of a user")
	fs.StringVar(&f.typeHeader, "type-header", "", "the header (stream field, property) that holds each message's event type")
	fs.StringVar(&f.typePointer, "type-pointer", "", "a JSON Pointer to the event type in the body, such as /type")
	fs.StringVar(&f.typeDefault, "type-default", "", "the event type of a message where the header or pointer finds none")
}

// config is the configuration the flags give.
func (f *sourceFlags) config() client.SourceConfig {
	c := client.SourceConfig{URL: f.url, Stream: f.stream, Group: f.group, BodyField: f.bodyField}
	if f.username != "" || f.password != "" || f.token != "" {
		c.Auth = &client.DestinationAuth{Username: f.username, Password: f.password, Token: f.token}
	}
	return c
}

func (f *sourceFlags) eventType() client.SourceEventType {
	return client.SourceEventType{Header: f.typeHeader, Pointer: f.typePointer, Default: f.typeDefault}
}

// configFlags are the flags of a source's configuration: an update with
// any of them sends the whole configuration again.
var configFlags = []string{"url", "stream", "group", "body-field", "username", "password", "token"}

func newSourceCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("source", "Add broker sources (Redis streams…) whose messages become the project's events, and watch their state", true)
	one := func(use, short string, call func(ctx context.Context, c *client.Client, id string) (*client.Source, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return a.source1(func(c *client.Client) (*client.Source, error) { return call(cmd.Context(), c, args[0]) })
		}}
	}

	var in client.SourceCreate
	var cf sourceFlags
	create := &cobra.Command{
		Use:   "create --name NAME --kind KIND --url URL",
		Short: "Add a source; the server checks it and probes its broker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Config, in.EventType = cf.config(), cf.eventType()
			return a.source1(func(c *client.Client) (*client.Source, error) {
				return c.CreateSource(cmd.Context(), a.project, in)
			})
		},
	}
	create.Flags().StringVar(&in.Name, "name", "", "a name for it")
	create.Flags().StringVar(&in.Kind, "kind", "", "the broker's kind: redis-stream, nats, amqp or mqtt (those the server registers)")
	cf.add(create.Flags())
	_ = create.MarkFlagRequired("name")
	_ = create.MarkFlagRequired("kind")
	_ = create.MarkFlagRequired("url")

	var name string
	var uf sourceFlags
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Change a source's name, event type or configuration (given again whole; probed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var up client.SourceUpdate
			fs := cmd.Flags()
			if fs.Changed("name") {
				up.Name = &name
			}
			for _, f := range configFlags {
				if fs.Changed(f) {
					c := uf.config()
					up.Config = &c
					break
				}
			}
			if up.Config != nil && up.Config.URL == "" {
				return errors.New("a new configuration is given whole: give --url too")
			}
			if fs.Changed("type-header") || fs.Changed("type-pointer") || fs.Changed("type-default") {
				t := uf.eventType()
				up.EventType = &t
			}
			return a.source1(func(c *client.Client) (*client.Source, error) {
				return c.UpdateSource(cmd.Context(), a.project, args[0], up)
			})
		},
	}
	update.Flags().StringVar(&name, "name", "", "new name")
	uf.add(update.Flags())

	list := listCmd(a, "list", "List the project's sources and their state", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Source], error) {
			return c.ListSources(ctx, a.project, &o)
		},
		rows(a, []string{"ID", "KIND", "NAME", "STATUS", "CONNECTED", "NODE", "ACCEPTED", "REJECTED", "LAG"}, func(s client.Source) []string {
			return []string{s.ID, s.Kind, s.Name, s.Status, strconv.FormatBool(s.State.Connected), orDash(s.State.Node),
				strconv.FormatInt(s.State.Accepted, 10), strconv.FormatInt(s.State.Rejected, 10), lagOf(s.State.Lag)}
		}))

	del := removeCmd(a, "delete ID", "Delete a source; its consumer stops", "deleted source",
		func(ctx context.Context, c *client.Client, id string) error {
			return c.DeleteSource(ctx, a.project, id)
		})
	cmd.AddCommand(create, list,
		one("get ID", "Show a source and its state (credentials redacted)", func(ctx context.Context, c *client.Client, id string) (*client.Source, error) {
			return c.GetSource(ctx, a.project, id)
		}),
		update, del,
		one("activate ID", "Consume a deactivated source again", func(ctx context.Context, c *client.Client, id string) (*client.Source, error) {
			return c.ActivateSource(ctx, a.project, id)
		}),
		one("deactivate ID", "Stop consuming a source; its messages wait in the broker", func(ctx context.Context, c *client.Client, id string) (*client.Source, error) {
			return c.DeactivateSource(ctx, a.project, id)
		}))
	return cmd
}

// lagOf shows a lag that may be unknown.
func lagOf(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}

// source1 calls for one source and shows it.
func (a *apiCmd) source1(call func(*client.Client) (*client.Source, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	s, err := call(c)
	if err != nil {
		return err
	}
	return a.show(s, func(w io.Writer) {
		typ := s.EventType
		how := "header " + typ.Header
		if typ.Pointer != "" {
			how = "pointer " + typ.Pointer
		} else if typ.Header == "" {
			how = "-"
		}
		st := s.State
		fields(w, "id", s.ID, "name", s.Name, "kind", s.Kind, "url", s.Config.URL, "stream", orDash(s.Config.Stream),
			"event type", how, "default type", orDash(typ.Default), "status", s.Status,
			"connected", strconv.FormatBool(st.Connected), "node", orDash(st.Node), "lag", lagOf(st.Lag),
			"received", strconv.FormatInt(st.Received, 10), "accepted", strconv.FormatInt(st.Accepted, 10),
			"rejected", strconv.FormatInt(st.Rejected, 10), "last message", tsOf(st.LastMessageAt),
			"last error", orDash(st.LastError), "created", ts(s.CreatedAt))
	})
}
