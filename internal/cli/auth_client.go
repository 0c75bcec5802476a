package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/store"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

func newAuthClientCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "client", Short: "Register, list and delete OAuth clients"}
	cmd.AddCommand(newAuthClientCreateCommand(), newAuthClientListCommand(), newAuthClientDeleteCommand())
	return cmd
}

// authClientCreateOptions are the flags of `cruise auth client create`.
type authClientCreateOptions struct {
	DB           authDBOptions
	Name         string
	Public       bool
	Confidential bool
	RedirectURIs []string
	Grants       []string
	Scopes       []string
	JWKSFile     string
	Output       outputFormat
}

// clientView is how a client is printed.
type clientView struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	AuthMethod   string   `json:"token_endpoint_auth_method"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	GrantTypes   []string `json:"grant_types"`
	Scopes       []string `json:"scopes,omitempty"`
}

func viewClient(c store.Client, secret string) clientView {
	v := clientView{ClientID: c.ID, ClientSecret: secret, Name: c.Name, Type: "confidential", RedirectURIs: c.RedirectURIs,
		GrantTypes: c.GrantTypes, Scopes: c.Scopes}
	switch {
	case c.Public:
		v.Type, v.AuthMethod = "public", "none"
	case c.JWKS != "":
		v.AuthMethod = "private_key_jwt"
	default:
		v.AuthMethod = "client_secret_basic"
	}
	return v
}

func newAuthClientCreateCommand() *cobra.Command {
	o := &authClientCreateOptions{Output: outputText}
	cmd := &cobra.Command{
		Use:   "create --name NAME (--public | --confidential)",
		Short: "Register a client; prints its client_id and, this once, its secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Public == o.Confidential {
				return fail(2, errors.New("pass exactly one of --public and --confidential"))
			}
			spec := oauth.ClientSpec{Name: o.Name, Public: o.Public, RedirectURIs: o.RedirectURIs, GrantTypes: o.Grants, Scopes: o.Scopes}
			for i, g := range spec.GrantTypes {
				if g == "device_code" {
					spec.GrantTypes[i] = store.GrantDeviceCode
				}
			}
			if o.JWKSFile != "" {
				b, err := os.ReadFile(o.JWKSFile)
				if err != nil {
					return fail(2, err)
				}
				spec.JWKS = string(b)
			}
			c, secret, err := oauth.NewClient(spec, time.Now())
			if err != nil {
				return fail(2, err)
			}
			st, err := o.DB.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CreateClient(cmd.Context(), c); err != nil {
				return fmt.Errorf("register client %q: %w", c.Name, err)
			}
			v := viewClient(c, secret)
			out := cmd.OutOrStdout()
			if o.Output == outputJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			fmt.Fprintf(out, "client_id:     %s\n", v.ClientID)
			if secret != "" {
				fmt.Fprintf(out, "client_secret: %s\n", secret)
				fmt.Fprintln(cmd.ErrOrStderr(), "Store the secret now: it is kept only as a hash and cannot be shown again.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	o.DB.addFlags(cmd)
	f.StringVar(&o.Name, "name", "", "name shown to users on the consent page")
	f.BoolVar(&o.Public, "public", false, "a public client (CLI, native or browser app) with no credentials")
	f.BoolVar(&o.Confidential, "confidential", false, "a confidential client (server, CI pipeline) with a secret or key")
	f.StringArrayVar(&o.RedirectURIs, "redirect-uri", nil, "redirect URI, registered in full (repeatable)")
	f.StringArrayVar(&o.Grants, "grant", nil, "grant type: authorization_code, refresh_token, client_credentials, device_code (repeatable)")
	f.StringArrayVar(&o.Scopes, "scope", nil, "scope the client may request (repeatable; default all)")
	f.StringVar(&o.JWKSFile, "jwks-file", "", "JSON Web Key Set of a confidential client authenticating with private_key_jwt")
	f.VarP(&o.Output, "output", "o", "output format: text or json")
	cmd.MarkFlagRequired("name")
	return cmd
}

func newAuthClientListCommand() *cobra.Command {
	var db authDBOptions
	output := outputText
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := db.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			clients, err := st.ListClients(cmd.Context())
			if err != nil {
				return err
			}
			views := make([]clientView, 0, len(clients))
			for _, c := range clients {
				views = append(views, viewClient(c, ""))
			}
			out := cmd.OutOrStdout()
			if output == outputJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(views)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tGRANTS\tREDIRECT URIS")
			for _, v := range views {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ClientID, v.Name, v.Type, strings.Join(v.GrantTypes, ","), strings.Join(v.RedirectURIs, ","))
			}
			return tw.Flush()
		},
	}
	db.addFlags(cmd)
	cmd.Flags().VarP(&output, "output", "o", "output format: text or json")
	return cmd
}

func newAuthClientDeleteCommand() *cobra.Command {
	return newAuthDeleteCommand("CLIENT_ID", "client", "Delete a client and revoke every token it holds",
		func(ctx context.Context, st *sqlstore.Store, id string) error { return st.DeleteClient(ctx, id) })
}

// newAuthDeleteCommand is `cruise auth <noun> delete ARG`: open the store,
// delete, report.
func newAuthDeleteCommand(arg, noun, short string, del func(context.Context, *sqlstore.Store, string) error) *cobra.Command {
	var db authDBOptions
	cmd := &cobra.Command{
		Use:   "delete " + arg,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := db.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := del(cmd.Context(), st, args[0]); err != nil {
				return fmt.Errorf("delete %s %s: %w", noun, args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s deleted\n", noun, args[0])
			return nil
		},
	}
	db.addFlags(cmd)
	return cmd
}
