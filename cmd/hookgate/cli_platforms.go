package main

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/providers"
)

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// registering returns the titles of the providers that take the inbound
// URL through their API.
func registering(r *platforms.Registry) []string {
	var titles []string
	for _, n := range r.Names() {
		if p, _ := r.Get(n); p.Info().Can(platforms.CanRegister) {
			titles = append(titles, p.Info().Title)
		}
	}
	return titles
}

func newPlatformCmd() *cobra.Command {
	a := &apiCmd{}
	known := providers.All()
	cmd := a.group("platform", "Connect messaging platforms ("+strings.Join(registering(known), ", ")+") and register Hookgate with them", true)
	one := func(use, short string, call func(ctx context.Context, c *client.Client, id string) (*client.Platform, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			return a.platform1(func(c *client.Client) (*client.Platform, error) { return call(cmd.Context(), c, args[0]) })
		}}
	}

	var in client.PlatformCreate
	var creds string
	create := &cobra.Command{
		Use:   "create --provider NAME --credentials JSON",
		Short: "Connect a platform; its inbound URL is shown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readJSON("credentials", creds, cmd.InOrStdin())
			if err != nil {
				return err
			}
			in.Credentials = raw
			return a.platform1(func(c *client.Client) (*client.Platform, error) {
				return c.CreatePlatform(cmd.Context(), a.project, in)
			})
		},
	}
	create.Flags().StringVar(&in.Provider, "provider", "", orList(known.Names()))
	create.Flags().StringVar(&in.Name, "name", "", "a name for it")
	create.Flags().StringVar(&creds, "credentials", "", `the provider's credentials: JSON, @file or - (telegram: {"botToken": "…"})`)
	create.Flags().StringVar(&in.APIBaseURL, "api-base-url", "", "the provider's API address; default its public one")
	_ = create.MarkFlagRequired("provider")
	_ = create.MarkFlagRequired("credentials")
	_ = create.RegisterFlagCompletionFunc("provider", cobra.FixedCompletions(known.Names(), cobra.ShellCompDirectiveNoFileComp))

	var name, ucreds, base string
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Change a platform's name, credentials or API address",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var up client.PlatformUpdate
			if cmd.Flags().Changed("name") {
				up.Name = &name
			}
			if cmd.Flags().Changed("api-base-url") {
				up.APIBaseURL = &base
			}
			if cmd.Flags().Changed("credentials") {
				raw, err := readJSON("credentials", ucreds, cmd.InOrStdin())
				if err != nil {
					return err
				}
				up.Credentials = raw
			}
			return a.platform1(func(c *client.Client) (*client.Platform, error) {
				return c.UpdatePlatform(cmd.Context(), a.project, args[0], up)
			})
		},
	}
	update.Flags().StringVar(&name, "name", "", "new name")
	update.Flags().StringVar(&ucreds, "credentials", "", "fields to change: JSON, @file or -")
	update.Flags().StringVar(&base, "api-base-url", "", `new API address; "" for the provider's public one (another host needs --credentials with the secrets again)`)

	list := listCmd(a, "list", "List the project's platforms", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Platform], error) {
			return c.ListPlatforms(ctx, a.project, &o)
		},
		rows(a, []string{"ID", "PROVIDER", "NAME", "REGISTERED", "LAST INBOUND", "INBOUND URL"}, func(p client.Platform) []string {
			return []string{p.ID, p.Provider, orDash(p.Name), strconv.FormatBool(p.Registered), ts(p.LastInboundAt), p.InboundURL}
		}))

	del := removeCmd(a, "delete ID", "Delete a platform; its inbound URL stops answering", "deleted platform",
		func(ctx context.Context, c *client.Client, id string) error {
			return c.DeletePlatform(ctx, a.project, id)
		})
	registration := func(use, short string, call func(ctx context.Context, c *client.Client, id string) (*client.Registration, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1), RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			r, err := call(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return a.show(r, func(w io.Writer) {
				fields(w, "platform", r.PlatformID, "provider", r.Provider, "inbound url", r.InboundURL,
					"registered", strconv.FormatBool(r.Registered), "provider response", orDash(oneLine(string(r.ProviderResponse), 200)))
			})
		}}
	}
	status := &cobra.Command{
		Use:   "status ID",
		Short: "Ask the platform where it posts, and whether that is Hookgate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.PlatformWebhookStatus(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			return a.show(s, func(w io.Writer) {
				fields(w, "platform", s.PlatformID, "provider", s.Provider, "registered", strconv.FormatBool(s.Registered),
					"url", orDash(s.URL), "inbound url", s.InboundURL, "pending updates", strconv.Itoa(s.PendingUpdates),
					"last error", orDash(s.LastError), "last error at", ts(s.LastErrorAt))
			})
		},
	}
	cmd.AddCommand(create, list,
		one("get ID", "Show a platform (credentials redacted)", func(ctx context.Context, c *client.Client, id string) (*client.Platform, error) {
			return c.GetPlatform(ctx, a.project, id)
		}),
		update, del,
		registration("register-webhook ID", "Register Hookgate's inbound URL with the platform", func(ctx context.Context, c *client.Client, id string) (*client.Registration, error) {
			return c.RegisterPlatformWebhook(ctx, a.project, id)
		}),
		registration("unregister-webhook ID", "Remove the registration from the platform", func(ctx context.Context, c *client.Client, id string) (*client.Registration, error) {
			return c.UnregisterPlatformWebhook(ctx, a.project, id)
		}),
		status)
	return cmd
}

func (a *apiCmd) platform1(call func(*client.Client) (*client.Platform, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := call(c)
	if err != nil {
		return err
	}
	return a.show(p, func(w io.Writer) {
		fields(w, "id", p.ID, "provider", p.Provider, "name", orDash(p.Name), "credentials", string(p.Credentials),
			"api base url", orDash(p.APIBaseURL), "inbound url", p.InboundURL, "registered", strconv.FormatBool(p.Registered),
			"last inbound", ts(p.LastInboundAt), "created", ts(p.CreatedAt))
	})
}

func newMessageCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("message", "Send messages through a connected platform, and list them", true)
	var in client.MessageSend
	send := &cobra.Command{
		Use:   "send --platform ID --to CHAT --text TEXT",
		Short: "Send a text message",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.SendMessage(cmd.Context(), a.project, in)
			if err != nil {
				return err
			}
			return a.show(m, func(w io.Writer) {
				fields(w, "id", m.ID, "status", string(m.Status), "to", m.To, "provider id", orDash(m.ProviderMessageID),
					"text", m.Text, "created", ts(m.CreatedAt))
			})
		},
	}
	send.Flags().StringVar(&in.PlatformID, "platform", "", "the platform's ID")
	send.Flags().StringVar(&in.To, "to", "", "chat, channel or phone number, as the provider names it")
	send.Flags().StringVar(&in.Text, "text", "", "the message")
	for _, f := range []string{"platform", "to", "text"} {
		_ = send.MarkFlagRequired(f)
	}

	var platform string
	list := listCmd(a, "list", "List sent messages, the newest first", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Message], error) {
			return c.ListMessages(ctx, a.project, &client.MessageListOptions{ListOptions: o, Platform: platform})
		},
		rows(a, []string{"ID", "STATUS", "TO", "PROVIDER ID", "TEXT", "ERROR"}, func(m client.Message) []string {
			return []string{m.ID, string(m.Status), m.To, orDash(m.ProviderMessageID), oneLine(m.Text, 40), orDash(m.Error)}
		}))
	list.Flags().StringVar(&platform, "platform", "", "only this platform's")
	cmd.AddCommand(send, list)
	return cmd
}
