package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookgate/hookgate/client"
)

func newPortalCmd() *cobra.Command {
	a := &apiCmd{}
	cmd := a.group("portal", "Create, list and revoke links to a project's consumer portal", true)

	var in client.PortalLinkCreate
	link := &cobra.Command{
		Use:   "link",
		Short: "Create a single-use link to the project's consumer portal; hand its URL to the customer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			l, err := c.CreatePortalLink(cmd.Context(), a.project, in)
			if err != nil {
				return err
			}
			return a.show(l, func(w io.Writer) {
				fields(w, "id", l.ID, "url", l.URL, "expires", ts(l.ExpiresAt), "capabilities", strings.Join(l.Capabilities, ","))
			})
		},
	}
	link.Flags().StringVar(&in.ExpiresIn, "expires", "", "how long the link can be opened, such as 30m or 2h (at most 168h); default 1h")
	link.Flags().StringSliceVar(&in.Capabilities, "capabilities", nil, "what its session may do: webhooks,deliveries,secrets,eventTypes; default all")
	link.Flags().StringVar(&in.ReturnURL, "return-url", "", "where the portal sends the customer back to")

	list := listCmd(a, "list", "List the project's portal links: who made each, when it was opened (never their URLs)", 0,
		func(ctx context.Context, c *client.Client, _ []string, o client.ListOptions) (*client.Page[client.PortalLink], error) {
			return c.ListPortalLinks(ctx, a.project, &o)
		},
		rows(a, []string{"ID", "CREATED BY", "CREATED", "EXPIRES", "USED", "REVOKED"}, func(l client.PortalLink) []string {
			return []string{l.ID, l.CreatedBy, ts(l.CreatedAt), ts(l.ExpiresAt), tsOf(l.UsedAt), tsOf(l.RevokedAt)}
		}))

	revoke := removeCmd(a, "revoke ID", "Revoke a portal link and end its sessions at once", "revoked portal link",
		func(ctx context.Context, c *client.Client, id string) error {
			return c.RevokePortalLink(ctx, a.project, id)
		})
	cmd.AddCommand(link, list, revoke)
	return cmd
}

// tsOf is ts of a time that may be absent.
func tsOf(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ts(*t)
}
