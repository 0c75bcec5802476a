package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cruisegitops/cruise/oauth/keys"
)

// authKeysRotateOptions are the flags of `cruise auth keys rotate`.
type authKeysRotateOptions struct {
	DB        authDBOptions
	Algorithm string
	Lifetime  time.Duration
}

func newAuthKeysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the token signing keys"}
	o := &authKeysRotateOptions{}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new signing key; running servers sign with it within a minute",
		Long: `rotate adds a new signing key. Servers pick it up when they next reload
their keys (within a minute) and sign with it from then on; older keys stay
in the published key set until they expire, so tokens they signed remain
valid for their lifetime.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := o.DB.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			k, err := keys.Rotate(cmd.Context(), st, o.Algorithm, time.Now(), o.Lifetime)
			if err != nil {
				return fail(2, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new %s signing key %s, published until %s\n", k.Algorithm, k.KID, k.ExpiresAt.Format(time.RFC3339))
			return nil
		},
	}
	o.DB.addFlags(rotate)
	rotate.Flags().StringVar(&o.Algorithm, "alg", "ES256", "algorithm: ES256 or EdDSA")
	rotate.Flags().DurationVar(&o.Lifetime, "lifetime", 31*24*time.Hour, "how long the key stays published")
	cmd.AddCommand(rotate)
	return cmd
}
