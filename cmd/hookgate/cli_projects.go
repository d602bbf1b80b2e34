package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

func newProjectCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("project", "Create, list, change and delete projects (the admin key)", false)

	var create client.ProjectCreate
	var createRecover string
	var cb, ub breakerFlags
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			create.Name = args[0]
			var err error
			if create.AutoRecover, err = autoRecoverFlag(createRecover); err != nil {
				return err
			}
			if create.Breaker, err = cb.breaker(); err != nil {
				return err
			}
			return a.project1(cmd, func(c *client.Client) (*client.Project, error) { return c.CreateProject(cmd.Context(), create) })
		},
	}
	c.Flags().StringVar(&create.Slug, "slug", "", "lower-case name for URLs; default made from NAME")
	c.Flags().StringSliceVar(&create.RetrySchedule, "retry-schedule", nil, "the project's own waits between attempts, such as 10s,1m,1h; default the server's")
	c.Flags().StringVar(&createRecover, "auto-recover", "", "true or false: whether webhooks Hookgate disabled are probed and enabled again, unless a webhook says otherwise; default the server's (true)")
	cb.add(c.Flags(), false, "the server's")

	list := listCmd(a, "list", "List projects", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Project], error) {
			return c.ListProjects(ctx, &o)
		},
		rows(a, []string{"ID", "SLUG", "NAME", "CREATED"}, func(p client.Project) []string {
			return []string{p.ID, p.Slug, p.Name, ts(p.CreatedAt)}
		}))

	get := &cobra.Command{
		Use:   "get PROJECT",
		Short: "Show a project, by ID or slug",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.project1(cmd, func(c *client.Client) (*client.Project, error) { return c.GetProject(cmd.Context(), args[0]) })
		},
	}

	var name, slug string
	var schedule []string
	var autoRecover string
	var pf portalFlags
	var traceHeaders bool
	update := &cobra.Command{
		Use:   "update PROJECT",
		Short: "Change a project's name, slug, retry schedule, autoRecover, circuit breaker or consumer portal",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var up client.ProjectUpdate
			if cmd.Flags().Changed("name") {
				up.Name = &name
			}
			if cmd.Flags().Changed("slug") {
				up.Slug = &slug
			}
			up.RetrySchedule = schedule
			if cmd.Flags().Changed("auto-recover") {
				var err error
				if up.AutoRecover, err = autoRecoverFlag(autoRecover); err != nil {
					return err
				}
				up.ClearAutoRecover = up.AutoRecover == nil
			}
			var err error
			if up.Breaker, err = ub.breaker(); err != nil {
				return err
			}
			up.ClearBreaker = ub.clear
			if up.Portal, err = pf.settings(cmd.Flags()); err != nil {
				return err
			}
			if cmd.Flags().Changed("trace-headers") {
				up.TraceHeaders = &traceHeaders
			}
			return a.project1(cmd, func(c *client.Client) (*client.Project, error) {
				return c.UpdateProject(cmd.Context(), args[0], up)
			})
		},
	}
	update.Flags().StringVar(&name, "name", "", "new display name")
	update.Flags().StringVar(&slug, "slug", "", "new slug")
	update.Flags().StringSliceVar(&schedule, "retry-schedule", nil, "new retry schedule, such as 10s,1m,1h")
	update.Flags().StringVar(&autoRecover, "auto-recover", "", `true or false: whether webhooks Hookgate disabled are probed and enabled again; "" for the server's`)
	ub.add(update.Flags(), true, "the server's")
	pf.add(update.Flags())
	update.Flags().BoolVar(&traceHeaders, "trace-headers", true, "false: the project's receivers get no traceparent or tracestate header")

	del := removeCmd(a, "delete PROJECT", "Delete a project and everything in it", "deleted project",
		func(ctx context.Context, c *client.Client, project string) error {
			return c.DeleteProject(ctx, project)
		})
	stats := statsCmd(a, "stats PROJECT", "Every webhook's attempts over a window: successes, failures by class, durations, the last failure",
		func(ctx context.Context, c *client.Client, project string, opts *client.StatsOptions) (*client.Stats, error) {
			return c.GetProjectStats(ctx, project, opts)
		})
	cmd.AddCommand(c, list, get, update, del, stats)
	return cmd
}

// project1 runs a call answering one project and shows it.
func (a *apiCmd) project1(cmd *cobra.Command, call func(*client.Client) (*client.Project, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := call(c)
	if err != nil {
		return err
	}
	return a.show(p, func(w io.Writer) {
		fields(w, "id", p.ID, "slug", p.Slug, "name", p.Name, "retry schedule", join(p.RetrySchedule), "breaker", projectBreaker(p.Breaker))
		if !p.TraceHeaders {
			fields(w, "trace headers", "off")
		}
		if p.AutoRecover != nil {
			fields(w, "auto recover", strconv.FormatBool(*p.AutoRecover))
		}
		if th := p.Portal.Theme; len(p.Portal.AllowedOrigins) > 0 || th.ProductName != "" || th.AccentColor != "" || th.Mode != "light" || th.Logo != nil {
			logo := "none"
			if th.Logo != nil {
				logo = fmt.Sprintf("%s, %d×%d, %d bytes", th.Logo.ContentType, th.Logo.Width, th.Logo.Height, th.Logo.Size)
			}
			fields(w, "portal origins", join(p.Portal.AllowedOrigins), "portal name", th.ProductName,
				"portal accent", fmt.Sprintf("%s (applied: light %s, dark %s)", th.AccentColor, th.Applied.Light.Color, th.Applied.Dark.Color),
				"portal mode", th.Mode, "portal logo", logo)
		}
		fields(w, "created", ts(p.CreatedAt), "updated", ts(p.UpdatedAt))
	})
}

// portalFlags are project update's flags for the consumer portal.
type portalFlags struct {
	origins                  []string
	name, accent, mode, logo string
}

func (f *portalFlags) add(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.origins, "portal-origins", nil, `origins that may frame the portal, such as https://app.example.com (comma-separated); "" for none`)
	fs.StringVar(&f.name, "portal-name", "", `product name shown in the portal; "" for "Webhooks portal"`)
	fs.StringVar(&f.accent, "portal-accent", "", `accent colour, #rrggbb; "" for the default`)
	fs.StringVar(&f.mode, "portal-mode", "", "light, dark or auto")
	fs.StringVar(&f.logo, "portal-logo", "", `a PNG, JPEG or GIF file (at most 64 KiB, 512×512) for the portal's header; "" removes the logo`)
}

// settings returns the portal changes the flags ask for; nil for none.
func (f *portalFlags) settings(fs *pflag.FlagSet) (*client.PortalSettings, error) {
	var s client.PortalSettings
	var th client.PortalThemeUpdate
	if fs.Changed("portal-origins") {
		origins := []string{}
		for _, o := range f.origins {
			if o != "" {
				origins = append(origins, o)
			}
		}
		s.AllowedOrigins = &origins
	}
	for _, v := range []struct {
		flag string
		val  string
		to   **string
	}{{"portal-name", f.name, &th.ProductName}, {"portal-accent", f.accent, &th.AccentColor}, {"portal-mode", f.mode, &th.Mode}} {
		if fs.Changed(v.flag) {
			*v.to = client.Ptr(v.val)
		}
	}
	if fs.Changed("portal-logo") {
		logo := ""
		if f.logo != "" {
			b, err := os.ReadFile(f.logo)
			if err != nil {
				return nil, fmt.Errorf("--portal-logo: %w", err)
			}
			logo = client.LogoDataURL(b)
		}
		th.Logo = &logo
	}
	if th != (client.PortalThemeUpdate{}) {
		s.Theme = &th
	}
	if s == (client.PortalSettings{}) {
		return nil, nil
	}
	return &s, nil
}

// done reports an action that answers nothing: a line in a table, an
// object with -o json.
func (a *apiCmd) done(msg string) error {
	if a.output == "json" {
		return a.show(map[string]string{"result": msg}, nil)
	}
	_, err := fmt.Fprintln(a.stdout, msg)
	return err
}

func newKeyCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("key", "Create, list and revoke a project's API keys", true)

	var role string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project key; its secret is shown only now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			k, err := c.CreateKey(cmd.Context(), a.project, client.KeyCreate{Name: args[0], Role: client.KeyRole(role)})
			if err != nil {
				return err
			}
			return a.show(k, func(w io.Writer) {
				fields(w, "id", k.ID, "name", k.Name, "role", string(k.Role), "key", k.Key, "created", ts(k.CreatedAt))
			})
		},
	}
	create.Flags().StringVar(&role, "role", "owner", "owner (everything in the project) or publisher (send events and trigger only)")
	_ = create.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"owner", "publisher"}, cobra.ShellCompDirectiveNoFileComp))

	list := listCmd(a, "list", "List the project's keys (without their secrets)", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.Key], error) {
			return c.ListKeys(ctx, a.project, &o)
		},
		rows(a, []string{"ID", "NAME", "ROLE", "CREATED"}, func(k client.Key) []string {
			return []string{k.ID, k.Name, string(k.Role), ts(k.CreatedAt)}
		}))

	revoke := removeCmd(a, "revoke ID", "Revoke a project key at once, on every node", "revoked key",
		func(ctx context.Context, c *client.Client, id string) error { return c.DeleteKey(ctx, a.project, id) })
	cmd.AddCommand(create, list, revoke)
	return cmd
}
